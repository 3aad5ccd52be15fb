//! `responder evidence verify` on the real binary, against bundles the library writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{TimeZone, Utc};
use responder::evidence::{Bundle, BundlePrefix, Digest};

fn responder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_responder"))
        .args(args)
        .output()
        .unwrap()
}

/// A bundle of three objects written to a fresh directory; returns it and the manifest hash.
fn written(name: &str) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("cli-evidence-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let prefix =
        BundlePrefix::new("123456789012", "60c8b4e2b4a1f0b9c1d3e5f7a9b1c3d5", "i-0abc").unwrap();
    let mut bundle = Bundle::new(
        prefix,
        "arn:aws:iam::123456789012:role/guardduty-responder-ec2",
    );
    let at = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    bundle
        .add(
            "finding.json",
            b"{\"id\":1}".to_vec(),
            "guardduty:finding",
            at,
        )
        .unwrap();
    bundle
        .add(
            "describe/instance.json",
            b"{}".to_vec(),
            "ec2:DescribeInstances",
            at,
        )
        .unwrap();
    bundle
        .add("tags.json", b"[]".to_vec(), "ec2:DescribeTags", at)
        .unwrap();
    let sha = bundle.write_dir(&dir).unwrap();
    (dir, sha)
}

fn verify(dir: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["evidence", "verify", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = responder(&args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), text)
}

#[test]
fn an_untouched_bundle_verifies() {
    let (dir, sha) = written("ok");
    let (code, text) = verify(&dir, &["--manifest-sha256", &sha]);
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("OK: 3 objects listed"), "{text}");
    assert!(text.contains(&sha), "{text}");
}

/// A bundle written, then changed by `tamper`: verification exits 1, says `FAILED` and
/// prints `line`.
fn fails_with(name: &str, tamper: impl FnOnce(&Path), line: &str) {
    let (dir, _) = written(name);
    tamper(&dir);
    let (code, text) = verify(&dir, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(line), "{text}");
    assert!(text.contains("FAILED"), "{text}");
}

#[test]
fn a_tampered_object_is_a_mismatch() {
    fails_with(
        "tampered",
        |d| std::fs::write(d.join("describe/instance.json"), b"{ }").unwrap(),
        "mismatch: describe/instance.json",
    );
}

#[test]
fn a_missing_object_is_reported() {
    fails_with(
        "missing",
        |d| std::fs::remove_file(d.join("tags.json")).unwrap(),
        "missing: tags.json",
    );
}

#[test]
fn an_extra_object_is_reported() {
    fails_with(
        "extra",
        |d| std::fs::write(d.join("describe/planted.json"), b"{}").unwrap(),
        "unexpected (not in the manifest): describe/planted.json",
    );
}

/// A collection cut short before its last put: objects, no manifest. Said plainly, with
/// what is there, and a failure (exit 1), never taken for a bundle that verifies.
#[test]
fn a_bundle_without_its_manifest_is_incomplete() {
    let (dir, _) = written("no-manifest");
    std::fs::remove_file(dir.join("manifest.json")).unwrap();
    let (code, text) = verify(&dir, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("manifest missing: no manifest.json"),
        "{text}"
    );
    for key in ["finding.json", "describe/instance.json", "tags.json"] {
        assert!(
            text.contains(&format!("present, unverified: {key}")),
            "{text}"
        );
    }
    assert!(
        text.contains("INCOMPLETE: no manifest, 3 objects present"),
        "{text}"
    );
    assert!(!text.contains("OK"), "{text}");
    // Nothing at all is no bundle: an error.
    let empty = std::env::temp_dir().join(format!("cli-evidence-empty-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&empty);
    std::fs::create_dir_all(&empty).unwrap();
    let (code, text) = verify(&empty, &[]);
    assert_eq!(code, 2, "{text}");
}

/// What the instance wrote over SSM cannot be in the manifest; with the command's record in
/// it, those objects are listed as unverified, not as a failure. Anywhere else, or without
/// the record, they are unexpected.
#[test]
fn the_instances_ssm_output_is_listed_unverified_only_where_the_record_says() {
    let dir = std::env::temp_dir().join(format!("cli-evidence-ssm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let prefix =
        BundlePrefix::new("123456789012", "60c8b4e2b4a1f0b9c1d3e5f7a9b1c3d5", "i-0abc").unwrap();
    let mut bundle = Bundle::new(prefix, "guardduty-responder-ec2");
    let at = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    bundle
        .add(
            "volatile/command.json",
            b"{}".to_vec(),
            "ssm:SendCommand",
            at,
        )
        .unwrap();
    bundle.write_dir(&dir).unwrap();
    let out = "volatile/ssm/c0/i-0abc/awsrunShellScript/0.awsrunShellScript/stdout";
    std::fs::create_dir_all(dir.join(out).parent().unwrap()).unwrap();
    std::fs::write(dir.join(out), b"ps output").unwrap();
    let (code, text) = verify(&dir, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "written by the instance over SSM (not in the manifest, unverified): {out}"
        )),
        "{text}"
    );
    // A planted object beside it is still unexpected.
    std::fs::write(dir.join("volatile/planted"), b"x").unwrap();
    let (code, text) = verify(&dir, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("unexpected (not in the manifest): volatile/planted"),
        "{text}"
    );

    // Without the record, the same output is unexpected.
    let (plain, _) = written("ssm-no-record");
    std::fs::create_dir_all(plain.join(out).parent().unwrap()).unwrap();
    std::fs::write(plain.join(out), b"ps output").unwrap();
    let (code, text) = verify(&plain, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("unexpected (not in the manifest): {out}")),
        "{text}"
    );
}

#[test]
fn a_tampered_manifest_is_reported() {
    let (dir, sha) = written("manifest");
    // Object and manifest rewritten together: consistent, but not the recorded manifest.
    std::fs::write(dir.join("tags.json"), b"[1]").unwrap();
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let old = "\"size\": 2,\n      \"source_api\": \"ec2:DescribeTags\"";
    assert!(manifest.contains(old), "{manifest}");
    let forged = manifest
        .replace(
            old,
            "\"size\": 3,\n      \"source_api\": \"ec2:DescribeTags\"",
        )
        .replace(&Digest::of(b"[]").sha256, &Digest::of(b"[1]").sha256);
    std::fs::write(dir.join("manifest.json"), forged).unwrap();
    let (code, text) = verify(&dir, &[]);
    assert_eq!(code, 0, "consistent without the recorded hash: {text}");
    let (code, text) = verify(&dir, &["--manifest-sha256", &sha]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("manifest tampered"), "{text}");
    assert!(!text.contains("mismatch:"), "{text}");
}

#[test]
fn an_unreadable_bundle_and_an_s3_prefix_are_errors() {
    let (code, text) = verify(Path::new("/nonexistent-bundle"), &[]);
    assert_eq!(code, 2, "{text}");
    // A bucket without a bundle prefix (any build: without `aws` the bucket is not read).
    let (code, text) = verify(Path::new("s3://bucket"), &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("s3://bucket"), "{text}");
}
