//! SNS notifications through the real SDK into moto, read back from moto's data endpoint.

use integration_tests::moto;
use integration_tests::moto_data::sns_published;
use integration_tests::world::sdk_config;
use responder::Config;
use responder::notify::sns::SnsNotifier;
use responder::pipeline::{Handled, plan_input};
use responder::plan::ResponsePlan;

fn plan(file: &str) -> ResponsePlan {
    let bytes = std::fs::read(format!("{}/../events/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    match plan_input(&bytes, &Config::default()).unwrap().remove(0) {
        Handled::Plan(p) => *p,
        Handled::NotAFinding { .. } => panic!("{file} is not a finding"),
    }
}

async fn topic(name: &str) -> (aws_config::SdkConfig, String) {
    let sdk = sdk_config(&moto::shared().endpoint(), "us-east-1").await;
    let arn = aws_sdk_sns::Client::new(&sdk)
        .create_topic()
        .name(name)
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    (sdk, arn)
}

#[tokio::test]
async fn subject_body_and_filterable_attributes() {
    let (sdk, arn) = topic("responder-plain").await;
    let notifier = SnsNotifier::new(&sdk, arn.clone(), false);
    for file in [
        "hostile-control-chars.json",
        "hostile-large-command-line.json",
        "sample-flag-in-value.json",
        "eks-execution-reverse-shell.json",
    ] {
        let p = plan(file);
        let d = notifier.publish(&p, &p.notification()).await;
        assert!(d.ok, "{file}: {d:?}");
    }
    let sent = sns_published(&arn).await;
    assert_eq!(sent.len(), 4);
    for (message, subject, attrs) in &sent {
        let subject = subject.as_deref().unwrap();
        assert!(
            subject.len() <= 100 && subject.bytes().all(|b| (0x20..0x7f).contains(&b)),
            "{subject:?}"
        );
        assert!(subject.starts_with("GuardDuty "));
        assert!(message.len() < 64 * 1024, "body is bounded");
        assert!(
            !message
                .chars()
                .any(|c| c != '\n' && responder::sanitize::is_dangerous(c)),
            "control characters in the body"
        );
        for key in [
            "family",
            "severity_label",
            "severity",
            "surface",
            "decision",
            "account_id",
            "finding_type",
        ] {
            assert!(attrs.get(key).is_some(), "attribute {key} missing: {attrs}");
        }
        assert_eq!(attrs["severity"]["Type"], "Number");
    }
    let (_, subject, attrs) = &sent[2];
    assert!(subject.as_deref().unwrap().contains("[SAMPLE]"));
    assert_eq!(attrs["decision"]["Value"], "notify");
    let (body, _, attrs) = &sent[0];
    assert_eq!(attrs["family"]["Value"], "Execution");
    assert_eq!(attrs["surface"]["Value"], "ec2");
    assert!(
        !body.lines().any(|l| l.starts_with("Decision: ignore")),
        "a forged line survived"
    );
}

#[tokio::test]
async fn json_structure_gives_email_text_and_https_a_document() {
    let (sdk, arn) = topic("responder-json").await;
    let p = plan("ecs-fargate-impact-cryptominer.json");
    assert!(
        SnsNotifier::new(&sdk, arn.clone(), true)
            .publish(&p, &p.notification())
            .await
            .ok
    );
    let sent = sns_published(&arn).await;
    let outer: serde_json::Value = serde_json::from_str(&sent[0].0).unwrap();
    assert_eq!(outer["email"], p.notification().text);
    let doc: serde_json::Value = serde_json::from_str(outer["https"].as_str().unwrap()).unwrap();
    assert_eq!(doc["finding_id"], p.finding_id);
    assert_eq!(doc["decision"], "contain");
}

#[tokio::test]
async fn a_missing_topic_is_a_reported_failure() {
    let sdk = sdk_config(&moto::shared().endpoint(), "us-east-1").await;
    let p = plan("eks-execution-reverse-shell.json");
    let d = SnsNotifier::new(
        &sdk,
        "arn:aws:sns:us-east-1:123456789012:does-not-exist".into(),
        false,
    )
    .publish(&p, &p.notification())
    .await;
    assert!(!d.ok && !d.detail.is_empty(), "{d:?}");
}
