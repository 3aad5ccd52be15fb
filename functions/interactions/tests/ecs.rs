//! Contain and Release clicks on an ECS finding, end to end: the real binary, moto's
//! Fargate service task behind a target group, the finding served by the local GuardDuty
//! API. Contain isolates the task (its ENI in the no-rules group, out of its target
//! group); Release puts its groups and target back.

mod common;

use common::{APPROVER, RELEASER, Rig};
use integration_tests::ecs_world::{self, EcsAws};
use integration_tests::guardduty_api::{GuardDutyApi, World};
use integration_tests::{moto, world};
use responder::actions::ec2::isolation_groups::NO_RULES_GROUP_NAME;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_contain_click_isolates_the_task_and_release_restores_it() {
    let e = EcsAws::moto("us-east-1").await;
    ecs_world::freeze_task_states(&moto::shared().endpoint());
    let w = ecs_world::fargate_world(&e, "click").await;
    let (id, event) = ecs_world::finding_event(&w);
    let event: Value = serde_json::from_slice(&event).unwrap();
    let gd = GuardDutyApi::start(World {
        detectors: vec!["12abc34d567e8fa901bc2d34e56789f0".into()],
        findings: vec![(0, event["detail"].clone())],
        ..World::default()
    })
    .await;
    let mut rig = Rig::start(&e.aws, moto::shared().endpoint(), gd.endpoint(), &[]).await;
    let before = world::eni_groups(&e.aws, &w.eni_id).await;
    let targets = ecs_world::targets(&e, &w.target_group_arn).await;
    assert!(targets.contains(&w.task_ip), "{targets:?}");
    let reference = format!("123456789012:us-east-1:{id}");

    assert_eq!(
        rig.click("contain", &reference, APPROVER).await,
        "contained"
    );
    let no_rules = world::groups_named(&e.aws, &w.vpc_id, NO_RULES_GROUP_NAME).await;
    let no_rules = no_rules[0].group_id().unwrap().to_owned();
    assert_eq!(world::eni_groups(&e.aws, &w.eni_id).await, vec![no_rules]);
    assert!(
        !ecs_world::targets(&e, &w.target_group_arn)
            .await
            .contains(&w.task_ip),
        "still a target"
    );
    let text = rig.last_reply();
    assert!(text.contains("*Contained*"), "{text}");
    assert!(text.contains("\"responder_release\""), "{text}");

    assert_eq!(rig.click("release", &reference, RELEASER).await, "released");
    assert_eq!(world::eni_groups(&e.aws, &w.eni_id).await, before);
    assert!(
        ecs_world::targets(&e, &w.target_group_arn)
            .await
            .contains(&w.task_ip),
        "not registered again"
    );
    assert!(
        rig.last_reply().contains("*Released*"),
        "{}",
        rig.last_reply()
    );
}
