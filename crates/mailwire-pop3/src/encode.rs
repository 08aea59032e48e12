//! Serializers, the exact inverses of [`parse`](crate::parse): each appends one line with
//! its CRLF to a caller's buffer.

use mailwire_core::sasl;

use crate::types::{Capability, Command, ExpirePolicy, Response, ScanListing, Status, UidListing};

impl Command {
    /// Appends the command line, CRLF included.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.keyword().as_bytes());
        let arg = |out: &mut Vec<u8>, s: &str| {
            out.push(b' ');
            out.extend_from_slice(s.as_bytes());
        };
        match self {
            Command::User(name) => arg(out, name.as_str()),
            Command::Pass(password) => arg(out, password.expose()),
            Command::Apop { name, digest } => {
                arg(out, name.as_str());
                arg(out, &digest.to_hex());
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                arg(out, mechanism.as_str());
                if let Some(ir) = initial_response {
                    arg(out, &sasl::encode_initial_response(ir.expose()));
                }
            }
            Command::List(Some(n))
            | Command::Uidl(Some(n))
            | Command::Retr(n)
            | Command::Dele(n) => arg(out, &n.to_string()),
            Command::Top { msg, lines } => {
                arg(out, &msg.to_string());
                arg(out, &lines.to_string());
            }
            Command::Lang(Some(tag)) => arg(out, tag.as_str()),
            Command::Stat
            | Command::List(None)
            | Command::Uidl(None)
            | Command::Noop
            | Command::Rset
            | Command::Quit
            | Command::Capa
            | Command::Stls
            | Command::Utf8
            | Command::Lang(None) => {}
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The command line as bytes, CRLF included.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

impl Response {
    /// Appends the status line, CRLF included.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.status() {
            Status::Ok => b"+OK",
            Status::Err => b"-ERR",
        });
        if let Some(code) = self.code() {
            out.extend_from_slice(b" [");
            out.extend_from_slice(code.as_str().as_bytes());
            out.push(b']');
        }
        if !self.text().is_empty() {
            out.push(b' ');
            out.extend_from_slice(self.text().as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The status line as bytes, CRLF included.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Appends an AUTH continuation `+ <base64 challenge>` CRLF (RFC 5034).
pub fn encode_continuation(challenge: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"+ ");
    out.extend_from_slice(sasl::encode_challenge(challenge).as_bytes());
    out.extend_from_slice(b"\r\n");
}

impl Capability {
    /// Appends the capability line, CRLF included (it never starts with a dot, so it needs
    /// no stuffing).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let user = |out: &mut Vec<u8>, yes: bool| {
            if yes {
                out.extend_from_slice(b" USER");
            }
        };
        match self {
            Capability::Top => out.extend_from_slice(b"TOP"),
            Capability::User => out.extend_from_slice(b"USER"),
            Capability::Stls => out.extend_from_slice(b"STLS"),
            Capability::Uidl => out.extend_from_slice(b"UIDL"),
            Capability::Pipelining => out.extend_from_slice(b"PIPELINING"),
            Capability::RespCodes => out.extend_from_slice(b"RESP-CODES"),
            Capability::AuthRespCode => out.extend_from_slice(b"AUTH-RESP-CODE"),
            Capability::Lang => out.extend_from_slice(b"LANG"),
            Capability::Sasl(mechs) => {
                out.extend_from_slice(b"SASL");
                for m in mechs {
                    out.push(b' ');
                    out.extend_from_slice(m.as_str().as_bytes());
                }
            }
            Capability::Expire { policy, per_user } => {
                out.extend_from_slice(b"EXPIRE ");
                match policy {
                    ExpirePolicy::Never => out.extend_from_slice(b"NEVER"),
                    ExpirePolicy::Days(d) => out.extend_from_slice(d.to_string().as_bytes()),
                }
                user(out, *per_user);
            }
            Capability::LoginDelay { seconds, per_user } => {
                out.extend_from_slice(b"LOGIN-DELAY ");
                out.extend_from_slice(seconds.to_string().as_bytes());
                user(out, *per_user);
            }
            Capability::Implementation(text) => {
                out.extend_from_slice(b"IMPLEMENTATION ");
                out.extend_from_slice(text.as_str().as_bytes());
            }
            Capability::Utf8 { user: yes } => {
                out.extend_from_slice(b"UTF8");
                user(out, *yes);
            }
            Capability::Other { name, params } => {
                out.extend_from_slice(name.as_str().as_bytes());
                for p in params {
                    out.push(b' ');
                    out.extend_from_slice(p.as_str().as_bytes());
                }
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

impl ScanListing {
    /// Appends `msg size` CRLF.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{} {}\r\n", self.msg, self.size).as_bytes());
    }
}

impl UidListing {
    /// Appends `msg uid` CRLF.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{} {}\r\n", self.msg, self.uid).as_bytes());
    }
}
