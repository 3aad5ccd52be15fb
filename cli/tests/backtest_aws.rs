//! `responder backtest` reading a detector's findings from the local GuardDuty REST-JSON
//! server (through `AWS_ENDPOINT_URL`): `ListFindings` with the `updatedAt` criterion and
//! `nextToken` pagination, `GetFindings` per page; the report equals the one from the same
//! findings in a file, and only read calls are made.

use integration_tests::guardduty_api::{GuardDutyApi, World};
use serde_json::Value;
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

const DETECTOR: &str = "4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6";
const DAY_MS: i64 = 86_400_000;
const ILL_TYPED: &[&str] = &["degraded-fields.json", "hostile-attack-sequence.json"];

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Every camelCase sample finding of events/, `copies` times, each with its own id and
/// `updatedAt` (`age_ms` before now, an hour apart).
fn findings(copies: usize, age_ms: i64, prefix: &str) -> Vec<(i64, Value)> {
    let dir = format!("{}/../events", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        // Values of the wrong JSON type on purpose (a port as text, …): the API's own
        // responses are well-typed, and the SDK rejects these before we see them.
        .filter(|p| !ILL_TYPED.iter().any(|n| p.ends_with(n)))
        .collect();
    names.sort();
    let samples: Vec<Value> = names
        .iter()
        .filter_map(|p| serde_json::from_slice::<Value>(&std::fs::read(p).ok()?).ok())
        .filter(|d| d["detail-type"] == "GuardDuty Finding" && d["detail"].get("id").is_some())
        .map(|d| d["detail"].clone())
        .collect();
    let mut out = Vec::new();
    for i in 0..copies * samples.len() {
        let mut f = samples[i % samples.len()].clone();
        let at = now_ms() - age_ms - i as i64 * 3_600_000 / 7;
        f["id"] = format!("{prefix}-{i}").into();
        f["updatedAt"] = chrono::DateTime::from_timestamp_millis(at)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
            .into();
        out.push((at, as_the_api_sends(f, 0)));
    }
    out
}

/// The finding as `GetFindings` returns it: members of the API's `timestamp` type (nested
/// `createdAt`, `startTime`, … — the finding's own `createdAt`/`updatedAt` are strings)
/// are epoch seconds, where EventBridge events write them as ISO 8601 text.
fn as_the_api_sends(value: Value, depth: usize) -> Value {
    const TIMESTAMPS: &[&str] = &[
        "createdAt",
        "updatedAt",
        "firstSeenAt",
        "lastSeenAt",
        "modifiedAt",
        "startTime",
        "startedAt",
        "endTime",
        "lastModifiedAt",
        "createdTime",
    ];
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let epoch = (depth > 0 && TIMESTAMPS.contains(&k.as_str()))
                        .then(|| {
                            v.as_str()
                                .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
                        })
                        .flatten()
                        .map(|t| Value::from(t.timestamp_millis() as f64 / 1000.0));
                    let v = epoch.unwrap_or_else(|| as_the_api_sends(v, depth + 1));
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| as_the_api_sends(v, depth + 1))
                .collect(),
        ),
        other => other,
    }
}

async fn responder(api: &GuardDutyApi, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_responder"));
    cmd.arg("backtest")
        .args(args)
        .env("AWS_ENDPOINT_URL", api.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("RESPONDER_CONFIG")
        .env_remove("RESPONDER_PLAYBOOK")
        .env_remove("RESPONDER_MAX_CONTAINMENTS_PER_HOUR")
        .env_remove("RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR");
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_are_read_page_by_page_and_give_the_report_of_the_same_file() {
    let recent = findings(2, DAY_MS, "recent");
    let old = findings(1, 40 * DAY_MS, "old");
    let api = GuardDutyApi::start(World {
        detectors: vec![DETECTOR.into()],
        resources: vec![],
        page_size: 7,
        tags: vec![],
        findings: old.iter().chain(&recent).cloned().collect(),
    })
    .await;
    let limits = ["--max-per-hour", "3", "--output", "json"];
    let from_aws =
        json(&responder(&api, &[&["--updated-since", "30d"][..], &limits].concat()).await);

    let dir = std::env::temp_dir().join(format!("backtest-aws-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("recent.json");
    let list: Vec<&Value> = recent.iter().map(|(_, f)| f).collect();
    std::fs::write(&file, serde_json::json!({ "findings": list }).to_string()).unwrap();
    let from_file =
        json(&responder(&api, &[&[file.to_str().unwrap()][..], &limits].concat()).await);
    std::fs::remove_dir_all(&dir).ok();

    assert_eq!(from_aws["findings"], recent.len() as u64);
    assert_eq!(from_aws, from_file);
    assert!(from_aws["rate_limited"].as_u64() > Some(0));

    let calls = api.calls();
    let lists: Vec<_> = calls
        .iter()
        .filter(|c| c.path.ends_with("/findings"))
        .collect();
    let gets: Vec<_> = calls
        .iter()
        .filter(|c| c.path.ends_with("/findings/get"))
        .collect();
    assert_eq!(
        lists.len(),
        recent.len().div_ceil(7),
        "one ListFindings per page"
    );
    assert_eq!(gets.len(), lists.len(), "one GetFindings per page of ids");
    assert!(gets.iter().all(|c| {
        c.body["findingIds"]
            .as_array()
            .is_some_and(|a| a.len() <= 50)
    }));
    let since = lists[0].body["findingCriteria"]["criterion"]["updatedAt"]["greaterThanOrEqual"]
        .as_i64()
        .expect("an updatedAt criterion in epoch milliseconds");
    assert!(
        (since - (now_ms() - 30 * DAY_MS)).abs() < 600_000,
        "{since}"
    );
    assert!(lists[1..].iter().all(|c| c.body["nextToken"].is_string()));
    // Read calls only: ListDetectors, ListFindings, GetFindings (the file run makes none).
    for c in &calls {
        let read = (c.method == "GET" && c.path == "/detector")
            || (c.method == "POST"
                && (c.path.ends_with("/findings") || c.path.ends_with("/findings/get")));
        assert!(read, "{c:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_detector_is_discovered_and_an_unknown_one_is_an_error() {
    let api = GuardDutyApi::start(World {
        detectors: vec![DETECTOR.into()],
        page_size: 50,
        findings: findings(1, DAY_MS, "one"),
        ..World::default()
    })
    .await;
    let out = responder(&api, &["--output", "csv"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        api.calls()
            .iter()
            .any(|c| c.method == "GET" && c.path == "/detector")
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("decision,family,surface,account_id,count\n")
    );
    let out = responder(&api, &["--detector-id", "nope"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ListFindings"));
}
