//! Checks shared by the fuzz targets (`fuzz/fuzz_targets/mime_*.rs`), the corpus
//! replay test and the property tests. Not a stable API.

use crate::imap::{BodyKind, BodyStructure, BodyStructureOptions, Section, SectionText};
use crate::parse::{Limits, Message};

fn limits() -> Limits {
    Limits::default().max_parts(500).max_depth(20)
}

/// Parses `data` and decodes everything the parser offers: every header as text,
/// addresses, date, message ids and content type, and every body. Checks that all
/// byte ranges are inside the message and nested as the tree says.
pub fn parse(data: &[u8]) {
    let Ok(msg) = Message::parse_with(data, &limits()) else {
        return;
    };
    let len = data.len();
    for p in msg.parts() {
        let r = p.range();
        let (h, b) = (p.header_range(), p.body_range());
        assert!(r.start <= r.end && r.end <= len, "part range out of bounds");
        assert!(
            h.start == r.start && h.end == b.start && b.end == r.end,
            "ranges not contiguous"
        );
        assert!(h.start <= h.end && b.start <= b.end, "inverted range");
        if let Some(parent) = p.parent() {
            let pr = parent.body_range();
            assert!(
                pr.start <= r.start && r.end <= pr.end,
                "child outside parent body"
            );
        }
        for hd in p.headers() {
            let hr = hd.range();
            assert!(
                h.start <= hr.start && hr.end <= h.end,
                "field outside header"
            );
            let _ = hd.text();
            let _ = hd.addresses();
            let _ = hd.date().map(|d| d.to_string());
            let _ = hd.message_ids();
            let _ = hd.content_type();
        }
        let _ = p.decoded_body();
        let _ = p.text();
        let _ = p.filename();
    }
}

fn paths(bs: &BodyStructure<'_>, prefix: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
    match &bs.kind {
        BodyKind::Multipart(parts) => {
            for (i, c) in parts.iter().enumerate() {
                if c.part.is_none() {
                    // The empty text/plain standing in for a multipart without parts.
                    continue;
                }
                prefix.push(i as u32 + 1);
                out.push(prefix.clone());
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        BodyKind::Message { body, .. } => {
            if !matches!(body.kind, BodyKind::Multipart(_)) {
                prefix.push(1);
                out.push(prefix.clone());
                prefix.pop();
            } else {
                paths(body, prefix, out);
            }
        }
        _ => {}
    }
}

/// The size BODYSTRUCTURE gives every non-multipart part (including the empty
/// stand-in part of a multipart without parts), by section path.
fn sizes(bs: &BodyStructure<'_>, prefix: &mut Vec<u32>, out: &mut Vec<(Vec<u32>, usize)>) {
    match &bs.kind {
        BodyKind::Multipart(parts) => {
            for (i, c) in parts.iter().enumerate() {
                prefix.push(i as u32 + 1);
                sizes(c, prefix, out);
                prefix.pop();
            }
        }
        BodyKind::Message { fields, body, .. } => {
            out.push((prefix.clone(), fields.size));
            if matches!(body.kind, BodyKind::Multipart(_)) {
                sizes(body, prefix, out);
            } else {
                prefix.push(1);
                sizes(body, prefix, out);
                prefix.pop();
            }
        }
        BodyKind::Text { fields, .. } | BodyKind::Basic(fields) => {
            out.push((prefix.clone(), fields.size));
        }
    }
}

/// Parses `data` and computes the IMAP views: ENVELOPE, BODYSTRUCTURE (with MD5) and
/// every section of every part, checking that section sizes match the bytes written
/// and that `BODY[part]` has the size BODYSTRUCTURE gives the part.
pub fn views(data: &[u8]) {
    let Ok(msg) = Message::parse_with(data, &limits()) else {
        return;
    };
    let _ = msg.envelope();
    let bs = msg.body_structure(&BodyStructureOptions { compute_md5: true });
    let mut all = vec![Vec::new()];
    if matches!(bs.kind, BodyKind::Multipart(_)) {
        paths(&bs, &mut Vec::new(), &mut all);
    } else {
        // A non-multipart message: its body is part 1.
        all.push(vec![1]);
        paths(&bs, &mut vec![1], &mut all);
    }
    let texts = [
        None,
        Some(SectionText::Header),
        Some(SectionText::Text),
        Some(SectionText::Mime),
        Some(SectionText::HeaderFields(vec![
            "From".into(),
            "Subject".into(),
        ])),
        Some(SectionText::HeaderFieldsNot(vec!["Received".into()])),
    ];
    for path in all.iter().take(200) {
        for text in &texts {
            let s = Section {
                part: path.clone(),
                text: text.clone(),
            };
            if let Some(bytes) = msg.section(&s) {
                let v = bytes.to_vec();
                assert_eq!(
                    v.len(),
                    bytes.len(),
                    "section length differs from bytes written"
                );
            }
        }
        // Parts named by BODYSTRUCTURE always exist.
        assert!(
            msg.section_part(path).is_some(),
            "path from BODYSTRUCTURE not found"
        );
    }
    assert_eq!(
        msg.section(&Section::default()).map(|s| s.len()),
        Some(msg.size_crlf())
    );
    let mut sized = Vec::new();
    if matches!(bs.kind, BodyKind::Multipart(_)) {
        sizes(&bs, &mut Vec::new(), &mut sized);
    } else {
        sizes(&bs, &mut vec![1], &mut sized);
    }
    for (path, size) in sized.iter().take(200) {
        let s = Section {
            part: path.clone(),
            text: None,
        };
        assert_eq!(
            msg.section(&s).map(|b| b.len()),
            Some(*size),
            "BODY[{path:?}] and the BODYSTRUCTURE size differ"
        );
    }
}

/// Converts `data` to 7 bit ([`crate::to_seven_bit`]): a conversion is ASCII, parses,
/// and holds the same leaf parts (media type and decoded body; text compared line by
/// line) in the same order.
pub fn downgrade(data: &[u8]) {
    let crate::Downgrade::Converted(out) = crate::to_seven_bit(data) else {
        return;
    };
    assert!(out.is_ascii(), "converted message is not ASCII");
    let before = Message::parse(data).expect("the original parses");
    let after = Message::parse(&out[..]).expect("the conversion parses");
    assert_eq!(
        crate::downgrade::leaves(&after),
        crate::downgrade::leaves(&before),
        "decoded parts differ"
    );
}
