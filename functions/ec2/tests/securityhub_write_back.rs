//! The Security Hub write-back of a real run: `responder-ec2` under the local Lambda Runtime
//! API contains instances in moto and writes the result back to a local Security Hub
//! (`integration_tests::securityhub_api`, which refuses what the real API refuses). A
//! failing Security Hub is a failed delivery, never a failed containment.

use integration_tests::function_env::{Ec2Finding, FunctionEnv};
use integration_tests::runtime_api::{self, RuntimeApi};
use integration_tests::securityhub_api::SecurityHubApi;
use integration_tests::world::{self, Aws};
use serde_json::Value;

const FUNCTION: &str = "guardduty-responder-ec2";
const PRODUCT: &str = "arn:aws:securityhub:us-east-1::product/aws/guardduty";

fn delivery<'a>(answer: &'a runtime_api::Answer, channel: &str) -> Vec<&'a Value> {
    answer.body["handled"][0]["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["channel"] == channel)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_response_is_written_back_and_a_failure_never_blocks_containment() {
    let aws = Aws::moto("us-east-1").await;
    let net = world::network(&aws).await;
    let (contained, failing) = (
        Ec2Finding::new(&aws, &net).await,
        Ec2Finding::new(&aws, &net).await,
    );
    let (event, arn) = (contained.event.clone(), contained.detail("arn"));
    let (failing_event, failing_arn) = (failing.event.clone(), failing.detail("arn"));
    let hub = SecurityHubApi::start(vec![
        (PRODUCT.to_owned(), arn.clone()),
        (PRODUCT.to_owned(), failing_arn),
    ])
    .await;
    let fx = FunctionEnv::start(&aws.config, "responder-securityhub").await;
    let api = RuntimeApi::start().await;
    let _function = api.run(
        env!("CARGO_BIN_EXE_responder-ec2"),
        FUNCTION,
        &fx.env(&[
            ("RESPONDER_SECURITYHUB_WRITE_BACK", "on".into()),
            ("AWS_ENDPOINT_URL_SECURITYHUB", hub.endpoint()),
        ]),
    );

    let first = api.call("req-1", event.clone()).await;
    assert!(first.ok, "{:?}", first.body);
    let written = delivery(&first, "securityhub");
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["ok"], true, "{:?}", written[0]);
    let body = &hub.the_one_update();
    assert_eq!(
        body["FindingIdentifiers"],
        serde_json::json!([{"Id": arn, "ProductArn": PRODUCT}])
    );
    assert_eq!(body["Workflow"]["Status"], "NOTIFIED");
    assert_eq!(body["Note"]["UpdatedBy"], FUNCTION);
    let note = body["Note"]["Text"].as_str().unwrap();
    assert!(note.contains("contain"), "{note}");
    for (kind, status) in runtime_api::outcomes(&first, 0) {
        assert!(
            note.contains(&format!("{kind} {status}")),
            "{kind} {status} not in {note}"
        );
    }
    assert_eq!(body["UserDefinedFields"]["guardduty-responder"], FUNCTION);
    assert_eq!(
        body["UserDefinedFields"]["guardduty-responder:outcome"],
        "contained"
    );

    // A re-delivery changes nothing: the first note stays.
    let again = api.call("req-2", event).await;
    assert!(again.ok, "{:?}", again.body);
    assert!(delivery(&again, "securityhub").is_empty());
    assert_eq!(hub.received().len(), 1);

    // Security Hub down: the instance is still contained, the write-back reported failed.
    hub.fail_with(Some(500));
    let second = api.call("req-3", failing_event).await;
    assert!(
        second.ok,
        "containment must not fail with Security Hub: {:?}",
        second.body
    );
    assert!(
        runtime_api::outcomes(&second, 0).contains(&("ec2.isolate_network".into(), "done".into())),
        "{:?}",
        second.body
    );
    let failed = delivery(&second, "securityhub");
    assert_eq!(
        (failed.len(), &failed[0]["ok"]),
        (1, &Value::Bool(false)),
        "{failed:?}"
    );
    assert!(hub.received().len() >= 2, "the write-back was attempted");
}
