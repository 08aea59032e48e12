//! SASL mechanism names.

use std::fmt;

/// A SASL mechanism, as named in `AUTH` commands and capability lists.
///
/// Names are case-insensitive on the wire; [`Mechanism::as_str`] gives the canonical
/// upper-case spelling. Mechanisms mailwire does not implement are kept as
/// [`Mechanism::Other`] so that capability lists survive a round trip.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616).
    Plain,
    /// `LOGIN` (the de-facto username/password prompt mechanism).
    Login,
    /// `CRAM-MD5` (RFC 2195).
    CramMd5,
    /// `XOAUTH2` (Google's OAuth 2.0 mechanism).
    XOAuth2,
    /// `OAUTHBEARER` (RFC 7628).
    OAuthBearer,
    /// Any other mechanism, upper-cased. Made only by [`Mechanism::from_name`], so it holds
    /// only SASL mechanism name characters (`A-Z`, `0-9`, `-`, `_`; 1 to 20 of them) and
    /// can never inject anything into a command or capability line.
    Other(MechanismName),
}

impl Mechanism {
    /// The mechanisms mailwire implements, client and server side, in the order a server
    /// lists them.
    pub const SUPPORTED: &'static [Mechanism] = &[
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
    ];

    /// Whether mailwire implements the mechanism (everything but [`Mechanism::Other`]).
    pub fn is_supported(&self) -> bool {
        !matches!(self, Mechanism::Other(_))
    }

    /// Whether the client sends the first message (PLAIN, XOAUTH2, OAUTHBEARER), so that
    /// it may go with the command as an initial response. LOGIN and CRAM-MD5 wait for the
    /// server's first challenge (a LOGIN server still takes a username sent as initial
    /// response, as many clients do that).
    pub fn is_client_first(&self) -> bool {
        matches!(
            self,
            Mechanism::Plain | Mechanism::XOAuth2 | Mechanism::OAuthBearer
        )
    }

    /// Parses a mechanism name (case-insensitive). Returns `None` if `name` is not a valid
    /// SASL mechanism name (RFC 4422 section 3.1: 1 to 20 of `A-Z 0-9 - _`).
    pub fn from_name(name: &str) -> Option<Mechanism> {
        let valid = !name.is_empty()
            && name.len() <= 20
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return None;
        }
        let upper = name.to_ascii_uppercase();
        Some(match upper.as_str() {
            "PLAIN" => Mechanism::Plain,
            "LOGIN" => Mechanism::Login,
            "CRAM-MD5" => Mechanism::CramMd5,
            "XOAUTH2" => Mechanism::XOAuth2,
            "OAUTHBEARER" => Mechanism::OAuthBearer,
            _ => Mechanism::Other(MechanismName(upper)),
        })
    }

    /// The canonical (upper-case) name.
    pub fn as_str(&self) -> &str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::Other(name) => &name.0,
        }
    }

    /// Whether the mechanism sends a reusable password in the clear (PLAIN, LOGIN), so that
    /// it must only be offered or used over TLS unless configured otherwise.
    pub fn is_plaintext(&self) -> bool {
        matches!(self, Mechanism::Plain | Mechanism::Login)
    }
}

/// The name of a mechanism mailwire does not implement ([`Mechanism::Other`]): a valid
/// SASL mechanism name, upper-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MechanismName(String);

impl MechanismName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Mechanism;

    #[test]
    fn names_round_trip_case_insensitively() {
        for m in [
            Mechanism::Plain,
            Mechanism::Login,
            Mechanism::CramMd5,
            Mechanism::XOAuth2,
            Mechanism::OAuthBearer,
            Mechanism::from_name("scram-sha-256").unwrap(),
        ] {
            assert_eq!(Mechanism::from_name(m.as_str()), Some(m.clone()));
            assert_eq!(
                Mechanism::from_name(&m.as_str().to_ascii_lowercase()),
                Some(m)
            );
        }
    }

    #[test]
    fn invalid_names_are_refused() {
        for bad in ["", "PL AIN", "PLAIN\r\n", "A2345678901234567890X", "é"] {
            assert_eq!(Mechanism::from_name(bad), None, "{bad:?}");
        }
    }
}
