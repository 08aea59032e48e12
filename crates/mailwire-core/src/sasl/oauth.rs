//! The message syntax of OAUTHBEARER (RFC 7628 section 3.1, with the GS2 header of RFC
//! 5801 section 4) and XOAUTH2 (Google's `user=..^Aauth=Bearer ..^A^A`), both ways.

use super::MalformedReason;

/// The key/value separator, `^A`.
pub(crate) const KVSEP: u8 = 0x01;

/// A parsed OAUTHBEARER or XOAUTH2 client message.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct OAuthMessage {
    /// GS2 authzid (OAUTHBEARER) or `user=` (XOAUTH2).
    pub(crate) user: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    /// The bearer token; empty for an empty `auth=`.
    pub(crate) token: String,
}

/// Parses an OAUTHBEARER client message: `gs2-header ^A *(key=value ^A) ^A`.
pub(crate) fn parse_oauthbearer(message: &[u8]) -> Result<OAuthMessage, ParseError> {
    let Some(split) = message.iter().position(|&b| b == KVSEP) else {
        return Err(MalformedReason::Gs2Header.into());
    };
    let (header, rest) = message.split_at(split);
    let user = parse_gs2_header(header)?;
    // `rest` starts with the kvsep that ends the header.
    let pairs = parse_kv_pairs(rest.get(1..).unwrap_or_default())?;
    let mut parsed = OAuthMessage {
        user,
        ..OAuthMessage::default()
    };
    let mut auth = None;
    for (key, value) in pairs {
        match key {
            b"auth" => auth = Some(value),
            b"host" => parsed.host = Some(parse_host(value)?),
            b"port" => parsed.port = Some(parse_port(value)?),
            _ => {} // RFC 7628 section 3.1: unknown keys MUST be ignored.
        }
    }
    let auth = auth.ok_or(MalformedReason::MissingAuth)?;
    parsed.token = parse_auth(auth)?;
    Ok(parsed)
}

/// Parses an XOAUTH2 client message: `user=<user> ^A auth=Bearer <token> ^A ^A`.
pub(crate) fn parse_xoauth2(message: &[u8]) -> Result<OAuthMessage, ParseError> {
    let pairs = parse_kv_pairs(message)?;
    let mut parsed = OAuthMessage::default();
    let mut auth = None;
    for (key, value) in pairs {
        match key {
            b"user" => parsed.user = Some(utf8_name(value)?),
            b"auth" => auth = Some(value),
            _ => {}
        }
    }
    if parsed.user.is_none() {
        return Err(MalformedReason::MissingUser.into());
    }
    let auth = auth.ok_or(MalformedReason::MissingAuth)?;
    parsed.token = parse_auth(auth)?;
    if parsed.token.is_empty() {
        // XOAUTH2 has no discovery form.
        return Err(MalformedReason::AuthScheme.into());
    }
    Ok(parsed)
}

/// A message did not parse: a syntax error, or a request for channel binding.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParseError {
    Malformed(MalformedReason),
    ChannelBinding,
}

impl From<MalformedReason> for ParseError {
    fn from(reason: MalformedReason) -> Self {
        ParseError::Malformed(reason)
    }
}

/// `gs2-header = [gs2-nonstd-flag ","] gs2-cb-flag "," [gs2-authzid] ","`, returning the
/// decoded authzid.
fn parse_gs2_header(header: &[u8]) -> Result<Option<String>, ParseError> {
    let header = header.strip_prefix(b"F,").unwrap_or(header);
    let (cb_flag, rest) = split_once(header, b',').ok_or(MalformedReason::Gs2Header)?;
    match cb_flag {
        b"n" | b"y" => {}
        [b'p', b'=', name @ ..]
            if !name.is_empty()
                && name
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-') =>
        {
            return Err(ParseError::ChannelBinding);
        }
        _ => return Err(MalformedReason::Gs2Header.into()),
    }
    let (authzid, rest) = split_once(rest, b',').ok_or(MalformedReason::Gs2Header)?;
    if !rest.is_empty() {
        return Err(MalformedReason::Gs2Header.into());
    }
    if authzid.is_empty() {
        return Ok(None);
    }
    let name = authzid
        .strip_prefix(b"a=")
        .ok_or(MalformedReason::Gs2Header)?;
    decode_saslname(name).map(Some)
}

/// `saslname = 1*(UTF8-char-safe / "=2C" / "=3D")`.
fn decode_saslname(name: &[u8]) -> Result<String, ParseError> {
    let mut out = Vec::with_capacity(name.len());
    let mut rest = name;
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'=' {
            match tail {
                [b'2', b'C', tail @ ..] => {
                    out.push(b',');
                    rest = tail;
                }
                [b'3', b'D', tail @ ..] => {
                    out.push(b'=');
                    rest = tail;
                }
                _ => return Err(MalformedReason::Gs2Header.into()),
            }
        } else {
            out.push(b);
            rest = tail;
        }
    }
    utf8_name(&out)
}

/// Encodes a saslname: `,` as `=2C` and `=` as `=3D`.
pub(crate) fn encode_saslname(name: &str, out: &mut Vec<u8>) {
    for &b in name.as_bytes() {
        match b {
            b',' => out.extend_from_slice(b"=2C"),
            b'=' => out.extend_from_slice(b"=3D"),
            _ => out.push(b),
        }
    }
}

/// A key and its value.
type KvPair<'a> = (&'a [u8], &'a [u8]);

/// `*(key "=" value kvsep) kvsep`, with `key = 1*ALPHA`. Duplicate keys are refused: two
/// `auth` values would make the claim ambiguous.
fn parse_kv_pairs(list: &[u8]) -> Result<Vec<KvPair<'_>>, MalformedReason> {
    let body = list
        .strip_suffix(&[KVSEP])
        .ok_or(MalformedReason::KeyValues)?;
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let body = body
        .strip_suffix(&[KVSEP])
        .ok_or(MalformedReason::KeyValues)?;
    let mut pairs: Vec<KvPair<'_>> = Vec::new();
    for pair in body.split(|&b| b == KVSEP) {
        let (key, value) = split_once(pair, b'=').ok_or(MalformedReason::KeyValues)?;
        if key.is_empty() || !key.iter().all(u8::is_ascii_alphabetic) {
            return Err(MalformedReason::KeyValues);
        }
        if value.contains(&0) {
            return Err(MalformedReason::Nul);
        }
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(MalformedReason::DuplicateKey);
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// `auth` = empty (discovery) or `Bearer 1*SP token` (scheme case-insensitive), the token
/// made of visible ASCII.
fn parse_auth(value: &[u8]) -> Result<String, MalformedReason> {
    if value.is_empty() {
        return Ok(String::new());
    }
    let (scheme, token) = split_once(value, b' ').ok_or(MalformedReason::AuthScheme)?;
    if !scheme.eq_ignore_ascii_case(b"Bearer") {
        return Err(MalformedReason::AuthScheme);
    }
    let token = trim_leading_spaces(token);
    if token.is_empty() || !token.iter().all(|b| b.is_ascii_graphic()) {
        return Err(MalformedReason::AuthScheme);
    }
    // Visible ASCII is UTF-8.
    String::from_utf8(token.to_vec()).map_err(|_| MalformedReason::AuthScheme)
}

fn parse_host(value: &[u8]) -> Result<String, MalformedReason> {
    if value.is_empty() || !value.iter().all(|b| b.is_ascii_graphic()) {
        return Err(MalformedReason::InvalidCharacter);
    }
    String::from_utf8(value.to_vec()).map_err(|_| MalformedReason::InvalidCharacter)
}

/// A decimal positive integer without leading zeros, at most 65535.
fn parse_port(value: &[u8]) -> Result<u16, MalformedReason> {
    let digits_only = !value.is_empty() && value.iter().all(u8::is_ascii_digit);
    if !digits_only || value.first() == Some(&b'0') || value.len() > 5 {
        return Err(MalformedReason::Port);
    }
    let text = std::str::from_utf8(value).map_err(|_| MalformedReason::Port)?;
    text.parse::<u16>().map_err(|_| MalformedReason::Port)
}

/// A name: UTF-8, non-empty, without NUL or `^A`.
pub(crate) fn utf8_name(bytes: &[u8]) -> Result<String, ParseError> {
    if bytes.is_empty() {
        return Err(MalformedReason::EmptyField.into());
    }
    if bytes.contains(&0) {
        return Err(MalformedReason::Nul.into());
    }
    if bytes.contains(&KVSEP) {
        return Err(MalformedReason::InvalidCharacter.into());
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| MalformedReason::InvalidUtf8.into())
}

fn split_once(bytes: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&b| b == sep)?;
    Some((bytes.get(..at)?, bytes.get(at + 1..)?))
}

fn trim_leading_spaces(mut bytes: &[u8]) -> &[u8] {
    while let Some(rest) = bytes.strip_prefix(b" ") {
        bytes = rest;
    }
    bytes
}

/// Whether `token` can be sent as a bearer token: non-empty visible ASCII.
pub(crate) fn is_valid_token(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())
}

/// Builds an OAUTHBEARER client message.
pub(crate) fn encode_oauthbearer(
    user: &str,
    host: Option<&str>,
    port: Option<u16>,
    token: &str,
) -> Vec<u8> {
    let mut out = b"n,a=".to_vec();
    encode_saslname(user, &mut out);
    out.push(b',');
    out.push(KVSEP);
    if let Some(host) = host {
        out.extend_from_slice(b"host=");
        out.extend_from_slice(host.as_bytes());
        out.push(KVSEP);
    }
    if let Some(port) = port {
        out.extend_from_slice(format!("port={port}").as_bytes());
        out.push(KVSEP);
    }
    out.extend_from_slice(b"auth=Bearer ");
    out.extend_from_slice(token.as_bytes());
    out.push(KVSEP);
    out.push(KVSEP);
    out
}

/// Builds an XOAUTH2 client message.
pub(crate) fn encode_xoauth2(user: &str, token: &str) -> Vec<u8> {
    let mut out = b"user=".to_vec();
    out.extend_from_slice(user.as_bytes());
    out.push(KVSEP);
    out.extend_from_slice(b"auth=Bearer ");
    out.extend_from_slice(token.as_bytes());
    out.push(KVSEP);
    out.push(KVSEP);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(reason: MalformedReason) -> Result<OAuthMessage, ParseError> {
        Err(ParseError::Malformed(reason))
    }

    #[test]
    fn oauthbearer_rfc7628_example() {
        let message = b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01\
                        auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01";
        let parsed = parse_oauthbearer(message).expect("the RFC example parses");
        assert_eq!(parsed.user.as_deref(), Some("user@example.com"));
        assert_eq!(parsed.host.as_deref(), Some("server.example.com"));
        assert_eq!(parsed.port, Some(143));
        assert_eq!(parsed.token, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
        assert_eq!(
            encode_oauthbearer(
                "user@example.com",
                Some("server.example.com"),
                Some(143),
                "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="
            ),
            message
        );
    }

    #[test]
    fn oauthbearer_header_forms() {
        let ok = |m: &[u8]| parse_oauthbearer(m).map(|p| p.user);
        assert_eq!(ok(b"n,,\x01auth=Bearer t\x01\x01"), Ok(None));
        assert_eq!(ok(b"y,,\x01auth=Bearer t\x01\x01"), Ok(None));
        assert_eq!(ok(b"F,n,,\x01auth=Bearer t\x01\x01"), Ok(None));
        assert_eq!(
            ok(b"n,a=a=3Db=2Cc,\x01auth=bearer t\x01\x01"),
            Ok(Some("a=b,c".into()))
        );
        assert_eq!(
            parse_oauthbearer(b"p=tls-unique,,\x01auth=Bearer t\x01\x01"),
            Err(ParseError::ChannelBinding)
        );
        for header in [
            &b"x,,"[..],
            b"n,",
            b"n",
            b"n,a=,",
            b"n,a=x=2D,",
            b"n,user=someone,",
            b"n,a=x,y,",
            b"p=,,",
        ] {
            let mut message = header.to_vec();
            message.extend_from_slice(b"\x01auth=Bearer t\x01\x01");
            assert!(parse_oauthbearer(&message).is_err(), "{header:?}");
        }
    }

    #[test]
    fn oauthbearer_kv_errors() {
        assert_eq!(
            parse_oauthbearer(b"n,,\x01\x01"),
            bad(MalformedReason::MissingAuth)
        );
        assert_eq!(
            parse_oauthbearer(b"n,,\x01auth=Bearer t\x01"),
            bad(MalformedReason::KeyValues)
        );
        assert_eq!(
            parse_oauthbearer(b"n,,\x01auth=Bearer t\x01auth=Bearer u\x01\x01"),
            bad(MalformedReason::DuplicateKey)
        );
        assert_eq!(
            parse_oauthbearer(b"n,,\x01auth=Basic dXNlcg==\x01\x01"),
            bad(MalformedReason::AuthScheme)
        );
        assert_eq!(
            parse_oauthbearer(b"n,,\x01port=0143\x01auth=Bearer t\x01\x01"),
            bad(MalformedReason::Port)
        );
        assert_eq!(
            parse_oauthbearer(b"n,,\x01port=65536\x01auth=Bearer t\x01\x01"),
            bad(MalformedReason::Port)
        );
        assert_eq!(
            parse_oauthbearer(b"n,,\x01k3y=v\x01auth=Bearer t\x01\x01"),
            bad(MalformedReason::KeyValues)
        );
        assert_eq!(parse_oauthbearer(b"\x01"), bad(MalformedReason::Gs2Header));
        assert_eq!(parse_oauthbearer(b""), bad(MalformedReason::Gs2Header));
        // Unknown keys are ignored; an empty auth is the discovery form.
        let parsed = parse_oauthbearer(b"n,,\x01mthd=POST\x01auth=\x01\x01");
        assert_eq!(parsed.map(|p| p.token), Ok(String::new()));
    }

    #[test]
    fn xoauth2_round_trip_and_errors() {
        let message = encode_xoauth2(
            "someone@example.com",
            "ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg",
        );
        assert_eq!(
            message,
            b"user=someone@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg\x01\x01"
        );
        let parsed = parse_xoauth2(&message).expect("our own message parses");
        assert_eq!(parsed.user.as_deref(), Some("someone@example.com"));
        assert_eq!(
            parsed.token,
            "ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg"
        );
        assert_eq!(
            parse_xoauth2(b"auth=Bearer t\x01\x01"),
            bad(MalformedReason::MissingUser)
        );
        assert_eq!(
            parse_xoauth2(b"user=u\x01\x01"),
            bad(MalformedReason::MissingAuth)
        );
        assert_eq!(
            parse_xoauth2(b"user=u\x01auth=\x01\x01"),
            bad(MalformedReason::AuthScheme)
        );
        assert_eq!(
            parse_xoauth2(b"user=\xff\x01auth=Bearer t\x01\x01"),
            bad(MalformedReason::InvalidUtf8)
        );
        assert_eq!(
            parse_xoauth2(b"user=u\x00\x01auth=Bearer t\x01\x01"),
            bad(MalformedReason::Nul)
        );
        assert_eq!(parse_xoauth2(b""), bad(MalformedReason::KeyValues));
    }
}
