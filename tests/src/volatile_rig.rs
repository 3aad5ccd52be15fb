//! The EC2 volatile capture's world (`tests/tests/ec2_volatile_*.rs`): an instance in
//! moto, an evidence bucket, the plan of a finding about it, and a run through the fault
//! proxy, which answers each command's output when the test chooses it.

use crate::evidence_bucket::{download_from, evidence_bucket, outcome, reported_sha, s3_client};
use crate::proxy::Proxy;
use crate::world::{self, Aws, Instance, Network, show};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::execute::Executor;
use responder::options::{EvidenceOptions, IsolationOptions, VolatileCapture};
use responder::outcome::{Outcome, Status, any_failed};
use responder::plan::{ActionKind, ResponsePlan};
use std::path::PathBuf;

pub const REGION: &str = "us-east-1";
pub const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";

pub fn capture(timeout_seconds: u64) -> VolatileCapture {
    VolatileCapture {
        enabled: true,
        timeout_seconds,
        max_pids: 16,
    }
}

fn config(vc: VolatileCapture) -> Config {
    let mut c = Config::default();
    c.ec2.volatile_capture = vc;
    c.isolation = IsolationOptions {
        keep_ssm_endpoints: true,
    };
    c
}

pub struct Rig {
    pub direct: Aws,
    pub net: Network,
    pub inst: Instance,
    pub bucket: String,
    pub opts: EvidenceOptions,
    pub plan: ResponsePlan,
}

/// A world with an instance, an evidence bucket and the plan of the sample (edited by
/// `edit`) under `vc`.
pub async fn rig(name: &str, vc: VolatileCapture, edit: impl Fn(&mut serde_json::Value)) -> Rig {
    let direct = Aws::moto(REGION).await;
    let net = world::network(&direct).await;
    let inst = world::one_eni_instance(&direct, &net).await;
    let (bucket, key_arn) = evidence_bucket(&direct.config, name).await;
    let fid = world::unique_finding_id();
    let event = world::finding_event(SAMPLE, &fid, &net.region, &inst, Some(&net.vpc_id));
    let mut doc: serde_json::Value = serde_json::from_slice(&event).unwrap();
    edit(&mut doc);
    let plan = world::contain_plan(&serde_json::to_vec(&doc).unwrap(), &config(vc));
    let opts = EvidenceOptions {
        bucket: Some(bucket.clone()),
        bucket_region: Some(REGION.into()),
        kms_key_id: Some(key_arn),
        ..EvidenceOptions::default()
    };
    Rig {
        direct,
        net,
        inst,
        bucket,
        opts,
        plan,
    }
}

pub fn executor(aws: &Aws, r: &Rig, vc: VolatileCapture) -> Ec2Executor {
    Ec2Executor::new(&aws.config)
        .with_isolation(config(vc.clone()).isolation)
        .with_evidence(&r.opts)
        .with_volatile_capture(vc)
}

/// A proxy in front of the shared moto, prepared by `fault`.
pub async fn proxy(fault: impl FnOnce(&Proxy)) -> Proxy {
    let proxy = Proxy::start(&crate::moto::shared().endpoint()).await;
    fault(&proxy);
    proxy
}

/// Runs the plan through `proxy` with an executor configured for `vc`; the containment
/// must stand whatever the capture does.
pub async fn run_through(r: &Rig, proxy: &Proxy, vc: VolatileCapture) -> Vec<Outcome> {
    let via = Aws::at(&proxy.endpoint(), REGION).await;
    let outcomes = executor(&via, r, vc).execute(&r.plan).await;
    still_contained(r, &outcomes).await;
    outcomes
}

/// [`run_through`] a new proxy prepared by `fault`.
pub async fn run_via_proxy(
    r: &Rig,
    vc: VolatileCapture,
    fault: impl FnOnce(&Proxy),
) -> (Proxy, Vec<Outcome>) {
    let proxy = proxy(fault).await;
    let outcomes = run_through(r, &proxy, vc).await;
    (proxy, outcomes)
}

/// Every SendCommand request the proxy saw, as sent.
pub fn sent_commands(proxy: &Proxy) -> Vec<serde_json::Value> {
    proxy
        .calls()
        .into_iter()
        .filter(|c| c.action == "SendCommand")
        .map(|c| serde_json::from_str(&c.body).expect("a JSON request"))
        .collect()
}

/// The script a SendCommand request carries.
pub fn script_of(sent: &serde_json::Value) -> &str {
    sent["Parameters"]["commands"][0]
        .as_str()
        .expect("a script")
}

/// The artefact a script collects (its comment line, which the responder writes).
pub fn artefact_of(script: &str) -> String {
    script
        .lines()
        .find_map(|l| l.strip_prefix("# guardduty-responder volatile capture: "))
        .and_then(|l| l.split_once(' '))
        .map(|(name, _)| name.to_owned())
        .expect("the artefact's comment line")
}

/// The bundle's prefix in the bucket.
pub fn prefix(r: &Rig) -> String {
    format!(
        "evidence/{}/{}/{}/",
        r.plan.account_id, r.plan.finding_id, r.inst.id
    )
}

/// The bundle as an investigator downloads it (into a directory named after `name`),
/// verified against the manifest hash its outcome (`bundle`) reports.
pub async fn verified_bundle(r: &Rig, bundle: &Outcome, name: &str) -> PathBuf {
    let dir = download_from(&s3_client(&r.direct.config), &r.bucket, &prefix(r), name).await;
    let report = responder::evidence::verify_dir(&dir, Some(&reported_sha(bundle)));
    assert!(report.expect("readable").is_ok(), "{name}: does not verify");
    dir
}

/// Whether the plan holds the capture.
pub fn planned(r: &Rig) -> bool {
    r.plan
        .actions
        .iter()
        .any(|a| a.kind == ActionKind::Ec2CaptureVolatile)
}

/// The containment stands: isolated, tagged quarantined, nothing failed but collection.
pub async fn still_contained(r: &Rig, outcomes: &[Outcome]) {
    assert!(!any_failed(outcomes), "{}", show(outcomes));
    for kind in [ActionKind::Ec2IsolateNetwork, ActionKind::Ec2TagInstance] {
        assert_eq!(
            outcome(outcomes, kind).status,
            Status::Done,
            "{}",
            show(outcomes)
        );
    }
    assert_eq!(
        world::tags(&r.direct, &r.inst.id).await["guardduty-responder:status"],
        "quarantined"
    );
    let _ = &r.net;
}
