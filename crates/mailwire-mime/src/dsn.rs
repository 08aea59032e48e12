//! Delivery status notifications (RFC 3464, carried in RFC 6522 `multipart/report`).
//!
//! [`DeliveryReport`] describes one notification: who reports (our host name), to
//! whom (the original envelope sender), one [`RecipientReport`] per recipient it is
//! about, and what of the original message comes back ([`Returned`]).
//! [`DeliveryReport::to_bytes`] writes the whole message:
//!
//! ```text
//! From: Mail Delivery System <MAILER-DAEMON@mx.example>
//! To: alice@example.org
//! Subject: Undelivered Mail Returned to Sender
//! Date, Message-ID, Auto-Submitted: auto-replied (RFC 3834), MIME-Version
//! Content-Type: multipart/report; report-type=delivery-status; boundary=…
//!   1. text/plain           what happened, for people
//!   2. message/delivery-status   per-message fields, then one block per recipient
//!   3. message/rfc822 | text/rfc822-headers | (nothing)   the returned original
//! ```
//!
//! # The notification is 7-bit
//!
//! A DSN may be relayed through servers without 8BITMIME or SMTPUTF8, so every part is
//! written for a 7-bit transport, with no line over 998 octets:
//! - The text part is `text/plain; charset=utf-8`, quoted-printable when it holds
//!   anything that is not 7-bit (a UTF-8 address, a remote reply with 8-bit text).
//! - `message/delivery-status` may not be transfer-encoded beyond 7bit (RFC 3464 §2.1
//!   says it is 7bit; RFC 6533's 8-bit `message/global-delivery-status` needs an
//!   SMTPUTF8 path we cannot count on). So its values are made ASCII: an address with
//!   non-ASCII characters is written with RFC 6533's `utf-8` address type as
//!   `utf-8-addr-xtext` (`\x{E9}` for `é`); other non-ASCII characters (in a
//!   diagnostic) are written the same way. CR, LF and other controls in any value
//!   become spaces: no value can start a field or a block of its own. Long values
//!   are folded at spaces (a run of more than 900 characters without a space is
//!   broken with a fold, which adds a space when unfolded).
//! - The returned message: see [`Returned`]. `message/rfc822` may only carry 7bit,
//!   8bit or binary (RFC 2046 §5.2.1 forbids base64 and quoted-printable for it), so a
//!   full original that is not 7-bit clean (8-bit octets, NUL, or lines over 998) is
//!   returned as its header only, as `text/rfc822-headers` (RFC 6522 §4), which, being
//!   `text/*`, may be quoted-printable when the header itself is 8-bit (RFC 6532).
//!
//! The report is laid out here rather than with [`MessageBuilder`](crate::MessageBuilder):
//! the builder writes any non-text leaf part as base64, and RFC 3464 §2.1 registers
//! `message/delivery-status` with the 7bit encoding only (and `message/rfc822` may
//! not be encoded at all), so the three parts are written directly with the
//! builder's own field folding, quoted-printable and CRLF helpers.
//!
//! The To field holds the original sender's address as it is: when that address is
//! not ASCII it is written as raw UTF-8 (RFC 6532), since such an address can only be
//! reached over SMTPUTF8 anyway.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use mailwire_mime::dsn::{Action, DeliveryReport, RecipientReport, Returned};
//! use mailwire_mime::Message;
//!
//! let original = b"From: alice@example.org\r\nTo: bob@example.net\r\nSubject: Hi\r\n\r\nHello\r\n";
//! let report = DeliveryReport {
//!     reporting_mta: "mx.example.org".into(),
//!     from_mailbox: "MAILER-DAEMON@mx.example.org".into(),
//!     to: "alice@example.org".into(),
//!     envelope_id: Some("QQ314159".into()),
//!     arrival: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
//!     recipients: vec![RecipientReport {
//!         final_recipient: "bob@example.net".into(),
//!         original_recipient: Some("rfc822;bob@example.net".into()),
//!         action: Action::Failed,
//!         status: (5, 1, 1),
//!         remote_mta: Some("dns;mx.example.net".into()),
//!         diagnostic: Some("550 5.1.1 <bob@example.net>: no such user".into()),
//!         last_attempt: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_060)),
//!         will_retry_until: None,
//!     }],
//!     original: Returned::Full(original),
//!     date: UNIX_EPOCH + Duration::from_secs(1_700_000_061),
//! };
//! let bytes = report.to_bytes();
//!
//! let msg = Message::parse(&bytes[..]).unwrap();
//! assert_eq!(msg.root().media_subtype(), "report");
//! let status = msg.root().children().nth(1).unwrap();
//! assert_eq!(status.media_subtype(), "delivery-status");
//! let body = String::from_utf8(status.decoded_body().to_vec()).unwrap();
//! assert!(body.contains("Final-Recipient: rfc822;bob@example.net\r\n"));
//! assert!(body.contains("Status: 5.1.1\r\n"));
//! ```

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};

use crate::encoding;
use crate::header::DateTime;

/// What happened to a recipient (RFC 3464 §2.3.3, the `Action` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Delivery failed for good; the message will not be retried (status 5.x.x).
    Failed,
    /// Delivery has not succeeded yet and is still being retried (status 4.x.x).
    Delayed,
    /// Delivered to the recipient's mailbox (status 2.x.x).
    Delivered,
    /// Handed on to a system that sends no further notifications (status 2.x.x).
    Relayed,
    /// Delivered and forwarded to further recipients (status 2.x.x).
    Expanded,
}

impl Action {
    /// The field value: `failed`, `delayed`, `delivered`, `relayed` or `expanded`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
            Action::Expanded => "expanded",
        }
    }

    /// The status a report for this action gets when the one given is not a valid
    /// RFC 3463 code.
    fn default_status(self) -> (u8, u16, u16) {
        match self {
            Action::Failed => (5, 0, 0),
            Action::Delayed => (4, 0, 0),
            _ => (2, 0, 0),
        }
    }
}

/// One recipient's block in the `message/delivery-status` part (RFC 3464 §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientReport {
    /// The envelope recipient (RCPT TO address), without an address type: it is
    /// written as `rfc822;ADDR`, or as RFC 6533 `utf-8;…` when it is not ASCII.
    /// A leading `rfc822;` is accepted and not doubled.
    pub final_recipient: String,
    /// The ORCPT parameter, if the client gave one, as `addr-type;address` with the
    /// address already decoded from xtext (as mailwire-smtp's `OriginalRecipient`
    /// holds it), e.g. `rfc822;bob@example.net`. Without a `;` the type is `rfc822`.
    pub original_recipient: Option<String>,
    /// What happened.
    pub action: Action,
    /// The RFC 3463 status code `(class, subject, detail)`, e.g. `(5, 1, 1)`. A code
    /// that is not valid (class not 2, 4 or 5, or a part over 999) is written as the
    /// action's generic one (5.0.0, 4.0.0 or 2.0.0).
    pub status: (u8, u16, u16),
    /// The remote server that gave the answer: `dns;HOST`, or just `HOST` (the type
    /// `dns` is then added).
    pub remote_mta: Option<String>,
    /// The remote server's reply, e.g. `550 5.1.1 no such user` (the lines of a
    /// multi-line reply may be joined with line breaks; they become spaces). A text
    /// that starts with a reply code is written as `smtp; …`, any other (a local
    /// error such as a DNS failure) as `X-mailwire; …`.
    pub diagnostic: Option<String>,
    /// When delivery was last attempted.
    pub last_attempt: Option<SystemTime>,
    /// For [`Action::Delayed`]: until when delivery will be retried.
    pub will_retry_until: Option<SystemTime>,
}

/// What of the original message the notification returns (the RET parameter,
/// RFC 3461 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned<'a> {
    /// The whole message (RET=FULL): `message/rfc822` when it is 7-bit clean,
    /// otherwise only its header as `text/rfc822-headers` (see the module notes).
    /// Only a report with at least one [`Action::Failed`] recipient returns the whole
    /// message; any other (a delay warning) returns the header, as RFC 3461 §4.3 and
    /// §6.2 ask.
    Full(&'a [u8]),
    /// Only the header (RET=HDRS): pass the whole message, the header is cut from it
    /// (everything before the first empty line) and returned as `text/rfc822-headers`.
    Headers(&'a [u8]),
    /// Nothing: the report has two parts.
    Nothing,
}

/// A delivery status notification to write (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport<'a> {
    /// Our host name, written as `Reporting-MTA: dns;NAME` and used in the text and
    /// the generated Message-ID.
    pub reporting_mta: String,
    /// The From address, e.g. `MAILER-DAEMON@mx.example.org` (shown with the display
    /// name "Mail Delivery System").
    pub from_mailbox: String,
    /// The original envelope sender, who gets the notification (the To field).
    pub to: String,
    /// The ENVID parameter, decoded from xtext (`Original-Envelope-Id`). Leave it
    /// `None` when the client gave none (RFC 3461 §6.3 forbids the field then).
    pub envelope_id: Option<String>,
    /// When we received the message (`Arrival-Date`).
    pub arrival: Option<SystemTime>,
    /// One block per recipient this notification is about, in this order.
    pub recipients: Vec<RecipientReport>,
    /// What of the original comes back.
    pub original: Returned<'a>,
    /// The Date field (and the seed of the Message-ID and boundary).
    pub date: SystemTime,
}

impl DeliveryReport<'_> {
    /// The whole notification, with CRLF line breaks.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_hint());
        self.write_into(&mut out);
        out
    }

    /// Writes the whole notification (CRLF line breaks) into `w`.
    pub fn write_to<W: Write>(&self, mut w: W) -> io::Result<()> {
        w.write_all(&self.to_bytes())
    }

    /// The Message-ID written, without angle brackets. It is derived from every
    /// field of the report (the date to the nanosecond among them), so two reports
    /// differ in it whenever they differ at all, and writing one report twice gives
    /// the same bytes.
    pub fn message_id(&self) -> String {
        format!(
            "{}.dsn@{}",
            hex(&self.digest()[..12]),
            host_part(&self.reporting_mta)
        )
    }

    /// The Subject written: about failures if any recipient failed, else about delays
    /// if any is delayed, else a success report.
    pub fn subject(&self) -> &'static str {
        if self.has(Action::Failed) {
            "Undelivered Mail Returned to Sender"
        } else if self.has(Action::Delayed) {
            "Delayed Mail (still being retried)"
        } else {
            "Successful Mail Delivery Report"
        }
    }

    /// The third part. RET only applies to failure reports: any other returns the
    /// header only (RFC 3461 §4.3: "If a DSN contains no indications of delivery
    /// failure, only the headers of the message should be returned").
    fn returned(&self) -> ReturnedPart {
        match self.original {
            Returned::Full(m) if !self.has(Action::Failed) && !m.is_empty() => {
                ReturnedPart::headers(m, false)
            }
            r => ReturnedPart::of(r),
        }
    }

    fn has(&self, a: Action) -> bool {
        self.recipients.iter().any(|r| r.action == a)
    }

    fn size_hint(&self) -> usize {
        let orig = match self.original {
            Returned::Full(b) => b.len() + b.len() / 32,
            Returned::Headers(b) => header_section(b).len() * 2,
            Returned::Nothing => 0,
        };
        2048 + self.recipients.len() * 600 + orig
    }

    /// MD5 over every field: the Message-ID and boundary seed.
    fn digest(&self) -> [u8; 16] {
        let mut h = Md5::new();
        let mut field = |b: &[u8]| {
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        };
        let time = |t: Option<SystemTime>| -> Vec<u8> {
            t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos().to_le_bytes().to_vec())
                .unwrap_or_default()
        };
        field(self.reporting_mta.as_bytes());
        field(self.from_mailbox.as_bytes());
        field(self.to.as_bytes());
        field(self.envelope_id.as_deref().unwrap_or("").as_bytes());
        field(&time(self.arrival));
        field(&time(Some(self.date)));
        for r in &self.recipients {
            field(r.final_recipient.as_bytes());
            field(r.original_recipient.as_deref().unwrap_or("").as_bytes());
            field(r.action.as_str().as_bytes());
            field(format!("{:?}", r.status).as_bytes());
            field(r.remote_mta.as_deref().unwrap_or("").as_bytes());
            field(r.diagnostic.as_deref().unwrap_or("").as_bytes());
            field(&time(r.last_attempt));
            field(&time(r.will_retry_until));
        }
        match self.original {
            Returned::Full(b) => {
                field(b"full");
                field(&Md5::digest(b));
            }
            Returned::Headers(b) => {
                field(b"headers");
                field(&Md5::digest(b));
            }
            Returned::Nothing => field(b"nothing"),
        }
        h.finalize().into()
    }

    fn write_into(&self, out: &mut Vec<u8>) {
        let text = self.human_text();
        let status = self.delivery_status();
        let returned = self.returned();
        let digest = self.digest();
        let boundary = boundary(&digest, &[&text.body, &status, returned.body()]);

        // Top-level header. Writing to a Vec cannot fail.
        let _ = self.write_header(out, &boundary);
        out.extend_from_slice(b"This is a MIME-encapsulated message.\r\n\r\n");

        delimiter(out, &boundary, false);
        out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
        out.extend_from_slice(b"Content-Description: Notification\r\n");
        if text.quoted_printable {
            out.extend_from_slice(b"Content-Transfer-Encoding: quoted-printable\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&text.body);
        out.extend_from_slice(b"\r\n");

        delimiter(out, &boundary, false);
        out.extend_from_slice(b"Content-Type: message/delivery-status\r\n");
        out.extend_from_slice(b"Content-Description: Delivery report\r\n\r\n");
        out.extend_from_slice(&status);
        out.extend_from_slice(b"\r\n");

        if let Some(head) = returned.head() {
            delimiter(out, &boundary, false);
            out.extend_from_slice(head.as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(returned.body());
            out.extend_from_slice(b"\r\n");
        }
        delimiter(out, &boundary, true);
    }

    fn write_header(&self, out: &mut Vec<u8>, boundary: &str) -> io::Result<()> {
        let date = DateTime::from_unix(unix_secs(self.date));
        encoding::write_field(out, "From", &from_tokens(&self.from_mailbox))?;
        let to = address_token(&self.to);
        let to = if to.is_empty() {
            "undisclosed-recipients:;".to_string()
        } else {
            to
        };
        encoding::write_field(out, "To", &[to])?;
        encoding::write_field(
            out,
            "Subject",
            &encoding::text_tokens(self.subject(), false),
        )?;
        encoding::write_field(out, "Date", &[date.to_string()])?;
        encoding::write_field(out, "Message-ID", &[format!("<{}>", self.message_id())])?;
        out.extend_from_slice(b"Auto-Submitted: auto-replied\r\n");
        out.extend_from_slice(b"MIME-Version: 1.0\r\n");
        encoding::write_field(
            out,
            "Content-Type",
            &[
                "multipart/report;".into(),
                "report-type=delivery-status;".into(),
                format!("boundary=\"{boundary}\""),
            ],
        )?;
        out.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// The human-readable part, as written (7bit or quoted-printable).
    fn human_text(&self) -> TextBody {
        let mta = one_line(&self.reporting_mta);
        let mut t = String::with_capacity(512 + self.recipients.len() * 200);
        t.push_str(&format!("This is the mail system at host {mta}.\n\n"));
        let failed: Vec<&RecipientReport> = self
            .recipients
            .iter()
            .filter(|r| r.action == Action::Failed)
            .collect();
        let delayed: Vec<&RecipientReport> = self
            .recipients
            .iter()
            .filter(|r| r.action == Action::Delayed)
            .collect();
        let done: Vec<&RecipientReport> = self
            .recipients
            .iter()
            .filter(|r| !matches!(r.action, Action::Failed | Action::Delayed))
            .collect();
        if !failed.is_empty() {
            t.push_str(
                "Your message could not be delivered to the following recipients.\n\
                 This is a permanent error; the mail system has given up:\n\n",
            );
            for r in &failed {
                recipient_text(&mut t, r);
            }
        }
        if !delayed.is_empty() {
            t.push_str(
                "Your message has not been delivered yet to the following recipients.\n\
                 This is only a warning: you do not need to send the message again.\n\n",
            );
            for r in &delayed {
                recipient_text(&mut t, r);
                if let Some(until) = r.will_retry_until {
                    let d = DateTime::from_unix(unix_secs(until));
                    t.push_str(&format!(
                        "    The mail system will keep trying until {d}.\n\n"
                    ));
                }
            }
        }
        if !done.is_empty() {
            t.push_str("Your message was delivered to the following recipients:\n\n");
            for r in &done {
                recipient_text(&mut t, r);
            }
        }
        match self.returned() {
            ReturnedPart::Message(_) => {
                t.push_str("The original message is attached.\n");
            }
            ReturnedPart::Headers { fallback: true, .. } => t.push_str(
                "The header of the original message is attached (the message itself is \
                 not 7-bit clean and cannot be returned whole in this report).\n",
            ),
            ReturnedPart::Headers { .. } => {
                t.push_str("The header of the original message is attached.\n");
            }
            ReturnedPart::None => {}
        }
        let st = encoding::stats(t.as_bytes());
        let mut body = Vec::with_capacity(t.len() + 64);
        let quoted_printable = st.non_ascii > 0 || st.max_line > 998;
        // Writing to a Vec cannot fail.
        let _ = if quoted_printable {
            encoding::write_quoted_printable(t.as_bytes(), &mut body)
        } else {
            encoding::write_crlf_text(t.as_bytes(), &mut body)
        };
        TextBody {
            body,
            quoted_printable,
        }
    }

    /// The body of the `message/delivery-status` part: the per-message block, then
    /// one block per recipient, separated by empty lines. Ends with CRLF.
    fn delivery_status(&self) -> Vec<u8> {
        let mut o = Vec::with_capacity(256 + self.recipients.len() * 400);
        if let Some(id) = &self.envelope_id {
            status_field(&mut o, "Original-Envelope-Id", &ascii_text(id));
        }
        status_field(
            &mut o,
            "Reporting-MTA",
            &format!("dns;{}", ascii_text(&self.reporting_mta)),
        );
        if let Some(t) = self.arrival {
            status_field(&mut o, "Arrival-Date", &date_string(t));
        }
        for r in &self.recipients {
            o.extend_from_slice(b"\r\n");
            if let Some(orcpt) = &r.original_recipient {
                status_field(&mut o, "Original-Recipient", &original_recipient(orcpt));
            }
            status_field(
                &mut o,
                "Final-Recipient",
                &typed_address(strip_type(&r.final_recipient, "rfc822")),
            );
            status_field(&mut o, "Action", r.action.as_str());
            let (c, s, d) = valid_status(r.status).unwrap_or(r.action.default_status());
            status_field(&mut o, "Status", &format!("{c}.{s}.{d}"));
            if let Some(m) = &r.remote_mta {
                status_field(&mut o, "Remote-MTA", &mta_name(m));
            }
            if let Some(diag) = &r.diagnostic {
                status_field(&mut o, "Diagnostic-Code", &diagnostic(diag));
            }
            if let Some(t) = r.last_attempt {
                status_field(&mut o, "Last-Attempt-Date", &date_string(t));
            }
            if let Some(t) = r.will_retry_until {
                status_field(&mut o, "Will-Retry-Until", &date_string(t));
            }
        }
        o
    }
}

struct TextBody {
    body: Vec<u8>,
    quoted_printable: bool,
}

/// The third part, decided from [`Returned`].
enum ReturnedPart {
    /// `message/rfc822`, 7bit, the message with CRLF line breaks.
    Message(Vec<u8>),
    /// `text/rfc822-headers`: the header (CRLF), written as `body` (7bit or QP).
    Headers {
        body: Vec<u8>,
        quoted_printable: bool,
        charset: Option<&'static str>,
        /// A full message was asked for but could not be returned whole.
        fallback: bool,
    },
    None,
}

impl ReturnedPart {
    fn of(r: Returned<'_>) -> ReturnedPart {
        match r {
            Returned::Nothing => ReturnedPart::None,
            Returned::Full([]) => ReturnedPart::None,
            Returned::Full(m) => {
                let st = encoding::stats(m);
                if st.non_ascii == 0 && !st.has_nul && st.max_line <= 998 {
                    let mut body = Vec::with_capacity(m.len() + m.len() / 32);
                    // Writing to a Vec cannot fail.
                    let _ = encoding::write_crlf_text(m, &mut body);
                    ReturnedPart::Message(body)
                } else {
                    // message/rfc822 can only be 7bit, 8bit or binary (RFC 2046
                    // §5.2.1: no base64 or quoted-printable), and a DSN must travel
                    // over any 7-bit path, so an original that is not 7-bit clean
                    // cannot be returned whole. RFC 3461 §4.3 lets the reporting MTA
                    // return just the header instead; text/rfc822-headers, being
                    // text/*, may itself be quoted-printable if the header is 8-bit.
                    Self::headers(m, true)
                }
            }
            Returned::Headers(m) => Self::headers(m, false),
        }
    }

    fn headers(m: &[u8], fallback: bool) -> ReturnedPart {
        let head = header_section(m);
        let mut crlf = Vec::with_capacity(head.len() + head.len() / 32 + 2);
        // Writing to a Vec cannot fail.
        let _ = encoding::write_crlf_text(head, &mut crlf);
        if !crlf.is_empty() && !crlf.ends_with(b"\r\n") {
            crlf.extend_from_slice(b"\r\n");
        }
        let st = encoding::stats(&crlf);
        if st.non_ascii == 0 && !st.has_nul && st.max_line <= 998 {
            return ReturnedPart::Headers {
                body: crlf,
                quoted_printable: false,
                charset: None,
                fallback,
            };
        }
        let charset = if std::str::from_utf8(&crlf).is_ok() {
            "utf-8"
        } else {
            "unknown-8bit"
        };
        let mut body = Vec::with_capacity(crlf.len() * 2);
        let _ = encoding::write_quoted_printable(&crlf, &mut body);
        ReturnedPart::Headers {
            body,
            quoted_printable: true,
            charset: Some(charset),
            fallback,
        }
    }

    fn body(&self) -> &[u8] {
        match self {
            ReturnedPart::Message(b) | ReturnedPart::Headers { body: b, .. } => b,
            ReturnedPart::None => &[],
        }
    }

    /// The part's header (ending with the empty line), or `None` for no part.
    fn head(&self) -> Option<String> {
        match self {
            ReturnedPart::Message(_) => Some(
                "Content-Type: message/rfc822\r\n\
                 Content-Description: Undelivered Message\r\n"
                    .into(),
            ),
            ReturnedPart::Headers {
                quoted_printable,
                charset,
                ..
            } => {
                let mut h = String::from("Content-Type: text/rfc822-headers");
                if let Some(c) = charset {
                    h.push_str("; charset=");
                    h.push_str(c);
                }
                h.push_str("\r\nContent-Description: Undelivered Message Headers\r\n");
                if *quoted_printable {
                    h.push_str("Content-Transfer-Encoding: quoted-printable\r\n");
                }
                Some(h)
            }
            ReturnedPart::None => None,
        }
    }
}

/// The header section of a message: everything before the first empty line (CRLF
/// or LF), or all of it when there is none. The empty line is not included.
fn header_section(m: &[u8]) -> &[u8] {
    if m.starts_with(b"\r\n") || m.starts_with(b"\n") {
        return &[];
    }
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'\n', m.get(i..).unwrap_or_default()) {
        let nl = i + p;
        let next = m.get(nl + 1..).unwrap_or_default();
        if next.starts_with(b"\r\n") || next.starts_with(b"\n") {
            return m.get(..nl + 1).unwrap_or(m);
        }
        i = nl + 1;
    }
    m
}

fn delimiter(out: &mut Vec<u8>, boundary: &str, close: bool) {
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    if close {
        out.extend_from_slice(b"--");
    }
    out.extend_from_slice(b"\r\n");
}

/// A boundary that occurs in none of the bodies. `=_` never occurs in
/// quoted-printable output, so only bodies written as they are can collide.
fn boundary(digest: &[u8; 16], bodies: &[&[u8]]) -> String {
    let base = hex(&digest[..10]);
    let mut salt = 0u32;
    loop {
        let b = if salt == 0 {
            format!("=_dsn{base}")
        } else {
            format!("=_dsn{base}_{salt}")
        };
        let finder = memchr::memmem::Finder::new(b.as_bytes());
        if bodies.iter().all(|body| finder.find(body).is_none()) {
            return b;
        }
        salt += 1;
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(0),
    }
}

fn date_string(t: SystemTime) -> String {
    DateTime::from_unix(unix_secs(t)).to_string()
}

/// The host name for the Message-ID: letters, digits, `.` and `-` only.
fn host_part(mta: &str) -> String {
    let h: String = mta
        .trim()
        .trim_start_matches("dns;")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .take(200)
        .collect();
    let h = h.trim_matches('.');
    if h.is_empty() {
        "localhost".into()
    } else {
        h.into()
    }
}

/// Controls (CR and LF among them) become spaces, runs of white space one space,
/// and the ends are trimmed: the text fits on one logical line.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_control() || c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// [`one_line`], with every character that is not printable ASCII written as
/// RFC 6533's `\x{HEX}`.
fn ascii_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\x{{{:02X}}}", u32::from(c)));
        }
    }
    out
}

/// RFC 6533 `utf-8-addr-xtext`: QCHAR (printable ASCII but `+`, `=` and `\`) as
/// itself, everything else as `\x{HEX}`.
fn utf8_addr_xtext(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if c.is_ascii_graphic() && !matches!(c, '+' | '=' | '\\') {
            out.push(c);
        } else {
            out.push_str(&format!("\\x{{{:02X}}}", u32::from(c)));
        }
    }
    out
}

/// `rfc822;ADDR` for an ASCII address, `utf-8;XTEXT` (RFC 6533) otherwise.
fn typed_address(addr: &str) -> String {
    let a = one_line(addr);
    if a.is_ascii() {
        format!("rfc822;{a}")
    } else {
        format!("utf-8;{}", utf8_addr_xtext(&a))
    }
}

/// `s` without a leading `TYPE;` (case-insensitive).
fn strip_type<'s>(s: &'s str, ty: &str) -> &'s str {
    let t = s.trim_start();
    match t.split_once(';') {
        Some((k, rest)) if k.trim().eq_ignore_ascii_case(ty) => rest.trim_start(),
        _ => s,
    }
}

/// The Original-Recipient value from `type;address` (decoded ORCPT).
fn original_recipient(orcpt: &str) -> String {
    let (ty, addr) = match orcpt.split_once(';') {
        Some((t, a))
            if !t.trim().is_empty()
                && t.trim()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            (t.trim(), a.trim_start())
        }
        _ => ("rfc822", orcpt),
    };
    if ty.eq_ignore_ascii_case("rfc822") {
        typed_address(addr)
    } else if ty.eq_ignore_ascii_case("utf-8") {
        // Already utf-8-addr-xtext (ASCII); any raw non-ASCII is escaped.
        format!("utf-8;{}", ascii_text(addr))
    } else {
        format!("{ty};{}", ascii_text(addr))
    }
}

/// `dns;HOST` from `dns;HOST` or `HOST` (any other `type;name` is kept).
fn mta_name(m: &str) -> String {
    match m.split_once(';') {
        Some((t, rest))
            if !t.trim().is_empty()
                && t.trim()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            format!("{};{}", t.trim(), ascii_text(rest))
        }
        _ => format!("dns;{}", ascii_text(m)),
    }
}

/// `smtp; TEXT` when the text starts with an SMTP reply code, `X-mailwire; TEXT`
/// otherwise.
fn diagnostic(d: &str) -> String {
    let text = ascii_text(d);
    let b = text.as_bytes();
    let is_reply = b.len() >= 3
        && matches!(b.first(), Some(b'2'..=b'5'))
        && b.get(1).is_some_and(u8::is_ascii_digit)
        && b.get(2).is_some_and(u8::is_ascii_digit)
        && b.get(3).is_none_or(|c| matches!(c, b' ' | b'-'));
    if is_reply {
        format!("smtp; {text}")
    } else {
        format!("X-mailwire; {text}")
    }
}

fn valid_status((c, s, d): (u8, u16, u16)) -> Option<(u8, u16, u16)> {
    (matches!(c, 2 | 4 | 5) && s <= 999 && d <= 999).then_some((c, s, d))
}

/// Tokens for `Mail Delivery System <ADDR>`.
fn from_tokens(addr: &str) -> Vec<String> {
    let a = address_token(addr);
    if a.is_empty() {
        return vec![
            "Mail".into(),
            "Delivery".into(),
            "System".into(),
            "<MAILER-DAEMON>".into(),
        ];
    }
    vec![
        "Mail".into(),
        "Delivery".into(),
        "System".into(),
        format!("<{a}>"),
    ]
}

/// An address for a header field: one line, without angle brackets or white space,
/// and at most 900 octets (no real address comes near: RFC 5321 allows 256), so the
/// line stays within 998 octets.
fn address_token(addr: &str) -> String {
    let a = one_line(addr);
    let mut out = String::with_capacity(a.len().min(900));
    for c in a
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '<' && *c != '>')
    {
        if out.len() + c.len_utf8() > 900 {
            break;
        }
        out.push(c);
    }
    out
}

/// Writes one `Name: value` field of the delivery-status part. `value` is ASCII on
/// one line (see [`ascii_text`]); it is folded before a space so that lines stay
/// within 78 characters where possible, and a run of more than 900 characters
/// without a space is broken so that no line passes 998.
fn status_field(o: &mut Vec<u8>, name: &str, value: &str) {
    const SOFT: usize = 78;
    const HARD: usize = 900;
    o.extend_from_slice(name.as_bytes());
    o.extend_from_slice(b":");
    let mut col = name.len() + 1;
    let mut first = true;
    for word in value.split(' ') {
        // The first word follows the colon and a space; later ones a space that
        // may become a fold.
        if !first && col + 1 + word.len() > SOFT {
            o.extend_from_slice(b"\r\n");
            col = 0;
        }
        o.push(b' ');
        col += 1;
        first = false;
        let mut w = word;
        while col + w.len() > HARD + 1 {
            let room = (HARD + 1).saturating_sub(col).max(1);
            let cut = (0..=room.min(w.len()))
                .rev()
                .find(|&i| w.is_char_boundary(i))
                .unwrap_or(0)
                .max(1);
            let (head, tail) = w.split_at(cut.min(w.len()));
            o.extend_from_slice(head.as_bytes());
            o.extend_from_slice(b"\r\n ");
            col = 1;
            w = tail;
        }
        o.extend_from_slice(w.as_bytes());
        col += w.len();
    }
    o.extend_from_slice(b"\r\n");
}

/// One recipient's paragraph in the text part.
fn recipient_text(t: &mut String, r: &RecipientReport) {
    let addr = one_line(strip_type(&r.final_recipient, "rfc822"));
    t.push_str(&format!("<{addr}>"));
    if let Some(m) = &r.remote_mta {
        let host = one_line(strip_type(m, "dns"));
        t.push_str(&format!(": host {host} said:"));
    } else {
        t.push(':');
    }
    t.push('\n');
    let (c, s, d) = valid_status(r.status).unwrap_or(r.action.default_status());
    match &r.diagnostic {
        Some(diag) => {
            // The lines of a multi-line reply stay lines here (each indented, so
            // none can look like a field or a boundary of ours).
            for line in diag.split(['\r', '\n']).map(one_line) {
                for piece in wrap(&line, 72) {
                    t.push_str("    ");
                    t.push_str(piece);
                    t.push('\n');
                }
            }
        }
        None => t.push_str(&format!("    status {c}.{s}.{d}\n")),
    }
    t.push('\n');
}

/// Splits text into lines of at most `width` characters at spaces (a longer word
/// gets a line of its own; the text part is quoted-printable when one passes 998).
fn wrap(s: &str, width: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut last_space = None;
    for (i, c) in s.char_indices() {
        if c == ' ' {
            if i - start > width
                && let Some(sp) = last_space
            {
                out.push(s.get(start..sp).unwrap_or_default());
                start = sp + 1;
            }
            last_space = Some(i);
        }
    }
    if s.len() - start > width
        && let Some(sp) = last_space.filter(|&sp| sp > start)
    {
        out.push(s.get(start..sp).unwrap_or_default());
        start = sp + 1;
    }
    if start < s.len() {
        out.push(s.get(start..).unwrap_or_default());
    }
    out
}

#[doc(hidden)]
pub mod fuzzing {
    //! The check behind the `mime_dsn` fuzz target and its corpus replay. Not a
    //! stable API.

    use super::*;
    use crate::parse::Message;

    /// Builds a report from arbitrary bytes (fields separated by NUL: reporting MTA,
    /// From, To, envelope id, the original, then five fields per recipient:
    /// address, ORCPT, diagnostic, remote MTA, and two octets for the action and
    /// status) and checks what is written: CRLF line breaks only, no line over 998
    /// octets, a `multipart/report` our parser reads back with one
    /// `message/delivery-status` block per recipient, each with one
    /// Final-Recipient, Action and Status.
    pub fn build(data: &[u8]) {
        let mut fields = data.split(|&b| b == 0);
        let mut next = || String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
        let (mta, from, to, envid) = (next(), next(), next(), next());
        let original = next();
        let mut recipients = Vec::new();
        loop {
            let addr = next();
            let (orcpt, diag, remote, codes) = (next(), next(), next(), next());
            if addr.is_empty() && codes.is_empty() {
                break;
            }
            let c = codes.as_bytes();
            let byte = |i: usize| c.get(i).copied().unwrap_or(0);
            let action = match byte(0) % 5 {
                0 => Action::Failed,
                1 => Action::Delayed,
                2 => Action::Delivered,
                3 => Action::Relayed,
                _ => Action::Expanded,
            };
            let t = u64::from(byte(1)) * 40_000_000;
            recipients.push(RecipientReport {
                final_recipient: addr,
                original_recipient: (!orcpt.is_empty()).then_some(orcpt),
                action,
                status: (byte(1) % 7, u16::from(byte(2)) * 5, u16::from(byte(3)) * 5),
                remote_mta: (!remote.is_empty()).then_some(remote),
                diagnostic: (!diag.is_empty()).then_some(diag),
                last_attempt: (byte(4) % 2 == 0)
                    .then(|| UNIX_EPOCH + std::time::Duration::from_secs(t)),
                will_retry_until: (byte(4) % 3 == 0)
                    .then(|| UNIX_EPOCH + std::time::Duration::from_secs(t + 86_400)),
            });
            if recipients.len() >= 50 {
                break;
            }
        }
        let returned = match data.first().copied().unwrap_or(0) % 3 {
            0 => Returned::Full(original.as_bytes()),
            1 => Returned::Headers(original.as_bytes()),
            _ => Returned::Nothing,
        };
        let report = DeliveryReport {
            reporting_mta: mta,
            from_mailbox: from,
            to,
            envelope_id: (!envid.is_empty()).then_some(envid),
            arrival: Some(UNIX_EPOCH),
            recipients,
            original: returned,
            date: UNIX_EPOCH + std::time::Duration::from_secs(data.len() as u64),
        };
        let bytes = report.to_bytes();
        check(&bytes, report.recipients.len());
    }

    /// The checks on a written report with `n` recipients.
    pub fn check(bytes: &[u8], n: usize) {
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\r' {
                assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR");
            }
            if b == b'\n' {
                assert!(i > 0 && bytes.get(i - 1) == Some(&b'\r'), "bare LF");
            }
        }
        assert!(
            bytes.split(|&b| b == b'\n').all(|l| l.len() <= 999),
            "line over 998 octets"
        );
        let msg = Message::parse(bytes).expect("a written report parses");
        let root = msg.root();
        assert_eq!(
            (root.media_type(), root.media_subtype()),
            ("multipart", "report")
        );
        assert_eq!(
            root.param("report-type").as_deref(),
            Some("delivery-status")
        );
        let parts: Vec<_> = root.children().collect();
        assert!(parts.len() == 2 || parts.len() == 3, "two or three parts");
        let status = parts.get(1).expect("a delivery-status part");
        assert_eq!(status.media_subtype(), "delivery-status");
        let body = status.body();
        assert!(body.is_ascii(), "delivery-status is ASCII");
        let text = String::from_utf8_lossy(body);
        let blocks: Vec<&str> = text
            .split("\r\n\r\n")
            .filter(|b| !b.trim().is_empty())
            .collect();
        assert_eq!(blocks.len(), 1 + n, "one block per recipient");
        for block in blocks.iter().skip(1) {
            let count = |name: &str| {
                block
                    .split("\r\n")
                    .filter(|l| l.strip_prefix(name).is_some_and(|r| r.starts_with(':')))
                    .count()
            };
            assert_eq!(count("Final-Recipient"), 1);
            assert_eq!(count("Action"), 1);
            assert_eq!(count("Status"), 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_section_cut() {
        assert_eq!(
            header_section(b"A: 1\r\nB: 2\r\n\r\nbody"),
            b"A: 1\r\nB: 2\r\n"
        );
        assert_eq!(
            header_section(b"A: 1\nB: 2\n\nbody\n\nmore"),
            b"A: 1\nB: 2\n"
        );
        assert_eq!(header_section(b"A: 1\r\n"), b"A: 1\r\n");
        assert_eq!(header_section(b"\r\nbody"), b"");
        assert_eq!(header_section(b""), b"");
    }

    #[test]
    fn utf8_addresses_use_the_utf8_type() {
        assert_eq!(typed_address("bob@example.net"), "rfc822;bob@example.net");
        assert_eq!(typed_address("jörg@bü.de"), "utf-8;j\\x{F6}rg@b\\x{FC}.de");
        assert_eq!(utf8_addr_xtext("a+b=c\\"), "a\\x{2B}b\\x{3D}c\\x{5C}");
        assert_eq!(original_recipient("rfc822;x@y"), "rfc822;x@y");
        assert_eq!(original_recipient("x@y"), "rfc822;x@y");
        assert_eq!(original_recipient("RFC822; ü@y"), "utf-8;\\x{FC}@y");
        assert_eq!(original_recipient("x400;c=de"), "x400;c=de");
    }

    #[test]
    fn values_fold_and_never_break_lines() {
        let mut o = Vec::new();
        status_field(&mut o, "Diagnostic-Code", &diagnostic(&"word ".repeat(100)));
        let s = String::from_utf8(o).unwrap();
        assert!(!s.starts_with("Diagnostic-Code: smtp; word"));
        assert!(s.starts_with("Diagnostic-Code: X-mailwire; word"));
        assert!(s.split("\r\n").all(|l| l.len() <= 78));
        let unfolded = s.trim_end().replace("\r\n", "");
        assert_eq!(
            unfolded,
            format!("Diagnostic-Code: X-mailwire; {}", ["word"; 100].join(" "))
        );
        let mut o = Vec::new();
        status_field(&mut o, "Diagnostic-Code", &"x".repeat(5000));
        assert!(o.split(|&b| b == b'\n').all(|l| l.len() <= 998));
        assert_eq!(o.iter().filter(|&&b| b == b'x').count(), 5000);
    }

    #[test]
    fn diagnostic_types() {
        assert_eq!(
            diagnostic("550 5.1.1 no\r\n550 such user"),
            "smtp; 550 5.1.1 no 550 such user"
        );
        assert_eq!(diagnostic("550-x"), "smtp; 550-x");
        assert_eq!(
            diagnostic("connection refused"),
            "X-mailwire; connection refused"
        );
        assert_eq!(diagnostic("5500 x"), "X-mailwire; 5500 x");
    }

    #[test]
    fn boundary_avoids_the_bodies() {
        let d = [7u8; 16];
        let first = boundary(&d, &[b"nothing here"]);
        let body = format!("x\r\n--{first}\r\n");
        let second = boundary(&d, &[b"a", body.as_bytes()]);
        assert_ne!(first, second);
        assert!(!body.contains(&second));
        assert_eq!(second, format!("{first}_1"));
    }

    #[test]
    fn wrap_lines() {
        assert_eq!(wrap("a b c", 3), vec!["a b", "c"]);
        assert_eq!(wrap("abcdef g", 3), vec!["abcdef", "g"]);
        assert_eq!(wrap("", 3), Vec::<&str>::new());
    }
}
