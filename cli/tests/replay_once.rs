//! `responder replay --execute` ten times at once on one finding, as on-call might while
//! the Lambda function also acts: with the shared idempotency table (moto's DynamoDB),
//! one run contains (one snapshot per volume, one full Slack alert), the others report
//! `already_done` or that another run is containing it.

use integration_tests::proxy::Proxy;
use integration_tests::webhook::Webhook;
use integration_tests::world::{self, Aws};
use integration_tests::{idempotency_table, moto};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_overlapping_replays_contain_once() {
    let aws = Aws::moto("us-east-1").await;
    let net = world::network(&aws).await;
    let table = idempotency_table::create(&aws.config).await;
    let hook = Webhook::start(vec![]).await;
    // Through the test proxy, which makes moto's conditional writes atomic as DynamoDB's are.
    let proxy = Proxy::start(&moto::shared().endpoint()).await;
    let instance = world::two_eni_instance(&aws, &net).await;
    let id = world::unique_finding_id();
    let event = world::finding_event(
        "ec2-defense-evasion-kernel-module.json",
        &id,
        "us-east-1",
        &instance,
        Some(&net.vpc_id),
    );
    let dir = std::env::temp_dir().join(format!("once-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("finding.json");
    std::fs::write(&file, &event).unwrap();
    let runs = (0..10).map(|_| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_responder"));
        cmd.args(["replay", "--execute", "--output", "json"])
            .arg(&file)
            .env("RESPONDER_IDEMPOTENCY_TABLE", &table)
            .env("RESPONDER_SLACK_WEBHOOK_URL", hook.url())
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    });
    let outputs = futures::future::join_all(runs).await;
    let mut acted = 0;
    for out in outputs {
        let out = out.unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let findings = report["plans"].as_array().cloned().unwrap_or_default();
        let isolated = findings
            .iter()
            .flat_map(|f| f["outcomes"].as_array().cloned().unwrap_or_default())
            .any(|o| o["kind"] == "ec2.isolate_network" && o["status"] == "done");
        acted += usize::from(isolated);
    }
    assert_eq!(acted, 1);
    let volumes = world::describe(&aws, &instance.id)
        .await
        .block_device_mappings()
        .len();
    assert_eq!(world::evidence_snapshots(&aws, &id).await.len(), volumes);
    let full = hook
        .received()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .filter(|b| b.contains(&id) && !b.contains("already contained"))
        .count();
    assert_eq!(full, 1, "one full alert");
    let _ = std::fs::remove_dir_all(&dir);
}
