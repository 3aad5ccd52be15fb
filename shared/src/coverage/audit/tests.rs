//! Unit tests of `audit.rs`.

use super::*;

fn resource(t: ResourceType, account: &str, name: &str) -> CoveredResource {
    CoveredResource {
        resource_type: t,
        name: Untrusted::new(name),
        resource_id: Untrusted::new(name),
        account_id: Untrusted::new(account),
        status: Untrusted::new("UNHEALTHY"),
        issues: vec![Untrusted::new("No agent reporting")],
        details: vec![],
        updated_at: None,
    }
}

#[test]
fn arns_map_to_the_keys_of_coverage_records() {
    let r = resource(ResourceType::Ec2, "123456789012", "i-0abc");
    assert_eq!(
        arn_tag_key("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"),
        Some(tag_key(&r))
    );
    let r = resource(ResourceType::Eks, "123456789012", "prod");
    assert_eq!(
        arn_tag_key("arn:aws:eks:us-east-1:123456789012:cluster/prod"),
        Some(tag_key(&r))
    );
    assert_eq!(arn_tag_key("arn:aws:s3:::bucket"), None);
    assert_eq!(arn_tag_key("nonsense"), None);
}

#[test]
fn require_tag_narrows_the_failing_set_and_the_hash_follows_it() {
    let all = vec![
        resource(ResourceType::Ec2, "1", "i-1"),
        resource(ResourceType::Eks, "1", "prod"),
    ];
    let opts = AuditOptions {
        require_tag: Some(TagFilter::parse("tier=critical").unwrap()),
        ..AuditOptions::default()
    };
    let tagged: HashSet<String> = [tag_key(&all[1])].into();
    let r = AuditReport::new(
        "d".into(),
        BTreeMap::new(),
        BTreeMap::new(),
        &opts,
        all.clone(),
        Some(&tagged),
    );
    assert_eq!((r.unhealthy.len(), r.failing), (2, 1));
    let plain = AuditReport::new(
        "d".into(),
        BTreeMap::new(),
        BTreeMap::new(),
        &AuditOptions::default(),
        all,
        None,
    );
    assert_eq!(plain.failing, 2);
    assert_ne!(r.failing_set_hash(), plain.failing_set_hash());
    let none = AuditReport::new(
        "d".into(),
        BTreeMap::new(),
        BTreeMap::new(),
        &opts,
        vec![],
        Some(&HashSet::new()),
    );
    assert_eq!(none.failing_set_hash(), 0);
    assert!(TagFilter::parse("novalue").is_err());
    assert!(TagFilter::parse("=x").is_err());
}
