use super::*;
use crate::finding::parse_input;
use std::io::{Read, Write};

fn camel(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"Execution:Runtime/ReverseShell","severity":8,"accountId":"123456789012","region":"us-east-1","resource":{{"resourceType":"Instance"}}}}"#
    )
}

fn pascal(id: &str) -> String {
    format!(
        r#"{{"Id":"{id}","Type":"Execution:Runtime/ReverseShell","Severity":8,"AccountId":"123456789012","Region":"us-east-1","Resource":{{"ResourceType":"Instance"}}}}"#
    )
}

/// Each entry as `Ok(id)` / `Ok("not a finding")` or `Err(message)`, then the fatal error.
fn stream(bytes: &[u8]) -> (Vec<Result<String, String>>, Result<(), ParseError>) {
    let mut seen = Vec::new();
    let end = stream_input(bytes, None, &mut |entry| {
        seen.push(match entry {
            Ok(Entry::Finding(f)) => Ok(f.id.as_raw().to_owned()),
            Ok(Entry::NotAFinding { .. }) => Ok("not a finding".to_owned()),
            Err(e) => Err(e.to_string()),
        })
    });
    (seen, end)
}

fn ok(ids: &[&str]) -> Vec<Result<String, String>> {
    ids.iter().map(|i| Ok((*i).to_owned())).collect()
}

#[test]
fn every_list_shape_streams_each_finding_in_order() {
    let get_findings = format!(r#"{{"Findings":[{},{}]}}"#, pascal("a"), pascal("b"));
    let api = format!(r#"{{"findings":[{},{}]}}"#, camel("c"), camel("d"));
    let array = format!("[{},{}]", camel("e"), pascal("f"));
    let lines = format!("{}\n\n{}\n", camel("g"), camel("h"));
    for (input, ids) in [
        (get_findings, ["a", "b"]),
        (api, ["c", "d"]),
        (array, ["e", "f"]),
        (lines, ["g", "h"]),
    ] {
        let (seen, end) = stream(input.as_bytes());
        assert_eq!(end, Ok(()), "{input}");
        assert_eq!(seen, ok(&ids), "{input}");
    }
}

#[test]
fn a_single_document_gives_what_the_whole_input_parser_gives() {
    for name in [
        "ec2-defense-evasion-kernel-module.json",
        "shape-sns-notification.json",
        "shape-sqs-records.json",
        "shape-put-events-entries.json",
        "shape-s3-export.jsonl.gz",
        "shape-securityhub-get-findings.json",
        "degraded-fields.json",
        "runtime-protection-unhealthy.json",
        "get-findings-output.json",
    ] {
        let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap();
        let whole: Vec<Result<String, String>> = parse_input(&bytes)
            .unwrap()
            .into_iter()
            .map(|e| match e {
                Entry::Finding(f) => Ok(f.id.as_raw().to_owned()),
                Entry::NotAFinding { .. } => Ok("not a finding".to_owned()),
            })
            .collect();
        let (seen, end) = stream(&bytes);
        assert_eq!(end, Ok(()), "{name}");
        assert_eq!(seen, whole, "{name}");
    }
}

#[test]
fn a_bad_entry_is_named_and_the_others_are_kept() {
    let broken = pascal("b").replace(r#""Id":"b","#, "");
    let input = format!(
        r#"{{"Findings":[{},{broken},{}]}}"#,
        pascal("a"),
        pascal("c")
    );
    let (seen, end) = stream(input.as_bytes());
    assert_eq!(end, Ok(()));
    assert_eq!(seen[0], Ok("a".to_owned()));
    let error = seen[1].as_ref().unwrap_err();
    assert!(
        error.contains("Findings[1]") && error.contains("id"),
        "{error}"
    );
    assert_eq!(seen[2], Ok("c".to_owned()));

    let lines = format!("{}\n{}\n{}\n", camel("x"), r#"{"hello":1}"#, camel("z"));
    let (seen, end) = stream(lines.as_bytes());
    assert_eq!(end, Ok(()));
    assert_eq!(seen.len(), 3);
    assert!(seen[1].as_ref().unwrap_err().starts_with("document 2: "));
    assert_eq!(
        (seen[0].clone(), seen[2].clone()),
        (Ok("x".into()), Ok("z".into()))
    );
    // The first document is named too once a second one shows it is a stream.
    let lines = format!("{}\n{}\n", r#"{"hello":1}"#, camel("y"));
    let (seen, _) = stream(lines.as_bytes());
    assert!(seen[0].as_ref().unwrap_err().starts_with("document 1: "));
}

#[test]
fn what_stops_the_stream_says_why() {
    assert_eq!(stream(b"  \n").1, Err(ParseError::Empty));
    assert!(matches!(stream(b"{nope").1, Err(ParseError::NotJson(_))));
    let truncated = format!(r#"{{"Findings":[{},{}"#, pascal("a"), &pascal("b")[..20]);
    let (seen, end) = stream(truncated.as_bytes());
    assert_eq!(seen, ok(&["a"]));
    assert!(end.unwrap_err().to_string().starts_with("Findings[1]: "));
    assert_eq!(
        stream(b"[]").0,
        vec![Err(ParseError::EmptyList.to_string())]
    );
    assert_eq!(
        stream(br#"{"Findings":[]}"#).0,
        vec![Err(ParseError::NoFindings.to_string())]
    );
    let not_a_list = stream(br#"{"Findings":{"a":1}}"#)
        .1
        .unwrap_err()
        .to_string();
    assert!(
        not_a_list.contains("expected a list of findings"),
        "{not_a_list}"
    );
    assert!(matches!(
        stream(&[0x1f, 0x8b, 0, 0]).1,
        Err(ParseError::Gzip(_) | ParseError::NotJson(_))
    ));
}

#[test]
fn an_entry_past_the_bound_is_named_and_stops_the_stream() {
    // The bound is counted on what is read ahead, so it holds to within one buffer.
    let big = "x".repeat(MAX_ENTRY as usize + 2 * BUFFER);
    let input = format!(r#"{{"Findings":[{},{{"Id":"{big}"}}]}}"#, pascal("a"));
    let (seen, end) = stream(input.as_bytes());
    assert_eq!(seen, ok(&["a"]));
    assert_eq!(
        end,
        Err(ParseError::EntryTooLarge(MAX_ENTRY).within("Findings[1]"))
    );
}

#[test]
fn a_gzip_export_streams_line_by_line() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..3 {
        writeln!(enc, "{}", camel(&format!("g{i}"))).unwrap();
    }
    let (seen, end) = stream(&enc.finish().unwrap());
    assert_eq!(end, Ok(()));
    assert_eq!(seen, ok(&["g0", "g1", "g2"]));
}

/// An export larger than a small document is read through serde_json's reader, its list
/// elements from the buffer: the same entries and errors as a small one.
#[test]
fn a_large_export_streams_its_elements_with_the_same_errors() {
    let n = 12_000;
    let mut input = String::from(r#"{"Findings": ["#);
    for i in 0..n {
        let finding = match i {
            5 => pascal("x").replace(r#""Id":"x","#, ""),
            _ => pascal(&format!("f{i}")),
        };
        input.push_str(if i > 0 { ",\n " } else { "\n " });
        input.push_str(&finding);
    }
    input.push_str("\n]}\n");
    assert!(input.len() > SMALL_DOCUMENT, "{}", input.len());
    let (seen, end) = stream(input.as_bytes());
    assert_eq!(end, Ok(()));
    assert_eq!(seen.len(), n);
    assert_eq!(seen[4], Ok("f4".to_owned()));
    let error = seen[5].as_ref().unwrap_err();
    assert!(
        error.contains("Findings[5]") && error.contains("id"),
        "{error}"
    );
    assert_eq!(seen[n - 1], Ok(format!("f{}", n - 1)));

    // Two exports one after the other; then one cut short.
    let two = format!("{input}{input}");
    let (seen, end) = stream(two.as_bytes());
    assert_eq!((seen.len(), end), (2 * n, Ok(())));
    let cut = &input[..input.len() - 20];
    let (seen, end) = stream(cut.as_bytes());
    assert_eq!(seen.len(), n - 1);
    let error = end.unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("Findings[{}]", n - 1)),
        "{error}"
    );
    // A list that is not comma-separated is named where it breaks.
    let broken = input.replacen(",\n ", "\n ", 3);
    let error = stream(broken.as_bytes()).1.unwrap_err().to_string();
    assert!(error.starts_with("Findings[1]"), "{error}");
}

#[test]
fn a_large_top_level_array_streams_its_documents() {
    let n = 10_000;
    let items: Vec<String> = (0..n).map(|i| camel(&format!("a{i}"))).collect();
    let input = format!("[{}]", items.join(","));
    assert!(input.len() > SMALL_DOCUMENT);
    let (seen, end) = stream(input.as_bytes());
    assert_eq!(end, Ok(()));
    assert_eq!(seen.len(), n);
    assert_eq!(seen[n - 1], Ok(format!("a{}", n - 1)));
}

/// A reader that hands out a few bytes at a time, as a pipe may: values cut anywhere
/// (inside a number, a string, an escape) are read whole all the same.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 13 + 1;
        let n = self.step.min(out.len()).min(self.bytes.len());
        out[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

#[test]
fn input_read_a_few_bytes_at_a_time_gives_the_same_entries() {
    let mut input = String::from(r#"{"Findings": ["#);
    for i in 0..9_000 {
        input.push_str(if i > 0 { "," } else { "" });
        input.push_str(&pascal(&format!("t{i}")).replace("Severity\":8", "Severity\":8.125"));
    }
    input.push_str("]}");
    assert!(input.len() > SMALL_DOCUMENT);
    let lines = format!("{}\n{}\n", camel("l1"), camel("l2"));
    for input in [input.as_str(), lines.as_str()] {
        let mut seen = Vec::new();
        let trickle = Trickle {
            bytes: input.as_bytes(),
            step: 0,
        };
        let end = stream_input(trickle, None, &mut |entry| {
            seen.push(entry.map(|e| matches!(e, Entry::Finding(_))))
        });
        assert_eq!(end, Ok(()));
        assert_eq!(seen.len(), stream(input.as_bytes()).0.len());
        assert!(seen.iter().all(|s| s == &Ok(true)));
    }
}

proptest::proptest! {
    // Each case parses an export of over a megabyte (in a debug build).
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Any bytes, and any corruption of a real export large enough to be read through the
    /// reader, are entries and errors, never a panic.
    #[test]
    fn corrupt_input_never_panics(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        at in 0usize..1_300_000,
        byte in proptest::prelude::any::<u8>(),
    ) {
        let _ = stream(&bytes);
        let mut export = format!(r#"{{"Findings":[{}"#, pascal("p0"));
        while export.len() <= SMALL_DOCUMENT {
            export.push(',');
            export.push_str(&pascal("p"));
        }
        export.push_str("]}");
        let mut bytes = export.into_bytes();
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = stream(&bytes);
    }
}

#[test]
fn a_single_event_that_is_not_utf8_is_repaired_as_before() {
    let path = format!(
        "{}/../events/ec2-defense-evasion-kernel-module.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let bytes = text
        .replacen("\"title\": \"", "\"title\": \"\u{0}", 1)
        .into_bytes();
    let mut broken = bytes.clone();
    let at = broken
        .iter()
        .position(|&b| b == 0)
        .expect("a marker in the title");
    broken[at] = 0xff;
    let whole = parse_input(&broken).expect("the whole-input parser repairs it");
    let (seen, end) = stream(&broken);
    assert_eq!(end, Ok(()));
    assert_eq!(seen.len(), whole.len());
    assert!(seen[0].is_ok(), "{seen:?}");
}
