//! The attacker after quarantine: credentials stolen from the workload earlier still allow
//! `ec2:CreateTags` on the instance, so they rewrite the prior-state record to steer the
//! human's `responder release` — an Elastic IP onto another interface, the instance into
//! a group of another VPC, into another Auto Scaling group (behind another load
//! balancer), an edited record, a record copied from another instance. Each is refused and
//! moto's world is exactly as before; the untampered record still releases.

use integration_tests::world::show;
use integration_tests::world::{self, Aws, Instance, Network};
use responder::Config;
use responder::actions::ec2::record_mac::MAC_KEY;
use responder::actions::ec2::{Ec2Executor, ReleaseError};
use responder::execute::Executor;
use responder::options::AsgMode;
use responder::outcome::{Status, any_failed};
use std::collections::BTreeMap;

const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
const REGION: &str = "us-east-1";

/// Quarantines `inst` (Elastic IPs disassociated, Auto Scaling detach) and returns the
/// finding id.
async fn quarantine(aws: &Aws, net: &Network, inst: &Instance, key: Option<&str>) -> String {
    let mut config = Config::default();
    config.ec2.asg = AsgMode::Detach;
    config.ec2.disassociate_eips = true;
    let fid = world::unique_finding_id();
    let event = world::finding_event(SAMPLE, &fid, &net.region, inst, Some(&net.vpc_id));
    let plan = world::contain_plan(&event, &config);
    let outcomes = executor(aws, key).execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    fid
}

fn executor(aws: &Aws, key: Option<&str>) -> Ec2Executor {
    Ec2Executor::new(&aws.config).with_record_mac_key(key.map(str::to_owned))
}

/// Everything release could change: the instance's tags, the groups of its ENIs and of
/// `others`, where the Elastic IPs are, and the members of the Auto Scaling groups.
async fn world_state(
    aws: &Aws,
    inst: &Instance,
    others: &[&str],
    allocs: &[&str],
    asgs: &[&str],
) -> String {
    let mut out = format!("tags {:?}\n", world::tags(aws, &inst.id).await);
    for eni in inst
        .enis
        .iter()
        .map(|e| e.id.as_str())
        .chain(others.iter().copied())
    {
        let mut g = world::eni_groups(aws, eni).await;
        g.sort();
        out.push_str(&format!("{eni} {g:?}\n"));
    }
    for a in allocs {
        let addr = aws
            .ec2
            .describe_addresses()
            .allocation_ids(*a)
            .send()
            .await
            .expect("DescribeAddresses");
        let now: Vec<_> = addr
            .addresses()
            .iter()
            .map(|x| {
                (
                    x.network_interface_id().map(str::to_owned),
                    x.private_ip_address().map(str::to_owned),
                )
            })
            .collect();
        out.push_str(&format!("{a} {now:?}\n"));
    }
    for g in asgs {
        let mut m = world::asg_instances(aws, g).await;
        m.sort();
        out.push_str(&format!("{g} {m:?}\n"));
    }
    let (tp, sb) = (
        world::instance_attribute_bool(aws, &inst.id).await,
        world::shutdown_behavior(aws, &inst.id).await,
    );
    out.push_str(&format!("protection {tp:?} {sb:?}\n"));
    out
}

fn refused(r: Result<responder::actions::ec2::Released, ReleaseError>, why: &str) {
    match r {
        Err(ReleaseError::Refused { reasons, .. }) => {
            assert!(
                reasons.iter().any(|m| m.contains(why)),
                "{why:?} not in {reasons:?}"
            )
        }
        other => panic!("release was not refused: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_elastic_ip_rewritten_onto_a_foreign_interface_is_refused() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let (inst, alloc) = world::eip_instance(&aws, &net).await;
    let victim = world::spot_instance(&aws, &net).await;
    quarantine(&aws, &net, &inst, None).await;
    // Point the Elastic IP at another instance's interface (the record is not MAC'd:
    // the binding alone must refuse it).
    let v = &victim.enis[0];
    world::set_tag(
        &aws,
        &inst.id,
        &format!("guardduty-responder:prior:eip:{alloc}"),
        &format!("{},{}", v.id, v.private_ip),
    )
    .await;
    let before = world_state(&aws, &inst, &[&v.id], &[&alloc], &[]).await;
    refused(
        executor(&aws, None)
            .release(&inst.id.parse().unwrap(), true)
            .await,
        "not attached to this instance",
    );
    assert_eq!(
        world_state(&aws, &inst, &[&v.id], &[&alloc], &[]).await,
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_group_of_another_vpc_is_refused() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let other = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    quarantine(&aws, &net, &inst, None).await;
    let first = &inst.enis[0].id;
    world::set_tag(
        &aws,
        &inst.id,
        &format!("guardduty-responder:prior:eni:{first}"),
        &other.web_sg,
    )
    .await;
    let before = world_state(&aws, &inst, &[], &[], &[]).await;
    refused(
        executor(&aws, None)
            .release(&inst.id.parse().unwrap(), true)
            .await,
        &other.vpc_id,
    );
    assert_eq!(world_state(&aws, &inst, &[], &[], &[]).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_auto_scaling_group_is_refused() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let suffix = &world::unique_finding_id()[..12];
    let (own, foreign) = (format!("web-{suffix}"), format!("public-{suffix}"));
    let inst = world::asg_member(&aws, &net, &own).await;
    world::asg_member(&aws, &net, &foreign).await;
    // Detaching removes `aws:autoscaling:groupName` in moto, so the launch-tag binding
    // (unit-tested in release_checks) has nothing to compare: the MAC is what refuses.
    let key = world::hmac_key(&aws).await;
    quarantine(&aws, &net, &inst, Some(&key)).await;
    // Untampered and without a key: the dry run warns that the record is unverified.
    let dry = executor(&aws, None)
        .release(&inst.id.parse().unwrap(), false)
        .await
        .expect("dry run");
    assert!(
        dry.warnings.iter().any(|w| w.contains("unverified")),
        "{:?}",
        dry.warnings
    );
    world::set_tag(&aws, &inst.id, "guardduty-responder:prior:asg", &foreign).await;
    let before = world_state(&aws, &inst, &[], &[], &[&own, &foreign]).await;
    refused(
        executor(&aws, Some(&key))
            .release(&inst.id.parse().unwrap(), true)
            .await,
        "MAC does not verify",
    );
    assert_eq!(
        world_state(&aws, &inst, &[], &[], &[&own, &foreign]).await,
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_or_unsigned_record_fails_its_mac() {
    let aws = Aws::moto(REGION).await;
    let key = world::hmac_key(&aws).await;
    let net = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    quarantine(&aws, &net, &inst, Some(&key)).await;
    let tags = world::tags(&aws, &inst.id).await;
    assert!(tags.contains_key(MAC_KEY), "{tags:?}");
    // A group of the same VPC: bound to the instance, so only the MAC can tell.
    let first = &inst.enis[0].id;
    let prior = format!("guardduty-responder:prior:eni:{first}");
    world::set_tag(&aws, &inst.id, &prior, &net.backend_sg).await;
    let before = world_state(&aws, &inst, &[], &[], &[]).await;
    refused(
        executor(&aws, Some(&key))
            .release(&inst.id.parse().unwrap(), true)
            .await,
        "MAC does not verify",
    );
    assert_eq!(world_state(&aws, &inst, &[], &[], &[]).await, before);
    // Restored to what was MAC'd, then edited MAC: refused too.
    world::set_tag(&aws, &inst.id, &prior, &tags[&prior]).await;
    world::set_tag(
        &aws,
        &inst.id,
        MAC_KEY,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    )
    .await;
    refused(
        executor(&aws, Some(&key))
            .release(&inst.id.parse().unwrap(), true)
            .await,
        "MAC does not verify",
    );
    // No MAC at all while a key is configured: refused.
    aws.ec2
        .delete_tags()
        .resources(&inst.id)
        .tags(aws_sdk_ec2::types::Tag::builder().key(MAC_KEY).build())
        .send()
        .await
        .expect("DeleteTags");
    let before = world_state(&aws, &inst, &[], &[], &[]).await;
    refused(
        executor(&aws, Some(&key))
            .release(&inst.id.parse().unwrap(), true)
            .await,
        "no MAC",
    );
    assert_eq!(world_state(&aws, &inst, &[], &[], &[]).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_copied_from_another_instance_fails_its_mac() {
    let aws = Aws::moto(REGION).await;
    let key = world::hmac_key(&aws).await;
    let net = world::network(&aws).await;
    let source = world::two_eni_instance(&aws, &net).await;
    let target = world::two_eni_instance(&aws, &net).await;
    quarantine(&aws, &net, &source, Some(&key)).await;
    quarantine(&aws, &net, &target, Some(&key)).await;
    // Replace the target's record by the source's, MAC and finding id included.
    let own: Vec<String> = world::tags(&aws, &target.id)
        .await
        .into_keys()
        .filter(|k| k.starts_with("guardduty-responder:"))
        .collect();
    let mut del = aws.ec2.delete_tags().resources(&target.id);
    for k in &own {
        del = del.tags(aws_sdk_ec2::types::Tag::builder().key(k).build());
    }
    del.send().await.expect("DeleteTags");
    for (k, v) in world::tags(&aws, &source.id).await {
        if k.starts_with("guardduty-responder:") {
            world::set_tag(&aws, &target.id, &k, &v).await;
        }
    }
    let before = world_state(&aws, &target, &[], &[], &[]).await;
    refused(
        executor(&aws, Some(&key))
            .release(&target.id.parse().unwrap(), true)
            .await,
        "MAC does not verify",
    );
    assert_eq!(world_state(&aws, &target, &[], &[], &[]).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_replaces_a_record_edited_after_quarantine() {
    let aws = Aws::moto(REGION).await;
    let key = world::hmac_key(&aws).await;
    let net = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    let mut config = Config::default();
    config.ec2.asg = AsgMode::Detach;
    let fid = world::unique_finding_id();
    let event = world::finding_event(SAMPLE, &fid, &net.region, &inst, Some(&net.vpc_id));
    let plan = world::contain_plan(&event, &config);
    let exec = executor(&aws, Some(&key));
    assert!(!any_failed(&exec.execute(&plan).await));
    let first = &inst.enis[0].id;
    let prior = format!("guardduty-responder:prior:eni:{first}");
    world::set_tag(&aws, &inst.id, &prior, &net.backend_sg).await;
    // The re-delivered finding checks the record's MAC and does not keep the edit.
    let again = exec.execute(&plan).await;
    let detail = again
        .iter()
        .find(|o| o.kind == responder::plan::ActionKind::Ec2RecordPriorState)
        .map(|o| o.detail.clone())
        .unwrap_or_default();
    assert!(detail.contains("replaced"), "{}", show(&again));
    let tags = world::tags(&aws, &inst.id).await;
    assert_ne!(tags.get(&prior), Some(&net.backend_sg), "{tags:?}");
    // The replacement is MAC'd: release accepts it, but knows nothing true about the
    // isolated ENIs' groups: it leaves them isolated, fails that step naming them (a
    // person restores them from the alert), and keeps the record.
    let released = exec
        .release(&inst.id.parse().unwrap(), true)
        .await
        .expect("release runs");
    let groups = released
        .outcomes
        .iter()
        .find(|o| o.kind == responder::actions::ec2::ReleaseStep::RestoreSecurityGroups)
        .expect("a groups step");
    assert_eq!(groups.status, Status::Failed, "{released:#?}");
    assert!(
        groups.detail.contains(first.as_str()) && groups.detail.contains("by hand"),
        "{}",
        groups.detail
    );
    assert!(
        !world::eni_groups(&aws, first)
            .await
            .contains(&net.backend_sg)
    );
    let kept = world::tags(&aws, &inst.id).await;
    assert!(kept.contains_key("guardduty-responder:prior"), "{kept:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_untampered_signed_record_releases_everything() {
    let aws = Aws::moto(REGION).await;
    let key = world::hmac_key(&aws).await;
    let net = world::network(&aws).await;
    let (inst, alloc) = world::eip_instance(&aws, &net).await;
    let original: BTreeMap<String, Vec<String>> = inst
        .enis
        .iter()
        .map(|n| (n.id.clone(), n.groups.clone()))
        .collect();
    quarantine(&aws, &net, &inst, Some(&key)).await;
    let released = executor(&aws, Some(&key))
        .release(&inst.id.parse().unwrap(), true)
        .await
        .expect("release runs");
    assert!(released.warnings.is_empty(), "{:?}", released.warnings);
    assert!(
        released.outcomes.iter().all(|o| o.status != Status::Failed),
        "{:#?}",
        released.outcomes
    );
    for (eni, groups) in &original {
        let mut now = world::eni_groups(&aws, eni).await;
        now.sort();
        let mut want = groups.clone();
        want.sort();
        assert_eq!(now, want, "{eni}");
    }
    let state = world_state(&aws, &inst, &[], &[&alloc], &[]).await;
    assert!(
        state.contains(&format!("Some({:?})", inst.enis[0].id)),
        "{state}"
    );
    let tags = world::tags(&aws, &inst.id).await;
    assert!(
        !tags.keys().any(|k| k.starts_with("guardduty-responder:")),
        "{tags:?}"
    );
}
