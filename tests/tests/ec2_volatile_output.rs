//! What the contained instance writes back, against moto through the fault proxy (which
//! answers each command's `GetCommandInvocation` with the output the test chooses): the
//! compromised host controls that output entirely. A cut artefact is marked cut; output
//! that does not decode (text posing as another artefact, control characters, a gzip bomb,
//! more than SSM returns) is kept as received under its own artefact's name, and reaches
//! no outcome; one command failing leaves the others; a re-delivery sends no command.

use integration_tests::evidence_bucket::{HOSTILE, download_from, keys, outcome, s3_client};
use integration_tests::proxy::Invocation;
use integration_tests::volatile_rig::{
    REGION, Rig, artefact_of, capture, executor, prefix, proxy, rig, run_via_proxy, script_of,
    sent_commands, verified_bundle,
};
use integration_tests::world::{Aws, show};
use responder::actions::ec2::volatile::decode::{MAX_DECODED, as_written};
use responder::actions::ec2::volatile::script::{GZIP_BASE64, GZIP_BYTES, HEADER};
use responder::evidence::{Manifest, verify_dir};
use responder::execute::Executor;
use responder::outcome::{Outcome, Status};
use responder::plan::ActionKind;
use std::io::Write as _;
use std::path::Path;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Text that does not compress (random letters), so its stream is longer than the
/// script keeps.
fn noise(n: usize) -> Vec<u8> {
    let mut random = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open("/dev/urandom").unwrap(), n as u64),
        &mut random,
    )
    .unwrap();
    random.into_iter().map(|b| b'a' + b % 26).collect()
}

fn manifest(dir: &Path) -> Manifest {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn record(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("volatile/command.json")).unwrap()).unwrap()
}

/// The record's line for `artefact`.
fn line<'a>(rec: &'a serde_json::Value, artefact: &str) -> &'a serde_json::Value {
    rec["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["artefact"] == artefact)
        .unwrap_or_else(|| panic!("no line for {artefact}: {rec}"))
}

fn good(name: &str) -> Invocation {
    Invocation::success(as_written(&gzip(
        format!("the {name} artefact\n").as_bytes(),
    )))
}

/// Runs the plan with the instance answering `answers` for those artefacts and a small
/// whole artefact for every other.
async fn answering(r: &Rig, answers: Vec<(&'static str, Invocation)>) -> Vec<Outcome> {
    let (_proxy, outcomes) = run_via_proxy(r, capture(20), move |p| {
        p.command_output(move |sent| {
            let name = artefact_of(script_of(sent));
            let chosen = answers.iter().find(|(a, _)| *a == name).map(|(_, i)| i);
            Some(chosen.cloned().unwrap_or_else(|| good(&name)))
        })
    })
    .await;
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_artefact_keeps_its_decoded_start_and_says_cut() {
    let text = noise(80_000);
    let stream = gzip(&text);
    assert!(stream.len() > GZIP_BYTES);
    // What `gzip -c | head -c GZIP_BYTES | base64 -w0` writes.
    let cut = as_written(&stream[..GZIP_BYTES]);
    assert!(cut.len() < 24_000, "{}", cut.len());
    let r = rig("vco-cut", capture(20), |_| {}).await;
    let outcomes = answering(&r, vec![("processes", Invocation::success(cut))]).await;
    let step = outcome(&outcomes, ActionKind::Ec2CaptureVolatile);
    assert_eq!(step.status, Status::Done, "{step:?}");
    assert!(
        step.detail.contains("cut at the output limit: processes"),
        "{}",
        step.detail
    );
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Done, "a cut is no gap: {bundle:?}");
    let dir = verified_bundle(&r, bundle, "vco-cut").await;
    let got = std::fs::read(dir.join("volatile/processes.txt")).unwrap();
    assert!(
        got.len() > 10_000 && got.len() < text.len(),
        "{}",
        got.len()
    );
    assert!(text.starts_with(&got), "the decoded start of the artefact");
    let m = manifest(&dir);
    let entry = m
        .objects
        .iter()
        .find(|o| o.key == "volatile/processes.txt")
        .unwrap();
    assert!(entry.source_api.contains("cut"), "{}", entry.source_api);
    assert_eq!(line(&record(&dir), "processes")["decoded"], "cut");
    assert_eq!(line(&record(&dir), "system")["decoded"], "complete");
}

/// The compromised instance answers with whatever it likes, per artefact. Nothing it
/// writes chooses an object name, reaches an outcome or is claimed decoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_output_is_kept_as_received_under_its_own_name_and_reaches_no_outcome() {
    // A gzip bomb: 16 MiB of zeros in 16 KB, under the script's stream limit.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..16 {
        enc.write_all(&vec![0_u8; 1 << 20]).unwrap();
    }
    let bomb = as_written(&enc.finish().unwrap());
    assert!(bomb.len() < 24_000);
    // Posing as another artefact and as the manifest, with a path.
    let posing =
        format!("volatile/pid-1.txt\n../../../manifest.json\n{HOSTILE}\n===== pid 1 =====\nroot");
    let control = format!("{HEADER} {GZIP_BASE64}\n\u{1b}]8;;http://evil.example\u{7}\0\r\n");
    // More than SSM ever returns.
    let huge = format!("{HEADER} {GZIP_BASE64}\n{}", "QUJD".repeat(100_000));
    let answers = [
        ("network", posing.clone()),
        ("modules", bomb),
        ("system", control),
        ("pid-51877", huge),
    ];
    let r = rig("vco-hostile", capture(20), |_| {}).await;
    let answers = answers
        .iter()
        .map(|(a, t)| (*a, Invocation::success(t.clone())))
        .collect();
    let outcomes = answering(&r, answers).await;
    let shown = show(&outcomes);
    for bad in [
        "evil",
        "manifest.json",
        "channel",
        "script",
        "\u{1b}",
        "pid-1.",
        "QUJD",
        "root",
    ] {
        assert!(!shown.contains(bad), "{bad:?} reached an outcome: {shown}");
    }
    let step = outcome(&outcomes, ActionKind::Ec2CaptureVolatile);
    // Five PIDs and four machine-wide artefacts; three did not decode.
    assert!(
        step.detail.starts_with("6 of 9 artefacts"),
        "{}",
        step.detail
    );
    assert!(
        step.detail.contains("cut at the output limit: modules"),
        "{}",
        step.detail
    );
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Failed, "incomplete: {bundle:?}");
    let s3 = s3_client(&r.direct.config);
    let dir = verified_bundle(&r, bundle, "vco-hostile").await;
    // Kept as received, byte for byte, under the artefact's own name, hashed as the
    // record says it was received.
    assert_eq!(
        std::fs::read_to_string(dir.join("volatile/received/network.txt")).unwrap(),
        posing
    );
    let m = manifest(&dir);
    let hashed = |key: &str| {
        m.objects
            .iter()
            .find(|o| o.key == key)
            .unwrap()
            .sha256
            .clone()
    };
    for name in ["network", "modules", "system", "pid-51877", "processes"] {
        let l = line(&record(&dir), name).clone();
        assert_eq!(l["received"], format!("volatile/received/{name}.txt"));
        assert_eq!(
            l["received_sha256"],
            hashed(&format!("volatile/received/{name}.txt"))
        );
    }
    assert!(!dir.join("volatile/network.txt").exists());
    assert_eq!(line(&record(&dir), "network")["decoded"], "undecodable");
    // The bomb cost at most the decoded limit.
    let modules = std::fs::read(dir.join("volatile/modules.txt")).unwrap();
    assert_eq!(modules.len(), MAX_DECODED);
    // Every object is one the responder named; nothing sits outside the bundle.
    let mut names: Vec<String> = manifest(&dir).objects.into_iter().map(|o| o.key).collect();
    names.sort();
    let allowed = |n: &str| {
        [
            "finding.json",
            "collection-gaps.json",
            "volatile/command.json",
        ]
        .contains(&n)
            || n.starts_with("describe/")
            || n.starts_with("volatile/scripts/")
            || ["system", "processes", "network", "modules"]
                .iter()
                .map(|a| a.to_string())
                .chain(["51877", "51866", "51855", "51844", "51833"].map(|p| format!("pid-{p}")))
                .any(|a| {
                    ["volatile/", "volatile/received/"]
                        .iter()
                        .any(|dir| n == format!("{dir}{a}.txt"))
                })
    };
    assert!(names.iter().all(|n| allowed(n)), "{names:?}");
    for key in keys(&s3, &r.bucket, "").await {
        assert!(key.starts_with(&prefix(&r)), "{key} outside the bundle");
    }
    // The gaps name the artefacts in the responder's words only.
    let gaps = std::fs::read_to_string(dir.join("collection-gaps.json")).unwrap();
    for bad in ["evil", "channel", "QUJD", "root"] {
        assert!(!gaps.contains(bad), "{bad} in {gaps}");
    }
    assert!(gaps.contains("volatile/network: command "), "{gaps}");
}

/// One command failing (SSM says `Failed`) is that artefact's gap; the others are there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_command_failing_leaves_the_others() {
    let r = rig("vco-one", capture(20), |_| {}).await;
    let failed = Invocation {
        status: "Failed".into(),
        stdout: String::new(),
        stderr: "sh: 1: ss: not found".into(),
    };
    let outcomes = answering(&r, vec![("network", failed)]).await;
    let step = outcome(&outcomes, ActionKind::Ec2CaptureVolatile);
    assert_eq!(step.status, Status::Done, "{step:?}");
    assert!(
        step.detail.starts_with("8 of 9 artefacts"),
        "{}",
        step.detail
    );
    assert!(step.detail.contains("network: command "), "{}", step.detail);
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::Failed, "incomplete: {bundle:?}");
    let dir = verified_bundle(&r, bundle, "vco-one").await;
    assert!(!dir.join("volatile/network.txt").exists());
    for name in ["system", "processes", "modules", "pid-51833"] {
        assert_eq!(
            std::fs::read_to_string(dir.join(format!("volatile/{name}.txt"))).unwrap(),
            format!("the {name} artefact\n")
        );
    }
    let gaps = std::fs::read_to_string(dir.join("collection-gaps.json")).unwrap();
    assert!(gaps.contains("volatile/network: command "), "{gaps}");
    assert_eq!(line(&record(&dir), "network")["status"], "Failed");
}

/// A re-delivered finding finds its bundle (`already done`): it sends no command, whose
/// record would land in no manifest, and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_sends_no_command() {
    let r = rig("vco-again", capture(20), |_| {}).await;
    let answer = |sent: &serde_json::Value| Some(good(&artefact_of(script_of(sent))));
    let (first, outcomes) = run_via_proxy(&r, capture(20), |p| p.command_output(answer)).await;
    assert_eq!(sent_commands(&first).len(), 9);
    assert_eq!(
        outcome(&outcomes, ActionKind::Ec2CaptureVolatile).status,
        Status::Done
    );
    let again = proxy(|p| p.command_output(answer)).await;
    let via = Aws::at(&again.endpoint(), REGION).await;
    let outcomes = executor(&via, &r, capture(20)).execute(&r.plan).await;
    let bundle = outcome(&outcomes, ActionKind::EvidenceWriteBundle);
    assert_eq!(bundle.status, Status::AlreadyDone, "{bundle:?}");
    let step = outcome(&outcomes, ActionKind::Ec2CaptureVolatile);
    assert_eq!(step.status, Status::AlreadyDone, "{step:?}");
    assert!(step.detail.contains("no command sent"), "{}", step.detail);
    let ssm: Vec<_> = again
        .calls()
        .into_iter()
        .filter(|c| c.action == "SendCommand" || c.action == "GetCommandInvocation")
        .collect();
    assert!(ssm.is_empty(), "{ssm:?}");
    // The first run's bundle stands, whole.
    let dir = download_from(
        &s3_client(&r.direct.config),
        &r.bucket,
        &prefix(&r),
        "vco-again",
    )
    .await;
    assert!(verify_dir(&dir, None).unwrap().is_ok());
    assert_eq!(record(&dir)["commands"].as_array().unwrap().len(), 9);
}
