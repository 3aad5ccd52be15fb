use super::*;
use proptest::prelude::*;

#[test]
fn slack_mentions_and_links_become_inert() {
    let v = Untrusted::new("<!channel> <@U123> <https://evil|click> a&b");
    let s = v.slack(FieldKind::Name);
    assert_eq!(
        s,
        "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; a&amp;b"
    );
}

#[test]
fn slack_formatting_cannot_escape_or_restyle() {
    let s = Untrusted::new("```x``` *b* _i_ ~s~").slack(FieldKind::Name);
    assert!(
        !s.contains('`') && !s.contains('*') && !s.contains('_') && !s.contains('~'),
        "{s}"
    );
}

#[test]
fn control_bidi_and_zero_width_are_made_visible() {
    let v = Untrusted::new("a\u{1b}[31m\u{0}\r\nb\u{202e}c\u{2066}\u{200b}\u{feff}\u{9b}");
    assert_eq!(
        v.plain(FieldKind::Name),
        "a\\u{1b}[31m\\u{0}\\r\\nb\\u{202e}c\\u{2066}\\u{200b}\\u{feff}\\u{9b}"
    );
}

#[test]
fn long_values_are_cut_on_a_char_boundary_with_a_marker() {
    let v = Untrusted::new("é".repeat(200));
    let out = v.plain(FieldKind::Name);
    assert!(out.starts_with(&"é".repeat(128)));
    assert!(out.ends_with("…[+72 chars]"), "{out}");
}

#[test]
fn slack_code_keeps_the_text_exact_but_the_fence_and_entities_safe() {
    let mut out = String::new();
    push_slack_code(&mut out, "release eks my_cluster ns <pod> `x` a&b *y*");
    assert_eq!(
        out,
        "release eks my_cluster ns &lt;pod&gt; \u{02CB}x\u{02CB} a&amp;b *y*"
    );
}

#[test]
fn html_escapes_text_and_attribute_context() {
    let s = Untrusted::new(r#""><script>alert('x')</script>&"#).html(FieldKind::Path);
    assert!(
        !s.contains('<') && !s.contains('>') && !s.contains('"') && !s.contains('\''),
        "{s}"
    );
}

#[test]
fn ascii_line_is_printable_and_bounded() {
    let s = ascii_line("é\nHigh \u{202e} finding", 10);
    assert_eq!(s, "??High ...");
}

fn no_raw_slack_specials(s: &str) -> bool {
    // Every '&' must start one of the three entities we emit.
    let amp_ok = s.match_indices('&').all(|(i, _)| {
        let t = &s[i..];
        t.starts_with("&amp;") || t.starts_with("&lt;") || t.starts_with("&gt;")
    });
    amp_ok && !s.contains('<') && !s.contains('>') && !s.contains('`')
}

proptest! {
    #[test]
    fn html_escaping_matches_html_escape(raw in any::<String>()) {
        let mut out = String::from("x");
        push_html_escaped(&mut out, &raw);
        let expected = html_escape::encode_quoted_attribute(&raw);
        prop_assert_eq!(&out[1..], expected.as_ref());
    }

    #[test]
    fn byte_class_scan_finds_the_first_special(raw in "[a-z&<>`*_~\"'é\u{1b}]{0,40}", from in 0usize..40) {
        let bytes = raw.as_bytes();
        for classes in [SLACK_SPECIAL, HTML_SPECIAL, NOT_PRINTABLE_ASCII] {
            let expected = (from..bytes.len()).find(|&i| BYTE_CLASS[bytes[i] as usize] & classes != 0);
            prop_assert_eq!(find_class(bytes, from, classes), expected);
        }
    }

    #[test]
    fn every_channel_is_free_of_dangerous_characters(raw in any::<String>()) {
        let v = Untrusted::new(raw);
        for out in [v.plain(FieldKind::Name), v.html(FieldKind::Name), v.slack(FieldKind::Name)] {
            prop_assert!(!out.chars().any(is_dangerous), "{:?}", out);
        }
    }

    #[test]
    fn slack_output_has_no_raw_specials(raw in any::<String>()) {
        let s = Untrusted::new(raw).slack(FieldKind::CommandLine);
        prop_assert!(no_raw_slack_specials(&s), "{:?}", s);
    }

    #[test]
    fn html_output_has_no_markup(raw in any::<String>()) {
        let s = Untrusted::new(raw).html(FieldKind::Path);
        prop_assert!(!s.contains('<') && !s.contains('>') && !s.contains('"'));
    }

    #[test]
    fn visible_length_is_bounded(raw in ".{0,3000}") {
        for kind in [FieldKind::Name, FieldKind::Path, FieldKind::CommandLine] {
            let out = Untrusted::new(raw.as_str()).plain(kind);
            // The bound plus the cut marker ("…[+N chars]", N < 10^6).
            prop_assert!(out.chars().count() <= kind.max_chars() + 20);
        }
    }

    #[test]
    fn ascii_line_invariants(raw in any::<String>(), max in 3usize..200) {
        let s = ascii_line(&raw, max);
        prop_assert!(s.len() <= max && s.chars().all(|c| (' '..='~').contains(&c)));
    }
}
