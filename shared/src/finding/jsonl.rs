//! GuardDuty's S3 export: JSON Lines (one camelCase finding per line), usually
//! gzip-compressed. Recognised by content: the gzip magic bytes, or a first line that is a
//! whole JSON value followed by more lines. Decompression streams line by line, so an
//! export is never held decompressed, and is bounded against decompression bombs.

use super::entry::{Context, Entry};
use super::error::ParseError;
use std::io::{BufRead, BufReader, Read};

/// The gzip member header's magic bytes (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Most decompressed bytes read from one export (exports are split well below this).
pub const MAX_DECOMPRESSED: u64 = 256 * 1024 * 1024;

pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// More than one non-blank line, the first of which is a complete JSON value on its own
/// (a pretty-printed document's first line, `{`, is not).
pub fn is_json_lines(bytes: &[u8]) -> bool {
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    match (lines.next(), lines.next()) {
        (Some(first), Some(_)) => {
            serde_json::from_slice::<serde::de::IgnoredAny>(first).is_ok()
                && first.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        }
        _ => false,
    }
}

/// Each line of an uncompressed JSON Lines document.
pub fn plain_lines(bytes: &[u8], context: Context<'_>) -> Result<Vec<Entry>, ParseError> {
    lines(bytes, context)
}

/// Each line of a gzip-compressed JSON Lines document (multi-member archives included).
pub fn gzip_lines(bytes: &[u8], context: Context<'_>) -> Result<Vec<Entry>, ParseError> {
    let decoder = flate2::read::MultiGzDecoder::new(bytes).take(MAX_DECOMPRESSED + 1);
    let mut reader = BufReader::new(decoder);
    let mut out = Vec::new();
    let mut line = Vec::new();
    let mut number = 0usize;
    let mut total = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| ParseError::Gzip(e.to_string()))?;
        if read == 0 {
            break;
        }
        total += read as u64;
        if total > MAX_DECOMPRESSED {
            return Err(ParseError::TooLarge(MAX_DECOMPRESSED));
        }
        number += 1;
        out.extend(one_line(&line, number, context)?);
    }
    if number == 0 {
        return Err(ParseError::Empty.within("gzip"));
    }
    Ok(out)
}

fn lines(bytes: &[u8], context: Context<'_>) -> Result<Vec<Entry>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        out.extend(one_line(line, i + 1, context)?);
    }
    Ok(out)
}

/// A blank line is skipped; any other is a whole document of its own.
fn one_line(line: &[u8], number: usize, context: Context<'_>) -> Result<Vec<Entry>, ParseError> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    context.inner(&format!("line {number}"), line)
}

#[cfg(test)]
mod tests {
    use crate::finding::{Entry, ParseError, parse_input};
    use std::io::Write;

    fn line(id: &str) -> String {
        format!(
            r#"{{"id":"{id}","type":"Execution:Runtime/ReverseShell","severity":8,"accountId":"123456789012","region":"us-east-1","resource":{{"resourceType":"Instance"}}}}"#
        )
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn ids(bytes: &[u8]) -> Vec<String> {
        parse_input(bytes)
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                Entry::Finding(f) => Some(f.id.as_raw().to_owned()),
                Entry::NotAFinding { .. } => None,
            })
            .collect()
    }

    #[test]
    fn plain_and_gzip_json_lines_give_every_finding_in_order() {
        let jsonl = format!("{}\n\n{}\n", line("a"), line("b"));
        assert_eq!(ids(jsonl.as_bytes()), ["a", "b"]);
        assert_eq!(ids(&gzip(jsonl.as_bytes())), ["a", "b"]);
        // Two gzip members, as concatenated exports are.
        let member = |id: &str| gzip(format!("{}\n", line(id)).as_bytes());
        let two = [member("c"), member("d")].concat();
        assert_eq!(ids(&two), ["c", "d"]);
    }

    #[test]
    fn a_bad_line_is_named_and_broken_gzip_is_an_error() {
        let jsonl = format!("{}\n{}\n", line("a"), line("b").replace(r#""id":"b","#, ""));
        assert_eq!(
            parse_input(jsonl.as_bytes()).unwrap_err(),
            ParseError::MissingField("id".into()).within("line 2")
        );
        let mut cut = gzip(jsonl.as_bytes());
        cut.truncate(cut.len() / 2);
        assert!(matches!(
            parse_input(&cut).unwrap_err(),
            ParseError::Gzip(_) | ParseError::Within { .. }
        ));
        assert!(parse_input(&[0x1f, 0x8b, 0, 0]).is_err());
        assert!(parse_input(&gzip(b"")).is_err());
    }

    proptest::proptest! {
        /// Any bytes after the gzip magic, and any corruption of a real export, are an
        /// error or findings, never a panic.
        #[test]
        fn corrupt_gzip_never_panics(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..128),
            at in 0usize..400,
            byte in proptest::prelude::any::<u8>(),
        ) {
            let _ = parse_input(&[&[0x1f, 0x8b][..], &tail].concat());
            let mut real = gzip(format!("{}\n{}\n", line("a"), line("b")).as_bytes());
            let at = at % real.len();
            real[at] = byte;
            let _ = parse_input(&real);
        }
    }

    #[test]
    fn a_pretty_printed_document_is_not_json_lines() {
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&line("p")).unwrap(),
        )
        .unwrap();
        assert_eq!(ids(pretty.as_bytes()), ["p"]);
    }
}
