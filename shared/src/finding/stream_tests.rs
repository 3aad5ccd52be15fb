use super::*;
use crate::finding::parse_input;
use std::io::Write;

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
    assert!(matches!(
        stream(br#"{"Findings":{"a":1}}"#).1,
        Err(ParseError::InvalidField { .. })
    ));
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
