//! Base64 on the wire: the one encoding SMTP (`334 <base64>`), IMAP (`+ <base64>`) and POP3
//! (`+ <base64>`) share for challenges and responses.
//!
//! The protocol crate strips its own prefix (`334 `, `+ `) and the CRLF; these functions
//! see only the base64 text. Decoding is strict as RFC 4954 section 4 asks: every
//! character outside the base64 alphabet is refused, and `=` may only pad the end (a
//! missing final padding is tolerated).

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::SaslError;

/// The default limit on a decoded SASL message, in bytes: 8 KiB, enough for the largest
/// OAuth tokens in use (Microsoft's run to a few KiB) and far above what PLAIN, LOGIN and
/// CRAM-MD5 need (RFC 4616 asks for 255-byte fields).
pub const DEFAULT_MAX_RESPONSE_LEN: usize = 8 * 1024;

/// The line a client sends to cancel an exchange (RFC 4954, RFC 3501, RFC 5034).
pub const CANCEL: &[u8] = b"*";

/// The standard alphabet, padding optional on decode, canonical trailing bits required.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A client's answer to a challenge (or its initial response), decoded from the wire.
///
/// `Debug` shows only the length of the data: responses carry passwords and tokens.
#[derive(Clone, PartialEq, Eq)]
pub enum Response {
    /// The decoded bytes; empty for an empty line or `=`.
    Data(Vec<u8>),
    /// The client cancelled the exchange (`*`). The server must fail the command (SMTP
    /// `501`, IMAP `BAD`, POP3 `-ERR`).
    Cancel,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Response::Data(data) => write!(f, "Data(<{} bytes>)", data.len()),
            Response::Cancel => f.write_str("Cancel"),
        }
    }
}

/// Decodes what a client sent: a response line (after a challenge) or the initial-response
/// argument of `AUTH` / `AUTHENTICATE`, without its CRLF.
///
/// - `*` is [`Response::Cancel`];
/// - `=` is an empty response (RFC 4954 and RFC 4959 spell an empty *initial* response so;
///   it is accepted on any line since `=` alone is never valid base64);
/// - an empty line is an empty response;
/// - anything else must be base64 of at most `max_len` decoded bytes.
///
/// ```
/// use mailwire_core::sasl::{decode_response, Response, SaslError, DEFAULT_MAX_RESPONSE_LEN};
///
/// let max = DEFAULT_MAX_RESPONSE_LEN;
/// assert_eq!(decode_response(b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm", max),
///            Ok(Response::Data(b"\0tim\0tanstaaftanstaaf".to_vec())));
/// assert_eq!(decode_response(b"=", max), Ok(Response::Data(Vec::new())));
/// assert_eq!(decode_response(b"*", max), Ok(Response::Cancel));
/// assert_eq!(decode_response(b"not base64!", max), Err(SaslError::InvalidBase64));
/// assert_eq!(decode_response(b"QUFBQQ==", 3), Err(SaslError::TooLong { limit: 3 }));
/// ```
pub fn decode_response(line: &[u8], max_len: usize) -> Result<Response, SaslError> {
    match line {
        b"*" => Ok(Response::Cancel),
        b"=" | b"" => Ok(Response::Data(Vec::new())),
        _ => decode_bounded(line, max_len).map(Response::Data),
    }
}

/// Decodes a server's challenge (the text after `334 ` or `+ `), for the client side.
/// An empty text (or `=`) is an empty challenge.
///
/// ```
/// use mailwire_core::sasl::{decode_challenge, DEFAULT_MAX_RESPONSE_LEN};
/// let challenge = decode_challenge(
///     b"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
///     DEFAULT_MAX_RESPONSE_LEN,
/// );
/// assert_eq!(challenge.as_deref(), Ok(&b"<1896.697170952@postoffice.reston.mci.net>"[..]));
/// assert_eq!(decode_challenge(b"", 100), Ok(Vec::new()));
/// ```
pub fn decode_challenge(text: &[u8], max_len: usize) -> Result<Vec<u8>, SaslError> {
    match text {
        b"=" | b"" => Ok(Vec::new()),
        _ => decode_bounded(text, max_len),
    }
}

/// Encodes a server challenge for the wire (the text after `334 ` or `+ `). An empty
/// challenge is the empty string: SMTP sends `334 `, IMAP and POP3 `+ `.
///
/// ```
/// use mailwire_core::sasl::encode_challenge;
/// assert_eq!(encode_challenge(b"Username:"), "VXNlcm5hbWU6");
/// assert_eq!(encode_challenge(b""), "");
/// ```
pub fn encode_challenge(challenge: &[u8]) -> String {
    ENGINE.encode(challenge)
}

/// Encodes a client response to a challenge, for the wire. An empty response is an empty
/// line.
///
/// ```
/// use mailwire_core::sasl::encode_response;
/// assert_eq!(encode_response(b"\x01"), "AQ==");
/// assert_eq!(encode_response(b""), "");
/// ```
pub fn encode_response(response: &[u8]) -> String {
    ENGINE.encode(response)
}

/// Encodes a client's initial response, the argument of SMTP `AUTH`, IMAP `AUTHENTICATE`
/// (SASL-IR) or POP3 `AUTH`. An empty initial response is `=` (RFC 4954 section 4).
///
/// ```
/// use mailwire_core::sasl::encode_initial_response;
/// assert_eq!(encode_initial_response(b"\0tim\0tanstaaftanstaaf"), "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
/// assert_eq!(encode_initial_response(b""), "=");
/// ```
pub fn encode_initial_response(response: &[u8]) -> String {
    if response.is_empty() {
        String::from("=")
    } else {
        ENGINE.encode(response)
    }
}

/// Decodes non-empty base64 text into at most `max_len` bytes, refusing over-long input
/// before allocating for it.
fn decode_bounded(text: &[u8], max_len: usize) -> Result<Vec<u8>, SaslError> {
    // Four characters carry at most three bytes; padding may be missing.
    let max_text = max_len.div_ceil(3).saturating_mul(4);
    if text.len() > max_text {
        return Err(SaslError::TooLong { limit: max_len });
    }
    let data = ENGINE.decode(text).map_err(|_| SaslError::InvalidBase64)?;
    if data.len() > max_len {
        return Err(SaslError::TooLong { limit: max_len });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_alphabet_and_padding() {
        for bad in [
            &b"=AAA"[..],
            b"AAA=BBB",
            b"QQ==QQ==",
            b"QU JD",
            b"QUJD\r\n",
            b"QUJ-",
            b"Q",
            b"**",
        ] {
            assert_eq!(
                decode_response(bad, 100),
                Err(SaslError::InvalidBase64),
                "{bad:?}"
            );
        }
        // Missing padding is tolerated.
        assert_eq!(
            decode_response(b"QQ", 100),
            Ok(Response::Data(b"A".to_vec()))
        );
        assert_eq!(
            decode_response(b"QQ==", 100),
            Ok(Response::Data(b"A".to_vec()))
        );
    }

    #[test]
    fn limit_is_on_decoded_bytes() {
        assert_eq!(
            decode_response(b"QUJD", 3),
            Ok(Response::Data(b"ABC".to_vec()))
        );
        assert_eq!(
            decode_response(b"QUJDRA==", 3),
            Err(SaslError::TooLong { limit: 3 })
        );
        assert_eq!(
            decode_response(b"QUJDRA", 4),
            Ok(Response::Data(b"ABCD".to_vec()))
        );
        assert_eq!(
            decode_challenge(b"QUJDRA", 3),
            Err(SaslError::TooLong { limit: 3 })
        );
        assert_eq!(
            decode_response(b"QUJD", 0),
            Err(SaslError::TooLong { limit: 0 })
        );
    }

    #[test]
    fn debug_hides_response_data() {
        let shown = format!("{:?}", Response::Data(b"hunter2".to_vec()));
        assert_eq!(shown, "Data(<7 bytes>)");
    }
}
