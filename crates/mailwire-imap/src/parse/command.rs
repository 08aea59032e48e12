//! Commands (a server reads them).

use base64::Engine as _;
use bytes::Bytes;
use mailwire_core::Secret;

use super::{P, ParseError, R};
use crate::types::*;

/// Parses one complete command, CRLF included (as [`Frame::Message`](crate::frame::Frame)
/// holds it).
///
/// On a syntax error, [`ParseError::tag`] gives the tag when the command starts with a valid
/// one, so that a server can answer `tag BAD`.
pub fn command(input: &Bytes) -> Result<Command, ParseError> {
    let mut p = P::new(input);
    let tag = match tag(&mut p) {
        Ok(t) => t,
        Err(e) => return p.finish(Err(e), None),
    };
    let r = body(&mut p).and_then(|b| p.end().map(|()| b));
    let body = p.finish(r, Some(tag.clone()))?;
    Ok(Command { tag, body })
}

/// Parses the `DONE` line that ends `IDLE` (CRLF included).
pub fn idle_done(input: &[u8]) -> Result<(), ParseError> {
    match input.strip_suffix(b"\r\n") {
        Some(w) if w.eq_ignore_ascii_case(b"DONE") => Ok(()),
        None if b"DONE\r".len() > input.len()
            && b"DONE\r"
                .get(..input.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(input)) =>
        {
            Err(ParseError::Incomplete)
        }
        _ => Err(ParseError::Syntax {
            tag: None,
            at: 0,
            expected: "DONE",
        }),
    }
}

/// Parses a line of `AUTHENTICATE` data (base64, or `*` to cancel; CRLF included).
pub fn authenticate_data(input: &[u8]) -> Result<AuthenticateData, ParseError> {
    let Some(line) = input.strip_suffix(b"\r\n") else {
        return Err(if input.contains(&b'\n') {
            ParseError::Syntax {
                tag: None,
                at: input.len().saturating_sub(1),
                expected: "CRLF",
            }
        } else {
            ParseError::Incomplete
        });
    };
    if line == b"*" {
        return Ok(AuthenticateData::Cancel);
    }
    base64::engine::general_purpose::STANDARD
        .decode(line)
        .map(|d| AuthenticateData::Response(Secret::new(d)))
        .map_err(|_| ParseError::Syntax {
            tag: None,
            at: 0,
            expected: "base64",
        })
}

fn tag(p: &mut P<'_>) -> R<Tag> {
    let t = p.take_while(is_tag_char);
    if t.is_empty() {
        return p.fail("a tag");
    }
    let t = Tag::unchecked(p.bytes(t));
    p.sp()?;
    Ok(t)
}

fn body(p: &mut P<'_>) -> R<CommandBody> {
    let start = p.pos;
    let kw = p.kw();
    Ok(match kw.as_slice() {
        b"CAPABILITY" => CommandBody::Capability,
        b"NOOP" => CommandBody::Noop,
        b"LOGOUT" => CommandBody::Logout,
        b"STARTTLS" => CommandBody::StartTls,
        b"CHECK" => CommandBody::Check,
        b"CLOSE" => CommandBody::Close,
        b"UNSELECT" => CommandBody::Unselect,
        b"EXPUNGE" => CommandBody::Expunge { uids: None },
        b"IDLE" => CommandBody::Idle,
        b"NAMESPACE" => CommandBody::Namespace,
        b"AUTHENTICATE" => {
            p.sp()?;
            let mechanism = p.atom()?;
            let initial_response =
                if p.peek() == Some(b' ') && p.peek_at(1).is_some_and(|b| b != b'\r') {
                    p.pos += 1;
                    if p.eat(b'=') {
                        Some(Secret::new(Vec::new()))
                    } else {
                        let b64 = p.take_while(|b| {
                            b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
                        });
                        match base64::engine::general_purpose::STANDARD.decode(b64) {
                            Ok(d) if !b64.is_empty() => Some(Secret::new(d)),
                            _ => return p.fail("base64"),
                        }
                    }
                } else {
                    None
                };
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            }
        }
        b"LOGIN" => {
            p.sp()?;
            let username = p.astring()?;
            p.sp()?;
            let password = Secret::new(p.astring()?);
            CommandBody::Login { username, password }
        }
        b"SELECT" | b"EXAMINE" => {
            let examine = kw.as_slice() == b"EXAMINE";
            p.sp()?;
            let mailbox = p.mailbox()?;
            let params = if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
                p.pos += 1;
                p.list1(select_param)?
            } else {
                Vec::new()
            };
            if examine {
                CommandBody::Examine { mailbox, params }
            } else {
                CommandBody::Select { mailbox, params }
            }
        }
        b"CREATE" => {
            p.sp()?;
            let mailbox = p.mailbox()?;
            let special_use = if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
                p.pos += 2;
                if !p.word(b"USE") {
                    return p.fail("USE");
                }
                p.sp()?;
                let attrs = p.list(P::name_attribute)?;
                p.close()?;
                Some(attrs)
            } else {
                None
            };
            CommandBody::Create {
                mailbox,
                special_use,
            }
        }
        b"DELETE" => {
            p.sp()?;
            CommandBody::Delete {
                mailbox: p.mailbox()?,
            }
        }
        b"SUBSCRIBE" => {
            p.sp()?;
            CommandBody::Subscribe {
                mailbox: p.mailbox()?,
            }
        }
        b"UNSUBSCRIBE" => {
            p.sp()?;
            CommandBody::Unsubscribe {
                mailbox: p.mailbox()?,
            }
        }
        b"RENAME" => {
            p.sp()?;
            let from = p.mailbox()?;
            p.sp()?;
            CommandBody::Rename {
                from,
                to: p.mailbox()?,
            }
        }
        b"LIST" => list(p)?,
        b"LSUB" => {
            p.sp()?;
            let reference = p.mailbox()?;
            p.sp()?;
            CommandBody::Lsub {
                reference,
                pattern: p.list_pattern()?,
            }
        }
        b"STATUS" => {
            p.sp()?;
            let mailbox = p.mailbox()?;
            p.sp()?;
            CommandBody::Status {
                mailbox,
                items: p.list1(P::status_attribute)?,
            }
        }
        b"APPEND" => append(p)?,
        b"SEARCH" => search(p, false)?,
        b"FETCH" => fetch(p, false)?,
        b"STORE" => store(p, false)?,
        b"COPY" | b"MOVE" => copy_move(p, kw.as_slice() == b"MOVE", false)?,
        b"SORT" => sort(p, false)?,
        b"THREAD" => thread(p, false)?,
        b"UID" => {
            p.sp()?;
            let kw = p.kw();
            match kw.as_slice() {
                b"SEARCH" => search(p, true)?,
                b"FETCH" => fetch(p, true)?,
                b"STORE" => store(p, true)?,
                b"COPY" | b"MOVE" => copy_move(p, kw.as_slice() == b"MOVE", true)?,
                b"SORT" => sort(p, true)?,
                b"THREAD" => thread(p, true)?,
                b"EXPUNGE" => {
                    p.sp()?;
                    CommandBody::Expunge {
                        uids: Some(p.sequence_set()?),
                    }
                }
                _ => return p.fail("a UID command"),
            }
        }
        b"ENABLE" => {
            let mut capabilities = Vec::new();
            while p.eat(b' ') {
                capabilities.push(p.atom()?);
            }
            if capabilities.is_empty() {
                return p.fail("a capability");
            }
            CommandBody::Enable { capabilities }
        }
        b"ID" => {
            p.sp()?;
            CommandBody::Id {
                params: id_params(p)?,
            }
        }
        b"GETQUOTA" => {
            p.sp()?;
            CommandBody::GetQuota { root: p.astring()? }
        }
        b"GETQUOTAROOT" => {
            p.sp()?;
            CommandBody::GetQuotaRoot {
                mailbox: p.mailbox()?,
            }
        }
        b"SETQUOTA" => {
            p.sp()?;
            let root = p.astring()?;
            p.sp()?;
            let limits = p.list(|p| {
                let name = p.atom()?;
                p.sp()?;
                Ok((name, p.number64()?))
            })?;
            CommandBody::SetQuota { root, limits }
        }
        b"COMPRESS" => {
            p.sp()?;
            CommandBody::Compress {
                algorithm: p.atom()?,
            }
        }
        _ => {
            p.pos = start;
            return p.fail("a command");
        }
    })
}

pub(super) fn id_params(p: &mut P<'_>) -> R<Option<Vec<(IString, NString)>>> {
    if p.nil() {
        return Ok(None);
    }
    p.list(|p| {
        let k = p.string()?;
        p.sp()?;
        Ok((k, p.nstring()?))
    })
    .map(Some)
}

fn select_param(p: &mut P<'_>) -> R<SelectParam> {
    let kw = p.kw();
    match kw.as_slice() {
        b"CONDSTORE" => Ok(SelectParam::CondStore),
        b"QRESYNC" => {
            p.sp()?;
            p.byte(b'(', "'('")?;
            let uid_validity = p.nz_number()?;
            p.sp()?;
            let mod_seq = p.number64()?;
            let mut known_uids = None;
            let mut seq_match = None;
            if p.peek() == Some(b' ') && p.peek_at(1) != Some(b'(') {
                p.pos += 1;
                known_uids = Some(p.sequence_set()?);
            }
            if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
                p.pos += 2;
                let seqs = p.sequence_set()?;
                p.sp()?;
                let uids = p.sequence_set()?;
                p.byte(b')', "')'")?;
                seq_match = Some((seqs, uids));
            }
            p.close()?;
            Ok(SelectParam::QResync {
                uid_validity,
                mod_seq,
                known_uids,
                seq_match,
            })
        }
        _ => p.fail("CONDSTORE or QRESYNC"),
    }
}

fn list(p: &mut P<'_>) -> R<CommandBody> {
    p.sp()?;
    let selection = if p.peek() == Some(b'(') {
        let opts = p.list(|p| {
            let start = p.pos;
            let kw = p.kw();
            Ok(match kw.as_slice() {
                b"SUBSCRIBED" => ListSelectOption::Subscribed,
                b"REMOTE" => ListSelectOption::Remote,
                b"RECURSIVEMATCH" => ListSelectOption::RecursiveMatch,
                b"SPECIAL-USE" => ListSelectOption::SpecialUse,
                _ => {
                    p.pos = start;
                    ListSelectOption::Other(p.atom()?)
                }
            })
        })?;
        p.sp()?;
        Some(opts)
    } else {
        None
    };
    let reference = p.mailbox()?;
    p.sp()?;
    let (patterns, multiple) = if p.peek() == Some(b'(') {
        (p.list1(P::list_pattern)?, true)
    } else {
        (vec![p.list_pattern()?], false)
    };
    let return_options = if p.peek() == Some(b' ') && p.peek_at(1).is_some_and(|b| b != b'\r') {
        p.pos += 1;
        if !p.word(b"RETURN") {
            return p.fail("RETURN");
        }
        p.sp()?;
        Some(p.list(|p| {
            let start = p.pos;
            let kw = p.kw();
            Ok(match kw.as_slice() {
                b"SUBSCRIBED" => ListReturnOption::Subscribed,
                b"CHILDREN" => ListReturnOption::Children,
                b"SPECIAL-USE" => ListReturnOption::SpecialUse,
                b"STATUS" => {
                    p.sp()?;
                    ListReturnOption::Status(p.list1(P::status_attribute)?)
                }
                _ => {
                    p.pos = start;
                    ListReturnOption::Other(p.atom()?)
                }
            })
        })?)
    } else {
        None
    };
    Ok(CommandBody::List {
        selection,
        reference,
        patterns,
        multiple,
        return_options,
    })
}

type AppendPrefix = (Mailbox, Option<Vec<Flag>>, Option<DateTime>, bool);

/// `SP mailbox SP [flag-list SP] [date-time SP] ["UTF8" SP "("]`.
fn append_prefix(p: &mut P<'_>) -> R<AppendPrefix> {
    p.sp()?;
    let mailbox = p.mailbox()?;
    p.sp()?;
    let flags = if p.peek() == Some(b'(') {
        let f = p.list(P::flag)?;
        p.sp()?;
        Some(f)
    } else {
        None
    };
    let date = if p.peek() == Some(b'"') {
        let d = p.date_time()?;
        p.sp()?;
        Some(d)
    } else {
        None
    };
    let utf8 = p.word(b"UTF8");
    if utf8 {
        p.sp()?;
        p.byte(b'(', "'('")?;
    }
    Ok((mailbox, flags, date, utf8))
}

fn append(p: &mut P<'_>) -> R<CommandBody> {
    let (mailbox, flags, date, utf8) = append_prefix(p)?;
    let message = p.literal(true)?;
    if utf8 {
        p.byte(b')', "')'")?;
    }
    Ok(CommandBody::Append {
        mailbox,
        flags,
        date,
        message,
        utf8,
    })
}

/// The start of an `APPEND` whose message is handed out in pieces
/// ([`Frame::StreamHead`](crate::frame::Frame::StreamHead)): everything but the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendHead {
    /// The command's tag.
    pub tag: Tag,
    /// The mailbox.
    pub mailbox: Mailbox,
    /// Flags to set.
    pub flags: Option<Vec<Flag>>,
    /// The internal date.
    pub date: Option<DateTime>,
    /// The message's length.
    pub length: u32,
    /// How the literal was announced.
    pub mode: LiteralMode,
    /// Whether it is a `literal8`.
    pub binary: bool,
    /// Whether it is wrapped as `UTF8 (…)`: the tail is then `)` CRLF, otherwise CRLF.
    pub utf8: bool,
}

/// Parses the head of a streamed `APPEND` (the text of a
/// [`Frame::StreamHead`](crate::frame::Frame::StreamHead), ending with the literal's
/// announcement). The message data follows as chunks, then a tail of CRLF (or `)` CRLF
/// for `UTF8`), which [`append_tail`] checks.
pub fn append_head(input: &Bytes) -> Result<AppendHead, ParseError> {
    let mut p = P::new(input);
    let tag = match tag(&mut p) {
        Ok(t) => t,
        Err(e) => return p.finish(Err(e), None),
    };
    let r = (|| {
        if !p.word(b"APPEND") {
            return p.fail("APPEND");
        }
        let (mailbox, flags, date, utf8) = append_prefix(&mut p)?;
        let (length, mode, binary) = p.announcement()?;
        Ok(AppendHead {
            tag: tag.clone(),
            mailbox,
            flags,
            date,
            length,
            mode,
            binary,
            utf8,
        })
    })();
    p.finish(r, Some(tag.clone()))
}

/// Checks the tail of a streamed `APPEND`: CRLF, or `)` CRLF after `UTF8 (`.
pub fn append_tail(head: &AppendHead, input: &[u8]) -> Result<(), ParseError> {
    let expected: &[u8] = if head.utf8 { b")\r\n" } else { b"\r\n" };
    if input == expected {
        Ok(())
    } else if expected.starts_with(input) {
        Err(ParseError::Incomplete)
    } else {
        Err(ParseError::Syntax {
            tag: Some(head.tag.clone()),
            at: 0,
            expected: "the end of APPEND",
        })
    }
}

/// `[CHARSET astring SP] search-key *(SP search-key)` (charset only when `charset`).
fn search_keys(p: &mut P<'_>) -> R<Vec<SearchKey>> {
    let mut keys = vec![search_key(p)?];
    while p.peek() == Some(b' ') && p.peek_at(1).is_some_and(|b| b != b'\r' && b != b' ') {
        p.pos += 1;
        keys.push(search_key(p)?);
    }
    Ok(keys)
}

fn search(p: &mut P<'_>, uid: bool) -> R<CommandBody> {
    p.sp()?;
    let return_options = if p.word(b"RETURN") {
        p.sp()?;
        let opts = p.list(|p| {
            let start = p.pos;
            let kw = p.kw();
            Ok(match kw.as_slice() {
                b"MIN" => SearchReturnOption::Min,
                b"MAX" => SearchReturnOption::Max,
                b"ALL" => SearchReturnOption::All,
                b"COUNT" => SearchReturnOption::Count,
                b"SAVE" => SearchReturnOption::Save,
                _ => {
                    p.pos = start;
                    SearchReturnOption::Other(p.atom()?)
                }
            })
        })?;
        p.sp()?;
        Some(opts)
    } else {
        None
    };
    let charset = if p.word(b"CHARSET") {
        p.sp()?;
        let c = p.astring()?;
        p.sp()?;
        Some(c)
    } else {
        None
    };
    Ok(CommandBody::Search {
        uid,
        return_options,
        charset,
        criteria: search_keys(p)?,
    })
}

fn search_key(p: &mut P<'_>) -> R<SearchKey> {
    use SearchKey as K;
    match p.peek() {
        Some(b'(') => {
            p.enter()?;
            let v = p.list1(search_key).map(K::And);
            p.leave();
            return v;
        }
        Some(b'0'..=b'9' | b'*') => return p.sequence_set().map(K::SequenceSet),
        _ => {}
    }
    let start = p.pos;
    let kw = p.kw();
    macro_rules! arg {
        ($f:ident) => {{
            p.sp()?;
            p.$f()?
        }};
    }
    Ok(match kw.as_slice() {
        b"ALL" => K::All,
        b"ANSWERED" => K::Answered,
        b"BCC" => K::Bcc(arg!(astring)),
        b"BEFORE" => K::Before(arg!(date)),
        b"BODY" => K::Body(arg!(astring)),
        b"CC" => K::Cc(arg!(astring)),
        b"DELETED" => K::Deleted,
        b"DRAFT" => K::Draft,
        b"FLAGGED" => K::Flagged,
        b"FROM" => K::From(arg!(astring)),
        b"HEADER" => {
            let name = arg!(astring);
            K::Header(name, arg!(astring))
        }
        b"KEYWORD" => K::Keyword(arg!(atom)),
        b"LARGER" => K::Larger(arg!(number)),
        b"NEW" => K::New,
        b"NOT" => {
            p.sp()?;
            p.enter()?;
            let k = search_key(p)?;
            p.leave();
            K::Not(Box::new(k))
        }
        b"OLD" => K::Old,
        b"ON" => K::On(arg!(date)),
        b"OR" => {
            p.sp()?;
            p.enter()?;
            let a = search_key(p)?;
            p.sp()?;
            let b = search_key(p)?;
            p.leave();
            K::Or(Box::new(a), Box::new(b))
        }
        b"RECENT" => K::Recent,
        b"SEEN" => K::Seen,
        b"SENTBEFORE" => K::SentBefore(arg!(date)),
        b"SENTON" => K::SentOn(arg!(date)),
        b"SENTSINCE" => K::SentSince(arg!(date)),
        b"SINCE" => K::Since(arg!(date)),
        b"SMALLER" => K::Smaller(arg!(number)),
        b"SUBJECT" => K::Subject(arg!(astring)),
        b"TEXT" => K::Text(arg!(astring)),
        b"TO" => K::To(arg!(astring)),
        b"UID" => K::Uid(arg!(sequence_set)),
        b"UNANSWERED" => K::Unanswered,
        b"UNDELETED" => K::Undeleted,
        b"UNDRAFT" => K::Undraft,
        b"UNFLAGGED" => K::Unflagged,
        b"UNKEYWORD" => K::Unkeyword(arg!(atom)),
        b"UNSEEN" => K::Unseen,
        b"MODSEQ" => {
            p.sp()?;
            let entry = if p.peek() == Some(b'"') {
                let name = p.string()?;
                p.sp()?;
                let kind = p.kw();
                let kind = match kind.as_slice() {
                    b"PRIV" => EntryType::Private,
                    b"SHARED" => EntryType::Shared,
                    b"ALL" => EntryType::All,
                    _ => return p.fail("priv, shared or all"),
                };
                p.sp()?;
                Some((name, kind))
            } else {
                None
            };
            K::ModSeq {
                entry,
                mod_seq: p.number64()?,
            }
        }
        b"X-GM-RAW" => K::GmailRaw(arg!(astring)),
        b"X-GM-MSGID" => K::GmailMsgId(arg!(number64)),
        b"X-GM-THRID" => K::GmailThreadId(arg!(number64)),
        b"X-GM-LABELS" => K::GmailLabels(arg!(astring)),
        _ => {
            p.pos = start;
            return p.fail("a search key");
        }
    })
}

fn partial(p: &mut P<'_>) -> R<Option<(u32, std::num::NonZeroU32)>> {
    if !p.eat(b'<') {
        return Ok(None);
    }
    let offset = p.number()?;
    p.byte(b'.', "'.'")?;
    let len = p.nz_number()?;
    p.byte(b'>', "'>'")?;
    Ok(Some((offset, len)))
}

fn fetch_attribute(p: &mut P<'_>) -> R<FetchAttribute> {
    use FetchAttribute as A;
    let start = p.pos;
    let kw = p.kw();
    Ok(match kw.as_slice() {
        b"ENVELOPE" => A::Envelope,
        b"FLAGS" => A::Flags,
        b"INTERNALDATE" => A::InternalDate,
        b"RFC822" => A::Rfc822,
        b"RFC822.HEADER" => A::Rfc822Header,
        b"RFC822.SIZE" => A::Rfc822Size,
        b"RFC822.TEXT" => A::Rfc822Text,
        b"BODYSTRUCTURE" => A::BodyStructure,
        b"UID" => A::Uid,
        b"MODSEQ" => A::ModSeq,
        b"X-GM-MSGID" => A::GmailMsgId,
        b"X-GM-THRID" => A::GmailThreadId,
        b"X-GM-LABELS" => A::GmailLabels,
        b"BODY" if p.peek() != Some(b'[') => A::Body,
        b"BODY" | b"BODY.PEEK" => {
            let section = p.section()?;
            A::BodySection {
                section,
                partial: partial(p)?,
                peek: kw.as_slice() == b"BODY.PEEK",
            }
        }
        b"BINARY" | b"BINARY.PEEK" => {
            let part = p.section_binary()?;
            A::Binary {
                part,
                partial: partial(p)?,
                peek: kw.as_slice() == b"BINARY.PEEK",
            }
        }
        b"BINARY.SIZE" => A::BinarySize {
            part: p.section_binary()?,
        },
        _ => {
            p.pos = start;
            return p.fail("a fetch attribute");
        }
    })
}

fn fetch(p: &mut P<'_>, uid: bool) -> R<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    p.sp()?;
    let items = if p.peek() == Some(b'(') {
        FetchItems::List(p.list1(fetch_attribute)?)
    } else if p.word(b"ALL") {
        FetchItems::All
    } else if p.word(b"FAST") {
        FetchItems::Fast
    } else if p.word(b"FULL") {
        FetchItems::Full
    } else {
        FetchItems::Single(fetch_attribute(p)?)
    };
    let modifiers = if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
        p.pos += 1;
        p.list1(|p| {
            let kw = p.kw();
            match kw.as_slice() {
                b"CHANGEDSINCE" => {
                    p.sp()?;
                    Ok(FetchModifier::ChangedSince(p.number64()?))
                }
                b"VANISHED" => Ok(FetchModifier::Vanished),
                _ => p.fail("CHANGEDSINCE or VANISHED"),
            }
        })?
    } else {
        Vec::new()
    };
    Ok(CommandBody::Fetch {
        uid,
        set,
        items,
        modifiers,
    })
}

fn store(p: &mut P<'_>, uid: bool) -> R<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    p.sp()?;
    let unchanged_since = if p.peek() == Some(b'(') {
        p.pos += 1;
        if !p.word(b"UNCHANGEDSINCE") {
            return p.fail("UNCHANGEDSINCE");
        }
        p.sp()?;
        let n = p.number64()?;
        p.close()?;
        p.sp()?;
        Some(n)
    } else {
        None
    };
    let mode = if p.eat(b'+') {
        StoreMode::Add
    } else if p.eat(b'-') {
        StoreMode::Remove
    } else {
        StoreMode::Replace
    };
    let kw = p.kw();
    let silent = match kw.as_slice() {
        b"FLAGS" => false,
        b"FLAGS.SILENT" => true,
        _ => return p.fail("FLAGS"),
    };
    p.sp()?;
    let (flags, parenthesized) = if p.peek() == Some(b'(') {
        (p.list(P::flag)?, true)
    } else {
        let mut flags = vec![p.flag()?];
        while p.peek() == Some(b' ') && p.peek_at(1).is_some_and(|b| b != b'\r') {
            p.pos += 1;
            flags.push(p.flag()?);
        }
        (flags, false)
    };
    Ok(CommandBody::Store {
        uid,
        set,
        unchanged_since,
        mode,
        silent,
        flags,
        parenthesized,
    })
}

fn copy_move(p: &mut P<'_>, is_move: bool, uid: bool) -> R<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    p.sp()?;
    let mailbox = p.mailbox()?;
    Ok(if is_move {
        CommandBody::Move { uid, set, mailbox }
    } else {
        CommandBody::Copy { uid, set, mailbox }
    })
}

fn sort(p: &mut P<'_>, uid: bool) -> R<CommandBody> {
    p.sp()?;
    let criteria = p.list1(|p| {
        let reverse = p.word(b"REVERSE");
        if reverse {
            p.sp()?;
        }
        let kw = p.kw();
        let key = match kw.as_slice() {
            b"ARRIVAL" => SortKey::Arrival,
            b"CC" => SortKey::Cc,
            b"DATE" => SortKey::Date,
            b"FROM" => SortKey::From,
            b"SIZE" => SortKey::Size,
            b"SUBJECT" => SortKey::Subject,
            b"TO" => SortKey::To,
            b"DISPLAYFROM" => SortKey::DisplayFrom,
            b"DISPLAYTO" => SortKey::DisplayTo,
            _ => return p.fail("a sort key"),
        };
        Ok(SortCriterion { reverse, key })
    })?;
    p.sp()?;
    let charset = p.astring()?;
    p.sp()?;
    Ok(CommandBody::Sort {
        uid,
        criteria,
        charset,
        search: search_keys(p)?,
    })
}

fn thread(p: &mut P<'_>, uid: bool) -> R<CommandBody> {
    p.sp()?;
    let algorithm = p.atom()?;
    p.sp()?;
    let charset = p.astring()?;
    p.sp()?;
    Ok(CommandBody::Thread {
        uid,
        algorithm,
        charset,
        search: search_keys(p)?,
    })
}
