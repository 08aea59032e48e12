//! SASL (RFC 4422) mechanisms as small sans-IO exchanges, client and server side: PLAIN
//! (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195), XOAUTH2 (Google's) and OAUTHBEARER (RFC 7628).
//!
//! SMTP (`AUTH`, `334 <base64>`, RFC 4954), IMAP (`AUTHENTICATE`, `+ <base64>`, RFC 3501
//! and RFC 4959) and POP3 (`AUTH`, `+ <base64>`, RFC 5034) carry the same messages in the
//! same base64; only the line prefixes and the final replies differ. So this module holds
//! everything but those prefixes and replies, once:
//!
//! - **the wire**: [`decode_response`] (`*` cancels, `=` is an empty initial response),
//!   [`encode_challenge`], and for clients [`decode_challenge`], [`encode_response`],
//!   [`encode_initial_response`];
//! - **the server**: [`ServerExchange`] takes decoded responses and returns a [`Step`]: a
//!   challenge to send, the client's [`Credentials`] for the application to verify, or a
//!   failure. It never verifies a password itself: it has no user database;
//! - **the client**: [`ClientExchange`] makes the initial response and answers
//!   challenges from [`ClientCredentials`]; [`choose_mechanism`] picks the mechanism from
//!   the server's list, refusing to send a password or token in the clear unless the
//!   [`Transport`] says the configuration allows it.
//!
//! Exchanges hold no randomness and no clock: the CRAM-MD5 challenge comes from the caller
//! ([`ServerOptions::cram_md5_challenge`]). Passwords and tokens are kept in
//! [`Secret`](crate::Secret), so `Debug` output of any type here never shows them, and no
//! [`SaslError`] carries bytes from the peer.
//!
//! ## The mechanisms
//!
//! | mechanism | first message | messages | [`Credentials`] |
//! |---|---|---|---|
//! | PLAIN | client (initial response) | `[authzid] NUL authcid NUL password` | `Password` |
//! | LOGIN | server: `Username:`, then `Password:` | username, password (a username sent as initial response is taken) | `Password` |
//! | CRAM-MD5 | server: the caller's `<...@host>` challenge | `username SP hex(HMAC-MD5)` | `CramMd5`, with `verify(password)` |
//! | XOAUTH2 | client (initial response) | `user=U ^A auth=Bearer T ^A ^A` | `OAuth` |
//! | OAUTHBEARER | client (initial response) | `n,a=U, ^A host=H ^A port=P ^A auth=Bearer T ^A ^A` | `OAuth` |
//!
//! A client-first mechanism without an initial response starts with an empty challenge.
//! For the OAuth mechanisms a refused token ends with an error challenge (JSON) that the
//! client acknowledges (`^A` for OAUTHBEARER, empty for XOAUTH2) before the failure reply:
//! see [`ServerExchange::fail_with`].
//!
//! ## In each protocol
//!
//! | | SMTP (RFC 4954) | IMAP (RFC 3501, 4959) | POP3 (RFC 5034) |
//! |---|---|---|---|
//! | start | `AUTH <mech> [<ir>]` | `<tag> AUTHENTICATE <mech> [<ir>]` (`SASL-IR`) | `AUTH <mech> [<ir>]` |
//! | challenge | `334 <base64>` | `+ <base64>` | `+ <base64>` |
//! | response | `<base64>` | `<base64>` | `<base64>` |
//! | cancel (`*`) | `501` | `<tag> BAD` | `-ERR` |
//! | success / failure | `235` / `535` | `<tag> OK` / `<tag> NO` | `+OK` / `-ERR` |
//!
//! ## A whole exchange in memory
//!
//! What an SMTP client and server do for `AUTH PLAIN` without an initial response, with
//! every byte that would cross the wire:
//!
//! ```
//! use mailwire_core::sasl::{
//!     decode_challenge, decode_response, encode_challenge, encode_response,
//!     ClientCredentials, ClientExchange, Credentials, Mechanism, Response, ServerExchange,
//!     ServerOptions, Step, DEFAULT_MAX_RESPONSE_LEN,
//! };
//!
//! let max = DEFAULT_MAX_RESPONSE_LEN;
//! let mut client = ClientExchange::new(
//!     Mechanism::Plain,
//!     ClientCredentials::password("tim", "tanstaaftanstaaf".to_string()),
//! )?;
//! // C: AUTH PLAIN
//! let mut server = ServerExchange::new(Mechanism::Plain, ServerOptions::default())?;
//! let Step::Challenge(challenge) = server.start(None) else { unreachable!() };
//! // S: 334 <empty>
//! let wire = encode_challenge(&challenge);
//! assert_eq!(wire, "");
//! let answer = client.respond(&decode_challenge(wire.as_bytes(), max)?)?;
//! // C: AHRpbQB0YW5zdGFhZnRhbnN0YWFm
//! let wire = encode_response(&answer);
//! assert_eq!(wire, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
//! let Response::Data(data) = decode_response(wire.as_bytes(), max)? else { unreachable!() };
//! let Step::Done(Credentials::Password(claim)) = server.step(&data) else { unreachable!() };
//! assert_eq!((claim.authzid, claim.authcid.as_str()), (None, "tim"));
//! assert_eq!(claim.password.expose(), "tanstaaftanstaaf");
//! // The application checks the password, then S: 235 2.7.0 Authentication successful
//! # Ok::<(), mailwire_core::sasl::SaslError>(())
//! ```

mod choose;
mod client;
mod credentials;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod mechanism;
mod oauth;
mod server;
mod wire;

pub use choose::{CredentialsKind, Transport, choose_mechanism};
pub use client::{ClientCredentials, ClientExchange};
pub use credentials::{
    CramMd5Credentials, Credentials, OAuthCredentials, OAuthError, PasswordCredentials,
    cram_md5_challenge,
};
pub use error::{MalformedReason, SaslError};
pub use mechanism::{Mechanism, MechanismName};
pub use server::{
    LOGIN_PASSWORD_PROMPT, LOGIN_USERNAME_PROMPT, ServerExchange, ServerOptions, Step,
};
pub use wire::{
    CANCEL, DEFAULT_MAX_RESPONSE_LEN, Response, decode_challenge, decode_response,
    encode_challenge, encode_initial_response, encode_response,
};
