use super::*;

const SAMPLE: &str = include_str!("../../../events/ebs-snapshot-completed.json");

fn with(f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn the_sample_names_one_snapshot_of_its_account_and_region() {
    assert!(sniff(SAMPLE.as_bytes()));
    let e = parse(SAMPLE.as_bytes()).unwrap();
    assert_eq!(e.account.as_str(), "123456789012");
    assert_eq!(e.region.as_str(), "us-east-1");
    assert_eq!(e.snapshot_id.as_str(), "snap-0a1b2c3d4e5f60718");
}

#[test]
fn both_arn_forms_of_the_events_region_are_read() {
    let usual = with(|v| {
        v["detail"]["snapshot_id"] = "arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60718".into()
    });
    assert_eq!(
        parse(&usual).unwrap().snapshot_id.as_str(),
        "snap-0a1b2c3d4e5f60718"
    );
}

#[test]
fn another_region_an_account_a_list_or_another_resource_is_refused() {
    for arn in [
        "arn:aws:ec2::eu-west-1:snapshot/snap-0a1b2c3d4e5f60718",
        "arn:aws:ec2:us-east-1:123456789012:snapshot/snap-0a1b2c3d4e5f60718",
        "arn:aws:ec2::us-east-1:snapshot/snap-0a1b2c3d4e5f60718,snap-0a1b2c3d4e5f60719",
        "arn:aws:ec2::us-east-1:volume/vol-0123456789abcdef0",
        "arn:aws:ec2::us-east-1:snapshot/snap-0A1B2C3D4E5F60718",
        "arn:aws:iam::us-east-1:snapshot/snap-0a1b2c3d4e5f60718",
        "arn:evil:ec2::us-east-1:snapshot/snap-0a1b2c3d4e5f60718",
        "snap-0a1b2c3d4e5f60718",
        "",
    ] {
        let bytes = with(|v| v["detail"]["snapshot_id"] = arn.into());
        assert!(
            matches!(
                parse(&bytes),
                Err(SnapshotEventError::Invalid {
                    field: "detail.snapshot_id",
                    ..
                })
            ),
            "{arn}"
        );
    }
    let not_a_string = with(|v| v["detail"]["snapshot_id"] = serde_json::json!(["a"]));
    assert!(matches!(
        parse(&not_a_string),
        Err(SnapshotEventError::Unreadable(_))
    ));
}

#[test]
fn a_bad_account_or_region_is_refused() {
    let account = with(|v| v["account"] = "12345678901x".into());
    assert!(matches!(
        parse(&account),
        Err(SnapshotEventError::Invalid {
            field: "account",
            ..
        })
    ));
    let region = with(|v| v["region"] = "us-east-1.evil.example".into());
    assert!(matches!(
        parse(&region),
        Err(SnapshotEventError::Invalid {
            field: "region",
            ..
        })
    ));
    let missing = with(|v| {
        v.as_object_mut().unwrap().remove("account");
    });
    assert!(matches!(
        parse(&missing),
        Err(SnapshotEventError::Unreadable(m)) if m.contains("account")
    ));
}

#[test]
fn other_snapshot_events_and_failures_are_not_acted_on() {
    for (event, result) in [
        ("copySnapshot", "succeeded"),
        ("createSnapshot", "failed"),
        ("shareSnapshot", "succeeded"),
    ] {
        let bytes = with(|v| {
            v["detail"]["event"] = event.into();
            v["detail"]["result"] = result.into();
        });
        assert!(sniff(&bytes));
        assert!(
            matches!(parse(&bytes), Err(SnapshotEventError::OtherEvent(_))),
            "{event} {result}"
        );
    }
}

#[test]
fn other_events_are_not_snapshot_notifications() {
    let volume = with(|v| v["detail-type"] = "EBS Volume Notification".into());
    assert!(!sniff(&volume));
    assert_eq!(parse(&volume), Err(SnapshotEventError::NotASnapshotEvent));
    let forged = with(|v| v["source"] = "ops.verify".into());
    assert!(!sniff(&forged));
    assert!(!sniff(b"not json"));
}
