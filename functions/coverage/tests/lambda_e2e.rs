//! The real `responder-coverage` binary under a local Lambda Runtime API, configured as
//! Terraform configures it (`RESPONDER_COVERAGE_*`): GuardDuty and the tagging API go to
//! the local GuardDuty server (moto has no coverage operations), CloudWatch to the local
//! RPC v2 CBOR server, SNS to moto and Slack to a local webhook. A Runtime Protection
//! Unhealthy event is notified; the scheduled audit notifies a new failing set once, stays
//! silent while it is unchanged — also after a cold start, when only the CloudWatch
//! metric remembers it — and notifies again when it changes.

use integration_tests::cloudwatch_api::Call;
use integration_tests::emf;
use integration_tests::function_env::FunctionEnv;
use integration_tests::guardduty_api::{self, GuardDutyApi, World};
use integration_tests::runtime_api::{Answer, RuntimeApi};
use integration_tests::world::Aws;
use responder::coverage::function::{COUNT_METRIC, SET_METRIC};
use serde_json::Value;

const FUNCTION: &str = "guardduty-responder-coverage";
const ACCOUNT: &str = "123456789012";
const DETECTOR: &str = "12abc34d567e8fa901bc2d34e56789f0";
const SCHEDULED: &[u8] = br#"{"version":"0","source":"guardduty-responder.scheduler","detail-type":"Scheduled Coverage Audit","detail":{}}"#;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../events/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Unhealthy and healthy resources of every type; the function audits only EKS.
fn resources(unhealthy_eks: &[&str]) -> Vec<Value> {
    let mut r: Vec<Value> = unhealthy_eks
        .iter()
        .map(|c| guardduty_api::eks(ACCOUNT, c, "UNHEALTHY", Some("EKS add-on is not installed")))
        .collect();
    r.push(guardduty_api::eks(ACCOUNT, "healthy-eks", "HEALTHY", None));
    r.push(guardduty_api::ec2(
        ACCOUNT,
        "i-0aaa",
        "UNHEALTHY",
        Some("The EC2 instance is not managed by SSM"),
    ));
    r.push(guardduty_api::ecs(
        ACCOUNT,
        "web",
        "UNHEALTHY",
        &["Agent is not reporting"],
    ));
    r
}

fn world(unhealthy_eks: &[&str]) -> World {
    World {
        detectors: vec!["0000another0detector0000000000aa".into(), DETECTOR.into()],
        resources: resources(unhealthy_eks),
        page_size: 2,
        tags: vec![],
        findings: vec![],
    }
}

fn audit_of(a: &Answer) -> &Value {
    assert!(a.ok, "{:?}", a.body);
    &a.body["audit"]
}

#[tokio::test(flavor = "multi_thread")]
async fn notifies_health_changes_and_only_changed_audit_sets_across_cold_starts() {
    let failing = ["prod-a", "prod-b"];
    let gd = GuardDutyApi::start(world(&failing)).await;
    let home = Aws::moto("us-east-1").await;
    let fx = FunctionEnv::start(&home.config, "responder-coverage-e2e").await;
    let env = fx.env(&[
        ("AWS_ENDPOINT_URL_GUARDDUTY", gd.endpoint()),
        (
            "AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API",
            gd.endpoint(),
        ),
        ("RESPONDER_COVERAGE_DETECTOR_ID", DETECTOR.into()),
        ("RESPONDER_COVERAGE_RESOURCE_TYPE", "EKS".into()),
    ]);
    let exe = env!("CARGO_BIN_EXE_responder-coverage");

    let api = RuntimeApi::start().await;
    let function = api.run(exe, FUNCTION, &env);

    // A health event: notified at once, with the cluster's name.
    let event = sample("coverage-eks-unhealthy.json");
    let parsed: Value = serde_json::from_slice(&event).unwrap();
    let cluster = parsed["detail"]["resourceDetails"]["eksClusterDetails"]["clusterName"]
        .as_str()
        .unwrap();
    let health = api.call("health", event.clone()).await;
    assert!(health.ok, "{:?}", health.body);
    assert_eq!(health.body["coverage_change"], "unhealthy");
    assert_eq!(fx.slack().len(), 1);
    assert!(fx.slack()[0].contains(cluster), "{}", fx.slack()[0]);
    let sns = fx.sns().await;
    assert_eq!(sns.len(), 1);
    assert_eq!(sns[0].2["kind"]["Value"], "coverage");
    assert_eq!(sns[0].2["coverage_status"]["Value"], "UNHEALTHY");

    // The first audit: the configured detector and type only, the failing set notified.
    let first = api.call("audit-1", SCHEDULED.to_vec()).await;
    let audit = audit_of(&first);
    assert_eq!(audit["detector_id"], DETECTOR);
    assert_eq!(audit["failing"], failing.len());
    assert_eq!(audit["changed"], true);
    // Its EMF records (checked against the specification): the health change, and the
    // audit's unhealthy resources by type — only EKS is audited here, the others are 0.
    let lines = function
        .lines_after(|l| emf::data(l).iter().any(|d| d.name == "UnhealthyResources"))
        .await;
    let data = emf::data(&lines);
    let change: Vec<_> = data
        .iter()
        .filter(|d| d.name == "CoverageChanges")
        .collect();
    assert_eq!(change.len(), 1, "{change:?}");
    assert_eq!(
        (
            change[0].dimension("ResourceType"),
            change[0].dimension("Change"),
            change[0].sum()
        ),
        (Some("EKS"), Some("unhealthy"), 1.0)
    );
    let by_type: std::collections::BTreeMap<&str, f64> = data
        .iter()
        .filter(|d| d.name == "UnhealthyResources" && d.dimension("Function") == Some(FUNCTION))
        .map(|d| (d.dimension("ResourceType").unwrap(), d.sum()))
        .collect();
    let expected = [("EC2", 0.0), ("ECS", 0.0), ("EKS", failing.len() as f64)].into();
    assert_eq!(by_type, expected);
    let calls = gd.calls();
    assert!(
        !calls
            .iter()
            .any(|c| c.method == "GET" && c.path == "/detector"),
        "ListDetectors was called"
    );
    let listed: Vec<_> = calls
        .iter()
        .filter(|c| c.path == format!("/detector/{DETECTOR}/coverage"))
        .collect();
    assert!(!listed.is_empty());
    for c in &listed {
        let criteria = c.body["filterCriteria"]["filterCriterion"]
            .as_array()
            .unwrap();
        assert!(
            criteria.iter().any(|k| k["criterionKey"] == "RESOURCE_TYPE"
                && k["filterCondition"]["equals"] == serde_json::json!(["EKS"])),
            "{:?}",
            c.body
        );
    }
    let slack = fx.slack();
    assert_eq!(slack.len(), 2);
    assert!(
        slack[1].contains(&format!("{} resource(s) UNHEALTHY", failing.len())),
        "{}",
        slack[1]
    );
    for c in failing {
        assert!(slack[1].contains(c), "{c} missing: {}", slack[1]);
    }
    assert!(
        !slack[1].contains("i-0aaa"),
        "other resource types were audited"
    );
    assert_eq!(
        fx.metric(COUNT_METRIC),
        [(FUNCTION.to_owned(), failing.len() as f64)]
    );
    let set = fx.metric(SET_METRIC);
    assert_eq!(set.len(), 1);

    // Unchanged, warm: silent.
    let second = api.call("audit-2", SCHEDULED.to_vec()).await;
    assert_eq!(audit_of(&second)["changed"], false);
    assert_eq!(fx.slack().len(), 2);

    // Unchanged, after a cold start: only the metric remembers the set; still silent.
    drop(function);
    let api = RuntimeApi::start().await;
    let _function = api.run(exe, FUNCTION, &env);
    let reads_before = reads(&fx).len();
    let third = api.call("audit-3", SCHEDULED.to_vec()).await;
    let read = reads(&fx);
    assert_eq!(
        read.len(),
        reads_before + 1,
        "one GetMetricStatistics after the cold start"
    );
    let last = read.last().unwrap();
    assert_eq!(last.error, None, "the read was rejected: {:?}", last.body);
    assert_eq!(
        audit_of(&third)["changed"],
        false,
        "the previous set was not read back"
    );
    assert_eq!(fx.slack().len(), 2);
    let set = fx.metric(SET_METRIC);
    assert_eq!(set.len(), 3);
    assert!(set.iter().all(|s| s == &set[0]), "{set:?}");

    // One cluster recovers: the set changed, notified.
    gd.set_world(world(&failing[..1]));
    let fourth = api.call("audit-4", SCHEDULED.to_vec()).await;
    let audit = audit_of(&fourth);
    assert_eq!(
        (audit["changed"].as_bool(), audit["failing"].as_u64()),
        (Some(true), Some(1))
    );
    let slack = fx.slack();
    assert_eq!(slack.len(), 3);
    assert!(slack[2].contains("1 resource(s) UNHEALTHY"), "{}", slack[2]);
    assert_ne!(fx.metric(SET_METRIC).last(), set.last());
    assert_eq!(fx.sns().await.len(), 3);
}

fn reads(fx: &FunctionEnv) -> Vec<Call> {
    fx.cloudwatch
        .calls()
        .into_iter()
        .filter(|c| c.operation == "GetMetricStatistics")
        .collect()
}
