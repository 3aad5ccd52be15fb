//! ECS task isolation against moto: a Fargate service task behind a target group, a
//! finding from `events/` rewritten to it, planned by the pure core, executed, checked
//! through describe calls, released.

use aws_sdk_ec2::types::RuleAction;
use integration_tests::ecs_world::{self, EcsAws, EcsWorld};
use integration_tests::proxy::Proxy;
use integration_tests::world;
use integration_tests::world::show;
use responder::Config;
use responder::actions::ec2::isolation_groups::NO_RULES_GROUP_NAME;
use responder::actions::ecs::{EcsExecutor, ReleaseError, ReleaseStep};
use responder::execute::Executor;
use responder::outcome::{Outcome, Status, any_failed};
use responder::plan::{ActionKind, ResponsePlan};

const REGION: &str = "us-east-1";

fn config(force_acl: bool) -> Config {
    let mut c = Config::default();
    c.ecs.force_network_acl = force_acl;
    c
}

async fn setup(name: &str) -> (EcsAws, EcsWorld) {
    let e = EcsAws::moto(REGION).await;
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let w = ecs_world::fargate_world(&e, name).await;
    (e, w)
}

fn plan_for(w: &EcsWorld, config: &Config) -> ResponsePlan {
    let (_, event) = ecs_world::finding_event(w);
    world::contain_plan(&event, config)
}

fn status_of(outcomes: &[Outcome], kind: ActionKind) -> Status {
    outcomes
        .iter()
        .find(|o| o.kind == kind)
        .unwrap_or_else(|| panic!("no outcome for {}", kind.name()))
        .status
}

/// `(direction egress?, rule number, action)` of the ACL's entries for `cidr`.
async fn entries_for(e: &EcsAws, w: &EcsWorld, cidr: &str) -> Vec<(bool, i32, bool)> {
    let acl = ecs_world::acl_of(e, &w.subnet_id).await;
    let mut v: Vec<(bool, i32, bool)> = acl
        .entries()
        .iter()
        .filter(|x| x.cidr_block() == Some(cidr))
        .map(|x| {
            (
                x.egress().unwrap_or(false),
                x.rule_number().unwrap_or(0),
                x.rule_action() == Some(&RuleAction::Deny),
            )
        })
        .collect();
    v.sort();
    v
}

async fn first_allow(e: &EcsAws, w: &EcsWorld, egress: bool) -> i32 {
    let acl = ecs_world::acl_of(e, &w.subnet_id).await;
    acl.entries()
        .iter()
        .filter(|x| x.egress() == Some(egress) && x.rule_action() == Some(&RuleAction::Allow))
        .filter_map(|x| x.rule_number())
        .min()
        .unwrap_or(32767)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fargate_task_forced_acl_isolation_rerun_and_release_round_trip() {
    let (e, w) = setup("acl").await;
    let config = config(true);
    let plan = plan_for(&w, &config);
    let ex = EcsExecutor::new(&e.aws.config, config.ecs.clone());
    let outcomes = ex.execute(&plan).await;
    assert_eq!(outcomes.len(), plan.actions.len());
    for (o, a) in outcomes.iter().zip(&plan.actions) {
        assert_eq!(o.kind, a.kind, "one outcome per action, in plan order");
    }
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    for k in [
        ActionKind::EcsCaptureEvidence,
        ActionKind::EcsIsolateTaskNetwork,
        ActionKind::EcsDeregisterTargets,
        ActionKind::EcsTagTask,
    ] {
        assert_eq!(status_of(&outcomes, k), Status::Done, "{}", show(&outcomes));
    }
    let evidence = outcomes[0].evidence.as_ref().expect("evidence");
    assert_eq!(evidence["task"]["taskArn"], w.task_arn.as_str());
    assert_eq!(
        evidence["networkInterface"]["networkInterfaceId"],
        w.eni_id.as_str()
    );
    assert!(evidence["taskDefinition"]["taskRoleArn"].is_string());

    let cidr = format!("{}/32", w.task_ip);
    let entries = entries_for(&e, &w, &cidr).await;
    assert_eq!(entries.len(), 2, "one DENY in, one out: {entries:?}");
    for (egress, n, deny) in &entries {
        assert!(deny);
        assert!(
            *n < first_allow(&e, &w, *egress).await,
            "ahead of the allows: {entries:?}"
        );
    }
    assert!(
        !ecs_world::targets(&e, &w.target_group_arn)
            .await
            .contains(&w.task_ip)
    );
    let tags = ecs_world::task_tags(&e, &w.task_arn).await;
    assert_eq!(tags["guardduty-responder:status"], "quarantined");
    assert_eq!(tags["guardduty-responder:finding-id"], plan.finding_id);
    assert_eq!(
        tags.keys()
            .filter(|k| k.starts_with("guardduty-responder:nacl:"))
            .count(),
        2,
        "{tags:?}"
    );
    assert!(
        tags.keys()
            .any(|k| k.starts_with("guardduty-responder:target:"))
    );
    // The ENI's groups were not touched.
    assert_eq!(
        world::eni_groups(&e.aws, &w.eni_id).await,
        vec![w.task_sg.clone()]
    );

    // Re-run: nothing duplicated, nothing failed.
    let again = ex.execute(&plan).await;
    assert!(!any_failed(&again), "{}", show(&again));
    for k in [
        ActionKind::EcsIsolateTaskNetwork,
        ActionKind::EcsDeregisterTargets,
        ActionKind::EcsTagTask,
    ] {
        assert_eq!(
            status_of(&again, k),
            Status::AlreadyDone,
            "{}",
            show(&again)
        );
    }
    assert_eq!(entries_for(&e, &w, &cidr).await, entries);

    // Dry-run release changes nothing.
    let dry = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            false,
        )
        .await
        .expect("dry run");
    assert!(!dry.executed);
    assert_eq!(entries_for(&e, &w, &cidr).await, entries);
    // Release removes exactly them, re-registers the target, removes the tags.
    let released = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await
        .expect("release");
    let by = |k: ReleaseStep| {
        released
            .outcomes
            .iter()
            .find(|o| o.kind == k)
            .unwrap()
            .status
    };
    assert_eq!(
        by(ReleaseStep::RemoveAclEntries),
        Status::Done,
        "{released:?}"
    );
    assert_eq!(
        by(ReleaseStep::RestoreTargets),
        Status::Done,
        "{released:?}"
    );
    assert_eq!(by(ReleaseStep::RemoveTags), Status::Done, "{released:?}");
    assert!(entries_for(&e, &w, &cidr).await.is_empty());
    let acl = ecs_world::acl_of(&e, &w.subnet_id).await;
    assert_eq!(
        acl.entries().len(),
        4,
        "only the default entries remain: {acl:?}"
    );
    assert!(
        ecs_world::targets(&e, &w.target_group_arn)
            .await
            .contains(&w.task_ip)
    );
    let tags = ecs_world::task_tags(&e, &w.task_arn).await;
    assert!(
        !tags.keys().any(|k| k.starts_with("guardduty-responder:")),
        "{tags:?}"
    );
    assert!(matches!(
        ex.release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true
        )
        .await,
        Err(ReleaseError::NotQuarantined { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_swap_when_the_eni_is_not_requester_managed_and_release_restores() {
    let (e, w) = setup("swap").await;
    let config = config(false);
    let plan = plan_for(&w, &config);
    let ex = EcsExecutor::new(&e.aws.config, config.ecs.clone());
    let outcomes = ex.execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let iso = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::EcsIsolateTaskNetwork)
        .unwrap();
    assert_eq!(iso.status, Status::Done);
    assert!(iso.detail.contains("group-swap"), "{}", iso.detail);
    let no_rules = world::groups_named(&e.aws, &w.vpc_id, NO_RULES_GROUP_NAME).await;
    let no_rules = no_rules[0].group_id().unwrap().to_owned();
    assert_eq!(world::eni_groups(&e.aws, &w.eni_id).await, vec![no_rules]);
    assert!(
        entries_for(&e, &w, &format!("{}/32", w.task_ip))
            .await
            .is_empty()
    );

    let again = ex.execute(&plan).await;
    assert_eq!(
        status_of(&again, ActionKind::EcsIsolateTaskNetwork),
        Status::AlreadyDone,
        "{}",
        show(&again)
    );

    let released = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await
        .expect("release");
    assert!(
        released.outcomes.iter().all(|o| o.status != Status::Failed),
        "{released:?}"
    );
    assert_eq!(
        world::eni_groups(&e.aws, &w.eni_id).await,
        vec![w.task_sg.clone()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_stopped_tasks_are_skipped() {
    let (e, w) = setup("gone").await;
    let config = config(true);
    let ex = EcsExecutor::new(&e.aws.config, config.ecs.clone());
    // A task that does not exist in the cluster.
    let mut missing = plan_for(&w, &config);
    let fake = format!(
        "arn:aws:ecs:{REGION}:123456789012:task/{}/0123456789abcdef0123456789abcdef",
        w.cluster
    );
    for a in &mut missing.actions {
        if let responder::target::Target::Ecs { task_arn, .. } =
            std::sync::Arc::make_mut(&mut a.target)
        {
            *task_arn = fake.parse().unwrap();
        }
    }
    let outcomes = ex.execute(&missing).await;
    assert!(
        outcomes.iter().all(|o| o.status == Status::Skipped),
        "{}",
        show(&outcomes)
    );
    assert!(
        outcomes[0].detail.contains("not found"),
        "{}",
        show(&outcomes)
    );

    // A stopped task.
    e.ecs
        .stop_task()
        .cluster(&w.cluster)
        .task(&w.task_arn)
        .send()
        .await
        .expect("StopTask");
    let plan = plan_for(&w, &config);
    let outcomes = ex.execute(&plan).await;
    assert!(
        outcomes.iter().all(|o| o.status == Status::Skipped),
        "{}",
        show(&outcomes)
    );
    assert!(
        outcomes[0].detail.contains("not running"),
        "{}",
        show(&outcomes)
    );
    assert!(
        entries_for(&e, &w, &format!("{}/32", w.task_ip))
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_acl_fails_clearly_and_the_rest_still_happens() {
    let (e, w) = setup("full").await;
    // An allow at rule 1 in both directions: no number is free ahead of it.
    for egress in [false, true] {
        e.aws
            .ec2
            .create_network_acl_entry()
            .network_acl_id(&w.acl_id)
            .rule_number(1)
            .protocol("-1")
            .rule_action(RuleAction::Allow)
            .egress(egress)
            .cidr_block("0.0.0.0/0")
            .send()
            .await
            .expect("CreateNetworkAclEntry");
    }
    let config = config(true);
    let plan = plan_for(&w, &config);
    let ex = EcsExecutor::new(&e.aws.config, config.ecs.clone());
    let outcomes = ex.execute(&plan).await;
    assert!(any_failed(&outcomes));
    let iso = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::EcsIsolateTaskNetwork)
        .unwrap();
    assert_eq!(iso.status, Status::Failed);
    assert!(iso.detail.contains("full"), "{}", iso.detail);
    assert!(iso.detail.contains(&w.acl_id), "{}", iso.detail);
    assert_eq!(
        status_of(&outcomes, ActionKind::EcsDeregisterTargets),
        Status::Done
    );
    assert_eq!(status_of(&outcomes, ActionKind::EcsTagTask), Status::Done);
    let tags = ecs_world::task_tags(&e, &w.task_arn).await;
    assert_eq!(tags["guardduty-responder:status"], "quarantine-incomplete");
    assert!(
        entries_for(&e, &w, &format!("{}/32", w.task_ip))
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_on_deregister_targets_is_a_partial_failure() {
    let (e, w) = setup("denied").await;
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    proxy.fail("DeregisterTargets", 403, "AccessDenied", None);
    let via = world::sdk_config(&proxy.endpoint(), REGION).await;
    let config = config(true);
    let plan = plan_for(&w, &config);
    let ex = EcsExecutor::new(&via, config.ecs.clone());
    let outcomes = ex.execute(&plan).await;
    assert!(any_failed(&outcomes), "{}", show(&outcomes));
    let dereg = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::EcsDeregisterTargets)
        .unwrap();
    assert_eq!(dereg.status, Status::Failed);
    assert!(dereg.detail.contains("AccessDenied"), "{}", dereg.detail);
    assert_eq!(
        status_of(&outcomes, ActionKind::EcsIsolateTaskNetwork),
        Status::Done
    );
    assert_eq!(
        status_of(&outcomes, ActionKind::EcsCaptureEvidence),
        Status::Done
    );
    assert_eq!(status_of(&outcomes, ActionKind::EcsTagTask), Status::Done);
    assert_eq!(
        entries_for(&e, &w, &format!("{}/32", w.task_ip))
            .await
            .len(),
        2
    );
    assert!(
        ecs_world::targets(&e, &w.target_group_arn)
            .await
            .contains(&w.task_ip)
    );
    let tags = ecs_world::task_tags(&e, &w.task_arn).await;
    assert_eq!(tags["guardduty-responder:status"], "quarantine-incomplete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_on_ecs_tag_resource_fails_the_tag_step_and_containment_still_happens() {
    let (e, w) = setup("tagdenied").await;
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    // A JSON-protocol call (X-Amz-Target: AmazonEC2ContainerServiceV20141113.TagResource).
    proxy.fail("ecs:TagResource", 400, "AccessDeniedException", None);
    let via = world::sdk_config(&proxy.endpoint(), REGION).await;
    let config = config(true);
    let plan = plan_for(&w, &config);
    let ex = EcsExecutor::new(&via, config.ecs.clone());
    let outcomes = ex.execute(&plan).await;
    assert!(
        any_failed(&outcomes),
        "overall an error: {}",
        show(&outcomes)
    );
    let tag = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::EcsTagTask)
        .unwrap();
    assert_eq!(tag.status, Status::Failed, "{}", show(&outcomes));
    assert!(tag.detail.contains("AccessDenied"), "{}", tag.detail);
    assert!(
        proxy
            .calls()
            .iter()
            .any(|c| c.service == "ecs" && c.action == "TagResource" && c.injected),
        "the fault was injected on the JSON call"
    );
    // Evidence and network isolation are done: the entries are recorded on the ACL, so
    // release still finds them.
    assert_eq!(
        status_of(&outcomes, ActionKind::EcsCaptureEvidence),
        Status::Done
    );
    let iso = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::EcsIsolateTaskNetwork)
        .unwrap();
    assert_eq!(iso.status, Status::Done, "{}", show(&outcomes));
    assert!(iso.detail.contains("not on the task"), "{}", iso.detail);
    assert_eq!(
        entries_for(&e, &w, &format!("{}/32", w.task_ip))
            .await
            .len(),
        2
    );
    // The target is out of the load balancer; the step fails only because its one record
    // (on the task) could not be written: release could not re-register it.
    assert!(
        !ecs_world::targets(&e, &w.target_group_arn)
            .await
            .contains(&w.task_ip)
    );
    let dereg = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::EcsDeregisterTargets)
        .unwrap();
    assert_eq!(dereg.status, Status::Failed, "{}", dereg.detail);
    assert!(
        dereg.detail.contains("release will not re-register") && dereg.detail.contains(&w.task_ip),
        "{}",
        dereg.detail
    );
    assert!(
        !ecs_world::task_tags(&e, &w.task_arn)
            .await
            .keys()
            .any(|k| k.starts_with("guardduty-responder:"))
    );
    // Release works from the ACL's record.
    proxy.clear_faults();
    let released = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await
        .expect("release from the ACL record");
    assert!(
        released
            .outcomes
            .iter()
            .any(|o| o.kind == ReleaseStep::RemoveAclEntries && o.status == Status::Done),
        "{released:?}"
    );
    assert!(
        entries_for(&e, &w, &format!("{}/32", w.task_ip))
            .await
            .is_empty()
    );
}

/// Every network ACL of `w`'s VPC.
async fn vpc_acls(e: &EcsAws, w: &EcsWorld) -> Vec<aws_sdk_ec2::types::NetworkAcl> {
    e.aws
        .ec2
        .describe_network_acls()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&w.vpc_id)
                .build(),
        )
        .send()
        .await
        .expect("DescribeNetworkAcls")
        .network_acls()
        .to_vec()
}

/// The task's DENY entries in each network ACL of its VPC: (ACL id, egress?) pairs.
async fn denies_in_vpc(e: &EcsAws, w: &EcsWorld) -> Vec<(String, bool)> {
    let cidr = format!("{}/32", w.task_ip);
    let mut out = Vec::new();
    for acl in vpc_acls(e, w).await {
        for x in acl.entries() {
            if x.rule_action() == Some(&RuleAction::Deny) && x.cidr_block() == Some(cidr.as_str()) {
                out.push((
                    acl.network_acl_id().unwrap_or_default().to_owned(),
                    x.egress().unwrap_or_default(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// An ACL matches the source inbound and the destination outbound where a packet crosses a
/// subnet's edge: the task's own subnet ACL never sees its address there. Its address is
/// denied in every ACL of the VPC (here also the VPC's default one, which the other
/// subnets use), both ways, and release removes every entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_is_denied_in_every_network_acl_of_its_vpc() {
    let (e, w) = setup("acl-vpc").await;
    // Another ACL of the VPC, as a database or NAT subnet would have.
    e.aws
        .ec2
        .create_network_acl()
        .vpc_id(&w.vpc_id)
        .send()
        .await
        .expect("CreateNetworkAcl");
    let acls: std::collections::BTreeSet<String> = vpc_acls(&e, &w)
        .await
        .iter()
        .filter_map(|a| a.network_acl_id().map(str::to_owned))
        .collect();
    assert!(
        acls.len() >= 2,
        "the world has the task's ACL and another: {acls:?}"
    );
    let c = config(true);
    let outcomes = EcsExecutor::new(&e.aws.config, c.ecs.clone())
        .execute(&plan_for(&w, &c))
        .await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let denied = denies_in_vpc(&e, &w).await;
    let expected: Vec<(String, bool)> = acls
        .iter()
        .flat_map(|a| [(a.clone(), false), (a.clone(), true)])
        .collect();
    assert_eq!(denied, expected);
    let released = EcsExecutor::new(&e.aws.config, c.ecs.clone())
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await
        .expect("release");
    assert!(
        released.outcomes.iter().all(|o| o.status != Status::Failed),
        "{released:?}"
    );
    assert!(denies_in_vpc(&e, &w).await.is_empty());
}
