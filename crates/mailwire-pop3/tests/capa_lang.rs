//! CAPA from configuration (EXPIRE, LOGIN-DELAY, LANG; RFC 2449 sections 6.5 and 6.7,
//! RFC 6856) and the LANG command, English only.

mod support;

use std::sync::Arc;
use std::time::Instant;

use mailwire_pop3::parse::parse_capability;
use mailwire_pop3::server::{ServerConfig, ServerSession};
use mailwire_pop3::types::{Capability, ExpirePolicy};
use support::{App, server_transcript};

fn config(edit: impl FnOnce(&mut ServerConfig)) -> Arc<ServerConfig> {
    let mut config = ServerConfig::new();
    config.allow_plaintext_auth = true;
    edit(&mut config);
    Arc::new(config)
}

fn transcript(config: Arc<ServerConfig>, input: &[u8]) -> String {
    let mut session = ServerSession::new(config, Instant::now());
    let mut app = App::new(vec![b"Subject: x\r\n\r\nbody\r\n".to_vec()]);
    server_transcript(&mut session, &mut app, &[input])
}

/// The capabilities of the first CAPA answer in `text`, parsed.
fn capabilities(text: &str) -> Vec<Capability> {
    let start = text
        .find("+OK Capability list follows\r\n")
        .expect("a CAPA answer")
        + "+OK Capability list follows\r\n".len();
    let end = start + text[start..].find("\r\n.\r\n").expect("the end of CAPA");
    text[start..end]
        .split("\r\n")
        .map(|line| parse_capability(line.as_bytes()).expect("a valid capability line"))
        .collect()
}

#[test]
fn expire_login_delay_and_lang_are_not_advertised_by_default() {
    let text = transcript(config(|_| {}), b"CAPA\r\n");
    let caps = capabilities(&text);
    assert!(!caps.iter().any(|c| matches!(
        c,
        Capability::Expire { .. } | Capability::LoginDelay { .. } | Capability::Lang
    )));
    let text = transcript(config(|_| {}), b"LANG\r\n");
    assert!(text.ends_with("-ERR LANG is not supported\r\n"), "{text}");
}

#[test]
fn expire_and_login_delay_come_from_the_config_in_both_states() {
    let cfg = config(|c| {
        c.expire = Some(ExpirePolicy::Never);
        c.login_delay = Some(900);
    });
    let text = transcript(cfg, b"CAPA\r\nUSER mrose\r\nPASS tanstaaf\r\nCAPA\r\n");
    assert!(
        text.contains("\r\nEXPIRE NEVER\r\nLOGIN-DELAY 900\r\n"),
        "{text}"
    );
    let second = &text[text.find("maildrop has").unwrap()..];
    for caps in [capabilities(&text), capabilities(second)] {
        assert!(caps.contains(&Capability::Expire {
            policy: ExpirePolicy::Never,
            per_user: false
        }));
        assert!(caps.contains(&Capability::LoginDelay {
            seconds: 900,
            per_user: false
        }));
    }
    let text = transcript(
        config(|c| c.expire = Some(ExpirePolicy::Days(31))),
        b"CAPA\r\n",
    );
    assert!(text.contains("\r\nEXPIRE 31\r\n"), "{text}");
    assert!(!text.contains("LOGIN-DELAY"), "{text}");
}

#[test]
fn lang_lists_english_and_accepts_only_it() {
    let cfg = config(|c| {
        c.lang = true;
        c.max_errors = 2;
    });
    let text = transcript(
        cfg,
        b"CAPA\r\nLANG\r\nLANG en\r\nLANG EN\r\nLANG *\r\nLANG de\r\nLANG en-US\r\nLANG MUL\r\n\
          USER mrose\r\nPASS tanstaaf\r\nLANG\r\nLANG sv\r\nLANG en\r\nQUIT\r\n",
    );
    assert!(capabilities(&text).contains(&Capability::Lang), "{text}");
    let expected = "+OK Language listing follows\r\nen English\r\n.\r\n\
                    +OK en Language is English\r\n\
                    +OK en Language is English\r\n\
                    +OK en Language is English\r\n\
                    -ERR Unsupported language; LANG lists them\r\n\
                    -ERR Unsupported language; LANG lists them\r\n\
                    -ERR Unsupported language; LANG lists them\r\n\
                    +OK Send PASS\r\n";
    assert!(text.contains(expected), "{text}");
    // In the TRANSACTION state too; refusals are answers, not bad commands (max_errors
    // is 2, and five were refused).
    let after_login = &text[text.find("maildrop has").unwrap()..];
    assert!(
        after_login.contains(
            "\r\n+OK Language listing follows\r\nen English\r\n.\r\n\
             -ERR Unsupported language; LANG lists them\r\n\
             +OK en Language is English\r\n+OK mailwire POP3 server signing off"
        ),
        "{text}"
    );
}
