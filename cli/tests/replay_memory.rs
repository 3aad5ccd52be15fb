//! `responder replay` streams: its peak memory does not grow with the number of findings.
//! The same `get-findings` export (PascalCase, as the AWS CLI prints it) is replayed with N
//! and 10 N findings through stdin; the child's peak RSS (VmHWM, less its file-backed
//! pages) is read from /proc while stdin is still open, after every finding but the last
//! pipe-full has been consumed.

use serde_json::{Map, Value};
use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// The camelCase finding of every sample EventBridge finding event in events/, in SDK
/// member names.
fn pascal_samples() -> Vec<Value> {
    let dir = format!("{}/../events", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|p| serde_json::from_slice::<Value>(&std::fs::read(p).ok()?).ok())
        .filter(|doc| doc["detail-type"] == "GuardDuty Finding" && doc["detail"].is_object())
        .map(|doc| pascal(doc["detail"].clone()))
        .collect()
}

fn pascal(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k.as_str() {
                        "sourceIPs" => "SourceIps".to_owned(),
                        _ => k[..1].to_uppercase() + &k[1..],
                    };
                    (key, pascal(v))
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(pascal).collect()),
        other => other,
    }
}

/// The export of `n` findings, each sample in turn with its own id.
fn export(samples: &[Value], n: usize) -> Vec<u8> {
    let mut out = b"{\"Findings\":[".to_vec();
    for i in 0..n {
        let mut finding = samples[i % samples.len()].clone();
        finding["Id"] = format!("memory-{i}").into();
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, &finding).unwrap();
    }
    out.extend_from_slice(b"]}");
    out
}

/// (peak anonymous RSS in kB, plans written) of `replay - --output json` on `input`.
fn peak_rss_kb(input: &[u8]) -> (u64, usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_responder"))
        .args(["replay", "-", "--output", "json"])
        .env_remove("RESPONDER_CONFIG")
        .env_remove("RESPONDER_PLAYBOOK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    drop(stdin);
    let text = reader.join().unwrap();
    assert!(child.wait().unwrap().success());
    let kb = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{key} in /proc/<pid>/status"))
    };
    // The peak less the pages of the binary itself (a debug build's code is tens of MB,
    // and which of it runs depends on the findings, not on their number).
    let hwm = kb("VmHWM:").saturating_sub(kb("RssFile:") + kb("RssShmem:"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    (hwm, doc["plans"].as_array().map_or(0, Vec::len))
}

#[test]
fn peak_memory_does_not_grow_with_the_number_of_findings() {
    let samples = pascal_samples();
    assert!(samples.len() > 10, "samples: {}", samples.len());
    let n = 150;
    let (small, small_plans) = peak_rss_kb(&export(&samples, n));
    let large_input = export(&samples, 10 * n);
    let (large, large_plans) = peak_rss_kb(&large_input);
    assert_eq!((small_plans, large_plans), (n, 10 * n));
    // Holding the input or the plans would take at least the input's size more.
    let grown_kb = large.saturating_sub(small);
    assert!(
        large * 2 < small * 3 && grown_kb < large_input.len() as u64 / 1024 / 4,
        "peak RSS {small} kB for {n} findings, {large} kB for {} ({} kB of input)",
        10 * n,
        large_input.len() / 1024
    );
}
