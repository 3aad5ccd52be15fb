//! An attack sequence over two EC2 instances, with a playbook rule that contains sequences:
//! the EC2 executor quarantines both against moto, each recorded on its own instance, and
//! an exempted one is left as it was.

use integration_tests::world::{self, Aws, Instance, show};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::execute::Executor;
use responder::outcome::any_failed;

const SAMPLE: &str = "attack-sequence-ec2-compromised-instance-group.json";

/// The sample with its two instances replaced by `instances` (same region as moto's).
fn sequence_event(region: &str, instances: &[&Instance]) -> Vec<u8> {
    let path = format!("{}/../events/{SAMPLE}", env!("CARGO_MANIFEST_DIR"));
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["region"] = region.into();
    let d = &mut event["detail"];
    d["id"] = world::unique_finding_id().into();
    d["region"] = region.into();
    d["resource"]["instanceDetails"]["instanceId"] = instances[0].id.clone().into();
    let resources = d["service"]["detection"]["sequence"]["resources"]
        .as_array_mut()
        .unwrap();
    for (r, i) in resources.iter_mut().zip(instances) {
        r["uid"] = i.id.clone().into();
        r["name"] = i.id.clone().into();
        r["region"] = region.into();
    }
    serde_json::to_vec(&event).unwrap()
}

fn config(extra: &str) -> Config {
    let doc = format!(
        r#"{{"playbook": {{"rules": [{{"families": ["AttackSequence"], "decision": "contain"}}]}},
            "ec2": {{"snapshots": false}}{extra}}}"#
    );
    Config::from_document(&doc, "test").unwrap()
}

async fn status(aws: &Aws, id: &str) -> Option<String> {
    world::tags(aws, id)
        .await
        .get("guardduty-responder:status")
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_instance_of_the_sequence_is_quarantined_unless_exempt() {
    let aws = Aws::moto("us-east-1").await;
    let net = world::network(&aws).await;
    let a = world::one_eni_instance(&aws, &net).await;
    let b = world::one_eni_instance(&aws, &net).await;
    let event = sequence_event(&net.region, &[&a, &b]);

    let plan = world::contain_plan(&event, &config(""));
    let outcomes = Ec2Executor::new(&aws.config).execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    for i in [&a, &b] {
        assert_eq!(
            status(&aws, &i.id).await.as_deref(),
            Some("quarantined"),
            "{}",
            i.id
        );
        assert_ne!(
            world::eni_groups(&aws, &i.enis[0].id).await,
            i.enis[0].groups
        );
    }

    // The same sequence on two fresh instances, one of them exempt by configuration.
    let c = world::one_eni_instance(&aws, &net).await;
    let d = world::one_eni_instance(&aws, &net).await;
    let event = sequence_event(&net.region, &[&c, &d]);
    let exempt = format!(
        r#", "guardrails": {{"exemptions": {{"instances": [{{"id": "{}", "reason": "forensics"}}]}}}}"#,
        d.id
    );
    let plan = world::contain_plan(&event, &config(&exempt));
    assert!(plan.reason.contains(&d.id), "{}", plan.reason);
    let outcomes = Ec2Executor::new(&aws.config).execute(&plan).await;
    assert!(!any_failed(&outcomes), "{}", show(&outcomes));
    assert_eq!(status(&aws, &c.id).await.as_deref(), Some("quarantined"));
    assert_eq!(
        status(&aws, &d.id).await,
        None,
        "the exempt instance is untouched"
    );
    assert_eq!(
        world::eni_groups(&aws, &d.enis[0].id).await,
        d.enis[0].groups
    );
}
