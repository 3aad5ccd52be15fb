//! Cold start of the real function binary — process start to first response, the event
//! fully handled (parse, plan, quarantine against moto, notify a local webhook) — next to
//! a minimal Python boto3 handler doing only describe + modify (`bench/python_handler.py`).
//! A benchmark, not a check: run with
//! `cargo test --release -p responder-ec2 --test cold_start -- --ignored --nocapture`
//! and copy the figures into docs/benchmarks.md.

use integration_tests::moto;
use integration_tests::runtime_api::RuntimeApi;
use integration_tests::webhook::Webhook;
use integration_tests::world::{self, Aws};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 7;

/// (init: process start → first poll, total: process start → response)
async fn one_cold_start(mut cmd: Command, event: Vec<u8>) -> (Duration, Duration) {
    let api = RuntimeApi::start().await;
    let started = Instant::now();
    let mut child = cmd
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", moto::shared().endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the handler");
    api.invoke("bench", event);
    let answer = api
        .answer(Duration::from_secs(120))
        .await
        .expect("an answer");
    assert!(answer.ok, "{:?}", answer.body);
    let _ = child.kill();
    let _ = child.wait();
    (
        api.first_poll().expect("it polled") - started,
        answer.at - started,
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run explicitly"]
async fn cold_start_rust_vs_python() {
    let aws = Aws::moto("us-east-1").await;
    let hook = Webhook::start(vec![]).await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let python = moto::moto_server_path().with_file_name("python");
    let (mut rust, mut py) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        // A fresh instance each run, so every run does the full quarantine.
        let net = world::network(&aws).await;
        let instance = world::two_eni_instance(&aws, &net).await;
        let event = world::finding_event(
            "ec2-defense-evasion-kernel-module.json",
            &world::unique_finding_id(),
            "us-east-1",
            &instance,
            Some(&net.vpc_id),
        );
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_responder-ec2"));
        cmd.env_clear()
            .env("RESPONDER_MODE", "enforce")
            .env("RESPONDER_SLACK_WEBHOOK_URL", hook.url());
        rust.push(one_cold_start(cmd, event.clone()).await);

        let other = world::two_eni_instance(&aws, &net).await;
        let event = world::finding_event(
            "ec2-defense-evasion-kernel-module.json",
            &world::unique_finding_id(),
            "us-east-1",
            &other,
            Some(&net.vpc_id),
        );
        let mut cmd = Command::new(&python);
        cmd.env_clear()
            .arg(format!("{root}/bench/python_handler.py"))
            .env("ISOLATION_GROUP_ID", &net.backend_sg);
        py.push(one_cold_start(cmd, event).await);
    }
    let split = |v: &[(Duration, Duration)]| {
        (
            median(v.iter().map(|x| x.0).collect()),
            median(v.iter().map(|x| x.1).collect()),
        )
    };
    let ((ri, rt), (pi, pt)) = (split(&rust), split(&py));
    println!("runs: {RUNS} (medians)");
    println!(
        "init (process start -> first poll): rust {ri:?}, python {pi:?}, python/rust {:.1}",
        pi.as_secs_f64() / ri.as_secs_f64()
    );
    println!(
        "total (process start -> response):  rust {rt:?} (full pipeline), python {pt:?} (describe+modify only), python/rust {:.1}",
        pt.as_secs_f64() / rt.as_secs_f64()
    );
}
