//! Property tests for the SMTP command codec: decode(encode(x)) == x for arbitrary
//! commands, and chunk-split invariance of the streaming parser.
//!
//! The strategies live in this file; other test files can copy or `#[path]`-include it.

use mailwire_core::Secret;
use mailwire_core::sasl::Mechanism;
use mailwire_smtp::parse::{CommandParseOptions, parse_command, parse_command_ref};
use mailwire_smtp::types::*;
use proptest::prelude::*;

fn opts(smtputf8: bool) -> CommandParseOptions {
    let mut o = CommandParseOptions::default();
    o.smtputf8 = smtputf8;
    o
}

/// An LDH label, or (with `utf8`) sometimes a U-label.
fn label(utf8: bool) -> BoxedStrategy<String> {
    let ascii = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?";
    if utf8 {
        prop_oneof![3 => ascii, 1 => "[a-z]{0,3}[äöüß中文]{1,3}[a-z0-9]{0,3}"].boxed()
    } else {
        ascii.boxed()
    }
}

fn domain(utf8: bool) -> impl Strategy<Value = Domain> {
    prop::collection::vec(label(utf8), 1..4).prop_map(|labels| {
        Domain::try_from(labels.join(".")).expect("strategy makes valid domains")
    })
}

fn literal() -> impl Strategy<Value = AddressLiteral> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| AddressLiteral::Ipv4(o.into())),
        any::<[u16; 8]>().prop_map(|s| AddressLiteral::Ipv6(s.into())),
        ("[a-zA-Z0-9-]{0,5}[a-zA-Z0-9]", "[!-Z^-~]{1,12}")
            .prop_filter_map("IPv6 tag", |(t, c)| GeneralLiteral::new(&t, &c).ok())
            .prop_map(AddressLiteral::General),
    ]
}

fn host(utf8: bool) -> impl Strategy<Value = Host> {
    prop_oneof![3 => domain(utf8).prop_map(Host::Domain), 1 => literal().prop_map(Host::Literal)]
}

fn local_part(utf8: bool) -> BoxedStrategy<LocalPart> {
    let s = if utf8 {
        prop_oneof![
            "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~.-]{1,20}",
            "[ -~]{0,20}",
            "[a-zé日本\\\\\" .]{0,12}",
        ]
        .boxed()
    } else {
        prop_oneof!["[a-zA-Z0-9!#$%&'*+/=?^_`{|}~.-]{1,20}", "[ -~]{0,20}"].boxed()
    };
    s.prop_map(|s| LocalPart::try_from(s).expect("strategy makes valid local parts"))
        .boxed()
}

fn mailbox(utf8: bool) -> impl Strategy<Value = Mailbox> {
    (local_part(utf8), host(utf8)).prop_map(|(l, h)| Mailbox::new(l, h))
}

fn reverse_path(utf8: bool) -> impl Strategy<Value = ReversePath> {
    prop_oneof![1 => Just(ReversePath::Null), 4 => mailbox(utf8).prop_map(ReversePath::Mailbox)]
}

fn forward_path(utf8: bool) -> impl Strategy<Value = ForwardPath> {
    prop_oneof![1 => Just(ForwardPath::Postmaster), 4 => mailbox(utf8).prop_map(ForwardPath::Mailbox)]
}

fn other_params(utf8: bool) -> BoxedStrategy<Vec<Parameter>> {
    let value = if utf8 {
        "[!-<>-~ü]{1,10}"
    } else {
        "[!-<>-~]{1,10}"
    };
    prop::collection::vec(
        (
            "X-[A-Za-z0-9-]{0,8}|[A-Za-z0-9][A-Za-z0-9-]{0,8}",
            prop::option::of(value),
        ),
        0..3,
    )
    .prop_map(|ps| {
        ps.into_iter()
            .map(|(k, v)| Parameter {
                keyword: ParamKeyword::try_from(k.as_str()).expect("valid keyword"),
                value: v.map(|v| ParamValue::try_from(v.as_str()).expect("valid value")),
            })
            .collect()
    })
    .boxed()
}

fn mail_params(utf8: bool) -> impl Strategy<Value = MailParameters> {
    let body = prop::option::of(prop_oneof![
        Just(BodyType::SevenBit),
        Just(BodyType::EightBitMime),
        Just(BodyType::BinaryMime)
    ]);
    let ret = prop::option::of(prop_oneof![Just(Ret::Full), Just(Ret::Hdrs)]);
    (
        prop::option::of(any::<u64>()),
        body,
        any::<(bool, bool)>(),
        prop::option::of(reverse_path(utf8)),
        ret,
        prop::option::of("[ -~]{1,30}"),
        other_params(utf8),
    )
        .prop_map(
            |(size, body, (smtputf8, requiretls), auth, ret, envid, other)| {
                let mut p = MailParameters::default();
                p.size = size;
                p.body = body;
                p.smtputf8 = smtputf8;
                p.requiretls = requiretls;
                p.auth = auth;
                p.ret = ret;
                p.envid = envid.map(|e| EnvelopeId::try_from(e.as_str()).expect("valid envid"));
                for o in other {
                    // Keywords that happen to be known ones are skipped.
                    let _ = p.push_other(o);
                }
                p
            },
        )
}

fn rcpt_params(utf8: bool) -> impl Strategy<Value = RcptParameters> {
    (
        prop::option::of(any::<(bool, bool, bool)>()),
        prop::option::of(("[a-zA-Z0-9-]{1,8}", "[ -~]{1,40}")),
        other_params(utf8),
    )
        .prop_map(|(notify, orcpt, other)| {
            let mut p = RcptParameters::default();
            p.notify = notify.map(|(success, failure, delay)| Notify {
                success,
                failure,
                delay,
            });
            p.orcpt = orcpt.map(|(t, a)| OriginalRecipient::new(&t, &a).expect("valid orcpt"));
            for o in other {
                let _ = p.push_other(o);
            }
            p
        })
}

fn argument(utf8: bool) -> BoxedStrategy<Argument> {
    let s = if utf8 {
        "[!-~é]([ -~é]{0,20}[!-~é])?"
    } else {
        "[!-~]([ -~]{0,20}[!-~])?"
    };
    s.prop_map(|s| Argument::try_from(s.as_str()).expect("valid argument"))
        .boxed()
}

/// Any command; non-ASCII text only when `utf8`.
pub fn command(utf8: bool) -> impl Strategy<Value = Command> {
    prop_oneof![
        host(utf8).prop_map(Command::Helo),
        host(utf8).prop_map(Command::Ehlo),
        host(utf8).prop_map(Command::Lhlo),
        (reverse_path(utf8), mail_params(utf8))
            .prop_map(|(from, params)| Command::Mail { from, params }),
        (forward_path(utf8), rcpt_params(utf8))
            .prop_map(|(to, params)| Command::Rcpt { to, params }),
        Just(Command::Data),
        any::<(u64, bool)>().prop_map(|(size, last)| Command::Bdat { size, last }),
        Just(Command::Rset),
        prop::option::of(argument(utf8)).prop_map(Command::Noop),
        Just(Command::Quit),
        argument(utf8).prop_map(Command::Vrfy),
        argument(utf8).prop_map(Command::Expn),
        prop::option::of(argument(utf8)).prop_map(Command::Help),
        Just(Command::StartTls),
        (
            "[A-Za-z0-9_-]{1,20}",
            prop::option::of(prop::collection::vec(any::<u8>(), 0..40))
        )
            .prop_map(|(m, ir)| Command::Auth {
                mechanism: Mechanism::from_name(&m).expect("valid mechanism"),
                initial_response: ir.map(Secret::new),
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn ascii_round_trip(cmd in command(false)) {
        let wire = cmd.to_bytes();
        prop_assert!(!cmd.needs_smtputf8());
        prop_assert_eq!(parse_command(&wire, &opts(false)), Ok(Some((cmd.clone(), wire.len()))));
        prop_assert_eq!(parse_command(&wire, &opts(true)), Ok(Some((cmd, wire.len()))));
    }

    #[test]
    fn utf8_round_trip(cmd in command(true)) {
        let wire = cmd.to_bytes();
        prop_assert_eq!(parse_command(&wire, &opts(true)), Ok(Some((cmd.clone(), wire.len()))));
        // Without SMTPUTF8, a command that needs it is refused (and one that does not
        // parses the same).
        let strict = parse_command(&wire, &opts(false));
        if cmd.needs_smtputf8() {
            prop_assert!(strict.is_err(), "{:?}", String::from_utf8_lossy(&wire));
        } else {
            prop_assert_eq!(strict, Ok(Some((cmd, wire.len()))));
        }
    }

    /// The borrowed view holds the same values as the owned command, and turns into it.
    #[test]
    fn borrowed_view_round_trip(cmd in command(true)) {
        let wire = cmd.to_bytes();
        let (view, used) = parse_command_ref(&wire, &opts(true))
            .expect("valid")
            .expect("complete");
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(view.verb(), cmd.verb());
        let mailbox_matches = |view: &MailboxRef<'_>, owned: &Mailbox| {
            view.local_part.as_str() == owned.local_part.as_str()
                && view.domain.clone().into_owned() == owned.domain
                && view.needs_smtputf8() == owned.needs_smtputf8()
        };
        let others = |it: OtherParams<'_>| -> Vec<(String, Option<String>)> {
            it.map(|(k, v)| (k.to_owned(), v.map(str::to_owned))).collect()
        };
        let owned_others = |o: &[Parameter]| -> Vec<(String, Option<String>)> {
            o.iter()
                .map(|p| (p.keyword.as_str().to_owned(), p.value.as_ref().map(|v| v.as_str().to_owned())))
                .collect()
        };
        match (&view, &cmd) {
            (CommandRef::Mail { from, params }, Command::Mail { from: f, params: p }) => {
                match (from, f) {
                    (ReversePathRef::Null, ReversePath::Null) => {}
                    (ReversePathRef::Mailbox(m), ReversePath::Mailbox(o)) => {
                        prop_assert!(mailbox_matches(m, o));
                    }
                    _ => prop_assert!(false, "paths differ"),
                }
                prop_assert_eq!(params.size, p.size);
                prop_assert_eq!(params.envid.as_ref().map(|e| e.as_str()), p.envid.as_ref().map(|e| e.as_str()));
                prop_assert_eq!(others(params.other()), owned_others(p.other()));
            }
            (CommandRef::Rcpt { to, params }, Command::Rcpt { to: t, params: p }) => {
                match (to, t) {
                    (ForwardPathRef::Postmaster, ForwardPath::Postmaster) => {}
                    (ForwardPathRef::Mailbox(m), ForwardPath::Mailbox(o)) => {
                        prop_assert!(mailbox_matches(m, o));
                    }
                    _ => prop_assert!(false, "paths differ"),
                }
                prop_assert_eq!(params.notify, p.notify);
                prop_assert_eq!(
                    params.orcpt.as_ref().map(|o| (o.addr_type(), o.address())),
                    p.orcpt.as_ref().map(|o| (o.addr_type(), o.address()))
                );
                prop_assert_eq!(others(params.other()), owned_others(p.other()));
            }
            (CommandRef::Ehlo(h), Command::Ehlo(o)) | (CommandRef::Helo(h), Command::Helo(o)) => {
                prop_assert_eq!(&h.clone().into_owned(), o);
            }
            (CommandRef::Vrfy(a), Command::Vrfy(o)) => prop_assert_eq!(a.as_str(), o.as_str()),
            _ => {}
        }
        prop_assert_eq!(view.into_owned(), cmd);
        for cut in 0..wire.len() {
            prop_assert!(matches!(parse_command_ref(&wire[..cut], &opts(true)), Ok(None)), "cut {}", cut);
        }
    }

    #[test]
    fn encoding_is_one_line(cmd in command(true)) {
        let wire = cmd.to_bytes();
        let body = wire.strip_suffix(b"\r\n").expect("ends in CRLF");
        prop_assert!(!body.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0));
    }

    #[test]
    fn every_prefix_is_incomplete(cmd in command(true)) {
        let wire = cmd.to_bytes();
        for cut in 0..wire.len() {
            prop_assert_eq!(parse_command(&wire[..cut], &opts(true)), Ok(None), "cut {}", cut);
        }
    }

    /// A pipelined stream of commands, delivered in arbitrary chunks into a growing
    /// buffer, yields the same commands as parsing the whole stream at once.
    #[test]
    fn chunking_does_not_matter(
        cmds in prop::collection::vec(command(true), 1..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let stream: Vec<u8> = cmds.iter().flat_map(|c| c.to_bytes()).collect();
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        cuts.push(stream.len());
        cuts.sort_unstable();
        let o = opts(true);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        let mut fed = 0;
        for cut in cuts {
            buf.extend_from_slice(&stream[fed..cut]);
            fed = cut;
            while let Some((cmd, used)) = parse_command(&buf, &o).expect("valid stream") {
                got.push(cmd);
                buf.drain(..used);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, cmds);
    }

    /// Whatever the bytes, the parser returns (no panic), and what it consumes is within
    /// the input.
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..200)) {
        mailwire_smtp::fuzzing::command::command(&data);
    }

    /// Line-ish garbage built from SMTP-looking pieces.
    #[test]
    fn smtp_like_garbage(parts in prop::collection::vec(
        prop_oneof![
            Just("MAIL FROM:"), Just("RCPT TO:"), Just("<"), Just(">"), Just("@"), Just("\""),
            Just("\\"), Just(" "), Just("="), Just("+"), Just("["), Just("]"), Just("IPv6:"),
            Just("\r\n"), Just("\n"), Just("\r"), Just("a"), Just("é"), Just("SIZE"),
            Just("NOTIFY"), Just("ORCPT=rfc822;"), Just("AUTH"), Just("ENVID"), Just(","),
            Just(":"), Just("."), Just("1"), Just("EHLO"), Just("BDAT")
        ],
        0..30,
    )) {
        let data: String = parts.concat();
        mailwire_smtp::fuzzing::command::command(data.as_bytes());
    }
}
