//! The command-parsing inputs and loops shared by the `smtp_parse` and `interleaved`
//! benches (see `benches/smtp_parse.rs` for what each side does).

use std::hint::black_box;

use mailwire_smtp::parse::{CommandParseOptions, parse_command, parse_command_ref};

/// A pipelined transaction with DSN parameters: EHLO, MAIL FROM with SIZE/BODY, four RCPT
/// TO (some with NOTIFY/ORCPT), DATA, QUIT: 8 lines, 358 octets.
pub const TRANSACTION: &[u8] = b"EHLO client.example.org\r\n\
MAIL FROM:<alice.sender@example.org> SIZE=123456 BODY=8BITMIME\r\n\
RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net\r\n\
RCPT TO:<carol.smith@mail.example.com> NOTIFY=NEVER\r\n\
RCPT TO:<dave@example.com> NOTIFY=DELAY,FAILURE ORCPT=rfc822;dave@example.com\r\n\
RCPT TO:<Eve.Lastname+tag@sub.example.co.uk>\r\n\
DATA\r\n\
QUIT\r\n";

/// The number of lines in [`TRANSACTION`].
pub const COMMANDS: usize = 8;

/// A plain transaction, as most clients send it (ours included): `SIZE=` only, three
/// recipients without DSN parameters. 7 lines, 162 octets.
pub const PLAIN: &[u8] = b"EHLO client.example.org\r\n\
MAIL FROM:<alice@example.org> SIZE=4096\r\n\
RCPT TO:<bob@example.net>\r\n\
RCPT TO:<carol@example.net>\r\n\
RCPT TO:<dave@example.net>\r\n\
DATA\r\n\
QUIT\r\n";

/// Parses `input` line after line with `parse_command` (owned commands); how many.
#[inline(never)]
pub fn mailwire(input: &[u8], opts: &CommandParseOptions) -> usize {
    let mut rest = input;
    let mut n = 0;
    while let Ok(Some((cmd, used))) = parse_command(rest, opts) {
        black_box(&cmd);
        rest = rest.get(used..).unwrap_or_default();
        n += 1;
    }
    n
}

/// Parses `input` line after line with `parse_command_ref` (borrowed); how many.
#[inline(never)]
pub fn mailwire_ref(input: &[u8], opts: &CommandParseOptions) -> usize {
    let mut rest = input;
    let mut n = 0;
    while let Ok(Some((cmd, used))) = parse_command_ref(rest, opts) {
        black_box(&cmd);
        rest = rest.get(used..).unwrap_or_default();
        n += 1;
    }
    n
}

/// Parses `input` with smtp-proto's `Request::parse` (borrowed where it can); how many.
#[inline(never)]
pub fn smtp_proto(input: &[u8]) -> usize {
    let mut iter = input.iter();
    let mut n = 0;
    while !iter.as_slice().is_empty() {
        match smtp_proto::Request::parse(&mut iter) {
            Ok(req) => {
                black_box(&req);
                n += 1;
            }
            Err(_) => break,
        }
    }
    n
}

/// [`smtp_proto()`] with each request made owned (`into_owned`); how many.
#[inline(never)]
pub fn smtp_proto_owned(input: &[u8]) -> usize {
    let mut iter = input.iter();
    let mut n = 0;
    while !iter.as_slice().is_empty() {
        match smtp_proto::Request::parse(&mut iter) {
            Ok(req) => {
                black_box(req.into_owned());
                n += 1;
            }
            Err(_) => break,
        }
    }
    n
}
