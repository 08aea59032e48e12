//! Shared helpers: run Python's `email` package on a message and dump what we see
//! in the same line format (see tests/py/email_dump.py).
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

use mailwire_mime::{Address, Message, Part};

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Whether python3 can run. When it cannot: panics if MAILWIRE_INTEROP is set,
/// otherwise prints why and returns false (the caller skips).
pub fn python_available() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("MAILWIRE_INTEROP").is_some() {
            panic!("python3 is required when MAILWIRE_INTEROP is set");
        }
        eprintln!("skipping: python3 not found (set MAILWIRE_INTEROP=1 to make this a failure)");
    }
    ok
}

/// Runs tests/py/email_dump.py on `data`.
pub fn python_dump(data: &[u8]) -> Vec<String> {
    python_script("email_dump.py", data)
}

/// Runs the script tests/py/`script` on a file holding `data`; its output lines.
pub fn python_script(script: &str, data: &[u8]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("mailwire-mime-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = dir.join(format!("m{n}.eml"));
    std::fs::write(&file, data).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/py")
        .join(script);
    let out = Command::new("python3")
        .arg(script)
        .arg(&file)
        .output()
        .expect("run python3");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn dump_part(p: Part<'_>, path: &str, out: &mut Vec<String>) {
    out.push(format!(
        "PART {path} {}/{}",
        p.media_type(),
        p.media_subtype()
    ));
    for field in ["from", "to", "cc", "reply-to", "sender", "bcc"] {
        let Some(h) = p.header(field) else { continue };
        for a in h.addresses() {
            match a {
                Address::Mailbox(m) => out.push(format!(
                    "ADDR {path} {field} {} {}",
                    hex(m.name.unwrap_or_default().as_bytes()),
                    hex(m.address.as_bytes())
                )),
                Address::Group(g) => {
                    out.push(format!(
                        "GROUP {path} {field} {} {}",
                        hex(g.name.as_bytes()),
                        g.members.len()
                    ));
                    for m in g.members {
                        out.push(format!(
                            "ADDR {path} {field} {} {}",
                            hex(m.name.unwrap_or_default().as_bytes()),
                            hex(m.address.as_bytes())
                        ));
                    }
                }
            }
        }
    }
    if let Some(f) = p.filename() {
        out.push(format!("FILENAME {path} {}", hex(f.as_bytes())));
    }
    if let Some(m) = p.attached_message() {
        dump_part(m, &format!("{path}.0"), out);
    } else if p.is_multipart() {
        for (i, c) in p.children().enumerate() {
            dump_part(c, &format!("{path}.{i}"), out);
        }
    } else {
        out.push(format!("BODY {path} {}", hex(&p.decoded_body())));
    }
}

/// Our view in the Python dump's format (without HDR lines).
pub fn our_dump(msg: &Message<'_>) -> Vec<String> {
    let mut out = Vec::new();
    dump_part(msg.root(), "r", &mut out);
    out
}

/// Lines of the given kinds, in order.
pub fn only(lines: &[String], kinds: &[&str]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| kinds.iter().any(|k| l.starts_with(&format!("{k} "))))
        .cloned()
        .collect()
}

/// Decoded header value Python saw for `name` at `path`, whitespace collapsed.
pub fn python_header(lines: &[String], path: &str, name: &str) -> Option<String> {
    let prefix = format!("HDR {path} {name} ");
    let l = lines.iter().find(|l| l.starts_with(&prefix))?;
    let h = &l[prefix.len()..];
    let bytes: Vec<u8> = if h == "-" {
        Vec::new()
    } else {
        (0..h.len() / 2)
            .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    };
    Some(collapse(&String::from_utf8_lossy(&bytes)))
}

pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
