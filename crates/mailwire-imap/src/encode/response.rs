//! Responses (a server writes them).

use super::{Enc, Encoded, W, id_params, section_binary};
use crate::types::*;

impl Response {
    /// The response as fragments (literal data shared, not copied).
    pub fn encode(&self) -> Encoded {
        let mut buf = Vec::new();
        let mut w = W::fragmented(&mut buf, super::LiteralPolicy::AsIs);
        self.enc(&mut w);
        w.finish()
    }
    /// The whole response appended to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let mut w = W::flat(out);
        self.enc(&mut w);
    }
}

impl Enc for Response {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            Response::Status(s) => s.enc(w),
            Response::Data(d) => {
                w.raw(b"* ");
                d.enc(w);
            }
            Response::Continue(c) => {
                w.raw(b"+ ");
                resp_text(w, &c.code, &c.text);
            }
        }
        w.raw(b"\r\n");
    }
}

fn resp_text(w: &mut W<'_>, code: &Option<Code>, text: &Text) {
    if let Some(c) = code {
        w.byte(b'[');
        c.enc(w);
        w.byte(b']');
        if !text.as_bytes().is_empty() {
            w.sp();
        }
    }
    text.enc(w);
}

impl Enc for StatusResponse {
    fn enc(&self, w: &mut W<'_>) {
        match &self.tag {
            Some(t) => t.enc(w),
            None => w.byte(b'*'),
        }
        w.raw(match self.kind {
            StatusKind::Ok => b" OK".as_slice(),
            StatusKind::No => b" NO",
            StatusKind::Bad => b" BAD",
            StatusKind::PreAuth => b" PREAUTH",
            StatusKind::Bye => b" BYE",
        });
        if self.code.is_some() || !self.text.as_bytes().is_empty() {
            w.sp();
            resp_text(w, &self.code, &self.text);
        }
    }
}

fn capabilities(w: &mut W<'_>, caps: &[Capability]) {
    for c in caps {
        w.sp();
        c.enc(w);
    }
}

impl Enc for Capability {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            Capability::Auth(m) => {
                w.raw(b"AUTH=");
                w.raw(m.as_str().as_bytes());
            }
            Capability::Thread(a) => {
                w.raw(b"THREAD=");
                a.enc(w);
            }
            Capability::Compress(a) => {
                w.raw(b"COMPRESS=");
                a.enc(w);
            }
            Capability::Other(a) => a.enc(w),
            known => {
                let name = SIMPLE_CAPABILITIES
                    .iter()
                    .find(|(c, _)| c == known)
                    .map_or("", |(_, n)| n);
                w.raw(name.as_bytes());
            }
        }
    }
}

impl Enc for Code {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            Code::BadCharset(c) => {
                w.raw(b"BADCHARSET");
                if !c.is_empty() {
                    w.sp();
                    w.list(c, |w, x| x.enc(w));
                }
            }
            Code::Capability(c) => {
                w.raw(b"CAPABILITY");
                capabilities(w, c);
            }
            Code::PermanentFlags(f) => {
                w.raw(b"PERMANENTFLAGS ");
                w.list(f, |w, x| x.enc(w));
            }
            Code::UidNext(n) => {
                w.raw(b"UIDNEXT ");
                w.num(u64::from(n.get()));
            }
            Code::UidValidity(n) => {
                w.raw(b"UIDVALIDITY ");
                w.num(u64::from(n.get()));
            }
            Code::Unseen(n) => {
                w.raw(b"UNSEEN ");
                w.num(u64::from(n.get()));
            }
            Code::AppendUid { uid_validity, uids } => {
                w.raw(b"APPENDUID ");
                w.num(u64::from(uid_validity.get()));
                w.sp();
                uids.enc(w);
            }
            Code::CopyUid {
                uid_validity,
                source,
                destination,
            } => {
                w.raw(b"COPYUID ");
                w.num(u64::from(uid_validity.get()));
                w.sp();
                source.enc(w);
                w.sp();
                destination.enc(w);
            }
            Code::HighestModSeq(n) => {
                w.raw(b"HIGHESTMODSEQ ");
                w.num(*n);
            }
            Code::Modified(s) => {
                w.raw(b"MODIFIED ");
                s.enc(w);
            }
            Code::Other(a, data) => {
                a.enc(w);
                if let Some(d) = data {
                    w.sp();
                    d.enc(w);
                }
            }
            simple => {
                let name = SIMPLE_CODES
                    .iter()
                    .find(|(c, _)| c == simple)
                    .map_or("", |(_, n)| n);
                w.raw(name.as_bytes());
            }
        }
    }
}

fn numbers(w: &mut W<'_>, numbers: &[std::num::NonZeroU32], mod_seq: &Option<u64>) {
    for n in numbers {
        w.sp();
        w.num(u64::from(n.get()));
    }
    if let Some(m) = mod_seq {
        w.raw(b" (MODSEQ ");
        w.num(*m);
        w.byte(b')');
    }
}

fn delimiter(w: &mut W<'_>, d: &Option<Delimiter>) {
    match d {
        Some(d) => w.quoted(&[d.as_byte()]),
        None => w.raw(b"NIL"),
    }
}

fn list_item(w: &mut W<'_>, l: &ListItem) {
    w.list(&l.attributes, |w, a| a.enc(w));
    w.sp();
    delimiter(w, &l.delimiter);
    w.sp();
    l.mailbox.enc(w);
    if let Some(ext) = &l.extended {
        w.sp();
        w.list(ext, |w, (t, v)| {
            t.enc(w);
            w.sp();
            v.enc(w);
        });
    }
}

fn namespace(w: &mut W<'_>, n: &Option<Vec<NamespaceDescription>>) {
    match n {
        None => w.raw(b"NIL"),
        Some(list) => {
            w.byte(b'(');
            for d in list {
                w.byte(b'(');
                d.prefix.enc(w);
                w.sp();
                delimiter(w, &d.delimiter);
                for (name, values) in &d.extensions {
                    w.sp();
                    name.enc(w);
                    w.sp();
                    w.list(values, |w, v| v.enc(w));
                }
                w.byte(b')');
            }
            w.byte(b')');
        }
    }
}

fn thread(w: &mut W<'_>, t: &Thread) {
    w.byte(b'(');
    for (i, m) in t.members.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        w.num(u64::from(m.get()));
    }
    if !t.members.is_empty() && !t.children.is_empty() {
        w.sp();
    }
    for c in &t.children {
        thread(w, c);
    }
    w.byte(b')');
}

impl Enc for Data {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            Data::Capability(c) => {
                w.raw(b"CAPABILITY");
                capabilities(w, c);
            }
            Data::List(l) => {
                w.raw(b"LIST ");
                list_item(w, l);
            }
            Data::Lsub(l) => {
                w.raw(b"LSUB ");
                list_item(w, l);
            }
            Data::Status { mailbox, items } => {
                w.raw(b"STATUS ");
                mailbox.enc(w);
                w.sp();
                w.list(items, |w, (a, n)| {
                    a.enc(w);
                    w.sp();
                    w.num(*n);
                });
            }
            Data::Search {
                numbers: n,
                mod_seq,
            } => {
                w.raw(b"SEARCH");
                numbers(w, n, mod_seq);
            }
            Data::Sort {
                numbers: n,
                mod_seq,
            } => {
                w.raw(b"SORT");
                numbers(w, n, mod_seq);
            }
            Data::ESearch {
                correlator,
                uid,
                items,
            } => {
                w.raw(b"ESEARCH");
                if let Some(c) = correlator {
                    w.raw(b" (TAG ");
                    c.enc(w);
                    w.byte(b')');
                }
                if *uid {
                    w.raw(b" UID");
                }
                for i in items {
                    w.sp();
                    match i {
                        ESearchItem::Min(n) => {
                            w.raw(b"MIN ");
                            w.num(u64::from(n.get()));
                        }
                        ESearchItem::Max(n) => {
                            w.raw(b"MAX ");
                            w.num(u64::from(n.get()));
                        }
                        ESearchItem::All(s) => {
                            w.raw(b"ALL ");
                            s.enc(w);
                        }
                        ESearchItem::Count(n) => {
                            w.raw(b"COUNT ");
                            w.num(u64::from(*n));
                        }
                        ESearchItem::ModSeq(n) => {
                            w.raw(b"MODSEQ ");
                            w.num(*n);
                        }
                        ESearchItem::Other(a, v) => {
                            a.enc(w);
                            w.sp();
                            v.enc(w);
                        }
                    }
                }
            }
            Data::Flags(f) => {
                w.raw(b"FLAGS ");
                w.list(f, |w, x| x.enc(w));
            }
            Data::Exists(n) => {
                w.num(u64::from(*n));
                w.raw(b" EXISTS");
            }
            Data::Recent(n) => {
                w.num(u64::from(*n));
                w.raw(b" RECENT");
            }
            Data::Expunge(n) => {
                w.num(u64::from(n.get()));
                w.raw(b" EXPUNGE");
            }
            Data::Fetch { seq, items } => {
                w.num(u64::from(seq.get()));
                w.raw(b" FETCH ");
                w.list(items, |w, i| i.enc(w));
            }
            Data::Enabled(caps) => {
                w.raw(b"ENABLED");
                for c in caps {
                    w.sp();
                    c.enc(w);
                }
            }
            Data::Id(params) => {
                w.raw(b"ID ");
                id_params(w, params);
            }
            Data::Namespace {
                personal,
                other,
                shared,
            } => {
                w.raw(b"NAMESPACE ");
                namespace(w, personal);
                w.sp();
                namespace(w, other);
                w.sp();
                namespace(w, shared);
            }
            Data::Quota { root, resources } => {
                w.raw(b"QUOTA ");
                root.enc(w);
                w.sp();
                w.list(resources, |w, r| {
                    r.name.enc(w);
                    w.sp();
                    w.num(r.usage);
                    w.sp();
                    w.num(r.limit);
                });
            }
            Data::QuotaRoot { mailbox, roots } => {
                w.raw(b"QUOTAROOT ");
                mailbox.enc(w);
                for r in roots {
                    w.sp();
                    r.enc(w);
                }
            }
            Data::Thread(threads) => {
                w.raw(b"THREAD");
                if !threads.is_empty() {
                    w.sp();
                }
                for t in threads {
                    thread(w, t);
                }
            }
            Data::Vanished { earlier, uids } => {
                w.raw(if *earlier {
                    b"VANISHED (EARLIER) ".as_slice()
                } else {
                    b"VANISHED "
                });
                uids.enc(w);
            }
        }
    }
}

impl Enc for FetchItem {
    fn enc(&self, w: &mut W<'_>) {
        macro_rules! kw {
            ($k:literal, $a:expr) => {{
                w.raw($k);
                w.sp();
                $a.enc(w);
            }};
        }
        match self {
            FetchItem::Flags(f) => {
                w.raw(b"FLAGS ");
                w.list(f, |w, x| x.enc(w));
            }
            FetchItem::Envelope(e) => kw!(b"ENVELOPE", e.as_ref()),
            FetchItem::InternalDate(d) => kw!(b"INTERNALDATE", d),
            FetchItem::Rfc822(s) => kw!(b"RFC822", s),
            FetchItem::Rfc822Header(s) => kw!(b"RFC822.HEADER", s),
            FetchItem::Rfc822Text(s) => kw!(b"RFC822.TEXT", s),
            FetchItem::Rfc822Size(n) => {
                w.raw(b"RFC822.SIZE ");
                w.num(u64::from(*n));
            }
            FetchItem::Body(b) => kw!(b"BODY", b.as_ref()),
            FetchItem::BodyStructure(b) => kw!(b"BODYSTRUCTURE", b.as_ref()),
            FetchItem::BodySection {
                section,
                origin,
                data,
            } => {
                w.raw(b"BODY");
                section.enc(w);
                if let Some(o) = origin {
                    w.byte(b'<');
                    w.num(u64::from(*o));
                    w.byte(b'>');
                }
                w.sp();
                data.enc(w);
            }
            FetchItem::Uid(n) => {
                w.raw(b"UID ");
                w.num(u64::from(n.get()));
            }
            FetchItem::Binary { part, data } => {
                w.raw(b"BINARY");
                section_binary(w, part);
                w.sp();
                data.enc(w);
            }
            FetchItem::BinarySize { part, size } => {
                w.raw(b"BINARY.SIZE");
                section_binary(w, part);
                w.sp();
                w.num(u64::from(*size));
            }
            FetchItem::ModSeq(n) => {
                w.raw(b"MODSEQ (");
                w.num(*n);
                w.byte(b')');
            }
            FetchItem::GmailMsgId(n) => {
                w.raw(b"X-GM-MSGID ");
                w.num(*n);
            }
            FetchItem::GmailThreadId(n) => {
                w.raw(b"X-GM-THRID ");
                w.num(*n);
            }
            FetchItem::GmailLabels(l) => {
                w.raw(b"X-GM-LABELS ");
                w.list(l, |w, x| match x {
                    GmailLabel::System(a) => {
                        w.byte(b'\\');
                        a.enc(w);
                    }
                    GmailLabel::Label(s) => s.enc(w),
                });
            }
        }
    }
}

fn address_list(w: &mut W<'_>, l: &[Address]) {
    if l.is_empty() {
        w.raw(b"NIL");
        return;
    }
    w.byte(b'(');
    for a in l {
        w.byte(b'(');
        a.name.enc(w);
        w.sp();
        a.adl.enc(w);
        w.sp();
        a.mailbox.enc(w);
        w.sp();
        a.host.enc(w);
        w.byte(b')');
    }
    w.byte(b')');
}

impl Enc for Envelope {
    fn enc(&self, w: &mut W<'_>) {
        w.byte(b'(');
        self.date.enc(w);
        w.sp();
        self.subject.enc(w);
        for l in [
            &self.from,
            &self.sender,
            &self.reply_to,
            &self.to,
            &self.cc,
            &self.bcc,
        ] {
            w.sp();
            address_list(w, l);
        }
        w.sp();
        self.in_reply_to.enc(w);
        w.sp();
        self.message_id.enc(w);
        w.byte(b')');
    }
}

fn params(w: &mut W<'_>, p: &[(IString, IString)]) {
    if p.is_empty() {
        w.raw(b"NIL");
    } else {
        w.list(p, |w, (k, v)| {
            k.enc(w);
            w.sp();
            v.enc(w);
        });
    }
}

impl Enc for BodyExtension {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            BodyExtension::NString(s) => s.enc(w),
            BodyExtension::Number(n) => w.num(u64::from(*n)),
            BodyExtension::List(l) => w.list(l, |w, x| x.enc(w)),
        }
    }
}

fn tail(w: &mut W<'_>, t: &ExtensionTail) {
    let Some(d) = &t.disposition else { return };
    w.sp();
    match d {
        None => w.raw(b"NIL"),
        Some(d) => {
            w.byte(b'(');
            d.kind.enc(w);
            w.sp();
            params(w, &d.parameters);
            w.byte(b')');
        }
    }
    let Some(l) = &t.language else { return };
    w.sp();
    match l {
        Language::Single(s) => s.enc(w),
        Language::List(l) => w.list(l, |w, x| x.enc(w)),
    }
    let Some(loc) = &t.location else { return };
    w.sp();
    loc.enc(w);
    for e in &t.extensions {
        w.sp();
        e.enc(w);
    }
}

impl Enc for BodyStructure {
    fn enc(&self, w: &mut W<'_>) {
        w.byte(b'(');
        match self {
            BodyStructure::Multi {
                bodies,
                subtype,
                extension,
            } => {
                for b in bodies {
                    b.enc(w);
                }
                w.sp();
                subtype.enc(w);
                if let Some(e) = extension {
                    w.sp();
                    params(w, &e.parameters);
                    tail(w, &e.tail);
                }
            }
            BodyStructure::Single { body, extension } => {
                body.media_type.enc(w);
                w.sp();
                body.subtype.enc(w);
                w.sp();
                params(w, &body.parameters);
                w.sp();
                body.id.enc(w);
                w.sp();
                body.description.enc(w);
                w.sp();
                body.encoding.enc(w);
                w.sp();
                w.num(u64::from(body.size));
                match &body.specific {
                    BodySpecific::Basic => {}
                    BodySpecific::Text { lines } => {
                        w.sp();
                        w.num(u64::from(*lines));
                    }
                    BodySpecific::Message {
                        envelope,
                        body,
                        lines,
                    } => {
                        w.sp();
                        envelope.enc(w);
                        w.sp();
                        body.enc(w);
                        w.sp();
                        w.num(u64::from(*lines));
                    }
                }
                if let Some(e) = extension {
                    w.sp();
                    e.md5.enc(w);
                    tail(w, &e.tail);
                }
            }
        }
        w.byte(b')');
    }
}
