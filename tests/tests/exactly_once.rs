//! One containment per finding, however often it arrives: ten overlapping deliveries of
//! one finding through the Lambda handler (the CLI's: `cli/tests/replay_once.rs`),
//! against moto (EC2 and the idempotency table in DynamoDB) and the local Slack webhook.
//! One run contains (one snapshot per volume, one full alert); the others report
//! `already_done` with at most the short update, or are told to retry. A run killed
//! between steps is taken over once its record expires, without duplicates.

use integration_tests::idempotency_table;
use integration_tests::proxy::Proxy;
use integration_tests::webhook::Webhook;
use integration_tests::world::{self, Aws, Instance, Network};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::classify::Surface;
use responder::execute::Executor;
use responder::idempotency::{self, Claim, Idempotency, RecordSettings};
use responder::lambda::settings::Settings;
use responder::lambda::{Handler, HandlerError};
use responder::notify::Notifier;
use responder::outcome::Status;
use responder::{ActionKind, Decision};
use std::collections::HashMap;
use std::time::Duration;

type Build = fn(&aws_config::SdkConfig, &Config) -> Ec2Executor;

struct Env {
    aws: Aws,
    /// The functions' AWS, through the test proxy (moto's conditional writes made atomic).
    via: aws_config::SdkConfig,
    _proxy: Proxy,
    net: Network,
    hook: Webhook,
    table: String,
}

impl Env {
    async fn new() -> Env {
        let aws = Aws::moto("us-east-1").await;
        let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
        let via = world::sdk_config(&proxy.endpoint(), "us-east-1").await;
        Env {
            via,
            _proxy: proxy,
            net: world::network(&aws).await,
            table: idempotency_table::create(&aws.config).await,
            hook: Webhook::start(vec![]).await,
            aws,
        }
    }

    fn vars(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("RESPONDER_MODE", "enforce".to_owned()),
            ("RESPONDER_SLACK_WEBHOOK_URL", self.hook.url()),
            ("RESPONDER_IDEMPOTENCY_TABLE", self.table.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    async fn handler(&self, extra: &[(&str, &str)]) -> Handler<(Surface, Build)> {
        let env = self.vars(extra);
        let settings = Settings::from_env(|k| env.get(k).cloned()).unwrap();
        let notifier = Notifier::new(&self.via, &settings.notify).await;
        let build: Build = |sdk, _| Ec2Executor::new(sdk);
        Handler::new(
            Config::default(),
            settings,
            (Surface::Ec2, build),
            notifier,
            self.via.clone(),
        )
    }

    /// A new instance and one finding about it: (finding id, event, instance).
    async fn finding(&self) -> (String, Vec<u8>, Instance) {
        let instance = world::two_eni_instance(&self.aws, &self.net).await;
        let id = world::unique_finding_id();
        let event = world::finding_event(
            "ec2-defense-evasion-kernel-module.json",
            &id,
            "us-east-1",
            &instance,
            Some(&self.net.vpc_id),
        );
        (id, event, instance)
    }

    /// Full alerts and short updates the Slack webhook received about `finding_id`.
    fn slack(&self, finding_id: &str) -> (usize, usize) {
        let bodies: Vec<String> = self
            .hook
            .received()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .filter(|b| b.contains(finding_id))
            .collect();
        let short = bodies
            .iter()
            .filter(|b| b.contains("already contained"))
            .count();
        (bodies.len() - short, short)
    }

    async fn volumes(&self, instance: &Instance) -> usize {
        world::describe(&self.aws, &instance.id)
            .await
            .block_device_mappings()
            .len()
    }
}

fn contained(outcomes: &[responder::outcome::Outcome]) -> bool {
    outcomes
        .iter()
        .any(|o| o.kind == ActionKind::Ec2IsolateNetwork && o.status == Status::Done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_overlapping_deliveries_through_the_handler_contain_once() {
    let env = Env::new().await;
    let h = env.handler(&[]).await;
    let (id, event, instance) = env.finding().await;
    let runs = futures::future::join_all((0..10).map(|_| h.handle(&event, None))).await;

    let (mut acted, mut already, mut retry) = (0, 0, Vec::new());
    for r in runs {
        match r {
            Ok(mut responses) => {
                let r = responses.remove(0);
                assert_eq!(r.plan.decision, Decision::Contain);
                if contained(&r.outcomes) {
                    acted += 1;
                } else {
                    assert!(
                        r.repeat && r.outcomes.iter().all(|o| o.status == Status::AlreadyDone),
                        "{:?}",
                        r.outcomes
                    );
                    already += 1;
                }
            }
            Err(HandlerError::InProgress(busy)) => retry.push(busy),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(acted, 1, "already {already}, retry {}", retry.len());
    // Lambda retries the busy ones: now the record is completed.
    for _ in &retry {
        let r = h.handle(&event, None).await.expect("after completion");
        assert!(r[0].repeat, "{:?}", r[0].outcomes);
    }
    let volumes = env.volumes(&instance).await;
    assert!(volumes >= 1);
    assert_eq!(
        world::evidence_snapshots(&env.aws, &id).await.len(),
        volumes
    );
    let (full, short) = env.slack(&id);
    assert_eq!(full, 1, "one full alert");
    assert!(short <= 9, "{short} short updates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_between_steps_is_taken_over_after_its_record_expires() {
    let env = Env::new().await;
    let h = env
        .handler(&[("RESPONDER_IDEMPOTENCY_IN_PROGRESS_SECONDS", "2")])
        .await;
    let (id, event, instance) = env.finding().await;

    // The first run claims the finding, records the prior state and isolates, then dies:
    // its record stays IN_PROGRESS and no snapshot, tag or alert was made.
    let plan = world::contain_plan(&event, &Config::default());
    let record = Idempotency::new(
        &env.aws.config,
        &RecordSettings {
            table: env.table.clone(),
            in_progress_for: Duration::from_secs(2),
            keep_for: Duration::from_secs(3600),
            notify_keep_for: Duration::from_secs(3600),
        },
    );
    assert!(matches!(
        record.claim(&idempotency::key(&plan)).await,
        Claim::Acquired(_)
    ));
    let mut first_steps = plan.clone();
    first_steps.actions.retain(|a| {
        matches!(
            a.kind,
            ActionKind::Ec2RecordPriorState | ActionKind::Ec2IsolateNetwork
        )
    });
    let done = Ec2Executor::new(&env.aws.config)
        .execute(&first_steps)
        .await;
    assert!(contained(&done));
    assert!(world::evidence_snapshots(&env.aws, &id).await.is_empty());

    // Re-delivered while the record is fresh: not acted on, retried.
    let until = match h.handle(&event, None).await {
        Err(HandlerError::InProgress(busy)) => busy.until,
        other => panic!("not told to retry: {other:?}"),
    };
    // After expiry (whole seconds: strictly past `until`) the re-delivery takes over and
    // completes the containment.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let wait = Duration::from_secs(until + 1).saturating_sub(now) + Duration::from_millis(100);
    assert!(
        wait <= Duration::from_secs(4),
        "expiry {until} is not 2 s away"
    );
    tokio::time::sleep(wait).await;
    let r = h.handle(&event, None).await.expect("takes over").remove(0);
    assert!(
        !responder::outcome::any_failed(&r.outcomes),
        "{:?}",
        r.outcomes
    );
    let status = |k| r.outcomes.iter().find(|o| o.kind == k).map(|o| o.status);
    assert_eq!(
        status(ActionKind::Ec2IsolateNetwork),
        Some(Status::AlreadyDone)
    );
    assert_eq!(status(ActionKind::Ec2SnapshotVolumes), Some(Status::Done));
    // And once more: completed, nothing new.
    let again = h.handle(&event, None).await.expect("completed").remove(0);
    assert!(again.repeat);
    assert_eq!(
        world::evidence_snapshots(&env.aws, &id).await.len(),
        env.volumes(&instance).await
    );
}

/// GuardDuty re-publishes an active finding with a higher count: a notify-only finding gets
/// one full alert, then short updates, and a full alert again when its severity changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_republished_notify_only_finding_gets_short_updates_until_it_changes() {
    let env = Env::new().await;
    let h = env.handler(&[]).await;
    let (id, event, _) = env.finding().await;
    let publish = |severity: f64, count: i64| {
        let mut v: serde_json::Value = serde_json::from_slice(&event).unwrap();
        v["detail"]["severity"] = severity.into();
        v["detail"]["service"]["count"] = count.into();
        serde_json::to_vec(&v).unwrap()
    };
    let mut repeats = Vec::new();
    for (severity, count) in [(5.0, 1), (5.0, 2), (5.0, 3), (6.0, 4)] {
        let r = h.handle(&publish(severity, count), None).await.unwrap();
        assert_eq!(r[0].plan.decision, Decision::Notify);
        repeats.push(r[0].repeat);
    }
    assert_eq!(repeats, [false, true, true, false]);
    let bodies: Vec<String> = env
        .hook
        .received()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .filter(|b| b.contains(&id))
        .collect();
    let short = bodies
        .iter()
        .filter(|b| b.contains("still active (count"))
        .count();
    assert_eq!((bodies.len() - short, short), (2, 2), "{bodies:#?}");
}
