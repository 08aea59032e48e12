//! The command serializer: [`Command::encode`] writes the canonical form of a command,
//! which [`parse_command`](crate::parse::parse_command) reads back to an equal value.
//!
//! Canonical form: upper-case verbs and known keywords, `MAIL FROM:<path>` without a space
//! after the colon, single spaces, local parts quoted only when they are not dot-strings,
//! xtext with upper-case hex, base64 with padding, known parameters first (in the order
//! `SIZE BODY SMTPUTF8 REQUIRETLS RET ENVID AUTH` and `NOTIFY ORCPT`), then the others in
//! their order, and CRLF.

use std::io::Write as _;

use crate::types::{
    AddressLiteral, Command, ForwardPath, Host, LocalPart, MailParameters, Mailbox, Notify,
    Parameter, RcptParameters, ReversePath, is_dot_string,
};

impl Command {
    /// Appends the command line, CRLF included, to `out`.
    ///
    /// ```
    /// use mailwire_smtp::types::{Command, Mailbox, MailParameters, ReversePath};
    ///
    /// let from = Mailbox::try_from("\"john doe\"@example.com").unwrap();
    /// let mut params = MailParameters::default();
    /// params.size = Some(1000);
    /// let cmd = Command::Mail { from: ReversePath::Mailbox(from), params };
    /// let mut out = Vec::new();
    /// cmd.encode(&mut out);
    /// assert_eq!(out, b"MAIL FROM:<\"john doe\"@example.com> SIZE=1000\r\n");
    /// ```
    pub fn encode(&self, out: &mut Vec<u8>) {
        // One reservation that fits nearly every command, instead of growing the buffer
        // several times per line (a longer line still grows it as needed).
        out.reserve(match self {
            Command::Auth {
                initial_response: Some(ir),
                ..
            } => 32 + ir.expose().len() / 3 * 4,
            _ => 128,
        });
        out.extend_from_slice(self.verb().as_bytes());
        match self {
            Command::Helo(h) | Command::Ehlo(h) | Command::Lhlo(h) => {
                out.push(b' ');
                encode_host(h, out);
            }
            Command::Mail { from, params } => encode_mail_args(from, params, out),
            Command::Rcpt { to, params } => encode_rcpt_args(to, params, out),
            Command::Data | Command::Rset | Command::Quit | Command::StartTls => {}
            Command::Bdat { size, last } => {
                out.push(b' ');
                super::write_decimal(out, *size);
                if *last {
                    out.extend_from_slice(b" LAST");
                }
            }
            Command::Noop(arg) | Command::Help(arg) => {
                if let Some(arg) = arg {
                    out.push(b' ');
                    out.extend_from_slice(arg.as_str().as_bytes());
                }
            }
            Command::Vrfy(arg) | Command::Expn(arg) => {
                out.push(b' ');
                out.extend_from_slice(arg.as_str().as_bytes());
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                out.push(b' ');
                out.extend_from_slice(mechanism.as_str().as_bytes());
                if let Some(ir) = initial_response {
                    out.push(b' ');
                    if ir.expose().is_empty() {
                        out.push(b'=');
                    } else {
                        use base64::Engine;
                        let s = base64::engine::general_purpose::STANDARD.encode(ir.expose());
                        out.extend_from_slice(s.as_bytes());
                    }
                }
            }
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The command line, CRLF included, in a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

fn encode_path(m: &Mailbox, out: &mut Vec<u8>) {
    out.push(b'<');
    encode_mailbox(m, out);
    out.push(b'>');
}

/// Writes `local@domain` (no brackets).
pub(crate) fn encode_mailbox(m: &Mailbox, out: &mut Vec<u8>) {
    encode_local_part(&m.local_part, out);
    out.push(b'@');
    encode_host(&m.domain, out);
}

fn encode_local_part(l: &LocalPart, out: &mut Vec<u8>) {
    let s = l.as_str();
    if is_dot_string(s) {
        out.extend_from_slice(s.as_bytes());
    } else {
        out.push(b'"');
        for &b in s.as_bytes() {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    }
}

/// Writes a domain or `[address literal]`.
pub(crate) fn encode_host(h: &Host, out: &mut Vec<u8>) {
    match h {
        Host::Domain(d) => out.extend_from_slice(d.as_str().as_bytes()),
        // Writing to a Vec cannot fail.
        Host::Literal(AddressLiteral::Ipv4(ip)) => {
            let _ = write!(out, "[{ip}]");
        }
        Host::Literal(AddressLiteral::Ipv6(ip)) => {
            let _ = write!(out, "[IPv6:{ip}]");
        }
        Host::Literal(AddressLiteral::General(g)) => {
            let _ = write!(out, "[{}:{}]", g.tag(), g.content());
        }
    }
}

/// Appends the line of `Command::Mail { from, params }`, CRLF included, to `out`, from
/// borrowed parts (a client sending from its envelope builds no command).
pub(crate) fn encode_mail(from: &ReversePath, params: &MailParameters, out: &mut Vec<u8>) {
    out.reserve(128);
    out.extend_from_slice(b"MAIL");
    encode_mail_args(from, params, out);
    out.extend_from_slice(b"\r\n");
}

/// Appends the line of `Command::Rcpt { to, params }`, CRLF included, to `out`, from
/// borrowed parts.
pub(crate) fn encode_rcpt(to: &ForwardPath, params: &RcptParameters, out: &mut Vec<u8>) {
    out.reserve(128);
    out.extend_from_slice(b"RCPT");
    encode_rcpt_args(to, params, out);
    out.extend_from_slice(b"\r\n");
}

fn encode_mail_args(from: &ReversePath, params: &MailParameters, out: &mut Vec<u8>) {
    out.extend_from_slice(b" FROM:");
    match from {
        ReversePath::Null => out.extend_from_slice(b"<>"),
        ReversePath::Mailbox(m) => encode_path(m, out),
    }
    encode_mail_params(params, out);
}

fn encode_rcpt_args(to: &ForwardPath, params: &RcptParameters, out: &mut Vec<u8>) {
    out.extend_from_slice(b" TO:");
    match to {
        ForwardPath::Postmaster => out.extend_from_slice(b"<Postmaster>"),
        ForwardPath::Mailbox(m) => encode_path(m, out),
    }
    encode_rcpt_params(params, out);
}

/// Appends `s` as RFC 3461 xtext: `xchar` (printable ASCII but `+` and `=`) as itself,
/// every other octet as `+XX` with upper-case hex digits.
///
/// ```
/// let mut out = Vec::new();
/// mailwire_smtp::encode::encode_xtext(b"a+b= c", &mut out);
/// assert_eq!(out, b"a+2Bb+3D+20c");
/// ```
pub fn encode_xtext(s: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s {
        if (33..=126).contains(&b) && b != b'+' && b != b'=' {
            out.push(b);
        } else {
            out.push(b'+');
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0x0f)]);
        }
    }
}

fn encode_other(others: &[Parameter], out: &mut Vec<u8>) {
    for p in others {
        out.push(b' ');
        out.extend_from_slice(p.keyword.as_str().as_bytes());
        if let Some(v) = &p.value {
            out.push(b'=');
            out.extend_from_slice(v.as_str().as_bytes());
        }
    }
}

fn encode_mail_params(p: &MailParameters, out: &mut Vec<u8>) {
    if let Some(size) = p.size {
        out.extend_from_slice(b" SIZE=");
        super::write_decimal(out, size);
    }
    if let Some(body) = p.body {
        out.extend_from_slice(b" BODY=");
        out.extend_from_slice(body.as_str().as_bytes());
    }
    if p.smtputf8 {
        out.extend_from_slice(b" SMTPUTF8");
    }
    if p.requiretls {
        out.extend_from_slice(b" REQUIRETLS");
    }
    if let Some(ret) = p.ret {
        out.extend_from_slice(b" RET=");
        out.extend_from_slice(ret.as_str().as_bytes());
    }
    if let Some(envid) = &p.envid {
        out.extend_from_slice(b" ENVID=");
        encode_xtext(envid.as_str().as_bytes(), out);
    }
    if let Some(auth) = &p.auth {
        out.extend_from_slice(b" AUTH=");
        match auth {
            ReversePath::Null => out.extend_from_slice(b"<>"),
            ReversePath::Mailbox(m) => {
                let mut raw = Vec::new();
                encode_mailbox(m, &mut raw);
                encode_xtext(&raw, out);
            }
        }
    }
    encode_other(p.other(), out);
}

fn encode_notify(n: Notify, out: &mut Vec<u8>) {
    if n.is_never() {
        out.extend_from_slice(b"NEVER");
        return;
    }
    let mut first = true;
    for (on, name) in [
        (n.success, "SUCCESS"),
        (n.failure, "FAILURE"),
        (n.delay, "DELAY"),
    ] {
        if on {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(name.as_bytes());
            first = false;
        }
    }
}

fn encode_rcpt_params(p: &RcptParameters, out: &mut Vec<u8>) {
    if let Some(n) = p.notify {
        out.extend_from_slice(b" NOTIFY=");
        encode_notify(n, out);
    }
    if let Some(o) = &p.orcpt {
        out.extend_from_slice(b" ORCPT=");
        out.extend_from_slice(o.addr_type().as_bytes());
        out.push(b';');
        encode_xtext(o.address().as_bytes(), out);
    }
    encode_other(p.other(), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::OriginalRecipient;

    #[test]
    fn borrowed_mail_and_rcpt_lines_are_the_commands() {
        let mailbox = Mailbox::try_from("\"john doe\"@example.com").expect("a valid mailbox");
        let mut mail_params = MailParameters::default();
        mail_params.size = Some(4096);
        mail_params.smtputf8 = true;
        mail_params.auth = Some(ReversePath::Null);
        for (from, params) in [
            (ReversePath::Null, MailParameters::default()),
            (ReversePath::Mailbox(mailbox.clone()), mail_params),
        ] {
            let mut borrowed = Vec::new();
            encode_mail(&from, &params, &mut borrowed);
            let mut built = Vec::new();
            Command::Mail { from, params }.encode(&mut built);
            assert_eq!(borrowed, built);
        }
        let mut rcpt_params = RcptParameters::default();
        rcpt_params.notify = Some(Notify::NEVER);
        rcpt_params.orcpt = OriginalRecipient::new("rfc822", "a+b@c.example").ok();
        assert!(rcpt_params.orcpt.is_some());
        for (to, params) in [
            (ForwardPath::Postmaster, RcptParameters::default()),
            (ForwardPath::Mailbox(mailbox), rcpt_params),
        ] {
            let mut borrowed = Vec::new();
            encode_rcpt(&to, &params, &mut borrowed);
            let mut built = Vec::new();
            Command::Rcpt { to, params }.encode(&mut built);
            assert_eq!(borrowed, built);
        }
    }
}
