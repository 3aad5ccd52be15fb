//! Evidence bundles against moto (issue #19): an ECS containment writes its bundle to a
//! KMS-encrypted, versioned, Object-Locked bucket; the bundle verifies against its
//! manifest; the bucket refuses an overwrite and the deletion of a locked version; and
//! every collection failure (a missing bucket, AccessDenied, missing logs, the time limit)
//! is an `evidence.write_bundle` outcome while the task is still isolated.

use integration_tests::ecs_world::{self, EcsAws, EcsWorld};
use integration_tests::evidence_bucket::{
    HOSTILE, download_from, evidence_bucket, outcome, reported_sha, s3_client,
};
use integration_tests::proxy::{Fault, Proxy};
use integration_tests::world;
use responder::Config;
use responder::actions::ecs::EcsExecutor;
use responder::evidence::{MANIFEST_NAME, Manifest, verify_dir};
use responder::execute::Executor;
use responder::options::EvidenceOptions;
use responder::outcome::{Outcome, Status, any_failed};
use responder::plan::{ActionKind, ResponsePlan};
use std::path::PathBuf;
use std::time::Duration;

const REGION: &str = "us-east-1";

struct Setup {
    e: EcsAws,
    w: EcsWorld,
    s3: aws_sdk_s3::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    bucket: String,
    key_arn: String,
}

/// A world whose task writes `lines` to its awslogs stream, and an evidence bucket.
async fn setup(name: &str, lines: &[String]) -> Setup {
    let e = EcsAws::moto(REGION).await;
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let w = ecs_world::fargate_world(&e, name).await;
    let s3 = s3_client(&e.aws.config);
    let (bucket, key_arn) = evidence_bucket(&e.aws.config, name).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&e.aws.config);
    if !lines.is_empty() {
        write_logs(&logs, name, &w, lines).await;
    }
    Setup {
        e,
        w,
        s3,
        logs,
        bucket,
        key_arn,
    }
}

async fn write_logs(
    logs: &aws_sdk_cloudwatchlogs::Client,
    name: &str,
    w: &EcsWorld,
    lines: &[String],
) {
    let group = format!("/ecs/{name}");
    let task_id = w.task_arn.rsplit('/').next().expect("task id");
    let stream = format!("ecs/web/{task_id}");
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .expect("CreateLogGroup");
    logs.create_log_stream()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .send()
        .await
        .expect("CreateLogStream");
    let now = chrono::Utc::now().timestamp_millis();
    let events = lines.iter().enumerate().map(|(i, l)| {
        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(now - 60_000 + i as i64)
            .message(l)
            .build()
            .expect("event")
    });
    logs.put_log_events()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .set_log_events(Some(events.collect()))
        .send()
        .await
        .expect("PutLogEvents");
}

fn options(s: &Setup) -> EvidenceOptions {
    EvidenceOptions {
        bucket: Some(s.bucket.clone()),
        bucket_region: Some(REGION.into()),
        kms_key_id: Some(s.key_arn.clone()),
        collector: "guardduty-responder-ecs".into(),
        ..EvidenceOptions::default()
    }
}

fn plan_for(w: &EcsWorld) -> ResponsePlan {
    let (_, event) = ecs_world::finding_event(w);
    world::contain_plan(&event, &Config::default())
}

fn prefix(plan: &ResponsePlan, w: &EcsWorld) -> String {
    let task_id = w.task_arn.rsplit('/').next().expect("task id");
    format!(
        "evidence/{}/{}/{task_id}/",
        plan.account_id, plan.finding_id
    )
}

/// Downloads every object under `prefix` (their current versions) into a fresh directory,
/// as an investigator would with `aws s3 cp --recursive`.
async fn download(s: &Setup, prefix: &str, name: &str) -> PathBuf {
    download_from(&s.s3, &s.bucket, prefix, name).await
}

async fn task_isolated(outcomes: &[Outcome]) {
    let o = outcome(outcomes, ActionKind::EcsIsolateTaskNetwork);
    assert_eq!(o.status, Status::Done, "{o:?}");
    assert!(!any_failed(outcomes), "{outcomes:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_containment_writes_a_bundle_that_verifies_and_cannot_be_overwritten_or_deleted() {
    let lines = vec!["GET /health 200".to_owned(), HOSTILE.to_owned()];
    let s = setup("bundle", &lines).await;
    let plan = plan_for(&s.w);
    let ex = EcsExecutor::new(&s.e.aws.config, Config::default().ecs).with_evidence(&options(&s));
    let outcomes = ex.execute(&plan).await;
    task_isolated(&outcomes).await;
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Done, "{bundle:?}");
    let sha = reported_sha(bundle);
    assert!(
        bundle.detail.contains(&sha),
        "the alert line names the hash"
    );

    let prefix = prefix(&plan, &s.w);
    let dir = download(&s, &prefix, "ok").await;
    let report = verify_dir(&dir, Some(&sha)).expect("readable");
    assert!(report.is_ok(), "{report}");
    let manifest = Manifest::parse(&std::fs::read(dir.join(MANIFEST_NAME)).expect("manifest"))
        .expect("parses");
    let keys: Vec<&str> = manifest.objects.iter().map(|o| o.key.as_str()).collect();
    for want in [
        "finding.json",
        "describe/task.json",
        "describe/task-definition.json",
        "describe/network-interface.json",
        "logs/web.log",
    ] {
        assert!(keys.contains(&want), "{want} missing from {keys:?}");
    }
    assert!(
        manifest
            .objects
            .iter()
            .all(|o| o.collector == "guardduty-responder-ecs")
    );
    // The descriptions are those taken before isolation: the ENI still has the task's group.
    let eni = std::fs::read_to_string(dir.join("describe/network-interface.json")).expect("eni");
    assert!(eni.contains(&s.w.task_sg), "{eni}");
    let finding = std::fs::read_to_string(dir.join("finding.json")).expect("finding");
    assert!(finding.contains(&plan.finding_id));

    // The attacker's log line is evidence: stored byte for byte, never in the alert.
    let log = std::fs::read(dir.join("logs/web.log")).expect("log");
    let log = String::from_utf8(log).expect("utf-8");
    assert!(log.contains(HOSTILE), "{log:?}");
    let n = responder::render::render(&plan, Some(&outcomes));
    let slack = serde_json::to_string(&n.slack).expect("slack json");
    for channel in [&n.text, &n.html, &slack] {
        assert!(!channel.contains("<script>alert(1)"));
        assert!(!channel.contains("<!channel>"));
    }

    // Encrypted with the bucket's key.
    let head =
        s.s3.head_object()
            .bucket(&s.bucket)
            .key(format!("{prefix}finding.json"))
            .send()
            .await
            .expect("HeadObject");
    assert_eq!(head.ssekms_key_id(), Some(s.key_arn.as_str()));

    // Write-once: S3 refuses a second put of a key (If-None-Match), so does the writer,
    // and a re-run of the containment finds the bundle there.
    let again =
        s.s3.put_object()
            .bucket(&s.bucket)
            .key(format!("{prefix}{MANIFEST_NAME}"))
            .if_none_match("*")
            .body(b"{}".to_vec().into())
            .send()
            .await;
    let err = again.expect_err("overwrite refused");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&err),
        Some("PreconditionFailed")
    );
    let rerun = ex.execute(&plan).await;
    let b = outcome(&rerun, ActionKind::EvidenceWriteBundle);
    assert_eq!(b.status, Status::AlreadyDone, "{b:?}");

    // A locked version cannot be deleted. (moto enforces Object Lock on DeleteObject with a
    // version id; it does not evaluate the bucket policy, so evidence.tf's denials are
    // checked by tests/tests/iam_policies.rs and checkov, not here.)
    let versions =
        s.s3.list_object_versions()
            .bucket(&s.bucket)
            .prefix(format!("{prefix}finding.json"))
            .send()
            .await
            .expect("ListObjectVersions");
    let version = versions.versions()[0]
        .version_id()
        .expect("version")
        .to_owned();
    let deleted =
        s.s3.delete_object()
            .bucket(&s.bucket)
            .key(format!("{prefix}finding.json"))
            .version_id(&version)
            .send()
            .await;
    assert!(deleted.is_err(), "a locked version was deleted");
    let dir = download(&s, &prefix, "after").await;
    assert!(verify_dir(&dir, Some(&sha)).expect("readable").is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_log_is_cut_at_the_byte_limit_and_the_manifest_says_so() {
    let lines: Vec<String> = (0..200)
        .map(|i| format!("{i:04} {}", "A".repeat(100)))
        .collect();
    let s = setup("huge", &lines).await;
    let plan = plan_for(&s.w);
    let limit = 1000;
    let opts = EvidenceOptions {
        log_max_bytes: limit,
        ..options(&s)
    };
    let ex = EcsExecutor::new(&s.e.aws.config, Config::default().ecs).with_evidence(&opts);
    let outcomes = ex.execute(&plan).await;
    task_isolated(&outcomes).await;
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Done, "{bundle:?}");
    let dir = download(&s, &prefix(&plan, &s.w), "huge").await;
    assert!(
        verify_dir(&dir, Some(&reported_sha(bundle)))
            .expect("readable")
            .is_ok()
    );
    let log = std::fs::read(dir.join("logs/web.log")).expect("log");
    assert_eq!(log.len(), limit);
    assert!(
        log.starts_with(b"0") || log.starts_with(b"1"),
        "oldest first"
    );
    let manifest = Manifest::parse(&std::fs::read(dir.join(MANIFEST_NAME)).expect("m")).expect("p");
    let entry = manifest
        .objects
        .iter()
        .find(|o| o.key == "logs/web.log")
        .expect("listed");
    assert!(entry.source_api.contains("cut at 1000 bytes"), "{entry:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_logs_are_a_gap_in_a_written_bundle_not_a_failed_containment() {
    let s = setup("nologs", &[]).await;
    let plan = plan_for(&s.w);
    let ex = EcsExecutor::new(&s.e.aws.config, Config::default().ecs).with_evidence(&options(&s));
    let outcomes = ex.execute(&plan).await;
    task_isolated(&outcomes).await;
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Failed, "{bundle:?}");
    assert!(bundle.detail.contains("GetLogEvents"), "{}", bundle.detail);
    let dir = download(&s, &prefix(&plan, &s.w), "nologs").await;
    assert!(
        verify_dir(&dir, Some(&reported_sha(bundle)))
            .expect("readable")
            .is_ok()
    );
    let gaps = std::fs::read_to_string(dir.join("collection-gaps.json")).expect("gaps listed");
    assert!(gaps.contains("logs/web.log"), "{gaps}");
    // The alert says what failed, without calling the containment failed.
    let n = responder::render::render(&plan, Some(&outcomes));
    assert!(!n.subject.contains("[FAILED]"), "{}", n.subject);
    assert!(n.text.contains("evidence.write_bundle"), "{}", n.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_is_a_failed_bundle_and_the_task_is_still_isolated() {
    let s = setup("nobucket", &["x".to_owned()]).await;
    let plan = plan_for(&s.w);
    let opts = EvidenceOptions {
        bucket: Some(format!("{}-absent", s.bucket)),
        ..options(&s)
    };
    let ex = EcsExecutor::new(&s.e.aws.config, Config::default().ecs).with_evidence(&opts);
    let outcomes = ex.execute(&plan).await;
    task_isolated(&outcomes).await;
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Failed, "{bundle:?}");
    assert!(bundle.detail.contains("NoSuchBucket"), "{}", bundle.detail);
}

/// Through the fault proxy: S3 answers AccessDenied (what a bucket policy or a missing
/// grant gives), then GetLogEvents answers later than the time limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_and_a_slow_collection_are_outcomes_never_blocking_isolation() {
    let s = setup("faults", &["x".to_owned()]).await;
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    let via = EcsAws::at(&proxy.endpoint(), REGION).await;
    let plan = plan_for(&s.w);

    proxy.fail("s3:PutObject", 403, "AccessDenied", None);
    let ex = EcsExecutor::new(&via.aws.config, Config::default().ecs).with_evidence(&options(&s));
    let outcomes = ex.execute(&plan).await;
    task_isolated(&outcomes).await;
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Failed, "{bundle:?}");
    assert!(bundle.detail.contains("AccessDenied"), "{}", bundle.detail);
    proxy.clear_faults();

    // A second task of its own (the first is isolated and its finding's bundle begun).
    let w2 = ecs_world::fargate_world(&s.e, "faults2").await;
    write_logs(&s.logs, "faults2", &w2, &["y".to_owned()]).await;
    let plan = plan_for(&w2);
    let mut slow = Fault::error("GetLogEvents", 200, "", None);
    slow.late = Some(Duration::from_secs(4));
    proxy.inject(slow);
    let opts = EvidenceOptions {
        time_limit_seconds: 1,
        ..options(&s)
    };
    let ex = EcsExecutor::new(&via.aws.config, Config::default().ecs).with_evidence(&opts);
    let started = std::time::Instant::now();
    let outcomes = ex.execute(&plan).await;
    task_isolated(&outcomes).await;
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Failed, "{bundle:?}");
    assert!(
        bundle
            .detail
            .contains("time limit of 1s exceeded while collecting"),
        "{}",
        bundle.detail
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the slow call was not waited for"
    );
    // What was taken before the limit is still written, and verifies.
    let dir = download(&s, &prefix(&plan, &w2), "slow").await;
    assert!(
        verify_dir(&dir, Some(&reported_sha(bundle)))
            .expect("readable")
            .is_ok()
    );
    assert!(!dir.join("logs/web.log").exists());
}

/// EC2: the quarantine writes the instance's bundle (the finding, the instance and its
/// attributes as described before any change) and still isolates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ec2_quarantine_writes_the_instance_bundle() {
    let aws = world::Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let inst = world::one_eni_instance(&aws, &net).await;
    let (bucket, key_arn) = evidence_bucket(&aws.config, "ec2").await;
    let fid = world::unique_finding_id();
    let event = world::finding_event(
        "ec2-defense-evasion-kernel-module.json",
        &fid,
        &net.region,
        &inst,
        Some(&net.vpc_id),
    );
    let plan = world::contain_plan(&event, &Config::default());
    let opts = EvidenceOptions {
        bucket: Some(bucket.clone()),
        bucket_region: Some(REGION.into()),
        kms_key_id: Some(key_arn),
        ..EvidenceOptions::default()
    };
    let ex = responder::actions::ec2::Ec2Executor::new(&aws.config).with_evidence(&opts);
    let outcomes = ex.execute(&plan).await;
    let isolated = outcome(&outcomes, ActionKind::Ec2IsolateNetwork);
    assert_eq!(isolated.status, Status::Done, "{isolated:?}");
    assert!(!any_failed(&outcomes), "{outcomes:#?}");
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Done, "{bundle:?}");
    let prefix = format!(
        "evidence/{}/{}/{}/",
        plan.account_id, plan.finding_id, inst.id
    );
    let dir = download_from(&s3_client(&aws.config), &bucket, &prefix, "ec2").await;
    assert!(
        verify_dir(&dir, Some(&reported_sha(bundle)))
            .expect("readable")
            .is_ok()
    );
    let described = std::fs::read_to_string(dir.join("describe/instance.json")).expect("instance");
    assert!(described.contains(&inst.id), "{described}");
    // Described before the swap: no isolation group among the ENI's groups yet.
    use responder::actions::ec2::isolation_groups::{CONVERSION_GROUP_NAME, NO_RULES_GROUP_NAME};
    for group in [CONVERSION_GROUP_NAME, NO_RULES_GROUP_NAME] {
        assert!(!described.contains(&format!("\"{group}\"")), "{described}");
    }
    assert!(described.contains("\"groups\""), "{described}");
    assert!(dir.join("describe/instance-attributes.json").exists());
}
