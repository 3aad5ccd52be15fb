//! Release of an ECS task isolation once ECS has forgotten the task. ECS drops a stopped
//! task about an hour after it stops: `DescribeTasks` then answers `MISSING` and the
//! task's tags (the record) are gone with it. moto never forgets a task, so the proxy
//! answers `DescribeTasks` exactly as ECS does then; everything else is moto's.

use aws_sdk_ec2::types::RuleAction;
use integration_tests::ecs_world::{self, EcsAws, EcsWorld, show, status_of};
use integration_tests::proxy::Proxy;
use integration_tests::world;
use responder::Config;
use responder::actions::ecs::{EcsExecutor, ReleaseError, ReleaseStep};
use responder::execute::Executor;
use responder::outcome::{Status, any_failed};
use responder::plan::ActionKind;

const REGION: &str = "us-east-1";
const ACL_TAG_PREFIX: &str = "guardduty-responder:task:";

async fn setup(name: &str) -> (EcsAws, EcsWorld) {
    let e = EcsAws::moto(REGION).await;
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let w = ecs_world::fargate_world(&e, name).await;
    (e, w)
}

/// `(egress?, rule number)` of the DENY entries for the task's IP.
async fn denies(e: &EcsAws, w: &EcsWorld) -> Vec<(bool, i32)> {
    let cidr = format!("{}/32", w.task_ip);
    let mut v: Vec<(bool, i32)> = ecs_world::acl_of(e, &w.subnet_id)
        .await
        .entries()
        .iter()
        .filter(|x| x.cidr_block() == Some(cidr.as_str()))
        .filter(|x| x.rule_action() == Some(&RuleAction::Deny))
        .map(|x| (x.egress().unwrap_or(false), x.rule_number().unwrap_or(0)))
        .collect();
    v.sort();
    v
}

/// The ACL's tags that name a task.
async fn acl_task_tags(e: &EcsAws, w: &EcsWorld) -> Vec<(String, String)> {
    ecs_world::acl_of(e, &w.subnet_id)
        .await
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
        .filter(|(k, _)| k.starts_with(ACL_TAG_PREFIX))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_finds_the_entries_on_the_acl_once_ecs_has_forgotten_the_task() {
    let (e, w) = setup("forgotten").await;
    let mut config = Config::default();
    config.ecs.force_network_acl = true;
    let (_, event) = ecs_world::finding_event(&w);
    let plan = world::plan(&event, &config);
    let outcomes = EcsExecutor::new(&e.aws.config, config.ecs.clone())
        .execute(&plan)
        .await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    assert_eq!(
        status_of(&outcomes, ActionKind::EcsIsolateTaskNetwork),
        Status::Done
    );
    let entries = denies(&e, &w).await;
    assert_eq!(entries.len(), 2, "{entries:?}");

    // The ACL itself names the task and exactly its entries, compactly.
    let task_id = w.task_arn.rsplit('/').next().expect("task id");
    let tags = acl_task_tags(&e, &w).await;
    assert_eq!(tags.len(), 1, "{tags:?}");
    let (key, value) = &tags[0];
    assert_eq!(key, &format!("{ACL_TAG_PREFIX}{task_id}"));
    assert!(key.len() <= 128 && value.len() <= 256, "{key}={value}");
    assert!(value.contains(&format!("{}/32", w.task_ip)), "{value}");
    for (_, n) in &entries {
        assert!(value.contains(&n.to_string()), "{value} lacks #{n}");
    }

    // ECS forgets the task.
    let proxy = Proxy::start(&integration_tests::moto::shared().endpoint()).await;
    let missing = serde_json::json!({
        "tasks": [],
        "failures": [{"arn": w.task_arn, "reason": "MISSING"}],
    })
    .to_string();
    proxy.answer("ecs:DescribeTasks", 200, &missing, None);
    let via = world::sdk_config(&proxy.endpoint(), REGION).await;
    let ex = EcsExecutor::new(&via, config.ecs.clone());

    let dry = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            false,
        )
        .await
        .expect("dry run without the task");
    assert!(!dry.record.task_found && !dry.executed);
    assert_eq!(dry.record.record.nacl.len(), 2, "{dry:?}");
    assert_eq!(denies(&e, &w).await, entries, "a dry run changes nothing");

    let released = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await
        .expect("release without the task");
    assert!(!released.record.task_found);
    assert_eq!(
        released.finding_id, None,
        "the finding is named on the task only"
    );
    let status = |k: ReleaseStep| {
        released
            .outcomes
            .iter()
            .find(|o| o.kind == k)
            .map(|o| o.status)
            .expect("an outcome per step")
    };
    assert_eq!(
        status(ReleaseStep::RemoveAclEntries),
        Status::Done,
        "{released:?}"
    );
    assert_eq!(
        status(ReleaseStep::RemoveTags),
        Status::Done,
        "{released:?}"
    );
    // Its IP may be another task's now: the target is not re-registered.
    assert_eq!(status(ReleaseStep::RestoreTargets), Status::Skipped);
    assert!(denies(&e, &w).await.is_empty(), "the entries are removed");
    assert_eq!(
        ecs_world::acl_of(&e, &w.subnet_id).await.entries().len(),
        4,
        "only the default entries remain"
    );
    assert!(
        acl_task_tags(&e, &w).await.is_empty(),
        "the ACL record is removed"
    );
    let calls = proxy.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.action == "DescribeTasks" && c.injected),
        "the release really asked ECS: {calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c.action == "UntagResource"),
        "nothing to untag on a forgotten task"
    );

    // Nothing is left anywhere: release says the task is not found.
    assert!(matches!(
        ex.release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true
        )
        .await,
        Err(ReleaseError::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_with_the_task_known_also_removes_the_acl_record() {
    let (e, w) = setup("known").await;
    let mut config = Config::default();
    config.ecs.force_network_acl = true;
    let (_, event) = ecs_world::finding_event(&w);
    let plan = world::plan(&event, &config);
    let ex = EcsExecutor::new(&e.aws.config, config.ecs.clone());
    let outcomes = ex.execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let tags = acl_task_tags(&e, &w).await;
    assert_eq!(tags.len(), 1, "{tags:?}");
    // A re-run records nothing new.
    let again = ex.execute(&plan).await;
    assert!(!any_failed(&again), "{}", show(&again));
    assert_eq!(acl_task_tags(&e, &w).await, tags);

    let released = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await
        .expect("release");
    assert!(released.record.task_found);
    assert_eq!(
        released.finding_id.as_deref(),
        Some(plan.finding_id.as_str())
    );
    assert!(
        released.outcomes.iter().all(|o| o.status != Status::Failed),
        "{released:?}"
    );
    assert!(denies(&e, &w).await.is_empty());
    assert!(acl_task_tags(&e, &w).await.is_empty());
    assert!(
        !ecs_world::task_tags(&e, &w.task_arn)
            .await
            .keys()
            .any(|k| k.starts_with("guardduty-responder:"))
    );
}
