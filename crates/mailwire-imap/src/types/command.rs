//! Commands (RFC 3501 section 6 and the extensions this crate supports).

use std::num::NonZeroU32;

use mailwire_core::Secret;
use mailwire_core::sasl::Mechanism;

use super::core::{AString, Atom, IString, ListPattern, Literal, NString, Tag};
use super::datetime::{Date, DateTime};
use super::flag::{Flag, NameAttribute};
use super::mailbox::Mailbox;
use super::sequence::SequenceSet;

/// A tagged command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Its tag.
    pub tag: Tag,
    /// What it asks.
    pub body: CommandBody,
}

impl Command {
    /// A command with this tag and body.
    pub fn new(tag: Tag, body: CommandBody) -> Command {
        Command { tag, body }
    }
}

/// What a command asks, one variant per command (`UID` forms are flags of their command).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandBody {
    /// `CAPABILITY`.
    Capability,
    /// `NOOP`.
    Noop,
    /// `LOGOUT`.
    Logout,
    /// `STARTTLS`.
    StartTls,
    /// `AUTHENTICATE mechanism [initial-response]` (initial response: SASL-IR, RFC 4959).
    Authenticate {
        /// The mechanism name, as sent (an atom); see [`CommandBody::mechanism`].
        mechanism: Atom,
        /// The decoded initial response (`=` on the wire is an empty one).
        initial_response: Option<Secret<Vec<u8>>>,
    },
    /// `LOGIN userid password`.
    Login {
        /// The user name.
        username: AString,
        /// The password.
        password: Secret<AString>,
    },
    /// `SELECT mailbox [(params)]`.
    Select {
        /// The mailbox.
        mailbox: Mailbox,
        /// `CONDSTORE` / `QRESYNC` parameters (RFC 7162).
        params: Vec<SelectParam>,
    },
    /// `EXAMINE mailbox [(params)]`.
    Examine {
        /// The mailbox.
        mailbox: Mailbox,
        /// `CONDSTORE` / `QRESYNC` parameters (RFC 7162).
        params: Vec<SelectParam>,
    },
    /// `CREATE mailbox [(USE (attrs))]`.
    Create {
        /// The mailbox.
        mailbox: Mailbox,
        /// Special-use attributes asked for (RFC 6154 `USE`); `None` when absent.
        special_use: Option<Vec<NameAttribute>>,
    },
    /// `DELETE mailbox`.
    Delete {
        /// The mailbox.
        mailbox: Mailbox,
    },
    /// `RENAME from to`.
    Rename {
        /// The existing name.
        from: Mailbox,
        /// The new name.
        to: Mailbox,
    },
    /// `SUBSCRIBE mailbox`.
    Subscribe {
        /// The mailbox.
        mailbox: Mailbox,
    },
    /// `UNSUBSCRIBE mailbox`.
    Unsubscribe {
        /// The mailbox.
        mailbox: Mailbox,
    },
    /// `LIST [(select-opts)] reference pattern(s) [RETURN (opts)]` (RFC 3501, RFC 5258).
    List {
        /// Selection options (LIST-EXTENDED); `None` for the basic form (`Some(vec![])` is
        /// an empty `()`).
        selection: Option<Vec<ListSelectOption>>,
        /// The reference name.
        reference: Mailbox,
        /// One pattern, or several in parentheses (`patterns.len() > 1` or `multiple`).
        patterns: Vec<ListPattern>,
        /// Whether the patterns were written in parentheses.
        multiple: bool,
        /// Return options (LIST-EXTENDED, LIST-STATUS); `None` when absent.
        return_options: Option<Vec<ListReturnOption>>,
    },
    /// `LSUB reference pattern`.
    Lsub {
        /// The reference name.
        reference: Mailbox,
        /// The pattern.
        pattern: ListPattern,
    },
    /// `STATUS mailbox (items)`.
    Status {
        /// The mailbox.
        mailbox: Mailbox,
        /// What to report.
        items: Vec<StatusAttribute>,
    },
    /// `APPEND mailbox [(flags)] [date-time] literal`.
    Append {
        /// The mailbox.
        mailbox: Mailbox,
        /// Flags to set, `None` when no flag list is given.
        flags: Option<Vec<Flag>>,
        /// The internal date, if given.
        date: Option<DateTime>,
        /// The message (a `literal8` under BINARY).
        message: Literal,
        /// Whether the message is wrapped as `UTF8 (literal8)` (RFC 6855).
        utf8: bool,
    },
    /// `CHECK`.
    Check,
    /// `CLOSE`.
    Close,
    /// `UNSELECT` (RFC 3691).
    Unselect,
    /// `EXPUNGE`, or `UID EXPUNGE set` (RFC 4315).
    Expunge {
        /// The UIDs for `UID EXPUNGE`.
        uids: Option<SequenceSet>,
    },
    /// `[UID] SEARCH [RETURN (opts)] [CHARSET c] keys`.
    Search {
        /// `UID SEARCH`.
        uid: bool,
        /// ESEARCH return options (RFC 4731); `None` when absent.
        return_options: Option<Vec<SearchReturnOption>>,
        /// The charset, if given.
        charset: Option<AString>,
        /// The keys (all must match).
        criteria: Vec<SearchKey>,
    },
    /// `[UID] FETCH set items [(modifiers)]`.
    Fetch {
        /// `UID FETCH`.
        uid: bool,
        /// The messages.
        set: SequenceSet,
        /// What to fetch.
        items: FetchItems,
        /// `CHANGEDSINCE` / `VANISHED` (RFC 7162).
        modifiers: Vec<FetchModifier>,
    },
    /// `[UID] STORE set [(UNCHANGEDSINCE n)] ±FLAGS[.SILENT] flags`.
    Store {
        /// `UID STORE`.
        uid: bool,
        /// The messages.
        set: SequenceSet,
        /// `UNCHANGEDSINCE` (RFC 7162).
        unchanged_since: Option<u64>,
        /// Replace, add or remove.
        mode: StoreMode,
        /// `.SILENT`.
        silent: bool,
        /// The flags.
        flags: Vec<Flag>,
        /// Whether the flags were written in parentheses.
        parenthesized: bool,
    },
    /// `[UID] COPY set mailbox`.
    Copy {
        /// `UID COPY`.
        uid: bool,
        /// The messages.
        set: SequenceSet,
        /// The destination.
        mailbox: Mailbox,
    },
    /// `[UID] MOVE set mailbox` (RFC 6851).
    Move {
        /// `UID MOVE`.
        uid: bool,
        /// The messages.
        set: SequenceSet,
        /// The destination.
        mailbox: Mailbox,
    },
    /// `IDLE` (RFC 2177); the client ends it with `DONE`.
    Idle,
    /// `ENABLE caps` (RFC 5161).
    Enable {
        /// The capabilities to enable.
        capabilities: Vec<Atom>,
    },
    /// `ID (params)` or `ID NIL` (RFC 2971).
    Id {
        /// Field/value pairs, `None` for `NIL`.
        params: Option<Vec<(IString, NString)>>,
    },
    /// `NAMESPACE` (RFC 2342).
    Namespace,
    /// `GETQUOTA root` (RFC 9208).
    GetQuota {
        /// The quota root.
        root: AString,
    },
    /// `GETQUOTAROOT mailbox` (RFC 9208).
    GetQuotaRoot {
        /// The mailbox.
        mailbox: Mailbox,
    },
    /// `SETQUOTA root (resource limit …)` (RFC 9208).
    SetQuota {
        /// The quota root.
        root: AString,
        /// Resource names and limits.
        limits: Vec<(Atom, u64)>,
    },
    /// `[UID] SORT (criteria) charset keys` (RFC 5256).
    Sort {
        /// `UID SORT`.
        uid: bool,
        /// Sort criteria.
        criteria: Vec<SortCriterion>,
        /// The charset.
        charset: AString,
        /// The search keys.
        search: Vec<SearchKey>,
    },
    /// `[UID] THREAD algorithm charset keys` (RFC 5256).
    Thread {
        /// `UID THREAD`.
        uid: bool,
        /// The algorithm (`ORDEREDSUBJECT`, `REFERENCES`, …).
        algorithm: Atom,
        /// The charset.
        charset: AString,
        /// The search keys.
        search: Vec<SearchKey>,
    },
    /// `COMPRESS algorithm` (RFC 4978).
    Compress {
        /// The algorithm (`DEFLATE`).
        algorithm: Atom,
    },
}

impl CommandBody {
    /// For `AUTHENTICATE`, the mechanism as mailwire-core names it.
    pub fn mechanism(&self) -> Option<Mechanism> {
        match self {
            CommandBody::Authenticate { mechanism, .. } => Mechanism::from_name(mechanism.as_str()),
            _ => None,
        }
    }
    /// The command's name as written on the wire (`"UID FETCH"`, `"LOGIN"`).
    pub fn name(&self) -> &'static str {
        use CommandBody::*;
        match self {
            Capability => "CAPABILITY",
            Noop => "NOOP",
            Logout => "LOGOUT",
            StartTls => "STARTTLS",
            Authenticate { .. } => "AUTHENTICATE",
            Login { .. } => "LOGIN",
            Select { .. } => "SELECT",
            Examine { .. } => "EXAMINE",
            Create { .. } => "CREATE",
            Delete { .. } => "DELETE",
            Rename { .. } => "RENAME",
            Subscribe { .. } => "SUBSCRIBE",
            Unsubscribe { .. } => "UNSUBSCRIBE",
            List { .. } => "LIST",
            Lsub { .. } => "LSUB",
            Status { .. } => "STATUS",
            Append { .. } => "APPEND",
            Check => "CHECK",
            Close => "CLOSE",
            Unselect => "UNSELECT",
            Expunge { uids: None } => "EXPUNGE",
            Expunge { uids: Some(_) } => "UID EXPUNGE",
            Search { uid: false, .. } => "SEARCH",
            Search { uid: true, .. } => "UID SEARCH",
            Fetch { uid: false, .. } => "FETCH",
            Fetch { uid: true, .. } => "UID FETCH",
            Store { uid: false, .. } => "STORE",
            Store { uid: true, .. } => "UID STORE",
            Copy { uid: false, .. } => "COPY",
            Copy { uid: true, .. } => "UID COPY",
            Move { uid: false, .. } => "MOVE",
            Move { uid: true, .. } => "UID MOVE",
            Idle => "IDLE",
            Enable { .. } => "ENABLE",
            Id { .. } => "ID",
            Namespace => "NAMESPACE",
            GetQuota { .. } => "GETQUOTA",
            GetQuotaRoot { .. } => "GETQUOTAROOT",
            SetQuota { .. } => "SETQUOTA",
            Sort { uid: false, .. } => "SORT",
            Sort { uid: true, .. } => "UID SORT",
            Thread { uid: false, .. } => "THREAD",
            Thread { uid: true, .. } => "UID THREAD",
            Compress { .. } => "COMPRESS",
        }
    }
}

/// A `SELECT`/`EXAMINE` parameter (RFC 4466, RFC 7162).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectParam {
    /// `CONDSTORE`.
    CondStore,
    /// `QRESYNC (uidvalidity modseq [known-uids] [(seqs uids)])`.
    QResync {
        /// The last known UIDVALIDITY.
        uid_validity: NonZeroU32,
        /// The last known HIGHESTMODSEQ.
        mod_seq: u64,
        /// The known UIDs.
        known_uids: Option<SequenceSet>,
        /// Message sequence numbers and the UIDs they match.
        seq_match: Option<(SequenceSet, SequenceSet)>,
    },
}

/// A LIST selection option (RFC 5258, RFC 6154).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListSelectOption {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `REMOTE`.
    Remote,
    /// `RECURSIVEMATCH`.
    RecursiveMatch,
    /// `SPECIAL-USE`.
    SpecialUse,
    /// Any other option, kept.
    Other(Atom),
}

/// A LIST return option (RFC 5258, RFC 5819, RFC 6154).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListReturnOption {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `CHILDREN`.
    Children,
    /// `SPECIAL-USE`.
    SpecialUse,
    /// `STATUS (items)` (LIST-STATUS).
    Status(Vec<StatusAttribute>),
    /// Any other option without value, kept.
    Other(Atom),
}

/// A `STATUS` item name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StatusAttribute {
    /// `MESSAGES`.
    Messages,
    /// `RECENT`.
    Recent,
    /// `UIDNEXT`.
    UidNext,
    /// `UIDVALIDITY`.
    UidValidity,
    /// `UNSEEN`.
    Unseen,
    /// `HIGHESTMODSEQ` (RFC 7162).
    HighestModSeq,
    /// `SIZE` (RFC 9051).
    Size,
    /// `DELETED` (RFC 9051).
    Deleted,
    /// `APPENDLIMIT` (RFC 7889).
    AppendLimit,
    /// Any other, kept.
    Other(Atom),
}

/// An ESEARCH return option (RFC 4731).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchReturnOption {
    /// `MIN`.
    Min,
    /// `MAX`.
    Max,
    /// `ALL`.
    All,
    /// `COUNT`.
    Count,
    /// `SAVE` (RFC 5182).
    Save,
    /// Any other, kept.
    Other(Atom),
}

/// A search key (RFC 3501 `search-key`, with CONDSTORE's `MODSEQ` and Gmail's `X-GM-*`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchKey {
    /// `ALL`.
    All,
    /// `ANSWERED`.
    Answered,
    /// `BCC s`.
    Bcc(AString),
    /// `BEFORE date`.
    Before(Date),
    /// `BODY s`.
    Body(AString),
    /// `CC s`.
    Cc(AString),
    /// `DELETED`.
    Deleted,
    /// `DRAFT`.
    Draft,
    /// `FLAGGED`.
    Flagged,
    /// `FROM s`.
    From(AString),
    /// `HEADER name value`.
    Header(AString, AString),
    /// `KEYWORD k`.
    Keyword(Atom),
    /// `LARGER n`.
    Larger(u32),
    /// `NEW`.
    New,
    /// `NOT key`.
    Not(Box<SearchKey>),
    /// `OLD`.
    Old,
    /// `ON date`.
    On(Date),
    /// `OR a b`.
    Or(Box<SearchKey>, Box<SearchKey>),
    /// `RECENT`.
    Recent,
    /// `SEEN`.
    Seen,
    /// `SENTBEFORE date`.
    SentBefore(Date),
    /// `SENTON date`.
    SentOn(Date),
    /// `SENTSINCE date`.
    SentSince(Date),
    /// `SINCE date`.
    Since(Date),
    /// `SMALLER n`.
    Smaller(u32),
    /// `SUBJECT s`.
    Subject(AString),
    /// `TEXT s`.
    Text(AString),
    /// `TO s`.
    To(AString),
    /// `UID set`.
    Uid(SequenceSet),
    /// `UNANSWERED`.
    Unanswered,
    /// `UNDELETED`.
    Undeleted,
    /// `UNDRAFT`.
    Undraft,
    /// `UNFLAGGED`.
    Unflagged,
    /// `UNKEYWORD k`.
    Unkeyword(Atom),
    /// `UNSEEN`.
    Unseen,
    /// A sequence set.
    SequenceSet(SequenceSet),
    /// `(key key …)`: all must match.
    And(Vec<SearchKey>),
    /// `MODSEQ ["/flags/f" priv|shared|all] n` (RFC 7162).
    ModSeq {
        /// The metadata entry and its type, if given.
        entry: Option<(IString, EntryType)>,
        /// The mod-sequence.
        mod_seq: u64,
    },
    /// `X-GM-RAW s` (Gmail).
    GmailRaw(AString),
    /// `X-GM-MSGID n` (Gmail).
    GmailMsgId(u64),
    /// `X-GM-THRID n` (Gmail).
    GmailThreadId(u64),
    /// `X-GM-LABELS s` (Gmail).
    GmailLabels(AString),
}

/// The entry type of a `MODSEQ` search key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryType {
    /// `priv`.
    Private,
    /// `shared`.
    Shared,
    /// `all`.
    All,
}

/// What a `FETCH` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchItems {
    /// `ALL` (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE).
    All,
    /// `FAST` (FLAGS INTERNALDATE RFC822.SIZE).
    Fast,
    /// `FULL` (ALL and BODY).
    Full,
    /// One attribute without parentheses.
    Single(FetchAttribute),
    /// Attributes in parentheses.
    List(Vec<FetchAttribute>),
}

/// One fetch attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchAttribute {
    /// `ENVELOPE`.
    Envelope,
    /// `FLAGS`.
    Flags,
    /// `INTERNALDATE`.
    InternalDate,
    /// `RFC822`.
    Rfc822,
    /// `RFC822.HEADER`.
    Rfc822Header,
    /// `RFC822.SIZE`.
    Rfc822Size,
    /// `RFC822.TEXT`.
    Rfc822Text,
    /// `BODY`.
    Body,
    /// `BODYSTRUCTURE`.
    BodyStructure,
    /// `UID`.
    Uid,
    /// `BODY[section]<partial>` or `BODY.PEEK[…]`.
    BodySection {
        /// The section.
        section: Section,
        /// `<offset.length>`.
        partial: Option<(u32, NonZeroU32)>,
        /// `.PEEK`.
        peek: bool,
    },
    /// `BINARY[part]<partial>` or `BINARY.PEEK[…]` (RFC 3516).
    Binary {
        /// The part numbers.
        part: Vec<NonZeroU32>,
        /// `<offset.length>`.
        partial: Option<(u32, NonZeroU32)>,
        /// `.PEEK`.
        peek: bool,
    },
    /// `BINARY.SIZE[part]` (RFC 3516).
    BinarySize {
        /// The part numbers.
        part: Vec<NonZeroU32>,
    },
    /// `MODSEQ` (RFC 7162).
    ModSeq,
    /// `X-GM-MSGID` (Gmail).
    GmailMsgId,
    /// `X-GM-THRID` (Gmail).
    GmailThreadId,
    /// `X-GM-LABELS` (Gmail).
    GmailLabels,
}

/// A body section (RFC 3501 `section`): part numbers, then what of that part.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Section {
    /// The part path (`1.2.3`); empty for the whole message.
    pub part: Vec<NonZeroU32>,
    /// What of it; `None` for the part's whole content.
    pub text: Option<SectionText>,
}

/// The text part of a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionText {
    /// `HEADER`.
    Header,
    /// `HEADER.FIELDS (names)`.
    HeaderFields(Vec<AString>),
    /// `HEADER.FIELDS.NOT (names)`.
    HeaderFieldsNot(Vec<AString>),
    /// `TEXT`.
    Text,
    /// `MIME` (only after a part number).
    Mime,
}

/// A `FETCH` modifier (RFC 7162).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchModifier {
    /// `CHANGEDSINCE n`.
    ChangedSince(u64),
    /// `VANISHED`.
    Vanished,
}

/// How `STORE` changes flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMode {
    /// `FLAGS`: replace.
    Replace,
    /// `+FLAGS`: add.
    Add,
    /// `-FLAGS`: remove.
    Remove,
}

/// A `SORT` criterion (RFC 5256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortCriterion {
    /// `REVERSE`.
    pub reverse: bool,
    /// The key.
    pub key: SortKey,
}

/// A `SORT` key (RFC 5256, RFC 5957 `DISPLAYFROM`/`DISPLAYTO`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// `ARRIVAL`.
    Arrival,
    /// `CC`.
    Cc,
    /// `DATE`.
    Date,
    /// `FROM`.
    From,
    /// `SIZE`.
    Size,
    /// `SUBJECT`.
    Subject,
    /// `TO`.
    To,
    /// `DISPLAYFROM`.
    DisplayFrom,
    /// `DISPLAYTO`.
    DisplayTo,
}

/// A line of `AUTHENTICATE` data sent by the client after a continuation request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthenticateData {
    /// A decoded SASL response (empty for an empty line).
    Response(Secret<Vec<u8>>),
    /// `*`: the client cancels the authentication.
    Cancel,
}
