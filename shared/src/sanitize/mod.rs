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
mod tests;
