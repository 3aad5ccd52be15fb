//! `responder backtest` on files, on the real binary: its counts agree with what `replay`
//! decides for the same findings, the rate limit is replayed in event time, and the text
//! and CSV outputs carry the same counts.

use serde_json::Value;
use std::process::{Command, Output};

fn responder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_responder"))
        .args(args)
        .env_remove("RESPONDER_CONFIG")
        .env_remove("RESPONDER_PLAYBOOK")
        .env_remove("RESPONDER_MAX_CONTAINMENTS_PER_HOUR")
        .env_remove("RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR")
        .output()
        .unwrap()
}

fn event(name: &str) -> String {
    format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Every finding event in events/ as one JSON Lines file, each with its own id, account
/// and updatedAt (reverse order: later findings first).
fn history(dir: &std::path::Path) -> (String, usize) {
    let mut lines = String::new();
    let mut n = 0;
    let mut names: Vec<_> = std::fs::read_dir(event(""))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    for round in 0..3 {
        for path in &names {
            let Ok(mut doc) = serde_json::from_slice::<Value>(&std::fs::read(path).unwrap()) else {
                continue;
            };
            // camelCase findings only (the PascalCase-detail shapes keep their own names).
            if doc["detail-type"] != "GuardDuty Finding" || doc["detail"].get("id").is_none() {
                continue;
            }
            n += 1;
            let minute = 1000 - n;
            doc["detail"]["id"] = format!("backtest-{n}").into();
            doc["detail"]["accountId"] = ["111111111111", "222222222222"][round % 2].into();
            doc["detail"]["updatedAt"] = format!(
                "2026-11-20T{:02}:{:02}:00.000Z",
                minute / 60 % 24,
                minute % 60
            )
            .into();
            lines.push_str(&doc.to_string());
            lines.push('\n');
        }
    }
    let file = dir.join("history.jsonl");
    std::fs::write(&file, lines).unwrap();
    (file.to_str().unwrap().to_owned(), n)
}

#[test]
fn counts_match_replay_and_every_output_agrees() {
    let dir = std::env::temp_dir().join(format!("backtest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, n) = history(&dir);

    let replay = responder(&["replay", &file, "--output", "ndjson"]);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let mut expected = std::collections::BTreeMap::new();
    for line in String::from_utf8_lossy(&replay.stdout).lines() {
        let p: Value = serde_json::from_str(line).unwrap();
        let key = format!(
            "{},{},{},{}",
            p["decision"], p["family"], p["surface"], p["account_id"]
        )
        .replace('"', "");
        *expected.entry(key).or_insert(0u64) += 1;
    }

    let out = responder(&[
        "backtest",
        &file,
        "--output",
        "json",
        "--max-per-account-per-hour",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"], n as u64);
    let counted: std::collections::BTreeMap<String, u64> = report["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = format!(
                "{},{},{},{}",
                r["decision"], r["family"], r["surface"], r["account_id"]
            )
            .replace('"', "");
            (key, r["count"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(counted, expected);

    // Containments in event time: no account has more than 2 in any hour.
    let mut per_hour = std::collections::HashMap::new();
    let mut last = i64::MIN;
    for c in report["containments"].as_array().unwrap() {
        let at = c["updated_at_ms"].as_i64().unwrap();
        assert!(at >= last, "not in event time");
        last = at;
        if c["refused_by"].is_null() {
            *per_hour
                .entry((c["account_id"].to_string(), at / 3_600_000))
                .or_insert(0) += 1;
        }
    }
    assert!(per_hour.values().all(|&k| k <= 2), "{per_hour:?}");
    assert!(
        report["rate_limited"].as_u64().unwrap() > 0,
        "the limit never tripped"
    );
    assert!(!report["rate_limit_trips"].as_array().unwrap().is_empty());
    let guards: Vec<&str> = report["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["guardrail"].as_str())
        .collect();
    assert!(guards.iter().any(|g| g.contains("SAMPLE")), "{guards:?}");
    assert!(
        guards
            .iter()
            .any(|g| g.contains("protected Kubernetes namespace")),
        "{guards:?}"
    );

    let csv = responder(&["backtest", &file, "--output", "csv"]);
    let csv_rows = String::from_utf8_lossy(&csv.stdout).lines().count() - 1;
    assert_eq!(csv_rows, expected.len());
    let text = String::from_utf8_lossy(&responder(&["backtest", &file]).stdout).into_owned();
    assert!(
        text.contains(&format!("{n} findings planned")) && text.contains('█'),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_entry_is_counted_and_exits_2_and_no_file_is_an_error() {
    let dir = std::env::temp_dir().join(format!("backtest-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(event("get-findings-output.json")).unwrap();
    let mut doc: Value = serde_json::from_str(&good).unwrap();
    doc["Findings"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"Type": "x"}));
    let file = dir.join("bad.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = responder(&["backtest", file.to_str().unwrap(), "--output", "json"]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["findings"].as_u64(), report["errors"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Findings[2]"));
    assert_eq!(responder(&["backtest"]).status.code(), Some(2));
}
