//! Commands (a client writes them).

use base64::Engine as _;

use super::{Enc, Encoded, LiteralPolicy, W, id_params, section_binary};
use crate::types::*;

impl Command {
    /// The command as fragments: a client writes each [`Fragment::Line`](super::Fragment),
    /// and waits for `+` before each synchronizing [`Fragment::Literal`](super::Fragment).
    pub fn encode(&self) -> Encoded {
        self.encode_with(LiteralPolicy::AsIs)
    }
    /// Like [`Command::encode`], announcing literals as `policy` says (for example
    /// [`LiteralPolicy::NonSync`] when the server advertises `LITERAL+`).
    pub fn encode_with(&self, policy: LiteralPolicy) -> Encoded {
        let mut buf = Vec::new();
        let mut w = W::fragmented(&mut buf, policy);
        self.enc(&mut w);
        w.finish()
    }
    /// The whole command appended to `out`, literals included.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let mut w = W::flat(out);
        self.enc(&mut w);
    }
}

impl AuthenticateData {
    /// The line a client sends: base64 of the response, or `*`, then CRLF.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = match self {
            AuthenticateData::Response(r) => base64::engine::general_purpose::STANDARD
                .encode(r.expose())
                .into_bytes(),
            AuthenticateData::Cancel => b"*".to_vec(),
        };
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// The line that ends `IDLE`.
pub const IDLE_DONE: &[u8] = b"DONE\r\n";

impl Enc for Command {
    fn enc(&self, w: &mut W<'_>) {
        self.tag.enc(w);
        w.sp();
        self.body.enc(w);
        w.raw(b"\r\n");
    }
}

fn opt_params<T>(w: &mut W<'_>, v: &[T], f: impl FnMut(&mut W<'_>, &T)) {
    if !v.is_empty() {
        w.sp();
        w.list(v, f);
    }
}

impl Enc for SelectParam {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            SelectParam::CondStore => w.raw(b"CONDSTORE"),
            SelectParam::QResync {
                uid_validity,
                mod_seq,
                known_uids,
                seq_match,
            } => {
                w.raw(b"QRESYNC (");
                w.num(u64::from(uid_validity.get()));
                w.sp();
                w.num(*mod_seq);
                if let Some(k) = known_uids {
                    w.sp();
                    k.enc(w);
                }
                if let Some((s, u)) = seq_match {
                    w.raw(b" (");
                    s.enc(w);
                    w.sp();
                    u.enc(w);
                    w.byte(b')');
                }
                w.byte(b')');
            }
        }
    }
}

impl Enc for SearchKey {
    fn enc(&self, w: &mut W<'_>) {
        use SearchKey as K;
        macro_rules! kw {
            ($k:literal, $a:expr) => {{
                w.raw($k);
                w.sp();
                $a.enc(w);
            }};
        }
        macro_rules! kwn {
            ($k:literal, $n:expr) => {{
                w.raw($k);
                w.sp();
                w.num(u64::from(*$n));
            }};
        }
        match self {
            K::All => w.raw(b"ALL"),
            K::Answered => w.raw(b"ANSWERED"),
            K::Bcc(s) => kw!(b"BCC", s),
            K::Before(d) => kw!(b"BEFORE", d),
            K::Body(s) => kw!(b"BODY", s),
            K::Cc(s) => kw!(b"CC", s),
            K::Deleted => w.raw(b"DELETED"),
            K::Draft => w.raw(b"DRAFT"),
            K::Flagged => w.raw(b"FLAGGED"),
            K::From(s) => kw!(b"FROM", s),
            K::Header(n, v) => {
                kw!(b"HEADER", n);
                w.sp();
                v.enc(w);
            }
            K::Keyword(a) => kw!(b"KEYWORD", a),
            K::Larger(n) => kwn!(b"LARGER", n),
            K::New => w.raw(b"NEW"),
            K::Not(k) => kw!(b"NOT", k.as_ref()),
            K::Old => w.raw(b"OLD"),
            K::On(d) => kw!(b"ON", d),
            K::Or(a, b) => {
                kw!(b"OR", a.as_ref());
                w.sp();
                b.enc(w);
            }
            K::Recent => w.raw(b"RECENT"),
            K::Seen => w.raw(b"SEEN"),
            K::SentBefore(d) => kw!(b"SENTBEFORE", d),
            K::SentOn(d) => kw!(b"SENTON", d),
            K::SentSince(d) => kw!(b"SENTSINCE", d),
            K::Since(d) => kw!(b"SINCE", d),
            K::Smaller(n) => kwn!(b"SMALLER", n),
            K::Subject(s) => kw!(b"SUBJECT", s),
            K::Text(s) => kw!(b"TEXT", s),
            K::To(s) => kw!(b"TO", s),
            K::Uid(s) => kw!(b"UID", s),
            K::Unanswered => w.raw(b"UNANSWERED"),
            K::Undeleted => w.raw(b"UNDELETED"),
            K::Undraft => w.raw(b"UNDRAFT"),
            K::Unflagged => w.raw(b"UNFLAGGED"),
            K::Unkeyword(a) => kw!(b"UNKEYWORD", a),
            K::Unseen => w.raw(b"UNSEEN"),
            K::SequenceSet(s) => s.enc(w),
            K::And(keys) => w.list(keys, |w, k| k.enc(w)),
            K::ModSeq { entry, mod_seq } => {
                w.raw(b"MODSEQ ");
                if let Some((name, kind)) = entry {
                    name.enc(w);
                    w.raw(match kind {
                        EntryType::Private => b" priv ",
                        EntryType::Shared => b" shared ",
                        EntryType::All => b" all ",
                    });
                }
                w.num(*mod_seq);
            }
            K::GmailRaw(s) => kw!(b"X-GM-RAW", s),
            K::GmailMsgId(n) => kwn!(b"X-GM-MSGID", n),
            K::GmailThreadId(n) => kwn!(b"X-GM-THRID", n),
            K::GmailLabels(s) => kw!(b"X-GM-LABELS", s),
        }
    }
}

fn search_keys(w: &mut W<'_>, keys: &[SearchKey]) {
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        k.enc(w);
    }
}

fn partial(w: &mut W<'_>, p: &Option<(u32, std::num::NonZeroU32)>) {
    if let Some((o, l)) = p {
        w.byte(b'<');
        w.num(u64::from(*o));
        w.byte(b'.');
        w.num(u64::from(l.get()));
        w.byte(b'>');
    }
}

impl Enc for FetchAttribute {
    fn enc(&self, w: &mut W<'_>) {
        use FetchAttribute as A;
        match self {
            A::Envelope => w.raw(b"ENVELOPE"),
            A::Flags => w.raw(b"FLAGS"),
            A::InternalDate => w.raw(b"INTERNALDATE"),
            A::Rfc822 => w.raw(b"RFC822"),
            A::Rfc822Header => w.raw(b"RFC822.HEADER"),
            A::Rfc822Size => w.raw(b"RFC822.SIZE"),
            A::Rfc822Text => w.raw(b"RFC822.TEXT"),
            A::Body => w.raw(b"BODY"),
            A::BodyStructure => w.raw(b"BODYSTRUCTURE"),
            A::Uid => w.raw(b"UID"),
            A::BodySection {
                section,
                partial: p,
                peek,
            } => {
                w.raw(if *peek { b"BODY.PEEK" } else { b"BODY" });
                section.enc(w);
                partial(w, p);
            }
            A::Binary {
                part,
                partial: p,
                peek,
            } => {
                w.raw(if *peek { b"BINARY.PEEK" } else { b"BINARY" });
                section_binary(w, part);
                partial(w, p);
            }
            A::BinarySize { part } => {
                w.raw(b"BINARY.SIZE");
                section_binary(w, part);
            }
            A::ModSeq => w.raw(b"MODSEQ"),
            A::GmailMsgId => w.raw(b"X-GM-MSGID"),
            A::GmailThreadId => w.raw(b"X-GM-THRID"),
            A::GmailLabels => w.raw(b"X-GM-LABELS"),
        }
    }
}

impl Enc for CommandBody {
    fn enc(&self, w: &mut W<'_>) {
        use CommandBody as C;
        match self {
            C::Capability
            | C::Noop
            | C::Logout
            | C::StartTls
            | C::Check
            | C::Close
            | C::Unselect
            | C::Idle
            | C::Namespace
            | C::Expunge { uids: None } => w.raw(self.name().as_bytes()),
            C::Authenticate {
                mechanism,
                initial_response,
            } => {
                w.raw(b"AUTHENTICATE ");
                mechanism.enc(w);
                if let Some(ir) = initial_response {
                    w.sp();
                    if ir.expose().is_empty() {
                        w.byte(b'=');
                    } else {
                        w.raw(
                            base64::engine::general_purpose::STANDARD
                                .encode(ir.expose())
                                .as_bytes(),
                        );
                    }
                }
            }
            C::Login { username, password } => {
                w.raw(b"LOGIN ");
                username.enc(w);
                w.sp();
                password.expose().enc(w);
            }
            C::Select { mailbox, params } | C::Examine { mailbox, params } => {
                w.raw(self.name().as_bytes());
                w.sp();
                mailbox.enc(w);
                opt_params(w, params, |w, p| p.enc(w));
            }
            C::Create {
                mailbox,
                special_use,
            } => {
                w.raw(b"CREATE ");
                mailbox.enc(w);
                if let Some(attrs) = special_use {
                    w.raw(b" (USE ");
                    w.list(attrs, |w, a| a.enc(w));
                    w.byte(b')');
                }
            }
            C::Delete { mailbox }
            | C::Subscribe { mailbox }
            | C::Unsubscribe { mailbox }
            | C::GetQuotaRoot { mailbox } => {
                w.raw(self.name().as_bytes());
                w.sp();
                mailbox.enc(w);
            }
            C::Rename { from, to } => {
                w.raw(b"RENAME ");
                from.enc(w);
                w.sp();
                to.enc(w);
            }
            C::List {
                selection,
                reference,
                patterns,
                multiple,
                return_options,
            } => {
                w.raw(b"LIST ");
                if let Some(selection) = selection {
                    w.list(selection, |w, o| match o {
                        ListSelectOption::Subscribed => w.raw(b"SUBSCRIBED"),
                        ListSelectOption::Remote => w.raw(b"REMOTE"),
                        ListSelectOption::RecursiveMatch => w.raw(b"RECURSIVEMATCH"),
                        ListSelectOption::SpecialUse => w.raw(b"SPECIAL-USE"),
                        ListSelectOption::Other(a) => a.enc(w),
                    });
                    w.sp();
                }
                reference.enc(w);
                w.sp();
                if *multiple || patterns.len() != 1 {
                    w.list(patterns, |w, p| p.enc(w));
                } else {
                    patterns[0].enc(w);
                }
                if let Some(opts) = return_options {
                    w.raw(b" RETURN ");
                    w.list(opts, |w, o| match o {
                        ListReturnOption::Subscribed => w.raw(b"SUBSCRIBED"),
                        ListReturnOption::Children => w.raw(b"CHILDREN"),
                        ListReturnOption::SpecialUse => w.raw(b"SPECIAL-USE"),
                        ListReturnOption::Status(items) => {
                            w.raw(b"STATUS ");
                            w.list(items, |w, i| i.enc(w));
                        }
                        ListReturnOption::Other(a) => a.enc(w),
                    });
                }
            }
            C::Lsub { reference, pattern } => {
                w.raw(b"LSUB ");
                reference.enc(w);
                w.sp();
                pattern.enc(w);
            }
            C::Status { mailbox, items } => {
                w.raw(b"STATUS ");
                mailbox.enc(w);
                w.sp();
                w.list(items, |w, i| i.enc(w));
            }
            C::Append {
                mailbox,
                flags,
                date,
                message,
                utf8,
            } => {
                w.raw(b"APPEND ");
                mailbox.enc(w);
                w.sp();
                if let Some(f) = flags {
                    w.list(f, |w, f| f.enc(w));
                    w.sp();
                }
                if let Some(d) = date {
                    d.enc(w);
                    w.sp();
                }
                if *utf8 {
                    w.raw(b"UTF8 (");
                    message.enc(w);
                    w.byte(b')');
                } else {
                    message.enc(w);
                }
            }
            C::Expunge { uids: Some(set) } => {
                w.raw(b"UID EXPUNGE ");
                set.enc(w);
            }
            C::Search {
                return_options,
                charset,
                criteria,
                ..
            } => {
                w.raw(self.name().as_bytes());
                if let Some(opts) = return_options {
                    w.raw(b" RETURN ");
                    w.list(opts, |w, o| match o {
                        SearchReturnOption::Min => w.raw(b"MIN"),
                        SearchReturnOption::Max => w.raw(b"MAX"),
                        SearchReturnOption::All => w.raw(b"ALL"),
                        SearchReturnOption::Count => w.raw(b"COUNT"),
                        SearchReturnOption::Save => w.raw(b"SAVE"),
                        SearchReturnOption::Other(a) => a.enc(w),
                    });
                }
                w.sp();
                if let Some(c) = charset {
                    w.raw(b"CHARSET ");
                    c.enc(w);
                    w.sp();
                }
                search_keys(w, criteria);
            }
            C::Fetch {
                set,
                items,
                modifiers,
                ..
            } => {
                w.raw(self.name().as_bytes());
                w.sp();
                set.enc(w);
                w.sp();
                match items {
                    FetchItems::All => w.raw(b"ALL"),
                    FetchItems::Fast => w.raw(b"FAST"),
                    FetchItems::Full => w.raw(b"FULL"),
                    FetchItems::Single(a) => a.enc(w),
                    FetchItems::List(l) => w.list(l, |w, a| a.enc(w)),
                }
                opt_params(w, modifiers, |w, m| match m {
                    FetchModifier::ChangedSince(n) => {
                        w.raw(b"CHANGEDSINCE ");
                        w.num(*n);
                    }
                    FetchModifier::Vanished => w.raw(b"VANISHED"),
                });
            }
            C::Store {
                set,
                unchanged_since,
                mode,
                silent,
                flags,
                parenthesized,
                ..
            } => {
                w.raw(self.name().as_bytes());
                w.sp();
                set.enc(w);
                w.sp();
                if let Some(n) = unchanged_since {
                    w.raw(b"(UNCHANGEDSINCE ");
                    w.num(*n);
                    w.raw(b") ");
                }
                match mode {
                    StoreMode::Replace => {}
                    StoreMode::Add => w.byte(b'+'),
                    StoreMode::Remove => w.byte(b'-'),
                }
                w.raw(if *silent { b"FLAGS.SILENT " } else { b"FLAGS " });
                if *parenthesized || flags.is_empty() {
                    w.list(flags, |w, f| f.enc(w));
                } else {
                    for (i, f) in flags.iter().enumerate() {
                        if i > 0 {
                            w.sp();
                        }
                        f.enc(w);
                    }
                }
            }
            C::Copy { set, mailbox, .. } | C::Move { set, mailbox, .. } => {
                w.raw(self.name().as_bytes());
                w.sp();
                set.enc(w);
                w.sp();
                mailbox.enc(w);
            }
            C::Enable { capabilities } => {
                w.raw(b"ENABLE");
                for c in capabilities {
                    w.sp();
                    c.enc(w);
                }
            }
            C::Id { params } => {
                w.raw(b"ID ");
                id_params(w, params);
            }
            C::GetQuota { root } => {
                w.raw(b"GETQUOTA ");
                root.enc(w);
            }
            C::SetQuota { root, limits } => {
                w.raw(b"SETQUOTA ");
                root.enc(w);
                w.sp();
                w.list(limits, |w, (n, l)| {
                    n.enc(w);
                    w.sp();
                    w.num(*l);
                });
            }
            C::Sort {
                criteria,
                charset,
                search,
                ..
            } => {
                w.raw(self.name().as_bytes());
                w.sp();
                w.list(criteria, |w, c| {
                    if c.reverse {
                        w.raw(b"REVERSE ");
                    }
                    w.raw(match c.key {
                        SortKey::Arrival => b"ARRIVAL".as_slice(),
                        SortKey::Cc => b"CC",
                        SortKey::Date => b"DATE",
                        SortKey::From => b"FROM",
                        SortKey::Size => b"SIZE",
                        SortKey::Subject => b"SUBJECT",
                        SortKey::To => b"TO",
                        SortKey::DisplayFrom => b"DISPLAYFROM",
                        SortKey::DisplayTo => b"DISPLAYTO",
                    });
                });
                w.sp();
                charset.enc(w);
                w.sp();
                search_keys(w, search);
            }
            C::Thread {
                algorithm,
                charset,
                search,
                ..
            } => {
                w.raw(self.name().as_bytes());
                w.sp();
                algorithm.enc(w);
                w.sp();
                charset.enc(w);
                w.sp();
                search_keys(w, search);
            }
            C::Compress { algorithm } => {
                w.raw(b"COMPRESS ");
                algorithm.enc(w);
            }
        }
    }
}
