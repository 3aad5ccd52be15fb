//! The attacker after an ECS task's isolation: `ecs:TagResource` on their task (stolen
//! credentials) rewrites its record so that release deletes the DENY entries isolating
//! *another* task, or registers an address of their choosing behind the load balancer.
//! Both are refused and moto's ACLs and target groups are exactly as before. With a MAC
//! key, any edit of the record (on the task or on the ACL) is refused, even one the
//! binding checks cannot see, and a later containment does not seal over it.

use aws_sdk_ec2::types::RuleAction;
use integration_tests::ecs_world::{self, EcsAws, EcsWorld, show};
use integration_tests::proxy::Proxy;
use integration_tests::world;
use responder::Config;
use responder::actions::ec2::record_mac::MAC_KEY;
use responder::actions::ecs::network_acl::Direction;
use responder::actions::ecs::record::{self, NaclEntry};
use responder::actions::ecs::{EcsExecutor, ReleaseError};
use responder::actions::ecs::{acl_record, record_seal};
use responder::execute::Executor;
use responder::outcome::{Status, any_failed};
use responder::plan::ActionKind;

const REGION: &str = "us-east-1";

async fn isolated(e: &EcsAws, name: &str) -> (EcsWorld, EcsExecutor) {
    isolated_with(e, name, None).await
}

fn contain_plan(w: &EcsWorld) -> responder::plan::ResponsePlan {
    let mut config = Config::default();
    config.ecs.force_network_acl = true;
    let (_, event) = ecs_world::finding_event(w);
    world::plan(&event, &config)
}

/// `w` isolated by an executor that seals records with `key`.
async fn isolated_with(e: &EcsAws, name: &str, key: Option<&str>) -> (EcsWorld, EcsExecutor) {
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let w = ecs_world::fargate_world(e, name).await;
    let mut options = Config::default().ecs;
    options.force_network_acl = true;
    let ex = EcsExecutor::new(&e.aws.config, options).with_record_mac_key(key.map(str::to_owned));
    let outcomes = ex.execute(&contain_plan(&w)).await;
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

/// The CIDR and rule number of the ingress DENY isolating `w`'s task.
async fn ingress_deny(e: &EcsAws, w: &EcsWorld) -> (String, i32) {
    let cidr = format!("{}/32", w.task_ip);
    let rule = ecs_world::acl_of(e, &w.subnet_id)
        .await
        .entries()
        .iter()
        .find(|x| x.cidr_block() == Some(cidr.as_str()) && x.egress() == Some(false))
        .and_then(|x| x.rule_number())
        .expect("the task is isolated");
    (cidr, rule)
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
async fn a_record_naming_another_tasks_deny_entries_is_refused() {
    let e = EcsAws::moto(REGION).await;
    let (mine, ex) = isolated(&e, "evade-a").await;
    let (theirs, _) = isolated(&e, "evade-b").await;
    // The other task's ingress DENY, as its own record would name it.
    let (cidr, rule) = ingress_deny(&e, &theirs).await;
    let (k, v) = record::nacl_tag(&NaclEntry {
        acl_id: theirs.acl_id.clone(),
        direction: Direction::Ingress,
        rule_number: rule,
        cidr,
        allow: false,
    })
    .expect("a valid entry");
    tag_task(&e, &mine.task_arn, &k, &v).await;
    let before = (state(&e, &mine).await, state(&e, &theirs).await);
    refused(
        ex.release(
            &mine.cluster.parse().unwrap(),
            &mine.task_arn.parse().unwrap(),
            true,
        )
        .await,
        "not a network ACL of the task's VPC",
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
        ex.release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await,
        "10.0.1.250",
    );
    assert_eq!(state(&e, &w).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_the_binding_checks_cannot_see_breaks_the_seal_and_is_not_sealed_over() {
    let e = EcsAws::moto(REGION).await;
    let key = world::hmac_key(&e.aws).await;
    let (w, ex) = isolated_with(&e, "seal-edit", Some(&key)).await;
    let tags = ecs_world::task_tags(&e, &w.task_arn).await;
    assert!(tags.contains_key(MAC_KEY), "the record is sealed: {tags:?}");
    let dry = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            false,
        )
        .await;
    assert!(
        dry.as_ref().is_ok_and(|r| r.warnings.is_empty()),
        "an untouched sealed record releases without warnings: {dry:?}"
    );

    // The task's own address on another port: bound to the task, so only the seal sees it.
    let (k, v) = record::target_tag(&record::Target {
        target_group_arn: w.target_group_arn.clone(),
        id: w.task_ip.clone(),
        port: Some(9999),
    })
    .expect("a valid target");
    tag_task(&e, &w.task_arn, &k, &v).await;
    let before = state(&e, &w).await;
    refused(
        ex.release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await,
        "MAC does not verify",
    );
    assert_eq!(state(&e, &w).await, before);

    // The finding arrives again: isolation holds, but the edited record is not sealed over.
    let outcomes = ex.execute(&contain_plan(&w)).await;
    let tagged = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::EcsTagTask)
        .expect("a tag outcome");
    assert!(
        tagged.status == Status::Failed && tagged.detail.contains("left unsealed"),
        "{}",
        show(&outcomes)
    );
    refused(
        ex.release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await,
        "MAC does not verify",
    );
    assert_eq!(state(&e, &w).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_acl_record_for_a_forgotten_task_is_refused() {
    let e = EcsAws::moto(REGION).await;
    let key = world::hmac_key(&e.aws).await;
    let (mine, _) = isolated_with(&e, "seal-acl-a", Some(&key)).await;
    let (theirs, _) = isolated_with(&e, "seal-acl-b", Some(&key)).await;
    let acl = ecs_world::acl_of(&e, &mine.subnet_id).await;
    assert!(
        acl.tags().iter().any(|t| t
            .key()
            .is_some_and(|k| k.starts_with(record_seal::ACL_MAC_KEY))),
        "the ACL's copy is sealed"
    );
    // Rewrite my task's copy on the ACL to name the other task's ingress DENY.
    let (cidr, rule) = ingress_deny(&e, &theirs).await;
    let task_id = acl_record::task_id(&mine.task_arn).expect("a task id");
    let (k, v) = acl_record::encode(
        task_id,
        &[NaclEntry {
            acl_id: theirs.acl_id.clone(),
            direction: Direction::Ingress,
            rule_number: rule,
            cidr,
            allow: false,
        }],
    )
    .expect("a valid record");
    world::set_tag(&e.aws, acl.network_acl_id().expect("acl id"), &k, &v).await;

    // ECS has forgotten my task: the ACL's copy is all release has.
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    let missing = serde_json::json!({
        "tasks": [],
        "failures": [{"arn": mine.task_arn, "reason": "MISSING"}],
    });
    proxy.answer("ecs:DescribeTasks", 200, &missing.to_string(), None);
    let via = world::sdk_config(&proxy.endpoint(), REGION).await;
    let mut options = Config::default().ecs;
    options.force_network_acl = true;
    let ex = EcsExecutor::new(&via, options).with_record_mac_key(Some(key));
    let before = (state(&e, &mine).await, state(&e, &theirs).await);
    refused(
        ex.release(
            &mine.cluster.parse().unwrap(),
            &mine.task_arn.parse().unwrap(),
            true,
        )
        .await,
        "record on network ACL",
    );
    assert_eq!((state(&e, &mine).await, state(&e, &theirs).await), before);
}
