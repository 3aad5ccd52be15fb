//! Unit tests of `prior_state.rs`.

use super::*;

fn sg(n: u64) -> String {
    format!("sg-{n:017x}")
}

fn sample() -> PriorState {
    PriorState {
        network_interfaces: BTreeMap::from([
            (
                "eni-89105b0f1abcd2385".to_owned(),
                vec!["sg-0123456789abcdef0".into(), "sg-0fedcba9876543211".into()],
            ),
            ("eni-b6c63d3a".to_owned(), vec!["sg-0aa11bb2".into()]),
        ]),
        termination_protection: Some(false),
        shutdown_behavior: Some("terminate".into()),
        delete_on_termination: vec!["/dev/xvda".into(), "/dev/sdf".into()],
        auto_scaling_group: Some("web-asg".into()),
        elastic_ips: Some(vec![EipAssociation {
            allocation_id: "eipalloc-0a1b2c3d4e5f60718".into(),
            network_interface_id: "eni-89105b0f1abcd2385".into(),
            private_ip: "10.0.1.23".into(),
        }]),
    }
}

fn roundtrip(s: &PriorState) -> PriorState {
    let tags = s.encode().expect("encodes");
    for (k, v) in &tags {
        assert!(k.len() <= 128, "{k}");
        assert!(v.chars().count() <= MAX_VALUE, "{k}: {} chars", v.len());
    }
    PriorState::decode(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .expect("decodes")
        .expect("present")
}

#[test]
fn round_trips_and_is_readable() {
    let s = sample();
    let tags = s.encode().unwrap();
    assert!(tags.contains(&(
        "guardduty-responder:prior:eni:eni-89105b0f1abcd2385".into(),
        "sg-0123456789abcdef0,sg-0fedcba9876543211".into()
    )));
    assert!(tags.contains(&(
        PRIOR_KEY.into(),
        "v=1;termination-protection=false;shutdown-behavior=terminate;elastic-ips=recorded".into()
    )));
    assert_eq!(roundtrip(&s), s);
}

#[test]
fn any_printable_auto_scaling_group_name_round_trips() {
    let mut s = sample();
    s.auto_scaling_group = Some("web #1 (blue) — ünïcode".into());
    assert_eq!(roundtrip(&s), s);
    s.auto_scaling_group = Some("x".repeat(255));
    assert_eq!(roundtrip(&s), s);
}

#[test]
fn unknowns_round_trip() {
    let s = PriorState {
        termination_protection: None,
        shutdown_behavior: None,
        elastic_ips: None,
        auto_scaling_group: None,
        delete_on_termination: vec![],
        ..sample()
    };
    assert_eq!(roundtrip(&s), s);
}

#[test]
fn sixteen_long_groups_fit_in_one_tag_per_eni() {
    let groups: Vec<String> = (0..16u64)
        .map(|i| sg(0x0fff_ffff_ffff_ffff - i * 7919))
        .collect();
    let mut s = sample();
    s.network_interfaces
        .insert("eni-0123456789abcdef0".into(), groups.clone());
    let tags = s.encode().unwrap();
    let v = &tags
        .iter()
        .find(|(k, _)| k.ends_with("eni-0123456789abcdef0"))
        .unwrap()
        .1;
    assert!(v.starts_with("packed:") && v.len() <= MAX_VALUE, "{v}");
    assert_eq!(
        roundtrip(&s).network_interfaces["eni-0123456789abcdef0"],
        groups
    );
    // Short (8-digit) and long ids mixed, including leading zeros.
    let mixed = vec!["sg-00000000".to_owned(), sg(0), sg(1), "sg-abcdef01".into()];
    let packed = pack_groups(&mixed).unwrap();
    assert_eq!(unpack_groups(&packed["packed:".len()..]).unwrap(), mixed);
}

#[test]
fn long_device_lists_are_chunked() {
    let mut s = sample();
    s.delete_on_termination = (0..40).map(|i| format!("/dev/xvd{i:03}")).collect();
    let tags = s.encode().unwrap();
    assert!(
        tags.iter()
            .any(|(k, _)| k.ends_with("delete-on-termination:2"))
    );
    assert_eq!(roundtrip(&s), s);
}

#[test]
fn nothing_recorded_is_none() {
    let tags = [("Name", "web-01"), ("guardduty-responder:exempt", "false")];
    assert_eq!(PriorState::decode(tags), Ok(None));
}

#[test]
fn forged_or_corrupt_tags_are_rejected() {
    let good = sample().encode().unwrap();
    let with = |k: &str, v: &str| {
        let mut t = good.clone();
        t.retain(|(key, _)| key != k);
        t.push((k.to_owned(), v.to_owned()));
        PriorState::decode(t.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    };
    assert!(
        with(
            "guardduty-responder:prior:eni:eni-89105b0f1abcd2385",
            "sg-1;rm"
        )
        .is_err()
    );
    assert!(with("guardduty-responder:prior:eni:eni-XYZ", "sg-01234567").is_err());
    assert!(with(PRIOR_KEY, "v=2").is_err());
    assert!(with("guardduty-responder:prior:asg", "web\nasg").is_err());
    assert!(with("guardduty-responder:prior:asg", "").is_err());
    assert!(with(PRIOR_KEY, "garbage").is_err());
    assert!(
        with(
            "guardduty-responder:prior:eip:eipalloc-0a1b2c3d4e5f60718",
            "eni-89105b0f1abcd2385,not-an-ip"
        )
        .is_err()
    );
    assert!(
        with(
            "guardduty-responder:prior:eni:eni-89105b0f1abcd2385",
            "packed:!!"
        )
        .is_err()
    );
}

#[test]
fn refuses_to_encode_what_it_cannot_decode() {
    let mut s = sample();
    s.network_interfaces
        .insert("eni-0123456789abcdef0".into(), vec!["default".into()]);
    assert!(s.encode().is_err());
    let mut s = sample();
    s.shutdown_behavior = Some("hibernate".into());
    assert!(s.encode().is_err());
}

#[test]
fn quarantine_keys_exclude_the_exemption_tag() {
    assert!(is_quarantine_key("guardduty-responder:prior"));
    assert!(is_quarantine_key(
        "guardduty-responder:prior:eni:eni-0123456789abcdef0"
    ));
    assert!(is_quarantine_key("guardduty-responder:status"));
    assert!(!is_quarantine_key("guardduty-responder:exempt"));
    assert!(!is_quarantine_key("Name"));
}
