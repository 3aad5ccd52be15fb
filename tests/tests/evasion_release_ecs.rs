//! The attacker after an ECS task's isolation: `ecs:TagResource` on their task (stolen
//! credentials) rewrites its record so that release deletes the DENY entries isolating
//! *another* task, or registers an address of their choosing behind the load balancer.
//! Both are refused and moto's ACLs and target groups are exactly as before.

use aws_sdk_ec2::types::RuleAction;
use integration_tests::ecs_world::{self, EcsAws, EcsWorld, show};
use integration_tests::world;
use responder::Config;
use responder::actions::ecs::network_acl::Direction;
use responder::actions::ecs::record::{self, NaclEntry};
use responder::actions::ecs::{EcsExecutor, ReleaseError};
use responder::execute::Executor;
use responder::outcome::any_failed;

const REGION: &str = "us-east-1";

async fn isolated(e: &EcsAws, name: &str) -> (EcsWorld, EcsExecutor) {
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let w = ecs_world::fargate_world(e, name).await;
    let mut config = Config::default();
    config.ecs.force_network_acl = true;
    let (_, event) = ecs_world::finding_event(&w);
    let plan = world::plan(&event, &config);
    let ex = EcsExecutor::new(&e.aws.config, config.ecs.clone());
    let outcomes = ex.execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    (w, ex)
}

/// The DENY entries of `w`'s ACL and the targets of its group.
async fn state(e: &EcsAws, w: &EcsWorld) -> String {
    let mut denies: Vec<_> = ecs_world::acl_of(e, &w.subnet_id)
        .await
        .entries()
        .iter()
        .filter(|x| x.rule_action() == Some(&RuleAction::Deny))
        .map(|x| {
            format!(
                "{:?} {:?} {:?}",
                x.egress(),
                x.rule_number(),
                x.cidr_block()
            )
        })
        .collect();
    denies.sort();
    let mut targets = ecs_world::targets(e, &w.target_group_arn).await;
    targets.sort();
    format!("{denies:?} {targets:?}")
}

async fn tag_task(e: &EcsAws, arn: &str, key: &str, value: &str) {
    e.ecs
        .tag_resource()
        .resource_arn(arn)
        .tags(
            aws_sdk_ecs::types::Tag::builder()
                .key(key)
                .value(value)
                .build(),
        )
        .send()
        .await
        .expect("TagResource");
}

fn refused(r: Result<responder::actions::ecs::Released, ReleaseError>, why: &str) {
    match r {
        Err(ReleaseError::Refused(_, reasons)) => {
            assert!(
                reasons.iter().any(|m| m.contains(why)),
                "{why:?} not in {reasons:?}"
            )
        }
        other => panic!("release was not refused: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_naming_another_tasks_deny_entries_is_refused() {
    let e = EcsAws::moto(REGION).await;
    let (mine, ex) = isolated(&e, "evade-a").await;
    let (theirs, _) = isolated(&e, "evade-b").await;
    // The other task's ingress DENY, as its own record would name it.
    let cidr = format!("{}/32", theirs.task_ip);
    let rule = ecs_world::acl_of(&e, &theirs.subnet_id)
        .await
        .entries()
        .iter()
        .find(|x| x.cidr_block() == Some(cidr.as_str()) && x.egress() == Some(false))
        .and_then(|x| x.rule_number())
        .expect("the other task is isolated");
    let (k, v) = record::nacl_tag(&NaclEntry {
        acl_id: theirs.acl_id.clone(),
        direction: Direction::Ingress,
        rule_number: rule,
        cidr,
    })
    .expect("a valid entry");
    tag_task(&e, &mine.task_arn, &k, &v).await;
    let before = (state(&e, &mine).await, state(&e, &theirs).await);
    refused(
        ex.release(&mine.cluster, &mine.task_arn, true).await,
        "not the network ACL of the task's subnet",
    );
    assert_eq!((state(&e, &mine).await, state(&e, &theirs).await), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_not_the_tasks_own_address_is_refused() {
    let e = EcsAws::moto(REGION).await;
    let (w, ex) = isolated(&e, "evade-t").await;
    let (k, v) = record::target_tag(&record::Target {
        target_group_arn: w.target_group_arn.clone(),
        id: "10.0.1.250".into(),
        port: Some(ecs_world::PORT),
    })
    .expect("a valid target");
    tag_task(&e, &w.task_arn, &k, &v).await;
    let before = state(&e, &w).await;
    refused(
        ex.release(&w.cluster, &w.task_arn, true).await,
        "10.0.1.250",
    );
    assert_eq!(state(&e, &w).await, before);
}
