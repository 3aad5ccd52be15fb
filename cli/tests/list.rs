//! The real `responder list` binary against moto: an instance quarantined by the EC2
//! executor is listed (text and JSON) with its finding, age and release command; that
//! command, run as it is printed, releases it; `--older-than` leaves out young ones.

use integration_tests::moto::Moto;
use integration_tests::world::{self, Aws};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::execute::Executor;
use responder::outcome::any_failed;
use serde_json::Value;
use std::process::Output;

const REGION: &str = "us-west-2";

fn responder(endpoint: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_responder"))
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("RESPONDER_CROSS_ACCOUNT_ROLE")
        .env_remove("RESPONDER_RECORD_MAC_KEY_ID")
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shows_the_quarantine_and_its_printed_command_releases_it() {
    let moto = Moto::start().unwrap();
    let endpoint = moto.endpoint();
    let aws = Aws::at(&endpoint, REGION).await;
    let net = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    let fid = world::unique_finding_id();
    let event = world::finding_event(
        "ec2-defense-evasion-kernel-module.json",
        &fid,
        REGION,
        &inst,
        Some(&net.vpc_id),
    );
    let plan = world::contain_plan(&event, &Config::default());
    let outcomes = Ec2Executor::new(&aws.config).execute(&plan).await;
    assert!(!any_failed(&outcomes));

    let text = stdout(&responder(&endpoint, &["list"]));
    assert!(text.starts_with("1 contained resource\n"), "{text}");
    assert!(text.contains(&fid) && text.contains(&inst.id), "{text}");

    let json: Value = serde_json::from_str(&stdout(&responder(
        &endpoint,
        &["list", "--output", "json"],
    )))
    .unwrap();
    let c = &json["contained"][0];
    assert_eq!(c["finding_id"], fid.as_str());
    assert_eq!(c["surface"], "ec2");
    assert_eq!(c["account"], "123456789012");
    assert!(c["age_seconds"].as_u64().unwrap() < 600, "{c}");
    let command = c["release_command"].as_str().unwrap().to_owned();
    assert!(command.contains(&format!(" {REGION} ")) || command.contains(&format!(" {REGION}")));

    // Young: left out by --older-than.
    let old_only: Value = serde_json::from_str(&stdout(&responder(
        &endpoint,
        &["list", "--older-than", "1d", "--output", "json"],
    )))
    .unwrap();
    assert_eq!(old_only["contained"], serde_json::json!([]));

    // The printed command, run word for word.
    let words: Vec<&str> = command.split(' ').collect();
    assert_eq!(words[0], "responder");
    stdout(&responder(&endpoint, &words[1..]));
    let after = stdout(&responder(&endpoint, &["list"]));
    assert_eq!(after, "Nothing is contained.\n");

    // A bad scope is refused before any call.
    let bad = responder(&endpoint, &["list", "--account", "12345"]);
    assert_eq!(bad.status.code(), Some(2));
}
