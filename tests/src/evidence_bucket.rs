//! An evidence bucket in moto as `infra/modules/responder/evidence.tf` makes it, and the
//! investigator's side: download a bundle and read what the outcome reports.

use aws_sdk_s3::types::{
    DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
    ObjectLockRule,
};
use responder::outcome::Outcome;
use responder::plan::ActionKind;
use std::path::PathBuf;

/// Path-style S3 (moto on loopback has no bucket host names).
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// SSE-KMS with its own key, Object Lock (hence versioning) with a default GOVERNANCE
/// retention. Returns the bucket and the key's ARN.
pub async fn evidence_bucket(config: &aws_config::SdkConfig, name: &str) -> (String, String) {
    let s3 = s3_client(config);
    let kms = aws_sdk_kms::Client::new(config);
    let key_arn = kms
        .create_key()
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .map(|k| k.arn().unwrap_or_default().to_owned())
        .expect("key");
    let bucket = format!("evidence-{name}-{}", std::process::id());
    s3.create_bucket()
        .bucket(&bucket)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("CreateBucket");
    s3.put_object_lock_configuration()
        .bucket(&bucket)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::Governance)
                                .days(1)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("PutObjectLockConfiguration");
    (bucket, key_arn)
}

/// Downloads every object under `prefix` (their current versions) into a fresh directory,
/// as an investigator would with `aws s3 cp --recursive`.
pub async fn download_from(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    name: &str,
) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bundle-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .expect("ListObjectsV2");
    for o in listed.contents() {
        let key = o.key().expect("key");
        let got = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("GetObject");
        let bytes = got.body.collect().await.expect("body").into_bytes();
        let path = dir.join(key.strip_prefix(prefix).expect("under the prefix"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }
    dir
}

/// Every key stored under `prefix` (the bucket's side: nothing may sit outside it).
pub async fn keys(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    s3.list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .expect("ListObjectsV2")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

pub fn outcome(outcomes: &[Outcome], kind: ActionKind) -> &Outcome {
    outcomes
        .iter()
        .find(|o| o.kind == kind)
        .unwrap_or_else(|| panic!("no outcome for {}: {outcomes:#?}", kind.name()))
}

/// The manifest hash the outcome reports (the notification's and the log's).
pub fn reported_sha(o: &Outcome) -> String {
    o.evidence
        .as_ref()
        .and_then(|e| e["manifest_sha256"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no manifest hash in {o:?}"))
}

/// What a workload writes to stdout to attack whoever reads its logs.
pub const HOSTILE: &str =
    "<script>alert(1)</script> <@U0ADMIN> <!channel> \u{202e}gnp.exe \x1b[31m`rm -rf`";
