use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{TimeZone, Utc};

use super::manifest::sha256_hex;
use super::*;

const FINDING: &str = "60c8b4e2b4a1f0b9c1d3e5f7a9b1c3d5";

fn bundle(order: &[(&str, &[u8])]) -> Bundle {
    let prefix = BundlePrefix::new("123456789012", FINDING, "i-0abc123").expect("valid");
    let mut b = Bundle::new(
        prefix,
        "arn:aws:iam::123456789012:role/guardduty-responder-ec2",
    );
    let at = Utc
        .with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
        .single()
        .expect("valid time");
    for (name, bytes) in order {
        b.add(name, bytes.to_vec(), "test:Collect", at)
            .expect("added");
    }
    b
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("evidence-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

const OBJECTS: [(&str, &[u8]); 3] = [
    ("finding.json", b"{\"id\":\"x\"}"),
    ("describe/instance.json", b"{\"Reservations\":[]}"),
    ("empty.txt", b""),
];

#[test]
fn the_manifest_bytes_do_not_depend_on_collection_order() {
    let mut reversed = OBJECTS;
    reversed.reverse();
    let a = bundle(&OBJECTS).manifest().to_bytes();
    let b = bundle(&reversed).manifest().to_bytes();
    assert_eq!(a, b);
    let parsed = Manifest::parse(&a).expect("parses");
    assert_eq!(
        parsed.to_bytes(),
        a,
        "parse then serialise gives the same bytes"
    );
    let keys: Vec<&str> = parsed.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        ["describe/instance.json", "empty.txt", "finding.json"]
    );
}

#[test]
fn each_entry_hashes_the_bytes_collected() {
    let m = bundle(&OBJECTS).manifest();
    let entry = m
        .objects
        .iter()
        .find(|o| o.key == "finding.json")
        .expect("listed");
    // Independent of the module: SHA-256 of the empty string is a published constant.
    let empty = m
        .objects
        .iter()
        .find(|o| o.key == "empty.txt")
        .expect("listed");
    assert_eq!(
        empty.sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(entry.size, 10);
    assert_eq!(entry.collected_at, "2026-11-30T12:00:00.000Z");
}

#[test]
fn an_object_is_never_added_twice_nor_as_the_manifest() {
    let mut b = bundle(&OBJECTS);
    let at = Utc::now();
    assert!(matches!(
        b.add("finding.json", vec![1], "x", at),
        Err(BundleError::Duplicate(_))
    ));
    assert!(matches!(
        b.add(MANIFEST_NAME, vec![1], "x", at),
        Err(BundleError::Reserved)
    ));
    assert!(matches!(
        b.add("../x", vec![1], "x", at),
        Err(BundleError::Path(_))
    ));
}

#[test]
fn a_written_bundle_verifies_and_its_manifest_hash_is_the_file_hash() {
    let dir = scratch("ok");
    let sha = bundle(&OBJECTS).write_dir(&dir).expect("written");
    let on_disk = std::fs::read(dir.join(MANIFEST_NAME)).expect("manifest");
    assert_eq!(sha, sha256_hex(&on_disk));
    let report = verify_dir(&dir, Some(&sha)).expect("readable");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.objects, 3);
}

#[test]
fn tampered_missing_and_extra_objects_are_each_reported() {
    let dir = scratch("bad");
    let sha = bundle(&OBJECTS).write_dir(&dir).expect("written");
    std::fs::write(dir.join("finding.json"), b"{\"id\":\"y\"}").expect("tamper");
    std::fs::remove_file(dir.join("empty.txt")).expect("remove");
    std::fs::write(dir.join("describe/planted.sh"), b"x").expect("plant");
    let report = verify_dir(&dir, Some(&sha)).expect("readable");
    assert!(!report.is_ok());
    assert!(report.manifest_matches());
    assert_eq!(report.missing, ["empty.txt"]);
    assert_eq!(report.extra, ["describe/planted.sh"]);
    assert_eq!(report.mismatched.len(), 1);
    assert_eq!(report.mismatched[0].key, "finding.json");
    assert_eq!(
        report.mismatched[0].expected.size,
        report.mismatched[0].actual.size
    );
}

#[test]
fn a_tampered_manifest_is_reported() {
    let b = bundle(&OBJECTS);
    let found: BTreeMap<String, Digest> = OBJECTS
        .iter()
        .map(|(key, bytes)| ((*key).to_owned(), Digest::of(bytes)))
        .collect();
    let original = b.manifest().to_bytes();
    let sha = sha256_hex(&original);
    // Re-hashed to match a replaced object: the objects agree, the manifest hash does not.
    let mut forged = b.manifest();
    forged.objects[0].sha256 = sha256_hex(b"replaced");
    let forged = forged.to_bytes();
    let report = verify(&forged, &found, Some(&sha)).expect("readable");
    assert!(!report.manifest_matches());
    assert_eq!(
        report.mismatched.len(),
        1,
        "and the object no longer matches it"
    );
    // Without the expected hash, an edit that leaves the objects matching is invisible,
    // which is why the hash goes to the notification: whitespace changes only.
    let reformatted = serde_json::to_vec(&b.manifest()).expect("json");
    let report = verify(&reformatted, &found, None).expect("readable");
    assert!(report.is_ok());
    let report = verify(&reformatted, &found, Some(&sha)).expect("readable");
    assert!(!report.is_ok(), "{report}");
    assert!(verify(b"{\"format\":2}", &found, None).is_err());
}
