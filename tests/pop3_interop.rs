//! The example `mail-server`'s POP3 side driven by real POP3 clients: Python's poplib,
//! curl, fetchmail and getmail6. Mail is delivered by SMTP first; every test compares the
//! bytes the client fetched with what was delivered. The `pop3-fetch` example is checked
//! against the mail-server and against Dovecot's pop3d.

mod support;

// The private Dovecot of mailwire-maildir's tests, shared rather than copied.
#[path = "../crates/mailwire-maildir/tests/support/dovecot.rs"]
mod dovecot;
#[path = "../crates/mailwire-maildir/tests/support/tempdir.rs"]
mod tempdir;

use std::path::Path;
use std::process::Command;

use support::{MailServer, RawSmtp, TempDir, have_program, lf, python, without_received};

/// A message whose body has lines starting with `.` (dot-stuffed on both protocols).
const DOTS: &[u8] = b"From: a@x.org\r\nTo: alice@example.test\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n";
/// A plain second message.
const PLAIN: &[u8] =
    b"From: b@x.org\r\nTo: alice@example.test\r\nSubject: second\r\n\r\nline one\r\nline two\r\n";

/// Delivers `message` to `user@example.test` over a raw SMTP exchange (dot-stuffed here).
fn deliver(server: &MailServer, user: &str, message: &[u8]) {
    let mut smtp = RawSmtp::connect(server.smtp);
    assert!(smtp.reply().starts_with("220"));
    smtp.send(b"EHLO client.example\r\n");
    assert!(smtp.reply().starts_with("250"));
    smtp.send(b"MAIL FROM:<a@x.org>\r\n");
    assert!(smtp.reply().starts_with("250"));
    smtp.send(format!("RCPT TO:<{user}@example.test>\r\n").as_bytes());
    assert!(smtp.reply().starts_with("250"));
    smtp.send(b"DATA\r\n");
    assert!(smtp.reply().starts_with("354"));
    let mut stuffed = Vec::new();
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b".") {
            stuffed.push(b'.');
        }
        stuffed.extend_from_slice(line);
    }
    stuffed.extend_from_slice(b".\r\n");
    smtp.send(&stuffed);
    let reply = smtp.reply();
    assert!(reply.starts_with("250"), "{reply}");
    smtp.send(b"QUIT\r\n");
    let _ = smtp.reply();
}

/// Delivers [`DOTS`] then [`PLAIN`] to alice and returns the stored files in delivery
/// order (each is what POP3 must send: the server's `Received:` header plus the message).
fn deliver_two(server: &MailServer) -> Vec<Vec<u8>> {
    deliver(server, "alice", DOTS);
    deliver(server, "alice", PLAIN);
    let stored = server.wait_for_messages("alice", 2);
    assert_eq!(stored.len(), 2, "{}", server.log_text());
    let mut ordered = Vec::new();
    for sent in [DOTS, PLAIN] {
        let found = stored
            .iter()
            .find(|m| without_received(m) == sent)
            .expect("the delivered message is stored unchanged");
        ordered.push(found.clone());
    }
    ordered
}

/// Decodes the `KEY hex` lines a script printed for `key`, in order.
fn hex_values(out: &str, key: &str) -> Vec<Vec<u8>> {
    out.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .map(|hex| {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect()
        })
        .collect()
}

/// The text of the `KEY ...` line a script printed.
fn value<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {key} line in:\n{out}"))
}

/// The files in `dir`, sorted by name.
fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// Common Python helpers: poplib returns lines without endings and with dots unstuffed;
/// `whole` rebuilds the message as sent (CRLF after every line).
const PY_PRELUDE: &str = r#"
import poplib, ssl, sys, socket
port = int(sys.argv[1])
def whole(lines):
    return b"".join(l + b"\r\n" for l in lines)
def show(key, data):
    print(key, data.hex())
ctx = ssl._create_unverified_context()
"#;

#[test]
fn poplib_user_pass_list_uidl_retr_top_dele_quit() {
    if !have_program("python3") {
        return;
    }
    let server = MailServer::start(&[]);
    let stored = deliver_two(&server);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
p = poplib.POP3("127.0.0.1", port)
assert p.getwelcome().startswith(b"+OK"), p.getwelcome()
p.user("alice")
p.pass_("secret")
count, size = p.stat()
print("STAT", count, size)
resp, listing, _ = p.list()
print("LIST", b" ".join(listing).decode())
resp, uids, _ = p.uidl()
print("UIDL", b" ".join(uids).decode())
for n in (1, 2):
    resp, lines, octets = p.retr(n)
    assert resp.startswith(b"+OK"), resp
    show("RETR", whole(lines))
resp, lines, _ = p.top(1, 0)
show("TOP0", whole(lines))
resp, lines, _ = p.top(1, 2)
show("TOP2", whole(lines))
p.dele(1)
try:
    p.retr(1)
    raise SystemExit("a deleted message was retrieved")
except poplib.error_proto as e:
    assert str(e).startswith("b'-ERR"), e
print("QUIT", p.quit().decode())
q = poplib.POP3("127.0.0.1", port)
q.user("alice")
q.pass_("secret")
print("AFTER", q.stat()[0])
resp, uids, _ = q.uidl()
print("UIDL2", b" ".join(uids).decode())
q.quit()
"#
    );
    let out = python(&script, &[&server.pop3.port().to_string()]);
    let total: usize = stored.iter().map(Vec::len).sum();
    assert_eq!(value(&out, "STAT"), format!("2 {total}"));
    assert_eq!(
        value(&out, "LIST"),
        format!("1 {} 2 {}", stored[0].len(), stored[1].len())
    );
    // RETR gives exactly the stored bytes (dot lines unstuffed by poplib).
    assert_eq!(hex_values(&out, "RETR"), stored);
    // TOP 1 0: the header and the blank line; TOP 1 2: two body lines more.
    let header_end = stored[0]
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header")
        + 4;
    assert_eq!(
        hex_values(&out, "TOP0"),
        vec![stored[0][..header_end].to_vec()]
    );
    let mut top2 = stored[0][..header_end].to_vec();
    top2.extend_from_slice(b".leading dot\r\n..two dots\r\n");
    assert_eq!(hex_values(&out, "TOP2"), vec![top2]);
    // UIDL: the second message keeps its id in the next session.
    let uids: Vec<&str> = value(&out, "UIDL").split(' ').collect();
    assert_eq!(uids.len(), 4, "{out}");
    assert_ne!(uids[1], uids[3]);
    assert_eq!(value(&out, "UIDL2"), format!("1 {}", uids[3]));
    assert!(value(&out, "QUIT").starts_with("+OK"));
    assert_eq!(value(&out, "AFTER"), "1");
    // On disk: message 1 is gone; message 2 was read, so it moved to cur/.
    let maildir = server.maildir("alice");
    assert_eq!(files_in(&maildir.join("new")), 0);
    let cur = support::messages_in(&maildir.join("cur"));
    assert_eq!(cur, vec![stored[1].clone()]);
}

#[test]
fn poplib_apop_stls_and_pop3s() {
    if !have_program("python3") {
        return;
    }
    let server = MailServer::start(&[]);
    let stored = deliver_two(&server);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
pop3s = int(sys.argv[2])
p = poplib.POP3("127.0.0.1", port)
p.apop("alice", "secret")
show("APOP", whole(p.retr(1)[1]))
p.quit()
try:
    p = poplib.POP3("127.0.0.1", port)
    p.apop("alice", "wrong")
    raise SystemExit("a wrong APOP digest was accepted")
except poplib.error_proto as e:
    assert "[AUTH]" in str(e), e
p.close()
p = poplib.POP3("127.0.0.1", port)
p.stls(context=ctx)
assert isinstance(p.sock, ssl.SSLSocket)
p.user("alice")
p.pass_("secret")
show("STLS", whole(p.retr(2)[1]))
p.quit()
p = poplib.POP3_SSL("127.0.0.1", pop3s, context=ctx)
p.user("alice")
p.pass_("secret")
show("POP3S", whole(p.retr(1)[1]))
p.quit()
"#
    );
    let out = python(
        &script,
        &[
            &server.pop3.port().to_string(),
            &server.pop3s.port().to_string(),
        ],
    );
    assert_eq!(hex_values(&out, "APOP"), vec![stored[0].clone()]);
    assert_eq!(hex_values(&out, "STLS"), vec![stored[1].clone()]);
    assert_eq!(hex_values(&out, "POP3S"), vec![stored[0].clone()]);
}

#[test]
fn poplib_dele_then_dropped_connection_keeps_and_in_use() {
    if !have_program("python3") {
        return;
    }
    let server = MailServer::start(&[]);
    let stored = deliver_two(&server);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
import time
p = poplib.POP3("127.0.0.1", port)
p.user("alice")
p.pass_("secret")
p.dele(1)
p.dele(2)
# A second session while the first holds the maildrop.
q = poplib.POP3("127.0.0.1", port)
q.user("alice")
try:
    q.pass_("secret")
    raise SystemExit("a second session opened a locked maildrop")
except poplib.error_proto as e:
    print("INUSE", e.args[0].decode())
q.quit()
# bob's maildrop is not locked by alice's session.
b = poplib.POP3("127.0.0.1", port)
b.user("bob")
b.pass_("secret")
print("BOB", b.stat()[0])
b.quit()
# Drop alice's connection without QUIT: the deletions must not happen.
p.sock.close()
p.file.close()
for attempt in range(100):
    q = poplib.POP3("127.0.0.1", port)
    q.user("alice")
    try:
        q.pass_("secret")
        break
    except poplib.error_proto as e:
        # The server may not have seen the close yet.
        assert "[IN-USE]" in str(e), e
        q.quit()
        time.sleep(0.05)
print("KEPT", q.stat()[0])
show("RETR", whole(q.retr(1)[1]))
q.quit()
"#
    );
    let out = python(&script, &[&server.pop3.port().to_string()]);
    assert!(value(&out, "INUSE").starts_with("-ERR [IN-USE]"), "{out}");
    assert_eq!(value(&out, "BOB"), "0");
    assert_eq!(value(&out, "KEPT"), "2");
    assert_eq!(hex_values(&out, "RETR"), vec![stored[0].clone()]);
    // Both files are still there (the first one read, so in cur/).
    let maildir = server.maildir("alice");
    assert_eq!(
        files_in(&maildir.join("new")) + files_in(&maildir.join("cur")),
        2
    );
    assert_eq!(
        support::messages_in(&maildir.join("cur")),
        vec![stored[0].clone()]
    );
}

#[test]
fn poplib_wrong_password_is_refused() {
    if !have_program("python3") {
        return;
    }
    let server = MailServer::start(&[]);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
p = poplib.POP3("127.0.0.1", port)
p.user("alice")
try:
    p.pass_("wrong")
    raise SystemExit("a wrong password was accepted")
except poplib.error_proto as e:
    print("REFUSED", e.args[0].decode())
p.user("nobody")
try:
    p.pass_("secret")
    raise SystemExit("an unknown user was accepted")
except poplib.error_proto as e:
    print("UNKNOWN", e.args[0].decode())
p.quit()
"#
    );
    let out = python(&script, &[&server.pop3.port().to_string()]);
    assert!(value(&out, "REFUSED").starts_with("-ERR [AUTH]"), "{out}");
    assert!(value(&out, "UNKNOWN").starts_with("-ERR [AUTH]"), "{out}");
}

#[test]
fn curl_list_retr_top() {
    if !have_program("curl") {
        return;
    }
    let server = MailServer::start(&[]);
    let stored = deliver_two(&server);
    let base = format!("pop3://alice:secret@127.0.0.1:{}/", server.pop3.port());
    let curl = |args: &[&str]| -> Vec<u8> {
        let output = Command::new("curl")
            .args(["-s", "-S", "--max-time", "20"])
            .args(args)
            .output()
            .expect("run curl");
        assert!(
            output.status.success(),
            "curl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    let list = String::from_utf8(curl(&[&base])).unwrap();
    assert_eq!(
        list,
        format!("1 {}\r\n2 {}\r\n", stored[0].len(), stored[1].len())
    );
    // curl undoes the dot-stuffing: the stored bytes exactly.
    assert_eq!(curl(&[&format!("{base}1")]), stored[0]);
    assert_eq!(curl(&[&format!("{base}2")]), stored[1]);
    let top = curl(&["-X", "TOP 1 0", &base]);
    let header_end = stored[0].windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(top, &stored[0][..header_end]);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn fetchmail_uidl_keep() {
    if !have_program("fetchmail") {
        return;
    }
    let server = MailServer::start(&[]);
    let stored = deliver_two(&server);
    let home = TempDir::new("fetchmail");
    let mbox = home.path().join("mbox");
    let rc = home.path().join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no syslog\npoll 127.0.0.1 port {} protocol pop3 uidl user \"alice\" password \"secret\" mda \"cat >> {}\" keep sslproto '' \n",
            server.pop3.port(),
            mbox.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = || {
        Command::new("fetchmail")
            .arg("-f")
            .arg(&rc)
            .args(["--fetchall", "-v", "--nodetach"])
            .env("HOME", home.path())
            .env("FETCHMAILHOME", home.path())
            .output()
            .expect("run fetchmail")
    };
    let output = run();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "fetchmail failed:\n{log}");
    let got = std::fs::read(&mbox).expect("fetchmail delivered");
    let got = lf(&got);
    for message in &stored {
        assert!(
            contains(&got, &lf(message)),
            "{}\n---\n{log}",
            String::from_utf8_lossy(&got)
        );
    }
    // keep: nothing was deleted on the server.
    let maildir = server.maildir("alice");
    assert_eq!(
        files_in(&maildir.join("new")) + files_in(&maildir.join("cur")),
        2
    );
}

#[test]
fn getmail6_into_a_maildir() {
    if !have_program("getmail") {
        return;
    }
    let server = MailServer::start(&[]);
    let stored = deliver_two(&server);
    let dir = TempDir::new("getmail");
    let dest = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dest.join(sub)).unwrap();
    }
    // getmail refuses to deliver as root: then it delivers as nobody, who owns the Maildir.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let user_line = if root {
        let status = Command::new("chown")
            .args(["-R", "nobody"])
            .arg(&dest)
            .status()
            .expect("run chown");
        assert!(status.success());
        "user = nobody\n"
    } else {
        ""
    };
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let rc = dir.path().join("getmailrc");
    std::fs::write(
        &rc,
        format!(
            "[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\nport = {}\nusername = alice\npassword = secret\n\n[destination]\ntype = Maildir\npath = {}/\n{user_line}\n[options]\nread_all = true\ndelete = false\n",
            server.pop3.port(),
            dest.display()
        ),
    )
    .unwrap();
    let output = Command::new("getmail")
        .arg(format!("--rcfile={}", rc.display()))
        .arg(format!("--getmaildir={}", state.display()))
        .output()
        .expect("run getmail");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "getmail failed:\n{log}");
    let got = support::messages_in(&dest.join("new"));
    assert_eq!(got.len(), 2, "{log}");
    for message in &stored {
        assert!(
            got.iter()
                .any(|g| contains(&lf(g), &lf(without_received(message)))),
            "{got:?}\n{log}"
        );
    }
}

/// Runs the `pop3-fetch` example; returns (success, stderr).
fn pop3_fetch(args: &[&str]) -> (bool, String) {
    let output = Command::new(support::example_bin("pop3-fetch"))
        .args(args)
        .output()
        .expect("run pop3-fetch");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The message files of a local Maildir (new/ and cur/), sorted.
fn local_messages(dir: &Path) -> Vec<Vec<u8>> {
    let mut all = support::messages_in(&dir.join("new"));
    all.extend(support::messages_in(&dir.join("cur")));
    all.sort();
    all
}

#[test]
fn pop3_fetch_from_the_mail_server_stls_tls_and_refusal() {
    let server = MailServer::start(&[]);
    let mut stored = deliver_two(&server);
    stored.sort();
    let out = TempDir::new("fetch-out");
    let dir = out.path().join("Maildir");
    let dir_arg = dir.display().to_string();
    let pop3 = server.pop3.to_string();
    let pop3s = server.pop3s.to_string();
    let login = ["--user", "alice", "--password", "secret", "--out"];

    let mut args = vec!["--server", &pop3, "--stls", "--insecure"];
    args.extend(login);
    args.push(&dir_arg);
    let (ok, log) = pop3_fetch(&args);
    assert!(ok, "{log}");
    assert!(log.contains("2 new message(s) fetched"), "{log}");
    assert_eq!(local_messages(&dir), stored);
    // Over TLS the strongest mechanism offered is used.
    assert!(log.contains("logged in with AUTH "), "{log}");
    let seen = std::fs::read_to_string(dir.join(".pop3-fetch-uidl")).unwrap();
    assert_eq!(seen.lines().count(), 2);

    // Implicit TLS, same Maildir: nothing new.
    let mut args = vec!["--server", &pop3s, "--tls", "--insecure"];
    args.extend(login);
    args.push(&dir_arg);
    let (ok, log) = pop3_fetch(&args);
    assert!(ok, "{log}");
    assert!(log.contains("0 new message(s) fetched"), "{log}");
    assert_eq!(local_messages(&dir), stored);

    // APOP on the plaintext port, into another Maildir, with --delete.
    let other = out.path().join("Other");
    let other_arg = other.display().to_string();
    let mut args = vec!["--server", &pop3, "--apop", "--delete"];
    args.extend(login);
    args.push(&other_arg);
    let (ok, log) = pop3_fetch(&args);
    assert!(ok, "{log}");
    assert!(log.contains("2 new message(s) fetched, 2 deleted"), "{log}");
    // The password itself never crossed the plaintext connection.
    assert!(
        log.contains("logged in with APOP") || log.contains("logged in with AUTH CRAM-MD5"),
        "{log}"
    );
    assert_eq!(local_messages(&other), stored);
    let maildir = server.maildir("alice");
    assert_eq!(
        files_in(&maildir.join("new")) + files_in(&maildir.join("cur")),
        0
    );

    // A wrong password: non-zero, with the server's words.
    let (ok, log) = pop3_fetch(&[
        "--server",
        &pop3,
        "--user",
        "alice",
        "--password",
        "wrong",
        "--out",
        &dir_arg,
    ]);
    assert!(!ok);
    assert!(log.contains("-ERR [AUTH]"), "{log}");
}

#[test]
fn pop3_fetch_from_dovecot() {
    if !dovecot::pop3_available() {
        return;
    }
    let mut dovecot = dovecot::Dovecot::new(&[("alice", "secret")]);
    let inbox = mailwire_maildir::Maildir::open(dovecot.mail_dir().join("alice")).unwrap();
    let lf_message: &[u8] = b"From: c@x.org\nSubject: lf\n\n.dot\nbody\n";
    for message in [DOTS, PLAIN, lf_message] {
        inbox.deliver(message).unwrap();
    }
    dovecot.start();
    // What POP3 sends: every line ending as CRLF.
    let mut expected: Vec<Vec<u8>> = vec![
        DOTS.to_vec(),
        PLAIN.to_vec(),
        b"From: c@x.org\r\nSubject: lf\r\n\r\n.dot\r\nbody\r\n".to_vec(),
    ];
    expected.sort();

    let out = TempDir::new("fetch-dovecot");
    let dir = out.path().join("Maildir");
    let dir_arg = dir.display().to_string();
    let server = dovecot.pop3_addr().to_string();
    let args = [
        "--server",
        &server,
        "--user",
        "alice",
        "--password",
        "secret",
        "--out",
        &dir_arg,
    ];
    let (ok, log) = pop3_fetch(&args);
    assert!(ok, "{log}\n{}", dovecot.log());
    assert!(log.contains("3 new message(s) fetched"), "{log}");
    assert_eq!(local_messages(&dir), expected);

    // Again: nothing new, nothing changed.
    let (ok, log) = pop3_fetch(&args);
    assert!(ok, "{log}");
    assert!(log.contains("0 new message(s) fetched, 0 deleted"), "{log}");
    assert_eq!(local_messages(&dir), expected);

    // One more message, then --delete: it is fetched, and all four go from the server.
    let fourth: &[u8] = b"Subject: fourth\r\n\r\nfour\r\n";
    inbox.deliver(fourth).unwrap();
    dovecot.give_mail_to_nobody();
    let mut with_delete = args.to_vec();
    with_delete.push("--delete");
    let (ok, log) = pop3_fetch(&with_delete);
    assert!(ok, "{log}\n{}", dovecot.log());
    assert!(log.contains("1 new message(s) fetched, 4 deleted"), "{log}");
    expected.push(fourth.to_vec());
    expected.sort();
    assert_eq!(local_messages(&dir), expected);
    let remote = dovecot.mail_dir().join("alice");
    assert_eq!(
        files_in(&remote.join("new")) + files_in(&remote.join("cur")),
        0,
        "{}",
        dovecot.log()
    );
    let (ok, log) = pop3_fetch(&args);
    assert!(ok, "{log}");
    assert!(log.contains("0 new message(s) fetched, 0 deleted"), "{log}");
}

#[test]
fn poplib_lf_files_and_long_unique_names() {
    if !have_program("python3") {
        return;
    }
    let server = MailServer::start(&[]);
    // Files put there by another program: LF line endings, no size in the name, and a
    // unique name longer than a POP3 unique-id may be.
    let maildir = server.maildir("alice");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::write(
        maildir.join("new").join("1700000000.lf.host"),
        b"Subject: lf\n\n.dot\nbare CR\rhere\nlast line without end",
    )
    .unwrap();
    let long = format!("1700000001.{}.host", "x".repeat(100));
    std::fs::write(
        maildir.join("new").join(&long),
        b"Subject: long\r\n\r\nhi\r\n",
    )
    .unwrap();
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
for session in (1, 2):
    p = poplib.POP3("127.0.0.1", port)
    p.user("alice")
    p.pass_("secret")
    print("LIST%d" % session, b" ".join(p.list()[1]).decode())
    print("UIDL%d" % session, b" ".join(p.uidl()[1]).decode())
    resp, lines, octets = p.retr(1)
    print("OCTETS", resp.decode())
    show("RETR", whole(lines))
    p.quit()
"#
    );
    let out = python(&script, &[&server.pop3.port().to_string()]);
    let crlf: &[u8] = b"Subject: lf\r\n\r\n.dot\r\nbare CR\r\nhere\r\nlast line without end\r\n";
    // LIST gives the size as sent (CRLF everywhere), and RETR sends exactly that.
    assert_eq!(
        value(&out, "LIST1"),
        format!(
            "1 {} 2 {}",
            crlf.len(),
            b"Subject: long\r\n\r\nhi\r\n".len()
        )
    );
    assert_eq!(value(&out, "LIST1"), value(&out, "LIST2"));
    assert_eq!(hex_values(&out, "RETR"), vec![crlf.to_vec(), crlf.to_vec()]);
    assert!(value(&out, "OCTETS").starts_with(&format!("+OK {} octets", crlf.len())));
    // Unique-ids: the short name itself; the long one hashed to at most 70 characters,
    // the same in both sessions.
    let uids: Vec<&str> = value(&out, "UIDL1").split(' ').collect();
    assert_eq!(uids.len(), 4);
    assert_eq!(uids[1], "1700000000.lf.host");
    assert!(uids[3].len() <= 70 && uids[3] != long, "{}", uids[3]);
    assert_eq!(value(&out, "UIDL1"), value(&out, "UIDL2"));
}

#[test]
fn poplib_capa_and_sasl_plain_login_cram_md5() {
    if !have_program("python3") {
        return;
    }
    let server = MailServer::start(&[]);
    let stored = deliver_two(&server);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
import base64, hmac, hashlib
b64 = lambda s: base64.b64encode(s.encode()).decode()
p = poplib.POP3("127.0.0.1", port)
caps = p.capa()
print("CAPA", " ".join(sorted(k + ("=" + ",".join(v) if v else "") for k, v in caps.items())))
# A wrong password first.
try:
    p._shortcmd("AUTH PLAIN " + b64("\0alice\0wrong"))
    raise SystemExit("a wrong AUTH PLAIN was accepted")
except poplib.error_proto as e:
    print("BAD", e.args[0].decode())
print("PLAIN", p._shortcmd("AUTH PLAIN " + b64("\0alice\0secret")).decode())
show("RETR", whole(p.retr(1)[1]))
p.quit()
p = poplib.POP3("127.0.0.1", port)
resp = p._shortcmd("AUTH LOGIN")
assert resp.startswith(b"+ "), resp
resp = p._shortcmd(b64("alice"))
assert resp.startswith(b"+ "), resp
print("LOGIN", p._shortcmd(b64("secret")).decode())
p.quit()
p = poplib.POP3("127.0.0.1", port)
resp = p._shortcmd("AUTH CRAM-MD5")
challenge = base64.b64decode(resp[2:])
digest = hmac.new(b"secret", challenge, hashlib.md5).hexdigest()
print("CRAM", p._shortcmd(b64("alice " + digest)).decode())
show("RETR", whole(p.retr(2)[1]))
p.quit()
"#
    );
    let out = python(&script, &[&server.pop3.port().to_string()]);
    let capa = value(&out, "CAPA");
    for wanted in ["STLS", "USER", "UIDL", "TOP", "PIPELINING", "RESP-CODES"] {
        assert!(capa.split(' ').any(|c| c == wanted), "{capa}");
    }
    let sasl = capa
        .split(' ')
        .find_map(|c| c.strip_prefix("SASL="))
        .unwrap_or_else(|| panic!("no SASL in {capa}"));
    for mechanism in ["PLAIN", "LOGIN", "CRAM-MD5"] {
        assert!(sasl.split(',').any(|m| m == mechanism), "{capa}");
    }
    assert!(value(&out, "BAD").starts_with("-ERR [AUTH]"), "{out}");
    assert!(value(&out, "PLAIN").starts_with("+OK"), "{out}");
    assert!(value(&out, "LOGIN").starts_with("+OK"), "{out}");
    assert!(value(&out, "CRAM").starts_with("+OK"), "{out}");
    assert_eq!(hex_values(&out, "RETR"), stored);
}

#[test]
fn poplib_in_use_across_pop3_and_pop3s() {
    if !have_program("python3") {
        return;
    }
    let server = MailServer::start(&[]);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
pop3s = int(sys.argv[2])
p = poplib.POP3_SSL("127.0.0.1", pop3s, context=ctx)
p.user("alice")
p.pass_("secret")
q = poplib.POP3("127.0.0.1", port)
q.user("alice")
try:
    q.pass_("secret")
    raise SystemExit("the same maildrop was opened on both listeners")
except poplib.error_proto as e:
    print("INUSE", e.args[0].decode())
p.quit()
q.user("alice")
print("AFTER", q.pass_("secret").decode())
q.quit()
"#
    );
    let out = python(
        &script,
        &[
            &server.pop3.port().to_string(),
            &server.pop3s.port().to_string(),
        ],
    );
    assert!(value(&out, "INUSE").starts_with("-ERR [IN-USE]"), "{out}");
    assert!(value(&out, "AFTER").starts_with("+OK"), "{out}");
}

/// A `kB` field of `/proc/PID/status` (`VmHWM`, `VmRSS`), in KiB.
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

#[test]
fn poplib_retrieves_a_20_mib_message_without_the_server_holding_it() {
    if !have_program("python3") || !Path::new("/proc/self/status").is_file() {
        return;
    }
    let server = MailServer::start(&[]);
    let pid = server.child.id();
    // 20 MiB with CRLF line ends, some lines starting with a dot (stuffed on the wire).
    let mut message = b"From: a@x.org\r\nTo: alice@example.test\r\nSubject: big\r\n\r\n".to_vec();
    let mut n = 0u32;
    while message.len() < 20 * 1024 * 1024 {
        let dot = if n.is_multiple_of(7) { "." } else { "" };
        message.extend_from_slice(
            format!("{dot}line {n:08} of a large message, long enough to be a real line\r\n")
                .as_bytes(),
        );
        n += 1;
    }
    let maildir = server.maildir("alice");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::write(maildir.join("new").join("1700000000.big.host"), &message).unwrap();
    let out_dir = TempDir::new("big");
    let out_file = out_dir.path().join("retrieved");
    // A first session (LIST only) so that one-time allocations are in the baseline.
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
p = poplib.POP3("127.0.0.1", port)
p.user("alice")
p.pass_("secret")
print("LIST", b" ".join(p.list()[1]).decode())
if len(sys.argv) > 2:
    resp, lines, octets = p.retr(1)
    print("OCTETS", resp.decode())
    with open(sys.argv[2], "wb") as f:
        f.write(whole(lines))
p.quit()
"#
    );
    let port = server.pop3.port().to_string();
    let out = python(&script, &[&port]);
    assert_eq!(value(&out, "LIST"), format!("1 {}", message.len()));
    let before = proc_status_kib(pid, "VmHWM");
    let out = python(&script, &[&port, out_file.to_str().unwrap()]);
    let after = proc_status_kib(pid, "VmHWM");
    assert!(value(&out, "OCTETS").starts_with(&format!("+OK {} octets", message.len())));
    let retrieved = std::fs::read(&out_file).unwrap();
    assert!(retrieved == message, "the retrieved message differs");
    // The message is 20 MiB (21 MiB stuffed); the server's peak RSS grows by a window of
    // at most a few hundred KiB of output plus allocator slack.
    let growth = after.saturating_sub(before);
    eprintln!("mail-server VmHWM {before} KiB -> {after} KiB (+{growth} KiB) for a 20 MiB RETR");
    assert!(
        growth < 4 * 1024,
        "peak RSS grew by {growth} KiB retrieving a 20 MiB message ({before} -> {after} KiB)"
    );
}

#[test]
fn poplib_capa_expire_never_and_lang_english() {
    if !have_program("python3") {
        return;
    }
    let server = MailServer::start(&[]);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
p = poplib.POP3("127.0.0.1", port)
caps = p.capa()
print("EXPIRE", " ".join(caps.get("EXPIRE", ["absent"])))
print("LANGCAP", "LANG" in caps, "LOGIN-DELAY" in caps)
resp, lines, _ = p._longcmd("LANG")
print("LANGS", resp.decode(), "|", "|".join(l.decode() for l in lines))
print("EN", p._shortcmd("LANG en").decode())
try:
    p._shortcmd("LANG de")
    raise SystemExit("LANG de was accepted")
except poplib.error_proto as e:
    print("DE", e.args[0].decode())
p.user("alice")
p.pass_("secret")
print("STAR", p._shortcmd("LANG *").decode())
p.quit()
"#
    );
    let out = python(&script, &[&server.pop3.port().to_string()]);
    // The server never deletes on its own; no login delay is enforced.
    assert_eq!(value(&out, "EXPIRE"), "NEVER", "{out}");
    assert_eq!(value(&out, "LANGCAP"), "True False", "{out}");
    assert_eq!(
        value(&out, "LANGS"),
        "+OK Language listing follows | en English"
    );
    assert_eq!(value(&out, "EN"), "+OK en Language is English");
    assert!(value(&out, "DE").starts_with("-ERR"), "{out}");
    assert_eq!(value(&out, "STAR"), "+OK en Language is English");
}
