//! `responder release ec2 … --execute` on the real binary, with EC2 and STS on moto, Security
//! Hub on the local `BatchUpdateFindings` server and GuardDuty on the local REST server
//! (`AWS_ENDPOINT_URL_SECURITYHUB`, `AWS_ENDPOINT_URL_GUARDDUTY`): the finding is resolved and
//! archived only after a completed release and only when configured, failures are reported
//! without failing the release, and a finding id rewritten in the record steers nothing.

use integration_tests::guardduty_api::{GuardDutyApi, World};
use integration_tests::proxy::Proxy;
use integration_tests::securityhub_api::SecurityHubApi;
use integration_tests::world::{self, Aws, Instance};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::execute::Executor;
use responder::notify::after_release::{ARCHIVE_ENV, PERMISSIONS, RESOLVE_ENV};
use responder::outcome::any_failed;
use serde_json::{Value, json};
use std::process::{Command, Output};

/// moto's account (STS `GetCallerIdentity`).
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const DETECTOR: &str = "4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6";
const PRODUCT: &str = "arn:aws:securityhub:us-east-1::product/aws/guardduty";
const STATUS_TAG: &str = "guardduty-responder:status";

fn finding_arn(id: &str) -> String {
    format!("arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{DETECTOR}/finding/{id}")
}

/// An instance quarantined for a new finding (no record MAC key: its tags can be edited).
async fn quarantined() -> (Aws, Instance, String) {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let instance = world::one_eni_instance(&aws, &net).await;
    let id = world::unique_finding_id();
    let event = world::finding_event(
        "ec2-defense-evasion-kernel-module.json",
        &id,
        REGION,
        &instance,
        Some(&net.vpc_id),
    );
    let plan = world::contain_plan(&event, &Config::default());
    let outcomes = Ec2Executor::new(&aws.config).execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", world::show(&outcomes));
    (aws, instance, id)
}

/// Security Hub holding the finding's counterpart, GuardDuty with the account's detector.
async fn services(id: &str) -> (SecurityHubApi, GuardDutyApi) {
    let hub = SecurityHubApi::start(vec![(PRODUCT.into(), finding_arn(id))]).await;
    let guardduty = GuardDutyApi::start(World {
        detectors: vec![DETECTOR.into()],
        ..World::default()
    })
    .await;
    (hub, guardduty)
}

struct Run<'a> {
    aws_endpoint: String,
    hub: &'a SecurityHubApi,
    guardduty: &'a GuardDutyApi,
    args: &'a [&'a str],
    env: &'a [(&'a str, &'a str)],
}

/// `responder release ec2 <instance> --output <output> <args>` with `run`'s environment.
impl<'a> Run<'a> {
    /// Release, resolve and archive, configured by flags only.
    fn everything(
        aws_endpoint: String,
        hub: &'a SecurityHubApi,
        guardduty: &'a GuardDutyApi,
    ) -> Self {
        Run {
            aws_endpoint,
            hub,
            guardduty,
            args: EVERYTHING,
            env: &[],
        }
    }
}

async fn release_as(instance: &str, output: &str, run: Run<'_>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_responder"));
    cmd.args(["release", "ec2", instance, "--output", output])
        .args(run.args)
        .env("AWS_ENDPOINT_URL", &run.aws_endpoint)
        .env("AWS_ENDPOINT_URL_SECURITYHUB", run.hub.endpoint())
        .env("AWS_ENDPOINT_URL_GUARDDUTY", run.guardduty.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("RESPONDER_RECORD_MAC_KEY_ID")
        .env_remove(RESOLVE_ENV)
        .env_remove(ARCHIVE_ENV)
        .envs(run.env.iter().copied());
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

async fn release(instance: &str, run: Run<'_>) -> (Output, Value) {
    let out = release_as(instance, "json", run).await;
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, doc)
}

fn moto() -> String {
    integration_tests::moto::shared().endpoint()
}

/// Release, resolve and archive.
const EVERYTHING: &[&str] = &[
    "--execute",
    "--resolve-in-securityhub",
    "--archive-in-guardduty",
];

/// The status of each after-release outcome, checked to be the resolve then the archive.
fn after(doc: &Value) -> Vec<String> {
    let outcomes = doc["after_release"]
        .as_array()
        .unwrap_or_else(|| panic!("no after_release: {doc}"));
    let kinds: Vec<&str> = outcomes
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    if !kinds.is_empty() {
        assert_eq!(
            kinds,
            ["securityhub.resolve_finding", "guardduty.archive_finding"]
        );
    }
    outcomes
        .iter()
        .map(|o| o["status"].as_str().unwrap().to_owned())
        .collect()
}

/// Both write-backs ended with `status`, the first saying `why`.
fn both(doc: &Value, status: &str, why: &str) {
    assert_eq!(after(doc), [status, status], "{doc}");
    let detail = doc["after_release"][0]["detail"].as_str().unwrap();
    assert!(detail.contains(why), "{detail}");
}

async fn still_quarantined(aws: &Aws, instance: &Instance) -> bool {
    world::tags(aws, &instance.id)
        .await
        .contains_key(STATUS_TAG)
}

fn nothing_sent(hub: &SecurityHubApi, guardduty: &GuardDutyApi) {
    assert!(hub.received().is_empty(), "{:?}", hub.received());
    assert!(guardduty.calls().is_empty(), "{:?}", guardduty.calls());
}

fn archive_calls(guardduty: &GuardDutyApi) -> Vec<Value> {
    guardduty
        .calls()
        .into_iter()
        .filter(|c| c.path.ends_with("/findings/archive"))
        .map(|c| c.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_completed_release_resolves_and_archives_when_configured() {
    let (aws, instance, id) = quarantined().await;
    let (hub, guardduty) = services(&id).await;
    let run = Run {
        aws_endpoint: moto(),
        hub: &hub,
        guardduty: &guardduty,
        args: &["--execute", "--resolve-in-securityhub"],
        env: &[(ARCHIVE_ENV, "on")],
    };
    let (out, doc) = release(&instance.id, run).await;
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert!(!still_quarantined(&aws, &instance).await);
    assert_eq!(after(&doc), ["done", "done"], "{doc}");

    let body = &hub.the_one_update();
    assert_eq!(
        body["FindingIdentifiers"],
        json!([{"ProductArn": PRODUCT, "Id": finding_arn(&id)}])
    );
    assert_eq!(body["Workflow"], json!({"Status": "RESOLVED"}));
    let by = body["Note"]["UpdatedBy"].as_str().unwrap();
    assert!(by.starts_with("arn:aws:") && by.contains(ACCOUNT), "{by}");
    let note = body["Note"]["Text"].as_str().unwrap();
    assert!(note.contains(&format!("released by {by} at ")), "{note}");
    assert!(
        note.contains(&format!("EC2 instance {}", instance.id)),
        "{note}"
    );
    let fields = &body["UserDefinedFields"];
    assert_eq!(fields["guardduty-responder:outcome"], "released");
    assert_eq!(fields["guardduty-responder:released-by"], by);
    assert!(fields["guardduty-responder:released-at"].is_string());

    assert_eq!(archive_calls(&guardduty), [json!({"findingIds": [id]})]);
    // The calls made are exactly the permissions declared for the write-back.
    let mut called: Vec<&str> = guardduty
        .calls()
        .iter()
        .map(|c| match c.path.as_str() {
            "/detector" => "guardduty:ListDetectors",
            p if p.ends_with("/findings/archive") => "guardduty:ArchiveFindings",
            p => panic!("unexpected GuardDuty call {p}"),
        })
        .chain(["securityhub:BatchUpdateFindings"])
        .collect();
    let mut declared = PERMISSIONS.to_vec();
    called.sort_unstable();
    declared.sort_unstable();
    assert_eq!(called, declared);
    let paths: Vec<String> = guardduty.calls().into_iter().map(|c| c.path).collect();
    assert_eq!(
        paths,
        [
            "/detector",
            &format!("/detector/{DETECTOR}/findings/archive")
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_is_written_back_unless_configured_and_executed() {
    let (aws, instance, id) = quarantined().await;
    let (hub, guardduty) = services(&id).await;
    // Configured, but a dry run: says what it would do, sends nothing.
    let dry = Run {
        aws_endpoint: moto(),
        hub: &hub,
        guardduty: &guardduty,
        args: &[],
        env: &[(RESOLVE_ENV, "on"), (ARCHIVE_ENV, "on")],
    };
    let (out, doc) = release(&instance.id, dry).await;
    assert_eq!(out.status.code(), Some(0), "{doc}");
    both(
        &doc,
        "skipped",
        "dry run: would mark the Security Hub finding RESOLVED",
    );
    assert!(still_quarantined(&aws, &instance).await);
    // Executed, not configured: released, nothing written back.
    let plain = Run {
        aws_endpoint: moto(),
        hub: &hub,
        guardduty: &guardduty,
        args: &["--execute"],
        env: &[(RESOLVE_ENV, "off")],
    };
    let (out, doc) = release(&instance.id, plain).await;
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert!(!still_quarantined(&aws, &instance).await);
    assert_eq!(after(&doc), Vec::<String>::new());
    nothing_sent(&hub, &guardduty);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incomplete_release_neither_resolves_nor_archives() {
    let (_aws, instance, id) = quarantined().await;
    let (hub, guardduty) = services(&id).await;
    let proxy = Proxy::start(&moto()).await;
    proxy.fail(
        "ModifyNetworkInterfaceAttribute",
        403,
        "UnauthorizedOperation",
        None,
    );
    let run = Run::everything(proxy.endpoint(), &hub, &guardduty);
    let (out, doc) = release(&instance.id, run).await;
    assert_eq!(out.status.code(), Some(1), "the release failed: {doc}");
    both(&doc, "skipped", "did not complete");
    nothing_sent(&hub, &guardduty);
}

#[tokio::test(flavor = "multi_thread")]
async fn write_back_failures_are_reported_and_the_release_stands() {
    let (aws, instance, _id) = quarantined().await;
    // No Security Hub counterpart; GuardDuty denies the archive.
    let hub = SecurityHubApi::start(vec![]).await;
    let guardduty = GuardDutyApi::start(World {
        detectors: vec![DETECTOR.into()],
        ..World::default()
    })
    .await;
    guardduty.refuse("ArchiveFindings", 403, "AccessDeniedException");
    let run = Run::everything(moto(), &hub, &guardduty);
    let (out, doc) = release(&instance.id, run).await;
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert!(!still_quarantined(&aws, &instance).await);
    both(&doc, "failed", "FindingNotFound");
    let archive = doc["after_release"][1]["detail"].as_str().unwrap();
    assert!(archive.contains("AccessDenied"), "{archive}");
    assert_eq!(archive_calls(&guardduty).len(), 1);

    // No detector in the region (and in text output): both fail, nothing else is sent.
    let (_aws, instance, _id) = quarantined().await;
    let empty = GuardDutyApi::start(World::default()).await;
    let hub = SecurityHubApi::start(vec![]).await;
    let run = Run::everything(moto(), &hub, &empty);
    let out = release_as(&instance.id, "text", run).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for step in ["securityhub.resolve_finding", "guardduty.archive_finding"] {
        assert!(
            text.contains(&format!("  after release: [FAILED] {step}"))
                && text.contains("no GuardDuty detector in us-east-1"),
            "{text}"
        );
    }
    assert!(hub.received().is_empty());
}

/// The record's finding tag is rewritten (anyone allowed `ec2:CreateTags`; no MAC key) to
/// aim the write-back at another detector's finding: nothing is sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_rewritten_finding_id_in_the_record_steers_nothing() {
    let (aws, instance, id) = quarantined().await;
    let (hub, guardduty) = services(&id).await;
    let hostile = format!("{id}/../../../detector/{DETECTOR}/finding/0000");
    world::set_tag(
        &aws,
        &instance.id,
        "guardduty-responder:prior:finding",
        &hostile,
    )
    .await;
    let run = Run::everything(moto(), &hub, &guardduty);
    let (out, doc) = release(&instance.id, run).await;
    assert_eq!(out.status.code(), Some(0), "{doc}");
    both(&doc, "failed", "not a GuardDuty finding id");
    nothing_sent(&hub, &guardduty);
}
