//! Shared by the end-to-end tests: starting the example server on free loopback ports,
//! finding real programs, temporary directories, and waiting for ports.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether a test that needs `program` may run. Without the program it is skipped with a
/// printed reason, unless `MAILWIRE_INTEROP` is set (CI): then the test fails.
pub(crate) fn have_program(program: &str) -> bool {
    let found = which(program).is_some();
    if !found {
        if std::env::var_os("MAILWIRE_INTEROP").is_some() {
            panic!(
                "{program} is not installed, and MAILWIRE_INTEROP is set: run .ci/install-peers"
            );
        }
        eprintln!("SKIPPED: {program} is not installed (set MAILWIRE_INTEROP=1 to make this fail)");
    }
    found
}

/// The full path of `program` on PATH (or in /usr/sbin, where Debian puts daemons).
pub(crate) fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A free port on 127.0.0.1 (bound, read, released).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Waits until something accepts connections on `addr`.
pub(crate) fn wait_for_port(addr: SocketAddr, timeout: Duration) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {addr} after {timeout:?}");
}

/// A temporary directory removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "mailwire-{tag}-{}-{n}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The path of an example binary (target/<profile>/examples/NAME), built first, once per
/// test process, with the cargo that runs the tests (`$CARGO`) into the same target dir
/// and profile: `cargo test --test X` does not build examples, and an example with
/// `test = true` (mail-server) is built by `cargo test` only as a test harness, so the
/// binary could otherwise be missing or stale.
pub(crate) fn example_bin(name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test>-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir.join("examples").join(name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|n| n == name) {
        let target_dir = profile_dir.parent().expect("target/");
        let profile = profile_dir
            .file_name()
            .and_then(|p| p.to_str())
            .expect("a profile directory name");
        let profile = if profile == "debug" { "dev" } else { profile };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--quiet", "--example", name, "--profile", profile])
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo build --example");
        assert!(
            output.status.success(),
            "cargo build --example {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        built.push(name.to_owned());
    }
    assert!(
        bin.is_file(),
        "{} is missing after cargo build --example {name}",
        bin.display()
    );
    bin
}

/// A running example `mail-server`, killed on drop.
pub(crate) struct MailServer {
    pub(crate) child: Child,
    pub(crate) smtp: SocketAddr,
    pub(crate) smtps: SocketAddr,
    pub(crate) pop3: SocketAddr,
    pub(crate) pop3s: SocketAddr,
    pub(crate) data: TempDir,
    pub(crate) log: PathBuf,
    /// The `--domain` and the extra arguments it was started with, for [`restart`](Self::restart).
    domain: String,
    extra: Vec<String>,
    /// How many processes have been started on this data dir (each logs to its own file).
    generation: u32,
}

impl MailServer {
    /// Starts the server with users `alice:secret` and `bob:secret` on domain
    /// `example.test`, SMTP and SMTPS on free ports, plus `extra` arguments.
    pub(crate) fn start(extra: &[&str]) -> MailServer {
        MailServer::start_for("example.test", extra)
    }

    /// [`start`](Self::start) with another mail domain.
    pub(crate) fn start_for(domain: &str, extra: &[&str]) -> MailServer {
        MailServer::start_with(domain, extra, &[])
    }

    /// [`start_for`](Self::start_for) with environment variables for the process (for
    /// example `MAILWIRE_FAILPOINT`).
    pub(crate) fn start_with(domain: &str, extra: &[&str], env: &[(&str, &str)]) -> MailServer {
        MailServer::launch(domain, None, extra, env)
    }

    /// [`start_for`](Self::start_for) with the SMTP listener on `smtp` (a port another
    /// server was told about before this one runs).
    pub(crate) fn start_on(domain: &str, smtp: SocketAddr, extra: &[&str]) -> MailServer {
        MailServer::launch(domain, Some(smtp), extra, &[])
    }

    /// The general start: SMTP on `smtp` (or a free port), the other listeners on free
    /// ports, users `alice:secret` and `bob:secret` on `domain`, `extra` arguments, `env`.
    pub(crate) fn launch(
        domain: &str,
        smtp: Option<SocketAddr>,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> MailServer {
        let data = TempDir::new("server");
        let log = data.path().join("server.log");
        let any: SocketAddr = "127.0.0.1:0".parse().expect("an address");
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let addrs = [smtp.unwrap_or(any), any, any, any];
        let (child, [smtp, smtps, pop3, pop3s]) =
            spawn_server(data.path(), &log, domain, addrs, &extra, env);
        MailServer {
            child,
            smtp,
            smtps,
            pop3,
            pop3s,
            data,
            log,
            domain: domain.to_owned(),
            extra,
            generation: 1,
        }
    }

    /// Starts the process again on this server's data dir, listeners, domain and extra
    /// arguments, with `env`, logging to a new file (`server.1.log`, `server.2.log`, ...).
    fn respawn(&mut self, env: &[(&str, &str)]) {
        self.log = self
            .data
            .path()
            .join(format!("server.{}.log", self.generation));
        self.generation += 1;
        let addrs = [self.smtp, self.smtps, self.pop3, self.pop3s];
        let (child, [smtp, smtps, pop3, pop3s]) = spawn_server(
            self.data.path(),
            &self.log,
            &self.domain,
            addrs,
            &self.extra,
            env,
        );
        self.child = child;
        self.smtp = smtp;
        self.smtps = smtps;
        self.pop3 = pop3;
        self.pop3s = pop3s;
    }

    /// Kills the process with SIGKILL (no chance to clean up) and reaps it; the data dir
    /// stays, for [`restart`](Self::restart).
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the process to stop with SIGTERM (a graceful shutdown) and waits up to
    /// `timeout` for it to exit; its status, if it did.
    pub(crate) fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.wait_exit(timeout)
    }

    /// Kills the process if it still runs, then starts it again on the same data dir,
    /// ports, domain and arguments, with `env`, and waits until it listens.
    pub(crate) fn restart(&mut self, env: &[(&str, &str)]) {
        self.kill();
        self.respawn(env);
    }

    /// Whether the process is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `timeout` for the process to exit; its status, if it did.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if start.elapsed() > timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The data directory given as `--data` (the Maildirs, and `queue/`).
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.data.path().join("mail")
    }

    /// Runs `mail-server queue ARGS... --data DIR` on this server's data dir (e.g.
    /// `&["list"]`, `&["flush"]`); panics with its output unless it exits 0; returns stdout.
    pub(crate) fn queue(&self, args: &[&str]) -> String {
        let output = Command::new(example_bin("mail-server"))
            .arg("queue")
            .args(args)
            .arg("--data")
            .arg(self.data_dir())
            .env("RUST_LOG", "warn")
            .env_remove("MAILWIRE_FAILPOINT")
            .output()
            .expect("run mail-server queue");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "mail-server queue {args:?} failed: {}\nstdout: {stdout}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// Every log of this data dir so far (earlier processes first).
    pub(crate) fn all_logs(&self) -> String {
        let mut text = String::new();
        for generation in 0..self.generation {
            let path = if generation == 0 {
                self.data.path().join("server.log")
            } else {
                self.data.path().join(format!("server.{generation}.log"))
            };
            text.push_str(&std::fs::read_to_string(path).unwrap_or_default());
        }
        text
    }

    /// Waits up to `timeout` until the current process's log has `count` lines containing
    /// every one of `words`; returns those lines (fewer if they did not come).
    pub(crate) fn wait_for_log(
        &self,
        words: &[&str],
        count: usize,
        timeout: Duration,
    ) -> Vec<String> {
        let start = Instant::now();
        loop {
            let lines: Vec<String> = self
                .log_text()
                .lines()
                .filter(|l| words.iter().all(|w| l.contains(w)))
                .map(str::to_owned)
                .collect();
            if lines.len() >= count || start.elapsed() > timeout {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The Maildir of `user`.
    pub(crate) fn maildir(&self, user: &str) -> PathBuf {
        self.data.path().join("mail").join(user)
    }

    /// The messages in `user`'s `new/`, sorted by file name.
    pub(crate) fn new_messages(&self, user: &str) -> Vec<Vec<u8>> {
        messages_in(&self.maildir(user).join("new"))
    }

    /// Waits until `user` has `count` messages in `new/`, and returns them.
    pub(crate) fn wait_for_messages(&self, user: &str, count: usize) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            let messages = self.new_messages(user);
            if messages.len() >= count || start.elapsed() > Duration::from_secs(30) {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `mail-server` on `data` (`--data DATA/mail`) with the listeners `addrs` (SMTP,
/// SMTPS, POP3, POP3S; port 0 = a free one), users `alice:secret` and `bob:secret` on
/// `domain`, `extra` arguments and `env`, logging to `log`; waits until it listens and
/// returns the process and the listeners' actual addresses.
fn spawn_server(
    data: &Path,
    log: &Path,
    domain: &str,
    addrs: [SocketAddr; 4],
    extra: &[String],
    env: &[(&str, &str)],
) -> (Child, [SocketAddr; 4]) {
    let log_file = std::fs::File::create(log).expect("log file");
    // Port 0: the server picks free ports and logs them, so that tests running at
    // once never race for a port.
    let mut args: Vec<String> = vec![
        "--data".into(),
        data.join("mail").display().to_string(),
        "--smtp".into(),
        addrs[0].to_string(),
        "--smtps".into(),
        addrs[1].to_string(),
        "--pop3".into(),
        addrs[2].to_string(),
        "--pop3s".into(),
        addrs[3].to_string(),
        "--domain".into(),
        domain.to_owned(),
        "--user".into(),
        "alice:secret".into(),
        "--user".into(),
        "bob:secret".into(),
    ];
    args.extend(extra.iter().cloned());
    let mut command = Command::new(example_bin("mail-server"));
    command
        .args(&args)
        .env("RUST_LOG", "info")
        .env_remove("MAILWIRE_FAILPOINT")
        .stdout(Stdio::null())
        .stderr(log_file);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start mail-server");
    let start = Instant::now();
    let (smtp, smtps, pop3, pop3s) = loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let find = |label: &str| -> Option<SocketAddr> {
            let at = text.find(label)? + label.len();
            text[at..].split_whitespace().next()?.parse().ok()
        };
        if let (Some(smtp), Some(smtps), Some(pop3), Some(pop3s)) = (
            find("SMTP listening on "),
            find("SMTPS listening on "),
            find("POP3 listening on "),
            find("POP3S listening on "),
        ) {
            break (smtp, smtps, pop3, pop3s);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("mail-server exited with {status}:\n{text}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "mail-server did not start:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    wait_for_port(smtp, Duration::from_secs(20));
    wait_for_port(smtps, Duration::from_secs(20));
    wait_for_port(pop3, Duration::from_secs(20));
    wait_for_port(pop3s, Duration::from_secs(20));
    (child, [smtp, smtps, pop3, pop3s])
}

/// The files of a directory, sorted by name.
pub(crate) fn messages_in(dir: &Path) -> Vec<Vec<u8>> {
    let mut names: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => return Vec::new(),
    };
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read(p).expect("read a message"))
        .collect()
}

/// Strips the `Received:` header(s) the server adds at the top, for comparing bodies.
pub(crate) fn without_received(message: &[u8]) -> &[u8] {
    without_leading_fields(message, &[b"Received:"])
}

/// `message` without the header fields at its top whose names (with the colon) are in
/// `names`, folded or not: the trace fields an MTA prepends.
pub(crate) fn without_leading_fields<'m>(message: &'m [u8], names: &[&[u8]]) -> &'m [u8] {
    let mut rest = message;
    while names.iter().any(|name| rest.starts_with(name)) {
        // A folded field: continuation lines start with space or tab.
        let mut end = 0;
        loop {
            let Some(lf) = rest[end..].iter().position(|&b| b == b'\n') else {
                return &[];
            };
            end += lf + 1;
            if !matches!(rest.get(end), Some(b' ' | b'\t')) {
                break;
            }
        }
        rest = &rest[end..];
    }
    rest
}

/// Runs a Python 3 script; panics with its output unless it exits 0.
pub(crate) fn python(script: &str, args: &[&str]) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "python3 failed: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A line-oriented SMTP conversation over a plain socket, for tests that need exact bytes.
pub(crate) struct RawSmtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl RawSmtp {
    pub(crate) fn connect(addr: SocketAddr) -> RawSmtp {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let writer = stream.try_clone().unwrap();
        RawSmtp {
            reader: BufReader::new(stream),
            writer,
        }
    }

    pub(crate) fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    /// Writes, reporting failure (the server may have closed) instead of panicking.
    pub(crate) fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.writer.write_all(bytes).is_ok()
    }

    /// Reads one whole reply (all its lines) and returns it.
    pub(crate) fn reply(&mut self) -> String {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("read a reply line");
            assert!(n > 0, "connection closed; got so far: {text:?}");
            text.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return text;
            }
        }
    }

    /// Reads until the server closes; returns what came.
    pub(crate) fn rest(&mut self) -> String {
        let mut rest = String::new();
        let _ = self.reader.read_to_string(&mut rest);
        rest
    }
}

/// `bytes` with CRLF turned into LF: what local delivery programs (Postfix, fetchmail, getmail) write into a Maildir.
pub(crate) fn lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}
