//! `responder evidence verify s3://…` on the real binary against moto: a bundle written by
//! the responder's own writer verifies in place; an object planted under its prefix, or a
//! hash other than the notification's, fails it.

use std::process::Command;

use chrono::Utc;
use responder::evidence::store::EvidenceStore;
use responder::evidence::{Bundle, BundlePrefix};

fn verify(endpoint: &str, location: &str, sha: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_responder"))
        .args(["evidence", "verify", location, "--manifest-sha256", sha])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// moto's endpoint, its config, a path-style S3 client and a fresh bucket `<name>-<pid>`.
async fn moto_bucket(name: &str) -> (String, aws_config::SdkConfig, aws_sdk_s3::Client, String) {
    let endpoint = integration_tests::moto::shared().endpoint();
    let sdk = integration_tests::world::sdk_config(&endpoint, "us-east-1").await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("{name}-{}", std::process::id());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    (endpoint, sdk, s3, bucket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_in_the_bucket_verifies_in_place_and_a_planted_object_fails_it() {
    let (endpoint, sdk, s3, bucket) = moto_bucket("cli-evidence").await;
    let prefix =
        BundlePrefix::new("123456789012", "60c8b4e2b4a1f0b9c1d3e5f7a9b1c3d5", "i-0abc").unwrap();
    let mut bundle = Bundle::new(prefix.clone(), "guardduty-responder-ec2");
    bundle
        .add(
            "finding.json",
            b"{\"id\":1}".to_vec(),
            "guardduty:finding",
            Utc::now(),
        )
        .unwrap();
    bundle
        .add(
            "logs/web.log",
            b"1 hello\n".to_vec(),
            "logs:GetLogEvents",
            Utc::now(),
        )
        .unwrap();
    let store = EvidenceStore::new(&sdk, &bucket, Some("us-east-1"), None);
    let sha = store.write(&bundle, &[]).await.unwrap();
    let location = format!("s3://{bucket}/{prefix}");

    let (code, text) = verify(&endpoint, &location, &sha);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("OK: 2 objects listed"), "{text}");

    let (code, text) = verify(&endpoint, &location, &"0".repeat(64));
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("manifest tampered"), "{text}");

    s3.put_object()
        .bucket(&bucket)
        .key(prefix.key("describe/planted.json").unwrap())
        .body(b"{}".to_vec().into())
        .send()
        .await
        .unwrap();
    let (code, text) = verify(&endpoint, location.trim_end_matches('/'), &sha);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("unexpected (not in the manifest): describe/planted.json"),
        "{text}"
    );
}

/// A prefix whose collection was cut short: objects, no manifest. Reported with what is
/// there, exit 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_without_a_manifest_is_reported_incomplete() {
    let (endpoint, _, s3, bucket) = moto_bucket("cli-evidence-cut").await;
    let prefix =
        BundlePrefix::new("123456789012", "60c8b4e2b4a1f0b9c1d3e5f7a9b1c3d5", "i-0cut").unwrap();
    for key in ["finding.json", "describe/instance.json"] {
        s3.put_object()
            .bucket(&bucket)
            .key(prefix.key(key).unwrap())
            .body(b"{}".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let location = format!("s3://{bucket}/{prefix}");
    let (code, text) = verify(&endpoint, &location, &"0".repeat(64));
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("manifest missing: no manifest.json"),
        "{text}"
    );
    assert!(
        text.contains("present, unverified: describe/instance.json"),
        "{text}"
    );
    assert!(text.contains("present, unverified: finding.json"), "{text}");
    assert!(
        text.contains("INCOMPLETE: no manifest, 2 objects present"),
        "{text}"
    );
}
