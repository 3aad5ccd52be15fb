//! Attacker-controllable text and its only ways out: one renderer per channel.
//!
//! Runtime findings carry strings the attacker chose (process names, paths, command
//! lines, domains, pod and image names, tags, and the `title`/`description` that embed
//! them). [`Untrusted`] has no `Display`: to show one, a caller must pick a channel, and
//! every channel first neutralises control, format (bidi, zero-width, tag) and other
//! invisible characters and bounds the length. The raw value is still serialized as JSON
//! for the investigators' log.

mod invisible;

use compact_str::CompactString;
use serde::Serialize;
use std::borrow::Cow;

pub use invisible::is_dangerous;

/// A string from the finding that an attacker may have chosen.
///
/// Held inline when short (ids, names, addresses: most of a finding), so parsing, cloning
/// and dropping a finding allocates only for its long values. Read leniently from JSON
/// (see [`crate::finding::lenient`]): a value that is not text is shown empty, never a
/// reason to drop the finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Untrusted(CompactString);

/// What a value is, which decides how much of it any channel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Process, container, pod, namespace, user, tag key names.
    Name,
    /// Paths, image references, ARNs, domains.
    Path,
    /// Command lines and LD_PRELOAD values.
    CommandLine,
    /// Finding title and description.
    Text,
}

impl FieldKind {
    /// Visible characters kept (after control characters are made visible).
    pub const fn max_chars(self) -> usize {
        match self {
            FieldKind::Name => 128,
            FieldKind::Path => 512,
            FieldKind::CommandLine => 1024,
            FieldKind::Text => 1024,
        }
    }
}

impl Untrusted {
    pub fn new(raw: impl Into<CompactString>) -> Self {
        Untrusted(raw.into())
    }

    /// The raw bytes, for JSON logs and API calls that take the value as data — never for display.
    pub fn as_raw(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw text of an optional field, `None` when absent or empty (for data: ids and
    /// parts that are neutralised later, never for display as is).
    pub fn raw_of(v: &Option<Untrusted>) -> Option<&str> {
        v.as_ref().map(Untrusted::as_raw).filter(|s| !s.is_empty())
    }

    /// Plain text (SNS body, terminal): neutralised and bounded, nothing escaped.
    pub fn plain(&self, kind: FieldKind) -> String {
        neutralise(&self.0, kind.max_chars()).into_owned()
    }

    /// HTML text or quoted attribute context.
    pub fn html(&self, kind: FieldKind) -> String {
        let plain = neutralise(&self.0, kind.max_chars());
        let mut out = String::with_capacity(plain.len());
        push_html_escaped(&mut out, &plain);
        out
    }

    /// Slack mrkdwn: only `&`, `<`, `>` are entities to Slack, so escaping exactly those
    /// makes `<!channel>`, `<@U…>` and `<url|label>` inert; formatting characters are
    /// swapped for look-alikes so a value can neither close a code span nor restyle text.
    pub fn slack(&self, kind: FieldKind) -> String {
        slack_escape(&self.plain(kind))
    }
}

impl From<&str> for Untrusted {
    fn from(s: &str) -> Self {
        Untrusted(s.into())
    }
}

/// Escapes text for Slack mrkdwn. Also used for the few trusted strings we build, so
/// that one function decides what reaches Slack.
pub fn slack_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    push_slack_escaped(&mut out, text);
    out
}

/// [`slack_escape`] appending to `out`, for renderers that build one message buffer.
pub fn push_slack_escaped(out: &mut String, text: &str) {
    let mut clean = 0;
    // Every character replaced is ASCII, so copying the runs between them is char-safe.
    while let Some(at) = find_class(text.as_bytes(), clean, SLACK_SPECIAL) {
        let with = match text.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'`' => "\u{02CB}",
            b'*' => "\u{2217}",
            b'_' => "\u{02CD}",
            _ => "\u{223C}", // `~`
        };
        out.push_str(&text[clean..at]);
        out.push_str(with);
        clean = at + 1;
    }
    out.push_str(&text[clean..]);
}

/// Appends `text` for a Slack code span or block: only `&`, `<`, `>` become entities and a
/// backtick a look-alike (so the fence holds); `*`, `_` and `~` stay as they are, since
/// Slack does not format inside code and a command must paste exactly.
pub fn push_slack_code(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('\u{02CB}'),
            c => out.push(c),
        }
    }
}

/// Appends `text` escaped for HTML text and quoted-attribute context (by `html-escape`;
/// values with nothing to escape, most of them, are copied as they are).
pub fn push_html_escaped(out: &mut String, text: &str) {
    match find_class(text.as_bytes(), 0, HTML_SPECIAL) {
        Some(first) => {
            // The clean prefix (ASCII-split, so char-safe) is not scanned again.
            out.push_str(&text[..first]);
            html_escape::encode_quoted_attribute_to_string(&text[first..], out);
        }
        None => out.push_str(text),
    }
}

const SLACK_SPECIAL: u8 = 1;
const HTML_SPECIAL: u8 = 2;
/// Not printable ASCII: may need a per-character look in [`neutralise`].
const NOT_PRINTABLE_ASCII: u8 = 4;

/// Which classes each byte belongs to: one table look-up per byte instead of a chain of
/// comparisons, on the path every shown value takes.
static BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        if matches!(byte, b'&' | b'<' | b'>' | b'`' | b'*' | b'_' | b'~') {
            table[b] |= SLACK_SPECIAL;
        }
        if matches!(byte, b'&' | b'<' | b'>' | b'"' | b'\'') {
            table[b] |= HTML_SPECIAL;
        }
        if !(byte >= 0x20 && byte < 0x7f) {
            table[b] |= NOT_PRINTABLE_ASCII;
        }
        b += 1;
    }
    table
};

/// The first byte at or after `from` in one of the `classes`, eight bytes per step.
fn find_class(bytes: &[u8], from: usize, classes: u8) -> Option<usize> {
    let class = |b: u8| BYTE_CLASS[b as usize];
    let mut at = from;
    while let Some(&[b0, b1, b2, b3, b4, b5, b6, b7]) = bytes.get(at..at + 8) {
        // Written out: the size-tuned release profile does not unroll a loop here.
        let any = class(b0) | class(b1) | class(b2) | class(b3);
        if (any | class(b4) | class(b5) | class(b6) | class(b7)) & classes != 0 {
            break;
        }
        at += 8;
    }
    bytes
        .get(at..)?
        .iter()
        .position(|&b| class(b) & classes != 0)
        .map(|p| at + p)
}

/// Makes dangerous characters visible as escapes and cuts to `max` visible characters on a
/// character boundary, saying how much was cut. A value that needs neither (most of them)
/// is returned as is, without a copy.
pub fn neutralise(raw: &str, max: usize) -> Cow<'_, str> {
    // Printable ASCII needs no per-character test.
    if raw.len() <= max
        && (find_class(raw.as_bytes(), 0, NOT_PRINTABLE_ASCII).is_none()
            || !raw.chars().any(is_dangerous))
    {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len().min(max * 2));
    let mut shown = 0usize;
    for (at, c) in raw.char_indices() {
        let escaped = match c {
            '\n' => Some(Escape::Short('n')),
            '\r' => Some(Escape::Short('r')),
            '\t' => Some(Escape::Short('t')),
            c if is_dangerous(c) => Some(Escape::Code(c as u32)),
            _ => None,
        };
        let width = match escaped {
            None => 1,
            Some(Escape::Short(_)) => 2,
            // `\u{` + hex digits + `}`
            Some(Escape::Code(n)) => 4 + hex_digits(n),
        };
        if shown + width > max {
            let rest = raw[at..].chars().count();
            out.push_str("…[+");
            out.push_str(&rest.to_string());
            out.push_str(" chars]");
            return Cow::Owned(out);
        }
        match escaped {
            None => out.push(c),
            Some(Escape::Short(letter)) => {
                out.push('\\');
                out.push(letter);
            }
            Some(Escape::Code(n)) => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{{{n:x}}}");
            }
        }
        shown += width;
    }
    Cow::Owned(out)
}

enum Escape {
    Short(char),
    Code(u32),
}

fn hex_digits(n: u32) -> usize {
    (32 - n.max(1).leading_zeros()).div_ceil(4) as usize
}

/// An ASCII-printable, single-line rendering (SNS subjects must be exactly that).
pub fn ascii_line(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .take(max)
        .collect();
    if text.chars().count() > max && max >= 3 {
        out.truncate(max - 3);
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
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
}
