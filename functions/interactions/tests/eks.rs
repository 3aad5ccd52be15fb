//! Contain and Release clicks on an EKS pod finding, end to end: the real binary, the
//! cluster in moto behind the EKS front (DescribeCluster answered with the local
//! Kubernetes API server's endpoint and CA), the finding served by the local GuardDuty API.
//! Contain labels the pod and applies the deny-all NetworkPolicy selecting it; Release
//! takes both away, for a finding that names the pod and for one that names its
//! Deployment (whose pod is chosen at containment and found again from its policy), and a
//! policy forged by the workload cannot steer that release to another finding's pod.

mod common;

use common::{APPROVER, RELEASER, Rig};
use integration_tests::eks_front::EksFront;
use integration_tests::eks_world::{self, EksWorld, REGION, eks_world};
use integration_tests::guardduty_api::{GuardDutyApi, World};
use integration_tests::{moto, world};
use responder::actions::eks::{
    FIELD_MANAGER, FINDING_ID_ANNOTATION, POD_ANNOTATION, QUARANTINE_LABEL,
};
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
    let (mut rig, _gd) = rig(&w, &front, &[w.finding(&id, ns, workload, kind, &cid)]).await;
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

/// The local GuardDuty API serving `findings` and the function running against this world.
async fn rig(w: &EksWorld, front: &EksFront, findings: &[Vec<u8>]) -> (Rig, GuardDutyApi) {
    let findings = findings
        .iter()
        .map(|f| {
            (
                0,
                serde_json::from_slice::<Value>(f).unwrap()["detail"].clone(),
            )
        })
        .collect();
    let gd = GuardDutyApi::start(World {
        detectors: vec!["12abc34d567e8fa901bc2d34e56789f0".into()],
        findings,
        ..World::default()
    })
    .await;
    let rig = Rig::start(
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
    (rig, gd)
}

/// The workload can write NetworkPolicies in its namespace (where no admission policy
/// reserves the responder's names and annotations). It forges one that records its own
/// Deployment finding for a neighbour quarantined for another finding: the Release click
/// on its finding must not lift the neighbour's quarantine.
#[tokio::test(flavor = "multi_thread")]
async fn a_forged_policy_cannot_release_another_findings_pod() {
    let w = eks_world(true).await;
    let front = EksFront::start(&moto::shared().endpoint(), w.api.connection()).await;
    let ns = "shop";
    let (web_cid, db_cid) = (eks_world::container_id(), eks_world::container_id());
    let web = w.deployment_pod(ns, "web", "x2x9k", &web_cid)["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = w.deployment_pod(ns, "db", "q7w3e", &db_cid)["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let (web_finding, db_finding) = (world::unique_finding_id(), world::unique_finding_id());
    let (mut rig, _gd) = rig(
        &w,
        &front,
        &[
            w.finding(&web_finding, ns, "web", "deployments", &web_cid),
            w.finding(&db_finding, ns, &db, "pods", &db_cid),
        ],
    )
    .await;
    let web_ref = format!("123456789012:{REGION}:{web_finding}");
    let db_ref = format!("123456789012:{REGION}:{db_finding}");
    assert_eq!(rig.click("contain", &web_ref, APPROVER).await, "contained");
    assert_eq!(rig.click("contain", &db_ref, APPROVER).await, "contained");
    let db_policy = quarantine_policy_of(&w, ns, &db);

    w.api.put(serde_json::json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "guardduty-responder-quarantine-forged",
            "namespace": ns,
            "labels": {"app.kubernetes.io/managed-by": FIELD_MANAGER},
            "annotations": {FINDING_ID_ANNOTATION: web_finding, POD_ANNOTATION: db},
        },
        "spec": {"podSelector": {"matchLabels": {"nothing": "selected"}}, "policyTypes": ["Ingress"]},
    }));

    assert_eq!(rig.click("release", &web_ref, RELEASER).await, "failed");
    let reply = rig.last_reply();
    assert!(reply.contains("not this one"), "{reply}");
    let web_pod = w.api.get("pods", ns, &web).unwrap();
    assert!(
        web_pod["metadata"]["labels"][QUARANTINE_LABEL].is_null(),
        "{web_pod}"
    );
    let db_pod = w.api.get("pods", ns, &db).unwrap();
    assert!(
        db_pod["metadata"]["labels"][QUARANTINE_LABEL].is_string(),
        "{db_pod}"
    );
    assert_eq!(
        quarantine_policy_of(&w, ns, &db),
        db_policy,
        "the neighbour's policy changed"
    );
}

/// The name of the quarantine policy selecting `pod`.
fn quarantine_policy_of(w: &EksWorld, ns: &str, pod: &str) -> String {
    w.api
        .list("networkpolicies")
        .iter()
        .find(|p| eks_world::selected_pods(&w.api, p) == [pod.to_owned()])
        .and_then(|p| p["metadata"]["name"].as_str())
        .map(|n| format!("{ns}/{n}"))
        .expect("a policy selects the pod")
}
