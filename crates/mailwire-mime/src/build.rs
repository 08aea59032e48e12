//! Building and serializing messages.
//!
//! No clock and no randomness: the Date field is written only when the caller gives
//! one ([`MessageBuilder::date`], e.g. from [`DateTime::from_unix`]), and the
//! Message-ID and MIME boundaries are derived from [`WriteOptions::unique`], a value
//! the caller supplies (a random number or a counter). When no Message-ID is given,
//! it is `<{md5 of unique, date, from, to and subject, in hex}@{domain of the first From}>`,
//! so two messages differ as long as their `unique` values differ.

use std::borrow::Cow;
use std::io::{self, Write};

use md5::{Digest, Md5};

use crate::encoding::{self, BodyStats};
use crate::header::{Address, DateTime, Mailbox};
use crate::parse::Message;

/// What the transport can carry (RFC 6152 8BITMIME, RFC 3030 BINARYMIME).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transport {
    /// Only 7-bit lines of at most 998 octets: bodies use 7bit, quoted-printable or base64.
    #[default]
    SevenBit,
    /// 8-bit lines allowed (8BITMIME): text may go as 8bit.
    EightBit,
    /// Anything (BINARYMIME): binary parts go unencoded.
    Binary,
}

/// Options for serializing a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteOptions {
    /// What the transport carries; decides the transfer encodings.
    pub transport: Transport,
    /// RFC 6532: write non-ASCII header text as raw UTF-8 instead of RFC 2047 / 2231.
    pub utf8_headers: bool,
    /// Write the Bcc field (off: Bcc recipients are kept out of the message).
    pub include_bcc: bool,
    /// The caller's unique value for boundaries and the generated Message-ID.
    pub unique: u64,
}

impl WriteOptions {
    /// Default options: 7-bit transport, encoded headers, no Bcc, `unique` 0.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the transport.
    pub fn transport(mut self, t: Transport) -> Self {
        self.transport = t;
        self
    }
    /// Sets RFC 6532 mode.
    pub fn utf8_headers(mut self, on: bool) -> Self {
        self.utf8_headers = on;
        self
    }
    /// Sets whether Bcc is written.
    pub fn include_bcc(mut self, on: bool) -> Self {
        self.include_bcc = on;
        self
    }
    /// Sets the unique value.
    pub fn unique(mut self, u: u64) -> Self {
        self.unique = u;
        self
    }
}

/// Why a message could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The writer failed.
    #[error("write failed: {0}")]
    Io(#[from] io::Error),
    /// A custom header name is not 1-76 printable ASCII characters without a colon.
    #[error("invalid header name {0:?}")]
    InvalidHeaderName(String),
    /// A content type is not `type/subtype` made of token characters.
    #[error("invalid content type {0:?}")]
    InvalidContentType(String),
    /// A message id or address cannot be written (whitespace, brackets, line breaks or too long).
    #[error("invalid message id or address {0:?}")]
    InvalidToken(String),
    /// There is no From address.
    #[error("a message needs a From address")]
    MissingFrom,
    /// An attached message needs a wider transport (8-bit content, or long lines or
    /// NUL for binary) than [`WriteOptions::transport`] allows.
    #[error("an attached message needs a wider transport")]
    NeedsEightBit,
}

/// The body of a [`MimePart`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum PartBody<'a> {
    Text(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
    Multipart(Vec<MimePart<'a>>),
    Message(Cow<'a, [u8]>),
}

/// One MIME part to build: a leaf (text or bytes), a multipart, or an attached message.
///
/// Bodies are held as `Cow`: pass owned data (`String`, `Vec<u8>`) or borrow it
/// (`&str`, `&[u8]`) for the lifetime `'a`; nothing is copied until it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimePart<'a> {
    content_type: String,
    params: Vec<(String, String)>,
    disposition: Option<String>,
    filename: Option<String>,
    content_id: Option<String>,
    description: Option<String>,
    headers: Vec<(String, String)>,
    body: PartBody<'a>,
}

impl<'a> MimePart<'a> {
    fn with(content_type: &str, body: PartBody<'a>) -> Self {
        MimePart {
            content_type: content_type.to_ascii_lowercase(),
            params: Vec::new(),
            disposition: None,
            filename: None,
            content_id: None,
            description: None,
            headers: Vec::new(),
            body,
        }
    }

    /// A `text/plain; charset=utf-8` part.
    pub fn text(text: impl Into<Cow<'a, str>>) -> Self {
        Self::text_subtype("plain", text)
    }

    /// A `text/html; charset=utf-8` part.
    pub fn html(html: impl Into<Cow<'a, str>>) -> Self {
        Self::text_subtype("html", html)
    }

    /// A `text/{subtype}; charset=utf-8` part. Line breaks are written as CRLF.
    pub fn text_subtype(subtype: &str, text: impl Into<Cow<'a, str>>) -> Self {
        let mut p = Self::with(&format!("text/{subtype}"), PartBody::Text(text.into()));
        p.params.push(("charset".into(), "utf-8".into()));
        p
    }

    /// A part with any content type holding these bytes as they are.
    pub fn binary(content_type: &str, data: impl Into<Cow<'a, [u8]>>) -> Self {
        Self::with(content_type, PartBody::Bytes(data.into()))
    }

    /// An attachment: `Content-Disposition: attachment` with a file name.
    pub fn attachment(
        content_type: &str,
        filename: impl Into<String>,
        data: impl Into<Cow<'a, [u8]>>,
    ) -> Self {
        let mut p = Self::binary(content_type, data);
        p.disposition = Some("attachment".into());
        p.filename = Some(filename.into());
        p
    }

    /// An inline part (an image for `multipart/related`) referred to by `cid:{content_id}`.
    pub fn inline(
        content_type: &str,
        content_id: impl Into<String>,
        data: impl Into<Cow<'a, [u8]>>,
    ) -> Self {
        let mut p = Self::binary(content_type, data);
        p.disposition = Some("inline".into());
        p.content_id = Some(content_id.into());
        p
    }

    /// A `multipart/{subtype}` of these parts.
    pub fn multipart(subtype: &str, parts: Vec<MimePart<'a>>) -> Self {
        Self::with(&format!("multipart/{subtype}"), PartBody::Multipart(parts))
    }

    /// `multipart/alternative`: the same content in several forms, simplest first.
    pub fn alternative(parts: Vec<MimePart<'a>>) -> Self {
        Self::multipart("alternative", parts)
    }

    /// `multipart/related`: a root (usually HTML) and the parts it refers to.
    pub fn related(parts: Vec<MimePart<'a>>) -> Self {
        Self::multipart("related", parts)
    }

    /// `multipart/mixed`: a body followed by attachments.
    pub fn mixed(parts: Vec<MimePart<'a>>) -> Self {
        Self::multipart("mixed", parts)
    }

    /// A `message/rfc822` part holding these message bytes unchanged (line breaks
    /// are written as CRLF).
    pub fn message(raw: impl Into<Cow<'a, [u8]>>) -> Self {
        Self::with("message/rfc822", PartBody::Message(raw.into()))
    }

    /// A `message/rfc822` part forwarding a parsed message unchanged (borrowing its bytes).
    pub fn forward(message: &'a Message<'_>) -> Self {
        Self::message(message.raw())
    }

    /// This part with every borrowed body copied, so it no longer borrows anything.
    pub fn into_owned(self) -> MimePart<'static> {
        let body = match self.body {
            PartBody::Text(t) => PartBody::Text(Cow::Owned(t.into_owned())),
            PartBody::Bytes(b) => PartBody::Bytes(Cow::Owned(b.into_owned())),
            PartBody::Message(m) => PartBody::Message(Cow::Owned(m.into_owned())),
            PartBody::Multipart(ps) => {
                PartBody::Multipart(ps.into_iter().map(MimePart::into_owned).collect())
            }
        };
        MimePart {
            content_type: self.content_type,
            params: self.params,
            disposition: self.disposition,
            filename: self.filename,
            content_id: self.content_id,
            description: self.description,
            headers: self.headers,
            body,
        }
    }

    /// Sets the file name (Content-Disposition `filename`, and Content-Type `name`).
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.filename = Some(name.into());
        if self.disposition.is_none() {
            self.disposition = Some("attachment".into());
        }
        self
    }

    /// Sets the disposition (`inline` or `attachment`).
    pub fn disposition(mut self, d: &str) -> Self {
        self.disposition = Some(d.to_ascii_lowercase());
        self
    }

    /// Sets the Content-ID (without angle brackets).
    pub fn content_id(mut self, id: impl Into<String>) -> Self {
        self.content_id = Some(id.into());
        self
    }

    /// Sets the Content-Description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Adds a Content-Type parameter.
    pub fn param(mut self, name: &str, value: impl Into<String>) -> Self {
        self.params.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// Adds a custom header field to the part (unstructured text, encoded as needed).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// Builds a message. Set the fields, then write it with [`MessageBuilder::write_to`].
///
/// Bodies and attachments may be borrowed for `'a` (see [`MimePart`]); writing
/// never copies them into a temporary tree, it encodes them straight into the writer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageBuilder<'a> {
    from: Vec<Address>,
    sender: Option<Mailbox>,
    reply_to: Vec<Address>,
    to: Vec<Address>,
    cc: Vec<Address>,
    bcc: Vec<Address>,
    subject: Option<String>,
    date: Option<DateTime>,
    message_id: Option<String>,
    in_reply_to: Vec<String>,
    references: Vec<String>,
    headers: Vec<(String, String)>,
    body: Option<MimePart<'a>>,
    text: Option<MimePart<'a>>,
    html: Option<MimePart<'a>>,
    inline: Vec<MimePart<'a>>,
    attachments: Vec<MimePart<'a>>,
}

impl<'a> MessageBuilder<'a> {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a From address.
    pub fn from(mut self, a: impl Into<Address>) -> Self {
        self.from.push(a.into());
        self
    }
    /// Sets the Sender.
    pub fn sender(mut self, m: impl Into<Mailbox>) -> Self {
        self.sender = Some(m.into());
        self
    }
    /// Adds a Reply-To address.
    pub fn reply_to(mut self, a: impl Into<Address>) -> Self {
        self.reply_to.push(a.into());
        self
    }
    /// Adds a To address (a mailbox or a group).
    pub fn to(mut self, a: impl Into<Address>) -> Self {
        self.to.push(a.into());
        self
    }
    /// Adds a Cc address.
    pub fn cc(mut self, a: impl Into<Address>) -> Self {
        self.cc.push(a.into());
        self
    }
    /// Adds a Bcc address (written only with [`WriteOptions::include_bcc`]).
    pub fn bcc(mut self, a: impl Into<Address>) -> Self {
        self.bcc.push(a.into());
        self
    }
    /// Sets the Subject.
    pub fn subject(mut self, s: impl Into<String>) -> Self {
        self.subject = Some(s.into());
        self
    }
    /// Sets the Date.
    pub fn date(mut self, d: DateTime) -> Self {
        self.date = Some(d);
        self
    }
    /// Sets the Message-ID (without angle brackets); otherwise one is generated.
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = Some(id.into());
        self
    }
    /// Adds an In-Reply-To id (without angle brackets).
    pub fn in_reply_to(mut self, id: impl Into<String>) -> Self {
        self.in_reply_to.push(id.into());
        self
    }
    /// Adds a References id (without angle brackets).
    pub fn references(mut self, id: impl Into<String>) -> Self {
        self.references.push(id.into());
        self
    }
    /// Adds a custom header field (unstructured text, encoded as needed).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    /// Sets the whole body. When set, `text_body`, `html_body`, `inline` and
    /// `attachment` are ignored.
    pub fn body(mut self, part: MimePart<'a>) -> Self {
        self.body = Some(part);
        self
    }
    /// Sets the plain text body.
    pub fn text_body(mut self, t: impl Into<Cow<'a, str>>) -> Self {
        self.text = Some(MimePart::text(t));
        self
    }
    /// Sets the HTML body (with a text body, they form `multipart/alternative`).
    pub fn html_body(mut self, h: impl Into<Cow<'a, str>>) -> Self {
        self.html = Some(MimePart::html(h));
        self
    }
    /// Adds an inline part to the HTML body (forms `multipart/related`), see [`MimePart::inline`].
    pub fn inline(
        mut self,
        content_type: &str,
        content_id: impl Into<String>,
        data: impl Into<Cow<'a, [u8]>>,
    ) -> Self {
        self.inline
            .push(MimePart::inline(content_type, content_id, data));
        self
    }
    /// Adds an attachment (forms `multipart/mixed`).
    pub fn attachment(
        mut self,
        content_type: &str,
        filename: impl Into<String>,
        data: impl Into<Cow<'a, [u8]>>,
    ) -> Self {
        self.attachments
            .push(MimePart::attachment(content_type, filename, data));
        self
    }
    /// Adds any part as an attachment (e.g. [`MimePart::forward`]).
    pub fn attach(mut self, part: MimePart<'a>) -> Self {
        self.attachments.push(part);
        self
    }

    /// The body tree: the explicit body, or one assembled from text, HTML, inline
    /// parts and attachments. It only borrows the parts: no body is copied.
    fn body_tree(&self) -> View<'_, 'a> {
        if let Some(b) = &self.body {
            return View::Part(b);
        }
        let html = self.html.as_ref().map(|h| {
            if self.inline.is_empty() {
                View::Part(h)
            } else {
                let mut v = Vec::with_capacity(1 + self.inline.len());
                v.push(View::Part(h));
                v.extend(self.inline.iter().map(View::Part));
                View::Multi("multipart/related", v)
            }
        });
        let main = match (self.text.as_ref().map(View::Part), html) {
            (Some(t), Some(h)) => View::Multi("multipart/alternative", vec![t, h]),
            (Some(t), None) => t,
            (None, Some(h)) => h,
            (None, None) => View::EmptyText,
        };
        if self.attachments.is_empty() {
            main
        } else {
            let mut v = Vec::with_capacity(1 + self.attachments.len());
            v.push(main);
            v.extend(self.attachments.iter().map(View::Part));
            View::Multi("multipart/mixed", v)
        }
    }

    /// Writes the message into `w`. Everything is checked before the first byte is
    /// written, so an error other than `Io` leaves `w` untouched.
    pub fn write_to<W: Write + ?Sized>(
        &self,
        w: &mut W,
        opts: &WriteOptions,
    ) -> Result<(), BuildError> {
        let body = self.body_tree();
        self.validate(&body, opts)?;
        let mut ctx = Ctx {
            opts,
            prefix: boundary_prefix(&body, opts.unique),
            counter: 0,
        };
        let mut head = Vec::with_capacity(1024);
        self.write_headers(&mut head, opts)?;
        w.write_all(&head)?;
        write_view(w, &body, &mut ctx)?;
        Ok(())
    }

    /// Writes the message into a [`bytes::BufMut`].
    pub fn write_to_buf<B: bytes::BufMut>(
        &self,
        buf: &mut B,
        opts: &WriteOptions,
    ) -> Result<(), BuildError> {
        let mut w = bytes::BufMut::writer(buf);
        self.write_to(&mut w, opts)
    }

    /// The message as bytes.
    pub fn to_vec(&self, opts: &WriteOptions) -> Result<Vec<u8>, BuildError> {
        let mut v = Vec::with_capacity(self.body_tree().size_hint() + 1024);
        self.write_to(&mut v, opts)?;
        Ok(v)
    }

    fn validate(&self, body: &View<'_, '_>, opts: &WriteOptions) -> Result<(), BuildError> {
        if self.from.is_empty() {
            return Err(BuildError::MissingFrom);
        }
        for (n, _) in &self.headers {
            check_header_name(n)?;
        }
        let ids = self
            .message_id
            .iter()
            .chain(&self.in_reply_to)
            .chain(&self.references);
        for id in ids {
            check_token(id, true)?;
        }
        let lists = [&self.from, &self.reply_to, &self.to, &self.cc, &self.bcc];
        for list in lists {
            for a in list {
                match a {
                    Address::Mailbox(m) => check_token(&m.address, false)?,
                    Address::Group(g) => {
                        for m in &g.members {
                            check_token(&m.address, false)?;
                        }
                    }
                }
            }
        }
        if let Some(s) = &self.sender {
            check_token(&s.address, false)?;
        }
        validate_view(body, opts)
    }

    fn generated_id(&self, opts: &WriteOptions) -> String {
        let mut h = Md5::new();
        h.update(opts.unique.to_le_bytes());
        h.update(self.date.map(|d| d.to_string()).unwrap_or_default());
        for a in self.from.iter().chain(&self.to) {
            h.update(format!("{a:?}"));
        }
        h.update(self.subject.as_deref().unwrap_or_default());
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let domain = self
            .from
            .iter()
            .find_map(|a| match a {
                Address::Mailbox(m) => m.address.rsplit_once('@').map(|(_, d)| d.to_string()),
                Address::Group(g) => g
                    .members
                    .first()
                    .and_then(|m| m.address.rsplit_once('@').map(|(_, d)| d.to_string())),
            })
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!("{hex}@{domain}")
    }

    fn write_headers(&self, w: &mut Vec<u8>, opts: &WriteOptions) -> io::Result<()> {
        let utf8 = opts.utf8_headers;
        if let Some(d) = &self.date {
            encoding::write_field(w, "Date", &[d.to_string()])?;
        }
        write_addresses(w, "From", &self.from, utf8)?;
        if let Some(s) = &self.sender {
            write_addresses(w, "Sender", &[Address::Mailbox(s.clone())], utf8)?;
        }
        write_addresses(w, "Reply-To", &self.reply_to, utf8)?;
        write_addresses(w, "To", &self.to, utf8)?;
        write_addresses(w, "Cc", &self.cc, utf8)?;
        if opts.include_bcc {
            write_addresses(w, "Bcc", &self.bcc, utf8)?;
        }
        if let Some(s) = &self.subject {
            encoding::write_field(w, "Subject", &encoding::text_tokens(s, utf8))?;
        }
        let id = self
            .message_id
            .clone()
            .unwrap_or_else(|| self.generated_id(opts));
        encoding::write_field(w, "Message-ID", &[format!("<{id}>")])?;
        let ids = |v: &[String]| v.iter().map(|i| format!("<{i}>")).collect::<Vec<_>>();
        if !self.in_reply_to.is_empty() {
            encoding::write_field(w, "In-Reply-To", &ids(&self.in_reply_to))?;
        }
        if !self.references.is_empty() {
            encoding::write_field(w, "References", &ids(&self.references))?;
        }
        for (n, v) in &self.headers {
            encoding::write_field(w, n, &encoding::text_tokens(v, utf8))?;
        }
        w.write_all(b"MIME-Version: 1.0\r\n")
    }
}

fn check_header_name(n: &str) -> Result<(), BuildError> {
    let ok =
        !n.is_empty() && n.len() <= 76 && n.bytes().all(|b| (33..=126).contains(&b) && b != b':');
    if ok {
        Ok(())
    } else {
        Err(BuildError::InvalidHeaderName(n.to_string()))
    }
}

fn check_token(t: &str, is_id: bool) -> Result<(), BuildError> {
    let bad = t.is_empty()
        || t.len() > 900
        || t.chars().any(|c| {
            c.is_whitespace() || c.is_control() || c == '<' || c == '>' || (is_id && c == '"')
        });
    if bad {
        Err(BuildError::InvalidToken(t.to_string()))
    } else {
        Ok(())
    }
}

fn check_content_type(ct: &str) -> Result<(), BuildError> {
    let tok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| (33..=126).contains(&b) && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    match ct.split_once('/') {
        Some((t, s)) if tok(t) && tok(s) => Ok(()),
        _ => Err(BuildError::InvalidContentType(ct.to_string())),
    }
}

fn validate_view(v: &View<'_, '_>, opts: &WriteOptions) -> Result<(), BuildError> {
    match v {
        View::Part(p) => validate_part(p, opts),
        View::Multi(_, children) => children.iter().try_for_each(|c| validate_view(c, opts)),
        View::EmptyText => Ok(()),
    }
}

fn validate_part(p: &MimePart<'_>, opts: &WriteOptions) -> Result<(), BuildError> {
    check_content_type(&p.content_type)?;
    for (n, _) in &p.headers {
        check_header_name(n)?;
    }
    if let Some(id) = &p.content_id {
        check_token(id, true)?;
    }
    match &p.body {
        PartBody::Multipart(parts) => {
            if !p.content_type.starts_with("multipart/") {
                return Err(BuildError::InvalidContentType(p.content_type.clone()));
            }
            for c in parts {
                validate_part(c, opts)?;
            }
        }
        PartBody::Message(raw) if message_needs(&encoding::stats(raw)) > opts.transport => {
            return Err(BuildError::NeedsEightBit);
        }
        _ => {}
    }
    Ok(())
}

fn address_tokens(list: &[Address], utf8: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mailbox = |m: &Mailbox, out: &mut Vec<String>| {
        if let Some(n) = &m.name {
            out.extend(encoding::phrase_tokens(n, utf8));
        }
        if m.name.as_deref().is_some_and(|n| !n.trim().is_empty()) {
            out.push(format!("<{}>", m.address));
        } else {
            out.push(m.address.clone());
        }
    };
    for (i, a) in list.iter().enumerate() {
        match a {
            Address::Mailbox(m) => mailbox(m, &mut out),
            Address::Group(g) => {
                let mut name = encoding::phrase_tokens(&g.name, utf8);
                if name.is_empty() {
                    name.push("\"\"".into());
                }
                if let Some(last) = name.last_mut() {
                    last.push(':');
                }
                out.extend(name);
                for (k, m) in g.members.iter().enumerate() {
                    mailbox(m, &mut out);
                    if k + 1 < g.members.len()
                        && let Some(last) = out.last_mut()
                    {
                        last.push(',');
                    }
                }
                if let Some(last) = out.last_mut() {
                    last.push(';');
                }
            }
        }
        if i + 1 < list.len()
            && let Some(last) = out.last_mut()
        {
            last.push(',');
        }
    }
    out
}

fn write_addresses(w: &mut Vec<u8>, name: &str, list: &[Address], utf8: bool) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    encoding::write_field(w, name, &address_tokens(list, utf8))
}

struct Ctx<'o> {
    opts: &'o WriteOptions,
    prefix: String,
    counter: u32,
}

/// The body tree to write: borrowed parts, and the multiparts the builder
/// assembles around them.
enum View<'p, 'a> {
    /// A part given by the caller (possibly a multipart of its own).
    Part(&'p MimePart<'a>),
    /// A multipart assembled by the builder: its content type and parts.
    Multi(&'static str, Vec<View<'p, 'a>>),
    /// The empty `text/plain` of a message without any body.
    EmptyText,
}

impl View<'_, '_> {
    /// Roughly the encoded size (for sizing the output once).
    fn size_hint(&self) -> usize {
        fn part(p: &MimePart<'_>) -> usize {
            300 + match &p.body {
                PartBody::Text(t) => t.len() + t.len() / 8,
                PartBody::Bytes(b) => b.len() / 57 * 78 + 80,
                PartBody::Message(m) => m.len() + m.len() / 16,
                PartBody::Multipart(ps) => ps.iter().map(part).sum(),
            }
        }
        match self {
            View::Part(p) => part(p),
            View::Multi(_, c) => 300 + c.iter().map(View::size_hint).sum::<usize>(),
            View::EmptyText => 100,
        }
    }
}

/// Collects every identity-encoded body so a boundary can be checked against them.
fn identity_bodies<'p>(p: &'p MimePart<'_>, out: &mut Vec<&'p [u8]>) {
    match &p.body {
        PartBody::Text(t) => out.push(t.as_bytes()),
        PartBody::Bytes(b) => out.push(b),
        PartBody::Message(m) => out.push(m),
        PartBody::Multipart(ps) => ps.iter().for_each(|c| identity_bodies(c, out)),
    }
}

fn view_bodies<'p>(v: &'p View<'p, '_>, out: &mut Vec<&'p [u8]>) {
    match v {
        View::Part(p) => identity_bodies(p, out),
        View::Multi(_, c) => c.iter().for_each(|c| view_bodies(c, out)),
        View::EmptyText => {}
    }
}

/// A boundary prefix that occurs in no body. `=_` never occurs in base64 or
/// quoted-printable output, so only bodies written as they are can collide.
fn boundary_prefix(body: &View<'_, '_>, unique: u64) -> String {
    let mut bodies = Vec::new();
    view_bodies(body, &mut bodies);
    let mut salt = 0u32;
    loop {
        let prefix = format!(
            "=_mw{unique:x}{}_",
            if salt == 0 {
                String::new()
            } else {
                format!("s{salt}")
            }
        );
        let finder = memchr::memmem::Finder::new(prefix.as_bytes());
        if bodies.iter().all(|b| finder.find(b).is_none()) {
            return prefix;
        }
        salt += 1;
    }
}

enum Cte {
    SevenBit,
    EightBit,
    Binary,
    QuotedPrintable,
    Base64,
}

impl Cte {
    fn name(&self) -> &'static str {
        match self {
            Cte::SevenBit => "7bit",
            Cte::EightBit => "8bit",
            Cte::Binary => "binary",
            Cte::QuotedPrintable => "quoted-printable",
            Cte::Base64 => "base64",
        }
    }
}

/// Text never goes as `binary`: long lines and NULs are encoded so that no line
/// passes 998 octets.
fn choose_text(st: &BodyStats, t: Transport) -> Cte {
    if st.non_ascii == 0 && st.max_line <= 998 && !st.has_nul {
        Cte::SevenBit
    } else if t >= Transport::EightBit && st.max_line <= 998 && !st.has_nul {
        Cte::EightBit
    } else if st.non_ascii * 3 <= st.len {
        Cte::QuotedPrintable
    } else {
        Cte::Base64
    }
}

/// The narrowest transport an attached message can go over unencoded (RFC 2046
/// forbids encoding `message/rfc822` with base64 or quoted-printable).
fn message_needs(st: &BodyStats) -> Transport {
    if st.max_line > 998 || st.has_nul {
        Transport::Binary
    } else if st.non_ascii > 0 {
        Transport::EightBit
    } else {
        Transport::SevenBit
    }
}

fn write_view<W: Write + ?Sized>(w: &mut W, v: &View<'_, '_>, ctx: &mut Ctx<'_>) -> io::Result<()> {
    match v {
        View::Part(p) => write_part(w, p, ctx),
        View::EmptyText => write_part(w, &MimePart::text(""), ctx),
        View::Multi(ct, children) => {
            ctx.counter += 1;
            let b = format!("{}{}", ctx.prefix, ctx.counter);
            let mut ct_tokens = vec![format!("{ct};")];
            ct_tokens.extend(encoding::param_tokens(
                "boundary",
                &b,
                ctx.opts.utf8_headers,
            ));
            let mut head = Vec::with_capacity(128);
            encoding::write_field(&mut head, "Content-Type", &ct_tokens)?;
            head.extend_from_slice(b"\r\n");
            w.write_all(&head)?;
            for c in children {
                write_delimiter(w, &b, false)?;
                write_view(w, c, ctx)?;
                w.write_all(b"\r\n")?;
            }
            write_delimiter(w, &b, true)
        }
    }
}

/// Writes `--boundary` (with `--` when `close`) and CRLF in one write.
fn write_delimiter<W: Write + ?Sized>(w: &mut W, b: &str, close: bool) -> io::Result<()> {
    let mut line = [0u8; 100];
    let n = b.len();
    match line.get_mut(..n + 6) {
        Some(l) => {
            let (dash, rest) = l.split_at_mut(2);
            dash.copy_from_slice(b"--");
            let (name, rest) = rest.split_at_mut(n);
            name.copy_from_slice(b.as_bytes());
            if close {
                rest.copy_from_slice(b"--\r\n");
                w.write_all(l)
            } else {
                rest.get_mut(..2)
                    .unwrap_or_default()
                    .copy_from_slice(b"\r\n");
                w.write_all(line.get(..n + 4).unwrap_or_default())
            }
        }
        None if close => write!(w, "--{b}--\r\n"),
        None => write!(w, "--{b}\r\n"),
    }
}

fn write_part<W: Write + ?Sized>(w: &mut W, p: &MimePart<'_>, ctx: &mut Ctx<'_>) -> io::Result<()> {
    let utf8 = ctx.opts.utf8_headers;
    let mut head = Vec::with_capacity(256);
    let mut params: Vec<(String, String)> = p.params.clone();
    let boundary = if let PartBody::Multipart(_) = p.body {
        ctx.counter += 1;
        let b = format!("{}{}", ctx.prefix, ctx.counter);
        params.push(("boundary".into(), b.clone()));
        Some(b)
    } else {
        None
    };
    if let (Some(f), false) = (&p.filename, p.content_type.starts_with("multipart/"))
        && !params.iter().any(|(k, _)| k == "name")
    {
        params.push(("name".into(), f.clone()));
    }
    let mut ct_tokens = vec![p.content_type.clone()];
    for (k, v) in &params {
        if let Some(last) = ct_tokens.last_mut() {
            last.push(';');
        }
        ct_tokens.extend(encoding::param_tokens(k, v, utf8));
    }
    encoding::write_field(&mut head, "Content-Type", &ct_tokens)?;
    let cte = match &p.body {
        PartBody::Text(t) => Some(choose_text(
            &encoding::stats(t.as_bytes()),
            ctx.opts.transport,
        )),
        PartBody::Bytes(_) if ctx.opts.transport == Transport::Binary => Some(Cte::Binary),
        PartBody::Bytes(_) => Some(Cte::Base64),
        PartBody::Message(m) => Some(match message_needs(&encoding::stats(m)) {
            Transport::SevenBit => Cte::SevenBit,
            Transport::EightBit => Cte::EightBit,
            Transport::Binary => Cte::Binary,
        }),
        PartBody::Multipart(_) => None,
    };
    if let Some(c) = &cte
        && !matches!(c, Cte::SevenBit)
    {
        encoding::write_field(
            &mut head,
            "Content-Transfer-Encoding",
            &[c.name().to_string()],
        )?;
    }
    if let Some(d) = &p.disposition {
        let mut toks = vec![d.clone()];
        if let Some(f) = &p.filename {
            if let Some(last) = toks.last_mut() {
                last.push(';');
            }
            toks.extend(encoding::param_tokens("filename", f, utf8));
        }
        encoding::write_field(&mut head, "Content-Disposition", &toks)?;
    }
    if let Some(id) = &p.content_id {
        encoding::write_field(&mut head, "Content-ID", &[format!("<{id}>")])?;
    }
    if let Some(d) = &p.description {
        encoding::write_field(
            &mut head,
            "Content-Description",
            &encoding::text_tokens(d, utf8),
        )?;
    }
    for (n, v) in &p.headers {
        encoding::write_field(&mut head, n, &encoding::text_tokens(v, utf8))?;
    }
    head.extend_from_slice(b"\r\n");
    w.write_all(&head)?;
    match (&p.body, cte) {
        (PartBody::Multipart(parts), _) => {
            let b = boundary.unwrap_or_default();
            for c in parts {
                write_delimiter(w, &b, false)?;
                write_part(w, c, ctx)?;
                w.write_all(b"\r\n")?;
            }
            write_delimiter(w, &b, true)?;
        }
        (PartBody::Text(t), Some(Cte::QuotedPrintable)) => {
            encoding::write_quoted_printable(t.as_bytes(), w)?
        }
        (PartBody::Text(t), Some(Cte::Base64)) => {
            let mut norm = Vec::with_capacity(t.len() + t.len() / 40);
            encoding::write_crlf_text(t.as_bytes(), &mut norm)?;
            encoding::write_base64(&norm, w)?;
        }
        (PartBody::Text(t), _) => encoding::write_crlf_text(t.as_bytes(), w)?,
        (PartBody::Bytes(b), Some(Cte::Base64)) => encoding::write_base64(b, w)?,
        (PartBody::Bytes(b), _) => w.write_all(b)?,
        (PartBody::Message(m), _) => encoding::write_crlf_text(m, w)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_injection_is_impossible() {
        let m = MessageBuilder::new()
            .from(Mailbox::new("Evil\r\nBcc: x@y", "a@b"))
            .subject("hi\r\nBcc: victim@x")
            .header("X-Test", "a\nb")
            .text_body("x")
            .to_vec(&WriteOptions::new())
            .unwrap();
        let parsed = Message::parse(&m[..]).unwrap();
        assert!(parsed.root().header("bcc").is_none());
        assert_eq!(
            parsed
                .root()
                .headers()
                .filter(|h| h.name() == "X-Test")
                .count(),
            1
        );
    }

    #[test]
    fn bad_names_rejected_before_writing() {
        let mut out = Vec::new();
        let r = MessageBuilder::new()
            .from("a@b")
            .header("Bad Name", "x")
            .write_to(&mut out, &WriteOptions::new());
        assert!(matches!(r, Err(BuildError::InvalidHeaderName(_))));
        assert!(out.is_empty());
        let r = MessageBuilder::new()
            .from("a@b")
            .message_id("a b@c")
            .to_vec(&WriteOptions::new());
        assert!(matches!(r, Err(BuildError::InvalidToken(_))));
        assert!(matches!(
            MessageBuilder::new().to_vec(&WriteOptions::new()),
            Err(BuildError::MissingFrom)
        ));
    }
}
