//! EC2 quarantine against moto: a finding from `events/` rewritten to a realistic world,
//! planned by the pure core, executed, and checked through describe calls.

use integration_tests::world::show;
use integration_tests::world::{self, Aws, Instance, Network};
use responder::Config;
use responder::actions::ec2::isolation_groups::{CONVERSION_GROUP_NAME, NO_RULES_GROUP_NAME};
use responder::actions::ec2::{Ec2Executor, PriorState, ReleaseError, ReleaseStep};
use responder::execute::Executor;
use responder::options::AsgMode;
use responder::outcome::{Outcome, Status, any_failed};
use responder::plan::{ActionKind, ResponsePlan};
use std::collections::BTreeMap;

const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
const REGION: &str = "us-east-1";

fn config(asg: AsgMode, eips: bool) -> Config {
    let mut c = Config::default();
    c.ec2.asg = asg;
    c.ec2.disassociate_eips = eips;
    c
}

fn plan_for(net: &Network, inst: &Instance, config: &Config) -> ResponsePlan {
    let fid = world::unique_finding_id();
    let event = world::finding_event(SAMPLE, &fid, &net.region, inst, Some(&net.vpc_id));
    world::contain_plan(&event, config)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn status_of(outcomes: &[Outcome], kind: ActionKind) -> (Status, String) {
    let o = outcomes
        .iter()
        .find(|o| o.kind == kind)
        .unwrap_or_else(|| panic!("no outcome for {}", kind.name()));
    (o.status, o.detail.clone())
}

async fn isolation_group_ids(aws: &Aws, vpc: &str) -> (String, String) {
    let conv = world::groups_named(aws, vpc, CONVERSION_GROUP_NAME).await;
    let none = world::groups_named(aws, vpc, NO_RULES_GROUP_NAME).await;
    assert_eq!(conv.len(), 1, "exactly one conversion group in {vpc}");
    assert_eq!(none.len(), 1, "exactly one no-rules group in {vpc}");
    assert!(
        none[0].ip_permissions().is_empty() && none[0].ip_permissions_egress().is_empty(),
        "the no-rules group has no rules: {:?}",
        none[0]
    );
    let all = |perms: &[aws_sdk_ec2::types::IpPermission]| {
        perms.iter().any(|p| {
            p.ip_protocol() == Some("-1")
                && p.ip_ranges()
                    .iter()
                    .any(|r| r.cidr_ip() == Some("0.0.0.0/0"))
        })
    };
    assert!(all(conv[0].ip_permissions()) && all(conv[0].ip_permissions_egress()));
    (
        conv[0].group_id().unwrap_or_default().to_owned(),
        none[0].group_id().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantines_two_eni_instance_then_rerun_is_idempotent_then_release_restores() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    assert_eq!(inst.enis.len(), 2);
    let original: BTreeMap<String, Vec<String>> = inst
        .enis
        .iter()
        .map(|n| (n.id.clone(), n.groups.clone()))
        .collect();
    assert_eq!(
        original[&inst.enis[0].id],
        [net.web_sg.clone(), net.ssh_sg.clone()]
    );
    let before = world::describe(&aws, &inst.id).await;
    let volumes: Vec<(String, String)> = before
        .block_device_mappings()
        .iter()
        .filter_map(|m| {
            Some((
                m.device_name()?.to_owned(),
                m.ebs()?.volume_id()?.to_owned(),
            ))
        })
        .collect();
    assert!(!volumes.is_empty());
    let sb_before = world::shutdown_behavior(&aws, &inst.id).await;

    let plan = plan_for(&net, &inst, &Config::default());
    let kinds: Vec<ActionKind> = plan.actions.iter().map(|a| a.kind).collect();
    let exec = Ec2Executor::new(&aws.config);
    let outcomes = exec.execute(&plan).await;
    assert_eq!(
        outcomes.iter().map(|o| o.kind).collect::<Vec<_>>(),
        kinds,
        "one outcome per action, in plan order"
    );
    let text = show(&outcomes);
    for (kind, want) in [
        (ActionKind::Ec2RecordPriorState, Status::Done),
        (ActionKind::Ec2IsolateNetwork, Status::Done),
        (ActionKind::Ec2ProtectInstance, Status::Done),
        (ActionKind::Ec2DetachFromAutoScaling, Status::Skipped),
        (ActionKind::Ec2SnapshotVolumes, Status::Done),
        (ActionKind::Ec2TagInstance, Status::Done),
    ] {
        assert_eq!(
            status_of(&outcomes, kind).0,
            want,
            "{}\n{text}",
            kind.name()
        );
    }
    assert!(!any_failed(&outcomes), "{text}");
    assert!(
        outcomes[0].evidence.is_some(),
        "the prior state is in the evidence"
    );

    // Every ENI is in the no-rules group only; the groups are as they should be.
    let (_conv, no_rules) = isolation_group_ids(&aws, &net.vpc_id).await;
    for eni in original.keys() {
        assert_eq!(
            world::eni_groups(&aws, eni).await,
            std::slice::from_ref(&no_rules),
            "{eni}"
        );
    }
    // Protection.
    assert_eq!(
        world::instance_attribute_bool(&aws, &inst.id).await,
        Some(true)
    );
    assert_eq!(
        world::shutdown_behavior(&aws, &inst.id).await.as_deref(),
        Some("stop")
    );
    let after = world::describe(&aws, &inst.id).await;
    for m in after.block_device_mappings() {
        assert_eq!(
            m.ebs().and_then(|e| e.delete_on_termination()),
            Some(false),
            "{:?}",
            m.device_name()
        );
    }
    // Snapshots: one per volume, tagged with finding, instance and device.
    let snaps = world::evidence_snapshots(&aws, &plan.finding_id).await;
    assert_eq!(snaps.len(), volumes.len(), "{snaps:?}");
    for (device, volume) in &volumes {
        let s = snaps
            .iter()
            .find(|s| s.volume_id() == Some(volume.as_str()))
            .unwrap_or_else(|| panic!("a snapshot of {volume}"));
        let t: BTreeMap<&str, &str> = s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?, t.value()?)))
            .collect();
        assert_eq!(
            t.get("guardduty-responder:instance-id"),
            Some(&inst.id.as_str())
        );
        assert_eq!(
            t.get("guardduty-responder:device-name"),
            Some(&device.as_str())
        );
    }
    // Prior state and status recorded on the instance.
    let tags = world::tags(&aws, &inst.id).await;
    let prior = PriorState::decode(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .expect("readable")
        .expect("recorded");
    assert_eq!(prior.network_interfaces, original);
    assert_eq!(prior.termination_protection, Some(false));
    assert_eq!(prior.shutdown_behavior, sb_before);
    assert_eq!(prior.delete_on_termination.len(), volumes.len());
    assert_eq!(tags["guardduty-responder:status"], "quarantined");
    assert_eq!(tags["guardduty-responder:finding-id"], plan.finding_id);
    assert_eq!(
        tags["guardduty-responder:finding-type"],
        "DefenseEvasion:Runtime/KernelModuleLoaded"
    );
    assert!(tags.contains_key("guardduty-responder:quarantined-at"));

    // The same plan again (EventBridge re-delivery): nothing changes.
    let again = exec.execute(&plan).await;
    let text = show(&again);
    for o in &again {
        let want = if o.kind == ActionKind::Ec2DetachFromAutoScaling {
            Status::Skipped
        } else {
            Status::AlreadyDone
        };
        assert_eq!(o.status, want, "{text}");
    }
    assert_eq!(
        world::evidence_snapshots(&aws, &plan.finding_id)
            .await
            .len(),
        volumes.len(),
        "no second snapshot"
    );
    isolation_group_ids(&aws, &net.vpc_id).await; // still exactly one of each

    // Release: back to the recorded state, tags gone, snapshots kept.
    // A dry run reads only and says what it would do.
    let dry = exec
        .release(&inst.id.parse().unwrap(), false)
        .await
        .expect("dry run runs");
    assert!(!dry.executed);
    assert_eq!(dry.record.prior_state, prior);
    for o in &dry.outcomes {
        assert!(
            o.status == Status::Skipped || o.status == Status::AlreadyDone,
            "{o:?}"
        );
    }
    assert!(
        dry.outcomes
            .iter()
            .any(|o| o.kind == ReleaseStep::RestoreSecurityGroups
                && o.detail.starts_with("dry run: would set")),
        "{:#?}",
        dry.outcomes
    );
    for eni in original.keys() {
        assert_eq!(
            world::eni_groups(&aws, eni).await,
            std::slice::from_ref(&no_rules),
            "unchanged"
        );
    }
    assert!(
        world::tags(&aws, &inst.id)
            .await
            .contains_key("guardduty-responder:prior")
    );

    let released = exec
        .release(&inst.id.parse().unwrap(), true)
        .await
        .expect("release runs");
    assert!(released.executed);
    let text = format!("{:#?}", released.outcomes);
    assert!(
        released.outcomes.iter().all(|o| o.status != Status::Failed),
        "{text}"
    );
    assert_eq!(
        released.outcomes.last().map(|o| o.kind),
        Some(ReleaseStep::RemoveQuarantineTags)
    );
    for (eni, groups) in &original {
        assert_eq!(
            sorted(world::eni_groups(&aws, eni).await),
            sorted(groups.clone()),
            "{eni}"
        );
    }
    assert_eq!(
        world::instance_attribute_bool(&aws, &inst.id).await,
        Some(false)
    );
    let after = world::describe(&aws, &inst.id).await;
    for m in after.block_device_mappings() {
        assert_eq!(m.ebs().and_then(|e| e.delete_on_termination()), Some(true));
    }
    let tags = world::tags(&aws, &inst.id).await;
    assert!(
        !tags.keys().any(|k| k.starts_with("guardduty-responder:")),
        "{tags:?}"
    );
    assert_eq!(
        world::evidence_snapshots(&aws, &plan.finding_id)
            .await
            .len(),
        volumes.len(),
        "snapshots are kept"
    );
    // A second release finds nothing to undo.
    assert!(matches!(
        exec.release(&inst.id.parse().unwrap(), true).await,
        Err(ReleaseError::NotQuarantined { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_scaling_member_is_detached_keeping_capacity_and_reattached_on_release() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let name = format!("web-asg-{}", &world::unique_finding_id()[..12]);
    let inst = world::asg_member(&aws, &net, &name).await;
    let plan = plan_for(&net, &inst, &config(AsgMode::Detach, false));
    let exec = Ec2Executor::new(&aws.config);
    let outcomes = exec.execute(&plan).await;
    let (status, detail) = status_of(&outcomes, ActionKind::Ec2DetachFromAutoScaling);
    assert_eq!(status, Status::Done, "{}", show(&outcomes));
    assert!(detail.contains(&name), "{detail}");
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let members = world::asg_instances(&aws, &name).await;
    assert!(
        !members.iter().any(|(i, _)| i == &inst.id),
        "detached: {members:?}"
    );
    // Desired capacity kept: the group launched a replacement.
    assert_eq!(members.len(), 1, "{members:?}");
    let prior = PriorState::decode(
        world::tags(&aws, &inst.id)
            .await
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .expect("readable")
    .expect("recorded");
    assert_eq!(prior.auto_scaling_group.as_deref(), Some(name.as_str()));

    let again = exec.execute(&plan).await;
    assert_eq!(
        status_of(&again, ActionKind::Ec2DetachFromAutoScaling).0,
        Status::AlreadyDone,
        "{}",
        show(&again)
    );

    let released = exec
        .release(&inst.id.parse().unwrap(), true)
        .await
        .expect("release runs");
    let asg = released
        .outcomes
        .iter()
        .find(|o| o.kind == ReleaseStep::RestoreAutoScaling)
        .expect("asg step");
    assert_eq!(asg.status, Status::Done, "{:#?}", released.outcomes);
    let members = world::asg_instances(&aws, &name).await;
    assert!(members.iter().any(|(i, _)| i == &inst.id), "{members:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_mode_puts_the_member_in_standby_and_release_exits_it() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let name = format!("standby-asg-{}", &world::unique_finding_id()[..12]);
    let inst = world::asg_member(&aws, &net, &name).await;
    let plan = plan_for(&net, &inst, &config(AsgMode::Standby, false));
    assert!(
        plan.actions
            .iter()
            .any(|a| a.kind == ActionKind::Ec2StandbyInAutoScaling)
    );
    let exec = Ec2Executor::new(&aws.config);
    let outcomes = exec.execute(&plan).await;
    assert_eq!(
        status_of(&outcomes, ActionKind::Ec2StandbyInAutoScaling).0,
        Status::Done,
        "{}",
        show(&outcomes)
    );
    let state = |members: Vec<(String, String)>| {
        members
            .into_iter()
            .find(|(i, _)| i == &inst.id)
            .map(|(_, s)| s)
    };
    assert_eq!(
        state(world::asg_instances(&aws, &name).await).as_deref(),
        Some("Standby")
    );
    let again = exec.execute(&plan).await;
    assert_eq!(
        status_of(&again, ActionKind::Ec2StandbyInAutoScaling).0,
        Status::AlreadyDone
    );
    let released = exec
        .release(&inst.id.parse().unwrap(), true)
        .await
        .expect("release runs");
    assert!(
        released.outcomes.iter().all(|o| o.status != Status::Failed),
        "{:#?}",
        released.outcomes
    );
    assert_eq!(
        state(world::asg_instances(&aws, &name).await).as_deref(),
        Some("InService")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elastic_ip_is_disassociated_and_restored() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let (inst, alloc) = world::eip_instance(&aws, &net).await;
    let plan = plan_for(&net, &inst, &config(AsgMode::Detach, true));
    let exec = Ec2Executor::new(&aws.config);
    let outcomes = exec.execute(&plan).await;
    assert_eq!(
        status_of(&outcomes, ActionKind::Ec2DisassociateAddresses).0,
        Status::Done,
        "{}",
        show(&outcomes)
    );
    let assoc = |aws: Aws, alloc: String| async move {
        aws.ec2
            .describe_addresses()
            .allocation_ids(alloc)
            .send()
            .await
            .expect("DescribeAddresses")
            .addresses()
            .first()
            .and_then(|a| {
                a.network_interface_id()
                    .filter(|i| !i.is_empty())
                    .map(str::to_owned)
            })
    };
    assert_eq!(
        assoc(aws.clone(), alloc.clone()).await,
        None,
        "disassociated"
    );
    let again = exec.execute(&plan).await;
    assert_eq!(
        status_of(&again, ActionKind::Ec2DisassociateAddresses).0,
        Status::AlreadyDone
    );
    let released = exec
        .release(&inst.id.parse().unwrap(), true)
        .await
        .expect("release runs");
    assert!(
        released.outcomes.iter().all(|o| o.status != Status::Failed),
        "{:#?}",
        released.outcomes
    );
    assert_eq!(
        assoc(aws.clone(), alloc).await,
        Some(inst.enis[0].id.clone()),
        "{:#?}",
        released
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spot_instance_skips_what_spot_does_not_allow() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let inst = world::spot_instance(&aws, &net).await;
    let plan = plan_for(&net, &inst, &Config::default());
    let exec = Ec2Executor::new(&aws.config);
    let outcomes = exec.execute(&plan).await;
    let (status, detail) = status_of(&outcomes, ActionKind::Ec2ProtectInstance);
    // DeleteOnTermination is still switched off; the two Spot-incompatible changes are not.
    assert_eq!(status, Status::Done, "{}", show(&outcomes));
    assert!(detail.contains("Spot"), "{detail}");
    assert_eq!(
        world::instance_attribute_bool(&aws, &inst.id).await,
        Some(false)
    );
    assert_eq!(
        status_of(&outcomes, ActionKind::Ec2IsolateNetwork).0,
        Status::Done
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_quarantines_in_a_new_vpc_share_one_pair_of_groups() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let a = world::two_eni_instance(&aws, &net).await;
    let b = world::two_eni_instance(&aws, &net).await;
    let c = world::eip_instance(&aws, &net).await.0;
    let plans: Vec<ResponsePlan> = [&a, &b, &c]
        .iter()
        .map(|i| plan_for(&net, i, &Config::default()))
        .collect();
    let exec = Ec2Executor::new(&aws.config);
    let results = futures_join_all(plans.iter().map(|p| exec.execute(p))).await;
    for outcomes in &results {
        assert!(!any_failed(outcomes), "{}", show(outcomes));
        assert_eq!(
            status_of(outcomes, ActionKind::Ec2IsolateNetwork).0,
            Status::Done
        );
    }
    let (_, no_rules) = isolation_group_ids(&aws, &net.vpc_id).await;
    for inst in [&a, &b, &c] {
        for eni in &inst.enis {
            assert_eq!(
                world::eni_groups(&aws, &eni.id).await,
                std::slice::from_ref(&no_rules)
            );
        }
    }
}

/// `join_all` without a futures dependency: spawn-free, polls all on this task.
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futs.map(Box::pin).collect();
    let mut out = Vec::with_capacity(handles.len());
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(results.into_iter().flatten());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_without_a_vpc_and_with_a_wrong_vpc_still_isolates() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let other = world::network(&aws).await;
    for hint in [None, Some(other.vpc_id.as_str())] {
        let inst = world::two_eni_instance(&aws, &net).await;
        let fid = world::unique_finding_id();
        let event = world::finding_event(SAMPLE, &fid, REGION, &inst, hint);
        let plan = world::plan(&event, &Config::default());
        let outcomes = Ec2Executor::new(&aws.config).execute(&plan).await;
        assert!(!any_failed(&outcomes), "{hint:?}\n{}", show(&outcomes));
        let (_, no_rules) = isolation_group_ids(&aws, &net.vpc_id).await;
        for eni in &inst.enis {
            assert_eq!(
                world::eni_groups(&aws, &eni.id).await,
                std::slice::from_ref(&no_rules)
            );
        }
    }
    // The named VPC's groups are created alongside the describe (before the instance's
    // real VPC is known); nothing in it was moved into them.
    let (_, wrong_no_rules) = isolation_group_ids(&aws, &other.vpc_id).await;
    assert!(world::enis_in_group(&aws, &wrong_no_rules).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_refuses_an_instance_that_was_never_quarantined() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let inst = world::spot_instance(&aws, &net).await;
    let exec = Ec2Executor::new(&aws.config);
    assert!(matches!(
        exec.release(&inst.id.parse().unwrap(), true).await,
        Err(ReleaseError::NotQuarantined { .. })
    ));
    assert!(matches!(
        exec.release(&"i-0123456789abcdef0".parse().unwrap(), true)
            .await,
        Err(ReleaseError::NotFound { .. })
    ));
    // A hostile id never reaches release: it is not an `InstanceId`.
    assert!(
        "i-; rm -rf /"
            .parse::<responder::ids::InstanceId>()
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_prior_state_record_is_replaced_and_release_restores_the_real_groups() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    let original: BTreeMap<String, Vec<String>> = inst
        .enis
        .iter()
        .map(|n| (n.id.clone(), n.groups.clone()))
        .collect();
    // Somebody allowed ec2:CreateTags on the instance plants a record naming a group of
    // their choosing, plus an ENI tag for an interface the instance does not have.
    let planted_group = net.ssh_sg.clone();
    let first = &inst.enis[0].id;
    let planted: Vec<(String, String)> = vec![
        (
            "guardduty-responder:prior".into(),
            "v=1;termination-protection=false;shutdown-behavior=stop;elastic-ips=recorded".into(),
        ),
        (
            format!("guardduty-responder:prior:eni:{first}"),
            planted_group.clone(),
        ),
        (
            "guardduty-responder:prior:eni:eni-0123456789abcdef0".into(),
            planted_group.clone(),
        ),
    ];
    let mut req = aws.ec2.create_tags().resources(&inst.id);
    for (k, v) in &planted {
        req = req.tags(aws_sdk_ec2::types::Tag::builder().key(k).value(v).build());
    }
    req.send().await.expect("CreateTags");

    let plan = plan_for(&net, &inst, &Config::default());
    let exec = Ec2Executor::new(&aws.config);
    let outcomes = exec.execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let (status, detail) = status_of(&outcomes, ActionKind::Ec2RecordPriorState);
    assert_eq!(status, Status::Done, "{detail}");
    assert!(detail.contains("replaced"), "{detail}");

    let tags = world::tags(&aws, &inst.id).await;
    assert!(
        !tags.contains_key("guardduty-responder:prior:eni:eni-0123456789abcdef0"),
        "{tags:?}"
    );
    let recorded = PriorState::decode(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .expect("readable")
        .expect("recorded");
    assert_eq!(recorded.network_interfaces, original);

    exec.release(&inst.id.parse().unwrap(), true)
        .await
        .expect("release runs");
    for (eni, groups) in &original {
        assert_eq!(
            sorted(world::eni_groups(&aws, eni).await),
            sorted(groups.clone()),
            "{eni}"
        );
    }
}
