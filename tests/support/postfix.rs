//! A private Postfix instance on a free loopback port, for tests that send mail into a
//! real MTA. Everything (configuration, queue, log, mailboxes) lives under one
//! [`TempDir`]; the instance is stopped on drop. See /work/shared/PEERS.md.
//!
//! Postfix accepts mail for the domain `example.test` and delivers it with its `virtual`
//! agent into one Maildir per listed user, under `vmail/example.test/USER/`. Unknown
//! users of that domain are refused at `RCPT` (`550 5.1.1 ... User unknown in virtual
//! mailbox table`). It offers PIPELINING and CHUNKING.
//!
//! Use it from a test file with `mod support;` and
//! `#[path = "support/postfix.rs"] mod postfix;`; call `support::have_program("postfix")`
//! first.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{TempDir, free_port, messages_in};

/// The domain the instance delivers locally.
pub(crate) const DOMAIN: &str = "example.test";

/// A running private Postfix, stopped on drop.
pub(crate) struct Postfix {
    /// The SMTP listener.
    pub(crate) smtp: SocketAddr,
    config_dir: PathBuf,
    // Dropped after `Drop::drop` has stopped Postfix.
    dir: TempDir,
}

impl Postfix {
    /// Starts an instance that has a mailbox for each of `users` (local parts in
    /// [`DOMAIN`]). Panics with the log when Postfix does not come up.
    pub(crate) fn start(users: &[&str]) -> Postfix {
        Postfix::start_with(users, "")
    }

    /// [`start`](Self::start) with extra `main.cf` lines (for example a `relayhost`).
    pub(crate) fn start_with(users: &[&str], extra_main_cf: &str) -> Postfix {
        let dir = TempDir::new("postfix");
        let root = dir.path().to_owned();
        let config_dir = root.join("etc");
        for sub in ["etc", "spool", "data", "vmail"] {
            std::fs::create_dir_all(root.join(sub)).expect("create a Postfix directory");
        }
        // The instance runs as root here: the data directory belongs to postfix, the
        // mailboxes to nobody (virtual_uid_maps below), and nobody must reach them.
        run("chown", &["postfix", path_str(&root.join("data"))]);
        run("chown", &["65534:65534", path_str(&root.join("vmail"))]);
        run("chmod", &["0755", path_str(&root)]);

        for name in ["dynamicmaps.cf", "postfix-files"] {
            std::fs::copy(Path::new("/etc/postfix").join(name), config_dir.join(name))
                .unwrap_or_else(|e| panic!("copy /etc/postfix/{name}: {e}"));
        }
        for name in ["dynamicmaps.cf.d", "postfix-files.d"] {
            copy_dir(
                &Path::new("/etc/postfix").join(name),
                &config_dir.join(name),
            );
        }

        let port = free_port();
        let smtp: SocketAddr = format!("127.0.0.1:{port}").parse().expect("an address");
        let master = std::fs::read_to_string("/etc/postfix/master.cf").expect("read master.cf");
        std::fs::write(config_dir.join("master.cf"), master_cf(&master, smtp))
            .expect("write master.cf");

        let mailboxes: Vec<String> = users
            .iter()
            .map(|u| format!("{u}@{DOMAIN}={DOMAIN}/{u}/"))
            .collect();
        let r = root.display();
        let main_cf = format!(
            "compatibility_level = 3.6\n\
             config_directory = {r}/etc\n\
             queue_directory = {r}/spool\n\
             data_directory = {r}/data\n\
             maillog_file = {r}/maillog\n\
             maillog_file_prefixes = {r}\n\
             myhostname = mx.{DOMAIN}\n\
             inet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\n\
             mynetworks = 127.0.0.0/8\n\
             mydestination =\n\
             disable_dns_lookups = yes\n\
             smtp_dns_support_level = disabled\n\
             smtp_host_lookup = native\n\
             smtpd_peername_lookup = no\n\
             virtual_mailbox_domains = {DOMAIN}\n\
             virtual_mailbox_base = {r}/vmail\n\
             virtual_mailbox_maps = inline:{{ {} }}\n\
             virtual_uid_maps = static:65534\n\
             virtual_gid_maps = static:65534\n",
            mailboxes.join(", ")
        ) + extra_main_cf;
        std::fs::write(config_dir.join("main.cf"), main_cf).expect("write main.cf");

        let postfix = Postfix {
            smtp,
            config_dir,
            dir,
        };
        postfix.postfix(&["post-install", "create-missing"]);
        postfix.postfix(&["start"]);
        let start = Instant::now();
        while std::net::TcpStream::connect_timeout(&smtp, Duration::from_millis(200)).is_err() {
            if start.elapsed() > Duration::from_secs(30) {
                panic!("Postfix does not listen on {smtp}; log:\n{}", postfix.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        postfix
    }

    /// The Maildir of `user` in [`DOMAIN`].
    pub(crate) fn maildir(&self, user: &str) -> PathBuf {
        self.dir.path().join("vmail").join(DOMAIN).join(user)
    }

    /// Waits (up to 30 s) until `user` has `count` messages in `new/`; returns them,
    /// sorted by file name (fewer if they did not come).
    pub(crate) fn wait_for_messages(&self, user: &str, count: usize) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            let messages = messages_in(&self.maildir(user).join("new"));
            if messages.len() >= count || start.elapsed() > Duration::from_secs(30) {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The instance's log (`maillog_file`).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    /// Waits (up to 10 s) until the log has a line containing `needle`; returns the first.
    pub(crate) fn wait_for_log_line(&self, needle: &str) -> Option<String> {
        let start = Instant::now();
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| l.contains(needle)) {
                return Some(line.to_owned());
            }
            if start.elapsed() > Duration::from_secs(10) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs `postfix -c ETC ARGS...`; panics with its output and the log on failure.
    fn postfix(&self, args: &[&str]) {
        let output = Command::new("postfix")
            .arg("-c")
            .arg(&self.config_dir)
            .args(args)
            .output()
            .expect("run postfix");
        assert!(
            output.status.success(),
            "postfix {args:?} failed: {}\n{}{}\nlog:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
    }

    /// The master process's pid, from its pid file.
    fn master_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.path().join("spool/pid/master.pid"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let pid = self.master_pid();
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(&self.config_dir)
            .arg("stop")
            .output();
        // `postfix stop` only signals the master; wait for it to go, and kill it (by its
        // pid, never by name) if it lingers, before the directory is removed.
        if let Some(pid) = pid {
            let proc_dir = PathBuf::from(format!("/proc/{pid}"));
            let start = Instant::now();
            while is_master(&proc_dir) && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if is_master(&proc_dir) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

/// Whether `/proc/PID` is still a live Postfix master (not a zombie, not a reused pid).
fn is_master(proc_dir: &Path) -> bool {
    let Ok(status) = std::fs::read_to_string(proc_dir.join("status")) else {
        return false;
    };
    let name_is_master = status
        .lines()
        .any(|l| l.starts_with("Name:") && l.contains("master"));
    let zombie = status
        .lines()
        .any(|l| l.starts_with("State:") && l.contains('Z'));
    name_is_master && !zombie
}

/// Debian's master.cf with the public `smtp inet` service moved to `smtp` on loopback,
/// and chroot turned off everywhere (the queue directory is not set up as a chroot).
fn master_cf(original: &str, smtp: SocketAddr) -> String {
    let mut out = String::new();
    for line in original.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let service_line =
            !line.starts_with('#') && !line.starts_with(char::is_whitespace) && fields.len() >= 8;
        if service_line {
            let mut fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
            if fields[0] == "smtp" && fields[1] == "inet" {
                fields[0] = smtp.to_string();
            }
            fields[4] = String::from("n");
            out.push_str(&fields.join(" "));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a directory");
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    for entry in entries.flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a Postfix file");
        }
    }
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(status.success(), "{program} {args:?} failed: {status}");
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// Postfix's prepended trace fields (`Return-Path`, `X-Original-To`, `Delivered-To`,
/// `Received`, folded or not) removed from a delivered message. Received headers that
/// came with the message go too (they are all at the top).
pub(crate) fn without_trace(message: &[u8]) -> &[u8] {
    crate::support::without_leading_fields(
        message,
        &[
            b"Return-Path:",
            b"X-Original-To:",
            b"Delivered-To:",
            b"Received:",
        ],
    )
}
