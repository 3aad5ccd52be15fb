//! The real `responder-ec2` binary under a local Lambda Runtime API, with AWS calls going
//! to moto and Slack to a local webhook: the world ends up quarantined, notifications say
//! what was done, re-delivery is idempotent, and bad events come back as errors.

use integration_tests::moto;
use integration_tests::moto_data::sns_published;
use integration_tests::runtime_api::RuntimeApi;
use integration_tests::webhook::Webhook;
use integration_tests::world::{self, Aws};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Function(Child);

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_function(api: &RuntimeApi, topic_arn: &str, webhook: &str) -> (Function, Instant) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_responder-ec2"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "guardduty-responder-ec2")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "/aws/lambda/guardduty-responder-ec2",
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", moto::shared().endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("RESPONDER_MODE", "enforce")
        .env("RESPONDER_SNS_TOPIC_ARN", topic_arn)
        .env("RESPONDER_SLACK_WEBHOOK_URL", webhook)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the function binary");
    (Function(child), started)
}

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
    let topic_arn = aws_sdk_sns::Client::new(&aws.config)
        .create_topic()
        .name("responder-e2e")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let hook = Webhook::start(vec![]).await;
    let api = RuntimeApi::start().await;
    let (_function, started) = start_function(&api, &topic_arn, &hook.url());

    api.invoke("req-1", event.clone());
    let first = api
        .answer(Duration::from_secs(60))
        .await
        .expect("the function answered");
    assert!(
        first.ok,
        "{:?} / init errors {:?}",
        first.body,
        api.init_errors()
    );
    eprintln!(
        "cold start to first response (process start → contained and notified): {:?}",
        first.at - started
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
    let slack = hook.received();
    assert_eq!(slack.len(), 1);
    let text = String::from_utf8_lossy(&slack[0].body).into_owned();
    assert!(
        text.contains("ec2.isolate_network") && text.contains("*done*"),
        "{text}"
    );
    let sns = sns_published(&topic_arn).await;
    assert_eq!(sns.len(), 1);
    assert!(
        sns[0].0.contains("ec2.isolate_network") && sns[0].0.contains(": done"),
        "{}",
        sns[0].0
    );

    // Re-delivery: nothing changes, a short update is sent.
    let snapshots = world::evidence_snapshots(&aws, &finding_id).await.len();
    assert!(snapshots >= 1);
    api.invoke("req-2", event);
    let second = api
        .answer(Duration::from_secs(60))
        .await
        .expect("second answer");
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
    let update = String::from_utf8_lossy(&hook.received()[1].body).into_owned();
    assert!(update.contains("still active"), "{update}");

    // An unreadable event is an error (Lambda retries, then dead-letters it), not a crash.
    api.invoke(
        "req-3",
        b"{\"detail-type\":\"GuardDuty Finding\",\"source\":\"aws.guardduty\",\"detail\":{}}"
            .to_vec(),
    );
    let third = api
        .answer(Duration::from_secs(30))
        .await
        .expect("third answer");
    assert!(!third.ok);
    assert_eq!(third.body["errorType"], "UnreadableEvent");
    assert!(
        third.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("detail.id")
    );

    // Still alive after an error.
    api.invoke(
        "req-4",
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/non-runtime-port-probe.json"
        ))
        .unwrap(),
    );
    let fourth = api
        .answer(Duration::from_secs(30))
        .await
        .expect("fourth answer");
    assert!(
        fourth.ok && fourth.body["handled"][0]["decision"] == "ignore",
        "{:?}",
        fourth.body
    );
}
