//! Responses (a client reads them).

use bytes::Bytes;

use super::command::id_params;
use super::{P, ParseError, R};
use crate::types::*;

/// Parses one complete response, CRLF included (as [`Frame::Message`](crate::frame::Frame)
/// holds it). See the [module documentation](super) for the tolerated deviations.
pub fn response(input: &Bytes) -> Result<Response, ParseError> {
    let mut p = P::new(input);
    let r = response_inner(&mut p);
    let tag = match &r {
        Err(_) => {
            let t = input.iter().position(|&b| !is_tag_char(b)).unwrap_or(0);
            (t > 0 && input.get(t) == Some(&b' ')).then(|| Tag::unchecked(input.slice(..t)))
        }
        Ok(_) => None,
    };
    p.finish(r, tag)
}

fn response_inner(p: &mut P<'_>) -> R<Response> {
    match p.peek() {
        Some(b'+') => {
            p.pos += 1;
            if p.peek() == Some(b' ') {
                p.pos += 1;
            }
            let (code, text) = resp_text(p)?;
            p.end()?;
            Ok(Response::Continue(Continue { code, text }))
        }
        Some(b'*') => {
            p.pos += 1;
            p.sp()?;
            let r = untagged(p)?;
            p.end()?;
            Ok(r)
        }
        _ => {
            let t = p.take_while(is_tag_char);
            if t.is_empty() {
                return p.fail("a tag, '*' or '+'");
            }
            let tag = Tag::unchecked(p.bytes(t));
            p.sp()?;
            let kw = p.kw();
            let kind = match kw.as_slice() {
                b"OK" => StatusKind::Ok,
                b"NO" => StatusKind::No,
                b"BAD" => StatusKind::Bad,
                _ => return p.fail("OK, NO or BAD"),
            };
            let (code, text) = status_rest(p)?;
            p.end()?;
            Ok(Response::Status(StatusResponse {
                tag: Some(tag),
                kind,
                code,
                text,
            }))
        }
    }
}

/// After the status keyword: `[SP resp-text]`.
fn status_rest(p: &mut P<'_>) -> R<(Option<Code>, Text)> {
    if p.peek() == Some(b' ') {
        p.pos += 1;
        resp_text(p)
    } else if p.peek() == Some(b'\r') {
        Ok((None, Text::unchecked(Bytes::new())))
    } else {
        p.fail("a space")
    }
}

/// `["[" code "]" [SP]] text`, up to the final CRLF.
fn resp_text(p: &mut P<'_>) -> R<(Option<Code>, Text)> {
    let code = if p.peek() == Some(b'[') {
        p.pos += 1;
        let c = code(p)?;
        p.byte(b']', "']'")?;
        p.eat(b' ');
        Some(c)
    } else {
        None
    };
    let t = p.take_while(is_text_char);
    Ok((code, Text::unchecked(p.bytes(t))))
}

fn code(p: &mut P<'_>) -> R<Code> {
    let start = p.pos;
    if let Ok(c) = known_code(p) {
        while p.peek() == Some(b' ') {
            p.pos += 1;
        }
        if p.peek() == Some(b']') {
            return Ok(c);
        }
    }
    // Unknown, or a known code with data it should not have: kept as it is.
    p.pos = start;
    let name = p.atom()?;
    let data = if p.eat(b' ') {
        let d = p.take_while(|b| is_text_char(b) && b != b']');
        if d.is_empty() {
            None
        } else {
            Some(CodeData::unchecked(p.bytes(d)))
        }
    } else {
        None
    };
    if data.is_none() {
        // `[BADCHARSET ]`: the name alone is a known code; keep it as that.
        let alone = Bytes::from([name.as_bytes(), b"]"].concat());
        let mut q = P::new(&alone);
        if let Ok(c) = known_code(&mut q)
            && q.peek() == Some(b']')
        {
            return Ok(c);
        }
    }
    Ok(Code::Other(name, data))
}

fn known_code(p: &mut P<'_>) -> R<Code> {
    let kw = p.kw();
    let k = kw.as_slice();
    if let Some((c, _)) = SIMPLE_CODES.iter().find(|(_, n)| n.as_bytes() == k) {
        return Ok(c.clone());
    }
    Ok(match k {
        b"BADCHARSET" => {
            if p.eat(b' ') {
                Code::BadCharset(p.list1(P::astring)?)
            } else {
                Code::BadCharset(Vec::new())
            }
        }
        b"CAPABILITY" => Code::Capability(capabilities(p)?),
        b"PERMANENTFLAGS" => {
            p.sp()?;
            Code::PermanentFlags(p.list(P::flag_perm)?)
        }
        b"UIDNEXT" => {
            p.sp()?;
            Code::UidNext(p.nz_number()?)
        }
        b"UIDVALIDITY" => {
            p.sp()?;
            Code::UidValidity(p.nz_number()?)
        }
        b"UNSEEN" => {
            p.sp()?;
            Code::Unseen(p.nz_number()?)
        }
        b"APPENDUID" => {
            p.sp()?;
            let uid_validity = p.nz_number()?;
            p.sp()?;
            Code::AppendUid {
                uid_validity,
                uids: p.sequence_set()?,
            }
        }
        b"COPYUID" => {
            p.sp()?;
            let uid_validity = p.nz_number()?;
            p.sp()?;
            let source = p.sequence_set()?;
            p.sp()?;
            Code::CopyUid {
                uid_validity,
                source,
                destination: p.sequence_set()?,
            }
        }
        b"HIGHESTMODSEQ" => {
            p.sp()?;
            Code::HighestModSeq(p.number64()?)
        }
        b"MODIFIED" => {
            p.sp()?;
            Code::Modified(p.sequence_set()?)
        }
        _ => return p.fail("a response code"),
    })
}

fn capabilities(p: &mut P<'_>) -> R<Vec<Capability>> {
    let mut caps = Vec::new();
    while p.peek() == Some(b' ') && p.peek_at(1).is_some_and(is_atom_char) {
        p.pos += 1;
        caps.push(Capability::from_atom(p.atom()?));
    }
    Ok(caps)
}

fn numbers(p: &mut P<'_>) -> R<(Vec<std::num::NonZeroU32>, Option<u64>)> {
    let mut numbers = Vec::new();
    let mut mod_seq = None;
    while p.peek() == Some(b' ') {
        p.pos += 1;
        match p.peek() {
            Some(b'0'..=b'9') => numbers.push(p.nz_number()?),
            Some(b'(') => {
                p.pos += 1;
                if !p.word(b"MODSEQ") {
                    return p.fail("MODSEQ");
                }
                p.sp()?;
                mod_seq = Some(p.number64()?);
                p.close()?;
                break;
            }
            _ => break, // trailing space before CRLF
        }
    }
    Ok((numbers, mod_seq))
}

fn untagged(p: &mut P<'_>) -> R<Response> {
    if p.peek().is_some_and(|b| b.is_ascii_digit()) {
        let n = p.number()?;
        p.sp()?;
        let at = p.pos;
        let kw = p.kw();
        let nz = |p: &mut P<'_>| {
            std::num::NonZeroU32::new(n).map_or_else(
                || {
                    p.pos = at;
                    p.fail("a non-zero number")
                },
                Ok,
            )
        };
        return Ok(Response::Data(match kw.as_slice() {
            b"EXISTS" => Data::Exists(n),
            b"RECENT" => Data::Recent(n),
            b"EXPUNGE" => Data::Expunge(nz(p)?),
            b"FETCH" => {
                let seq = nz(p)?;
                p.sp()?;
                Data::Fetch {
                    seq,
                    items: p.list1(fetch_item)?,
                }
            }
            _ => {
                p.pos = at;
                return p.fail("EXISTS, RECENT, EXPUNGE or FETCH");
            }
        }));
    }
    let at = p.pos;
    let kw = p.kw();
    fn status(p: &mut P<'_>, kind: StatusKind) -> R<Response> {
        let (code, text) = status_rest(p)?;
        Ok(Response::Status(StatusResponse {
            tag: None,
            kind,
            code,
            text,
        }))
    }
    let data = match kw.as_slice() {
        b"OK" => return status(p, StatusKind::Ok),
        b"NO" => return status(p, StatusKind::No),
        b"BAD" => return status(p, StatusKind::Bad),
        b"PREAUTH" => return status(p, StatusKind::PreAuth),
        b"BYE" => return status(p, StatusKind::Bye),
        b"CAPABILITY" => Data::Capability(capabilities(p)?),
        b"LIST" => {
            p.sp()?;
            Data::List(list_item(p)?)
        }
        b"LSUB" => {
            p.sp()?;
            Data::Lsub(list_item(p)?)
        }
        b"STATUS" => {
            p.sp()?;
            let mailbox = p.mailbox()?;
            p.sp()?;
            let items = p.list(|p| {
                let a = p.status_attribute()?;
                p.sp()?;
                Ok((a, p.number64()?))
            })?;
            Data::Status { mailbox, items }
        }
        b"SEARCH" => {
            let (numbers, mod_seq) = numbers(p)?;
            Data::Search { numbers, mod_seq }
        }
        b"SORT" => {
            let (numbers, mod_seq) = numbers(p)?;
            Data::Sort { numbers, mod_seq }
        }
        b"ESEARCH" => esearch(p)?,
        b"FLAGS" => {
            p.sp()?;
            Data::Flags(p.list(P::flag)?)
        }
        b"ENABLED" => {
            let mut caps = Vec::new();
            while p.peek() == Some(b' ') && p.peek_at(1).is_some_and(is_atom_char) {
                p.pos += 1;
                caps.push(p.atom()?);
            }
            Data::Enabled(caps)
        }
        b"ID" => {
            p.sp()?;
            Data::Id(id_params(p)?)
        }
        b"NAMESPACE" => {
            p.sp()?;
            let personal = namespace(p)?;
            p.sp()?;
            let other = namespace(p)?;
            p.sp()?;
            let shared = namespace(p)?;
            Data::Namespace {
                personal,
                other,
                shared,
            }
        }
        b"QUOTA" => {
            p.sp()?;
            let root = p.astring()?;
            p.sp()?;
            let resources = p.list(|p| {
                let name = p.atom()?;
                p.sp()?;
                let usage = p.number64()?;
                p.sp()?;
                Ok(QuotaResource {
                    name,
                    usage,
                    limit: p.number64()?,
                })
            })?;
            Data::Quota { root, resources }
        }
        b"QUOTAROOT" => {
            p.sp()?;
            let mailbox = p.mailbox()?;
            let mut roots = Vec::new();
            while p.peek() == Some(b' ') && p.peek_at(1).is_some_and(|b| b != b'\r') {
                p.pos += 1;
                roots.push(p.astring()?);
            }
            Data::QuotaRoot { mailbox, roots }
        }
        b"THREAD" => {
            let mut threads = Vec::new();
            if p.eat(b' ') {
                while p.peek() == Some(b'(') {
                    threads.push(thread(p)?);
                }
            }
            Data::Thread(threads)
        }
        b"VANISHED" => {
            p.sp()?;
            let earlier = if p.peek() == Some(b'(') {
                p.pos += 1;
                if !p.word(b"EARLIER") {
                    return p.fail("EARLIER");
                }
                p.byte(b')', "')'")?;
                p.sp()?;
                true
            } else {
                false
            };
            Data::Vanished {
                earlier,
                uids: p.sequence_set()?,
            }
        }
        _ => {
            p.pos = at;
            return p.fail("a response");
        }
    };
    Ok(Response::Data(data))
}

fn thread(p: &mut P<'_>) -> R<Thread> {
    p.enter()?;
    p.byte(b'(', "'('")?;
    let mut members = Vec::new();
    if p.peek().is_some_and(|b| b.is_ascii_digit()) {
        members.push(p.nz_number()?);
        while p.peek() == Some(b' ') && p.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
            p.pos += 1;
            members.push(p.nz_number()?);
        }
        if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
            p.pos += 1;
        }
    }
    let mut children = Vec::new();
    while p.peek() == Some(b'(') {
        children.push(thread(p)?);
    }
    if members.is_empty() && children.is_empty() {
        return p.fail("a thread");
    }
    p.byte(b')', "')'")?;
    p.leave();
    Ok(Thread { members, children })
}

fn esearch(p: &mut P<'_>) -> R<Data> {
    let mut correlator = None;
    let mut uid = false;
    if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
        p.pos += 2;
        if !p.word(b"TAG") {
            return p.fail("TAG");
        }
        p.sp()?;
        correlator = Some(p.string()?);
        p.close()?;
    }
    let mut items = Vec::new();
    while p.peek() == Some(b' ') && p.peek_at(1).is_some_and(is_atom_char) {
        p.pos += 1;
        let at = p.pos;
        let kw = p.kw();
        // A keyword that is only the start of a longer atom is an unknown item.
        let whole = !p.peek().is_some_and(is_atom_char);
        if whole && kw.as_slice() == b"UID" && items.is_empty() && !uid {
            uid = true;
            continue;
        }
        let known = if whole { kw.as_slice() } else { b"" };
        if whole {
            p.sp()?;
        }
        items.push(match known {
            b"MIN" => ESearchItem::Min(p.nz_number()?),
            b"MAX" => ESearchItem::Max(p.nz_number()?),
            b"ALL" => ESearchItem::All(p.sequence_set()?),
            b"COUNT" => ESearchItem::Count(p.number()?),
            b"MODSEQ" => ESearchItem::ModSeq(p.number64()?),
            _ => {
                p.pos = at;
                let name = p.atom()?;
                p.sp()?;
                ESearchItem::Other(name, p.ext_value()?)
            }
        });
    }
    Ok(Data::ESearch {
        correlator,
        uid,
        items,
    })
}

fn delimiter(p: &mut P<'_>) -> R<Option<Delimiter>> {
    if p.nil() {
        return Ok(None);
    }
    let at = p.pos;
    let q = p.quoted()?;
    match q.as_bytes() {
        [b] if *b < 0x80 => Ok(Some(Delimiter::unchecked(*b))),
        _ => {
            p.pos = at;
            p.fail("a one-character delimiter")
        }
    }
}

fn namespace(p: &mut P<'_>) -> R<Option<Vec<NamespaceDescription>>> {
    if p.nil() {
        return Ok(None);
    }
    let mut out = Vec::new();
    p.byte(b'(', "'('")?;
    loop {
        p.byte(b'(', "'('")?;
        let prefix = p.string()?;
        p.sp()?;
        let delimiter = delimiter(p)?;
        let mut extensions = Vec::new();
        while p.peek() == Some(b' ') && p.peek_at(1).is_some_and(|b| b == b'"' || b == b'{') {
            p.pos += 1;
            let name = p.string()?;
            p.sp()?;
            extensions.push((name, p.list1(P::string)?));
        }
        p.close()?;
        out.push(NamespaceDescription {
            prefix,
            delimiter,
            extensions,
        });
        p.eat(b' ');
        if p.peek() != Some(b'(') {
            break;
        }
    }
    p.byte(b')', "')'")?;
    Ok(Some(out))
}

fn list_item(p: &mut P<'_>) -> R<ListItem> {
    let attributes = p.list(P::name_attribute)?;
    p.sp()?;
    let delimiter = delimiter(p)?;
    p.sp()?;
    let mailbox = p.mailbox()?;
    let extended = if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
        p.pos += 1;
        Some(p.list(|p| {
            let tag = p.astring()?;
            p.sp()?;
            Ok((tag, p.ext_value()?))
        })?)
    } else {
        None
    };
    Ok(ListItem {
        attributes,
        delimiter,
        mailbox,
        extended,
    })
}

fn fetch_item(p: &mut P<'_>) -> R<FetchItem> {
    let at = p.pos;
    let kw = p.kw();
    macro_rules! arg {
        ($e:expr) => {{
            p.sp()?;
            $e
        }};
    }
    Ok(match kw.as_slice() {
        b"FLAGS" => FetchItem::Flags(arg!(p.list(P::flag_fetch)?)),
        b"ENVELOPE" => FetchItem::Envelope(Box::new(arg!(envelope(p)?))),
        b"INTERNALDATE" => FetchItem::InternalDate(arg!(p.date_time()?)),
        b"RFC822" => FetchItem::Rfc822(arg!(p.nstring()?)),
        b"RFC822.HEADER" => FetchItem::Rfc822Header(arg!(p.nstring()?)),
        b"RFC822.TEXT" => FetchItem::Rfc822Text(arg!(p.nstring()?)),
        b"RFC822.SIZE" => FetchItem::Rfc822Size(arg!(p.number()?)),
        b"BODYSTRUCTURE" => FetchItem::BodyStructure(Box::new(arg!(body(p, true)?))),
        b"BODY" if p.peek() == Some(b' ') => FetchItem::Body(Box::new(arg!(body(p, false)?))),
        b"BODY" => {
            let section = p.section()?;
            let origin = if p.eat(b'<') {
                let n = p.number()?;
                p.byte(b'>', "'>'")?;
                Some(n)
            } else {
                None
            };
            FetchItem::BodySection {
                section,
                origin,
                data: arg!(p.nstring()?),
            }
        }
        b"UID" => FetchItem::Uid(arg!(p.nz_number()?)),
        b"BINARY" => {
            let part = p.section_binary()?;
            FetchItem::Binary {
                part,
                data: arg!(p.nstring8()?),
            }
        }
        b"BINARY.SIZE" => {
            let part = p.section_binary()?;
            FetchItem::BinarySize {
                part,
                size: arg!(p.number()?),
            }
        }
        b"MODSEQ" => {
            p.sp()?;
            p.byte(b'(', "'('")?;
            let n = p.number64()?;
            p.close()?;
            FetchItem::ModSeq(n)
        }
        b"X-GM-MSGID" => FetchItem::GmailMsgId(arg!(p.number64()?)),
        b"X-GM-THRID" => FetchItem::GmailThreadId(arg!(p.number64()?)),
        b"X-GM-LABELS" => FetchItem::GmailLabels(arg!(p.list(|p| {
            if p.eat(b'\\') {
                p.atom().map(GmailLabel::System)
            } else {
                p.astring().map(GmailLabel::Label)
            }
        })?)),
        _ => {
            p.pos = at;
            return p.fail("a fetch item");
        }
    })
}

fn address_list(p: &mut P<'_>) -> R<Vec<Address>> {
    if p.nil() {
        return Ok(Vec::new());
    }
    p.byte(b'(', "'('")?;
    let mut out = Vec::new();
    loop {
        p.byte(b'(', "'('")?;
        let name = p.nstring()?;
        p.sp()?;
        let adl = p.nstring()?;
        p.sp()?;
        let mailbox = p.nstring()?;
        p.sp()?;
        let host = p.nstring()?;
        p.close()?;
        out.push(Address {
            name,
            adl,
            mailbox,
            host,
        });
        // Some servers separate addresses with a space.
        if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
            p.pos += 1;
        }
        if p.peek() != Some(b'(') {
            break;
        }
    }
    p.close()?;
    Ok(out)
}

pub(crate) fn envelope(p: &mut P<'_>) -> R<Envelope> {
    p.byte(b'(', "'('")?;
    let date = p.nstring()?;
    p.sp()?;
    let subject = p.nstring()?;
    p.sp()?;
    let from = address_list(p)?;
    p.sp()?;
    let sender = address_list(p)?;
    p.sp()?;
    let reply_to = address_list(p)?;
    p.sp()?;
    let to = address_list(p)?;
    p.sp()?;
    let cc = address_list(p)?;
    p.sp()?;
    let bcc = address_list(p)?;
    p.sp()?;
    let in_reply_to = p.nstring()?;
    p.sp()?;
    let message_id = p.nstring()?;
    p.close()?;
    Ok(Envelope {
        date,
        subject,
        from,
        sender,
        reply_to,
        to,
        cc,
        bcc,
        in_reply_to,
        message_id,
    })
}

/// `body-fld-param`: a list of pairs, NIL, or (a tolerance) `()`.
fn params(p: &mut P<'_>) -> R<Vec<(IString, IString)>> {
    if p.nil() {
        return Ok(Vec::new());
    }
    p.list(|p| {
        let k = p.string()?;
        p.sp()?;
        Ok((k, p.string_or_nil()?))
    })
}

/// A space followed by something other than `)` (where optional data may follow).
fn more(p: &P<'_>) -> bool {
    p.peek() == Some(b' ') && p.peek_at(1).is_some_and(|b| b != b')' && b != b' ')
}

fn body_extension(p: &mut P<'_>) -> R<BodyExtension> {
    match p.peek() {
        Some(b'(') => {
            p.enter()?;
            let v = p.list1(body_extension).map(BodyExtension::List);
            p.leave();
            v
        }
        Some(b'0'..=b'9') => p.number().map(BodyExtension::Number),
        _ => p.nstring().map(BodyExtension::NString),
    }
}

fn extension_tail(p: &mut P<'_>) -> R<ExtensionTail> {
    let mut tail = ExtensionTail::default();
    if !more(p) {
        return Ok(tail);
    }
    p.pos += 1;
    tail.disposition = Some(if p.nil() {
        None
    } else {
        p.byte(b'(', "'('")?;
        let kind = p.string()?;
        p.sp()?;
        let parameters = params(p)?;
        p.close()?;
        Some(Disposition { kind, parameters })
    });
    if !more(p) {
        return Ok(tail);
    }
    p.pos += 1;
    tail.language = Some(if p.peek() == Some(b'(') {
        Language::List(p.list1(P::string)?)
    } else {
        Language::Single(p.nstring()?)
    });
    if !more(p) {
        return Ok(tail);
    }
    p.pos += 1;
    tail.location = Some(p.nstring()?);
    while more(p) {
        p.pos += 1;
        tail.extensions.push(body_extension(p)?);
    }
    Ok(tail)
}

pub(crate) fn body(p: &mut P<'_>, extensible: bool) -> R<BodyStructure> {
    p.enter()?;
    p.byte(b'(', "'('")?;
    let b = if p.peek() == Some(b'(') {
        let mut bodies = Vec::new();
        while p.peek() == Some(b'(') {
            bodies.push(body(p, extensible)?);
            if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
                p.pos += 1;
            }
        }
        p.sp()?;
        let subtype = p.string_or_nil()?;
        let extension = if extensible && more(p) {
            p.pos += 1;
            let parameters = params(p)?;
            Some(MultiPartExtension {
                parameters,
                tail: extension_tail(p)?,
            })
        } else {
            None
        };
        BodyStructure::Multi {
            bodies,
            subtype,
            extension,
        }
    } else {
        let media_type = p.string_or_nil()?;
        p.sp()?;
        let subtype = p.string_or_nil()?;
        p.sp()?;
        let parameters = params(p)?;
        p.sp()?;
        let id = p.nstring()?;
        p.sp()?;
        let description = p.nstring()?;
        p.sp()?;
        let encoding = p.string_or_nil()?;
        p.sp()?;
        let size = p.number()?;
        let t = media_type.as_bytes();
        let s = subtype.as_bytes();
        let specific = if t.eq_ignore_ascii_case(b"MESSAGE")
            && (s.eq_ignore_ascii_case(b"RFC822") || s.eq_ignore_ascii_case(b"GLOBAL"))
            && p.peek() == Some(b' ')
            && p.peek_at(1) == Some(b'(')
        {
            p.pos += 1;
            let envelope = Box::new(envelope(p)?);
            p.sp()?;
            let inner = Box::new(body(p, extensible)?);
            p.sp()?;
            BodySpecific::Message {
                envelope,
                body: inner,
                lines: p.number()?,
            }
        } else if t.eq_ignore_ascii_case(b"TEXT")
            && p.peek() == Some(b' ')
            && p.peek_at(1).is_some_and(|b| b.is_ascii_digit())
        {
            p.pos += 1;
            BodySpecific::Text { lines: p.number()? }
        } else {
            BodySpecific::Basic
        };
        let body = Body {
            media_type,
            subtype,
            parameters,
            id,
            description,
            encoding,
            size,
            specific,
        };
        let extension = if extensible && more(p) {
            p.pos += 1;
            let md5 = p.nstring()?;
            Some(SinglePartExtension {
                md5,
                tail: extension_tail(p)?,
            })
        } else {
            None
        };
        BodyStructure::Single { body, extension }
    };
    p.close()?;
    p.leave();
    Ok(b)
}

/// The fetch item whose data is streamed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamedItem {
    /// `BODY[section]<origin>`.
    BodySection {
        /// The section.
        section: Section,
        /// The offset of a partial fetch.
        origin: Option<u32>,
    },
    /// `BINARY[part]`.
    Binary {
        /// The part numbers.
        part: Vec<std::num::NonZeroU32>,
    },
    /// `RFC822`.
    Rfc822,
    /// `RFC822.HEADER`.
    Rfc822Header,
    /// `RFC822.TEXT`.
    Rfc822Text,
}

/// The text of a `FETCH` response up to a streamed literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchHead {
    /// The message sequence number (`None` for a head that continues after an earlier
    /// streamed literal).
    pub seq: Option<std::num::NonZeroU32>,
    /// The items before the streamed one.
    pub items: Vec<FetchItem>,
    /// The item whose data follows in pieces.
    pub streamed: StreamedItem,
    /// The data's length.
    pub length: u32,
}

/// The rest of a `FETCH` response after its last streamed literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchTail {
    /// The items after the streamed one.
    pub items: Vec<FetchItem>,
}

/// Parses the head of a `FETCH` response whose literal is handed out in pieces
/// ([`Frame::StreamHead`](crate::frame::Frame::StreamHead)): `* n FETCH (… BODY[] {n}`
/// CRLF, or, after an earlier streamed literal of the same response, ` … BODY[1] {n}` CRLF.
pub fn fetch_head(input: &Bytes) -> Result<FetchHead, ParseError> {
    let mut p = P::new(input);
    let r = (|| {
        let seq = if p.peek() == Some(b'*') {
            p.pos += 1;
            p.sp()?;
            let seq = p.nz_number()?;
            p.sp()?;
            if !p.word(b"FETCH") {
                return p.fail("FETCH");
            }
            p.sp()?;
            p.byte(b'(', "'('")?;
            Some(seq)
        } else {
            p.sp()?;
            None
        };
        let mut items = Vec::new();
        loop {
            let at = p.pos;
            let kw = p.kw();
            let streamed = match kw.as_slice() {
                b"BODY" if p.peek() == Some(b'[') => {
                    let section = p.section()?;
                    let origin = if p.eat(b'<') {
                        let n = p.number()?;
                        p.byte(b'>', "'>'")?;
                        Some(n)
                    } else {
                        None
                    };
                    Some(StreamedItem::BodySection { section, origin })
                }
                b"BINARY" => Some(StreamedItem::Binary {
                    part: p.section_binary()?,
                }),
                b"RFC822" => Some(StreamedItem::Rfc822),
                b"RFC822.HEADER" => Some(StreamedItem::Rfc822Header),
                b"RFC822.TEXT" => Some(StreamedItem::Rfc822Text),
                _ => None,
            };
            if let Some(streamed) = streamed
                && p.peek() == Some(b' ')
                && matches!(p.peek_at(1), Some(b'{' | b'~'))
            {
                p.pos += 1;
                let (length, _, _) = p.announcement()?;
                return Ok(FetchHead {
                    seq,
                    items,
                    streamed,
                    length,
                });
            }
            p.pos = at;
            items.push(fetch_item(&mut p)?);
            p.sp()?;
        }
    })();
    p.finish(r, None)
}

/// Parses the tail of a `FETCH` response after its last streamed literal
/// ([`Frame::StreamTail`](crate::frame::Frame::StreamTail)): ` UID 4 FLAGS ()` `)` CRLF.
pub fn fetch_tail(input: &Bytes) -> Result<FetchTail, ParseError> {
    let mut p = P::new(input);
    let r = (|| {
        let mut items = Vec::new();
        while p.peek() == Some(b' ') && p.peek_at(1) != Some(b')') {
            p.pos += 1;
            items.push(fetch_item(&mut p)?);
        }
        p.close()?;
        p.end()?;
        Ok(FetchTail { items })
    })();
    p.finish(r, None)
}
