//! Fuzz checks for the SMTP command codec.

use crate::parse::{CommandParseOptions, parse_command, parse_command_ref};

/// Feeds `data` to [`parse_command`] as a pipelined buffer, skipping bad lines the way a
/// server would, with SMTPUTF8 off and on. For every command that parses, checks that:
///
/// - the encoded form is a single line: it ends in CRLF and holds no other CR or LF;
/// - re-parsing the encoded form (with the length limits lifted, since canonical forms
///   may differ in length from what was sent) gives an equal command and consumes
///   exactly the encoded bytes;
/// - every strict prefix of the encoded form is incomplete (`Ok(None)`);
/// - the borrowing parser ([`parse_command_ref`]) gives the same result, and its view
///   turns into the same command.
///
/// Panics when a check fails; never panics otherwise.
pub fn command(data: &[u8]) {
    for smtputf8 in [false, true] {
        let opts = CommandParseOptions {
            smtputf8,
            max_line_len: 1024,
            ..CommandParseOptions::default()
        };
        let relaxed = CommandParseOptions {
            max_line_len: usize::MAX,
            max_path_len: usize::MAX,
            max_local_part_len: usize::MAX,
            ..opts.clone()
        };

        let mut rest = data;
        while !rest.is_empty() {
            let view = parse_command_ref(rest, &opts);
            let owned = parse_command(rest, &opts);
            assert_eq!(
                view.clone()
                    .map(|r| r.map(|(c, used)| (c.into_owned(), used))),
                owned,
                "borrowed and owned parses differ"
            );
            match owned {
                Ok(None) => break,
                Ok(Some((cmd, used))) => {
                    assert!(
                        used > 0 && used <= rest.len(),
                        "consumed {used} of {}",
                        rest.len()
                    );
                    let enc = cmd.to_bytes();
                    let body = enc.strip_suffix(b"\r\n").expect("encoding ends in CRLF");
                    assert!(
                        !body.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0),
                        "encoding holds CR, LF or NUL: {enc:?}"
                    );
                    let again = parse_command(&enc, &relaxed);
                    assert_eq!(
                        again,
                        Ok(Some((cmd.clone(), enc.len()))),
                        "re-parse of {:?}",
                        String::from_utf8_lossy(&enc)
                    );
                    for cut in [0, 1, enc.len() / 2, enc.len() - 1] {
                        let prefix = enc.get(..cut).unwrap_or_default();
                        assert_eq!(parse_command(prefix, &relaxed), Ok(None), "prefix {cut}");
                    }
                    rest = rest.get(used..).unwrap_or_default();
                }
                Err(e) => match e.line_len() {
                    Some(n) => {
                        assert!(n > 0 && n <= rest.len(), "skip {n} of {}", rest.len());
                        rest = rest.get(n..).unwrap_or_default();
                    }
                    None => break,
                },
            }
        }
    }
}
