//! The ECS executor's configurable steps against moto: stopping the task after isolation,
//! revoking the task role's older sessions (moto's IAM) and what release does with that
//! revocation, and ECS on EC2 with bridge networking (no task ENI: the host is quarantined
//! by the EC2 quarantine and its container instance set to DRAINING).

use aws_sdk_ec2::types::RuleAction;
use integration_tests::ecs_world::{self, EcsAws, EcsWorld, show, status_of};
use integration_tests::world;
use responder::Config;
use responder::actions::ec2::isolation_groups::NO_RULES_GROUP_NAME;
use responder::actions::ecs::{EcsExecutor, REVOKE_POLICY_NAME, ReleaseStep, Released};
use responder::execute::Executor;
use responder::outcome::{Status, any_failed};
use responder::plan::{ActionKind, ResponsePlan};

const REGION: &str = "us-east-1";
const REVOKED_ROLE_TAG: &str = "guardduty-responder:revoked-role";

async fn setup(name: &str) -> (EcsAws, EcsWorld) {
    let e = EcsAws::moto(REGION).await;
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let w = ecs_world::fargate_world(&e, name).await;
    (e, w)
}

fn kinds(plan: &ResponsePlan) -> Vec<ActionKind> {
    plan.actions.iter().map(|a| a.kind).collect()
}

async fn deny_entries(e: &EcsAws, w: &EcsWorld) -> usize {
    let cidr = format!("{}/32", w.task_ip);
    ecs_world::acl_of(e, &w.subnet_id)
        .await
        .entries()
        .iter()
        .filter(|x| x.cidr_block() == Some(cidr.as_str()))
        .filter(|x| x.rule_action() == Some(&RuleAction::Deny))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_is_stopped_after_isolation_only_when_configured() {
    // Enabled: stopped last, with the finding id in a reason of at most 255 characters.
    let (e, w) = setup("stop").await;
    let mut config = Config::default();
    config.ecs.force_network_acl = true;
    config.ecs.stop_task = true;
    let (_, event) = ecs_world::finding_event(&w);
    let plan = world::contain_plan(&event, &config);
    assert_eq!(kinds(&plan).last(), Some(&ActionKind::EcsStopTask));
    let ex = EcsExecutor::from_config(&e.aws.config, &config);
    let outcomes = ex.execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    assert_eq!(
        status_of(&outcomes, ActionKind::EcsStopTask),
        Status::Done,
        "{}",
        show(&outcomes)
    );
    assert_eq!(
        status_of(&outcomes, ActionKind::EcsIsolateTaskNetwork),
        Status::Done
    );
    let task = ecs_world::describe_task(&e, &w.cluster, &w.task_arn).await;
    assert_eq!(task.desired_status(), Some("STOPPED"));
    let reason = task.stopped_reason().unwrap_or_default();
    assert!(reason.contains(&plan.finding_id), "{reason:?}");
    assert!(reason.chars().count() <= 255, "{} chars", reason.len());
    // Stopping does not undo the isolation (the IP stays denied until release).
    assert_eq!(deny_entries(&e, &w).await, 2);

    // Disabled (the default): no stop step, the task keeps running.
    let (e, w) = setup("nostop").await;
    let mut config = Config::default();
    config.ecs.force_network_acl = true;
    assert!(!Config::default().ecs.stop_task, "off by default");
    let (_, event) = ecs_world::finding_event(&w);
    let plan = world::contain_plan(&event, &config);
    assert!(!kinds(&plan).contains(&ActionKind::EcsStopTask));
    let outcomes = EcsExecutor::new(&e.aws.config, config.ecs.clone())
        .execute(&plan)
        .await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let task = ecs_world::describe_task(&e, &w.cluster, &w.task_arn).await;
    assert_eq!(task.desired_status(), Some("RUNNING"));
    assert_eq!(task.last_status(), Some("RUNNING"));
    assert!(task.stopped_reason().unwrap_or_default().is_empty());
    assert_eq!(deny_entries(&e, &w).await, 2);
}

/// `%XX`-decodes an IAM policy document (IAM returns them URL-encoded).
async fn revocation(iam: &aws_sdk_iam::Client, role: &str) -> Option<serde_json::Value> {
    world::revocation_policy(iam, role).await
}

fn outcome(r: &Released, k: ReleaseStep) -> (Status, String) {
    let o = r
        .outcomes
        .iter()
        .find(|o| o.kind == k)
        .unwrap_or_else(|| panic!("no {} in {r:?}", k.name()));
    (o.status, o.detail.clone())
}

/// Revocation writes a policy on a role: off unless role patterns are configured, and then
/// only on the roles they match (an attacker choosing the task role of their task
/// definition cannot point it at another role).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_is_off_without_role_patterns_and_refuses_roles_outside_them() {
    let (e, w) = setup("revoke-off").await;
    let role = "revoke-off-task-role"; // the world's task definition names it
    let iam = aws_sdk_iam::Client::new(&e.aws.config);
    let _ = iam
        .create_role()
        .role_name(role)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await;
    let (_, event) = ecs_world::finding_event(&w);
    for (patterns, why) in [
        (vec![], "revocation is off"),
        (
            vec!["arn:aws:iam::*:role/payments/*".to_owned()],
            "matches no revocable role ARN pattern",
        ),
    ] {
        let mut config = Config::default();
        config.ecs.force_network_acl = true;
        config.ecs.revoke_role_sessions = true;
        config.revocation.role_arns = patterns;
        let plan = world::contain_plan(&event, &config);
        let ex = EcsExecutor::from_config(&e.aws.config, &config);
        let outcomes = ex.execute(&plan).await;
        let revoke = outcomes
            .iter()
            .find(|o| o.kind == ActionKind::EcsRevokeRoleSessions)
            .expect("a revocation outcome");
        assert_eq!(revoke.status, Status::Skipped, "{}", show(&outcomes));
        assert!(revoke.detail.contains(why), "{}", revoke.detail);
        assert!(revocation(&iam, role).await.is_none(), "no policy written");
        // Containment itself goes on (the second round finds it done already).
        assert!(matches!(
            status_of(&outcomes, ActionKind::EcsIsolateTaskNetwork),
            Status::Done | Status::AlreadyDone
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_sessions_revoked_and_the_revocation_outlives_release_until_sessions_expire() {
    let (e, w) = setup("revoke").await;
    let role = "revoke-task-role"; // the world's task definition names it
    let iam = aws_sdk_iam::Client::new(&e.aws.config);
    iam.create_role()
        .role_name(role)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .expect("CreateRole");
    let mut config = Config::default();
    config.ecs.force_network_acl = true;
    config.ecs.revoke_role_sessions = true;
    config.revocation.role_arns = vec!["arn:aws:iam::*:role/revoke-*".into()];
    let (_, event) = ecs_world::finding_event(&w);
    let plan = world::contain_plan(&event, &config);
    assert!(kinds(&plan).contains(&ActionKind::EcsRevokeRoleSessions));
    let ex = EcsExecutor::from_config(&e.aws.config, &config);
    // Whole seconds: the policy's cutoff has no fraction.
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let outcomes = ex.execute(&plan).await;
    let after = chrono::Utc::now() + chrono::Duration::seconds(1);
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    assert_eq!(
        status_of(&outcomes, ActionKind::EcsRevokeRoleSessions),
        Status::Done
    );

    // The inline policy on the role: deny everything to sessions issued before now.
    let doc = revocation(&iam, role).await.expect("the revocation policy");
    let statements = doc["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 1, "{doc}");
    let s = &statements[0];
    assert_eq!(s["Effect"], "Deny", "{doc}");
    assert!(
        s["Action"] == "*" || s["Action"] == serde_json::json!(["*"]),
        "{doc}"
    );
    assert!(
        s["Resource"] == "*" || s["Resource"] == serde_json::json!(["*"]),
        "{doc}"
    );
    let conditions = s["Condition"].as_object().expect("a condition");
    assert_eq!(conditions.len(), 1, "only DateLessThan: {doc}");
    let cutoff = s["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
        .as_str()
        .expect("DateLessThan aws:TokenIssueTime");
    let cutoff = chrono::DateTime::parse_from_rfc3339(cutoff)
        .expect("an RFC 3339 time")
        .with_timezone(&chrono::Utc);
    assert!(
        before <= cutoff && cutoff <= after,
        "{before} {cutoff} {after}"
    );
    let tags = ecs_world::task_tags(&e, &w.task_arn).await;
    assert_eq!(tags[REVOKED_ROLE_TAG], role);

    // Release within the session lifetime: network and tags undone, the revocation kept
    // (stolen sessions issued before it would work again), and so its record on the task.
    let released = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await
        .expect("release");
    let (status, detail) = outcome(&released, ReleaseStep::RemoveRoleRevocation);
    assert_eq!(status, Status::Skipped, "{released:?}");
    assert!(detail.contains("kept"), "{detail}");
    assert_eq!(
        outcome(&released, ReleaseStep::RemoveAclEntries).0,
        Status::Done
    );
    assert_eq!(outcome(&released, ReleaseStep::RemoveTags).0, Status::Done);
    assert!(revocation(&iam, role).await.is_some(), "still revoked");
    assert_eq!(deny_entries(&e, &w).await, 0);
    let tags = ecs_world::task_tags(&e, &w.task_arn).await;
    let ours: Vec<&String> = tags
        .keys()
        .filter(|k| k.starts_with("guardduty-responder:"))
        .collect();
    assert_eq!(ours, vec![REVOKED_ROLE_TAG], "{tags:?}");

    // Once every session it denies has expired (cutoff over 12 h ago), release deletes it.
    let long_ago = (chrono::Utc::now() - chrono::Duration::hours(13))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut aged = doc.clone();
    aged["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"] =
        long_ago.clone().into();
    iam.put_role_policy()
        .role_name(role)
        .policy_name(REVOKE_POLICY_NAME)
        .policy_document(aged.to_string())
        .send()
        .await
        .expect("PutRolePolicy");
    let dry = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            false,
        )
        .await
        .expect("dry run");
    assert_eq!(
        outcome(&dry, ReleaseStep::RemoveRoleRevocation).0,
        Status::Skipped
    );
    assert!(
        revocation(&iam, role).await.is_some(),
        "a dry run deletes nothing"
    );
    let released = ex
        .release(
            &w.cluster.parse().unwrap(),
            &w.task_arn.parse().unwrap(),
            true,
        )
        .await
        .expect("second release");
    assert_eq!(
        outcome(&released, ReleaseStep::RemoveRoleRevocation).0,
        Status::Done,
        "{released:?}"
    );
    assert!(revocation(&iam, role).await.is_none(), "deleted");
    let tags = ecs_world::task_tags(&e, &w.task_arn).await;
    assert!(
        !tags.keys().any(|k| k.starts_with("guardduty-responder:")),
        "{tags:?}"
    );
}

/// The EC2 sample finding rewritten to the host world's cluster, task and instance.
fn host_event(h: &ecs_world::EcsHostWorld) -> Vec<u8> {
    let (_, event) = ecs_world::finding_event_from(
        ecs_world::EC2_SAMPLE,
        &h.region,
        &h.cluster,
        &h.task_arn,
        "family:worker",
    );
    let mut v: serde_json::Value = serde_json::from_slice(&event).expect("JSON");
    if v["detail"]["resource"]["instanceDetails"].is_object() {
        v["detail"]["resource"]["instanceDetails"]["instanceId"] = h.host.id.clone().into();
    }
    serde_json::to_vec(&v).expect("serialises")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_task_on_ec2_quarantines_the_host_and_drains_the_container_instance() {
    let e = EcsAws::moto(REGION).await;
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let h = ecs_world::ec2_host_world(&e, "host").await;
    let config = Config::default();
    assert!(config.ecs.contain_ec2_host, "on by default");
    let plan = world::contain_plan(&host_event(&h), &config);
    let ex = EcsExecutor::from_config(&e.aws.config, &config);
    let outcomes = ex.execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    let iso = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::EcsIsolateTaskNetwork)
        .expect("isolation outcome");
    assert_eq!(iso.status, Status::Done, "{}", show(&outcomes));
    assert!(iso.detail.contains(&h.host.id), "{}", iso.detail);

    // Every ENI of the host is in the VPC's no-rules isolation group, and only there.
    let no_rules = world::groups_named(&e.aws, &h.net.vpc_id, NO_RULES_GROUP_NAME).await;
    assert_eq!(no_rules.len(), 1, "one no-rules group in the VPC");
    let no_rules = no_rules[0].group_id().expect("group id").to_owned();
    assert_eq!(h.host.enis.len(), 2);
    for eni in &h.host.enis {
        assert_ne!(
            eni.groups,
            vec![no_rules.clone()],
            "it was not isolated before"
        );
        assert_eq!(
            world::eni_groups(&e.aws, &eni.id).await,
            vec![no_rules.clone()],
            "{}",
            eni.id
        );
    }
    assert_eq!(
        ecs_world::container_instance_status(&e, &h.cluster, &h.container_instance_arn).await,
        "DRAINING"
    );
    // The host carries the EC2 quarantine's record (what `release ec2` restores from).
    let host_tags = world::tags(&e.aws, &h.host.id).await;
    assert_eq!(
        host_tags
            .get("guardduty-responder:status")
            .map(String::as_str),
        Some("quarantined"),
        "{host_tags:?}"
    );
    assert_eq!(status_of(&outcomes, ActionKind::EcsTagTask), Status::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_containment_can_be_turned_off() {
    let e = EcsAws::moto(REGION).await;
    ecs_world::freeze_task_states(&integration_tests::moto::shared().endpoint());
    let h = ecs_world::ec2_host_world(&e, "hostoff").await;
    let mut config = Config::default();
    config.ecs.contain_ec2_host = false;
    let plan = world::contain_plan(&host_event(&h), &config);
    let outcomes = EcsExecutor::new(&e.aws.config, config.ecs.clone())
        .execute(&plan)
        .await;
    assert_eq!(
        status_of(&outcomes, ActionKind::EcsIsolateTaskNetwork),
        Status::Skipped,
        "{}",
        show(&outcomes)
    );
    for eni in &h.host.enis {
        assert_eq!(world::eni_groups(&e.aws, &eni.id).await, eni.groups);
    }
    assert!(
        world::groups_named(&e.aws, &h.net.vpc_id, NO_RULES_GROUP_NAME)
            .await
            .is_empty()
    );
    assert_eq!(
        ecs_world::container_instance_status(&e, &h.cluster, &h.container_instance_arn).await,
        "ACTIVE"
    );
}
