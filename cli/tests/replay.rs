//! The replay CLI's contract, checked on the real binary: the JSON keys other tools rely
//! on, exit codes, and a one-line `error:` for bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn responder(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_responder"))
        .args(args)
        .env_remove("RESPONDER_CONFIG")
        .env_remove("RESPONDER_PLAYBOOK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn event(name: &str) -> String {
    format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `replay --output json` on `file` (`-` for `stdin`): exit 0 and its JSON document.
fn replay_json(file: &str, stdin: &[u8]) -> serde_json::Value {
    let out = responder(&["replay", file, "--output", "json"], stdin);
    assert!(
        out.status.success(),
        "{file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_output_carries_the_contract_keys() {
    let doc = replay_json(&event("ec2-defense-evasion-kernel-module.json"), b"");
    let plan = &doc["plans"][0];
    for key in [
        "finding_id",
        "finding_type",
        "family",
        "surface",
        "severity",
        "severity_label",
        "account_id",
        "region",
        "sample",
        "decision",
        "reason",
        "actions",
        "notification",
    ] {
        assert!(plan.get(key).is_some(), "missing {key}");
    }
    assert_eq!(plan["family"], "DefenseEvasion");
    assert_eq!(plan["surface"], "ec2");
    assert_eq!(plan["decision"], "contain");
    assert!(plan["severity"].is_number() && plan["sample"].is_boolean());
    let actions = plan["actions"].as_array().unwrap();
    assert!(
        actions
            .iter()
            .all(|a| a["kind"].is_string() && a["target"].is_object())
    );
    assert!(actions.iter().any(|a| a["kind"] == "ec2.isolate_network"));
    let n = &plan["notification"];
    assert!(
        n["subject"].is_string()
            && n["text"].is_string()
            && n["html"].is_string()
            && n["slack"]["blocks"].is_array()
    );
}

#[test]
fn stdin_and_every_shape_are_accepted() {
    let bytes = std::fs::read(event("get-findings-output.json")).unwrap();
    let out = responder(&["replay", "-", "--output", "json"], &bytes);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["plans"].as_array().unwrap().len(), 2);
    let out = responder(
        &["replay", &event("runtime-protection-unhealthy.json")],
        b"",
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Not a finding"));
    // EBS's snapshot notification (the ec2 function's forensic-copy trigger) is not a
    // finding either, and replay says what it is for.
    let out = responder(&["replay", &event("ebs-snapshot-completed.json")], b"");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Not a finding: an EBS") && text.contains("forensic snapshot copies"),
        "{text}"
    );
}

#[test]
fn bad_input_exits_2_with_one_error_line() {
    let cases: [(&str, &[u8]); 5] = [
        ("empty", b""),
        ("not json", b"{nope"),
        ("array", b"[]"),
        ("finding without id", br#"{"detail-type":"GuardDuty Finding","source":"aws.guardduty","detail":{"type":"Execution:Runtime/ReverseShell"}}"#),
        ("binary", &[0xff, 0xfe, 0x00, 0x7b]),
    ];
    for (name, input) in cases {
        let out = responder(&["replay", "-", "--output", "json"], input);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.starts_with("error: "), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}");
    }
    let out = responder(
        &["replay", "-"],
        br#"{"detail-type":"GuardDuty Finding","source":"aws.guardduty","detail":{"type":"x"}}"#,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("detail.id"));
    let out = responder(&["replay", "/nonexistent/file.json"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_config_file_changes_the_decision() {
    let dir = std::env::temp_dir().join(format!("responder-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("config.json");
    std::fs::write(
        &cfg,
        r#"{"playbook":{"rules":[{"families":["Discovery"],"decision":"contain"}]}}"#,
    )
    .unwrap();
    let out = responder(
        &[
            "replay",
            &event("eks-discovery-suspicious-command.json"),
            "--output",
            "json",
            "--config",
            cfg.to_str().unwrap(),
        ],
        b"",
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["plans"][0]["decision"], "contain");
    std::fs::write(&cfg, r#"{"playbook":{"rulez":[]}}"#).unwrap();
    let out = responder(
        &[
            "replay",
            &event("eks-discovery-suspicious-command.json"),
            "--config",
            cfg.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rulez"));
}

#[test]
fn every_event_file_replays_with_exit_0() {
    let dir = format!("{}/../events", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".json"))
        .collect();
    files.sort();
    assert!(files.len() > 30);
    for file in files {
        let doc = replay_json(&event(&file), b"");
        let handled =
            doc["plans"].as_array().unwrap().len() + doc["not_findings"].as_array().unwrap().len();
        assert!(handled > 0, "{file}");
    }
}

#[test]
fn degraded_values_and_the_api_shape_are_handled_not_rejected() {
    let doc = replay_json(&event("degraded-fields.json"), b"");
    assert_eq!(doc["plans"][0]["decision"], "contain");
    let api = std::fs::read(event("guardduty-api-findings.json")).unwrap();
    let doc = replay_json("-", &api);
    assert_eq!(doc["plans"].as_array().unwrap().len(), 2);
}
