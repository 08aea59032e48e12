//! Replies a server sends often, with the enhanced status codes of RFC 3463 (which RFC 2034
//! asks for on every 2xx, 4xx and 5xx reply except the greeting and the EHLO reply). A
//! server that does not announce ENHANCEDSTATUSCODES sends
//! [`Reply::without_enhanced`] of these.

use base64::Engine as _;

use super::{EhloDomain, EnhancedCode, Reply, ReplyCode, Text};

/// A reply from constant parts. Callers pass a valid code, an enhanced code of the same
/// class, and a text without CR or LF (the `well_known_replies_are_canonical` test checks
/// every one).
fn known(code: u16, (class, subject, detail): (u8, u16, u16), text: &'static str) -> Reply {
    Reply::from_parsed(
        ReplyCode(code),
        Some(EnhancedCode::known(class, subject, detail)),
        Text::from_static(text),
    )
}

impl Reply {
    /// `220 <domain> ESMTP ready`: the greeting (no enhanced code, per RFC 2034).
    pub fn service_ready(domain: &EhloDomain) -> Reply {
        // The domain holds no CR, LF or space and cannot look like an enhanced code.
        Reply::from_parsed(
            ReplyCode::SERVICE_READY,
            None,
            Text::from_string(format!("{domain} ESMTP ready")),
        )
    }

    /// `221 2.0.0 Bye`: the answer to QUIT.
    pub fn closing() -> Reply {
        known(221, (2, 0, 0), "Bye")
    }

    /// `250 2.0.0 OK`.
    pub fn ok() -> Reply {
        known(250, (2, 0, 0), "OK")
    }

    /// `250 2.1.0 Sender OK`: the answer to MAIL.
    pub fn sender_ok() -> Reply {
        known(250, (2, 1, 0), "Sender OK")
    }

    /// `250 2.1.5 Recipient OK`: the answer to RCPT.
    pub fn recipient_ok() -> Reply {
        known(250, (2, 1, 5), "Recipient OK")
    }

    /// `250 2.6.0 Message accepted`: after the end of DATA or the last BDAT.
    pub fn message_accepted() -> Reply {
        known(250, (2, 6, 0), "Message accepted")
    }

    /// `250 2.0.0 Reset`: the answer to RSET.
    pub fn reset_ok() -> Reply {
        known(250, (2, 0, 0), "Reset")
    }

    /// `252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery`.
    pub fn cannot_verify() -> Reply {
        known(
            252,
            (2, 5, 0),
            "Cannot VRFY user, but will accept message and attempt delivery",
        )
    }

    /// `220 2.0.0 Ready to start TLS`: the answer to STARTTLS.
    pub fn ready_to_start_tls() -> Reply {
        known(220, (2, 0, 0), "Ready to start TLS")
    }

    /// `235 2.7.0 Authentication successful` (RFC 4954).
    pub fn auth_succeeded() -> Reply {
        known(235, (2, 7, 0), "Authentication successful")
    }

    /// `334 <base64>`: a SASL challenge (RFC 4954); `challenge` is the raw bytes, encoded
    /// here. An empty challenge gives `334 `.
    pub fn auth_challenge(challenge: &[u8]) -> Reply {
        // Base64 has no CR or LF, and 3xx replies never carry an enhanced code.
        Reply::from_parsed(
            ReplyCode::AUTH_CHALLENGE,
            None,
            Text::from_string(base64::engine::general_purpose::STANDARD.encode(challenge)),
        )
    }

    /// `354 End data with <CR><LF>.<CR><LF>`: the answer to DATA.
    pub fn start_mail_input() -> Reply {
        Reply::from_parsed(
            ReplyCode::START_MAIL_INPUT,
            None,
            Text::from_static(super::START_MAIL_INPUT_TEXT),
        )
    }

    /// `421 4.3.2 Service not available, closing transmission channel`.
    pub fn service_not_available() -> Reply {
        known(
            421,
            (4, 3, 2),
            "Service not available, closing transmission channel",
        )
    }

    /// `421 4.4.2 Timeout, closing transmission channel`: the session was idle too long.
    pub fn timeout() -> Reply {
        known(421, (4, 4, 2), "Timeout, closing transmission channel")
    }

    /// `421 4.7.0 Too many errors, closing transmission channel`.
    pub fn too_many_errors() -> Reply {
        known(
            421,
            (4, 7, 0),
            "Too many errors, closing transmission channel",
        )
    }

    /// `450 4.2.1 Mailbox temporarily unavailable`.
    pub fn mailbox_busy() -> Reply {
        known(450, (4, 2, 1), "Mailbox temporarily unavailable")
    }

    /// `451 4.3.0 Local error in processing`.
    pub fn local_error() -> Reply {
        known(451, (4, 3, 0), "Local error in processing")
    }

    /// `452 4.3.1 Insufficient system storage`.
    pub fn insufficient_storage() -> Reply {
        known(452, (4, 3, 1), "Insufficient system storage")
    }

    /// `452 4.5.3 Too many recipients` (RFC 5321 section 4.5.3.1.10).
    pub fn too_many_recipients() -> Reply {
        known(452, (4, 5, 3), "Too many recipients")
    }

    /// `454 4.7.0 TLS not available`: STARTTLS cannot be offered now.
    pub fn tls_not_available() -> Reply {
        known(454, (4, 7, 0), "TLS not available")
    }

    /// `500 5.5.2 Syntax error, command unrecognized`.
    pub fn syntax_error() -> Reply {
        known(500, (5, 5, 2), "Syntax error, command unrecognized")
    }

    /// `500 5.5.2 Line too long`.
    pub fn line_too_long() -> Reply {
        known(500, (5, 5, 2), "Line too long")
    }

    /// `501 5.5.4 Syntax error in parameters or arguments`.
    pub fn parameter_syntax_error() -> Reply {
        known(501, (5, 5, 4), "Syntax error in parameters or arguments")
    }

    /// `501 5.1.7 Bad sender address syntax`.
    pub fn bad_sender_syntax() -> Reply {
        known(501, (5, 1, 7), "Bad sender address syntax")
    }

    /// `501 5.1.3 Bad recipient address syntax`.
    pub fn bad_recipient_syntax() -> Reply {
        known(501, (5, 1, 3), "Bad recipient address syntax")
    }

    /// `502 5.5.1 Command not implemented`.
    pub fn not_implemented() -> Reply {
        known(502, (5, 5, 1), "Command not implemented")
    }

    /// `503 5.5.1 Bad sequence of commands`.
    pub fn bad_sequence() -> Reply {
        known(503, (5, 5, 1), "Bad sequence of commands")
    }

    /// `504 5.5.4 Command parameter not implemented`.
    pub fn parameter_not_implemented() -> Reply {
        known(504, (5, 5, 4), "Command parameter not implemented")
    }

    /// `530 5.7.0 Must issue a STARTTLS command first`.
    pub fn starttls_required() -> Reply {
        known(530, (5, 7, 0), "Must issue a STARTTLS command first")
    }

    /// `530 5.7.0 Authentication required` (RFC 4954).
    pub fn auth_required() -> Reply {
        known(530, (5, 7, 0), "Authentication required")
    }

    /// `534 5.7.9 Authentication mechanism is too weak` (RFC 4954).
    pub fn auth_mechanism_too_weak() -> Reply {
        known(534, (5, 7, 9), "Authentication mechanism is too weak")
    }

    /// `535 5.7.8 Authentication credentials invalid` (RFC 4954).
    pub fn auth_failed() -> Reply {
        known(535, (5, 7, 8), "Authentication credentials invalid")
    }

    /// `538 5.7.11 Encryption required for requested authentication mechanism` (RFC 4954).
    pub fn encryption_required() -> Reply {
        known(
            538,
            (5, 7, 11),
            "Encryption required for requested authentication mechanism",
        )
    }

    /// `501 5.5.2 Cannot decode response`: a SASL response that is not base64 (RFC 4954).
    pub fn auth_bad_base64() -> Reply {
        known(501, (5, 5, 2), "Cannot decode response")
    }

    /// `501 5.0.0 Authentication cancelled`: the client sent `*` (RFC 4954).
    pub fn auth_cancelled() -> Reply {
        known(501, (5, 0, 0), "Authentication cancelled")
    }

    /// `550 5.1.1 No such user`.
    pub fn no_such_user() -> Reply {
        known(550, (5, 1, 1), "No such user")
    }

    /// `550 5.7.1 Relay access denied`.
    pub fn relay_denied() -> Reply {
        known(550, (5, 7, 1), "Relay access denied")
    }

    /// `552 5.3.4 Message size exceeds fixed limit` (RFC 1870).
    pub fn message_too_big() -> Reply {
        known(552, (5, 3, 4), "Message size exceeds fixed limit")
    }

    /// `552 5.2.2 Mailbox full`.
    pub fn mailbox_full() -> Reply {
        known(552, (5, 2, 2), "Mailbox full")
    }

    /// `553 5.1.3 Mailbox name not allowed`.
    pub fn mailbox_name_not_allowed() -> Reply {
        known(553, (5, 1, 3), "Mailbox name not allowed")
    }

    /// `554 5.6.0 Message contains bare CR or LF`: the SMTP smuggling defence refusing
    /// DATA with a bare line ending.
    pub fn bare_line_ending() -> Reply {
        known(554, (5, 6, 0), "Message contains bare CR or LF")
    }

    /// `554 5.5.0 Transaction failed`.
    pub fn transaction_failed() -> Reply {
        known(554, (5, 5, 0), "Transaction failed")
    }

    /// `554 5.3.2 No SMTP service here`: a greeting refusing the connection.
    pub fn no_service() -> Reply {
        known(554, (5, 3, 2), "No SMTP service here")
    }

    /// `555 5.5.4 MAIL FROM/RCPT TO parameters not recognized or not implemented`.
    pub fn parameters_not_recognized() -> Reply {
        known(
            555,
            (5, 5, 4),
            "MAIL FROM/RCPT TO parameters not recognized or not implemented",
        )
    }

    /// `553 5.6.7 Non-ASCII address not permitted without SMTPUTF8` (RFC 6531).
    pub fn smtputf8_required() -> Reply {
        known(
            553,
            (5, 6, 7),
            "Non-ASCII address not permitted without SMTPUTF8",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_replies_are_canonical() {
        let domain = EhloDomain::new("mx.example.com").unwrap();
        let all = [
            Reply::service_ready(&domain),
            Reply::closing(),
            Reply::ok(),
            Reply::sender_ok(),
            Reply::recipient_ok(),
            Reply::message_accepted(),
            Reply::reset_ok(),
            Reply::cannot_verify(),
            Reply::ready_to_start_tls(),
            Reply::auth_succeeded(),
            Reply::auth_challenge(b""),
            Reply::auth_challenge(b"<1896.697170952@postoffice.example.net>"),
            Reply::start_mail_input(),
            Reply::service_not_available(),
            Reply::timeout(),
            Reply::too_many_errors(),
            Reply::mailbox_busy(),
            Reply::local_error(),
            Reply::insufficient_storage(),
            Reply::too_many_recipients(),
            Reply::tls_not_available(),
            Reply::syntax_error(),
            Reply::line_too_long(),
            Reply::parameter_syntax_error(),
            Reply::bad_sender_syntax(),
            Reply::bad_recipient_syntax(),
            Reply::not_implemented(),
            Reply::bad_sequence(),
            Reply::parameter_not_implemented(),
            Reply::starttls_required(),
            Reply::auth_required(),
            Reply::auth_mechanism_too_weak(),
            Reply::auth_failed(),
            Reply::encryption_required(),
            Reply::auth_bad_base64(),
            Reply::auth_cancelled(),
            Reply::no_such_user(),
            Reply::relay_denied(),
            Reply::message_too_big(),
            Reply::mailbox_full(),
            Reply::mailbox_name_not_allowed(),
            Reply::bare_line_ending(),
            Reply::transaction_failed(),
            Reply::no_service(),
            Reply::parameters_not_recognized(),
            Reply::smtputf8_required(),
        ];
        for reply in all {
            // Rebuilding through the checked constructor gives the same value...
            let rebuilt = Reply::from_parts(
                ReplyCode::new(reply.code().as_u16()).unwrap(),
                reply
                    .enhanced()
                    .map(|e| EnhancedCode::new(e.class(), e.subject(), e.detail()).unwrap()),
                reply.lines(),
            )
            .unwrap();
            assert_eq!(rebuilt, reply);
            // ... and so does parsing the encoding.
            let bytes = reply.to_bytes();
            let parsed = crate::parse::parse_reply(&bytes, &Default::default())
                .unwrap()
                .unwrap();
            assert_eq!(parsed, (reply, bytes.len()));
        }
        assert_eq!(
            Reply::service_ready(&domain).to_bytes(),
            b"220 mx.example.com ESMTP ready\r\n"
        );
        assert_eq!(
            Reply::message_too_big().to_bytes(),
            b"552 5.3.4 Message size exceeds fixed limit\r\n"
        );
        // Postfix sends `334 ` for an empty challenge, and Go's net/textproto needs the
        // space.
        assert_eq!(Reply::auth_challenge(b"").to_bytes(), b"334 \r\n");
    }
}
