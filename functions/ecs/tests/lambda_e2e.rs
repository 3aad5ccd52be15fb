//! The real `responder-ecs` binary under a local Lambda Runtime API, with AWS calls going
//! to moto (CloudWatch to the local RPC v2 CBOR server) and Slack to a local webhook: a
//! Fargate service task is isolated (its ENI swapped to the no-rules group, deregistered
//! from its target group, tagged), the notifications say so, the containment is counted on
//! the rate-limit metric, and past the limit the next task is left alone and only notified.

use integration_tests::ecs_world::{self, EcsAws};
use integration_tests::function_env::FunctionEnv;
use integration_tests::moto;
use integration_tests::runtime_api::{RuntimeApi, outcomes};
use integration_tests::world;
use responder::actions::ec2::isolation_groups::NO_RULES_GROUP_NAME;
use responder::plan::ActionKind;

const FUNCTION: &str = "guardduty-responder-ecs";

#[tokio::test(flavor = "multi_thread")]
async fn isolates_the_task_then_stops_at_the_rate_limit_under_the_runtime_api() {
    let e = EcsAws::moto("us-east-1").await;
    ecs_world::freeze_task_states(&moto::shared().endpoint());
    let w = ecs_world::fargate_world(&e, "e2e").await;
    let other = ecs_world::fargate_world(&e, "e2e-limit").await;
    let (finding_id, event) = ecs_world::finding_event(&w);
    let fx = FunctionEnv::start(&e.aws.config, "responder-ecs-e2e").await;
    let limit = 1;
    let api = RuntimeApi::start().await;
    let _function = api.run(
        env!("CARGO_BIN_EXE_responder-ecs"),
        FUNCTION,
        &fx.env(&[("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", limit.to_string())]),
    );

    let first = api.call("req-1", event).await;
    assert!(first.ok, "{:?}", first.body);
    assert_eq!(first.body["handled"][0]["finding_id"], finding_id.as_str());
    assert_eq!(first.body["handled"][0]["decision"], "contain");
    let done = outcomes(&first, 0);
    assert!(
        done.iter().all(|(_, s)| s == "done" || s == "skipped"),
        "{done:?}"
    );
    for kind in [
        ActionKind::EcsIsolateTaskNetwork,
        ActionKind::EcsDeregisterTargets,
        ActionKind::EcsTagTask,
    ] {
        assert!(
            done.contains(&(kind.name().to_owned(), "done".to_owned())),
            "{} not done: {done:?}",
            kind.name()
        );
    }

    // The world: the task's ENI only in the no-rules group, out of its target group, tagged.
    let no_rules = world::groups_named(&e.aws, &w.vpc_id, NO_RULES_GROUP_NAME).await;
    let no_rules = no_rules[0].group_id().unwrap().to_owned();
    assert_eq!(world::eni_groups(&e.aws, &w.eni_id).await, vec![no_rules]);
    assert!(
        !ecs_world::targets(&e, &w.target_group_arn)
            .await
            .contains(&w.task_ip)
    );
    let tags = ecs_world::task_tags(&e, &w.task_arn).await;
    assert_eq!(tags["guardduty-responder:status"], "quarantined");
    assert_eq!(tags["guardduty-responder:finding-id"], finding_id);

    // Notified after containment, with the outcomes.
    let slack = fx.slack();
    assert_eq!(slack.len(), 1);
    let isolate = ActionKind::EcsIsolateTaskNetwork.name();
    assert!(
        slack[0].contains(isolate) && slack[0].contains("*done*"),
        "{}",
        slack[0]
    );
    let sns = fx.sns().await;
    assert_eq!(sns.len(), 1);
    assert!(sns[0].0.contains(isolate), "{}", sns[0].0);
    assert_eq!(sns[0].2["surface"]["Value"], "ecs", "{:?}", sns[0].2);
    assert_eq!(fx.contained_this_hour().await, 1);

    // Past the limit: the next task's finding is only notified, and says why.
    let (_, event) = ecs_world::finding_event(&other);
    let second = api.call("req-2", event).await;
    assert!(second.ok, "{:?}", second.body);
    assert_eq!(second.body["handled"][0]["decision"], "notify");
    assert!(outcomes(&second, 0).is_empty(), "{:?}", second.body);
    assert_eq!(
        world::eni_groups(&e.aws, &other.eni_id).await,
        vec![other.task_sg.clone()],
        "the second task was changed"
    );
    assert!(
        ecs_world::targets(&e, &other.target_group_arn)
            .await
            .contains(&other.task_ip)
    );
    // The finding, downgraded and saying why, and the budget's own alert (once per hour).
    let slack = fx.slack();
    assert_eq!(slack.len(), 3, "{slack:#?}");
    let reason = format!("{limit} per hour over all accounts");
    assert!(
        slack[1..]
            .iter()
            .any(|s| s.contains("containment rate limit reached for") && s.contains(&reason)),
        "the downgraded finding says why: {slack:#?}"
    );
    assert!(
        slack[1..]
            .iter()
            .any(|s| s.contains("GuardDuty responder: containment rate limit reached")),
        "the budget's own alert: {slack:#?}"
    );
    assert_eq!(
        fx.contained_this_hour().await,
        1,
        "a notification is not counted"
    );
}
