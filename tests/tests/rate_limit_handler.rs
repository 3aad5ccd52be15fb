//! The containment rate limit through the shared Lambda handler, with the real EC2
//! executor against moto, the budgets in moto's DynamoDB, SNS in moto, Slack on the local
//! webhook and CloudWatch on the local server (where the count used to live): the
//! workload's `cloudwatch:PutMetricData` no longer moves the budget; a refused finding is
//! only notified and says why; each tripped budget raises one distinct alert per window;
//! an unreachable table does not stop containment.

use integration_tests::cloudwatch_api::CloudWatchApi;
use integration_tests::moto_data::sns_published;
use integration_tests::webhook::Webhook;
use integration_tests::world::{self, Aws, Instance, Network};
use integration_tests::{moto, rate_table};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::classify::Surface;
use responder::lambda::Handler;
use responder::lambda::settings::Settings;
use responder::notify::Notifier;
use responder::outcome::Status;
use responder::respond::Response;
use responder::{ActionKind, Decision};
use std::collections::HashMap;

type Build = fn(&aws_config::SdkConfig, &Config) -> Ec2Executor;

struct Env {
    aws: Aws,
    net: Network,
    cw: CloudWatchApi,
    hook: Webhook,
    topic: String,
    table: String,
}

impl Env {
    async fn new() -> Env {
        let aws = Aws::moto("us-east-1").await;
        let topic = aws_sdk_sns::Client::new(&aws.config)
            .create_topic()
            .name(format!("rate-{}", world::unique_finding_id()))
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        Env {
            net: world::network(&aws).await,
            table: rate_table::create(&aws.config).await,
            cw: CloudWatchApi::start().await,
            hook: Webhook::start(vec![]).await,
            topic,
            aws,
        }
    }

    /// A cold start of the EC2 function with these budget variables (CloudWatch routed to
    /// the local server, so any CloudWatch call the handler made would be seen there).
    async fn cold_start(&self, vars: &[(&str, &str)]) -> Handler<(Surface, Build)> {
        let sdk = self.cw.route(&self.aws.config);
        let mut env: HashMap<&str, String> = HashMap::from([
            ("RESPONDER_MODE", "enforce".to_owned()),
            ("AWS_LAMBDA_FUNCTION_NAME", "responder-ec2-rate".to_owned()),
            ("RESPONDER_SLACK_WEBHOOK_URL", self.hook.url()),
            ("RESPONDER_SNS_TOPIC_ARN", self.topic.clone()),
            ("RESPONDER_RATE_LIMIT_TABLE", self.table.clone()),
        ]);
        env.extend(vars.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let settings = Settings::from_env(|k| env.get(k).cloned()).unwrap();
        let notifier = Notifier::new(&sdk, &settings.notify).await;
        let build: Build = |sdk, _| Ec2Executor::new(sdk);
        Handler::new(
            Config::default(),
            settings,
            (Surface::Ec2, build),
            notifier,
            sdk,
        )
    }

    /// A finding of `account` about a new instance, and the instance.
    async fn finding(&self, account: &str) -> (Vec<u8>, Instance) {
        let instance = world::two_eni_instance(&self.aws, &self.net).await;
        let bytes = world::finding_event(
            "ec2-defense-evasion-kernel-module.json",
            &world::unique_finding_id(),
            "us-east-1",
            &instance,
            Some(&self.net.vpc_id),
        );
        let mut event: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        event["detail"]["accountId"] = account.into();
        (serde_json::to_vec(&event).unwrap(), instance)
    }

    async fn handle(&self, h: &Handler<(Surface, Build)>, account: &str) -> (Response, Instance) {
        let (event, instance) = self.finding(account).await;
        let mut r = h.handle(&event, None).await.unwrap();
        (r.remove(0), instance)
    }

    /// The rate-limit alerts published to SNS: (subject, attributes).
    async fn sns_alerts(&self) -> Vec<(String, serde_json::Value)> {
        sns_published(&self.topic)
            .await
            .into_iter()
            .filter(|(_, _, attrs)| attrs["kind"]["Value"] == "rate_limit")
            .map(|(_, subject, attrs)| (subject.unwrap_or_default(), attrs))
            .collect()
    }

    fn slack_alerts(&self) -> Vec<String> {
        self.hook
            .received()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .filter(|b| b.contains("GuardDuty responder: containment rate limit reached"))
            .collect()
    }
}

fn isolated(r: &Response) -> bool {
    r.outcomes
        .iter()
        .any(|o| o.kind == ActionKind::Ec2IsolateNetwork && o.status == Status::Done)
}

async fn untouched(aws: &Aws, instance: &Instance) -> bool {
    for eni in &instance.enis {
        let mut now = world::eni_groups(aws, &eni.id).await;
        let mut before = eni.groups.clone();
        now.sort();
        before.sort();
        if now != before {
            return false;
        }
    }
    true
}

/// What the CloudWatch agent's policy lets a workload do: write the old counter metric.
async fn put_old_counter(cw: &CloudWatchApi, function: &str, value: f64) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let sdk = cw.route(&world::sdk_config(&moto::shared().endpoint(), "us-east-1").await);
    let dimension = Dimension::builder()
        .name("Function")
        .value(function)
        .build();
    aws_sdk_cloudwatch::Client::new(&sdk)
        .put_metric_data()
        .namespace("GuardDutyResponder")
        .metric_data(
            MetricDatum::builder()
                .metric_name("Containments")
                .dimensions(dimension)
                .value(value)
                .unit(StandardUnit::Count)
                .build(),
        )
        .send()
        .await
        .expect("PutMetricData on the local CloudWatch server");
}

#[tokio::test]
async fn a_workload_writing_the_old_metric_can_neither_exhaust_nor_reset_the_budget() {
    let env = Env::new().await;
    let h = env
        .cold_start(&[("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", "1")])
        .await;
    // Exhaust: the contained workload claims a thousand containments this hour.
    put_old_counter(&env.cw, "responder-ec2-rate", 1000.0).await;
    let (r, instance) = env.handle(&h, "123456789012").await;
    assert_eq!(r.plan.decision, Decision::Contain, "{}", r.plan.reason);
    assert!(isolated(&r) && !untouched(&env.aws, &instance).await);

    // Reset: a negative datapoint used to bring the sum back under the limit.
    put_old_counter(&env.cw, "responder-ec2-rate", -1000.0).await;
    let (r, instance) = env.handle(&h, "123456789012").await;
    assert_eq!(r.plan.decision, Decision::Notify);
    assert!(
        r.plan.reason.contains("rate limit reached"),
        "{}",
        r.plan.reason
    );
    assert!(r.outcomes.is_empty() && untouched(&env.aws, &instance).await);

    let calls: Vec<String> = env.cw.calls().into_iter().map(|c| c.operation).collect();
    assert_eq!(
        calls,
        ["PutMetricData", "PutMetricData"],
        "only the attacker's"
    );
}

#[tokio::test]
async fn each_tripped_budget_raises_one_distinct_alert_per_window() {
    let env = Env::new().await;
    let h = env
        .cold_start(&[
            ("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", "2"),
            ("RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR", "1"),
        ])
        .await;
    let expect = [
        ("111111111111", true),
        ("111111111111", false), // account budget: alert for account 1111...
        ("111111111111", false), // still refused, no second alert
        ("222222222222", true),  // another account is still contained
        ("333333333333", false), // global budget: alert for all accounts
    ];
    for (account, contained) in expect {
        let (r, instance) = env.handle(&h, account).await;
        assert_eq!(isolated(&r), contained, "{account}: {}", r.plan.reason);
        assert_eq!(untouched(&env.aws, &instance).await, !contained);
    }
    let sns = env.sns_alerts().await;
    let subjects: Vec<&str> = sns.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "GuardDuty responder: containment rate limit reached (account 111111111111)",
            "GuardDuty responder: containment rate limit reached (all accounts)",
        ]
    );
    assert_eq!(sns[0].1["scope"]["Value"], "account");
    assert_eq!(sns[0].1["account_id"]["Value"], "111111111111");
    assert_eq!(sns[1].1["scope"]["Value"], "global");
    assert_eq!(env.slack_alerts().len(), 2, "{:?}", env.slack_alerts());
    // Every finding is still notified on its own (5), besides the two alerts.
    assert_eq!(env.hook.received().len(), 5 + 2);

    // A separate cold start shares the budgets and does not repeat the alerts.
    let second = env
        .cold_start(&[
            ("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", "2"),
            ("RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR", "1"),
        ])
        .await;
    let (r, _) = env.handle(&second, "444444444444").await;
    assert_eq!(r.plan.decision, Decision::Notify, "{}", r.plan.reason);
    assert_eq!(env.sns_alerts().await.len(), 2);
}

#[tokio::test]
async fn a_missing_table_does_not_block_containment() {
    let env = Env::new().await;
    let h = env
        .cold_start(&[
            ("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", "1"),
            ("RESPONDER_RATE_LIMIT_TABLE", "no-such-table"),
        ])
        .await;
    for _ in 0..2 {
        let (r, instance) = env.handle(&h, "123456789012").await;
        assert_eq!(r.plan.decision, Decision::Contain, "{}", r.plan.reason);
        assert!(isolated(&r) && !untouched(&env.aws, &instance).await);
    }
    assert!(env.sns_alerts().await.is_empty());
}

#[tokio::test]
async fn a_redelivered_finding_does_not_spend_the_budget() {
    let env = Env::new().await;
    // One containment and two re-deliveries: without the give-back the third delivery
    // would already be refused.
    let h = env
        .cold_start(&[("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", "2")])
        .await;
    let (event, _) = env.finding("123456789012").await;
    for _ in 0..3 {
        let r = h.handle(&event, None).await.unwrap();
        assert_eq!(
            r[0].plan.decision,
            Decision::Contain,
            "{}",
            r[0].plan.reason
        );
    }
    let (r, _) = env.handle(&h, "123456789012").await;
    assert!(
        isolated(&r),
        "re-deliveries changed nothing, so gave their budget back"
    );
}
