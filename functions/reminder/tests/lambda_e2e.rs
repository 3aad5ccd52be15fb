//! The real `responder-reminder` binary under a local Lambda Runtime API, configured as
//! Terraform configures it (`RESPONDER_REMINDER_MIN_AGE_HOURS`, SNS topic, Slack webhook):
//! with nothing old contained it sends nothing; once a quarantine is older than the
//! configured age it is posted to SNS and Slack, with its Release button.

use integration_tests::function_env::FunctionEnv;
use integration_tests::runtime_api::RuntimeApi;
use integration_tests::world::{self, Aws};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::actions::tags::QUARANTINED_AT_KEY;
use responder::execute::Executor;
use responder::interaction::{ButtonAction, Reference};
use responder::outcome::any_failed;
use serde_json::Value;

const FUNCTION: &str = "guardduty-responder-reminder";
const SCHEDULED: &[u8] = br#"{"version":"0","source":"guardduty-responder.scheduler","detail-type":"Scheduled Quarantine Reminder","detail":{}}"#;
const REGION: &str = "us-east-1";

#[tokio::test(flavor = "multi_thread")]
async fn posts_only_quarantines_older_than_the_configured_age_to_sns_and_slack() {
    let aws = Aws::moto(REGION).await;
    let fx = FunctionEnv::start(&aws.config, "responder-reminder-e2e").await;
    let env = fx.env(&[("RESPONDER_REMINDER_MIN_AGE_HOURS", "48".into())]);
    let api = RuntimeApi::start().await;
    let _function = api.run(env!("CARGO_BIN_EXE_responder-reminder"), FUNCTION, &env);

    let net = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    let fid = world::unique_finding_id();
    let event = world::finding_event(
        "ec2-defense-evasion-kernel-module.json",
        &fid,
        REGION,
        &inst,
        Some(&net.vpc_id),
    );
    let plan = world::contain_plan(&event, &Config::default());
    assert!(!any_failed(
        &Ec2Executor::new(&aws.config).execute(&plan).await
    ));

    // Contained just now: younger than 48 h, nothing is sent.
    let first = api.call("young", SCHEDULED.to_vec()).await;
    assert!(first.ok, "{:?}", first.body);
    assert_eq!(
        (first.body["contained"].as_u64(), first.body["due"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(fx.slack().is_empty() && fx.sns().await.is_empty());

    // Three days later (as its tag says): posted to both, once.
    let at = (chrono::Utc::now() - chrono::Duration::days(3)).format("%Y-%m-%dT%H:%M:%SZ");
    world::set_tag(&aws, &inst.id, QUARANTINED_AT_KEY, &at.to_string()).await;
    let second = api.call("old", SCHEDULED.to_vec()).await;
    assert!(second.ok, "{:?}", second.body);
    assert_eq!(second.body["due"].as_u64(), Some(1));
    let slack = fx.slack();
    assert_eq!(slack.len(), 1);
    let body: Value = serde_json::from_str(&slack[0]).unwrap();
    let button = body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .map(|b| b["elements"][0].clone())
        .expect("a Release button");
    assert_eq!(button["action_id"], ButtonAction::Release.action_id());
    let r = Reference::parse(button["value"].as_str().unwrap()).unwrap();
    assert_eq!(
        (r.action, r.finding_id.as_str(), r.region.as_str()),
        (ButtonAction::Release, fid.as_str(), REGION)
    );
    let sns = fx.sns().await;
    assert_eq!(sns.len(), 1);
    assert_eq!(sns[0].2["kind"]["Value"], "reminder");
    assert_eq!(sns[0].2["due"]["Value"], "1");
    assert!(
        sns[0].0.contains(&format!(
            "responder release ec2 {} --region {REGION} --execute",
            inst.id
        )),
        "{}",
        sns[0].0
    );
    assert!(
        sns[0]
            .1
            .as_deref()
            .unwrap_or("")
            .contains("1 quarantine older than 2d 0h"),
        "{:?}",
        sns[0].1
    );
}
