//! The example `mail-server` driven by real SMTP clients: Python's smtplib, swaks, curl,
//! msmtp and Postfix (relaying into us). Every test checks the bytes that reached the
//! Maildir, not only the reply codes.

#[path = "support/postfix.rs"]
mod postfix;
mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{MailServer, RawSmtp, have_program, python, without_received};

/// smtplib: plain, STARTTLS, AUTH PLAIN and LOGIN, SMTPUTF8, 8-bit body, several
/// recipients, and a refused recipient. The script prints each result; the test then
/// compares the Maildirs.
const SMTPLIB: &str = r#"
import smtplib, ssl, sys
port = int(sys.argv[1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
msg1 = b"From: a@x.org\r\nTo: alice@example.test\r\nSubject: plain\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n"
with smtplib.SMTP("127.0.0.1", port) as s:
    s.ehlo("client.example")
    assert s.has_extn("pipelining") and s.has_extn("starttls") and s.has_extn("smtputf8")
    refused = s.sendmail("a@x.org", ["alice@example.test", "bob@example.test"], msg1)
    assert refused == {}, refused
    try:
        s.sendmail("a@x.org", ["nobody@example.test"], msg1)
        raise SystemExit("nobody@ was accepted")
    except smtplib.SMTPRecipientsRefused as e:
        code, text = e.recipients["nobody@example.test"]
        assert code == 550 and b"5.1.1" in text, e.recipients
    try:
        s.sendmail("a@x.org", ["someone@elsewhere.example"], msg1)
        raise SystemExit("relay was accepted")
    except smtplib.SMTPRecipientsRefused as e:
        code, _ = e.recipients["someone@elsewhere.example"]
        assert code == 554, e.recipients
msg2 = "From: a@x.org\r\nTo: alice@example.test\r\nSubject: tls\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln — ✓\r\n".encode()
for mech in ["PLAIN", "LOGIN"]:
    with smtplib.SMTP("127.0.0.1", port) as s:
        s.starttls(context=ctx)
        s.ehlo("client.example")
        s.user, s.password = "alice", "secret"
        code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()))
        assert code == 235, code
        s.sendmail("a@x.org", ["alice@example.test"], msg2, mail_options=["BODY=8BITMIME"])
s = smtplib.SMTP("127.0.0.1", port)
s.ehlo("client.example")
try:
    s.login("alice", "wrong")
    raise SystemExit("a wrong password was accepted")
except smtplib.SMTPAuthenticationError as e:
    # smtplib tries every mechanism offered; the third failure ends the session.
    assert e.smtp_code in (535, 421), e
s.close()
msg3 = "From: ünïcode@x.org\r\nTo: alice@example.test\r\nSubject: utf8\r\n\r\nhello\r\n".encode()
with smtplib.SMTP("127.0.0.1", port) as s:
    s.sendmail("ünïcode@x.org", ["alice@example.test"], msg3, mail_options=["SMTPUTF8"])
print("ok")
"#;

#[test]
fn python_smtplib() {
    if !have_program("python3") {
        return;
    }
    let server = MailServer::start(&[]);
    let out = python(SMTPLIB, &[&server.smtp.port().to_string()]);
    assert_eq!(out.trim(), "ok");
    let alice = server.wait_for_messages("alice", 4);
    let bob = server.wait_for_messages("bob", 1);
    assert_eq!(alice.len(), 4, "{}", server.log_text());
    assert_eq!(bob.len(), 1);
    let bodies: Vec<&[u8]> = alice.iter().map(|m| without_received(m)).collect();
    let plain: &[u8] =
        b"From: a@x.org\r\nTo: alice@example.test\r\nSubject: plain\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n";
    assert!(bodies.contains(&plain), "{bodies:?}");
    assert_eq!(without_received(&bob[0]), plain);
    let eight_bit = "Grüße aus Köln — ✓\r\n".as_bytes();
    assert_eq!(bodies.iter().filter(|b| b.ends_with(eight_bit)).count(), 2);
    let utf8 = "From: ünïcode@x.org\r\n".as_bytes();
    assert_eq!(bodies.iter().filter(|b| b.starts_with(utf8)).count(), 1);
    // The trace header says how the message came.
    let protocols: Vec<String> = alice
        .iter()
        .map(|m| String::from_utf8_lossy(&m[..200.min(m.len())]).into_owned())
        .collect();
    assert_eq!(
        protocols
            .iter()
            .filter(|h| h.contains("with ESMTPSA"))
            .count(),
        2
    );
    // No leftovers in tmp/.
    let tmp = std::fs::read_dir(server.maildir("alice").join("tmp")).unwrap();
    assert_eq!(tmp.count(), 0);
}

#[test]
fn python_smtplib_20_mib_message_and_size_limit() {
    if !have_program("python3") {
        return;
    }
    let server = MailServer::start(&["--max-message-size", "25000000"]);
    let script = r#"
import smtplib, sys
port = int(sys.argv[1])
line = b"0123456789" * 7 + b"\r\n"
body = line * (20 * 1024 * 1024 // len(line))
msg = b"Subject: big\r\n\r\n" + body
with smtplib.SMTP("127.0.0.1", port) as s:
    s.sendmail("a@x.org", ["alice@example.test"], msg)
    try:
        s.sendmail("a@x.org", ["alice@example.test"], msg + body)
        raise SystemExit("an oversized message was accepted")
    except smtplib.SMTPDataError as e:
        assert e.smtp_code == 552, e
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 552, e
print(len(msg))
"#;
    let out = python(script, &[&server.smtp.port().to_string()]);
    let size: usize = out.trim().parse().unwrap();
    let alice = server.wait_for_messages("alice", 1);
    assert_eq!(alice.len(), 1);
    assert_eq!(without_received(&alice[0]).len(), size);
    assert!(without_received(&alice[0]).starts_with(b"Subject: big\r\n\r\n0123456789"));
}

#[test]
fn swaks_pipelining_tls_and_auth() {
    if !have_program("swaks") {
        return;
    }
    let server = MailServer::start(&[]);
    let port = server.smtp.port().to_string();
    let base = [
        "--server",
        &format!("127.0.0.1:{port}"),
        "--from",
        "s@x.org",
    ];
    let run = |extra: &[&str]| {
        let output = Command::new("swaks")
            .args(base)
            .args(extra)
            .output()
            .expect("run swaks");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, out) = run(&["--to", "alice@example.test", "--pipeline", "--body", "one"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("250 2.0.0 Ok: queued as"), "{out}");
    let (code, out) = run(&["--to", "alice@example.test", "-tls", "--body", "two"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(&[
        "--to",
        "bob@example.test",
        "-tls",
        "-a",
        "PLAIN",
        "-au",
        "bob",
        "-ap",
        "secret",
        "--body",
        "three",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(&[
        "--to",
        "bob@example.test",
        "-a",
        "CRAM-MD5",
        "-au",
        "bob",
        "-ap",
        "secret",
        "--body",
        "four",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(&[
        "--to",
        "bob@example.test",
        "-a",
        "PLAIN",
        "-au",
        "bob",
        "-ap",
        "nope",
    ]);
    assert_eq!(code, Some(28), "a wrong password is an AUTH failure: {out}");
    let (code, _) = run(&["--to", "nobody@example.test"]);
    assert_eq!(code, Some(24), "an unknown user is refused at RCPT");
    let alice = server.wait_for_messages("alice", 2);
    let bob = server.wait_for_messages("bob", 2);
    let body = |m: &Vec<u8>| {
        let text = String::from_utf8_lossy(without_received(m)).into_owned();
        text.split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let mut got: Vec<String> = alice.iter().chain(&bob).map(body).collect();
    got.sort();
    assert_eq!(got, ["four", "one", "three", "two"]);
}

#[test]
fn curl_smtp_upload() {
    if !have_program("curl") {
        return;
    }
    let server = MailServer::start(&[]);
    let eml = server.data.path().join("m.eml");
    let message: &[u8] =
        b"From: c@x.org\r\nTo: alice@example.test\r\nSubject: curl\r\n\r\nline one\r\n.dot line\r\n";
    std::fs::write(&eml, message).unwrap();
    for tls in [false, true] {
        let mut cmd = Command::new("curl");
        cmd.arg("-sS")
            .arg(format!("smtp://127.0.0.1:{}", server.smtp.port()))
            .args([
                "--mail-from",
                "c@x.org",
                "--mail-rcpt",
                "alice@example.test",
            ])
            .arg("--upload-file")
            .arg(&eml);
        if tls {
            cmd.args(["--ssl-reqd", "-k"]);
        }
        let out = cmd.output().expect("run curl");
        assert!(out.status.success(), "{out:?}");
    }
    let alice = server.wait_for_messages("alice", 2);
    assert_eq!(alice.len(), 2);
    for m in &alice {
        assert_eq!(without_received(m), message);
    }
}

#[test]
fn msmtp_with_starttls_and_auth() {
    if !have_program("msmtp") {
        return;
    }
    let server = MailServer::start(&[]);
    let message: &[u8] =
        b"From: m@x.org\r\nTo: bob@example.test\r\nSubject: msmtp\r\n\r\nhello from msmtp\r\n";
    let mut child = Command::new("msmtp")
        .args([
            "--host=127.0.0.1",
            &format!("--port={}", server.smtp.port()),
            "--from=m@x.org",
            "--tls=on",
            "--tls-starttls=on",
            "--tls-certcheck=off",
            "--auth=plain",
            "--user=bob",
            "--passwordeval=echo secret",
            "bob@example.test",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run msmtp");
    child.stdin.take().unwrap().write_all(message).unwrap();
    assert!(child.wait().unwrap().success());
    let bob = server.wait_for_messages("bob", 1);
    assert_eq!(bob.len(), 1);
    // msmtp adds Date: and Message-ID: in front of the message it was given.
    let stored = without_received(&bob[0]);
    assert!(
        stored.ends_with(message),
        "{}",
        String::from_utf8_lossy(stored)
    );
}

#[test]
fn smuggling_attempt_is_refused_and_nothing_is_stored() {
    let server = MailServer::start(&[]);
    let mut smtp = RawSmtp::connect(server.smtp);
    assert!(smtp.reply().starts_with("220 "));
    smtp.send(b"EHLO x\r\n");
    assert!(smtp.reply().starts_with("250-"));
    smtp.send(
        b"MAIL FROM:<a@x.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n\
Subject: one\r\n\r\nhi\n.\nMAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n\
Subject: smuggled\r\n\r\nevil\r\n.\r\nQUIT\r\n",
    );
    let replies: Vec<String> = (0..5).map(|_| smtp.reply()).collect();
    assert!(replies[0].starts_with("250"), "{replies:?}");
    assert!(replies[1].starts_with("250"), "{replies:?}");
    assert!(replies[2].starts_with("354"), "{replies:?}");
    assert!(replies[3].starts_with("554 5.6.0"), "{replies:?}");
    assert!(replies[4].starts_with("221"), "{replies:?}");
    assert_eq!(smtp.rest(), "", "the smuggled commands got replies");
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.new_messages("alice").is_empty());
    assert!(server.new_messages("bob").is_empty());
}

#[test]
fn slow_and_silent_clients_are_cut_off_and_others_served() {
    let server = MailServer::start(&["--command-timeout", "2s", "--data-timeout", "2s"]);
    // A client that says nothing.
    let mut silent = RawSmtp::connect(server.smtp);
    assert!(silent.reply().starts_with("220 "));
    // A slow drip: one byte per 300 ms never completes a command in time.
    let mut drip = RawSmtp::connect(server.smtp);
    assert!(drip.reply().starts_with("220 "));
    let dripper = std::thread::spawn(move || {
        for b in b"NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP\r\n" {
            if !drip.try_send(&[*b]) {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        drip.rest()
    });
    // A line that never ends.
    let mut endless = RawSmtp::connect(server.smtp);
    assert!(endless.reply().starts_with("220 "));
    endless.send(&vec![b'A'; 100_000]);
    // Others are still served meanwhile.
    let mut ok = RawSmtp::connect(server.smtp);
    assert!(ok.reply().starts_with("220 "));
    ok.send(b"NOOP\r\n");
    assert!(ok.reply().starts_with("250"));
    assert!(silent.rest().contains("421 4.4.2"));
    let endless_rest = endless.rest();
    assert!(endless_rest.contains("500 5.5.2"), "{endless_rest:?}");
    assert!(endless_rest.contains("421 4.4.2"), "{endless_rest:?}");
    let drip_rest = dripper.join().unwrap();
    assert!(drip_rest.contains("421 4.4.2"), "{drip_rest:?}");
}

#[test]
fn sigkill_under_load_never_loses_an_accepted_message() {
    if !have_program("python3") {
        return;
    }
    let mut server = MailServer::start(&[]);
    // Clients send as fast as they can and record each message that got 250.
    let script = r#"
import smtplib, sys, threading
port, out = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
accepted = []
def worker(n):
    i = 0
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
            while True:
                i += 1
                tag = "w%d-m%d" % (n, i)
                body = ("Subject: %s\r\n\r\n" % tag + ("x" * 70 + "\r\n") * 50 + tag + "\r\n").encode()
                s.sendmail("a@x.org", ["alice@example.test"], body)
                with lock:
                    accepted.append(tag)
                    with open(out, "a") as f:
                        f.write(tag + "\n")
    except Exception:
        pass
threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
"#;
    let accepted_file = server.data.path().join("accepted.txt");
    let mut load = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(server.smtp.port().to_string())
        .arg(&accepted_file)
        .spawn()
        .expect("start the load");
    // Let the load get going (however slow the machine), then kill mid-stream.
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&accepted_file)
        .map(|t| t.lines().count())
        .unwrap_or(0)
        < 40
        && start.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL: no chance to clean up.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    load.wait().unwrap();
    let accepted: Vec<String> = std::fs::read_to_string(&accepted_file)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(
        accepted.len() > 10,
        "the load barely ran: {}",
        accepted.len()
    );
    let stored = server.new_messages("alice");
    let mut tags = Vec::new();
    for m in &stored {
        let body = without_received(m);
        let text = String::from_utf8_lossy(body);
        let tag = text
            .strip_prefix("Subject: ")
            .and_then(|t| t.split("\r\n").next())
            .unwrap_or_default()
            .to_owned();
        // Whole: the body ends with its own tag line.
        assert!(
            text.ends_with(&format!("{tag}\r\n")),
            "a partial message in new/"
        );
        assert_eq!(body.len(), 13 + tag.len() + 72 * 50 + tag.len() + 2);
        tags.push(tag);
    }
    for tag in &accepted {
        assert!(tags.contains(tag), "{tag} got 250 but is not in new/");
    }
    // Nothing else: at most the messages in flight at the kill (one per client) may be
    // stored without their 250 having reached the client.
    assert!(
        tags.len() <= accepted.len() + 8,
        "{} stored, {} accepted",
        tags.len(),
        accepted.len()
    );
}

#[test]
fn postfix_relays_into_us() {
    if !have_program("postfix") {
        return;
    }
    // We serve relay.test; Postfix serves example.test and sends everything else to us.
    let server = MailServer::start_for("relay.test", &[]);
    let relayhost = format!("relayhost = [127.0.0.1]:{}\n", server.smtp.port());
    let postfix = postfix::Postfix::start_with(&["local"], &relayhost);
    let mut smtp = RawSmtp::connect(postfix.smtp);
    assert!(smtp.reply().starts_with("220"));
    smtp.send(b"EHLO client.example\r\n");
    assert!(smtp.reply().starts_with("250"));
    smtp.send(b"MAIL FROM:<p@x.org>\r\n");
    assert!(smtp.reply().starts_with("250"));
    smtp.send(b"RCPT TO:<alice@relay.test>\r\n");
    assert!(smtp.reply().starts_with("250"));
    smtp.send(b"DATA\r\n");
    assert!(smtp.reply().starts_with("354"));
    smtp.send(b"From: p@x.org\r\nTo: alice@relay.test\r\nSubject: via postfix\r\nMessage-ID: <pf1@x.org>\r\n\r\n..dot first\r\nrelayed body\r\n.\r\n");
    assert!(smtp.reply().starts_with("250"));
    smtp.send(b"QUIT\r\n");
    let alice = server.wait_for_messages("alice", 1);
    assert_eq!(alice.len(), 1, "postfix log:\n{}", postfix.log());
    let stored = without_received(&alice[0]);
    let text = String::from_utf8_lossy(stored);
    // Postfix adds its own Received: (stripped above with ours) and keeps the rest.
    // (and a Date:, since the message had none).
    assert!(
        stored.ends_with(b"\r\n\r\n.dot first\r\nrelayed body\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nSubject: via postfix\r\nMessage-ID: <pf1@x.org>\r\n"),
        "{text}"
    );
    assert!(text.starts_with("From: p@x.org\r\n"), "{text}");
    // Postfix reports the relay as sent to us.
    assert!(
        postfix.wait_for_log_line("status=sent").is_some(),
        "{}",
        postfix.log()
    );
}
