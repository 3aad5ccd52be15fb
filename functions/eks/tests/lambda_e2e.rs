//! The real `responder-eks` binary under a local Lambda Runtime API. AWS calls go to moto
//! (the cluster, its node's instance and Auto Scaling group), CloudWatch to the local RPC v2
//! CBOR server, Slack to a local webhook, and the Kubernetes calls to the local HTTPS API
//! server: the binary has no test seam, so `AWS_ENDPOINT_URL_EKS` names a front that
//! forwards to moto and answers DescribeCluster with that server's endpoint and CA. The
//! pod is quarantined (label, deny-all NetworkPolicy), its node cordoned and protected, the
//! notifications say so, and a re-delivery changes nothing and sends a short update.

use integration_tests::eks_front::EksFront;
use integration_tests::eks_world::{self, eks_world};
use integration_tests::function_env::FunctionEnv;
use integration_tests::moto;
use integration_tests::runtime_api::{RuntimeApi, outcomes};
use integration_tests::world::{self, Aws};
use responder::actions::eks::{self, QUARANTINE_LABEL};
use responder::plan::ActionKind;
use serde_json::json;

const FUNCTION: &str = "guardduty-responder-eks";

#[tokio::test(flavor = "multi_thread")]
async fn quarantines_the_pod_and_its_node_under_the_runtime_api() {
    let w = eks_world(true).await;
    let front = EksFront::start(&moto::shared().endpoint(), w.api.connection()).await;
    let ns = "shop";
    let cid = eks_world::container_id();
    let target = w.deployment_pod(ns, "web", "x2x9k", &cid);
    let sibling = w.deployment_pod(ns, "web", "q8r7t", &eks_world::container_id());
    let pod = target["metadata"]["name"].as_str().unwrap().to_owned();
    let uid = target["metadata"]["uid"].as_str().unwrap().to_owned();
    let finding_id = world::unique_finding_id();
    let event = w.finding(&finding_id, ns, "web", "deployments", &cid);
    // The function's own region (us-east-1) holds the topic; the cluster is elsewhere.
    let home = Aws::moto("us-east-1").await;
    let fx = FunctionEnv::start(&home.config, "responder-eks-e2e").await;
    let api = RuntimeApi::start().await;
    let _function = api.run(
        env!("CARGO_BIN_EXE_responder-eks"),
        FUNCTION,
        &fx.env(&[
            ("AWS_ENDPOINT_URL_EKS", front.endpoint()),
            ("RESPONDER_MAX_CONTAINMENTS_PER_HOUR", "10".into()),
        ]),
    );

    let first = api.call("req-1", event.clone()).await;
    assert!(first.ok, "{:?}", first.body);
    assert_eq!(first.body["handled"][0]["decision"], "contain");
    let done = outcomes(&first, 0);
    for kind in [
        ActionKind::EksLabelPod,
        ActionKind::EksApplyDenyAllPolicy,
        ActionKind::EksCordonNode,
        ActionKind::EksProtectNode,
    ] {
        assert!(
            done.contains(&(kind.name().to_owned(), "done".to_owned())),
            "{} not done: {done:?}",
            kind.name()
        );
    }
    assert!(done.iter().all(|(_, s)| s == "done"), "{done:?}");
    assert_eq!(front.described(), std::slice::from_ref(&w.cluster));

    // The cluster: the pod carries the quarantine label and the finding, one deny-all
    // policy selects exactly it, the other replica is untouched, the node is cordoned.
    let p = w.api.get("pods", ns, &pod).unwrap();
    assert_eq!(p["metadata"]["labels"][QUARANTINE_LABEL], json!(uid));
    assert_eq!(
        p["metadata"]["annotations"][eks::FINDING_ID_ANNOTATION],
        json!(finding_id)
    );
    let policies = w.api.list("networkpolicies");
    assert_eq!(policies.len(), 1);
    assert_eq!(
        policies[0]["spec"]["policyTypes"],
        json!(["Ingress", "Egress"])
    );
    assert_eq!(
        eks_world::selected_pods(&w.api, &policies[0]),
        std::slice::from_ref(&pod)
    );
    assert_eq!(
        w.api
            .get("pods", ns, sibling["metadata"]["name"].as_str().unwrap())
            .unwrap(),
        sibling
    );
    let node = w.api.get("nodes", "", &w.node).unwrap();
    assert_eq!(node["spec"]["unschedulable"], json!(true));
    // AWS: the node's instance protected from termination and scale-in.
    assert_eq!(w.termination_protected().await, Some(true));
    assert_eq!(w.scale_in_protected().await, Some(true));

    // Notified with the outcomes; counted.
    let slack = fx.slack();
    assert_eq!(slack.len(), 1);
    let label = ActionKind::EksLabelPod.name();
    assert!(
        slack[0].contains(label) && slack[0].contains("*done*"),
        "{}",
        slack[0]
    );
    let sns = fx.sns().await;
    assert_eq!(sns.len(), 1);
    assert_eq!(sns[0].2["surface"]["Value"], "eks", "{:?}", sns[0].2);
    assert_eq!(fx.contained_this_hour().await, 1);

    // Re-delivery: nothing new in the cluster, a short update, not counted again.
    // (The event create is re-sent and answered 409: only successful writes count.)
    let writes = |w: &eks_world::EksWorld| {
        w.api
            .requests()
            .iter()
            .filter(|r| r.method != "GET" && r.status < 300)
            .count()
    };
    let before = writes(&w);
    let second = api.call("req-2", event).await;
    assert!(second.ok, "{:?}", second.body);
    let again = outcomes(&second, 0);
    assert!(
        again
            .iter()
            .all(|(_, s)| s == "already_done" || s == "skipped"),
        "{again:?}"
    );
    assert_eq!(w.api.list("networkpolicies").len(), 1);
    assert_eq!(writes(&w), before, "a re-delivery wrote to the cluster");
    let slack = fx.slack();
    assert_eq!(slack.len(), 2);
    assert!(slack[1].contains("still active"), "{}", slack[1]);
    assert_eq!(fx.contained_this_hour().await, 1);
}
