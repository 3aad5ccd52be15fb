//! `responder release ec2|ecs|eks` parse their identifiers and region at the boundary: a
//! value a contained workload could have planted (a path, a newline, a look-alike letter,
//! a shell fragment, a host name posing as a region) is refused with one neutralised
//! `error:` line and exit 2, before any AWS call (the endpoint here is a closed port: a
//! call would fail with a different message).

use std::process::{Command, Output};

fn release(args: &[&str]) -> Output {
    release_in("us-east-1", args)
}

fn release_in(region: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_responder"))
        .arg("release")
        .args(args)
        .args(["--region", region])
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

/// A pod release names a cluster, a namespace and a pod the workload may have chosen (its
/// own namespace, its pod's name, labels copied into an alert): each must be a name, so
/// none can become a path segment of the API request (`../`) or a second output line.
#[test]
fn a_hostile_cluster_namespace_or_pod_is_refused_before_any_call() {
    for bad in ["prod/../x", "prod..x", "prod\nforged", "рrod"] {
        refused(
            &release(&["eks", bad, "web", "api-1"]),
            "is not a cluster name",
        );
    }
    for (namespace, pod) in [
        ("kube-system/x", "api-1"),
        ("..", "api-1"),
        ("web", "api-1/../../nodes"),
        ("web", "api-1\nforged line"),
        ("Web", "api-1"),
    ] {
        refused(
            &release(&["eks", "prod", namespace, pod]),
            "is not a namespace/pod name",
        );
    }
}

/// The region becomes the SDK's endpoint and the cluster token's STS host: a value that is
/// not a region is refused on every surface.
#[test]
fn a_region_that_is_not_one_is_refused_before_any_call() {
    let arn = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";
    for region in [
        "us-east-1.evil.example",
        "us-east-1\nforged",
        "../../x",
        "US-EAST-1",
    ] {
        for args in [
            &["eks", "prod", "web", "api-1"][..],
            &["ec2", "i-0a1b2c3d4e5f60718"][..],
            &["ecs", "prod", arn][..],
        ] {
            refused(&release_in(region, args), "is not a region");
        }
    }
}
