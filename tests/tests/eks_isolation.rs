//! EKS pod isolation end to end: DescribeCluster from moto, the token minted in-process,
//! every Kubernetes call against the local HTTPS API server, node protection in moto; then
//! release, and the objects are back as they were.

use base64::Engine;
use integration_tests::eks_world::{self, EksWorld, PodToRelease, REGION, eks_world, unique};
use integration_tests::world;
use responder::actions::eks::{self, QUARANTINE_LABEL, token};
use responder::execute::Executor;
use responder::outcome::Status;
use responder::plan::ActionKind;
use responder::playbook::Guardrails;
use serde_json::{Value, json};
use std::time::Duration;

fn query(url: &str) -> Vec<(String, String)> {
    url.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Every request carried a well-formed token: an STS GetCallerIdentity URL presigned for
/// the region with `x-k8s-aws-id` signed and a 60 s expiry.
fn assert_tokens(w: &EksWorld) {
    let requests = w.api.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        let auth = r
            .authorization
            .as_deref()
            .expect("every request is authenticated");
        let t = auth.strip_prefix("Bearer ").expect("bearer");
        assert!(t.starts_with("k8s-aws-v1."), "{t}");
        let b64 = &t["k8s-aws-v1.".len()..];
        assert!(!b64.contains('='), "no padding");
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(b64)
                .expect("base64url"),
        )
        .unwrap();
        assert_eq!(token::decode(t).as_deref(), Some(url.as_str()));
        assert!(
            url.starts_with(&format!(
                "https://sts.{REGION}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
            )),
            "{url}"
        );
        let q = query(&url);
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("X-Amz-Expires").as_deref(), Some("60"));
        assert_eq!(get("X-Amz-Algorithm").as_deref(), Some("AWS4-HMAC-SHA256"));
        assert!(
            get("X-Amz-Credential").unwrap().starts_with("testing%2F"),
            "signed with the config's credentials"
        );
        assert!(
            get("X-Amz-Credential")
                .unwrap()
                .contains(&format!("%2F{REGION}%2Fsts%2Faws4_request"))
        );
        let signed = get("X-Amz-SignedHeaders").unwrap();
        assert!(signed.split("%3B").any(|h| h == "x-k8s-aws-id"), "{signed}");
        let sig = get("X-Amz-Signature").expect("signed");
        assert!(sig.len() == 64 && sig.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolates_the_pod_of_a_deployment_and_release_restores_it() {
    let w = eks_world(true).await;
    let ns = "shop";
    let cid = eks_world::container_id();
    let target = w.deployment_pod(ns, "web", "x2x9k", &cid);
    let sibling = w.deployment_pod(ns, "web", "q8r7t", &eks_world::container_id());
    let pod = target["metadata"]["name"].as_str().unwrap().to_owned();
    let uid = target["metadata"]["uid"].as_str().unwrap().to_owned();
    let labels_before = target["metadata"]["labels"].clone();
    let node_before = w.api.get("nodes", "", &w.node).unwrap();
    assert_eq!(w.termination_protected().await, Some(false));
    assert_eq!(w.scale_in_protected().await, Some(false));

    let fid = world::unique_finding_id();
    let plan = eks_world::plan(&w.finding(&fid, ns, "web", "deployments", &cid));
    assert_eq!(
        plan.actions.iter().map(|a| a.kind).collect::<Vec<_>>(),
        [
            ActionKind::EksLabelPod,
            ActionKind::EksApplyDenyAllPolicy,
            ActionKind::EksRemoveServiceLabels,
            ActionKind::EksCordonNode,
            ActionKind::EksProtectNode,
            ActionKind::EksRecordEvent
        ]
    );
    let ex = w.executor(&Guardrails::default());
    let outcomes = ex.execute(&plan).await;
    assert_eq!(outcomes.len(), plan.actions.len());
    for (o, a) in outcomes.iter().zip(&plan.actions) {
        assert_eq!(o.kind, a.kind);
        assert_eq!(o.status, Status::Done, "{o:?}");
    }

    // DescribeCluster went to moto (its made-up endpoint, rewritten by the test seam).
    let described = w.described.lock().unwrap().clone();
    assert_eq!(described.len(), 1);
    assert_eq!(described[0].0, w.cluster);
    assert!(
        described[0].1.endpoint.starts_with("https://"),
        "{:?}",
        described[0].1
    );
    assert_tokens(&w);

    // The pod: quarantine label (its UID), the finding on it, every other label removed
    // and recorded.
    let p = w.api.get("pods", ns, &pod).unwrap();
    let labels = p["metadata"]["labels"].as_object().unwrap();
    assert_eq!(labels.len(), 1, "{labels:?}");
    assert_eq!(labels[QUARANTINE_LABEL], json!(uid));
    let ann = &p["metadata"]["annotations"];
    assert_eq!(ann[eks::FINDING_ID_ANNOTATION], json!(fid));
    assert_eq!(
        ann[eks::FINDING_TYPE_ANNOTATION],
        json!("Execution:Runtime/ReverseShell")
    );
    let recorded: Value =
        serde_json::from_str(ann[eks::PRIOR_LABELS_ANNOTATION].as_str().unwrap()).unwrap();
    assert_eq!(recorded, labels_before);
    assert_eq!(
        ann["kubernetes.io/psp"],
        json!("eks.privileged"),
        "other annotations kept"
    );
    assert_eq!(
        ann[eks::DO_NOT_DISRUPT],
        json!("true"),
        "Karpenter keeps the pod"
    );
    assert_eq!(ann[eks::DO_NOT_DISRUPT_ADDED_ANNOTATION], json!("true"));
    // The other replica is untouched.
    assert_eq!(
        w.api
            .get("pods", ns, sibling["metadata"]["name"].as_str().unwrap())
            .unwrap(),
        sibling
    );

    // The policy: both types, no rules, selecting exactly that one pod.
    let policies = w.api.list("networkpolicies");
    assert_eq!(policies.len(), 1);
    let np = &policies[0];
    assert_eq!(np["metadata"]["name"], json!(eks::policy_name(&uid)));
    assert_eq!(np["metadata"]["namespace"], json!(ns));
    assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(
        np["spec"]["podSelector"],
        json!({"matchLabels": {QUARANTINE_LABEL: uid}})
    );
    assert_eq!(
        (&np["spec"]["ingress"], &np["spec"]["egress"]),
        (&json!([]), &json!([]))
    );
    assert_eq!(
        eks_world::selected_pods(&w.api, np),
        std::slice::from_ref(&pod)
    );
    assert_eq!(
        np["metadata"]["managedFields"][0]["manager"],
        json!("guardduty-responder")
    );
    let policy_outcome = &outcomes[1];
    assert!(
        policy_outcome
            .detail
            .contains("VPC CNI network policy agent"),
        "{}",
        policy_outcome.detail
    );

    // How each write was sent: apply for the policy, merge patches for the pod.
    let requests = w.api.requests();
    let apply = requests
        .iter()
        .find(|r| r.method == "PATCH" && r.path.contains("/networkpolicies/"))
        .expect("policy applied");
    assert_eq!(
        apply.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    assert_eq!(
        apply.query.get("fieldManager").map(String::as_str),
        Some("guardduty-responder")
    );
    assert_eq!(apply.query.get("force").map(String::as_str), Some("true"));
    assert!(
        requests
            .iter()
            .filter(|r| r.method == "PATCH" && r.path.contains("/pods/"))
            .all(|r| r.content_type.as_deref() == Some("application/merge-patch+json"))
    );
    assert!(
        requests.iter().all(|r| r.method != "DELETE"),
        "containment deletes nothing"
    );

    // The node: cordoned, labelled, and it says the responder cordoned it.
    let n = w.api.get("nodes", "", &w.node).unwrap();
    assert_eq!(n["spec"]["unschedulable"], json!(true));
    assert_eq!(
        n["metadata"]["labels"][eks::UNDER_INVESTIGATION_LABEL],
        json!("true")
    );
    assert_eq!(
        n["metadata"]["annotations"][eks::CORDONED_ANNOTATION],
        json!("true")
    );
    assert_eq!(
        n["metadata"]["annotations"][eks::PROTECTED_ANNOTATION],
        json!("scale-in,termination")
    );
    assert_eq!(
        n["metadata"]["annotations"][eks::DO_NOT_DISRUPT],
        json!("true"),
        "Karpenter keeps the node"
    );
    assert_eq!(w.termination_protected().await, Some(true));
    assert_eq!(w.scale_in_protected().await, Some(true));

    // The event on the pod.
    let events = w.api.list("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["involvedObject"]["uid"], json!(uid));
    assert_eq!(events[0]["reason"], json!("GuardDutyQuarantine"));
    assert!(events[0]["message"].as_str().unwrap().contains(&fid));

    // The same finding again: nothing changes, every step is already done.
    w.api.clear_requests();
    let again = ex.execute(&plan).await;
    for o in &again {
        assert_eq!(o.status, Status::AlreadyDone, "{o:?}");
    }
    assert!(
        w.api
            .requests()
            .iter()
            .all(|r| r.method == "GET" || r.method == "POST"),
        "a re-run only reads (and the event create answers 409): {:?}",
        w.api
            .requests()
            .iter()
            .map(|r| r.line())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        w.described.lock().unwrap().len(),
        1,
        "client and token reused"
    );

    // Release, dry run first: reads only.
    let to_release = PodToRelease::new(REGION, &w.cluster, ns, &pod);
    let req = to_release.request();
    w.api.clear_requests();
    let dry = ex.release(&req, false).await.expect("dry run");
    assert!(!dry.executed);
    assert_eq!(dry.finding_id.as_deref(), Some(fid.as_str()));
    assert!(
        dry.outcomes
            .iter()
            .all(|o| o.status == Status::Skipped && o.detail.starts_with("dry run")),
        "{dry:?}"
    );
    assert!(w.api.requests().iter().all(|r| r.method == "GET"));
    assert_eq!(w.termination_protected().await, Some(true));

    let released = ex.release(&req, true).await.expect("release");
    for o in &released.outcomes {
        assert_eq!(o.status, Status::Done, "{o:?}");
    }
    assert!(w.api.list("networkpolicies").is_empty());
    let p = w.api.get("pods", ns, &pod).unwrap();
    assert_eq!(p["metadata"]["labels"], labels_before);
    assert_eq!(
        p["metadata"]["annotations"],
        target["metadata"]["annotations"]
    );
    let n = w.api.get("nodes", "", &w.node).unwrap();
    assert_eq!(n["spec"], node_before["spec"]);
    assert_eq!(n["metadata"]["labels"], node_before["metadata"]["labels"]);
    assert_eq!(
        n["metadata"]["annotations"]
            .as_object()
            .map_or(0, |a| a.len()),
        0
    );
    assert_eq!(w.termination_protected().await, Some(false));
    assert_eq!(w.scale_in_protected().await, Some(false));

    // Released twice: nothing left to release.
    assert!(matches!(
        ex.release(&req, true).await,
        Err(eks::release::ReleaseError::NotQuarantined { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_stays_cordoned_while_another_quarantined_pod_remains() {
    let w = eks_world(true).await;
    let ns = "jobs";
    let (c1, c2) = (eks_world::container_id(), eks_world::container_id());
    let a = w.deployment_pod(ns, "worker", "aaaaa", &c1);
    // A bare pod (no controller), named by the finding directly.
    let b = w.api.put(eks_world::pod_object(
        ns,
        "debug-shell",
        &w.node,
        &c2,
        json!({"run": "debug-shell"}),
        None,
    ));
    let ex = w.executor(&Guardrails::default());
    for (name, ty, cid) in [("worker", "deployments", &c1), ("debug-shell", "pods", &c2)] {
        let plan = eks_world::plan(&w.finding(&world::unique_finding_id(), ns, name, ty, cid));
        let outcomes = ex.execute(&plan).await;
        assert!(
            outcomes.iter().all(|o| o.status != Status::Failed),
            "{outcomes:?}"
        );
    }
    assert_eq!(w.api.list("networkpolicies").len(), 2);
    let release = |pod: String| {
        let cluster = w.cluster.clone();
        let ex = &ex;
        async move {
            ex.release(
                &PodToRelease::new(REGION, &cluster, ns, &pod).request(),
                true,
            )
            .await
            .expect("release")
        }
    };
    let first = release(a["metadata"]["name"].as_str().unwrap().to_owned()).await;
    let uncordon = first
        .outcomes
        .iter()
        .find(|o| o.kind == eks::ReleaseStep::UncordonNode)
        .unwrap();
    assert_eq!(uncordon.status, Status::Skipped);
    assert!(
        uncordon.detail.contains("jobs/debug-shell"),
        "{}",
        uncordon.detail
    );
    assert_eq!(
        w.api.get("nodes", "", &w.node).unwrap()["spec"]["unschedulable"],
        json!(true)
    );
    assert_eq!(w.termination_protected().await, Some(true));

    let second = release("debug-shell".to_owned()).await;
    assert!(
        second.outcomes.iter().all(|o| o.status == Status::Done),
        "{second:?}"
    );
    assert!(
        w.api.get("nodes", "", &w.node).unwrap()["spec"]
            .get("unschedulable")
            .is_none()
    );
    assert_eq!(
        w.api.get("pods", ns, "debug-shell").unwrap()["metadata"]["labels"],
        b["metadata"]["labels"]
    );
    assert!(w.api.list("networkpolicies").is_empty());
    assert_eq!(w.termination_protected().await, Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_and_token_are_cached_across_invocations_and_reminted_after_their_ttl() {
    let w = eks_world(true).await;
    let ns = "cache";
    let cid = eks_world::container_id();
    w.deployment_pod(ns, "api", "zzzzz", &cid);
    let plan =
        eks_world::plan(&w.finding(&world::unique_finding_id(), ns, "api", "deployments", &cid));
    // Each invocation builds its executor (the handler does, per account); the clients
    // live in a process-wide cache.
    let tokens = |w: &EksWorld| -> std::collections::BTreeSet<String> {
        w.api
            .requests()
            .iter()
            .filter_map(|r| r.authorization.clone())
            .collect()
    };
    for _ in 0..2 {
        w.executor(&Guardrails::default()).execute(&plan).await;
    }
    assert_eq!(
        w.described.lock().unwrap().len(),
        1,
        "one DescribeCluster for both invocations"
    );
    assert_eq!(tokens(&w).len(), 1, "one token for both invocations");

    // Past the TTL a new token is minted; endpoint and CA are not described again.
    w.api.clear_requests();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let short = eks::EksExecutor::with_clients(
        &w.aws.config,
        &Guardrails::default(),
        w.clients(Some(Duration::ZERO)),
    );
    short.execute(&plan).await;
    let fresh = tokens(&w);
    assert_eq!(fresh.len(), 1);
    assert_eq!(w.described.lock().unwrap().len(), 1);
    w.api.clear_requests();
    w.executor(&Guardrails::default()).execute(&plan).await;
    assert_eq!(
        tokens(&w),
        fresh,
        "the re-minted token is what later invocations use"
    );

    // A private cache describes again.
    let private = w.clients(None).with_private_cache();
    private
        .client(REGION, "aws", &w.cluster)
        .await
        .expect("client");
    assert_eq!(w.described.lock().unwrap().len(), 2);
    let _ = unique("x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_after_the_pod_is_gone_still_removes_the_policy_and_frees_the_node() {
    let w = eks_world(true).await;
    let ns = "gone";
    let cid = eks_world::container_id();
    let pod = w.deployment_pod(ns, "web", "g0n3x", &cid);
    let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
    let ex = w.executor(&Guardrails::default());
    let plan =
        eks_world::plan(&w.finding(&world::unique_finding_id(), ns, "web", "deployments", &cid));
    assert!(
        ex.execute(&plan)
            .await
            .iter()
            .all(|o| o.status == Status::Done)
    );
    // Somebody deleted the evidence anyway.
    w.api.remove("pods", ns, &name);
    let released = ex
        .release(&release_request(&w, ns, &name).request(), true)
        .await
        .expect("release");
    let status = |k: eks::ReleaseStep| {
        released
            .outcomes
            .iter()
            .find(|o| o.kind == k)
            .unwrap()
            .status
    };
    assert_eq!(status(eks::ReleaseStep::DeletePolicy), Status::Done);
    assert_eq!(status(eks::ReleaseStep::RestoreLabels), Status::Skipped);
    assert_eq!(status(eks::ReleaseStep::UncordonNode), Status::Done);
    assert_eq!(status(eks::ReleaseStep::UnprotectNode), Status::Done);
    assert_eq!(
        released.record.node.as_deref(),
        Some(w.node.as_str()),
        "node read from the policy"
    );
    assert!(w.api.list("networkpolicies").is_empty());
    assert!(
        w.api.get("nodes", "", &w.node).unwrap()["spec"]
            .get("unschedulable")
            .is_none()
    );
    assert_eq!(w.termination_protected().await, Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_do_not_disrupt_annotation_set_by_its_owner_survives_release() {
    let w = eks_world(true).await;
    let ns = "shop";
    let cid = eks_world::container_id();
    let mut pod = eks_world::pod_object(
        ns,
        "batch-1",
        &w.node,
        &cid,
        json!({"run": "batch-1"}),
        None,
    );
    pod["metadata"]["annotations"] = json!({ eks::DO_NOT_DISRUPT: "true" });
    w.api.put(pod);
    let mut node = w.api.get("nodes", "", &w.node).unwrap();
    node["metadata"]["annotations"] = json!({ eks::DO_NOT_DISRUPT: "true" });
    w.api.put(node);

    let plan =
        eks_world::plan(&w.finding(&world::unique_finding_id(), ns, "batch-1", "pods", &cid));
    let ex = w.executor(&Guardrails::default());
    let outcomes = ex.execute(&plan).await;
    assert!(
        outcomes.iter().all(|o| o.status == Status::Done),
        "{outcomes:?}"
    );
    let ann = |kind: &str, ns: &str, name: &str| {
        w.api.get(kind, ns, name).unwrap()["metadata"]["annotations"].clone()
    };
    // Already there: nothing recorded, so release has no claim on it.
    assert!(
        ann("pods", ns, "batch-1")
            .get(eks::DO_NOT_DISRUPT_ADDED_ANNOTATION)
            .is_none()
    );
    assert!(
        ann("nodes", "", &w.node)
            .get(eks::DO_NOT_DISRUPT_ADDED_ANNOTATION)
            .is_none()
    );

    let released = ex
        .release(&release_request(&w, ns, "batch-1").request(), true)
        .await
        .expect("release");
    assert!(
        released.outcomes.iter().all(|o| o.status == Status::Done),
        "{released:?}"
    );
    assert_eq!(
        ann("pods", ns, "batch-1")[eks::DO_NOT_DISRUPT],
        json!("true")
    );
    assert_eq!(
        ann("nodes", "", &w.node)[eks::DO_NOT_DISRUPT],
        json!("true")
    );
}

fn release_request(w: &EksWorld, ns: &str, pod: &str) -> PodToRelease {
    PodToRelease::new(REGION, &w.cluster, ns, pod)
}
