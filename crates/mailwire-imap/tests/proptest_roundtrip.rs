//! Property tests: decode(encode(x)) == x for every wire type reachable from a command or a
//! response, and chunk-split invariance of the framer.

use std::num::NonZeroU32;

use bytes::Bytes;
use mailwire_core::Secret;
use mailwire_core::sasl::Mechanism;
use mailwire_imap::frame::{Frame, Framer, FramerConfig, Role};
use mailwire_imap::parse;
use mailwire_imap::types::*;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

// ---- leaves ---------------------------------------------------------------------------

fn tag() -> impl Strategy<Value = Tag> {
    "[A-Za-z0-9.\\]-]{1,6}".prop_map(|s| Tag::try_from(s.as_str()).unwrap())
}
fn atom() -> impl Strategy<Value = Atom> {
    "[A-Za-z][A-Za-z0-9$_.-]{0,7}".prop_map(|s| Atom::try_from(s.as_str()).unwrap())
}
/// An atom that is no keyword this crate knows.
fn x_atom() -> impl Strategy<Value = Atom> {
    "X[A-Za-z0-9]{1,6}".prop_map(|s| Atom::try_from(s.as_str()).unwrap())
}
fn nz() -> impl Strategy<Value = NonZeroU32> {
    (1u32..=u32::MAX).prop_map(|n| NonZeroU32::new(n).unwrap())
}
fn literal(binary: bool) -> impl Strategy<Value = Literal> {
    (vec(any::<u8>(), 0..40), any::<bool>(), any::<bool>()).prop_map(move |(mut d, nonsync, b)| {
        let mode = if nonsync {
            LiteralMode::NonSync
        } else {
            LiteralMode::Sync
        };
        if binary && b {
            Literal::binary(d, mode).unwrap()
        } else {
            d.retain(|&x| x != 0);
            Literal::new(d, mode).unwrap()
        }
    })
}
fn quoted() -> impl Strategy<Value = Quoted> {
    vec(
        any::<u8>().prop_filter("text", |b| *b != 0 && *b != b'\r' && *b != b'\n'),
        0..20,
    )
    .prop_map(|v| Quoted::try_from(v).unwrap())
}
fn istring() -> impl Strategy<Value = IString> {
    prop_oneof![3 => quoted().prop_map(IString::Quoted), 1 => literal(false).prop_map(IString::Literal)]
}
fn nstring() -> impl Strategy<Value = NString> {
    of(istring())
}
fn astring() -> impl Strategy<Value = AString> {
    prop_oneof![
        "[A-Za-z0-9!#$&'+,./:;<=>?@^_`|~\\[\\]-]{1,10}"
            .prop_map(|s| AString::Atom(AtomExt::try_from(s.as_str()).unwrap())),
        istring().prop_map(AString::String),
    ]
}
fn mailbox() -> impl Strategy<Value = Mailbox> {
    prop_oneof![
        astring().prop_map(Mailbox::new),
        "\\PC{0,8}".prop_map(|s| Mailbox::from_utf8(&s).unwrap())
    ]
}
fn list_pattern() -> impl Strategy<Value = ListPattern> {
    prop_oneof![
        "[A-Za-z0-9%*/.\\]-]{1,8}"
            .prop_map(|s| ListPattern::Atom(ListAtom::try_from(s.as_str()).unwrap())),
        istring().prop_map(ListPattern::String),
    ]
}
fn text() -> impl Strategy<Value = Text> {
    "([^\\[\r\n\0][^\r\n\0]{0,20})?".prop_map(|s| Text::try_from(s.as_str()).unwrap())
}
fn seq_num() -> impl Strategy<Value = SeqNum> {
    prop_oneof![nz().prop_map(SeqNum::Value), Just(SeqNum::Largest)]
}
fn seq_range() -> impl Strategy<Value = SeqRange> {
    prop_oneof![
        seq_num().prop_map(SeqRange::One),
        (seq_num(), seq_num()).prop_map(|(a, b)| SeqRange::Range(a, b))
    ]
}
fn seq_set() -> impl Strategy<Value = SequenceSet> {
    vec(seq_range(), 1..4).prop_map(|v| SequenceSet::new(v).unwrap())
}
fn date() -> impl Strategy<Value = Date> {
    (0u16..=9999, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
}
fn date_time() -> impl Strategy<Value = DateTime> {
    (date(), 0u8..24, 0u8..60, 0u8..=60, -5999i16..=5999)
        .prop_map(|(d, h, m, s, z)| DateTime::new(d, h, m, s, z).unwrap())
}
fn flag() -> impl Strategy<Value = Flag> {
    prop_oneof![
        Just(Flag::Answered),
        Just(Flag::Flagged),
        Just(Flag::Deleted),
        Just(Flag::Seen),
        Just(Flag::Draft),
        atom().prop_map(Flag::Keyword),
        x_atom().prop_map(Flag::Extension),
    ]
}
fn flag_fetch() -> impl Strategy<Value = FlagFetch> {
    prop_oneof![flag().prop_map(FlagFetch::Flag), Just(FlagFetch::Recent)]
}
fn flag_perm() -> impl Strategy<Value = FlagPerm> {
    prop_oneof![flag().prop_map(FlagPerm::Flag), Just(FlagPerm::Any)]
}
fn name_attribute() -> impl Strategy<Value = NameAttribute> {
    prop_oneof![
        Just(NameAttribute::NoInferiors),
        Just(NameAttribute::NoSelect),
        Just(NameAttribute::HasChildren),
        Just(NameAttribute::Sent),
        Just(NameAttribute::Trash),
        Just(NameAttribute::Junk),
        x_atom().prop_map(NameAttribute::Other),
    ]
}
fn status_attribute() -> impl Strategy<Value = StatusAttribute> {
    prop_oneof![
        Just(StatusAttribute::Messages),
        Just(StatusAttribute::Recent),
        Just(StatusAttribute::UidNext),
        Just(StatusAttribute::UidValidity),
        Just(StatusAttribute::Unseen),
        Just(StatusAttribute::HighestModSeq),
        Just(StatusAttribute::Size),
        Just(StatusAttribute::Deleted),
        Just(StatusAttribute::AppendLimit),
        x_atom().prop_map(StatusAttribute::Other),
    ]
}
fn part() -> impl Strategy<Value = Vec<NonZeroU32>> {
    vec((1u32..50).prop_map(|n| NonZeroU32::new(n).unwrap()), 0..4)
}
fn section() -> impl Strategy<Value = Section> {
    (part(), 0u8..6, vec(astring(), 1..3)).prop_map(|(part, k, fields)| {
        let text = match k {
            0 => None,
            1 => Some(SectionText::Header),
            2 => Some(SectionText::Text),
            3 => Some(SectionText::HeaderFields(fields)),
            4 => Some(SectionText::HeaderFieldsNot(fields)),
            _ if !part.is_empty() => Some(SectionText::Mime),
            _ => None,
        };
        Section { part, text }
    })
}
fn partial() -> impl Strategy<Value = Option<(u32, NonZeroU32)>> {
    of((any::<u32>(), nz()))
}

// ---- commands -------------------------------------------------------------------------

fn search_key() -> impl Strategy<Value = SearchKey> {
    use SearchKey as K;
    let leaf = prop_oneof![
        Just(K::All),
        Just(K::Answered),
        Just(K::Deleted),
        Just(K::Unseen),
        Just(K::New),
        Just(K::Recent),
        astring().prop_map(K::Bcc),
        astring().prop_map(K::Body),
        astring().prop_map(K::Subject),
        astring().prop_map(K::Text),
        (astring(), astring()).prop_map(|(a, b)| K::Header(a, b)),
        date().prop_map(K::Before),
        date().prop_map(K::SentSince),
        date().prop_map(K::On),
        atom().prop_map(K::Keyword),
        atom().prop_map(K::Unkeyword),
        any::<u32>().prop_map(K::Larger),
        any::<u32>().prop_map(K::Smaller),
        seq_set().prop_map(K::Uid),
        seq_set().prop_map(K::SequenceSet),
        (
            of((
                quoted().prop_map(IString::Quoted),
                prop_oneof![
                    Just(EntryType::Private),
                    Just(EntryType::Shared),
                    Just(EntryType::All)
                ]
            )),
            any::<u64>()
        )
            .prop_map(|(entry, mod_seq)| K::ModSeq { entry, mod_seq }),
        astring().prop_map(K::GmailRaw),
        any::<u64>().prop_map(K::GmailMsgId),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|k| K::Not(Box::new(k))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| K::Or(Box::new(a), Box::new(b))),
            vec(inner, 1..3).prop_map(K::And),
        ]
    })
}

fn fetch_attribute() -> impl Strategy<Value = FetchAttribute> {
    use FetchAttribute as A;
    prop_oneof![
        Just(A::Envelope),
        Just(A::Flags),
        Just(A::InternalDate),
        Just(A::Rfc822),
        Just(A::Rfc822Header),
        Just(A::Rfc822Size),
        Just(A::Rfc822Text),
        Just(A::Body),
        Just(A::BodyStructure),
        Just(A::Uid),
        Just(A::ModSeq),
        Just(A::GmailLabels),
        (section(), partial(), any::<bool>()).prop_map(|(section, partial, peek)| A::BodySection {
            section,
            partial,
            peek
        }),
        (part(), partial(), any::<bool>()).prop_map(|(part, partial, peek)| A::Binary {
            part,
            partial,
            peek
        }),
        part().prop_map(|part| A::BinarySize { part }),
    ]
}

fn command_body() -> impl Strategy<Value = CommandBody> {
    use CommandBody as C;
    let simple = prop_oneof![
        Just(C::Capability),
        Just(C::Noop),
        Just(C::Logout),
        Just(C::StartTls),
        Just(C::Check),
        Just(C::Close),
        Just(C::Unselect),
        Just(C::Idle),
        Just(C::Namespace),
        of(seq_set()).prop_map(|uids| C::Expunge { uids }),
        (atom(), of(vec(any::<u8>(), 0..20))).prop_map(|(mechanism, ir)| C::Authenticate {
            mechanism,
            initial_response: ir.map(Secret::new)
        }),
        (astring(), astring()).prop_map(|(username, p)| C::Login {
            username,
            password: Secret::new(p)
        }),
        mailbox().prop_map(|mailbox| C::Delete { mailbox }),
        mailbox().prop_map(|mailbox| C::Subscribe { mailbox }),
        mailbox().prop_map(|mailbox| C::Unsubscribe { mailbox }),
        (mailbox(), mailbox()).prop_map(|(from, to)| C::Rename { from, to }),
        (mailbox(), of(vec(name_attribute(), 0..3))).prop_map(|(mailbox, special_use)| C::Create {
            mailbox,
            special_use
        }),
        (mailbox(), list_pattern()).prop_map(|(reference, pattern)| C::Lsub { reference, pattern }),
        (mailbox(), vec(status_attribute(), 1..4))
            .prop_map(|(mailbox, items)| C::Status { mailbox, items }),
        vec(atom(), 1..3).prop_map(|capabilities| C::Enable { capabilities }),
        of(vec((istring(), nstring()), 0..3)).prop_map(|params| C::Id { params }),
        astring().prop_map(|root| C::GetQuota { root }),
        mailbox().prop_map(|mailbox| C::GetQuotaRoot { mailbox }),
        (astring(), vec((atom(), any::<u64>()), 0..3))
            .prop_map(|(root, limits)| C::SetQuota { root, limits }),
        atom().prop_map(|algorithm| C::Compress { algorithm }),
    ];
    let select_param = prop_oneof![
        Just(SelectParam::CondStore),
        (
            nz(),
            any::<u64>(),
            of(seq_set()),
            of((seq_set(), seq_set()))
        )
            .prop_map(|(uid_validity, mod_seq, known_uids, seq_match)| {
                SelectParam::QResync {
                    uid_validity,
                    mod_seq,
                    known_uids,
                    seq_match,
                }
            }),
    ];
    let list_return = prop_oneof![
        Just(ListReturnOption::Subscribed),
        Just(ListReturnOption::Children),
        Just(ListReturnOption::SpecialUse),
        vec(status_attribute(), 1..3).prop_map(ListReturnOption::Status),
        x_atom().prop_map(ListReturnOption::Other),
    ];
    let list_select = prop_oneof![
        Just(ListSelectOption::Subscribed),
        Just(ListSelectOption::Remote),
        Just(ListSelectOption::RecursiveMatch),
        Just(ListSelectOption::SpecialUse),
        x_atom().prop_map(ListSelectOption::Other),
    ];
    let return_opt = prop_oneof![
        Just(SearchReturnOption::Min),
        Just(SearchReturnOption::Max),
        Just(SearchReturnOption::All),
        Just(SearchReturnOption::Count),
        Just(SearchReturnOption::Save),
        x_atom().prop_map(SearchReturnOption::Other),
    ];
    let fetch_items = prop_oneof![
        Just(FetchItems::All),
        Just(FetchItems::Fast),
        Just(FetchItems::Full),
        fetch_attribute().prop_map(FetchItems::Single),
        vec(fetch_attribute(), 1..4).prop_map(FetchItems::List),
    ];
    let modifier = prop_oneof![
        any::<u64>().prop_map(FetchModifier::ChangedSince),
        Just(FetchModifier::Vanished)
    ];
    let sort_key = prop_oneof![
        Just(SortKey::Arrival),
        Just(SortKey::Cc),
        Just(SortKey::Date),
        Just(SortKey::From),
        Just(SortKey::Size),
        Just(SortKey::Subject),
        Just(SortKey::To),
        Just(SortKey::DisplayFrom),
        Just(SortKey::DisplayTo),
    ];
    let complex = prop_oneof![
        (mailbox(), vec(select_param.clone(), 0..2))
            .prop_map(|(mailbox, params)| C::Select { mailbox, params }),
        (mailbox(), vec(select_param, 0..2))
            .prop_map(|(mailbox, params)| C::Examine { mailbox, params }),
        (
            of(vec(list_select, 0..3)),
            mailbox(),
            vec(list_pattern(), 1..3),
            any::<bool>(),
            of(vec(list_return, 0..3))
        )
            .prop_map(
                |(selection, reference, patterns, multiple, return_options)| C::List {
                    selection,
                    reference,
                    multiple: multiple || patterns.len() > 1,
                    patterns,
                    return_options
                }
            ),
        (
            mailbox(),
            of(vec(flag(), 0..3)),
            of(date_time()),
            literal(true),
            any::<bool>()
        )
            .prop_map(|(mailbox, flags, date, message, utf8)| C::Append {
                mailbox,
                flags,
                date,
                message,
                utf8
            }),
        (
            any::<bool>(),
            of(vec(return_opt, 0..3)),
            of(astring()),
            vec(search_key(), 1..3)
        )
            .prop_map(|(uid, return_options, charset, criteria)| {
                C::Search {
                    uid,
                    return_options,
                    charset,
                    criteria,
                }
            }),
        (any::<bool>(), seq_set(), fetch_items, vec(modifier, 0..2)).prop_map(
            |(uid, set, items, modifiers)| C::Fetch {
                uid,
                set,
                items,
                modifiers
            }
        ),
        (
            any::<bool>(),
            seq_set(),
            of(any::<u64>()),
            0u8..3,
            any::<bool>(),
            vec(flag(), 0..3),
            any::<bool>()
        )
            .prop_map(
                |(uid, set, unchanged_since, mode, silent, flags, parenthesized)| C::Store {
                    uid,
                    set,
                    unchanged_since,
                    mode: [StoreMode::Replace, StoreMode::Add, StoreMode::Remove][mode as usize],
                    silent,
                    parenthesized: parenthesized || flags.is_empty(),
                    flags,
                }
            ),
        (any::<bool>(), seq_set(), mailbox()).prop_map(|(uid, set, mailbox)| C::Copy {
            uid,
            set,
            mailbox
        }),
        (any::<bool>(), seq_set(), mailbox()).prop_map(|(uid, set, mailbox)| C::Move {
            uid,
            set,
            mailbox
        }),
        (
            any::<bool>(),
            vec((any::<bool>(), sort_key), 1..3),
            astring(),
            vec(search_key(), 1..3)
        )
            .prop_map(|(uid, c, charset, search)| C::Sort {
                uid,
                criteria: c
                    .into_iter()
                    .map(|(reverse, key)| SortCriterion { reverse, key })
                    .collect(),
                charset,
                search
            }),
        (any::<bool>(), atom(), astring(), vec(search_key(), 1..3)).prop_map(
            |(uid, algorithm, charset, search)| C::Thread {
                uid,
                algorithm,
                charset,
                search
            }
        ),
    ];
    prop_oneof![simple, complex]
}

fn command() -> impl Strategy<Value = Command> {
    (tag(), command_body()).prop_map(|(tag, body)| Command::new(tag, body))
}

// ---- responses ------------------------------------------------------------------------

fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        Just(Capability::Imap4Rev1),
        Just(Capability::Imap4Rev2),
        Just(Capability::LiteralPlus),
        Just(Capability::Idle),
        Just(Capability::Utf8Accept),
        Just(Capability::QResync),
        prop_oneof![
            Just(Mechanism::Plain),
            Just(Mechanism::XOAuth2),
            Just(Mechanism::CramMd5)
        ]
        .prop_map(Capability::Auth),
        x_atom().prop_map(Capability::Thread),
        x_atom().prop_map(Capability::Compress),
        x_atom().prop_map(Capability::Other),
    ]
}

fn code() -> impl Strategy<Value = Code> {
    prop_oneof![
        Just(Code::Alert),
        Just(Code::ReadOnly),
        Just(Code::TryCreate),
        Just(Code::UidNotSticky),
        Just(Code::Closed),
        Just(Code::AlreadyExists),
        Just(Code::OverQuota),
        vec(astring(), 0..3).prop_map(Code::BadCharset),
        vec(capability(), 0..4).prop_map(Code::Capability),
        vec(flag_perm(), 0..4).prop_map(Code::PermanentFlags),
        nz().prop_map(Code::UidNext),
        nz().prop_map(Code::UidValidity),
        nz().prop_map(Code::Unseen),
        (nz(), seq_set()).prop_map(|(uid_validity, uids)| Code::AppendUid { uid_validity, uids }),
        (nz(), seq_set(), seq_set()).prop_map(|(uid_validity, source, destination)| {
            Code::CopyUid {
                uid_validity,
                source,
                destination,
            }
        }),
        any::<u64>().prop_map(Code::HighestModSeq),
        seq_set().prop_map(Code::Modified),
        (
            x_atom(),
            of("[^\\]\r\n\0]{1,10}".prop_map(|s| CodeData::try_from(s.as_str()).unwrap()))
        )
            .prop_map(|(a, d)| Code::Other(a, d)),
    ]
}

fn address() -> impl Strategy<Value = Address> {
    (nstring(), nstring(), nstring(), nstring()).prop_map(|(name, adl, mailbox, host)| Address {
        name,
        adl,
        mailbox,
        host,
    })
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        nstring(),
        nstring(),
        vec(address(), 0..2),
        vec(address(), 0..2),
        vec(address(), 0..3),
        nstring(),
        nstring(),
    )
        .prop_map(
            |(date, subject, from, to, cc, in_reply_to, message_id)| Envelope {
                date,
                subject,
                sender: from.clone(),
                reply_to: from.clone(),
                from,
                to,
                cc,
                bcc: Vec::new(),
                in_reply_to,
                message_id,
            },
        )
}

fn params() -> impl Strategy<Value = Vec<(IString, IString)>> {
    vec((istring(), istring()), 0..3)
}

fn body_extension() -> impl Strategy<Value = BodyExtension> {
    let leaf = prop_oneof![
        nstring().prop_map(BodyExtension::NString),
        any::<u32>().prop_map(BodyExtension::Number)
    ];
    leaf.prop_recursive(2, 6, 3, |inner| {
        vec(inner, 1..3).prop_map(BodyExtension::List)
    })
}

fn tail() -> impl Strategy<Value = ExtensionTail> {
    (
        0u8..5,
        of((istring(), params()).prop_map(|(kind, parameters)| Disposition { kind, parameters })),
        prop_oneof![
            nstring().prop_map(Language::Single),
            vec(istring(), 1..3).prop_map(Language::List)
        ],
        nstring(),
        vec(body_extension(), 1..3),
    )
        .prop_map(
            |(depth, disposition, language, location, extensions)| ExtensionTail {
                disposition: (depth >= 1).then_some(disposition),
                language: (depth >= 2).then_some(language),
                location: (depth >= 3).then_some(location),
                extensions: if depth >= 4 { extensions } else { Vec::new() },
            },
        )
}

fn body_structure(extensible: bool) -> impl Strategy<Value = BodyStructure> {
    let fields = (params(), nstring(), nstring(), istring(), any::<u32>());
    let single = (0u8..3, fields, any::<u32>(), of((nstring(), tail()))).prop_map(
        move |(kind, (parameters, id, description, encoding, size), lines, ext)| {
            let (t, s, specific) = match kind {
                0 => ("TEXT", "PLAIN", BodySpecific::Text { lines }),
                1 => ("image", "png", BodySpecific::Basic),
                _ => ("APPLICATION", "octet-stream", BodySpecific::Basic),
            };
            BodyStructure::Single {
                body: Body {
                    media_type: IString::try_from(t).unwrap(),
                    subtype: IString::try_from(s).unwrap(),
                    parameters,
                    id,
                    description,
                    encoding,
                    size,
                    specific,
                },
                extension: if extensible {
                    ext.map(|(md5, tail)| SinglePartExtension { md5, tail })
                } else {
                    None
                },
            }
        },
    );
    single.prop_recursive(3, 10, 3, move |inner| {
        prop_oneof![
            (vec(inner.clone(), 1..3), istring(), of((params(), tail()))).prop_map(
                move |(bodies, subtype, ext)| BodyStructure::Multi {
                    bodies,
                    subtype,
                    extension: if extensible {
                        ext.map(|(parameters, tail)| MultiPartExtension { parameters, tail })
                    } else {
                        None
                    },
                }
            ),
            (
                envelope(),
                inner,
                any::<u32>(),
                (params(), nstring(), nstring(), istring(), any::<u32>())
            )
                .prop_map(
                    |(envelope, body, lines, (parameters, id, description, encoding, size))| {
                        BodyStructure::Single {
                            body: Body {
                                media_type: IString::try_from("MESSAGE").unwrap(),
                                subtype: IString::try_from("RFC822").unwrap(),
                                parameters,
                                id,
                                description,
                                encoding,
                                size,
                                specific: BodySpecific::Message {
                                    envelope: Box::new(envelope),
                                    body: Box::new(body),
                                    lines,
                                },
                            },
                            extension: None,
                        }
                    }
                ),
        ]
    })
}

fn fetch_item() -> impl Strategy<Value = FetchItem> {
    prop_oneof![
        vec(flag_fetch(), 0..4).prop_map(FetchItem::Flags),
        envelope().prop_map(|e| FetchItem::Envelope(Box::new(e))),
        date_time().prop_map(FetchItem::InternalDate),
        nstring().prop_map(FetchItem::Rfc822),
        nstring().prop_map(FetchItem::Rfc822Header),
        any::<u32>().prop_map(FetchItem::Rfc822Size),
        body_structure(false).prop_map(|b| FetchItem::Body(Box::new(b))),
        body_structure(true).prop_map(|b| FetchItem::BodyStructure(Box::new(b))),
        (section(), of(any::<u32>()), nstring()).prop_map(|(section, origin, data)| {
            FetchItem::BodySection {
                section,
                origin,
                data,
            }
        }),
        nz().prop_map(FetchItem::Uid),
        (part(), of(literal(true).prop_map(IString::Literal)))
            .prop_map(|(part, data)| FetchItem::Binary { part, data }),
        (part(), any::<u32>()).prop_map(|(part, size)| FetchItem::BinarySize { part, size }),
        any::<u64>().prop_map(FetchItem::ModSeq),
        any::<u64>().prop_map(FetchItem::GmailMsgId),
        vec(
            prop_oneof![
                x_atom().prop_map(GmailLabel::System),
                astring().prop_map(GmailLabel::Label)
            ],
            0..3
        )
        .prop_map(FetchItem::GmailLabels),
    ]
}

fn thread() -> impl Strategy<Value = Thread> {
    let leaf = vec(nz(), 1..3).prop_map(|members| Thread {
        members,
        children: Vec::new(),
    });
    leaf.prop_recursive(3, 10, 3, |inner| {
        (vec(nz(), 0..3), vec(inner, 1..3))
            .prop_map(|(members, children)| Thread { members, children })
    })
}

fn ext_value() -> impl Strategy<Value = ExtensionValue> {
    let leaf = prop_oneof![
        any::<u64>().prop_map(ExtensionValue::Number),
        (seq_range(), seq_range())
            .prop_map(|(a, b)| ExtensionValue::SequenceSet(SequenceSet::new(vec![a, b]).unwrap())),
        prop_oneof![
            "[A-Za-z][A-Za-z0-9]{0,6}".prop_map(|s| AString::try_from(s.as_str()).unwrap()),
            istring().prop_map(AString::String)
        ]
        .prop_map(ExtensionValue::AString),
    ];
    leaf.prop_recursive(2, 6, 3, |inner| {
        vec(inner, 0..3).prop_map(ExtensionValue::List)
    })
}

fn delimiter() -> impl Strategy<Value = Option<Delimiter>> {
    of((1u8..0x80)
        .prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n')
        .prop_map(|b| Delimiter::new(b as char).unwrap()))
}

fn list_item() -> impl Strategy<Value = ListItem> {
    (
        vec(name_attribute(), 0..3),
        delimiter(),
        mailbox(),
        of(vec((astring(), ext_value()), 0..2)),
    )
        .prop_map(|(attributes, delimiter, mailbox, extended)| ListItem {
            attributes,
            delimiter,
            mailbox,
            extended,
        })
}

fn namespace() -> impl Strategy<Value = Option<Vec<NamespaceDescription>>> {
    of(vec(
        (
            istring(),
            delimiter(),
            vec((istring(), vec(istring(), 1..3)), 0..2),
        )
            .prop_map(|(prefix, delimiter, extensions)| NamespaceDescription {
                prefix,
                delimiter,
                extensions,
            }),
        1..3,
    ))
}

fn data() -> impl Strategy<Value = Data> {
    let esearch_item = prop_oneof![
        nz().prop_map(ESearchItem::Min),
        nz().prop_map(ESearchItem::Max),
        seq_set().prop_map(ESearchItem::All),
        any::<u32>().prop_map(ESearchItem::Count),
        any::<u64>().prop_map(ESearchItem::ModSeq),
        (x_atom(), ext_value()).prop_map(|(a, v)| ESearchItem::Other(a, v)),
    ];
    prop_oneof![
        vec(capability(), 0..5).prop_map(Data::Capability),
        list_item().prop_map(Data::List),
        list_item().prop_map(Data::Lsub),
        (mailbox(), vec((status_attribute(), any::<u64>()), 0..4))
            .prop_map(|(mailbox, items)| Data::Status { mailbox, items }),
        (vec(nz(), 0..6), of(any::<u64>()))
            .prop_map(|(numbers, mod_seq)| Data::Search { numbers, mod_seq }),
        (vec(nz(), 0..6), of(any::<u64>()))
            .prop_map(|(numbers, mod_seq)| Data::Sort { numbers, mod_seq }),
        (of(istring()), any::<bool>(), vec(esearch_item, 0..4)).prop_map(
            |(correlator, uid, items)| Data::ESearch {
                correlator,
                uid,
                items
            }
        ),
        vec(flag(), 0..4).prop_map(Data::Flags),
        any::<u32>().prop_map(Data::Exists),
        any::<u32>().prop_map(Data::Recent),
        nz().prop_map(Data::Expunge),
        (nz(), vec(fetch_item(), 1..4)).prop_map(|(seq, items)| Data::Fetch { seq, items }),
        vec(atom(), 0..3).prop_map(Data::Enabled),
        of(vec((istring(), nstring()), 0..3)).prop_map(Data::Id),
        (namespace(), namespace(), namespace()).prop_map(|(personal, other, shared)| {
            Data::Namespace {
                personal,
                other,
                shared,
            }
        }),
        (astring(), vec((atom(), any::<u64>(), any::<u64>()), 0..3)).prop_map(|(root, r)| {
            Data::Quota {
                root,
                resources: r
                    .into_iter()
                    .map(|(name, usage, limit)| QuotaResource { name, usage, limit })
                    .collect(),
            }
        }),
        (mailbox(), vec(astring(), 0..3))
            .prop_map(|(mailbox, roots)| Data::QuotaRoot { mailbox, roots }),
        vec(thread(), 0..3).prop_map(Data::Thread),
        (any::<bool>(), seq_set()).prop_map(|(earlier, uids)| Data::Vanished { earlier, uids }),
    ]
}

fn response() -> impl Strategy<Value = Response> {
    let kind = prop_oneof![
        Just(StatusKind::Ok),
        Just(StatusKind::No),
        Just(StatusKind::Bad)
    ];
    let untagged_kind = prop_oneof![
        Just(StatusKind::Ok),
        Just(StatusKind::No),
        Just(StatusKind::Bad),
        Just(StatusKind::PreAuth),
        Just(StatusKind::Bye)
    ];
    prop_oneof![
        (tag(), kind, of(code()), text()).prop_map(|(t, kind, code, text)| Response::Status(
            StatusResponse {
                tag: Some(t),
                kind,
                code,
                text
            }
        )),
        (untagged_kind, of(code()), text()).prop_map(|(kind, code, text)| Response::Status(
            StatusResponse {
                tag: None,
                kind,
                code,
                text
            }
        )),
        (of(code()), text()).prop_map(|(code, text)| Response::Continue(Continue { code, text })),
        data().prop_map(Response::Data),
    ]
}

// ---- properties -----------------------------------------------------------------------

/// Frames `wire` (split at `cut`) and returns the messages, accepting every literal.
fn frame_all(role: Role, wire: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut f = Framer::new(FramerConfig::new(role));
    let mut out = Vec::new();
    let mut last = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(wire.len());
    for c in cuts {
        f.handle_input(&wire[last..c]);
        last = c;
        while let Some(frame) = f.poll_frame() {
            match frame {
                Frame::Message(m) => out.push(m),
                Frame::LiteralRequest { .. } => f.accept_literal().unwrap(),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn command_round_trip(c in command()) {
        let mut wire = Vec::new();
        c.encode_into(&mut wire);
        prop_assert_eq!(c.encode().to_vec(), wire.clone());
        let parsed = parse::command(&Bytes::from(wire.clone()));
        prop_assert!(parsed.is_ok(), "{:?} from {:?}", parsed, String::from_utf8_lossy(&wire));
        prop_assert_eq!(parsed.unwrap(), c);
    }

    #[test]
    fn response_round_trip(r in response()) {
        let mut wire = Vec::new();
        r.encode_into(&mut wire);
        let parsed = parse::response(&Bytes::from(wire.clone()));
        prop_assert!(parsed.is_ok(), "{:?} from {:?}", parsed, String::from_utf8_lossy(&wire));
        prop_assert_eq!(parsed.unwrap(), r);
    }

    #[test]
    fn commands_frame_the_same_in_any_chunks(cs in vec(command(), 1..4), cuts in vec(any::<usize>(), 0..6)) {
        let mut wire = Vec::new();
        for c in &cs {
            c.encode_into(&mut wire);
        }
        let messages = frame_all(Role::Server, &wire, &cuts);
        prop_assert_eq!(messages.len(), cs.len());
        for (m, c) in messages.iter().zip(&cs) {
            prop_assert_eq!(&parse::command(m).unwrap(), c);
        }
    }

    #[test]
    fn responses_frame_the_same_in_any_chunks(rs in vec(response(), 1..4), cuts in vec(any::<usize>(), 0..6)) {
        let mut wire = Vec::new();
        for r in &rs {
            r.encode_into(&mut wire);
        }
        let messages = frame_all(Role::Client, &wire, &cuts);
        prop_assert_eq!(messages.len(), rs.len());
        for (m, r) in messages.iter().zip(&rs) {
            prop_assert_eq!(&parse::response(m).unwrap(), r);
        }
    }

    #[test]
    fn mailbox_names_round_trip_through_utf7(name in "\\PC{0,16}") {
        let m = Mailbox::from_utf8(&name).unwrap();
        prop_assert!(m.as_bytes().is_ascii());
        if !name.eq_ignore_ascii_case("INBOX") {
            prop_assert_eq!(m.to_utf8().unwrap(), name.as_str());
        }
    }

    #[test]
    fn parsers_never_panic(bytes in vec(any::<u8>(), 0..200)) {
        let b = Bytes::from(bytes);
        let _ = parse::command(&b);
        let _ = parse::response(&b);
    }
}
