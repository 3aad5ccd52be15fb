//! Unit tests of the quarantine's pure parts.

use super::*;
use crate::actions::ec2::observe::{GroupRef, Volume};

fn view() -> InstanceView {
    let eni = |id: &str, groups: &[(&str, &str)]| Eni {
        id: id.into(),
        vpc_id: Some("vpc-0a1b2c3d4e5f60789".into()),
        groups: groups
            .iter()
            .map(|(id, name)| GroupRef {
                id: (*id).into(),
                name: Some((*name).into()),
            })
            .collect(),
        private_ips: vec![],
    };
    InstanceView {
        id: "i-0a1b2c3d4e5f60718".into(),
        state: "running".into(),
        spot: false,
        instance_store_root: false,
        asg_tag: None,
        instance_profile_arn: None,
        enis: vec![
            eni(
                "eni-89105b0f1abcd2385",
                &[
                    ("sg-0123456789abcdef0", "web"),
                    ("sg-0fedcba9876543211", "ssh"),
                ],
            ),
            eni(
                "eni-b6c63d3a205f57764",
                &[(
                    "sg-0aa11bb22cc33dd44",
                    isolation_groups::NO_RULES_GROUP_NAME,
                )],
            ),
        ],
        volumes: vec![
            Volume {
                device_name: "/dev/xvda".into(),
                volume_id: "vol-1".into(),
                delete_on_termination: true,
            },
            Volume {
                device_name: "/dev/sdf".into(),
                volume_id: "vol-2".into(),
                delete_on_termination: false,
            },
        ],
        tags: BTreeMap::new(),
    }
}

#[test]
fn capture_skips_enis_already_isolated_and_unreadable_values() {
    let p = capture(
        &view(),
        &Ok(false),
        &Err("denied".into()),
        &Ok(vec![
            Eip {
                allocation_id: "eipalloc-0123456789abcdef0".into(),
                association_id: Some("eipassoc-1".into()),
                public_ip: "203.0.113.24".into(),
                network_interface_id: Some("eni-89105b0f1abcd2385".into()),
                private_ip: Some("10.0.1.23".into()),
            },
            Eip {
                allocation_id: "eipalloc-0123456789abcdef1".into(),
                association_id: None,
                public_ip: "203.0.113.25".into(),
                network_interface_id: None,
                private_ip: None,
            },
        ]),
        &Ok(Some(AsgMember {
            group: "web".into(),
            lifecycle_state: "InService".into(),
        })),
    );
    assert_eq!(
        p.network_interfaces.keys().collect::<Vec<_>>(),
        ["eni-89105b0f1abcd2385"]
    );
    assert_eq!(p.termination_protection, Some(false));
    assert_eq!(p.shutdown_behavior, None);
    assert_eq!(p.delete_on_termination, ["/dev/xvda"]);
    assert_eq!(p.auto_scaling_group.as_deref(), Some("web"));
    assert_eq!(p.elastic_ips.as_ref().map(Vec::len), Some(1));
    assert!(p.encode().is_ok());
}

#[test]
fn a_record_is_trusted_only_on_an_isolated_instance_or_for_this_finding() {
    let record = Ok(Some(PriorState::default()));
    let unreadable = Err(PriorStateError("garbage".into()));
    let mut live = view();
    live.enis.truncate(1); // no ENI in an isolation group
    assert!(matches!(
        judge_record(&live, "f1", &record, &MacVerdict::NotConfigured),
        Record::Untrusted
    ));
    assert!(matches!(
        judge_record(&live, "f1", &unreadable, &MacVerdict::NotConfigured),
        Record::Untrusted
    ));
    assert!(matches!(
        judge_record(&live, "f1", &Ok(None), &MacVerdict::NotConfigured),
        Record::None
    ));
    assert!(matches!(
        judge_record(&view(), "f1", &record, &MacVerdict::NotConfigured),
        Record::Ours(_)
    ));
    assert!(matches!(
        judge_record(&view(), "f1", &unreadable, &MacVerdict::NotConfigured),
        Record::OursUnreadable(_)
    ));
    live.tags.insert(FINDING_ID_KEY.into(), "f0".into());
    assert!(matches!(
        judge_record(&live, "f1", &record, &MacVerdict::NotConfigured),
        Record::Untrusted
    ));
    assert!(matches!(
        judge_record(&live, "f0", &record, &MacVerdict::NotConfigured),
        Record::Ours(_)
    ));
}

#[test]
fn a_record_whose_mac_fails_is_replaced_one_without_is_kept() {
    let record = Ok(Some(PriorState::default()));
    assert!(matches!(
        judge_record(&view(), "f1", &record, &MacVerdict::Invalid),
        Record::Untrusted
    ));
    for kept in [
        MacVerdict::Valid,
        MacVerdict::Absent,
        MacVerdict::Unverifiable("throttled".into()),
    ] {
        assert!(matches!(
            judge_record(&view(), "f1", &record, &kept),
            Record::Ours(_)
        ));
    }
}

#[test]
fn tag_values_are_restricted() {
    assert_eq!(
        tag_value("DefenseEvasion:Runtime/KernelModuleLoaded"),
        "DefenseEvasion:Runtime/KernelModuleLoaded"
    );
    assert_eq!(tag_value("a<b>\n\u{202e}"), "a_b___");
    assert_eq!(tag_value(&"x".repeat(300)).len(), 256);
}
