//! The real `responder-ec2` binary under a local Lambda Runtime API, with AWS behind a
//! proxy to moto: a finding's evidence snapshot still pending at `wait_seconds` is copied
//! and shared when EBS's `createSnapshot` notification reaches the same function; a
//! second notification reports it already done; another account's is refused as an
//! error; each is one structured log record.

use integration_tests::function_env::FunctionEnv;
use integration_tests::moto;
use integration_tests::proxy::Proxy;
use integration_tests::runtime_api::RuntimeApi;
use integration_tests::world::{self, Aws};

const PENDING: &str = r#"<DescribeSnapshotsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>pending</requestId><snapshotSet><item><snapshotId>snap-00000000000000000</snapshotId><status>pending</status></item></snapshotSet></DescribeSnapshotsResponse>"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_pending_evidence_snapshot_is_copied_when_ebs_says_it_completed() {
    let aws = Aws::moto("us-east-1").await;
    let proxy = Proxy::start(&moto::shared().endpoint()).await;
    let net = world::network(&aws).await;
    let instance = world::two_eni_instance(&aws, &net).await;
    let finding_id = world::unique_finding_id();
    let event = world::finding_event(
        "ec2-defense-evasion-kernel-module.json",
        &finding_id,
        "us-east-1",
        &instance,
        Some(&net.vpc_id),
    );
    let config = r#"{"ec2":{"forensic_snapshots":{"account_id":"999988887777","kms_key_arn":"arn:aws:kms:us-east-1:999988887777:key/0b4e2c1a-1111-2222-3333-444455556666","wait_seconds":1}}}"#;
    let fx = FunctionEnv::start(&aws.config, "responder-snapshot-e2e").await;
    let api = RuntimeApi::start().await;
    let function = api.run(
        env!("CARGO_BIN_EXE_responder-ec2"),
        "guardduty-responder-ec2",
        &fx.env(&[
            ("AWS_ENDPOINT_URL", proxy.endpoint()),
            ("RESPONDER_CONFIG", config.into()),
        ]),
    );

    proxy.answer("DescribeSnapshots", 200, PENDING, None);
    let contained = api.call("req-1", event).await;
    proxy.clear_faults();
    assert!(
        contained.ok,
        "{:?} / {:?}",
        contained.body,
        api.init_errors()
    );
    let share = contained.body["handled"][0]["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "ec2.share_snapshots")
        .cloned()
        .unwrap();
    assert_eq!(share["status"], "failed", "{share}");
    assert!(
        share["detail"].as_str().unwrap().contains("still pending"),
        "{share}"
    );
    let evidence = world::evidence_snapshots(&aws, &finding_id).await;
    let source = evidence[0].snapshot_id().unwrap().to_owned();

    let copied = api
        .call(
            "req-2",
            world::snapshot_completed_event("123456789012", "us-east-1", &source),
        )
        .await;
    assert!(copied.ok, "{:?}", copied.body);
    assert_eq!(
        copied.body["snapshot"]["status"], "done",
        "{:?}",
        copied.body
    );
    assert_eq!(copied.body["snapshot"]["finding_id"], finding_id.as_str());
    let copies: Vec<_> = world::evidence_snapshots(&aws, &finding_id)
        .await
        .into_iter()
        .filter(|s| {
            s.tags().iter().any(|t| {
                t.key() == Some("guardduty-responder:copy-of") && t.value() == Some(&source)
            })
        })
        .collect();
    assert_eq!(copies.len(), 1);

    let again = api
        .call(
            "req-3",
            world::snapshot_completed_event("123456789012", "us-east-1", &source),
        )
        .await;
    assert!(again.ok, "{:?}", again.body);
    assert_eq!(again.body["snapshot"]["status"], "already_done");

    let foreign = api
        .call(
            "req-4",
            world::snapshot_completed_event("210987654321", "us-east-1", &source),
        )
        .await;
    assert!(!foreign.ok);
    assert_eq!(foreign.body["errorType"], "RefusedSnapshotEvent");

    let lines = function
        .lines_after(|l| {
            l.iter()
                .filter(|l| l.contains("snapshot event handled"))
                .count()
                >= 2
        })
        .await;
    let records: Vec<serde_json::Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["message"] == "snapshot event handled")
        .collect();
    assert_eq!(records.len(), 2, "{lines:?}");
    assert_eq!(records[0]["snapshot_id"], source.as_str());
    assert_eq!(records[0]["status"], "done");
    assert_eq!(records[1]["status"], "already done");
}
