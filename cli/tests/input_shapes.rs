//! Every shape a GuardDuty finding travels in (docs/input-shapes.md), replayed on the real
//! binary: each `shape-*` sample carries one finding of `events/` and must give the plan its
//! EventBridge form gives — decision, reason, actions and notification subject — and so
//! must each `hostile-shape-*` sample, whose hostile strings then get the same treatment.

use std::process::Command;

/// (EventBridge sample, the same finding in another shape); `events/gen-shapes.py` made them.
const SHAPES: &[(&str, &str)] = &[
    (
        "ec2-defense-evasion-kernel-module.json",
        "shape-eventbridge-pascal-detail.json",
    ),
    (
        "ec2-defense-evasion-kernel-module.json",
        "shape-sns-notification.json",
    ),
    (
        "ec2-defense-evasion-kernel-module.json",
        "shape-sqs-records.json",
    ),
    (
        "ec2-defense-evasion-kernel-module.json",
        "shape-put-events-entries.json",
    ),
    (
        "ec2-defense-evasion-kernel-module.json",
        "shape-s3-export.jsonl",
    ),
    (
        "ec2-defense-evasion-kernel-module.json",
        "shape-s3-export.jsonl.gz",
    ),
    (
        "ec2-defense-evasion-kernel-module.json",
        "shape-securityhub-imported.json",
    ),
    (
        "ec2-defense-evasion-kernel-module.json",
        "shape-securityhub-get-findings.json",
    ),
    (
        "hostile-control-chars.json",
        "hostile-shape-eventbridge-pascal-detail.json",
    ),
    (
        "hostile-slack-injection.json",
        "hostile-shape-sns-notification.json",
    ),
    (
        "hostile-bidi-zero-width.json",
        "hostile-shape-sqs-records.json",
    ),
    (
        "hostile-invisible-chars.json",
        "hostile-shape-put-events-entries.json",
    ),
    (
        "hostile-html-injection.json",
        "hostile-shape-s3-export.jsonl.gz",
    ),
    (
        "hostile-html-injection.json",
        "hostile-shape-securityhub-imported.json",
    ),
    (
        "hostile-control-chars.json",
        "hostile-shape-securityhub-get-findings.json",
    ),
];

fn event(name: &str) -> String {
    format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `responder replay FILE --output json`: exit status and stdout/stderr.
fn replay(file: &str) -> (bool, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_responder"))
        .args(["replay", file, "--output", "json"])
        .env_remove("RESPONDER_CONFIG")
        .env_remove("RESPONDER_PLAYBOOK")
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.success(),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What must not depend on the shape: per plan, the finding, decision, reason, actions
/// and subject.
fn summary(file: &str) -> Vec<serde_json::Value> {
    let (ok, doc, stderr) = replay(&event(file));
    assert!(ok, "{file}: {stderr}");
    let plans = doc["plans"].as_array().cloned().unwrap_or_default();
    assert!(!plans.is_empty(), "{file}: no plan");
    plans
        .iter()
        .map(|p| {
            serde_json::json!({
                "finding_id": p["finding_id"], "finding_type": p["finding_type"],
                "severity": p["severity"], "account_id": p["account_id"], "region": p["region"],
                "decision": p["decision"], "reason": p["reason"], "actions": p["actions"],
                "subject": p["notification"]["subject"],
            })
        })
        .collect()
}

#[test]
fn every_shape_of_one_finding_gives_the_same_plan() {
    for (source, shape) in SHAPES {
        assert_eq!(summary(shape), summary(source), "{shape} vs {source}");
    }
}

#[test]
fn the_canonical_finding_is_contained_so_the_comparison_covers_actions() {
    let canonical = summary(SHAPES[0].0);
    assert_eq!(canonical[0]["decision"], "contain");
    assert!(
        canonical[0]["actions"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
}

#[test]
fn security_hub_with_two_instances_is_notified_with_the_reason() {
    let text = std::fs::read_to_string(event("shape-securityhub-get-findings.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let resources = doc["Findings"][0]["Resources"].as_array_mut().unwrap();
    let mut other = resources[0].clone();
    other["Id"] = "arn:aws:ec2:us-east-1:123456789012:instance/i-0fedcba9876543210".into();
    resources.push(other);
    let dir = std::env::temp_dir().join(format!("input-shapes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("two-instances.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let (ok, out, stderr) = replay(file.to_str().unwrap());
    std::fs::remove_dir_all(&dir).ok();
    assert!(ok, "{stderr}");
    let plan = &out["plans"][0];
    assert_eq!(plan["decision"], "notify");
    assert!(plan["actions"].as_array().is_some_and(|a| a.is_empty()));
    let reason = plan["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("2 EC2 instances") && reason.contains("ambiguous"),
        "{reason}"
    );
}

#[test]
fn an_unknown_shape_is_one_error_line_listing_the_accepted_shapes() {
    let dir = std::env::temp_dir().join(format!("input-shapes-unknown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("unknown.json");
    std::fs::write(&file, br#"{"Records":[{"s3":{"bucket":{"name":"b"}}}]}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_responder"))
        .args(["replay", file.to_str().unwrap()])
        .output()
        .unwrap();
    std::fs::write(&file, br#"{"hello":"world"}"#).unwrap();
    let unknown = Command::new(env!("CARGO_BIN_EXE_responder"))
        .args(["replay", file.to_str().unwrap()])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("Records[0]"),
        "{stderr}"
    );
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for shape in ["SNS", "SQS", "Security Hub", "Entries", "JSON Lines"] {
        assert!(stderr.contains(shape), "{shape}: {stderr}");
    }
}
