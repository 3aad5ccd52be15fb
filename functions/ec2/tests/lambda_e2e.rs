//! The real `responder-ec2` binary under a local Lambda Runtime API, with AWS calls going
//! to moto (CloudWatch to the local RPC v2 CBOR server) and Slack to a local webhook: the
//! world ends up quarantined, notifications say what was done, the containment is counted
//! on the rate-limit metric, re-delivery is idempotent, and bad events come back as errors.

use integration_tests::function_env::FunctionEnv;
use integration_tests::runtime_api::RuntimeApi;
use integration_tests::world::{self, Aws};

#[tokio::test(flavor = "multi_thread")]
async fn contains_notifies_and_is_idempotent_under_the_runtime_api() {
    let aws = Aws::moto("us-east-1").await;
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
    let fx = FunctionEnv::start(&aws.config, "responder-e2e").await;
    let api = RuntimeApi::start().await;
    let function = api.run(
        env!("CARGO_BIN_EXE_responder-ec2"),
        "guardduty-responder-ec2",
        &fx.env(&[("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", "10".into())]),
    );

    let first = api.call("req-1", event.clone()).await;
    assert!(
        first.ok,
        "{:?} / init errors {:?}",
        first.body,
        api.init_errors()
    );
    eprintln!(
        "cold start to first response (process start → contained and notified): {:?}",
        first.at - function.started
    );
    let outcomes = first.body["handled"][0]["outcomes"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!outcomes.is_empty());
    assert!(
        outcomes
            .iter()
            .all(|o| o["status"] == "done" || o["status"] == "skipped"),
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|o| o["kind"] == "ec2.isolate_network" && o["status"] == "done")
    );

    // The world: every ENI in the no-rules isolation group only.
    for eni in &instance.enis {
        let groups = world::eni_groups(&aws, &eni.id).await;
        assert_eq!(groups.len(), 1, "{groups:?}");
        assert!(
            !groups.iter().any(|g| eni.groups.contains(g)),
            "an original group is still attached"
        );
    }
    assert!(
        world::tags(&aws, &instance.id)
            .await
            .values()
            .any(|v| v == &finding_id),
        "instance not tagged with the finding"
    );

    // Notifications after containment, with the outcomes.
    let slack = fx.slack();
    assert_eq!(slack.len(), 1);
    let text = &slack[0];
    assert!(
        text.contains("ec2.isolate_network") && text.contains("*done*"),
        "{text}"
    );
    let sns = fx.sns().await;
    assert_eq!(sns.len(), 1);
    assert!(
        sns[0].0.contains("ec2.isolate_network") && sns[0].0.contains(": done"),
        "{}",
        sns[0].0
    );

    // The containment was counted on the global budget.
    assert_eq!(fx.contained_this_hour().await, 1);

    // Re-delivery: nothing changes, a short update is sent.
    let snapshots = world::evidence_snapshots(&aws, &finding_id).await.len();
    assert!(snapshots >= 1);
    let second = api.call("req-2", event).await;
    assert!(second.ok, "{:?}", second.body);
    let outcomes = second.body["handled"][0]["outcomes"].as_array().unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| o["status"] == "already_done" || o["status"] == "skipped"),
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|o| o["kind"] == "ec2.isolate_network" && o["status"] == "already_done")
    );
    assert_eq!(
        world::evidence_snapshots(&aws, &finding_id).await.len(),
        snapshots,
        "one snapshot per volume, not per delivery"
    );
    let update = &fx.slack()[1];
    assert!(update.contains("still active"), "{update}");
    assert_eq!(
        fx.contained_this_hour().await,
        1,
        "an already-contained finding is not counted again"
    );

    // An unreadable event is an error (Lambda retries, then dead-letters it), not a crash.
    let third = api
        .call(
            "req-3",
            b"{\"detail-type\":\"GuardDuty Finding\",\"source\":\"aws.guardduty\",\"detail\":{}}"
                .to_vec(),
        )
        .await;
    assert!(!third.ok);
    assert_eq!(third.body["errorType"], "UnreadableEvent");
    assert!(
        third.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("detail.id")
    );

    // Still alive after an error.
    let fourth = api
        .call(
            "req-4",
            std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../events/non-runtime-port-probe.json"
            ))
            .unwrap(),
        )
        .await;
    assert!(
        fourth.ok && fourth.body["handled"][0]["decision"] == "ignore",
        "{:?}",
        fourth.body
    );
}
