//! A private Dovecot for tests: its own config and state in a temp dir, IMAP (and POP3,
//! LMTP when installed) on free loopback ports, users from a passwd-file, mail under
//! `DIR/mail/<user>` as Maildir. Stopped by its PID and cleaned up on drop.
//! See /work/shared/PEERS.md. Copy this file (with `tempdir.rs`) into other crates' tests.
//!
//! ```ignore
//! #[path = "support/tempdir.rs"] mod tempdir;
//! #[path = "support/dovecot.rs"] mod dovecot;
//! if !dovecot::available() { return; }
//! let mut dovecot = dovecot::Dovecot::new(&[("alice", "secret")]);
//! // ... put mail into dovecot.mail_dir().join("alice") ...
//! dovecot.start();
//! let mut imap = dovecot::Imap::login(dovecot.imap_addr(), "alice", "secret");
//! ```

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::tempdir::TempDir;

/// Where Debian installs the Dovecot master binary.
pub(crate) const DOVECOT: &str = "/usr/sbin/dovecot";

/// The uid and gid Dovecot's mail processes run as (`nobody:nogroup`).
const NOBODY: u32 = 65534;

/// Whether a test that needs Dovecot may run. Without it the test is skipped with a
/// printed reason, unless `MAILWIRE_INTEROP` is set: then this panics (the test fails).
pub(crate) fn available() -> bool {
    if Path::new(DOVECOT).is_file() {
        return true;
    }
    if std::env::var_os("MAILWIRE_INTEROP").is_some() {
        panic!("{DOVECOT} is missing and MAILWIRE_INTEROP is set: install dovecot-imapd");
    }
    eprintln!("SKIPPED: {DOVECOT} is missing (set MAILWIRE_INTEROP=1 to make this fail)");
    false
}

/// Whether a test that needs Dovecot's POP3 server may run (dovecot and dovecot-pop3d),
/// with the same skip-or-fail rule as [`available`].
pub(crate) fn pop3_available() -> bool {
    if !available() {
        return false;
    }
    if installed("pop3") {
        return true;
    }
    if std::env::var_os("MAILWIRE_INTEROP").is_some() {
        panic!("Dovecot's pop3d is missing and MAILWIRE_INTEROP is set: install dovecot-pop3d");
    }
    eprintln!("SKIPPED: Dovecot's pop3d is missing (set MAILWIRE_INTEROP=1 to make this fail)");
    false
}

/// Whether Dovecot's `service` binary (`pop3`, `lmtp`) is installed.
fn installed(service: &str) -> bool {
    Path::new("/usr/lib/dovecot").join(service).is_file()
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A private Dovecot instance. Created stopped, so that the test can put mail into
/// [`mail_dir`](Self::mail_dir) first; [`start`](Self::start) hands the mail to `nobody`
/// and starts it. Dropping it stops Dovecot (SIGTERM to its PID, then SIGKILL) and
/// removes the directory.
pub(crate) struct Dovecot {
    child: Option<Child>,
    pub(crate) imap_port: u16,
    /// `None` when dovecot-pop3d is not installed.
    pub(crate) pop3_port: Option<u16>,
    /// `None` when dovecot-lmtpd is not installed.
    pub(crate) lmtp_port: Option<u16>,
    // Declared last: dropped after the process is stopped.
    dir: TempDir,
}

impl Dovecot {
    /// Writes the config and the passwd-file for `users` (name, password).
    pub(crate) fn new(users: &[(&str, &str)]) -> Dovecot {
        let dir = TempDir::new("dovecot");
        let root = dir.path().to_path_buf();
        std::fs::create_dir(root.join("mail")).expect("create mail dir");
        let passwd: String = users
            .iter()
            .map(|(name, password)| format!("{name}:{{PLAIN}}{password}::::::\n"))
            .collect();
        std::fs::write(root.join("passwd"), passwd).expect("write passwd-file");

        let imap_port = free_port();
        let pop3_port = installed("pop3").then(free_port);
        let lmtp_port = installed("lmtp").then(free_port);
        let mut protocols = vec!["imap"];
        let mut services = format!(
            "service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap_port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n"
        );
        if let Some(port) = pop3_port {
            protocols.push("pop3");
            services.push_str(&format!(
                "service pop3-login {{\n  inet_listener pop3 {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener pop3s {{\n    port = 0\n  }}\n}}\n"
            ));
        }
        if let Some(port) = lmtp_port {
            protocols.push("lmtp");
            services.push_str(&format!(
                "service lmtp {{\n  unix_listener lmtp {{\n    mode = 0600\n  }}\n  inet_listener lmtp {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n}}\n"
            ));
        }
        let d = root.display();
        let instance = root
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("mailwire");
        let config = format!(
            "instance_name = {instance}\n\
             base_dir = {d}/run\n\
             state_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n\
             info_log_path = {d}/dovecot.log\n\
             listen = 127.0.0.1\n\
             protocols = {protocols}\n\
             ssl = no\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             default_internal_user = dovecot\n\
             default_login_user = dovenull\n\
             mail_location = maildir:{d}/mail/%u\n\
             mail_max_userip_connections = 500\n\
             pop3_uidl_format = %08Xu%08Xv\n\
             namespace inbox {{\n  inbox = yes\n  separator = /\n}}\n\
             passdb {{\n  driver = passwd-file\n  args = {d}/passwd\n}}\n\
             userdb {{\n  driver = passwd-file\n  args = {d}/passwd\n  default_fields = uid=nobody gid=nogroup home={d}/mail/%u\n}}\n\
             {services}",
            protocols = protocols.join(" "),
        );
        std::fs::write(root.join("dovecot.conf"), config).expect("write dovecot.conf");
        Dovecot {
            child: None,
            imap_port,
            pop3_port,
            lmtp_port,
            dir,
        }
    }

    /// The directory holding one maildir per user (`mail_location = maildir:<this>/%u`).
    pub(crate) fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// The temp dir holding config, state, log and mail.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Dovecot's log so far (for failure messages).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    pub(crate) fn imap_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.imap_port))
    }

    /// The POP3 listener; panics when dovecot-pop3d is not installed (check
    /// [`pop3_available`] first).
    pub(crate) fn pop3_addr(&self) -> SocketAddr {
        let port = self.pop3_port.expect("dovecot-pop3d is installed");
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Hands the mail tree to `nobody` (again, after the test added files as root).
    pub(crate) fn give_mail_to_nobody(&self) {
        chown_tree(&self.mail_dir(), NOBODY, NOBODY);
    }

    /// Gives the mail directory to `nobody` (Dovecot's mail processes run as nobody),
    /// starts Dovecot in the foreground and waits until it accepts IMAP connections.
    pub(crate) fn start(&mut self) {
        self.give_mail_to_nobody();
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dovecot");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect_timeout(&self.imap_addr(), Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!(
                    "dovecot exited at start ({status}): {stderr}\nlog:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen on {} within 20 s; log:\n{}",
                self.imap_addr(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops Dovecot: SIGTERM to its PID, then SIGKILL if it is still running after 5 s.
    pub(crate) fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `chown -R uid:gid path`.
pub(crate) fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).expect("chown");
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).expect("read dir") {
            chown_tree(&entry.expect("dir entry").path(), uid, gid);
        }
    }
}

/// A minimal IMAP client over a plain TCP connection, enough to check what a server
/// serves: it sends tagged commands and collects the untagged responses, with literals
/// (`{n}\r\n` + n bytes) kept inline.
pub(crate) struct Imap {
    reader: BufReader<TcpStream>,
    tag: u32,
}

impl Imap {
    /// Connects, reads the greeting and logs in.
    pub(crate) fn login(addr: SocketAddr, user: &str, password: &str) -> Imap {
        let stream = TcpStream::connect(addr).expect("connect to IMAP");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("set timeout");
        let mut imap = Imap {
            reader: BufReader::new(stream),
            tag: 0,
        };
        let greeting = imap.read_response_line();
        assert!(
            greeting.starts_with(b"* OK"),
            "greeting: {}",
            String::from_utf8_lossy(&greeting)
        );
        imap.command(&format!("LOGIN {user} {password}"));
        imap
    }

    /// Sends one command, returns its untagged responses; panics unless it ends in OK.
    pub(crate) fn command(&mut self, command: &str) -> Vec<Vec<u8>> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        let stream = self.reader.get_mut();
        stream
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .expect("send IMAP command");
        let mut untagged = Vec::new();
        loop {
            let line = self.read_response_line();
            if line.starts_with(format!("{tag} ").as_bytes()) {
                assert!(
                    line.starts_with(format!("{tag} OK").as_bytes()),
                    "{command} failed: {}",
                    String::from_utf8_lossy(&line)
                );
                return untagged;
            }
            untagged.push(line);
        }
    }

    /// One response line including its literals, without the final CRLF.
    fn read_response_line(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = self
                .reader
                .read_until(b'\n', &mut line)
                .expect("read from IMAP server");
            assert!(n > 0, "IMAP server closed the connection");
            assert!(line.ends_with(b"\r\n"), "line without CRLF: {line:?}");
            line.truncate(line.len() - 2);
            let literal = literal_length(&line);
            out.extend_from_slice(&line);
            let Some(len) = literal else {
                return out;
            };
            out.extend_from_slice(b"\r\n");
            let mut bytes = vec![0; len];
            self.reader.read_exact(&mut bytes).expect("read literal");
            out.extend_from_slice(&bytes);
        }
    }

    /// `SELECT` a mailbox; returns its `EXISTS` count.
    pub(crate) fn select(&mut self, mailbox: &str) -> u32 {
        let responses = self.command(&format!("SELECT {mailbox}"));
        responses
            .iter()
            .find_map(|r| {
                let text = std::str::from_utf8(r).ok()?;
                let n = text.strip_prefix("* ")?.strip_suffix(" EXISTS")?;
                n.parse().ok()
            })
            .expect("EXISTS in SELECT response")
    }

    pub(crate) fn logout(mut self) {
        self.tag += 1;
        let _ = self
            .reader
            .get_mut()
            .write_all(format!("t{} LOGOUT\r\n", self.tag).as_bytes());
    }
}

/// The `n` of a line ending in `{n}` (a literal follows).
fn literal_length(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    std::str::from_utf8(body.get(open + 1..)?)
        .ok()?
        .parse()
        .ok()
}

/// The value of a FETCH item from one `* n FETCH (...)` response: the number after
/// `RFC822.SIZE `, or the literal after `BODY[] `; `None` when absent.
pub(crate) fn fetch_number(response: &[u8], item: &str) -> Option<u64> {
    let start = find(response, format!("{item} ").as_bytes())? + item.len() + 1;
    let rest = response.get(start..)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(rest.get(..digits)?).ok()?.parse().ok()
}

/// The literal that follows `item ` (e.g. `BODY[]`) in a FETCH response.
pub(crate) fn fetch_literal<'a>(response: &'a [u8], item: &str) -> Option<&'a [u8]> {
    let start = find(response, format!("{item} {{").as_bytes())? + item.len() + 2;
    let close = start + response.get(start..)?.iter().position(|&b| b == b'}')?;
    let len: usize = std::str::from_utf8(response.get(start..close)?)
        .ok()?
        .parse()
        .ok()?;
    response.get(close + 3..close + 3 + len)
}

/// The flags of a FETCH response (`FLAGS (...)`), as text.
pub(crate) fn fetch_flags(response: &[u8]) -> Option<Vec<String>> {
    let start = find(response, b"FLAGS (")? + 7;
    let close = start + response.get(start..)?.iter().position(|&b| b == b')')?;
    let text = std::str::from_utf8(response.get(start..close)?).ok()?;
    Some(text.split_whitespace().map(str::to_owned).collect())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
