//! The message: built with mailwire-mime from the flags, or read from an `.eml` file.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use mailwire_mime::{DateTime, Mailbox, MessageBuilder, WriteOptions};

/// An address as given on the command line: `alice@example.org`,
/// `<alice@example.org>` or `Alice Liddell <alice@example.org>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AddressSpec {
    /// The display name, for the message header.
    pub(crate) name: Option<String>,
    /// The address, for the envelope and the header.
    pub(crate) address: String,
}

impl AddressSpec {
    /// Splits `Name <address>` (the name may be quoted) or takes a bare address.
    pub(crate) fn parse(spec: &str) -> Result<AddressSpec, String> {
        let spec = spec.trim();
        let (name, address) = match (spec.rfind('<'), spec.strip_suffix('>')) {
            (Some(open), Some(inner)) => {
                let name = spec[..open].trim();
                let name = name
                    .strip_prefix('"')
                    .and_then(|n| n.strip_suffix('"'))
                    .unwrap_or(name)
                    .trim();
                let address = inner.get(open + 1..).unwrap_or_default().trim();
                ((!name.is_empty()).then(|| name.to_owned()), address)
            }
            _ => (None, spec),
        };
        if address.is_empty() {
            return Err(format!("{spec:?} holds no address"));
        }
        Ok(AddressSpec {
            name,
            address: address.to_owned(),
        })
    }

    /// The header form.
    pub(crate) fn to_mailbox(&self) -> Mailbox {
        match &self.name {
            Some(name) => Mailbox::new(name.clone(), self.address.clone()),
            None => Mailbox::addr(self.address.clone()),
        }
    }
}

/// What goes into a built message.
pub(crate) struct Parts<'a> {
    pub(crate) from: &'a AddressSpec,
    pub(crate) to: &'a [AddressSpec],
    pub(crate) subject: Option<&'a str>,
    pub(crate) text: String,
    pub(crate) attachments: &'a [std::path::PathBuf],
    /// Write non-ASCII header text as UTF-8 (RFC 6532), for an SMTPUTF8 transaction
    /// (an address that is not ASCII cannot be written otherwise).
    pub(crate) utf8_headers: bool,
}

/// Builds the message: From, To, Subject, Date (from the system clock, in UTC),
/// Message-ID, the text body, and one part per attachment. Boundaries and the
/// Message-ID are made unique from the clock and the process id.
pub(crate) fn build(parts: &Parts<'_>) -> Result<Vec<u8>, String> {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| String::from("the system clock is before 1970"))?;
    let seconds = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    let unique = (since_epoch.as_nanos() as u64) ^ (u64::from(std::process::id()) << 40);

    let mut builder = MessageBuilder::new()
        .from(parts.from.to_mailbox())
        .date(DateTime::from_unix(seconds))
        .text_body(parts.text.clone());
    for to in parts.to {
        builder = builder.to(to.to_mailbox());
    }
    if let Some(subject) = parts.subject {
        builder = builder.subject(subject);
    }
    for path in parts.attachments {
        let data = std::fs::read(path).map_err(|e| format!("--attach {}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| String::from("attachment"));
        builder = builder.attachment(content_type_of(path), name, data);
    }
    let mut message = builder
        .to_vec(
            &WriteOptions::new()
                .unique(unique)
                .utf8_headers(parts.utf8_headers),
        )
        .map_err(|e| format!("cannot build the message: {e}"))?;
    // SMTP content always ends with CRLF (a text without a final line break gets one on
    // the wire): add it here, so that the message is the same everywhere (--save).
    if !message.ends_with(b"\r\n") {
        message.extend_from_slice(b"\r\n");
    }
    Ok(message)
}

/// The content type of an attachment, guessed from its file name's extension;
/// `application/octet-stream` when the extension is unknown.
pub(crate) fn content_type_of(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    CONTENT_TYPES
        .iter()
        .find(|(ext, _)| *ext == extension)
        .map_or("application/octet-stream", |(_, content_type)| content_type)
}

/// Extensions and their content types: the common ones, not a full registry.
const CONTENT_TYPES: &[(&str, &str)] = &[
    ("txt", "text/plain"),
    ("text", "text/plain"),
    ("log", "text/plain"),
    ("md", "text/markdown"),
    ("csv", "text/csv"),
    ("htm", "text/html"),
    ("html", "text/html"),
    ("css", "text/css"),
    ("ics", "text/calendar"),
    ("vcf", "text/vcard"),
    ("xml", "application/xml"),
    ("json", "application/json"),
    ("pdf", "application/pdf"),
    ("rtf", "application/rtf"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("tgz", "application/gzip"),
    ("tar", "application/x-tar"),
    ("7z", "application/x-7z-compressed"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("svg", "image/svg+xml"),
    ("bmp", "image/bmp"),
    ("ico", "image/vnd.microsoft.icon"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("mp3", "audio/mpeg"),
    ("ogg", "audio/ogg"),
    ("wav", "audio/wav"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("asc", "application/pgp-signature"),
    ("p7s", "application/pkcs7-signature"),
];

/// Reads a file, or standard input for `-`.
pub(crate) fn read_input(path: &Path) -> std::io::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut data)?;
        Ok(data)
    } else {
        std::fs::read(path)
    }
}
