//! Input that serde_json rejects as a whole for one bad string: a lone UTF-16 surrogate
//! escape (`"\ud800"`, which no Rust string can hold) or bytes that are not UTF-8. Both
//! become U+FFFD, so the string shows the loss and the rest of the finding is read as sent.
//! Only input that failed the direct parse is looked at: clean input never pays for this.

/// The input with invalid UTF-8 and every lone surrogate escape replaced by U+FFFD, or
/// `None` when there is nothing to repair.
pub fn repair(bytes: &[u8]) -> Option<Vec<u8>> {
    let lossy = match String::from_utf8_lossy(bytes) {
        std::borrow::Cow::Owned(text) => Some(text.into_bytes()),
        std::borrow::Cow::Borrowed(_) => None,
    };
    let source = lossy.as_deref().unwrap_or(bytes);
    let lone = lone_surrogates(source);
    if lone.is_empty() {
        return lossy;
    }
    let mut out = lossy.unwrap_or_else(|| bytes.to_vec());
    for at in lone {
        // `\ud800` and `\ufffd` are both six bytes: offsets stay valid.
        out[at..at + 6].copy_from_slice(br"\ufffd");
    }
    Some(out)
}

/// Where the `\uXXXX` escapes that are lone surrogates start. Escapes are read left to
/// right from each backslash: in JSON a backslash appears only inside a string and always
/// starts an escape, so `\\ud800` (an escaped backslash, then text) is not one, and a high
/// surrogate counts as paired only when a low one follows it immediately.
fn lone_surrogates(b: &[u8]) -> Vec<usize> {
    let mut lone = Vec::new();
    let mut high: Option<usize> = None;
    let mut at = 0;
    while let Some(found) = b
        .get(at..)
        .and_then(|rest| rest.iter().position(|&c| c == b'\\'))
    {
        let escape = at + found;
        let unit = (b.get(escape + 1) == Some(&b'u'))
            .then(|| hex4(b.get(escape + 2..escape + 6)?))
            .flatten();
        let pending = high.take();
        match unit {
            Some(0xD800..=0xDBFF) => {
                lone.extend(pending);
                high = Some(escape);
            }
            Some(0xDC00..=0xDFFF) => match pending {
                Some(h) if h + 6 == escape => {}
                other => {
                    lone.extend(other);
                    lone.push(escape);
                }
            },
            _ => lone.extend(pending),
        }
        at = escape + if unit.is_some() { 6 } else { 2 };
    }
    lone.extend(high);
    lone
}

fn hex4(digits: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(digits).ok()?;
    u16::from_str_radix(text, 16)
        .ok()
        .filter(|_| digits.iter().all(u8::is_ascii_hexdigit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixed(json: &str) -> String {
        String::from_utf8(repair(json.as_bytes()).unwrap_or_else(|| json.as_bytes().to_vec()))
            .unwrap()
    }

    #[test]
    fn lone_surrogates_become_replacement_characters_and_pairs_stay() {
        assert_eq!(fixed(r#"["a\ud800b"]"#), r#"["a\ufffdb"]"#);
        assert_eq!(fixed(r#"["\uDC00"]"#), r#"["\ufffd"]"#);
        assert_eq!(fixed(r#"["\ud800\u0041"]"#), r#"["\ufffd\u0041"]"#);
        assert_eq!(
            fixed(r#"["\ud800\ud800\udc00"]"#),
            r#"["\ufffd\ud800\udc00"]"#
        );
        assert_eq!(fixed(r#"["\ud800", "\udc00"]"#), r#"["\ufffd", "\ufffd"]"#);
        assert!(repair(r#"["\ud83d\ude00 \\ud800 \n"]"#.as_bytes()).is_none());
        let v: Vec<String> =
            serde_json::from_str(&fixed(r#"["x\ud800y","\ud83d\ude00"]"#)).unwrap();
        assert_eq!(v, ["x\u{fffd}y", "😀"]);
    }

    #[test]
    fn the_lambda_runtime_hands_lone_surrogates_through() {
        // The handler receives the payload as a `RawValue`, which does not decode strings.
        let raw: Box<serde_json::value::RawValue> =
            serde_json::from_str(r#"{"name":"\ud800"}"#).unwrap();
        assert_eq!(fixed(raw.get()), r#"{"name":"\ufffd"}"#);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let v: Vec<String> = serde_json::from_slice(&repair(b"[\"a\xffb\"]").unwrap()).unwrap();
        assert_eq!(v, ["a\u{fffd}b"]);
    }

    proptest! {
        /// Any list of strings, written with every character as a `\u` escape and some
        /// surrogates cut loose, parses after repair, and valid ones are untouched.
        #[test]
        fn repaired_json_always_parses(parts in prop::collection::vec(
            prop_oneof![any::<char>().prop_map(Ok), (0xD800u16..=0xDFFF).prop_map(Err)], 0..20)) {
            let mut json = String::from("[\"");
            let mut expect = String::new();
            for p in &parts {
                match p {
                    Ok(c) => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            json.push_str(&format!("\\u{u:04x}"));
                        }
                        expect.push(*c);
                    }
                    Err(u) => json.push_str(&format!("\\u{u:04x}")),
                }
            }
            json.push_str("\"]");
            let v: Vec<String> = serde_json::from_str(&fixed(&json)).unwrap();
            if parts.iter().all(Result::is_ok) {
                prop_assert_eq!(&v[0], &expect);
            }
        }
    }
}
