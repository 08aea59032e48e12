//! The example `mail-server` relaying outbound mail (issue #7): two of our servers, A
//! relaying to B through a static route, driven by Python's smtplib, checked at B's
//! Maildir byte for byte; B down and back up; B refusing a recipient and the delivery
//! status notification in the sender's Maildir on A, parsed by Python's `email`; the
//! queue lifetime and delay warnings; a crash (`MAILWIRE_FAILPOINT`) at each step of
//! queueing and delivery; Postfix on either side; STARTTLS on the way out.
//!
//! Server A serves `a.test`, server B `b.test` (both with users `alice` and `bob`). A is
//! always started with short retry timers (`--retry-initial 1s --retry-max 2s`).

#[path = "support/postfix.rs"]
mod postfix;
mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{
    MailServer, TempDir, free_port, have_program, python, wait_for_port, which, without_received,
};

/// Sends one message with smtplib and prints what each step answered:
/// `mail CODE`, `rcpt ADDR CODE TEXT` per recipient, then `data CODE TEXT` (or
/// `data disconnected` when the server went away before answering).
///
/// Arguments: port, AUTH user (`-`: none; the password is `secret`, after STARTTLS),
/// source address (`-`: default), sender (`<>` for the null sender), MAIL parameters
/// (space separated, or empty), the message file, then recipients as `ADDR` or
/// `ADDR|PARAM PARAM`.
const SEND: &str = r#"
import smtplib, ssl, sys
port, user, source, sender, mail_opts, path = sys.argv[1:7]
rcpts = sys.argv[7:]
msg = open(path, "rb").read()
kwargs = {"timeout": 30}
if source != "-":
    kwargs["source_address"] = (source, 0)
s = smtplib.SMTP("127.0.0.1", int(port), **kwargs)
s.ehlo("client.example")
if user != "-":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.ehlo("client.example")
    s.login(user, "secret")
if sender == "<>":
    sender = ""
code, text = s.mail(sender, mail_opts.split())
print("mail", code, flush=True)
accepted = 0
for r in rcpts:
    addr, _, opts = r.partition("|")
    code, text = s.rcpt(addr, opts.split())
    print("rcpt", addr, code, text.decode(errors="replace").replace("\n", " "), flush=True)
    accepted += code in (250, 251)
if accepted:
    try:
        code, text = s.data(msg)
        print("data", code, text.decode(errors="replace").replace("\n", " "), flush=True)
    except (smtplib.SMTPServerDisconnected, ConnectionError, OSError) as e:
        print("data disconnected", e, flush=True)
        sys.exit(0)
try:
    s.quit()
except Exception:
    pass
"#;

/// Parses a delivery status notification with Python's `email` (the default policy) and
/// prints its structure, one `key: value` line each: `content-type`, `report-type`,
/// `from`, `to`, `subject`, `parts`, `part: TYPE` per part, the per-message fields as
/// `msg-FIELD: value`, per recipient block `rcpt: FINAL-RECIPIENT|ACTION|STATUS|DIAGNOSTIC|ORIGINAL`,
/// `returned-subject` (message/rfc822) or `returned-headers` (text/rfc822-headers,
/// the text with `\n` escaped), and `defects: N` (all parts).
const PARSE_DSN: &str = r#"
import email, email.policy, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
print("content-type:", m.get_content_type())
print("report-type:", m.get_param("report-type"))
print("from:", m["From"])
print("to:", m["To"])
print("subject:", m["Subject"])
parts = list(m.iter_parts()) if m.is_multipart() else []
print("parts:", len(parts))
defects = len(m.defects)
for p in parts:
    print("part:", p.get_content_type())
    defects += len(p.defects)
    ct = p.get_content_type()
    if ct == "message/delivery-status":
        blocks = p.get_payload()
        for k, v in blocks[0].items():
            print("msg-" + k.lower() + ":", " ".join(str(v).split()))
        for b in blocks[1:]:
            fields = [" ".join(str(b.get(k, "")).split()) for k in
                      ("Final-Recipient", "Action", "Status", "Diagnostic-Code", "Original-Recipient")]
            print("rcpt:", "|".join(fields))
    elif ct == "message/rfc822":
        inner = p.get_payload()[0]
        print("returned-subject:", inner["Subject"])
        body = inner.get_payload()
        print("returned-body:", (body if isinstance(body, str) else "").replace("\r", "").replace("\n", "\\n"))
    elif ct == "text/rfc822-headers":
        print("returned-headers:", p.get_payload(decode=True).decode(errors="replace").replace("\r", "").replace("\n", "\\n"))
print("defects:", defects)
"#;

/// What [`SEND`] printed.
#[derive(Debug)]
struct Sent {
    lines: Vec<String>,
}

impl Sent {
    /// The reply code to `RCPT` for `addr`.
    fn rcpt(&self, addr: &str) -> u16 {
        let prefix = format!("rcpt {addr} ");
        let line = self
            .lines
            .iter()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no RCPT {addr} in {self:?}"));
        line[prefix.len()..prefix.len() + 3]
            .parse()
            .unwrap_or_else(|_| panic!("bad line {line:?}"))
    }

    /// The final reply to the message data (`None`: the server went away first).
    fn data(&self) -> Option<u16> {
        let line = self
            .lines
            .iter()
            .find(|l| l.starts_with("data "))
            .unwrap_or_else(|| panic!("no DATA in {self:?}"));
        line[5..].get(..3).and_then(|c| c.parse().ok())
    }
}

/// One message to send with [`send`].
struct Mail<'a> {
    port: u16,
    /// AUTH as this user (after STARTTLS), or none.
    user: Option<&'a str>,
    /// Connect from this local address (e.g. `127.0.0.2`), or the default.
    source: Option<&'a str>,
    from: &'a str,
    mail_params: &'a str,
    /// `ADDR` or `ADDR|PARAM PARAM`.
    rcpts: &'a [&'a str],
    message: &'a [u8],
}

fn send(mail: &Mail<'_>) -> Sent {
    let dir = TempDir::new("relay-msg");
    let path = dir.path().join("message.eml");
    std::fs::write(&path, mail.message).expect("write the message");
    let port = mail.port.to_string();
    let mut args = vec![
        port.as_str(),
        mail.user.unwrap_or("-"),
        mail.source.unwrap_or("-"),
        mail.from,
        mail.mail_params,
        path.to_str().expect("a UTF-8 temp path"),
    ];
    args.extend(mail.rcpts.iter().copied());
    let out = python(SEND, &args);
    Sent {
        lines: out.lines().map(str::to_owned).collect(),
    }
}

/// Sends `message` to A as the authenticated `alice@a.test` and asserts the 250.
fn send_auth(a: &MailServer, mail_params: &str, rcpts: &[&str], message: &[u8]) -> Sent {
    let sent = send(&Mail {
        port: a.smtp.port(),
        user: Some("alice"),
        source: None,
        from: "alice@a.test",
        mail_params,
        rcpts,
        message,
    });
    assert_eq!(
        sent.data(),
        Some(250),
        "{sent:?}\nA's log:\n{}",
        a.log_text()
    );
    sent
}

/// A message with every header Postfix would otherwise add, CRLF line ends, lines that
/// need dot-stuffing, and a unique subject.
fn message(subject: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@a.test>\r\n\
         To: alice@b.test, bob@b.test\r\n\
         Subject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 12:00:00 +0000\r\n\
         Message-ID: <{}@a.test>\r\n\
         \r\n\
         .leading dot\r\n\
         ..two dots\r\n\
         .\r\n\
         body of {subject}\r\n\
         end\r\n",
        subject.replace(' ', "-")
    )
    .into_bytes()
}

/// Server B (`b.test`).
fn start_b() -> MailServer {
    MailServer::start_for("b.test", &[])
}

/// The flags every A gets: the route to `b` and short retry timers, plus `extra`.
fn a_flags(b: SocketAddr, extra: &[&str]) -> Vec<String> {
    let mut flags = vec![
        "--route".to_owned(),
        format!("b.test={b}"),
        "--retry-initial".to_owned(),
        "1s".to_owned(),
        "--retry-max".to_owned(),
        "2s".to_owned(),
    ];
    flags.extend(extra.iter().map(|s| s.to_string()));
    flags
}

/// Server A (`a.test`) routing `b.test` to `b`, with `extra` flags and `env`.
fn start_a(b: SocketAddr, extra: &[&str], env: &[(&str, &str)]) -> MailServer {
    let flags = a_flags(b, extra);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    MailServer::start_with("a.test", &flags, env)
}

/// Waits (up to `timeout`) until `user` on `server` has `count` messages; returns them.
fn wait_messages(server: &MailServer, user: &str, count: usize, timeout: Duration) -> Vec<Vec<u8>> {
    let start = Instant::now();
    loop {
        let messages = server.new_messages(user);
        if messages.len() >= count || start.elapsed() > timeout {
            return messages;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits (up to `timeout`) until `mail-server queue list` on A no longer names `rcpt`.
fn wait_queue_without(a: &MailServer, rcpt: &str, timeout: Duration) -> String {
    let start = Instant::now();
    loop {
        let list = a.queue(&["list"]);
        if !list.contains(rcpt) || start.elapsed() > timeout {
            return list;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Lines of every log of `server` with all of `words`.
fn log_lines(server: &MailServer, words: &[&str]) -> Vec<String> {
    server
        .all_logs()
        .lines()
        .filter(|l| words.iter().all(|w| l.contains(w)))
        .map(str::to_owned)
        .collect()
}

/// The structure [`PARSE_DSN`] printed: `key: value` pairs in order.
struct Dsn(Vec<(String, String)>);

impl Dsn {
    fn parse(message: &[u8]) -> Dsn {
        let dir = TempDir::new("dsn");
        let path = dir.path().join("dsn.eml");
        std::fs::write(&path, message).expect("write the DSN");
        let out = python(PARSE_DSN, &[path.to_str().expect("a UTF-8 temp path")]);
        Dsn(out
            .lines()
            .filter_map(|l| {
                l.split_once(": ")
                    .or_else(|| l.strip_suffix(':').map(|k| (k, "")))
            })
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }

    fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {key} in {:#?}", self.0))
    }

    fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The recipient blocks: [final-recipient, action, status, diagnostic, original].
    fn recipients(&self) -> Vec<Vec<&str>> {
        self.all("rcpt")
            .into_iter()
            .map(|r| r.split('|').collect())
            .collect()
    }

    /// The common checks of every DSN: a well-formed RFC 3464 multipart/report from
    /// MAILER-DAEMON to `to`, text part first, delivery-status second.
    fn assert_report(&self, to: &str) {
        assert_eq!(
            self.get("content-type"),
            "multipart/report",
            "{:#?}",
            self.0
        );
        assert_eq!(self.get("report-type"), "delivery-status", "{:#?}", self.0);
        assert_eq!(self.get("defects"), "0", "{:#?}", self.0);
        let parts = self.all("part");
        assert!(parts.len() >= 2, "{:#?}", self.0);
        assert_eq!(parts[0], "text/plain", "{:#?}", self.0);
        assert_eq!(parts[1], "message/delivery-status", "{:#?}", self.0);
        assert!(
            self.get("from")
                .to_ascii_uppercase()
                .contains("MAILER-DAEMON@"),
            "{:#?}",
            self.0
        );
        assert!(self.get("to").contains(to), "{:#?}", self.0);
        assert!(
            self.get("msg-reporting-mta").starts_with("dns;"),
            "{:#?}",
            self.0
        );
    }
}

/// Removes spaces after the `;` of a typed field (`rfc822; a@b` → `rfc822;a@b`) and
/// lower-cases it, to compare addresses and types.
fn typed(field: &str) -> String {
    field.replace("; ", ";").to_ascii_lowercase()
}

/// Whether `MAILWIRE_INTEROP`-style skipping applies: python3 is needed by every test.
fn have_python() -> bool {
    have_program("python3")
}

// ---------------------------------------------------------------------------------------
// 1. A relays to B.

#[test]
fn a_relays_to_b_through_a_static_route() {
    if !have_python() {
        return;
    }
    let b = start_b();
    let a = start_a(b.smtp, &["--relay-net", "127.0.0.2/32"], &[]);

    // Authenticated: two recipients on B, one local on A.
    let first = message("relay one");
    let sent = send_auth(
        &a,
        "",
        &["alice@b.test", "bob@b.test", "bob@a.test"],
        &first,
    );
    assert_eq!(sent.rcpt("alice@b.test"), 250, "{sent:?}");
    let alice = wait_messages(&b, "alice", 1, Duration::from_secs(30));
    let bob = wait_messages(&b, "bob", 1, Duration::from_secs(30));
    assert_eq!(
        alice.len(),
        1,
        "A's log:\n{}\nB's log:\n{}",
        a.log_text(),
        b.log_text()
    );
    assert_eq!(
        bob.len(),
        1,
        "A's log:\n{}\nB's log:\n{}",
        a.log_text(),
        b.log_text()
    );
    assert_eq!(without_received(&alice[0]), &first[..]);
    assert_eq!(without_received(&bob[0]), &first[..]);
    // The local recipient on A has it straight away, in A's Maildir.
    let local = a.new_messages("bob");
    assert_eq!(local.len(), 1);
    assert_eq!(without_received(&local[0]), &first[..]);
    // Both B recipients in one transaction (one "message accepted" on B naming both).
    let accepted = log_lines(&b, &["message accepted"]);
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    assert!(
        accepted[0].contains("alice") && accepted[0].contains("bob"),
        "{accepted:?}"
    );
    let delivered = log_lines(&a, &["delivered", "relay="]);
    assert_eq!(delivered.len(), 2, "{delivered:?}");
    let route = format!("relay={}", b.smtp);
    assert!(
        delivered.iter().all(|l| l.contains(&route)),
        "{delivered:?}"
    );
    // A's own Received header is there, under B's.
    let trace =
        String::from_utf8_lossy(&alice[0][..alice[0].len() - without_received(&alice[0]).len()])
            .into_owned();
    assert!(trace.contains("by b.test"), "{trace}");
    assert!(trace.contains("by a.test"), "{trace}");

    // A client in --relay-net, without AUTH.
    let second = message("relay two");
    let sent = send(&Mail {
        port: a.smtp.port(),
        user: None,
        source: Some("127.0.0.2"),
        from: "someone@elsewhere.example",
        mail_params: "",
        rcpts: &["bob@b.test"],
        message: &second,
    });
    assert_eq!(sent.data(), Some(250), "{sent:?}");
    let bob = wait_messages(&b, "bob", 2, Duration::from_secs(30));
    assert_eq!(bob.len(), 2, "A's log:\n{}", a.log_text());
    assert!(
        bob.iter().any(|m| without_received(m) == &second[..]),
        "{bob:?}"
    );

    // Neither authenticated nor trusted: relaying is refused at RCPT.
    let third = message("relay three");
    let sent = send(&Mail {
        port: a.smtp.port(),
        user: None,
        source: Some("127.0.0.1"),
        from: "someone@elsewhere.example",
        mail_params: "",
        rcpts: &["alice@b.test"],
        message: &third,
    });
    assert_eq!(sent.rcpt("alice@b.test"), 554, "{sent:?}");
    assert!(sent.lines.iter().any(|l| l.contains("5.7.1")), "{sent:?}");
    // Local mail from the same client is still taken.
    let sent = send(&Mail {
        port: a.smtp.port(),
        user: None,
        source: Some("127.0.0.1"),
        from: "someone@elsewhere.example",
        mail_params: "",
        rcpts: &["alice@a.test"],
        message: &third,
    });
    assert_eq!(sent.data(), Some(250), "{sent:?}");

    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(b.new_messages("alice").len(), 1);
    assert_eq!(b.new_messages("bob").len(), 2);
    let list = a.queue(&["list"]);
    assert!(!list.contains("@b.test"), "{list}");
}

/// The connection numbers (`connection{listener=smtp id=N`) of B's `message accepted`
/// lines, in order.
fn accepting_connections(b: &MailServer) -> Vec<String> {
    log_lines(b, &["message accepted"])
        .iter()
        .filter_map(|l| {
            let at = l.find("connection{listener=smtp id=")? + "connection{listener=smtp id=".len();
            l[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn one_reused_session_within_the_per_destination_limit() {
    if !have_python() {
        return;
    }
    let mut b = start_b();
    b.kill();
    let flags = [
        "--route".to_owned(),
        format!("b.test={}", b.smtp),
        "--retry-initial".to_owned(),
        "1h".to_owned(),
        "--retry-max".to_owned(),
        "1h".to_owned(),
        "--max-per-destination".to_owned(),
        "1".to_owned(),
    ];
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let a = MailServer::start_for("a.test", &flags);
    let bodies: Vec<Vec<u8>> = (0..6).map(|n| message(&format!("queued {n}"))).collect();
    for body in &bodies {
        send_auth(&a, "", &["alice@b.test"], body);
    }
    let deferred = a.wait_for_log(&["deferred", "alice@b.test"], 6, Duration::from_secs(20));
    assert_eq!(deferred.len(), 6, "A's log:\n{}", a.log_text());
    b.restart(&[]);
    a.queue(&["flush"]);
    let got = wait_messages(&b, "alice", 6, Duration::from_secs(30));
    assert_eq!(got.len(), 6, "A's log:\n{}", a.log_text());
    for body in &bodies {
        assert!(
            got.iter().any(|m| without_received(m) == &body[..]),
            "missing {}",
            String::from_utf8_lossy(body)
        );
    }
    let connections = accepting_connections(&b);
    assert_eq!(connections.len(), 6, "{connections:?}");
    assert!(
        connections.iter().all(|c| c == &connections[0]),
        "one session carries all six (--max-per-destination 1): {connections:?}"
    );
}

#[test]
fn outbound_sessions_end_with_quit() {
    if !have_python() {
        return;
    }
    let b = start_b();
    let mut a = start_a(b.smtp, &[], &[]);
    // Idle: A says QUIT (after about 5 s without anything to send).
    send_auth(&a, "", &["alice@b.test"], &message("idle quit"));
    let closed = b.wait_for_log(
        &["session closed", "messages=1"],
        1,
        Duration::from_secs(20),
    );
    assert_eq!(closed.len(), 1, "B's log:\n{}", b.log_text());
    assert!(closed[0].contains("reason=Quit"), "{closed:?}");
    // Shutdown (SIGTERM) right after a delivery: the open session still ends with QUIT.
    send_auth(&a, "", &["bob@b.test"], &message("shutdown quit"));
    assert_eq!(
        wait_messages(&b, "bob", 1, Duration::from_secs(30)).len(),
        1
    );
    let status = a.terminate(Duration::from_secs(30));
    assert!(status.is_some(), "A did not stop on SIGTERM");
    let closed = b.wait_for_log(
        &["session closed", "messages=1"],
        2,
        Duration::from_secs(10),
    );
    assert_eq!(closed.len(), 2, "B's log:\n{}", b.log_text());
    assert!(
        closed[1].contains("reason=Quit"),
        "A closed the session without QUIT at shutdown: {closed:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 2. B down, then back.

#[test]
fn b_down_then_back_gets_the_message_exactly_once() {
    if !have_python() {
        return;
    }
    let mut b = start_b();
    b.kill();
    let a = start_a(b.smtp, &[], &[]);
    let body = message("while b was down");
    send_auth(&a, "", &["alice@b.test"], &body);

    let deferred = a.wait_for_log(&["deferred", "alice@b.test"], 1, Duration::from_secs(20));
    assert!(!deferred.is_empty(), "A's log:\n{}", a.log_text());
    let list = a.queue(&["list"]);
    assert!(list.contains("alice@b.test"), "{list}");
    assert!(
        list.contains("alice@a.test"),
        "the sender is listed: {list}"
    );
    let line = list
        .lines()
        .find(|l| l.contains("alice@b.test"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        line.to_ascii_lowercase().contains("refused"),
        "the last error (connection refused) is listed: {list}"
    );
    assert!(
        line.contains("attempts") && line.contains("next"),
        "attempts and next attempt are listed: {list}"
    );
    // A keeps retrying (short timers) while B is down.
    let deferred = a.wait_for_log(&["deferred", "alice@b.test"], 3, Duration::from_secs(20));
    assert!(deferred.len() >= 3, "{deferred:?}");

    b.restart(&[]);
    let got = wait_messages(&b, "alice", 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "A's log:\n{}", a.log_text());
    assert_eq!(without_received(&got[0]), &body[..]);
    let list = wait_queue_without(&a, "alice@b.test", Duration::from_secs(10));
    assert!(!list.contains("alice@b.test"), "{list}");
    // Longer than --retry-max: nothing is sent again.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(b.new_messages("alice").len(), 1);
    assert_eq!(log_lines(&a, &["delivered", "alice@b.test"]).len(), 1);
}

#[test]
fn queue_flush_sends_before_the_back_off() {
    if !have_python() {
        return;
    }
    let mut b = start_b();
    b.kill();
    // Back-off of an hour: only a flush makes it go.
    let flags = [
        "--route".to_owned(),
        format!("b.test={}", b.smtp),
        "--retry-initial".to_owned(),
        "1h".to_owned(),
        "--retry-max".to_owned(),
        "1h".to_owned(),
    ];
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut a = MailServer::start_for("a.test", &flags);
    let first = message("flush while running");
    send_auth(&a, "", &["alice@b.test"], &first);
    assert!(
        !a.wait_for_log(&["deferred", "alice@b.test"], 1, Duration::from_secs(20))
            .is_empty(),
        "A's log:\n{}",
        a.log_text()
    );
    b.restart(&[]);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        b.new_messages("alice").len(),
        0,
        "delivered before its back-off"
    );
    let list = a.queue(&["list"]);
    assert!(list.contains("alice@b.test"), "{list}");

    // Flush while A runs.
    a.queue(&["flush"]);
    let got = wait_messages(&b, "alice", 1, Duration::from_secs(10));
    assert_eq!(got.len(), 1, "A's log:\n{}", a.log_text());
    assert_eq!(without_received(&got[0]), &first[..]);

    // Flush while A does not run: the next start delivers at once.
    b.kill();
    let second = message("flush while stopped");
    send_auth(&a, "", &["bob@b.test"], &second);
    assert!(
        !a.wait_for_log(&["deferred", "bob@b.test"], 1, Duration::from_secs(20))
            .is_empty(),
        "A's log:\n{}",
        a.log_text()
    );
    a.kill();
    b.restart(&[]);
    a.queue(&["flush"]);
    a.restart(&[]);
    let got = wait_messages(&b, "bob", 1, Duration::from_secs(10));
    assert_eq!(got.len(), 1, "A's log:\n{}", a.log_text());
    assert_eq!(without_received(&got[0]), &second[..]);
    let list = wait_queue_without(&a, "@b.test", Duration::from_secs(10));
    assert!(!list.contains("@b.test"), "{list}");
}

// ---------------------------------------------------------------------------------------
// 3. B refuses a recipient: the sender on A gets a DSN.

#[test]
fn remote_550_gives_the_sender_a_delivery_status_notification() {
    if !have_python() {
        return;
    }
    let b = start_b();
    let a = start_a(b.smtp, &[], &[]);

    // (1) No NOTIFY, no RET: a failure DSN with the whole message; the good recipient
    // is delivered.
    let full = message("refused full");
    let sent = send_auth(
        &a,
        "ENVID=env-full",
        &["alice@b.test", "nobody@b.test|ORCPT=rfc822;nobody@b.test"],
        &full,
    );
    assert_eq!(
        sent.rcpt("nobody@b.test"),
        250,
        "A cannot know yet: {sent:?}"
    );
    let got = wait_messages(&b, "alice", 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "A's log:\n{}", a.log_text());
    assert_eq!(without_received(&got[0]), &full[..]);
    let dsns = wait_messages(&a, "alice", 1, Duration::from_secs(30));
    assert_eq!(dsns.len(), 1, "A's log:\n{}", a.log_text());
    let dsn = Dsn::parse(&dsns[0]);
    dsn.assert_report("alice@a.test");
    assert_eq!(
        dsn.all("part"),
        ["text/plain", "message/delivery-status", "message/rfc822"]
    );
    assert_eq!(dsn.get("msg-original-envelope-id"), "env-full");
    let rcpts = dsn.recipients();
    assert_eq!(rcpts.len(), 1, "only the failed recipient: {rcpts:?}");
    assert_eq!(typed(rcpts[0][0]), "rfc822;nobody@b.test");
    assert_eq!(rcpts[0][1].to_ascii_lowercase(), "failed");
    assert!(rcpts[0][2].starts_with("5."), "{rcpts:?}");
    assert_eq!(rcpts[0][2], "5.1.1", "B's enhanced code: {rcpts:?}");
    let diagnostic = rcpts[0][3];
    assert!(
        diagnostic.to_ascii_lowercase().starts_with("smtp;")
            && diagnostic.contains("550")
            && diagnostic.contains("No such user here"),
        "B's reply in Diagnostic-Code: {rcpts:?}"
    );
    assert_eq!(typed(rcpts[0][4]), "rfc822;nobody@b.test");
    assert_eq!(dsn.get("returned-subject"), "refused full");
    assert!(dsn.get("returned-body").contains("body of refused full"));
    assert_eq!(
        log_lines(&a, &["bounced", "nobody@b.test"]).len(),
        1,
        "A's log:\n{}",
        a.log_text()
    );

    // (2) NOTIFY=NEVER, (3) the null sender, (4) NOTIFY=SUCCESS only: no failure DSN.
    let never = message("refused never");
    send_auth(&a, "", &["nobody@b.test|NOTIFY=NEVER"], &never);
    let null = message("refused null sender");
    let sent = send(&Mail {
        port: a.smtp.port(),
        user: Some("alice"),
        source: None,
        from: "<>",
        mail_params: "",
        rcpts: &["nobody@b.test"],
        message: &null,
    });
    assert_eq!(sent.data(), Some(250), "{sent:?}");
    let success_only = message("refused success only");
    send_auth(&a, "", &["nobody@b.test|NOTIFY=SUCCESS"], &success_only);
    // (5) RET=HDRS: only the header comes back.
    let headers = message("refused headers");
    send_auth(&a, "RET=HDRS", &["nobody@b.test|NOTIFY=FAILURE"], &headers);

    let bounced = a.wait_for_log(&["bounced", "nobody@b.test"], 5, Duration::from_secs(30));
    assert_eq!(bounced.len(), 5, "A's log:\n{}", a.log_text());
    let dsns = wait_messages(&a, "alice", 2, Duration::from_secs(30));
    // Time for a wrong DSN for (2)-(4) to show up too.
    std::thread::sleep(Duration::from_secs(3));
    let dsns_now = a.new_messages("alice");
    assert_eq!(
        dsns_now.len(),
        2,
        "exactly the DSNs of (1) and (5): {dsns:?}"
    );
    let parsed: Vec<Dsn> = dsns_now.iter().map(|m| Dsn::parse(m)).collect();
    let hdrs = parsed
        .iter()
        .find(|d| d.all("part").contains(&"text/rfc822-headers"))
        .unwrap_or_else(|| panic!("no DSN with text/rfc822-headers: {dsns_now:?}"));
    hdrs.assert_report("alice@a.test");
    assert_eq!(
        hdrs.all("part"),
        [
            "text/plain",
            "message/delivery-status",
            "text/rfc822-headers"
        ]
    );
    let returned = hdrs.get("returned-headers");
    assert!(returned.contains("Subject: refused headers"), "{returned}");
    assert!(
        !returned.contains("body of"),
        "RET=HDRS returned the body: {returned}"
    );
    assert!(
        hdrs.0.iter().all(|(k, _)| k != "msg-original-envelope-id"),
        "no ENVID, no Original-Envelope-Id"
    );
    let rcpts = hdrs.recipients();
    assert_eq!(rcpts.len(), 1, "{rcpts:?}");
    assert_eq!(typed(rcpts[0][0]), "rfc822;nobody@b.test");
    assert_eq!(rcpts[0][1].to_ascii_lowercase(), "failed");
    // Nothing for the refused recipient ever reached B.
    assert!(b.new_messages("nobody").is_empty());
    assert_eq!(b.new_messages("alice").len(), 1);
    let list = wait_queue_without(&a, "@b.test", Duration::from_secs(10));
    assert!(!list.contains("@b.test"), "{list}");
}

// ---------------------------------------------------------------------------------------
// 4. Lifetime and delay warnings.

#[test]
fn queue_lifetime_runs_out_into_a_failure_dsn() {
    if !have_python() {
        return;
    }
    let mut b = start_b();
    b.kill();
    let a = start_a(b.smtp, &["--queue-lifetime", "3s"], &[]);
    let body = message("never arrives");
    let start = Instant::now();
    send_auth(&a, "", &["alice@b.test"], &body);
    let dsns = wait_messages(&a, "alice", 1, Duration::from_secs(30));
    let waited = start.elapsed();
    assert_eq!(dsns.len(), 1, "A's log:\n{}", a.log_text());
    assert!(
        waited >= Duration::from_secs(3),
        "bounced before the lifetime: {waited:?}"
    );
    let dsn = Dsn::parse(&dsns[0]);
    dsn.assert_report("alice@a.test");
    let rcpts = dsn.recipients();
    assert_eq!(rcpts.len(), 1, "{rcpts:?}");
    assert_eq!(typed(rcpts[0][0]), "rfc822;alice@b.test");
    assert_eq!(rcpts[0][1].to_ascii_lowercase(), "failed");
    assert!(
        rcpts[0][2].starts_with("4.") || rcpts[0][2].starts_with("5."),
        "{rcpts:?}"
    );
    assert_eq!(dsn.get("returned-subject"), "never arrives");
    assert_eq!(log_lines(&a, &["bounced", "alice@b.test"]).len(), 1);
    let list = wait_queue_without(&a, "alice@b.test", Duration::from_secs(10));
    assert!(!list.contains("alice@b.test"), "{list}");
    // B coming back now changes nothing.
    b.restart(&[]);
    std::thread::sleep(Duration::from_secs(3));
    assert!(b.new_messages("alice").is_empty());
    assert_eq!(a.new_messages("alice").len(), 1);
}

#[test]
fn delay_warning_once_then_delivery() {
    if !have_python() {
        return;
    }
    let mut b = start_b();
    b.kill();
    let a = start_a(b.smtp, &["--delay-warning", "1s"], &[]);
    let body = message("delayed");
    send_auth(&a, "", &["alice@b.test|NOTIFY=DELAY,FAILURE"], &body);
    // Without NOTIFY=DELAY: no delay notice (RFC 3461 leaves it to us; we keep quiet).
    let quiet = message("delayed quietly");
    send_auth(&a, "", &["bob@b.test"], &quiet);
    let dsns = wait_messages(&a, "alice", 1, Duration::from_secs(30));
    assert_eq!(dsns.len(), 1, "A's log:\n{}", a.log_text());
    // Several more retries: still one notice.
    let deferred = a.wait_for_log(&["deferred", "alice@b.test"], 4, Duration::from_secs(20));
    assert!(deferred.len() >= 4, "{deferred:?}");
    assert_eq!(a.new_messages("alice").len(), 1, "one delay notice only");
    let dsn = Dsn::parse(&dsns[0]);
    dsn.assert_report("alice@a.test");
    let rcpts = dsn.recipients();
    assert_eq!(rcpts.len(), 1, "only the recipient that asked: {rcpts:?}");
    assert_eq!(typed(rcpts[0][0]), "rfc822;alice@b.test");
    assert_eq!(rcpts[0][1].to_ascii_lowercase(), "delayed");
    assert!(rcpts[0][2].starts_with("4."), "{rcpts:?}");

    b.restart(&[]);
    let got = wait_messages(&b, "alice", 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "A's log:\n{}", a.log_text());
    assert_eq!(without_received(&got[0]), &body[..]);
    let got = wait_messages(&b, "bob", 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1);
    assert_eq!(without_received(&got[0]), &quiet[..]);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        a.new_messages("alice").len(),
        1,
        "no further notice after delivery"
    );
    assert_eq!(b.new_messages("alice").len(), 1);
}

// ---------------------------------------------------------------------------------------
// 5. A crash at each step.

/// Runs A with `MAILWIRE_FAILPOINT=failpoint`, sends one message, sees A die, restarts A
/// without it (and B if it was down), and returns (what the client saw, B's messages for
/// alice after everything settled, the message, A).
fn crash_at(failpoint: &str, b_up: bool) -> (Sent, Vec<Vec<u8>>, Vec<u8>, MailServer, MailServer) {
    let mut b = start_b();
    if !b_up {
        b.kill();
    }
    let mut a = start_a(b.smtp, &[], &[("MAILWIRE_FAILPOINT", failpoint)]);
    let body = message(&format!("crash at {failpoint}"));
    let sent = send(&Mail {
        port: a.smtp.port(),
        user: Some("alice"),
        source: None,
        from: "alice@a.test",
        mail_params: "",
        rcpts: &["alice@b.test"],
        message: &body,
    });
    let status = a.wait_exit(Duration::from_secs(30));
    let status = status.unwrap_or_else(|| {
        panic!(
            "A did not die at {failpoint}; client: {sent:?}\nA's log:\n{}",
            a.log_text()
        )
    });
    assert!(!status.success(), "{status}");
    a.restart(&[]);
    if !b_up {
        b.restart(&[]);
    }
    // Until A's queue is empty, then longer than --retry-max.
    let list = wait_queue_without(&a, "alice@b.test", Duration::from_secs(30));
    assert!(
        !list.contains("alice@b.test"),
        "{list}\nA's logs:\n{}",
        a.all_logs()
    );
    std::thread::sleep(Duration::from_secs(4));
    let got = b.new_messages("alice");
    for m in &got {
        assert_eq!(without_received(m), &body[..], "half-written");
    }
    // No leftovers in B's tmp/.
    let tmp = std::fs::read_dir(b.maildir("alice").join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(tmp, 0);
    (sent, got, body, a, b)
}

/// Files left under A's `DATA/queue/` (bodies, envelopes, temp files): a drained queue
/// keeps none, apart from its `lock` and `flush` trigger.
fn queue_files(a: &MailServer) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let root = a.data_dir().join("queue");
    let mut out = Vec::new();
    walk(&root, &mut out);
    // The queue's own lock and flush trigger are not messages.
    out.retain(|p| p != &root.join("lock") && p != &root.join("flush"));
    out
}

#[test]
fn crash_before_the_queue_commit_loses_nothing_promised() {
    if !have_python() {
        return;
    }
    let (sent, got, _, a, _b) = crash_at("queue-before-commit", false);
    assert_eq!(sent.data(), None, "the client got a reply: {sent:?}");
    assert!(got.is_empty(), "delivered a message never answered 250");
    assert!(log_lines(&a, &["delivered"]).is_empty());
    let files = queue_files(&a);
    assert!(files.is_empty(), "left in the queue: {files:?}");
}

#[test]
fn crash_after_the_queue_commit_delivers_once() {
    if !have_python() {
        return;
    }
    let (sent, got, _, a, _b) = crash_at("queue-after-commit", false);
    assert!(
        matches!(sent.data(), None | Some(250)),
        "durable: no refusal: {sent:?}"
    );
    assert_eq!(got.len(), 1, "A's logs:\n{}", a.all_logs());
    let files = queue_files(&a);
    assert!(files.is_empty(), "left in the queue: {files:?}");
}

#[test]
fn crash_after_the_remote_250_delivers_at_least_once() {
    if !have_python() {
        return;
    }
    let (sent, got, _, a, _b) = crash_at("deliver-after-remote-250", true);
    assert_eq!(sent.data(), Some(250), "{sent:?}");
    assert!(
        (1..=2).contains(&got.len()),
        "SMTP's at-least-once: 1 or 2 copies, got {}\nA's logs:\n{}",
        got.len(),
        a.all_logs()
    );
    let files = queue_files(&a);
    assert!(files.is_empty(), "left in the queue: {files:?}");
}

#[test]
fn crash_after_the_bookkeeping_delivers_once() {
    if !have_python() {
        return;
    }
    let (sent, got, _, a, _b) = crash_at("deliver-after-bookkeeping", true);
    assert_eq!(sent.data(), Some(250), "{sent:?}");
    assert_eq!(got.len(), 1, "A's logs:\n{}", a.all_logs());
    let files = queue_files(&a);
    assert!(files.is_empty(), "left in the queue: {files:?}");
}

// ---------------------------------------------------------------------------------------
// 6. Postfix on either side.

#[test]
fn a_relays_into_postfix() {
    if !have_python() || !have_program("postfix") {
        return;
    }
    let pf = postfix::Postfix::start(&["b"]);
    let route = format!("{}={}", postfix::DOMAIN, pf.smtp);
    let a = MailServer::start_for(
        "a.test",
        &[
            "--route",
            &route,
            "--retry-initial",
            "1s",
            "--retry-max",
            "2s",
        ],
    );
    let body = message("into postfix");
    let good = format!("b@{}", postfix::DOMAIN);
    let bad = format!("nobody@{}", postfix::DOMAIN);
    send_auth(&a, "", &[&good, &bad], &body);
    let got = pf.wait_for_messages("b", 1);
    assert_eq!(
        got.len(),
        1,
        "A's log:\n{}\nPostfix:\n{}",
        a.log_text(),
        pf.log()
    );
    // Postfix keeps LF line ends, and its own trace fields on top; below them, A's
    // Received header and then the message as sent.
    let stored = postfix::without_trace(&got[0]);
    assert_eq!(stored, &support::lf(&body)[..]);
    let text = String::from_utf8_lossy(&got[0]).into_owned();
    assert!(text.starts_with("Return-Path: <alice@a.test>\n"), "{text}");
    assert!(text.contains("by a.test"), "A's Received header: {text}");
    // Postfix refused the unknown user at RCPT: a DSN to alice on A quoting Postfix.
    let dsns = wait_messages(&a, "alice", 1, Duration::from_secs(30));
    assert_eq!(dsns.len(), 1, "A's log:\n{}", a.log_text());
    let dsn = Dsn::parse(&dsns[0]);
    dsn.assert_report("alice@a.test");
    let rcpts = dsn.recipients();
    assert_eq!(rcpts.len(), 1, "{rcpts:?}");
    assert_eq!(typed(rcpts[0][0]), format!("rfc822;{bad}"));
    assert_eq!(rcpts[0][2], "5.1.1");
    assert!(rcpts[0][3].contains("550"), "{rcpts:?}");
    assert!(
        pf.wait_for_log_line("status=sent").is_some(),
        "Postfix:\n{}",
        pf.log()
    );
}

#[test]
fn postfix_relays_through_a() {
    if !have_python() || !have_program("postfix") {
        return;
    }
    let b = start_b();
    let a = start_a(b.smtp, &["--relay-net", "127.0.0.1/32"], &[]);
    let pf =
        postfix::Postfix::start_with(&[], &format!("relayhost = [127.0.0.1]:{}\n", a.smtp.port()));
    let body = message("through postfix and a");
    // Into Postfix (trusted by mynetworks), which relays everything not its own to A.
    let sent = send(&Mail {
        port: pf.smtp.port(),
        user: None,
        source: None,
        from: "sender@example.test",
        mail_params: "",
        rcpts: &["alice@b.test", "bob@b.test"],
        message: &body,
    });
    assert_eq!(sent.data(), Some(250), "{sent:?}\nPostfix:\n{}", pf.log());
    let alice = wait_messages(&b, "alice", 1, Duration::from_secs(60));
    let bob = wait_messages(&b, "bob", 1, Duration::from_secs(30));
    assert_eq!(
        alice.len(),
        1,
        "Postfix:\n{}\nA's log:\n{}",
        pf.log(),
        a.log_text()
    );
    assert_eq!(bob.len(), 1);
    assert_eq!(without_received(&alice[0]), &body[..]);
    assert_eq!(without_received(&bob[0]), &body[..]);
    let trace =
        String::from_utf8_lossy(&alice[0][..alice[0].len() - without_received(&alice[0]).len()])
            .into_owned();
    assert!(
        trace.contains("by b.test") && trace.contains("by a.test"),
        "{trace}"
    );
    assert!(
        trace.contains("mx.example.test"),
        "Postfix's Received header: {trace}"
    );
    let relayed = pf.wait_for_log_line(&format!("relay=127.0.0.1[127.0.0.1]:{}", a.smtp.port()));
    let relayed = relayed.unwrap_or_else(|| panic!("Postfix:\n{}", pf.log()));
    assert!(relayed.contains("status=sent"), "{relayed}");
}

// ---------------------------------------------------------------------------------------
// 7. STARTTLS on the way out.

#[test]
fn delivery_to_b_uses_starttls() {
    if !have_python() {
        return;
    }
    let b = start_b();
    let a = start_a(b.smtp, &[], &[]);
    let body = message("encrypted");
    send_auth(&a, "", &["alice@b.test"], &body);
    let got = wait_messages(&b, "alice", 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "A's log:\n{}", a.log_text());
    assert_eq!(without_received(&got[0]), &body[..]);
    // B's Received header (the first) says how A came: ESMTP over TLS.
    let text = String::from_utf8_lossy(&got[0]).into_owned();
    let first = text.split("\r\nReceived:").next().expect("a first header");
    assert!(first.contains("by b.test"), "{first}");
    assert!(first.contains("with ESMTPS "), "not over TLS: {first}");
}

/// An aiosmtpd without STARTTLS (and without SMTPUTF8) that records each MAIL command,
/// recipient and message as files in its directory (`mail-N`, `rcpt-N-ADDR`, `msg-N`).
/// Arguments: port, directory.
const PLAIN_SINK: &str = r#"
import sys, threading, os
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
count = {"mail": 0, "msg": 0}
class Handler:
    async def handle_MAIL(self, server, session, envelope, address, options):
        count["mail"] += 1
        open(os.path.join(out, "mail-%d" % count["mail"]), "w").write(address)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"
    async def handle_RCPT(self, server, session, envelope, address, options):
        open(os.path.join(out, "rcpt-%d-%s" % (count["mail"], address.replace("/", "_"))), "w").write(address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"
    async def handle_DATA(self, server, session, envelope):
        count["msg"] += 1
        open(os.path.join(out, "msg-%d" % count["msg"]), "wb").write(envelope.original_content)
        return "250 OK"
c = Controller(Handler(), hostname="127.0.0.1", port=port, ready_timeout=30, enable_SMTPUTF8=False)
c.start()
threading.Event().wait()
"#;

/// The plain aiosmtpd sink, killed on drop.
struct PlainSink {
    child: Child,
    addr: SocketAddr,
    dir: TempDir,
}

impl PlainSink {
    fn start(python: &Path) -> PlainSink {
        let dir = TempDir::new("plain-sink");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("an address");
        let child = Command::new(python)
            .arg("-c")
            .arg(PLAIN_SINK)
            .arg(addr.port().to_string())
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let sink = PlainSink { child, addr, dir };
        wait_for_port(addr, Duration::from_secs(30));
        sink
    }

    fn count(&self, prefix: &str) -> usize {
        std::fs::read_dir(self.dir.path())
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                    .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for PlainSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python 3 that can import aiosmtpd; `None`: skip (a failure under MAILWIRE_INTEROP).
fn aiosmtpd_python() -> Option<PathBuf> {
    if !have_python() {
        return None;
    }
    let candidates = [which("python3"), Some(PathBuf::from("/usr/bin/python3"))];
    for python in candidates.into_iter().flatten() {
        let imports = Command::new(&python)
            .args(["-c", "import aiosmtpd.controller"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if imports {
            return Some(python);
        }
    }
    assert!(
        std::env::var_os("MAILWIRE_INTEROP").is_none(),
        "no python3 can import aiosmtpd, and MAILWIRE_INTEROP is set: install python3-aiosmtpd"
    );
    eprintln!("SKIPPED: python3-aiosmtpd is not installed");
    None
}

#[test]
fn require_tls_defers_instead_of_sending_in_clear() {
    let Some(python3) = aiosmtpd_python() else {
        return;
    };
    let sink = PlainSink::start(&python3);
    let strict = start_a(sink.addr, &["--require-tls"], &[]);
    let body = message("tls required");
    send_auth(&strict, "", &["alice@b.test"], &body);
    let deferred = strict.wait_for_log(&["deferred", "alice@b.test"], 2, Duration::from_secs(20));
    assert!(deferred.len() >= 2, "A's log:\n{}", strict.log_text());
    assert_eq!(sink.count("mail-"), 0, "a transaction was started in clear");
    assert_eq!(sink.count("msg-"), 0, "the message was sent in clear");
    let list = strict.queue(&["list"]);
    assert!(list.contains("alice@b.test"), "{list}");

    // The same sink takes it from an A without --require-tls (opportunistic TLS).
    let relaxed = start_a(sink.addr, &[], &[]);
    send_auth(&relaxed, "", &["alice@b.test"], &body);
    let start = Instant::now();
    while sink.count("msg-") < 1 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(sink.count("msg-"), 1, "A's log:\n{}", relaxed.log_text());
    let stored = std::fs::read(sink.dir.path().join("msg-1")).expect("the stored message");
    assert_eq!(without_received(&stored), &body[..]);
    assert!(
        !strict.log_text().contains("delivered"),
        "{}",
        strict.log_text()
    );
}

#[test]
fn smtputf8_address_fails_for_good_where_not_offered() {
    let Some(python3) = aiosmtpd_python() else {
        return;
    };
    let sink = PlainSink::start(&python3);
    let a = start_a(sink.addr, &[], &[]);
    // Sent with SMTPUTF8; one UTF-8 address, one ASCII, an ASCII header.
    let body = message("utf8 rcpt");
    send_auth(&a, "SMTPUTF8", &["jürgen@b.test", "alice@b.test"], &body);
    let dsns = wait_messages(&a, "alice", 1, Duration::from_secs(30));
    assert_eq!(dsns.len(), 1, "A's log:\n{}", a.log_text());
    let dsn = Dsn::parse(&dsns[0]);
    dsn.assert_report("alice@a.test");
    let rcpts = dsn.recipients();
    assert_eq!(rcpts.len(), 1, "only the UTF-8 address fails: {rcpts:?}");
    // RFC 6533: the utf-8 address type, the non-ASCII letter as \x{FC} in
    // message/delivery-status.
    assert_eq!(typed(rcpts[0][0]), "utf-8;j\\x{fc}rgen@b.test", "{rcpts:?}");
    assert_eq!(rcpts[0][1].to_ascii_lowercase(), "failed");
    assert_eq!(rcpts[0][2], "5.6.7", "RFC 6531: {rcpts:?}");
    // The ASCII recipient goes, without SMTPUTF8 (the sink does not offer it): the
    // header and the addresses sent are ASCII.
    let start = Instant::now();
    while sink.count("msg-") < 1 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(sink.count("msg-"), 1, "A's log:\n{}", a.log_text());
    assert_eq!(
        sink.count("rcpt-"),
        1,
        "the UTF-8 address was offered to the sink"
    );
    assert!(sink.dir.path().join("rcpt-1-alice@b.test").exists());
    let stored = std::fs::read(sink.dir.path().join("msg-1")).expect("the stored message");
    assert_eq!(without_received(&stored), &body[..]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(a.new_messages("alice").len(), 1, "one DSN");
}

#[test]
fn notify_success_through_a_hop_without_dsn_gives_a_relayed_notice() {
    let Some(python3) = aiosmtpd_python() else {
        return;
    };
    let sink = PlainSink::start(&python3);
    let a = start_a(sink.addr, &[], &[]);
    let body = message("relayed notice");
    // The sink offers no DSN: A must not pass NOTIFY/ENVID on (aiosmtpd refuses unknown
    // parameters), and tells the sender that its duty ends there (RFC 3461 5.2.2).
    send_auth(
        &a,
        "ENVID=env-relayed",
        &["alice@b.test|NOTIFY=SUCCESS,FAILURE"],
        &body,
    );
    let start = Instant::now();
    while sink.count("msg-") < 1 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(sink.count("msg-"), 1, "A's log:\n{}", a.log_text());
    let stored = std::fs::read(sink.dir.path().join("msg-1")).expect("the stored message");
    assert_eq!(without_received(&stored), &body[..]);
    let dsns = wait_messages(&a, "alice", 1, Duration::from_secs(30));
    assert_eq!(dsns.len(), 1, "A's log:\n{}", a.log_text());
    let dsn = Dsn::parse(&dsns[0]);
    dsn.assert_report("alice@a.test");
    assert_eq!(dsn.get("msg-original-envelope-id"), "env-relayed");
    let rcpts = dsn.recipients();
    assert_eq!(rcpts.len(), 1, "{rcpts:?}");
    assert_eq!(typed(rcpts[0][0]), "rfc822;alice@b.test");
    assert_eq!(rcpts[0][1].to_ascii_lowercase(), "relayed");
    assert!(rcpts[0][2].starts_with("2."), "{rcpts:?}");
    // Without NOTIFY=SUCCESS: no notice.
    send_auth(&a, "", &["bob@b.test"], &message("no notice"));
    let start = Instant::now();
    while sink.count("msg-") < 2 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(sink.count("msg-"), 2);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(a.new_messages("alice").len(), 1);
}
