//! Contain and Release clicks on an EKS pod finding, end to end: the real binary, the
//! cluster in moto behind the EKS front (DescribeCluster answered with the local
//! Kubernetes API server's endpoint and CA), the finding served by the local GuardDuty API.
//! Contain labels the pod and applies the deny-all NetworkPolicy selecting it; Release
//! takes both away, for a finding that names the pod and for one that names its
//! Deployment (whose pod is chosen at containment and found again from its policy).

mod common;

use common::{APPROVER, RELEASER, Rig};
use integration_tests::eks_front::EksFront;
use integration_tests::eks_world::{self, REGION, eks_world};
use integration_tests::guardduty_api::{GuardDutyApi, World};
use integration_tests::{moto, world};
use responder::actions::eks::QUARANTINE_LABEL;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_contain_click_quarantines_the_pod_and_release_lifts_it() {
    contain_then_release(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_findings_pod_is_released_from_the_button() {
    contain_then_release(true).await;
}

/// `by_deployment`: the finding names the Deployment `web`, not its pod.
async fn contain_then_release(by_deployment: bool) {
    let w = eks_world(true).await;
    let front = EksFront::start(&moto::shared().endpoint(), w.api.connection()).await;
    let ns = "shop";
    let cid = eks_world::container_id();
    let target = w.deployment_pod(ns, "web", "x2x9k", &cid);
    let pod = target["metadata"]["name"].as_str().unwrap().to_owned();
    let id = world::unique_finding_id();
    let (workload, kind) = match by_deployment {
        true => ("web", "deployments"),
        false => (pod.as_str(), "pods"),
    };
    let event: Value = serde_json::from_slice(&w.finding(&id, ns, workload, kind, &cid)).unwrap();
    let gd = GuardDutyApi::start(World {
        detectors: vec!["12abc34d567e8fa901bc2d34e56789f0".into()],
        findings: vec![(0, event["detail"].clone())],
        ..World::default()
    })
    .await;
    let mut rig = Rig::start(
        &w.aws,
        moto::shared().endpoint(),
        gd.endpoint(),
        // The function runs where the tables are (the world's region).
        &[
            ("AWS_ENDPOINT_URL_EKS", front.endpoint()),
            ("AWS_REGION", REGION.into()),
        ],
    )
    .await;
    let reference = format!("123456789012:{REGION}:{id}");

    assert_eq!(
        rig.click("contain", &reference, APPROVER).await,
        "contained"
    );
    let p = w.api.get("pods", ns, &pod).unwrap();
    assert!(p["metadata"]["labels"][QUARANTINE_LABEL].is_string(), "{p}");
    let policies = w.api.list("networkpolicies");
    assert_eq!(policies.len(), 1, "{policies:?}");
    assert_eq!(
        eks_world::selected_pods(&w.api, &policies[0]),
        std::slice::from_ref(&pod)
    );
    assert!(
        rig.last_reply().contains("*Contained*"),
        "{}",
        rig.last_reply()
    );

    assert_eq!(rig.click("release", &reference, RELEASER).await, "released");
    let p = w.api.get("pods", ns, &pod).unwrap();
    assert!(p["metadata"]["labels"][QUARANTINE_LABEL].is_null(), "{p}");
    assert!(
        w.api
            .list("networkpolicies")
            .iter()
            .all(|policy| eks_world::selected_pods(&w.api, policy).is_empty()),
        "the pod is still selected by a policy"
    );
    assert!(
        rig.last_reply().contains("*Released*"),
        "{}",
        rig.last_reply()
    );
}
