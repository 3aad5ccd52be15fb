//! `responder release ec2|ecs` parse their identifiers at the boundary: a value a contained
//! workload could have planted (a path, a newline, a look-alike letter, a shell fragment)
//! is refused with one neutralised `error:` line and exit 2, before any AWS call (the
//! endpoint here is a closed port: a call would fail with a different message).

use std::process::{Command, Output};

fn release(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_responder"))
        .arg("release")
        .args(args)
        .args(["--region", "us-east-1"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("RESPONDER_RECORD_MAC_KEY_ID")
        .output()
        .unwrap()
}

fn refused(out: &Output, says: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("error: ") && err.contains(says), "{err:?}");
}

#[test]
fn a_hostile_instance_id_is_refused_before_any_call() {
    for bad in [
        "i-; rm -rf /",
        "i-0a1b2c3d/../x",
        "i-0a1b2c3d\nforged line",
        "і-0a1b2c3d4e5f60718",
        "I-0A1B2C3D",
    ] {
        refused(&release(&["ec2", bad]), "is not an instance id");
    }
}

#[test]
fn a_hostile_task_arn_or_cluster_is_refused_before_any_call() {
    let arn = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";
    for bad in [
        "arn:aws:ecs:us-east-1:123456789012:task/prod/x\nforged",
        "arn:aws:ecs:us-east-1:123456789012:service/prod/x",
        "arn:aws:ecs:us-east-1:123456789012:task/prod/<script>",
    ] {
        refused(&release(&["ecs", "prod", bad]), "is not a task ARN");
    }
    for bad in ["prod/../x", "prod\nforged", "рrod"] {
        refused(&release(&["ecs", bad, arn]), "is not a cluster name");
    }
}
