//! The `smtp-send` example against real servers on loopback: aiosmtpd (no PIPELINING, no
//! CHUNKING; recording every byte in both directions), Postfix (PIPELINING and CHUNKING:
//! BDAT), and the `mail-server` example (STARTTLS, implicit TLS, AUTH). Every test checks
//! the bytes that arrived, not only the exit status.
//!
//! Build the examples first: `cargo build --examples` (or `cargo test`, which builds them).

#[path = "support/postfix.rs"]
mod postfix;
mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailwire_mime::{Address, Mailbox, Message};
use postfix::Postfix;
use support::{
    MailServer, RawSmtp, TempDir, example_bin, free_port, have_program, lf, wait_for_port, which,
    without_received,
};

// ---------------------------------------------------------------------------------------
// Running smtp-send

/// What one run of smtp-send did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs smtp-send with the whitespace-separated words of `line`, then `extra` (for
/// arguments with spaces).
fn send(line: &str, extra: &[&str]) -> Run {
    let mut args: Vec<&str> = line.split_whitespace().collect();
    args.extend_from_slice(extra);
    smtp_send(&args)
}

/// Runs smtp-send with `args`; kills it (and fails) after 60 seconds.
fn smtp_send(args: &[&str]) -> Run {
    let mut child = Command::new(example_bin("smtp-send"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start smtp-send");
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for smtp-send") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("smtp-send {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    eprintln!("smtp-send {args:?}\n  -> {run:?}");
    run
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// Writes `bytes` into `dir/name` and returns the path as a string.
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a test file");
    path.display().to_string()
}

/// CRLF for every LF (the test messages have no CR of their own).
fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

/// A message with every kind of line that dot-stuffing must get right: a leading dot, two
/// dots, a lone dot (which would end DATA if not stuffed), a dot after a space, three
/// dots; and 8-bit text (sent with BODY=8BITMIME where offered).
const DOTS_MESSAGE: &str = "From: Sender <sender@example.org>\n\
To: bob@example.test\n\
Subject: dots and bytes\n\
Date: Mon, 23 Nov 2026 12:00:00 +0000\n\
Message-ID: <dots-1@example.org>\n\
MIME-Version: 1.0\n\
Content-Type: text/plain; charset=utf-8\n\
Content-Transfer-Encoding: 8bit\n\
\n\
.leading dot\n\
..two dots\n\
.\n\
\x20.\n\
...\n\
Gr\u{fc}\u{df}e aus K\u{f6}ln\n\
last line\n";

// ---------------------------------------------------------------------------------------
// aiosmtpd, recording

/// An aiosmtpd server (SMTP or LMTP) that logs every byte it receives and every reply it
/// sends, in order, per connection (`transcript`: `SEQ MONOTONIC_NS CONN C|S HEX`), and
/// keeps each message it takes as `msg-N.eml` (the content as received, dot-unstuffed)
/// with its envelope in `msg-N.env` (sender, then accepted recipients). Recipients whose
/// local part is `nobody` are refused at RCPT with 550; with LMTP, recipients whose local
/// part is `full` get 452 after the message. Mode `smtp` offers what aiosmtpd offers (no
/// PIPELINING, no CHUNKING), `pipelining` adds PIPELINING to it, `lmtp` speaks LMTP.
const RECORDER: &str = r#"
import os, sys, threading, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from aiosmtpd.lmtp import LMTP

port, out, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
log = open(os.path.join(out, "transcript"), "a")
lock = threading.Lock()
state = {"seq": 0, "conn": 0, "msg": 0}

def record(conn, direction, data):
    with lock:
        state["seq"] += 1
        log.write("%d %d %d %s %s\n" % (state["seq"], time.monotonic_ns(), conn, direction, data.hex()))
        log.flush()

Base = LMTP if mode == "lmtp" else SMTP

class Recording(Base):
    def connection_made(self, transport):
        if not hasattr(self, "conn_id"):
            with lock:
                state["conn"] += 1
                self.conn_id = state["conn"]
        super().connection_made(transport)

    def data_received(self, data):
        record(self.conn_id, "C", data)
        super().data_received(data)

    async def push(self, status):
        record(self.conn_id, "S", status.encode("utf-8") if isinstance(status, str) else status)
        await super().push(status)

class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if mode == "pipelining":
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Recipient ok"

    async def handle_DATA(self, server, session, envelope):
        with lock:
            state["msg"] += 1
            n = state["msg"]
        base = os.path.join(out, "msg-%d" % n)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".env", "w") as f:
            f.write("\n".join([envelope.mail_from] + envelope.rcpt_tos) + "\n")
        if mode == "lmtp":
            return "\r\n".join(
                ("452 4.2.2 <%s>: mailbox full" % r) if r.startswith("full@")
                else ("250 2.0.0 <%s>: stored as msg-%d" % (r, n))
                for r in envelope.rcpt_tos)
        return "250 2.0.0 Ok: stored as msg-%d" % n

class Recorder(Controller):
    def factory(self):
        return Recording(self.handler, **self.SMTP_kwargs)

controller = Recorder(Handler(), hostname="127.0.0.1", port=port, ready_timeout=30)
controller.start()
print("ready", flush=True)
threading.Event().wait()
"#;

/// A Python 3 that can import aiosmtpd (Debian's python3-aiosmtpd is for /usr/bin/python3,
/// which may not be the first python3 on PATH). `None`: skip the test (a failure under
/// `MAILWIRE_INTEROP`).
fn aiosmtpd_python() -> Option<PathBuf> {
    if !have_program("python3") {
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
    if std::env::var_os("MAILWIRE_INTEROP").is_some() {
        panic!(
            "no python3 can import aiosmtpd, and MAILWIRE_INTEROP is set: install python3-aiosmtpd"
        );
    }
    eprintln!("SKIPPED: python3-aiosmtpd is not installed");
    None
}

/// The recording aiosmtpd, killed on drop.
struct Recorder {
    child: Child,
    addr: SocketAddr,
    dir: TempDir,
}

impl Recorder {
    fn start(python: &Path, mode: &str) -> Recorder {
        let dir = TempDir::new("aiosmtpd");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = Command::new(python)
            .arg("-c")
            .arg(RECORDER)
            .arg(addr.port().to_string())
            .arg(dir.path())
            .arg(mode)
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(dir.path().join("stderr"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .expect("start aiosmtpd");
        let recorder = Recorder { child, addr, dir };
        wait_for_port(addr, Duration::from_secs(30));
        recorder
    }

    fn server(&self) -> String {
        self.addr.to_string()
    }

    /// Message number `n` (from 1) as the server stored it.
    fn message(&self, n: usize) -> Vec<u8> {
        std::fs::read(self.dir.path().join(format!("msg-{n}.eml")))
            .unwrap_or_else(|e| panic!("message {n} was not stored: {e}"))
    }

    /// The envelope of message `n`: the sender, then the accepted recipients.
    fn envelope(&self, n: usize) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join(format!("msg-{n}.env")))
            .unwrap_or_else(|e| panic!("message {n} was not stored: {e}"))
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn stored_count(&self) -> usize {
        (1..)
            .take_while(|n| self.dir.path().join(format!("msg-{n}.eml")).exists())
            .count()
    }

    /// Every connection's traffic, in order, by connection number.
    fn traffic(&self) -> BTreeMap<u32, Vec<(char, Vec<u8>)>> {
        let text = std::fs::read_to_string(self.dir.path().join("transcript")).unwrap_or_default();
        let mut connections: BTreeMap<u32, Vec<(char, Vec<u8>)>> = BTreeMap::new();
        for line in text.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let [_seq, _ns, conn, direction, hex] = fields[..] else {
                panic!("bad transcript line {line:?}");
            };
            let direction = if direction == "C" { 'C' } else { 'S' };
            connections
                .entry(conn.parse().expect("a connection number"))
                .or_default()
                .push((direction, unhex(hex)));
        }
        connections
    }

    /// The conversation of the one connection whose commands include `needle`.
    fn conversation_with(&self, needle: &str) -> Conversation {
        let mut found: Vec<Conversation> = self
            .traffic()
            .values()
            .map(|traffic| analyse(traffic))
            .filter(|c| c.commands.iter().any(|command| command.contains(needle)))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one connection sends {needle:?}: {found:#?}"
        );
        found.remove(0)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One client connection as the server saw it.
#[derive(Debug, Default)]
struct Conversation {
    /// The command lines, in order; the end of a DATA message shows as `<end of data>`.
    commands: Vec<String>,
    /// The most replies the client was ever owed at once (the greeting counts as owed
    /// from the start). A client that never pipelines keeps this at 1.
    max_outstanding: usize,
    /// Each DATA message as it crossed the wire (dot-stuffed, ending with `.` CRLF).
    wire_data: Vec<Vec<u8>>,
}

/// Replays a connection's traffic in the order the server saw it, counting how many
/// commands were received and not yet answered at each moment. Content after a `354`
/// runs to CRLF `.` CRLF; a `BDAT` chunk's octets are skipped.
fn analyse(traffic: &[(char, Vec<u8>)]) -> Conversation {
    let mut conversation = Conversation {
        max_outstanding: 1,
        ..Conversation::default()
    };
    let mut outstanding = 1usize;
    let mut pending: Vec<u8> = Vec::new();
    let mut in_data = false;
    let mut bdat_left = 0usize;
    for (direction, bytes) in traffic {
        if *direction == 'S' {
            // One push may hold several replies (LMTP after the message), each line
            // ending in CRLF on the wire (the last one's CRLF is added by push).
            for line in bytes.split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() < 3 || line.get(3) == Some(&b'-') {
                    continue;
                }
                outstanding = outstanding.saturating_sub(1);
                if line.starts_with(b"354") {
                    in_data = true;
                }
            }
            continue;
        }
        pending.extend_from_slice(bytes);
        loop {
            if bdat_left > 0 {
                let take = bdat_left.min(pending.len());
                pending.drain(..take);
                bdat_left -= take;
                if bdat_left > 0 {
                    break;
                }
            }
            if in_data {
                let end = if pending.starts_with(b".\r\n") {
                    Some(3)
                } else {
                    find(&pending, b"\r\n.\r\n").map(|at| at + 5)
                };
                let Some(end) = end else { break };
                conversation.wire_data.push(pending.drain(..end).collect());
                conversation.commands.push(String::from("<end of data>"));
                in_data = false;
            } else {
                let Some(at) = find(&pending, b"\r\n") else {
                    break;
                };
                let line: Vec<u8> = pending.drain(..at + 2).collect();
                let command = String::from_utf8_lossy(&line[..at]).into_owned();
                let words: Vec<&str> = command.split(' ').collect();
                if words[0].eq_ignore_ascii_case("BDAT") {
                    bdat_left = words.get(1).and_then(|n| n.parse().ok()).unwrap_or(0);
                }
                conversation.commands.push(command);
            }
            outstanding += 1;
            conversation.max_outstanding = conversation.max_outstanding.max(outstanding);
        }
    }
    conversation
}

/// The command verbs of a conversation, upper case.
fn verbs(conversation: &Conversation) -> Vec<String> {
    conversation
        .commands
        .iter()
        .map(|c| {
            if c.starts_with('<') {
                c.clone()
            } else {
                c.split([' ', ':'])
                    .next()
                    .unwrap_or_default()
                    .to_ascii_uppercase()
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// aiosmtpd tests

#[test]
fn aiosmtpd_never_sees_pipelined_commands_and_stores_exact_bytes() {
    let Some(python) = aiosmtpd_python() else {
        return;
    };
    let server = Recorder::start(&python, "smtp");
    let files = TempDir::new("smtp-send-files");

    // 1. An .eml with CRLF line ends, sent as it is.
    let eml = crlf(DOTS_MESSAGE);
    let eml_path = write_file(files.path(), "dots.eml", &eml);
    let run = send(
        &format!(
            "--server {} --from first@example.org --to bob@example.test --eml {}",
            server.server(),
            eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("250 2.0.0 Ok: stored as msg-1"),
        "{run:?}"
    );
    assert_eq!(server.message(1), eml, "the content arrived byte for byte");
    assert_eq!(
        server.envelope(1),
        ["first@example.org", "bob@example.test"]
    );

    let conversation = server.conversation_with("first@example.org");
    assert_eq!(
        conversation.max_outstanding, 1,
        "a server without PIPELINING saw pipelined commands: {conversation:#?}"
    );
    assert_eq!(
        verbs(&conversation),
        ["EHLO", "MAIL", "RCPT", "DATA", "<end of data>", "QUIT"],
        "{conversation:#?}"
    );
    // SIZE is offered (aiosmtpd's default limit), 8BITMIME too: the 8-bit body says so.
    let mail = &conversation.commands[1];
    assert_eq!(
        mail,
        &format!(
            "MAIL FROM:<first@example.org> SIZE={} BODY=8BITMIME",
            eml.len()
        )
    );
    // On the wire, every line starting with a dot got one more.
    let wire = &conversation.wire_data[0];
    assert!(
        find(
            wire,
            b"\r\n..leading dot\r\n...two dots\r\n..\r\n .\r\n....\r\n"
        )
        .is_some(),
        "{:?}",
        String::from_utf8_lossy(wire)
    );
    assert!(wire.ends_with(b"last line\r\n.\r\n"));

    // 2. The same message with LF line ends: CRLF on the wire, nothing else changed.
    let lf_path = write_file(files.path(), "dots-lf.eml", DOTS_MESSAGE.as_bytes());
    let run = send(
        &format!(
            "--server {} --from second@example.org --to bob@example.test --eml {}",
            server.server(),
            lf_path
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        server.message(2),
        eml,
        "LF became CRLF, nothing else changed"
    );
    assert_eq!(
        server
            .conversation_with("second@example.org")
            .max_outstanding,
        1
    );

    // 3. A message built by smtp-send, with two recipients and an attachment.
    let saved = files.path().join("sent.eml");
    let attachment = write_file(files.path(), "table.csv", b"a,b\n1,2\n.\n");
    let run = send(
        &format!(
            "--server {} --to bob@example.test --to carol@example.test --attach {} --save {}",
            server.server(),
            attachment,
            saved.to_str().unwrap()
        ),
        &[
            "--from",
            "Third Sender <third@example.org>",
            "--subject",
            "Built here",
            "--text",
            ".first line\n.\nlast\n",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let sent = std::fs::read(&saved).expect("--save wrote the message");
    assert_eq!(
        server.message(3),
        sent,
        "the built message arrived byte for byte"
    );
    assert_eq!(
        server.envelope(3),
        [
            "third@example.org",
            "bob@example.test",
            "carol@example.test"
        ]
    );
    let conversation = server.conversation_with("third@example.org");
    assert_eq!(conversation.max_outstanding, 1, "{conversation:#?}");
    assert_eq!(
        verbs(&conversation),
        [
            "EHLO",
            "MAIL",
            "RCPT",
            "RCPT",
            "DATA",
            "<end of data>",
            "QUIT"
        ]
    );
    let message = Message::parse(&sent[..]).expect("the built message parses");
    let root = message.root();
    assert_eq!(root.header("Subject").unwrap().text(), "Built here");
    let text = root.children().next().expect("a text part");
    assert_eq!(&text.decoded_body()[..], b".first line\r\n.\r\nlast\r\n");
    let csv = root.children().nth(1).expect("the attachment");
    assert_eq!((csv.media_type(), csv.media_subtype()), ("text", "csv"));
    assert_eq!(&csv.decoded_body()[..], b"a,b\n1,2\n.\n");
    assert_eq!(server.stored_count(), 3);
}

/// The check above can fail: a client that pipelines is caught by the same analysis.
#[test]
fn the_pipelining_check_catches_a_pipelining_client() {
    let Some(python) = aiosmtpd_python() else {
        return;
    };
    let server = Recorder::start(&python, "smtp");
    let mut raw = RawSmtp::connect(server.addr);
    assert!(raw.reply().starts_with("220"));
    raw.send(
        b"EHLO pipeliner.example\r\nMAIL FROM:<pipe@example.org>\r\nRCPT TO:<bob@example.test>\r\n",
    );
    assert!(raw.reply().starts_with("250"));
    assert!(raw.reply().starts_with("250"));
    assert!(raw.reply().starts_with("250"));
    raw.send(b"QUIT\r\n");
    assert!(raw.reply().starts_with("221"));
    let conversation = server.conversation_with("pipe@example.org");
    assert!(
        conversation.max_outstanding >= 3,
        "three commands in one write must show as outstanding together: {conversation:#?}"
    );
}

/// With PIPELINING offered, MAIL, every RCPT and DATA leave together.
#[test]
fn aiosmtpd_offering_pipelining_gets_one_batch() {
    let Some(python) = aiosmtpd_python() else {
        return;
    };
    let server = Recorder::start(&python, "pipelining");
    let files = TempDir::new("smtp-send-files");
    let eml = crlf(DOTS_MESSAGE);
    let eml_path = write_file(files.path(), "dots.eml", &eml);
    let run = send(
        &format!(
            "--server {} --from batch@example.org --to bob@example.test \
             --to carol@example.test --eml {eml_path}",
            server.addr
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(server.message(1), eml);
    let conversation = server.conversation_with("batch@example.org");
    assert_eq!(
        verbs(&conversation),
        [
            "EHLO",
            "MAIL",
            "RCPT",
            "RCPT",
            "DATA",
            "<end of data>",
            "QUIT"
        ]
    );
    assert_eq!(
        conversation.max_outstanding, 4,
        "MAIL, RCPT, RCPT and DATA in one batch: {conversation:#?}"
    );
}

/// Non-ASCII addresses: MAIL carries SMTPUTF8 and the header holds raw UTF-8 (RFC 6532).
#[test]
fn aiosmtpd_utf8_addresses_use_smtputf8() {
    let Some(python) = aiosmtpd_python() else {
        return;
    };
    let server = Recorder::start(&python, "smtp");
    let files = TempDir::new("smtp-send-files");
    let saved = files.path().join("sent.eml");
    let run = send(
        &format!(
            "--server {} --from j\u{f6}rg@example.org --to zo\u{eb}@example.test \
             --text Hallo --save {}",
            server.addr,
            saved.display()
        ),
        &["--subject", "Gr\u{fc}\u{df}e"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let sent = std::fs::read(&saved).expect("--save wrote the message");
    assert_eq!(server.message(1), sent);
    assert_eq!(
        server.envelope(1),
        ["j\u{f6}rg@example.org", "zo\u{eb}@example.test"]
    );
    let head = String::from_utf8_lossy(&sent);
    assert!(head.contains("From: j\u{f6}rg@example.org\r\n"), "{head}");
    assert!(head.contains("Subject: Gr\u{fc}\u{df}e\r\n"), "{head}");
    let conversation = server.conversation_with("example.org");
    let mail = &conversation.commands[1];
    assert!(
        mail.starts_with("MAIL FROM:<j\u{f6}rg@example.org>") && mail.contains(" SMTPUTF8"),
        "{mail}"
    );
}

#[test]
fn aiosmtpd_refused_recipients_and_missing_starttls() {
    let Some(python) = aiosmtpd_python() else {
        return;
    };
    let server = Recorder::start(&python, "smtp");
    let files = TempDir::new("smtp-send-files");
    let eml = crlf(DOTS_MESSAGE);
    let eml_path = write_file(files.path(), "dots.eml", &eml);

    // One recipient refused: the message goes to the other, and the exit status says 1.
    let run = send(
        &format!(
            "--server {} --from mixed@example.org --to nobody@example.test --to bob@example.test --eml {}",
            server.server(),
            eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("recipient <nobody@example.test> refused: 550 5.1.1 <nobody@example.test>: no such user here"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("250 2.0.0 Ok: stored as msg-1"),
        "{run:?}"
    );
    assert_eq!(
        server.envelope(1),
        ["mixed@example.org", "bob@example.test"]
    );
    assert_eq!(server.message(1), eml);

    // Every recipient refused: no DATA at all.
    let run = send(
        &format!(
            "--server {} --from none@example.org --to nobody@example.test --eml {}",
            server.server(),
            eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("550 5.1.1 <nobody@example.test>"),
        "{run:?}"
    );
    assert!(run.stderr.contains("every recipient refused"), "{run:?}");
    let conversation = server.conversation_with("none@example.org");
    assert_eq!(verbs(&conversation), ["EHLO", "MAIL", "RCPT", "QUIT"]);

    // --starttls against a server without STARTTLS: nothing but EHLO is sent.
    let run = send(
        &format!(
            "--server {} --starttls --helo tls-wanted.example --from tls@example.org --to bob@example.test --eml {}",
            server.server(),
            eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("does not offer STARTTLS"), "{run:?}");
    let conversation = server.conversation_with("tls-wanted.example");
    let verbs = verbs(&conversation);
    assert_eq!(verbs[0], "EHLO");
    assert!(!verbs.iter().any(|v| v == "MAIL"), "{conversation:#?}");
    assert_eq!(
        server.stored_count(),
        1,
        "only the first message was stored"
    );
}

#[test]
fn aiosmtpd_lmtp_reports_each_recipient() {
    let Some(python) = aiosmtpd_python() else {
        return;
    };
    let server = Recorder::start(&python, "lmtp");
    let files = TempDir::new("smtp-send-files");
    let eml = crlf(DOTS_MESSAGE);
    let eml_path = write_file(files.path(), "dots.eml", &eml);

    let run = send(
        &format!(
            "--server {} --lmtp --from lmtp@example.org --to bob@example.test --to full@example.test --eml {}",
            server.server(),
            eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 1, "one recipient's mailbox is full: {run:?}");
    assert!(
        run.stdout
            .contains("<bob@example.test>: 250 2.0.0 <bob@example.test>: stored as msg-1"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(
            "not delivered to <full@example.test>: 452 4.2.2 <full@example.test>: mailbox full"
        ),
        "{run:?}"
    );
    assert_eq!(server.message(1), eml);
    let conversation = server.conversation_with("lmtp@example.org");
    assert_eq!(
        verbs(&conversation),
        [
            "LHLO",
            "MAIL",
            "RCPT",
            "RCPT",
            "DATA",
            "<end of data>",
            "QUIT"
        ]
    );
    assert_eq!(conversation.max_outstanding, 1);

    let run = send(
        &format!(
            "--server {} --lmtp --from lmtp2@example.org --to bob@example.test --eml {}",
            server.server(),
            eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(server.message(2), eml);
}

// ---------------------------------------------------------------------------------------
// Without a peer

#[test]
fn usage_errors_and_unreachable_servers() {
    let help = smtp_send(&["--help"]);
    assert_eq!(help.code, 0);
    for documented in ["Exit status:", "  0 ", "  1 ", "  2 ", "  64 "] {
        assert!(help.stdout.contains(documented), "{help:?}");
    }

    let port = free_port();
    let no_to = send(
        &format!("--server 127.0.0.1:{port} --from a@example.org"),
        &[],
    );
    assert_eq!(no_to.code, 64, "{no_to:?}");
    assert!(no_to.stderr.contains("--to"), "{no_to:?}");

    let insecure_plain = send(
        &format!("--server 127.0.0.1:{port} --insecure --from a@example.org --to b@example.test"),
        &[],
    );
    assert_eq!(insecure_plain.code, 64, "{insecure_plain:?}");

    let bad_address = send(
        &format!("--server 127.0.0.1:{port} --from a@example.org --to not-an-address"),
        &[],
    );
    assert_eq!(bad_address.code, 64, "{bad_address:?}");
    assert!(
        bad_address.stderr.contains("not-an-address"),
        "{bad_address:?}"
    );

    let both_tls = send(
        &format!(
            "--server 127.0.0.1:{port} --tls --starttls --from a@example.org --to b@example.test"
        ),
        &[],
    );
    assert_eq!(both_tls.code, 64, "{both_tls:?}");

    let missing_ca = send(
        &format!(
            "--server 127.0.0.1:{port} --tls --ca-file /nonexistent/ca.pem \
             --from a@example.org --to b@example.test"
        ),
        &[],
    );
    assert_eq!(missing_ca.code, 64, "{missing_ca:?}");
    assert!(missing_ca.stderr.contains("--ca-file"), "{missing_ca:?}");

    // Nothing listens on the port: a connection failure, exit 2.
    let refused = send(
        &format!("--server 127.0.0.1:{port} --from a@example.org --to b@example.test --text hi"),
        &[],
    );
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains("connect failed"), "{refused:?}");
}

// ---------------------------------------------------------------------------------------
// Postfix

#[test]
fn postfix_takes_a_built_message_with_attachments_by_bdat() {
    if !have_program("postfix") {
        return;
    }
    let postfix = Postfix::start(&["b"]);
    let files = TempDir::new("smtp-send-files");
    // 100 KB of every byte value: base64 makes it over 130 KB, several BDAT chunks.
    let pdf: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let pdf_path = write_file(files.path(), "Report.PDF", &pdf);
    let notes_path = write_file(files.path(), "notes.txt", b"first\r\n.\r\nlast\r\n");
    let text_path = write_file(
        files.path(),
        "body.txt",
        ".this line starts with a dot\n.\nGr\u{fc}\u{df}e\n".as_bytes(),
    );
    let saved = files.path().join("sent.eml");
    let run = send(
        &format!(
            "--server {} --text-file {} --attach {} --attach {} --save {} --verbose",
            postfix.smtp,
            text_path,
            pdf_path,
            notes_path,
            saved.to_str().unwrap()
        ),
        &[
            "--from",
            "Alice <alice@example.org>",
            "--to",
            "Bob <b@example.test>",
            "--subject",
            "Quarterly report \u{2014} Q3",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}\nlog:\n{}", postfix.log());
    assert!(
        run.stdout.starts_with("250 2.0.0 Ok: ") && run.stdout.contains(" queued as "),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("PIPELINING") && run.stderr.contains("CHUNKING"),
        "{run:?}"
    );

    let delivered = postfix.wait_for_messages("b", 1);
    assert_eq!(delivered.len(), 1, "log:\n{}", postfix.log());
    let sent = std::fs::read(&saved).expect("--save wrote the message");
    let body = postfix::without_trace(&delivered[0]);
    assert_eq!(
        String::from_utf8_lossy(body),
        String::from_utf8_lossy(&lf(&sent)),
        "the message in the Maildir is the one sent (with LF line ends)"
    );
    assert!(delivered[0].starts_with(b"Return-Path: <alice@example.org>\n"));

    // It went by BDAT, in several chunks, and not by DATA (Postfix counts the commands).
    let session = postfix
        .wait_for_log_line("ehlo=1 mail=1 rcpt=1 bdat=")
        .unwrap_or_else(|| panic!("no BDAT session in the log:\n{}", postfix.log()));
    let bdat: u32 = session
        .split("bdat=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a BDAT count");
    assert!(bdat >= 2, "several chunks: {session}");
    assert!(!session.contains(" data="), "{session}");

    // What was built: the headers and parts the flags asked for.
    let message = Message::parse(&sent[..]).expect("the built message parses");
    let root = message.root();
    let from = root.header("From").unwrap().addresses();
    assert_eq!(
        from,
        [Address::from(Mailbox::new("Alice", "alice@example.org"))]
    );
    let to = root.header("To").unwrap().addresses();
    assert_eq!(to, [Address::from(Mailbox::new("Bob", "b@example.test"))]);
    assert_eq!(
        root.header("Subject").unwrap().text(),
        "Quarterly report \u{2014} Q3"
    );
    let date = root.header("Date").unwrap().date().expect("a valid Date");
    let now_year = 1970
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 31_556_952;
    assert!((u64::from(date.year)).abs_diff(now_year) <= 1, "{date:?}");
    let ids = root.header("Message-ID").unwrap().message_ids();
    assert!(
        ids.len() == 1 && ids[0].ends_with("@example.org"),
        "{ids:?}"
    );
    assert_eq!(root.media_subtype(), "mixed");
    let parts: Vec<_> = root.children().collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        parts[0].text().as_deref(),
        Some(".this line starts with a dot\r\n.\r\nGr\u{fc}\u{df}e\r\n")
    );
    assert_eq!(
        (parts[1].media_type(), parts[1].media_subtype()),
        ("application", "pdf")
    );
    assert_eq!(parts[1].filename().as_deref(), Some("Report.PDF"));
    assert_eq!(&parts[1].decoded_body()[..], &pdf[..]);
    assert_eq!(
        (parts[2].media_type(), parts[2].media_subtype()),
        ("text", "plain")
    );
    assert_eq!(&parts[2].decoded_body()[..], b"first\r\n.\r\nlast\r\n");

    // The delivered copy parses to the same parts.
    let delivered = Message::parse(body).expect("the delivered message parses");
    let pdf_part = delivered.root().children().nth(1).expect("the PDF part");
    assert_eq!(&pdf_part.decoded_body()[..], &pdf[..]);
}

#[test]
fn postfix_refuses_an_unknown_user() {
    if !have_program("postfix") {
        return;
    }
    let postfix = Postfix::start(&["b"]);
    let files = TempDir::new("smtp-send-files");
    let eml = crlf(DOTS_MESSAGE);
    let eml_path = write_file(files.path(), "dots.eml", &eml);

    let run = send(
        &format!(
            "--server {} --from sender@example.org --to b@example.test --to nobody@example.test --eml {}",
            postfix.smtp, eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "recipient <nobody@example.test> refused: 550 5.1.1 <nobody@example.test>: \
             Recipient address rejected: User unknown in virtual mailbox table"
        ),
        "{run:?}"
    );
    assert!(
        run.stdout.starts_with("250 2.0.0 Ok: ") && run.stdout.contains(" queued as "),
        "{run:?}"
    );
    let delivered = postfix.wait_for_messages("b", 1);
    assert_eq!(delivered.len(), 1, "log:\n{}", postfix.log());
    assert_eq!(postfix::without_trace(&delivered[0]), &lf(&eml)[..]);

    let run = send(
        &format!(
            "--server {} --from sender@example.org --to nobody@example.test --eml {}",
            postfix.smtp, eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("550 5.1.1 <nobody@example.test>"),
        "{run:?}"
    );
    assert!(run.stderr.contains("every recipient refused"), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    // Postfix logs the session's command counts when it ends: one RCPT, refused.
    let session = postfix.wait_for_log_line("rcpt=0/1");
    assert!(session.is_some(), "log:\n{}", postfix.log());
    let log = postfix.log();
    assert_eq!(log.matches("status=sent").count(), 1, "log:\n{log}");
    assert_eq!(postfix.wait_for_messages("b", 1).len(), 1);
}

// ---------------------------------------------------------------------------------------
// smtp-sink (Postfix's test server: PIPELINING without CHUNKING, so DATA)

/// `smtp-sink` dumping every message into `dump/`, killed on drop.
struct Sink {
    child: Child,
    addr: SocketAddr,
    dir: TempDir,
}

impl Sink {
    fn start(lmtp: bool) -> Sink {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("smtp-sink");
        let dump = dir.path().join("dump");
        std::fs::create_dir(&dump).expect("create the dump directory");
        // smtp-sink writes as nobody (-u).
        std::fs::set_permissions(&dump, std::fs::Permissions::from_mode(0o777))
            .expect("open the dump directory");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut command = Command::new(which("smtp-sink").expect("smtp-sink"));
        command.args(["-u", "nobody", "-d"]);
        command.arg(format!("{}/", dump.display()));
        if lmtp {
            command.arg("-L");
        }
        let child = command
            .arg(addr.to_string())
            .arg("10")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start smtp-sink");
        let sink = Sink { child, addr, dir };
        wait_for_port(addr, Duration::from_secs(10));
        sink
    }

    /// The dumped messages: (the envelope lines smtp-sink adds, the message as received
    /// with LF line ends).
    fn messages(&self) -> Vec<(String, Vec<u8>)> {
        let dump = self.dir.path().join("dump");
        let start = Instant::now();
        let mut files = support::messages_in(&dump);
        while files.is_empty() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
            files = support::messages_in(&dump);
        }
        files
            .into_iter()
            .map(|file| {
                // X-Client-Addr ... X-Rcpt-Args lines, then its Received field, then the
                // message, then one more LF.
                let mut rest = &file[..];
                let mut envelope = String::new();
                while rest.starts_with(b"X-") {
                    let end = rest
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(rest.len(), |i| i + 1);
                    envelope.push_str(&String::from_utf8_lossy(&rest[..end]));
                    rest = &rest[end..];
                }
                let message = without_received(rest);
                let message = message.strip_suffix(b"\n").unwrap_or(message);
                (envelope, message.to_vec())
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn smtp_sink_takes_pipelined_data_and_lmtp() {
    if !have_program("smtp-sink") {
        return;
    }
    let files = TempDir::new("smtp-send-files");
    let eml = crlf(DOTS_MESSAGE);
    let eml_path = write_file(files.path(), "dots.eml", &eml);

    let sink = Sink::start(false);
    let run = send(
        &format!(
            "--server {} --from sink@example.org --to b@example.test --to c@example.test \
             --eml {eml_path} --verbose",
            sink.addr
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "250 2.0.0 Ok\n");
    assert!(run.stderr.contains("PIPELINING"), "{run:?}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let (envelope, message) = &messages[0];
    assert!(
        envelope.contains("X-Mail-Args: <sink@example.org> BODY=8BITMIME\n")
            && envelope.contains("X-Rcpt-Args: <b@example.test>\nX-Rcpt-Args: <c@example.test>\n"),
        "{envelope}"
    );
    assert_eq!(
        String::from_utf8_lossy(message),
        DOTS_MESSAGE,
        "the message as smtp-sink dumped it (LF line ends)"
    );

    let lmtp = Sink::start(true);
    let run = send(
        &format!(
            "--server {} --lmtp --from sink@example.org --to b@example.test \
             --to c@example.test --eml {eml_path}",
            lmtp.addr
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "<b@example.test>: 250 2.2.0 Ok\n<c@example.test>: 250 2.2.0 Ok\n"
    );
    let messages = lmtp.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(String::from_utf8_lossy(&messages[0].1), DOTS_MESSAGE);
}

// ---------------------------------------------------------------------------------------
// The mail-server example

#[test]
fn mail_server_starttls_and_auth_byte_exact() {
    let server = MailServer::start(&[]);
    let files = TempDir::new("smtp-send-files");
    let eml = crlf(DOTS_MESSAGE);
    let eml_path = write_file(files.path(), "dots.eml", &eml);
    let run = send(
        &format!(
            "--server {} --starttls --insecure --user alice --password secret --from bob@example.test --to alice@example.test --eml {}",
            server.smtp, eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}\nserver log:\n{}", server.log_text());
    assert!(
        run.stdout.starts_with("250 2.0.0 Ok: queued as "),
        "{run:?}"
    );
    let messages = server.wait_for_messages("alice", 1);
    assert_eq!(messages.len(), 1);
    assert_eq!(without_received(&messages[0]), &eml[..], "byte for byte");
    let received = String::from_utf8_lossy(&messages[0][..messages[0].len() - eml.len()]);
    assert!(
        received.contains("with ESMTPSA"),
        "TLS and AUTH: {received}"
    );

    // A wrong password: exit 2 with the server's words, nothing stored.
    let run = send(
        &format!(
            "--server {} --starttls --insecure --user alice --password wrong --from bob@example.test --to alice@example.test --eml {}",
            server.smtp, eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("authentication failed: 535"), "{run:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.new_messages("alice").len(), 1);
}

#[test]
fn mail_server_implicit_tls_checks_the_certificate() {
    let server = MailServer::start(&[]);
    let files = TempDir::new("smtp-send-files");
    let eml = crlf(DOTS_MESSAGE);
    let eml_path = write_file(files.path(), "dots.eml", &eml);
    let ca = server.data.path().join("mail").join("selfsigned-cert.pem");
    assert!(ca.is_file(), "the server wrote its self-signed certificate");

    // Trusting the server's certificate: delivered.
    let run = send(
        &format!(
            "--server {} --tls --ca-file {} --user alice --password secret --from bob@example.test --to alice@example.test --eml {}",
            server.smtps,
            ca.to_str().unwrap(),
            eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}\nserver log:\n{}", server.log_text());
    let messages = server.wait_for_messages("alice", 1);
    assert_eq!(messages.len(), 1);
    assert_eq!(without_received(&messages[0]), &eml[..]);

    // The built-in roots do not know it: refused before any SMTP, exit 2.
    let run = send(
        &format!(
            "--server {} --tls --user alice --password secret --from bob@example.test --to alice@example.test --eml {}",
            server.smtps, eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("certificate"), "{run:?}");

    // STARTTLS with the wrong name for the certificate: exit 2 too.
    let run = send(
        &format!(
            "--server {} --starttls --ca-file {} --tls-name wrong.example --from bob@example.test --to alice@example.test --eml {}",
            server.smtp,
            ca.to_str().unwrap(),
            eml_path
        ),
        &[],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("certificate"), "{run:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.new_messages("alice").len(),
        1,
        "only the trusted run delivered"
    );
}
