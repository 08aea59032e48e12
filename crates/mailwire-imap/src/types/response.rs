//! Responses (RFC 3501 section 7 and the extensions this crate supports).

use std::num::NonZeroU32;

use mailwire_core::sasl::Mechanism;

use super::command::{Section, StatusAttribute};
use super::core::{AString, Atom, CodeData, IString, NString, Tag, Text, ValueError};
use super::datetime::DateTime;
use super::flag::{Flag, FlagFetch, FlagPerm, GmailLabel, NameAttribute};
use super::mailbox::Mailbox;
use super::sequence::SequenceSet;

/// A response: status, data or continuation request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// A status response, tagged or not (`A1 OK …`, `* BYE …`).
    Status(StatusResponse),
    /// Untagged data (`* 3 EXISTS`, `* 1 FETCH (…)`).
    Data(Data),
    /// A continuation request (`+ …`).
    Continue(Continue),
}

/// A status response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusResponse {
    /// The tag, `None` for `*`.
    pub tag: Option<Tag>,
    /// OK, NO, BAD, PREAUTH or BYE.
    pub kind: StatusKind,
    /// The response code in brackets.
    pub code: Option<Code>,
    /// The human-readable text (may be empty, a tolerance for real servers).
    pub text: Text,
}

impl StatusResponse {
    /// A response with this tag, kind, code and text (text must hold no CR, LF or NUL).
    pub fn new(
        tag: Option<Tag>,
        kind: StatusKind,
        code: Option<Code>,
        text: &str,
    ) -> Result<StatusResponse, ValueError> {
        Ok(StatusResponse {
            tag,
            kind,
            code,
            text: Text::try_from(text)?,
        })
    }
}

/// The kind of a status response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusKind {
    /// `OK`.
    Ok,
    /// `NO`.
    No,
    /// `BAD`.
    Bad,
    /// `PREAUTH` (untagged greeting only).
    PreAuth,
    /// `BYE` (untagged only).
    Bye,
}

/// A continuation request: `+ [code] text`, or a base64 SASL challenge as its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Continue {
    /// The response code, if any.
    pub code: Option<Code>,
    /// The text (for `AUTHENTICATE`, the base64 challenge; see [`Continue::challenge`]).
    pub text: Text,
}

impl Continue {
    /// `+ text`.
    pub fn text(text: &str) -> Result<Continue, ValueError> {
        Ok(Continue {
            code: None,
            text: Text::try_from(text)?,
        })
    }
    /// `+ base64(data)`: a SASL challenge.
    pub fn challenge(data: &[u8]) -> Continue {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        // Invariant: base64 output is 7-bit printable text.
        Continue {
            code: None,
            text: Text::unchecked(b64.into()),
        }
    }
    /// The text decoded as a base64 SASL challenge, if it is valid base64.
    pub fn decode_challenge(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        if self.code.is_some() {
            return None;
        }
        base64::engine::general_purpose::STANDARD
            .decode(self.text.as_bytes())
            .ok()
    }
}

/// A response code (RFC 3501, 4315, 5530, 7162, 4978, 9051).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    /// `ALERT`.
    Alert,
    /// `BADCHARSET [(charsets)]`.
    BadCharset(Vec<AString>),
    /// `CAPABILITY caps`.
    Capability(Vec<Capability>),
    /// `PARSE`.
    Parse,
    /// `PERMANENTFLAGS (flags)`.
    PermanentFlags(Vec<FlagPerm>),
    /// `READ-ONLY`.
    ReadOnly,
    /// `READ-WRITE`.
    ReadWrite,
    /// `TRYCREATE`.
    TryCreate,
    /// `UIDNEXT n`.
    UidNext(NonZeroU32),
    /// `UIDVALIDITY n`.
    UidValidity(NonZeroU32),
    /// `UNSEEN n`.
    Unseen(NonZeroU32),
    /// `APPENDUID uidvalidity uids` (RFC 4315).
    AppendUid {
        /// The destination's UIDVALIDITY.
        uid_validity: NonZeroU32,
        /// The new UIDs.
        uids: SequenceSet,
    },
    /// `COPYUID uidvalidity source destination` (RFC 4315).
    CopyUid {
        /// The destination's UIDVALIDITY.
        uid_validity: NonZeroU32,
        /// The source UIDs.
        source: SequenceSet,
        /// The destination UIDs.
        destination: SequenceSet,
    },
    /// `UIDNOTSTICKY` (RFC 4315).
    UidNotSticky,
    /// `HIGHESTMODSEQ n` (RFC 7162).
    HighestModSeq(u64),
    /// `NOMODSEQ` (RFC 7162).
    NoModSeq,
    /// `MODIFIED set` (RFC 7162).
    Modified(SequenceSet),
    /// `CLOSED` (RFC 7162).
    Closed,
    /// `COMPRESSIONACTIVE` (RFC 4978).
    CompressionActive,
    /// `UNAVAILABLE` (RFC 5530).
    Unavailable,
    /// `AUTHENTICATIONFAILED` (RFC 5530).
    AuthenticationFailed,
    /// `AUTHORIZATIONFAILED` (RFC 5530).
    AuthorizationFailed,
    /// `EXPIRED` (RFC 5530).
    Expired,
    /// `PRIVACYREQUIRED` (RFC 5530).
    PrivacyRequired,
    /// `CONTACTADMIN` (RFC 5530).
    ContactAdmin,
    /// `NOPERM` (RFC 5530).
    NoPerm,
    /// `INUSE` (RFC 5530).
    InUse,
    /// `EXPUNGEISSUED` (RFC 5530).
    ExpungeIssued,
    /// `CORRUPTION` (RFC 5530).
    Corruption,
    /// `SERVERBUG` (RFC 5530).
    ServerBug,
    /// `CLIENTBUG` (RFC 5530).
    ClientBug,
    /// `CANNOT` (RFC 5530).
    Cannot,
    /// `LIMIT` (RFC 5530).
    Limit,
    /// `OVERQUOTA` (RFC 5530, RFC 9208).
    OverQuota,
    /// `ALREADYEXISTS` (RFC 5530).
    AlreadyExists,
    /// `NONEXISTENT` (RFC 5530).
    NonExistent,
    /// `NOTSAVED` (RFC 9051).
    NotSaved,
    /// `HASCHILDREN` (RFC 9051).
    HasChildren,
    /// `USEATTR` (RFC 6154).
    UseAttr,
    /// `UNKNOWN-CTE` (RFC 3516).
    UnknownCte,
    /// `TOOBIG` (RFC 4469, RFC 7888).
    TooBig,
    /// Any other code, kept with its data.
    Other(Atom, Option<CodeData>),
}

pub(crate) const SIMPLE_CODES: &[(Code, &str)] = &[
    (Code::Alert, "ALERT"),
    (Code::Parse, "PARSE"),
    (Code::ReadOnly, "READ-ONLY"),
    (Code::ReadWrite, "READ-WRITE"),
    (Code::TryCreate, "TRYCREATE"),
    (Code::UidNotSticky, "UIDNOTSTICKY"),
    (Code::NoModSeq, "NOMODSEQ"),
    (Code::Closed, "CLOSED"),
    (Code::CompressionActive, "COMPRESSIONACTIVE"),
    (Code::Unavailable, "UNAVAILABLE"),
    (Code::AuthenticationFailed, "AUTHENTICATIONFAILED"),
    (Code::AuthorizationFailed, "AUTHORIZATIONFAILED"),
    (Code::Expired, "EXPIRED"),
    (Code::PrivacyRequired, "PRIVACYREQUIRED"),
    (Code::ContactAdmin, "CONTACTADMIN"),
    (Code::NoPerm, "NOPERM"),
    (Code::InUse, "INUSE"),
    (Code::ExpungeIssued, "EXPUNGEISSUED"),
    (Code::Corruption, "CORRUPTION"),
    (Code::ServerBug, "SERVERBUG"),
    (Code::ClientBug, "CLIENTBUG"),
    (Code::Cannot, "CANNOT"),
    (Code::Limit, "LIMIT"),
    (Code::OverQuota, "OVERQUOTA"),
    (Code::AlreadyExists, "ALREADYEXISTS"),
    (Code::NonExistent, "NONEXISTENT"),
    (Code::NotSaved, "NOTSAVED"),
    (Code::HasChildren, "HASCHILDREN"),
    (Code::UseAttr, "USEATTR"),
    (Code::UnknownCte, "UNKNOWN-CTE"),
    (Code::TooBig, "TOOBIG"),
];

/// A capability (RFC 3501 `capability`). Unknown ones are kept as [`Capability::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// `IMAP4rev1`.
    Imap4Rev1,
    /// `IMAP4rev2` (RFC 9051).
    Imap4Rev2,
    /// `AUTH=mechanism`.
    Auth(Mechanism),
    /// `SASL-IR` (RFC 4959).
    SaslIr,
    /// `LOGINDISABLED`.
    LoginDisabled,
    /// `STARTTLS`.
    StartTls,
    /// `IDLE` (RFC 2177).
    Idle,
    /// `LITERAL+` (RFC 7888).
    LiteralPlus,
    /// `LITERAL-` (RFC 7888).
    LiteralMinus,
    /// `UIDPLUS` (RFC 4315).
    UidPlus,
    /// `MOVE` (RFC 6851).
    Move,
    /// `ENABLE` (RFC 5161).
    Enable,
    /// `ID` (RFC 2971).
    Id,
    /// `NAMESPACE` (RFC 2342).
    Namespace,
    /// `UNSELECT` (RFC 3691).
    Unselect,
    /// `SPECIAL-USE` (RFC 6154).
    SpecialUse,
    /// `CREATE-SPECIAL-USE` (RFC 6154).
    CreateSpecialUse,
    /// `LIST-EXTENDED` (RFC 5258).
    ListExtended,
    /// `LIST-STATUS` (RFC 5819).
    ListStatus,
    /// `CHILDREN` (RFC 3348).
    Children,
    /// `ESEARCH` (RFC 4731).
    ESearch,
    /// `CONDSTORE` (RFC 7162).
    CondStore,
    /// `QRESYNC` (RFC 7162).
    QResync,
    /// `BINARY` (RFC 3516).
    Binary,
    /// `QUOTA` (RFC 9208).
    Quota,
    /// `SORT` (RFC 5256).
    Sort,
    /// `THREAD=algorithm` (RFC 5256).
    Thread(Atom),
    /// `COMPRESS=algorithm` (RFC 4978).
    Compress(Atom),
    /// `UTF8=ACCEPT` (RFC 6855).
    Utf8Accept,
    /// `UTF8=ONLY` (RFC 6855).
    Utf8Only,
    /// Anything else, kept as sent.
    Other(Atom),
}

pub(crate) const SIMPLE_CAPABILITIES: &[(Capability, &str)] = &[
    (Capability::Imap4Rev1, "IMAP4rev1"),
    (Capability::Imap4Rev2, "IMAP4rev2"),
    (Capability::SaslIr, "SASL-IR"),
    (Capability::LoginDisabled, "LOGINDISABLED"),
    (Capability::StartTls, "STARTTLS"),
    (Capability::Idle, "IDLE"),
    (Capability::LiteralPlus, "LITERAL+"),
    (Capability::LiteralMinus, "LITERAL-"),
    (Capability::UidPlus, "UIDPLUS"),
    (Capability::Move, "MOVE"),
    (Capability::Enable, "ENABLE"),
    (Capability::Id, "ID"),
    (Capability::Namespace, "NAMESPACE"),
    (Capability::Unselect, "UNSELECT"),
    (Capability::SpecialUse, "SPECIAL-USE"),
    (Capability::CreateSpecialUse, "CREATE-SPECIAL-USE"),
    (Capability::ListExtended, "LIST-EXTENDED"),
    (Capability::ListStatus, "LIST-STATUS"),
    (Capability::Children, "CHILDREN"),
    (Capability::ESearch, "ESEARCH"),
    (Capability::CondStore, "CONDSTORE"),
    (Capability::QResync, "QRESYNC"),
    (Capability::Binary, "BINARY"),
    (Capability::Quota, "QUOTA"),
    (Capability::Sort, "SORT"),
    (Capability::Utf8Accept, "UTF8=ACCEPT"),
    (Capability::Utf8Only, "UTF8=ONLY"),
];

impl Capability {
    /// The capability named by `atom` (case-insensitive).
    pub fn from_atom(atom: Atom) -> Capability {
        let s = atom.as_str();
        if let Some((c, _)) = SIMPLE_CAPABILITIES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(s))
        {
            return c.clone();
        }
        if let Some((head, tail)) = s.split_once('=') {
            if head.eq_ignore_ascii_case("AUTH") {
                if let Some(m) = Mechanism::from_name(tail) {
                    return Capability::Auth(m);
                }
            } else if head.eq_ignore_ascii_case("THREAD") {
                if let Ok(a) = Atom::try_from(tail) {
                    return Capability::Thread(a);
                }
            } else if head.eq_ignore_ascii_case("COMPRESS")
                && let Ok(a) = Atom::try_from(tail)
            {
                return Capability::Compress(a);
            }
        }
        Capability::Other(atom)
    }
}

/// Untagged data.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Data {
    /// `CAPABILITY caps`.
    Capability(Vec<Capability>),
    /// `LIST (attrs) delim name [ext]`.
    List(ListItem),
    /// `LSUB (attrs) delim name`.
    Lsub(ListItem),
    /// `STATUS mailbox (item value …)`.
    Status {
        /// The mailbox.
        mailbox: Mailbox,
        /// The items and their values.
        items: Vec<(StatusAttribute, u64)>,
    },
    /// `SEARCH n… [(MODSEQ m)]`.
    Search {
        /// The matching numbers.
        numbers: Vec<NonZeroU32>,
        /// The highest mod-sequence (RFC 7162).
        mod_seq: Option<u64>,
    },
    /// `ESEARCH [(TAG "t")] [UID] items` (RFC 4731).
    ESearch {
        /// The tag of the command answered.
        correlator: Option<IString>,
        /// `UID`.
        uid: bool,
        /// The returned data.
        items: Vec<ESearchItem>,
    },
    /// `FLAGS (flags)`.
    Flags(Vec<Flag>),
    /// `n EXISTS`.
    Exists(u32),
    /// `n RECENT`.
    Recent(u32),
    /// `n EXPUNGE`.
    Expunge(NonZeroU32),
    /// `n FETCH (items)`.
    Fetch {
        /// The message sequence number.
        seq: NonZeroU32,
        /// The items.
        items: Vec<FetchItem>,
    },
    /// `ENABLED caps` (RFC 5161).
    Enabled(Vec<Atom>),
    /// `ID (params)` / `ID NIL` (RFC 2971).
    Id(Option<Vec<(IString, NString)>>),
    /// `NAMESPACE personal other shared` (RFC 2342).
    Namespace {
        /// Personal namespaces (`None` for NIL).
        personal: Option<Vec<NamespaceDescription>>,
        /// Other users' namespaces.
        other: Option<Vec<NamespaceDescription>>,
        /// Shared namespaces.
        shared: Option<Vec<NamespaceDescription>>,
    },
    /// `QUOTA root (resource usage limit …)` (RFC 9208).
    Quota {
        /// The quota root.
        root: AString,
        /// The resources.
        resources: Vec<QuotaResource>,
    },
    /// `QUOTAROOT mailbox roots…` (RFC 9208).
    QuotaRoot {
        /// The mailbox.
        mailbox: Mailbox,
        /// Its quota roots.
        roots: Vec<AString>,
    },
    /// `SORT n… [(MODSEQ m)]` (RFC 5256).
    Sort {
        /// The sorted numbers.
        numbers: Vec<NonZeroU32>,
        /// The highest mod-sequence (RFC 7162).
        mod_seq: Option<u64>,
    },
    /// `THREAD (…)…` (RFC 5256).
    Thread(Vec<Thread>),
    /// `VANISHED [(EARLIER)] uids` (RFC 7162).
    Vanished {
        /// `(EARLIER)`.
        earlier: bool,
        /// The expunged UIDs.
        uids: SequenceSet,
    },
}

/// The body of a `LIST` or `LSUB` response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListItem {
    /// Name attributes.
    pub attributes: Vec<NameAttribute>,
    /// The hierarchy delimiter, `None` for NIL.
    pub delimiter: Option<Delimiter>,
    /// The mailbox.
    pub mailbox: Mailbox,
    /// Extended data (`CHILDINFO`, `OLDNAME`, …; RFC 5258), `None` when absent.
    pub extended: Option<Vec<(AString, ExtensionValue)>>,
}

/// A hierarchy delimiter: one 7-bit character other than NUL, CR and LF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Delimiter(u8);

impl Delimiter {
    /// The delimiter `c`.
    pub fn new(c: char) -> Result<Delimiter, ValueError> {
        match c {
            '\u{1}'..='\u{7f}' if c != '\r' && c != '\n' => Ok(Delimiter(c as u8)),
            _ => Err(ValueError::Range("a delimiter")),
        }
    }
    pub(crate) fn unchecked(b: u8) -> Delimiter {
        Delimiter(b)
    }
    /// The character.
    pub fn as_char(&self) -> char {
        self.0 as char
    }
    /// The byte.
    pub fn as_byte(&self) -> u8 {
        self.0
    }
}

/// A generic extension value (RFC 4466 `tagged-ext-val`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtensionValue {
    /// A number.
    Number(u64),
    /// A sequence set that is not a plain number.
    SequenceSet(SequenceSet),
    /// An astring.
    AString(AString),
    /// A parenthesized list.
    List(Vec<ExtensionValue>),
}

/// One item of an `ESEARCH` response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ESearchItem {
    /// `MIN n`.
    Min(NonZeroU32),
    /// `MAX n`.
    Max(NonZeroU32),
    /// `ALL set`.
    All(SequenceSet),
    /// `COUNT n`.
    Count(u32),
    /// `MODSEQ n` (RFC 7162).
    ModSeq(u64),
    /// Anything else, kept.
    Other(Atom, ExtensionValue),
}

/// A namespace description (RFC 2342).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceDescription {
    /// The prefix.
    pub prefix: IString,
    /// The hierarchy delimiter, `None` for NIL.
    pub delimiter: Option<Delimiter>,
    /// Extensions: a name and its values.
    pub extensions: Vec<(IString, Vec<IString>)>,
}

/// One resource of a `QUOTA` response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaResource {
    /// Its name (`STORAGE`, `MESSAGE`, …).
    pub name: Atom,
    /// Current usage.
    pub usage: u64,
    /// The limit.
    pub limit: u64,
}

/// A thread (RFC 5256 `thread-list`): a chain of messages, then the subthreads that branch
/// off its last one. `members` is empty when the thread starts with branches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thread {
    /// The messages one after the other.
    pub members: Vec<NonZeroU32>,
    /// The branches after the last member.
    pub children: Vec<Thread>,
}

/// A `FETCH` response item.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchItem {
    /// `FLAGS (…)`.
    Flags(Vec<FlagFetch>),
    /// `ENVELOPE (…)`.
    Envelope(Box<Envelope>),
    /// `INTERNALDATE "…"`.
    InternalDate(DateTime),
    /// `RFC822 nstring`.
    Rfc822(NString),
    /// `RFC822.HEADER nstring`.
    Rfc822Header(NString),
    /// `RFC822.TEXT nstring`.
    Rfc822Text(NString),
    /// `RFC822.SIZE n`.
    Rfc822Size(u32),
    /// `BODY (…)`: the structure without extension data.
    Body(Box<BodyStructure>),
    /// `BODYSTRUCTURE (…)`.
    BodyStructure(Box<BodyStructure>),
    /// `BODY[section]<origin> nstring`.
    BodySection {
        /// The section.
        section: Section,
        /// The offset of a partial fetch.
        origin: Option<u32>,
        /// The data.
        data: NString,
    },
    /// `UID n`.
    Uid(NonZeroU32),
    /// `BINARY[part] nstring/literal8` (RFC 3516).
    Binary {
        /// The part numbers.
        part: Vec<NonZeroU32>,
        /// The decoded data.
        data: NString,
    },
    /// `BINARY.SIZE[part] n` (RFC 3516).
    BinarySize {
        /// The part numbers.
        part: Vec<NonZeroU32>,
        /// The decoded size.
        size: u32,
    },
    /// `MODSEQ (n)` (RFC 7162).
    ModSeq(u64),
    /// `X-GM-MSGID n` (Gmail).
    GmailMsgId(u64),
    /// `X-GM-THRID n` (Gmail).
    GmailThreadId(u64),
    /// `X-GM-LABELS (…)` (Gmail).
    GmailLabels(Vec<GmailLabel>),
}

/// An envelope (RFC 3501 `envelope`). Address lists are empty for NIL.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Envelope {
    /// `Date:`.
    pub date: NString,
    /// `Subject:`.
    pub subject: NString,
    /// `From:`.
    pub from: Vec<Address>,
    /// `Sender:`.
    pub sender: Vec<Address>,
    /// `Reply-To:`.
    pub reply_to: Vec<Address>,
    /// `To:`.
    pub to: Vec<Address>,
    /// `Cc:`.
    pub cc: Vec<Address>,
    /// `Bcc:`.
    pub bcc: Vec<Address>,
    /// `In-Reply-To:`.
    pub in_reply_to: NString,
    /// `Message-ID:`.
    pub message_id: NString,
}

/// An address in an envelope. A group starts with `host` NIL and `mailbox` the group name,
/// and ends with both NIL.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Address {
    /// The display name.
    pub name: NString,
    /// The source route.
    pub adl: NString,
    /// The local part (or group name).
    pub mailbox: NString,
    /// The domain.
    pub host: NString,
}

/// A body structure (RFC 3501 `body`).
#[derive(Clone, Debug, PartialEq, Eq)]
// Most structures are single parts: boxing them would cost an allocation per part.
#[allow(clippy::large_enum_variant)]
pub enum BodyStructure {
    /// A single part.
    Single {
        /// Its fields.
        body: Body,
        /// Extension data (BODYSTRUCTURE only).
        extension: Option<SinglePartExtension>,
    },
    /// A multipart.
    Multi {
        /// The parts.
        bodies: Vec<BodyStructure>,
        /// The subtype (`MIXED`, `ALTERNATIVE`, …).
        subtype: IString,
        /// Extension data (BODYSTRUCTURE only).
        extension: Option<MultiPartExtension>,
    },
}

/// The fields of a single part. The parser picks [`BodySpecific`] by the type and subtype
/// (case-insensitive); a value built by hand should keep them consistent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    /// The media type (`"TEXT"`, `"IMAGE"`, …).
    pub media_type: IString,
    /// The subtype.
    pub subtype: IString,
    /// Content-Type parameters (empty for NIL).
    pub parameters: Vec<(IString, IString)>,
    /// Content-ID.
    pub id: NString,
    /// Content-Description.
    pub description: NString,
    /// Content-Transfer-Encoding.
    pub encoding: IString,
    /// Size in octets.
    pub size: u32,
    /// What depends on the type.
    pub specific: BodySpecific,
}

/// The type-specific fields of a single part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodySpecific {
    /// Any type but text and message/rfc822.
    Basic,
    /// `TEXT/*`: the size in lines.
    Text {
        /// Lines.
        lines: u32,
    },
    /// `MESSAGE/RFC822` (and `MESSAGE/GLOBAL`): the inner message.
    Message {
        /// Its envelope.
        envelope: Box<Envelope>,
        /// Its structure.
        body: Box<BodyStructure>,
        /// Lines.
        lines: u32,
    },
}

/// A `Content-Disposition` (`body-fld-dsp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disposition {
    /// `inline`, `attachment`, …
    pub kind: IString,
    /// Its parameters (empty for NIL).
    pub parameters: Vec<(IString, IString)>,
}

/// `body-fld-lang`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Language {
    /// One language or NIL.
    Single(NString),
    /// A parenthesized list.
    List(Vec<IString>),
}

/// A `body-extension` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyExtension {
    /// A string or NIL.
    NString(NString),
    /// A number.
    Number(u32),
    /// A parenthesized list.
    List(Vec<BodyExtension>),
}

/// Extension data after the fields of any part: each is present only when the one before
/// is (the encoder stops at the first `None`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ExtensionTail {
    /// `body-fld-dsp`: `Some(None)` is NIL.
    pub disposition: Option<Option<Disposition>>,
    /// `body-fld-lang`.
    pub language: Option<Language>,
    /// `body-fld-loc`.
    pub location: Option<NString>,
    /// Further extensions.
    pub extensions: Vec<BodyExtension>,
}

/// Extension data of a single part (`body-ext-1part`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinglePartExtension {
    /// `body-fld-md5`.
    pub md5: NString,
    /// The rest.
    pub tail: ExtensionTail,
}

/// Extension data of a multipart (`body-ext-mpart`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiPartExtension {
    /// Content-Type parameters (empty for NIL).
    pub parameters: Vec<(IString, IString)>,
    /// The rest.
    pub tail: ExtensionTail,
}
