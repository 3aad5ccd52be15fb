//! `responder coverage` on the real binary against a local GuardDuty REST-JSON server
//! (through `AWS_ENDPOINT_URL`, as a CI step would point it at AWS): exit codes, text and
//! JSON output, pagination, `--require-tag`, `--resource-type`.

use integration_tests::guardduty_api::{GuardDutyApi, World, ec2, ecs, eks};
use serde_json::Value;
use std::process::{Command, Output};

const ACCOUNT: &str = "123456789012";

fn world(resources: Vec<Value>) -> World {
    World {
        detectors: vec!["4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6".into()],
        resources,
        page_size: 1,
        tags: vec![],
        findings: vec![],
    }
}

fn unhealthy() -> Vec<Value> {
    vec![
        eks(
            ACCOUNT,
            "prod-a",
            "UNHEALTHY",
            Some("EKS add-on is not installed"),
        ),
        eks(ACCOUNT, "prod-b", "HEALTHY", None),
        ec2(
            ACCOUNT,
            "i-0aaa",
            "UNHEALTHY",
            Some("The EC2 instance is not managed by SSM"),
        ),
        ecs(
            ACCOUNT,
            "web",
            "UNHEALTHY",
            &["Task definition \u{1b}[2Jevil <!channel> cannot run the agent"],
        ),
    ]
}

async fn responder(api: &GuardDutyApi, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_responder"));
    cmd.arg("coverage")
        .args(args)
        .env("AWS_ENDPOINT_URL", api.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn unhealthy_resources_fail_the_gate_with_their_issues() {
    let api = GuardDutyApi::start(world(unhealthy())).await;
    let out = responder(&api, &[]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("3 unhealthy"), "{text}");
    assert!(text.contains("By status: HEALTHY 1, UNHEALTHY 3"), "{text}");
    assert!(text.contains("EKS cluster prod-a"), "{text}");
    assert!(
        text.contains("issue: The EC2 instance is not managed by SSM"),
        "{text}"
    );
    assert!(
        text.contains("fix: Automated agent management for EC2"),
        "{text}"
    );
    // Terminal control sequences from the issue are shown, not executed.
    assert!(
        !text.contains('\u{1b}') && text.contains("\\u{1b}[2J"),
        "{text}"
    );
    // Three unhealthy at one per page: three ListCoverage calls.
    let pages = api
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/coverage"))
        .count();
    assert_eq!(pages, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_result_passes() {
    let api = GuardDutyApi::start(world(vec![eks(ACCOUNT, "prod-b", "HEALTHY", None)])).await;
    let out = responder(&api, &["--output", "json"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert_eq!(doc["unhealthy"], serde_json::json!([]));
    assert_eq!(doc["failing"], 0);
    assert_eq!(doc["by_status"]["HEALTHY"], 1);
    assert_eq!(doc["detector_id"], "4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6");
}

#[tokio::test(flavor = "multi_thread")]
async fn require_tag_fails_only_for_tagged_resources() {
    let mut w = world(unhealthy());
    w.tags = vec![(
        format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0aaa"),
        "tier".into(),
        "critical".into(),
    )];
    let api = GuardDutyApi::start(w).await;
    let out = responder(
        &api,
        &["--require-tag", "tier=critical", "--output", "json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["failing"], 1);
    assert_eq!(doc["unhealthy"].as_array().unwrap().len(), 3);
    let failing: Vec<&Value> = doc["unhealthy"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["required"] == true)
        .collect();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0]["name"], "i-0aaa");
    assert_eq!(failing[0]["cause"], "not_ssm_managed");

    // Nothing unhealthy carries the tag: the gate passes, the rest is still listed.
    let out = responder(&api, &["--require-tag", "tier=gold"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("(not tagged)"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn resource_type_and_detector_id_narrow_the_audit() {
    let api = GuardDutyApi::start(world(unhealthy())).await;
    let out = responder(
        &api,
        &[
            "--resource-type",
            "EC2",
            "--detector-id",
            "4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    let names: Vec<&str> = doc["unhealthy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["i-0aaa"]);
    assert_eq!(doc["by_resource_type"], serde_json::json!({"EC2": 1}));
    assert!(!api.calls().iter().any(|c| c.method == "GET"));
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_exit_2_with_one_line() {
    let mut w = world(vec![]);
    w.detectors.push("second".into());
    let api = GuardDutyApi::start(w).await;
    let out = responder(&api, &[]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: 2 GuardDuty detectors"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let out = responder(&api, &["--require-tag", "novalue"]).await;
    assert_eq!(out.status.code(), Some(2));
}
