//! The containment rate limit through the shared Lambda handler, with the real EC2
//! executor against moto and the `GuardDutyResponder/Containments` metric on the local
//! CloudWatch server (moto 5.2.5 does not speak the SDK's RPC v2 CBOR protocol): under the
//! limit findings are contained and counted; once the last hour holds N containments of
//! this function, the next containment is downgraded to notify-only and says so; the
//! count is shared by separate cold starts; an unreadable metric does not block.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use integration_tests::cloudwatch_api::{CloudWatchApi, Datum};
use integration_tests::moto;
use integration_tests::webhook::Webhook;
use integration_tests::world::{self, Aws, Instance, Network};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::classify::Surface;
use responder::lambda::Handler;
use responder::lambda::rate_limit::{METRIC, NAMESPACE};
use responder::lambda::settings::Settings;
use responder::notify::Notifier;
use responder::outcome::Status;
use responder::respond::Response;
use responder::{ActionKind, Decision};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

type Build = fn(&aws_config::SdkConfig, &Config) -> Ec2Executor;

/// A cold start of the EC2 function named `function`, CloudWatch on `cw`, Slack on `hook`.
async fn cold_start(
    function: &str,
    limit: u32,
    cw: &CloudWatchApi,
    hook: &Webhook,
) -> Handler<(Surface, Build)> {
    let sdk = cw.route(&world::sdk_config(&moto::shared().endpoint(), "us-east-1").await);
    let vars: HashMap<&str, String> = HashMap::from([
        ("RESPONDER_MODE", "enforce".to_owned()),
        ("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", limit.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("RESPONDER_SLACK_WEBHOOK_URL", hook.url()),
    ]);
    let settings = Settings::from_env(|k| vars.get(k).cloned()).unwrap();
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

fn event(net: &Network, instance: &Instance) -> Vec<u8> {
    world::finding_event(
        "ec2-defense-evasion-kernel-module.json",
        &world::unique_finding_id(),
        "us-east-1",
        instance,
        Some(&net.vpc_id),
    )
}

/// This function's containment datapoints stored by the server.
fn containments(cw: &CloudWatchApi, function: &str) -> Vec<Datum> {
    cw.data()
        .into_iter()
        .filter(|d| {
            d.namespace == NAMESPACE
                && d.metric == METRIC
                && d.dimensions == [("Function".to_owned(), function.to_owned())]
        })
        .collect()
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

/// Puts a datapoint as another writer would, through the real SDK.
async fn put(cw: &CloudWatchApi, function: &str, value: f64, age: Duration) {
    let sdk = cw.route(&world::sdk_config(&moto::shared().endpoint(), "us-east-1").await);
    aws_sdk_cloudwatch::Client::new(&sdk)
        .put_metric_data()
        .namespace(NAMESPACE)
        .metric_data(
            MetricDatum::builder()
                .metric_name(METRIC)
                .dimensions(
                    Dimension::builder()
                        .name("Function")
                        .value(function)
                        .build(),
                )
                .timestamp(DateTime::from(SystemTime::now() - age))
                .value(value)
                .unit(StandardUnit::Count)
                .build(),
        )
        .send()
        .await
        .expect("PutMetricData on the local CloudWatch server");
}

#[tokio::test]
async fn past_the_hourly_limit_a_finding_is_only_notified_and_says_why() {
    let limit = 2u32;
    let function = "guardduty-responder-ec2-rate";
    let cw = CloudWatchApi::start().await;
    let hook = Webhook::start(vec![]).await;
    let aws = Aws::moto("us-east-1").await;
    let net = world::network(&aws).await;
    let mut instances = Vec::new();
    for _ in 0..=limit {
        instances.push(world::two_eni_instance(&aws, &net).await);
    }
    // What must not count: this function's containments of two hours ago, and another
    // function's of now.
    put(
        &cw,
        function,
        f64::from(limit) * 5.0,
        Duration::from_secs(2 * 3600),
    )
    .await;
    put(
        &cw,
        "another-function",
        f64::from(limit) * 5.0,
        Duration::ZERO,
    )
    .await;

    let first = cold_start(function, limit, &cw, &hook).await;
    for (i, instance) in instances.iter().take(limit as usize).enumerate() {
        let r = first.handle(&event(&net, instance), None).await.unwrap();
        assert_eq!(
            r[0].plan.decision,
            Decision::Contain,
            "{}",
            r[0].plan.reason
        );
        assert!(isolated(&r[0]), "{:?}", r[0].outcomes);
        assert!(
            !untouched(&aws, instance).await,
            "instance {i} not quarantined"
        );
        let recorded = containments(&cw, function);
        // The old datapoint seeded above, then one per containment.
        assert_eq!(recorded.len(), 1 + (i + 1), "one datapoint per containment");
        let last = recorded.last().unwrap();
        assert_eq!((last.sum, last.unit.as_str()), (1.0, "Count"));
    }

    // A separate cold start (no shared memory) still sees the count: the metric is the state.
    let second = cold_start(function, limit, &cw, &hook).await;
    let blocked = &instances[limit as usize];
    let r = second.handle(&event(&net, blocked), None).await.unwrap();
    let plan = &r[0].plan;
    assert_eq!(plan.decision, Decision::Notify);
    assert!(
        plan.reason.contains("rate limit")
            && plan
                .reason
                .contains(&format!("{limit} of {limit} per hour")),
        "{}",
        plan.reason
    );
    assert!(
        plan.actions.is_empty() && r[0].outcomes.is_empty(),
        "{:?}",
        r[0].outcomes
    );
    assert!(
        untouched(&aws, blocked).await,
        "the blocked instance was changed"
    );
    assert_eq!(
        containments(&cw, function).len(),
        1 + limit as usize,
        "a downgraded finding is not counted"
    );
    let slack = hook.received();
    assert_eq!(slack.len(), 1 + limit as usize, "every finding is notified");
    let text = String::from_utf8_lossy(&slack[limit as usize].body).into_owned();
    assert!(text.contains("rate limit reached"), "{text}");
    assert!(!text.contains("isolate_network"), "{text}");

    let reads: Vec<_> = cw
        .calls()
        .into_iter()
        .filter(|c| c.operation == "GetMetricStatistics")
        .collect();
    assert_eq!(
        reads.len(),
        1 + limit as usize,
        "one read per containment decision"
    );
    let window =
        reads[0].body["EndTime"].as_f64().unwrap() - reads[0].body["StartTime"].as_f64().unwrap();
    assert!(
        (window - 3600.0).abs() < 0.01,
        "the last hour: {:?}",
        reads[0].body
    );
}

#[tokio::test]
async fn an_unreadable_metric_does_not_block_and_the_containment_is_still_counted() {
    let function = "guardduty-responder-ec2-denied";
    let cw = CloudWatchApi::start().await;
    cw.fail_reads(Some((403, "AccessDenied")));
    let hook = Webhook::start(vec![]).await;
    let aws = Aws::moto("us-east-1").await;
    let net = world::network(&aws).await;
    let instance = world::two_eni_instance(&aws, &net).await;
    put(&cw, function, 100.0, Duration::ZERO).await;

    let h = cold_start(function, 1, &cw, &hook).await;
    let r = h.handle(&event(&net, &instance), None).await.unwrap();
    assert_eq!(
        r[0].plan.decision,
        Decision::Contain,
        "{}",
        r[0].plan.reason
    );
    assert!(isolated(&r[0]), "{:?}", r[0].outcomes);
    assert!(
        cw.calls()
            .iter()
            .any(|c| c.operation == "GetMetricStatistics")
    );
    assert_eq!(containments(&cw, function).len(), 2);
}
