//! A click's containment takes the same hourly budget as the finding functions: with a
//! budget of one containment per account and hour, the second Contain click of the hour
//! is refused (a reply saying so, an audit record, the `RateLimitRefused` metric) and its
//! instance is left as it was. An attacker who can get alerts clicked (or a tired person
//! clicking a burst of them) cannot contain past the limit the playbook respects.

mod common;

use common::{APPROVER, Rig, groups};
use integration_tests::guardduty_api::{GuardDutyApi, World};
use integration_tests::world::{self, Aws};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_spent_budget_refuses_the_click_and_contains_nothing() {
    let aws = Aws::moto("us-east-1").await;
    let net = world::network(&aws).await;
    let first = integration_tests::function_env::Ec2Finding::new(&aws, &net).await;
    let second = integration_tests::function_env::Ec2Finding::new(&aws, &net).await;
    let detail = |f: &integration_tests::function_env::Ec2Finding| {
        serde_json::from_slice::<Value>(&f.event).unwrap()["detail"].clone()
    };
    let gd = GuardDutyApi::start(World {
        detectors: vec!["12abc34d567e8fa901bc2d34e56789f0".into()],
        findings: vec![(0, detail(&first)), (0, detail(&second))],
        ..World::default()
    })
    .await;
    let table = integration_tests::rate_table::create(&aws.config).await;
    let mut rig = Rig::start(
        &aws,
        integration_tests::moto::shared().endpoint(),
        gd.endpoint(),
        &[
            ("RESPONDER_RATE_LIMIT_TABLE", table.clone()),
            (
                "RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR",
                "1".into(),
            ),
            ("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", "10".into()),
        ],
    )
    .await;
    let untouched = groups(&aws, &second.instance).await;
    let reference = |f: &integration_tests::function_env::Ec2Finding| {
        format!("123456789012:us-east-1:{}", f.finding_id)
    };

    assert_eq!(
        rig.click("contain", &reference(&first), APPROVER).await,
        "contained"
    );
    assert_ne!(groups(&aws, &first.instance).await[0], untouched[0]);

    // The budget is spent: refused, said to the clicker, nothing changed.
    assert_eq!(
        rig.click("contain", &reference(&second), APPROVER).await,
        "refused_rate_limit"
    );
    let reply = rig.replies().pop().unwrap();
    let text = reply["text"].as_str().unwrap();
    assert!(
        text.starts_with("Not contained: containment rate limit reached for account 123456789012"),
        "{text}"
    );
    assert_eq!(reply["response_type"], "ephemeral");
    assert_eq!(groups(&aws, &second.instance).await, untouched);

    // Clicking again does not get around it.
    assert_eq!(
        rig.click("contain", &reference(&second), APPROVER).await,
        "refused_rate_limit"
    );
    assert_eq!(groups(&aws, &second.instance).await, untouched);

    // The audit record and the metric the alarm counts.
    let lines = rig
        .function
        .lines_after(|l| {
            l.iter()
                .filter(|l| l.contains("\"refused_rate_limit\""))
                .count()
                >= 2
        })
        .await;
    let audit = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["audit"] == true && v["result"] == "refused_rate_limit")
        .expect("an audit record of the refusal");
    assert_eq!(audit["finding_id"], second.finding_id.as_str());
    assert_eq!(audit["user"], APPROVER);
    assert!(
        lines.iter().any(|l| l.contains("\"RateLimitRefused\"")),
        "no RateLimitRefused metric line"
    );
}
