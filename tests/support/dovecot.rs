//! A private Dovecot POP3 server for the end-to-end tests (after
//! crates/mailwire-maildir/tests/support/dovecot.rs): its own config and state in a temp
//! dir, POP3 on a free loopback port, users from a passwd-file, mail under
//! `DIR/mail/<user>` as Maildir. Stopped by its PID and cleaned up on drop.
//!
//! ```ignore
//! mod support;
//! #[path = "support/dovecot.rs"] mod dovecot;
//! if !dovecot::available() { return; }
//! let mut dovecot = dovecot::Dovecot::new(&[("alice", "secret")]);
//! // ... put mail into dovecot.mail_dir().join("alice") ...
//! dovecot.start();
//! ```

#![allow(dead_code)]

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{TempDir, free_port};

/// Where Debian installs the Dovecot master binary.
pub(crate) const DOVECOT: &str = "/usr/sbin/dovecot";

/// The uid and gid Dovecot's mail processes run as (`nobody:nogroup`).
const NOBODY: u32 = 65534;

/// Whether a test that needs Dovecot's POP3 server may run. Without it the test is
/// skipped with a printed reason, unless `MAILWIRE_INTEROP` is set: then this panics.
pub(crate) fn available() -> bool {
    let pop3 = Path::new("/usr/lib/dovecot/pop3").is_file();
    if Path::new(DOVECOT).is_file() && pop3 {
        return true;
    }
    if std::env::var_os("MAILWIRE_INTEROP").is_some() {
        panic!("Dovecot's pop3d is missing and MAILWIRE_INTEROP is set: install dovecot-pop3d");
    }
    eprintln!("SKIPPED: Dovecot's pop3d is missing (set MAILWIRE_INTEROP=1 to make this fail)");
    false
}

/// A private Dovecot instance serving POP3. Created stopped, so that the test can put
/// mail into [`mail_dir`](Self::mail_dir) first.
pub(crate) struct Dovecot {
    child: Option<Child>,
    pub(crate) pop3_port: u16,
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
        let pop3_port = free_port();
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
             protocols = pop3\n\
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
             service pop3-login {{\n  inet_listener pop3 {{\n    address = 127.0.0.1\n    port = {pop3_port}\n  }}\n  inet_listener pop3s {{\n    port = 0\n  }}\n}}\n"
        );
        std::fs::write(root.join("dovecot.conf"), config).expect("write dovecot.conf");
        Dovecot {
            child: None,
            pop3_port,
            dir,
        }
    }

    /// The directory holding one maildir per user.
    pub(crate) fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// Dovecot's log so far (for failure messages).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    pub(crate) fn pop3_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.pop3_port))
    }

    /// Gives the mail directory to `nobody`, starts Dovecot in the foreground and waits
    /// until it accepts POP3 connections.
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
            if TcpStream::connect_timeout(&self.pop3_addr(), Duration::from_millis(200)).is_ok() {
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
                self.pop3_addr(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Hands the mail tree to `nobody` (again, after the test added files as root).
    pub(crate) fn give_mail_to_nobody(&self) {
        chown_tree(&self.mail_dir(), NOBODY, NOBODY);
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
