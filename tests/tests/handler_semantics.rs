//! The shared Lambda handler's guarantees, against moto: a containment failure is still
//! notified (marked FAILED) and makes the invocation fail; the rate limit downgrades to
//! notify-only only when it can count; cross-account findings act with the member account's assumed role; the
//! webhook URL is read from Secrets Manager.

use integration_tests::moto;
use integration_tests::webhook::Webhook;
use integration_tests::world::sdk_config;
use responder::Config;
use responder::classify::Surface;
use responder::execute::Executor;
use responder::lambda::accounts::Accounts;
use responder::lambda::settings::Settings;
use responder::lambda::{Handler, HandlerError};
use responder::notify::{Notifier, NotifySettings};
use responder::outcome::{Outcome, Status};
use responder::plan::ResponsePlan;
use std::collections::HashMap;

/// An executor that fails one step, as AccessDenied would.
struct FailingExecutor;

impl Executor for FailingExecutor {
    fn required_permissions(&self) -> &'static [&'static str] {
        &[]
    }
    async fn execute(&self, plan: &ResponsePlan) -> Vec<Outcome> {
        plan.actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let status = if i == 1 { Status::Failed } else { Status::Done };
                Outcome::new(
                    a.kind,
                    a.target.to_string(),
                    status,
                    if i == 1 { "AccessDenied" } else { "" },
                )
            })
            .collect()
    }
}

fn event(file: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../events/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn settings(vars: &[(&str, &str)]) -> Settings {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_env(|k| map.get(k).cloned()).unwrap()
}

type TestHandler = Handler<(
    Surface,
    fn(&aws_config::SdkConfig, &Config) -> FailingExecutor,
)>;

async fn handler(vars: &[(&str, &str)], hook: &Webhook) -> TestHandler {
    handler_with(Config::default(), vars, hook).await
}

async fn handler_with(config: Config, vars: &[(&str, &str)], hook: &Webhook) -> TestHandler {
    let sdk = sdk_config(&moto::shared().endpoint(), "us-east-1").await;
    let mut vars = vars.to_vec();
    let url = hook.url();
    vars.push(("RESPONDER_SLACK_WEBHOOK_URL", &url));
    let s = settings(&vars);
    let notifier = Notifier::new(&sdk, &s.notify).await;
    let build: fn(&aws_config::SdkConfig, &Config) -> FailingExecutor = |_, _| FailingExecutor;
    Handler::new(config, s, (Surface::Ec2, build), notifier, sdk)
}

/// An attack sequence spans surfaces; the ec2 function contains only EC2 resources and
/// says which surfaces it left to no one.
#[tokio::test]
async fn an_attack_sequence_on_another_surface_is_notified_with_why() {
    let hook = Webhook::start(vec![]).await;
    let config = Config::from_document(
        r#"{"playbook": {"rules": [{"families": ["AttackSequence"], "decision": "contain"}]}}"#,
        "test",
    )
    .unwrap();
    let h = handler_with(config, &[("RESPONDER_MODE", "enforce")], &hook).await;
    let r = h
        .handle(&event("attack-sequence-ecs-compromised-cluster.json"), None)
        .await
        .unwrap();
    assert_eq!(r[0].plan.decision, responder::Decision::Notify);
    assert!(r[0].outcomes.is_empty());
    assert!(
        r[0].plan.reason.contains("no executor deployed for ecs"),
        "{}",
        r[0].plan.reason
    );
    let sent = r[0].notification.as_ref().expect("an alert is due");
    assert!(
        sent.text.starts_with("GuardDuty attack sequence"),
        "{}",
        sent.text
    );
}

#[tokio::test]
async fn a_containment_failure_is_notified_as_failed_and_fails_the_invocation() {
    let hook = Webhook::start(vec![]).await;
    let h = handler(&[("RESPONDER_MODE", "enforce")], &hook).await;
    let err = h
        .handle(
            &event("ec2-defense-evasion-kernel-module.json"),
            Some("123456789012"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::ContainmentFailed(_)), "{err}");
    let sent = hook.received();
    assert_eq!(sent.len(), 1, "the failure must still be notified");
    let body = String::from_utf8_lossy(&sent[0].body);
    assert!(
        body.contains("[FAILED]") && body.contains("AccessDenied"),
        "{body}"
    );
}

#[tokio::test]
async fn dry_run_changes_nothing_and_other_surfaces_are_only_notified() {
    let hook = Webhook::start(vec![]).await;
    let h = handler(&[("RESPONDER_MODE", "dry-run")], &hook).await;
    let r = h
        .handle(&event("ec2-defense-evasion-kernel-module.json"), None)
        .await
        .unwrap();
    assert!(r[0].outcomes.is_empty(), "dry run executed something");
    let h = handler(&[("RESPONDER_MODE", "enforce")], &hook).await;
    let r = h
        .handle(&event("eks-execution-reverse-shell.json"), None)
        .await
        .unwrap();
    assert_eq!(r[0].plan.decision, responder::Decision::Notify);
    assert!(
        r[0].plan.reason.contains("no executor deployed for eks")
            && r[0].plan.reason.contains("only ec2"),
        "{}",
        r[0].plan.reason
    );
}

/// A budget with no table to count in: the guardrail must then fail open (never stop all
/// containment). The limit itself is tested against moto's DynamoDB in `rate_limit.rs`.
#[tokio::test]
async fn an_unreadable_rate_counter_does_not_block_containment() {
    let hook = Webhook::start(vec![]).await;
    let h = handler(
        &[
            ("RESPONDER_MODE", "enforce"),
            ("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", "1"),
        ],
        &hook,
    )
    .await;
    let err = h
        .handle(&event("ec2-defense-evasion-kernel-module.json"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, HandlerError::ContainmentFailed(_)),
        "the executor should have run: {err}"
    );
}

#[tokio::test]
async fn member_account_findings_use_the_assumed_role() {
    let sdk = sdk_config(&moto::shared().endpoint(), "us-east-1").await;
    let accounts = Accounts::new(sdk.clone(), Some("GuardDutyResponderMember".into()), None);
    let member = accounts
        .for_account("210987654321", Some("123456789012"), "aws", "abc123")
        .await;
    let who = aws_sdk_sts::Client::new(&member)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.account(), Some("210987654321"));
    assert!(
        who.arn()
            .unwrap()
            .contains("GuardDutyResponderMember/guardduty-abc123"),
        "{:?}",
        who.arn()
    );
    let own = accounts
        .for_account("123456789012", Some("123456789012"), "aws", "abc123")
        .await;
    let who = aws_sdk_sts::Client::new(&own)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_ne!(who.account(), Some("210987654321"));
}

#[tokio::test]
async fn the_webhook_url_is_read_once_from_secrets_manager() {
    let sdk = sdk_config(&moto::shared().endpoint(), "us-east-1").await;
    let hook = Webhook::start(vec![]).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    // Local test server: plain http is accepted only via RESPONDER_SLACK_WEBHOOK_URL, so the
    // secret holds an https URL and we check it is read; an empty secret disables Slack.
    let arn = secrets
        .create_secret()
        .name("slack-webhook")
        .secret_string(r#"{"url":"https://hooks.slack.com/services/T/B/x"}"#)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let url = responder::notify::secret::read_webhook_url(&sdk, &arn)
        .await
        .unwrap();
    assert_eq!(url.expose(), "https://hooks.slack.com/services/T/B/x");
    let empty = secrets
        .create_secret()
        .name("slack-webhook-empty")
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let n = Notifier::new(
        &sdk,
        &NotifySettings {
            slack_secret_arn: Some(empty),
            ..NotifySettings::default()
        },
    )
    .await;
    assert!(
        !n.is_enabled(),
        "an empty secret must disable Slack, not fail the cold start"
    );
    drop(hook);
}

#[tokio::test]
async fn the_webhook_url_can_also_be_an_ssm_secure_string() {
    let sdk = sdk_config(&moto::shared().endpoint(), "us-east-1").await;
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name("/responder/slack-webhook")
        .value("https://hooks.slack.com/services/T/B/ssm")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let arn = "arn:aws:ssm:us-east-1:123456789012:parameter/responder/slack-webhook";
    let url = responder::notify::secret::read_webhook_url(&sdk, arn)
        .await
        .unwrap();
    assert_eq!(url.expose(), "https://hooks.slack.com/services/T/B/ssm");
    assert!(
        !format!("{url:?}").contains("hooks.slack.com"),
        "the URL must never be printed"
    );
}
