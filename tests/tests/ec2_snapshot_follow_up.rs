//! The follow-up of `ec2.forensic_snapshots` against moto, through the ec2 function's
//! handler: an evidence snapshot still pending when the quarantine stopped waiting is
//! copied and shared when EBS's `createSnapshot` notification arrives; a second event
//! changes nothing; a snapshot the workload forged with the responder's tags is refused;
//! an event from another account or region, or malformed, is an error and nothing is done.

use integration_tests::moto;
use integration_tests::proxy::Proxy;
use integration_tests::world::{self, Aws, show};
use responder::Config;
use responder::actions::ec2::{Ec2Executor, REQUIRED_PERMISSIONS};
use responder::classify::Surface;
use responder::execute::Executor;
use responder::lambda::settings::Settings;
use responder::lambda::{Handler, HandlerError};
use responder::notify::Notifier;
use responder::options::ForensicSnapshots;
use responder::outcome::Status;
use responder::plan::ActionKind;
use serde_json::Value;
use std::collections::BTreeSet;

const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
const REGION: &str = "eu-west-1";
/// moto's account, the function's own here.
const ACCOUNT: &str = "123456789012";
const FORENSIC_ACCOUNT: &str = "999988887777";
const KEY: &str = "arn:aws:kms:eu-west-1:999988887777:key/0b4e2c1a-1111-2222-3333-444455556666";
const COPY_OF: &str = "guardduty-responder:copy-of";

fn forensic() -> ForensicSnapshots {
    ForensicSnapshots {
        account_id: FORENSIC_ACCOUNT.into(),
        kms_key_arn: KEY.into(),
        wait_seconds: 1,
    }
}

fn config() -> Config {
    let mut c = Config::default();
    c.ec2.forensic_snapshots = Some(forensic());
    c
}

type Build = Box<dyn Fn(&aws_config::SdkConfig, &Config) -> Ec2Executor + Send + Sync>;

/// The ec2 function's handler (enforce) on `sdk`, its executor with the record MAC `key`.
fn handler(
    sdk: &aws_config::SdkConfig,
    key: Option<String>,
    mode: &str,
) -> Handler<(Surface, Build)> {
    let settings =
        Settings::from_env(|k| (k == "RESPONDER_MODE").then(|| mode.to_owned())).unwrap();
    let build: Build = Box::new(move |sdk, config| {
        Ec2Executor::from_config(sdk, config).with_record_mac_key(key.clone())
    });
    Handler::new(
        config(),
        settings,
        (Surface::Ec2, build),
        Notifier::disabled(),
        sdk.clone(),
    )
}

/// The copies of `source` (any finding's), by their `copy-of` tag.
async fn copies_of(aws: &Aws, source: &str) -> Vec<String> {
    aws.ec2
        .describe_snapshots()
        .owner_ids("self")
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name(format!("tag:{COPY_OF}"))
                .values(source)
                .build(),
        )
        .send()
        .await
        .expect("DescribeSnapshots")
        .snapshots()
        .iter()
        .filter_map(|s| s.snapshot_id().map(str::to_owned))
        .collect()
}

/// A quarantined instance (with the record MAC `key`) and its evidence snapshots.
struct Contained {
    instance: world::Instance,
    finding: String,
    evidence: Vec<aws_sdk_ec2::types::Snapshot>,
}

async fn contain(
    aws: &Aws,
    via: &Aws,
    key: &str,
    proxy: Option<&Proxy>,
) -> (Contained, Vec<responder::outcome::Outcome>) {
    let net = world::network(aws).await;
    let instance = world::two_eni_instance(aws, &net).await;
    let finding = world::unique_finding_id();
    let event = world::finding_event(SAMPLE, &finding, &net.region, &instance, Some(&net.vpc_id));
    let plan = world::contain_plan(&event, &config());
    let exec =
        Ec2Executor::from_config(&via.config, &config()).with_record_mac_key(Some(key.to_owned()));
    let outcomes = exec.execute(&plan).await;
    if let Some(p) = proxy {
        p.clear_faults();
    }
    let evidence: Vec<_> = world::evidence_snapshots(aws, &finding)
        .await
        .into_iter()
        .filter(|s| world::snapshot_tag(s, COPY_OF).is_none())
        .collect();
    assert!(!evidence.is_empty(), "{}", show(&outcomes));
    (
        Contained {
            instance,
            finding,
            evidence,
        },
        outcomes,
    )
}

/// What DescribeSnapshots says while EBS is still taking the snapshot: the quarantine's
/// wait sees `pending` until its time limit (moto completes snapshots at once).
const PENDING: &str = r#"<DescribeSnapshotsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>pending</requestId><snapshotSet><item><snapshotId>snap-00000000000000000</snapshotId><status>pending</status><progress>10%</progress></item></snapshotSet></DescribeSnapshotsResponse>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_pending_at_the_wait_is_copied_by_its_completion_event_once() {
    let direct = Aws::moto(REGION).await;
    let proxy = Proxy::start(&moto::shared().endpoint()).await;
    let via = Aws::at(&proxy.endpoint(), REGION).await;
    let key = world::hmac_key(&direct).await;
    proxy.answer("DescribeSnapshots", 200, PENDING, None);
    let (c, outcomes) = contain(&direct, &via, &key, Some(&proxy)).await;
    let share = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::Ec2ShareSnapshots)
        .unwrap();
    assert_eq!(share.status, Status::Failed, "{}", show(&outcomes));
    assert!(share.detail.contains("still pending"), "{}", share.detail);
    for s in &c.evidence {
        assert!(
            copies_of(&direct, s.snapshot_id().unwrap())
                .await
                .is_empty()
        );
    }

    // EBS's notifications, one per snapshot, to the ec2 function.
    let h = handler(&via.config, Some(key.clone()), "enforce");
    proxy.clear_log();
    for s in &c.evidence {
        let id = s.snapshot_id().unwrap();
        let out = h
            .handle_invocation(
                &world::snapshot_completed_event(ACCOUNT, REGION, id),
                Some(ACCOUNT),
            )
            .await
            .unwrap();
        let r = &out["snapshot"];
        assert_eq!(r["status"], "done", "{out}");
        assert_eq!(r["finding_id"], c.finding.as_str());
        assert_eq!(r["instance_id"], c.instance.id.as_str());
        assert_eq!(r["refused"], false);
        let copies = copies_of(&direct, id).await;
        assert_eq!(copies.len(), 1, "one copy of {id}");
        assert_eq!(
            world::shared_with(&direct, &copies[0]).await,
            BTreeSet::from([FORENSIC_ACCOUNT.to_owned()])
        );
        assert!(
            world::shared_with(&direct, id).await.is_empty(),
            "the original is never shared"
        );
        assert!(r["detail"].as_str().unwrap().contains(&copies[0]), "{out}");
    }
    // Only what the ec2 function is granted already (its grants do not widen), and the
    // record's seal was checked.
    let called: BTreeSet<String> = proxy
        .calls()
        .iter()
        .map(|c| format!("{}:{}", c.service, c.action))
        .collect();
    let granted: BTreeSet<String> = REQUIRED_PERMISSIONS.iter().map(|s| s.to_string()).collect();
    assert!(
        called.is_subset(&granted),
        "undeclared: {:?}",
        called.difference(&granted).collect::<Vec<_>>()
    );
    assert!(called.contains("kms:VerifyMac"), "{called:?}");

    // A second event (EventBridge delivers at least once): already done, no second copy.
    let id = c.evidence[0].snapshot_id().unwrap();
    let again = h
        .handle_invocation(
            &world::snapshot_completed_event(ACCOUNT, REGION, id),
            Some(ACCOUNT),
        )
        .await
        .unwrap();
    assert_eq!(again["snapshot"]["status"], "already_done", "{again}");
    assert_eq!(copies_of(&direct, id).await.len(), 1);
}

/// The workload's role may snapshot and tag in the account (before isolation, or with
/// credentials it stole): a snapshot it forges with the responder's tags is not handed to
/// the forensic account as evidence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_forged_with_the_responders_tags_are_refused() {
    let aws = Aws::moto(REGION).await;
    let key = world::hmac_key(&aws).await;
    let (c, outcomes) = contain(&aws, &aws, &key, None).await;
    assert!(
        outcomes.iter().all(|o| o.status != Status::Failed),
        "{}",
        show(&outcomes)
    );
    let h = handler(&aws.config, Some(key), "enforce");
    let real = &c.evidence[0];
    let volume = real.volume_id().unwrap().to_owned();
    let tags = |finding: &str, instance: &str, volume: &str| {
        aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(aws_sdk_ec2::types::ResourceType::Snapshot)
            .tags(t("guardduty-responder:finding-id", finding))
            .tags(t("guardduty-responder:instance-id", instance))
            .tags(t("guardduty-responder:volume-id", volume))
            .build()
    };
    let snap = |volume: String, spec: aws_sdk_ec2::types::TagSpecification| {
        let aws = &aws;
        async move {
            aws.ec2
                .create_snapshot()
                .volume_id(volume)
                .tag_specifications(spec)
                .send()
                .await
                .expect("CreateSnapshot")
                .snapshot_id()
                .unwrap()
                .to_owned()
        }
    };
    // Start times have a resolution of a second: the forgeries come later.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    // 1. The contained volume, snapshotted again with the same tags (a cleaned disk).
    let again = snap(volume.clone(), tags(&c.finding, &c.instance.id, &volume)).await;
    // 2. Another volume, tagged as the contained one.
    let zone = real_zone(&aws, &volume).await;
    let other = aws
        .ec2
        .create_volume()
        .availability_zone(zone)
        .size(1)
        .send()
        .await
        .expect("CreateVolume")
        .volume_id()
        .unwrap()
        .to_owned();
    let elsewhere = snap(other.clone(), tags(&c.finding, &c.instance.id, &volume)).await;
    // 3. An instance the responder never contained, with a made-up finding.
    let net = world::network(&aws).await;
    let bystander = world::two_eni_instance(&aws, &net).await;
    let its_volume = world::root_volume(&aws, &bystander.id).await;
    let unbound = snap(
        its_volume.clone(),
        tags(&world::unique_finding_id(), &bystander.id, &its_volume),
    )
    .await;

    for (forged, why) in [
        (&again, "not the first snapshot"),
        (&elsewhere, "not taken of the volume"),
        (&unbound, "no prior-state record"),
    ] {
        let out = h
            .handle_invocation(
                &world::snapshot_completed_event(ACCOUNT, REGION, forged),
                Some(ACCOUNT),
            )
            .await
            .unwrap();
        let r = &out["snapshot"];
        assert_eq!(r["refused"], true, "{out}");
        assert_eq!(r["status"], "skipped", "{out}");
        assert!(r["detail"].as_str().unwrap().contains(why), "{why}: {out}");
        assert!(copies_of(&aws, forged).await.is_empty(), "{forged} copied");
        assert!(world::shared_with(&aws, forged).await.is_empty());
    }
    // The responder's own is still the one: already copied by the quarantine.
    let own = h
        .handle_invocation(
            &world::snapshot_completed_event(ACCOUNT, REGION, real.snapshot_id().unwrap()),
            Some(ACCOUNT),
        )
        .await
        .unwrap();
    assert_eq!(own["snapshot"]["status"], "already_done", "{own}");
}

fn t(k: &str, v: &str) -> aws_sdk_ec2::types::Tag {
    aws_sdk_ec2::types::Tag::builder().key(k).value(v).build()
}

async fn real_zone(aws: &Aws, volume: &str) -> String {
    aws.ec2
        .describe_volumes()
        .volume_ids(volume)
        .send()
        .await
        .expect("DescribeVolumes")
        .volumes()[0]
        .availability_zone()
        .unwrap()
        .to_owned()
}

/// Another account's or region's notification, a malformed one, another EBS event: an
/// error naming why, and not one AWS call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_or_malformed_snapshot_events_are_errors_and_change_nothing() {
    let proxy = Proxy::start(&moto::shared().endpoint()).await;
    let via = Aws::at(&proxy.endpoint(), REGION).await;
    let h = handler(&via.config, None, "enforce");
    let snap = "snap-0a1b2c3d4e5f60718";
    let mut copy_event: Value =
        serde_json::from_slice(&world::snapshot_completed_event(ACCOUNT, REGION, snap)).unwrap();
    copy_event["detail"]["event"] = "copySnapshot".into();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            world::snapshot_completed_event("210987654321", REGION, snap),
            "account 210987654321",
        ),
        (
            world::snapshot_completed_event(ACCOUNT, "us-west-2", snap),
            "region us-west-2",
        ),
        (
            world::snapshot_completed_event(
                ACCOUNT,
                REGION,
                "snap-0a1b2c3d4e5f60718,snap-0a1b2c3d4e5f60719",
            ),
            "detail.snapshot_id",
        ),
        (serde_json::to_vec(&copy_event).unwrap(), "copySnapshot"),
    ];
    for (event, why) in cases {
        match h.handle_invocation(&event, Some(ACCOUNT)).await {
            Err(e @ HandlerError::SnapshotEvent(_)) => {
                assert!(e.to_string().contains(why), "{why}: {e}")
            }
            other => panic!("{why}: {other:?}"),
        }
    }
    assert!(proxy.calls().is_empty(), "{:?}", proxy.calls());
}

/// A snapshot of the account without the evidence tags (AWS Backup, an operator's): one
/// read, nothing done, not an error; in dry-run mode not even that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_snapshots_are_left_alone_and_dry_run_reads_nothing() {
    let direct = Aws::moto(REGION).await;
    let proxy = Proxy::start(&moto::shared().endpoint()).await;
    let via = Aws::at(&proxy.endpoint(), REGION).await;
    let net = world::network(&direct).await;
    let inst = world::two_eni_instance(&direct, &net).await;
    let volume = world::root_volume(&direct, &inst.id).await;
    let backup = direct
        .ec2
        .create_snapshot()
        .volume_id(volume)
        .send()
        .await
        .expect("CreateSnapshot")
        .snapshot_id()
        .unwrap()
        .to_owned();
    let event = world::snapshot_completed_event(ACCOUNT, REGION, &backup);
    let out = handler(&via.config, None, "enforce")
        .handle_invocation(&event, Some(ACCOUNT))
        .await
        .unwrap();
    assert_eq!(out["snapshot"]["status"], "skipped", "{out}");
    assert_eq!(out["snapshot"]["refused"], false, "{out}");
    let actions: Vec<String> = proxy.calls().iter().map(|c| c.action.clone()).collect();
    assert_eq!(actions, ["DescribeSnapshots"]);
    assert!(copies_of(&direct, &backup).await.is_empty());

    proxy.clear_log();
    let out = handler(&via.config, None, "dry-run")
        .handle_invocation(&event, Some(ACCOUNT))
        .await
        .unwrap();
    assert!(
        out["snapshot"]["detail"]
            .as_str()
            .unwrap()
            .contains("dry run"),
        "{out}"
    );
    assert!(proxy.calls().is_empty());
}
