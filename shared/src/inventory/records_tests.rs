use super::*;

const ID: &str = "0123456789abcdef0123456789abcdef";

fn place() -> Place {
    Place {
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        partition: "aws".into(),
        now: "2026-11-30T12:00:00Z".parse().unwrap(),
    }
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn quarantined(finding: &str, at: &str) -> BTreeMap<String, String> {
    tags(&[
        (STATUS_KEY, STATUS_QUARANTINED),
        (FINDING_ID_KEY, finding),
        (FINDING_TYPE_KEY, "Execution:Runtime/ReverseShell"),
        (QUARANTINED_AT_KEY, at),
    ])
}

#[test]
fn an_instance_record_gives_its_finding_age_and_release_command() {
    let c = ec2_instance(
        &place(),
        "i-0123456789abcdef0",
        &quarantined(ID, "2026-11-28T12:00:00Z"),
        RecordCheck::Verified,
    )
    .unwrap();
    assert_eq!(c.finding_id.as_deref(), Some(ID));
    assert_eq!(
        c.finding_type.as_deref(),
        Some("Execution:Runtime/ReverseShell")
    );
    assert_eq!(
        c.age(place().now),
        Some(std::time::Duration::from_secs(2 * 86_400))
    );
    assert_eq!(
        c.release_command.as_deref(),
        Some("responder release ec2 i-0123456789abcdef0 --region eu-west-1 --execute")
    );
    assert!(c.notes.is_empty(), "{:?}", c.notes);
}

#[test]
fn an_untagged_instance_is_not_contained() {
    let t = tags(&[("Name", "web")]);
    assert_eq!(
        ec2_instance(&place(), "i-0123456789abcdef0", &t, RecordCheck::Verified),
        None
    );
}

#[test]
fn hostile_tag_values_are_refused_not_shown() {
    let lures = [
        "<!channel> *click* <https://evil.example|here>",
        "$(curl evil)",
        "a\u{202e}b",
        &"f".repeat(300),
    ];
    for lure in lures {
        let t = tags(&[
            (STATUS_KEY, lure),
            (FINDING_ID_KEY, lure),
            (FINDING_TYPE_KEY, lure),
            (QUARANTINED_AT_KEY, lure),
        ]);
        let c = ec2_instance(&place(), "i-0123456789abcdef0", &t, RecordCheck::Verified).unwrap();
        assert_eq!(c.status, "unrecognised");
        assert_eq!(
            (c.finding_id, c.finding_type, c.contained_at),
            (None, None, None)
        );
        let shown = serde_json::to_string(&c.notes).unwrap();
        for bad in ["<!channel>", "\u{202e}", "$(curl", "fff"] {
            assert!(!shown.contains(bad), "{shown}");
        }
        assert!(c.notes.iter().all(|n| n.len() <= 80), "{shown}");
        assert_eq!(c.notes.len(), 4, "{shown}");
    }
    // A hostile resource id gives no entry at all.
    let t = quarantined(ID, "2026-11-28T12:00:00Z");
    assert_eq!(
        ec2_instance(&place(), "i-1;rm -rf /", &t, RecordCheck::Verified),
        None
    );
    assert_eq!(
        ecs_task(
            &place(),
            "c",
            "arn:aws:ecs:eu-west-1:1:task/c/$(id)",
            &t,
            RecordCheck::Verified
        ),
        None
    );
}

#[test]
fn a_forged_future_time_is_not_believed() {
    let t = quarantined(ID, "2027-01-01T00:00:00Z");
    let c = ec2_instance(&place(), "i-0123456789abcdef0", &t, RecordCheck::Verified).unwrap();
    assert_eq!(c.contained_at, None);
    assert!(c.is_older_than(std::time::Duration::from_secs(86_400), place().now));
}

#[test]
fn an_eks_policy_names_its_pod_and_refuses_a_hostile_one() {
    let uid = "0b6e7f3c-1111-2222-3333-444455556666";
    let mut p = EksPolicy {
        cluster: "prod".into(),
        namespace: "shop".into(),
        name: policy_name(uid),
        labels: tags(&[(QUARANTINE_LABEL, uid)]),
        annotations: tags(&[
            (POD_ANNOTATION, "web-7d4b9c8f5-x2x9k"),
            (FINDING_ID_ANNOTATION, ID),
        ]),
        created: Some("2026-11-29T12:00:00Z".parse().unwrap()),
        pod_annotations: None,
    };
    let c = eks_policy(&place(), &p).unwrap();
    assert_eq!(c.resource, "shop/web-7d4b9c8f5-x2x9k");
    assert_eq!(
        c.release_command.as_deref(),
        Some("responder release eks prod shop web-7d4b9c8f5-x2x9k --region eu-west-1 --execute")
    );
    assert_eq!(c.contained_at, p.created);
    assert!(matches!(c.record, RecordCheck::Unverified(_)));
    p.annotations
        .insert(POD_ANNOTATION.into(), "x; kubectl delete ns prod".into());
    assert_eq!(eks_policy(&place(), &p), None);
    // A policy that is not named for the UID it selects is not ours.
    p.annotations.insert(POD_ANNOTATION.into(), "web".into());
    p.name = "guardduty-responder-quarantine-other".into();
    assert_eq!(eks_policy(&place(), &p), None);
}

#[test]
fn an_acl_record_of_a_forgotten_task_is_listed_without_a_command() {
    let c = ecs_acl_record(
        &place(),
        "acl-0123456789abcdef0",
        "0123456789abcdef0123456789abcdef",
        "i99=10.0.1.5/32 e99=10.0.1.5/32",
        RecordCheck::Verified,
    )
    .unwrap();
    assert_eq!(c.release_command, None);
    assert!(
        c.notes[0].contains("2 network-ACL entries"),
        "{:?}",
        c.notes
    );
    assert_eq!(
        ecs_acl_record(
            &place(),
            "acl-0123456789abcdef0",
            "t",
            "i99=<b>",
            RecordCheck::Verified
        ),
        None
    );
}
