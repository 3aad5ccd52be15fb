//! EKS executor faults: RBAC refusals, a pod already gone, a policy already there (ours or
//! loosened by someone), a concurrent label change, guardrails, no policy engine, an
//! unknown cluster.

use integration_tests::eks_world::{self, eks_world};
use integration_tests::world;
use responder::actions::eks::{self, QUARANTINE_LABEL};
use responder::execute::Executor;
use responder::outcome::{Outcome, Status};
use responder::plan::ActionKind;
use responder::playbook::Guardrails;
use serde_json::json;

fn by_kind(outcomes: &[Outcome], kind: ActionKind) -> &Outcome {
    outcomes
        .iter()
        .find(|o| o.kind == kind)
        .expect("an outcome per action")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_refusals_are_clear_failures_and_independent_steps_still_run() {
    let w = eks_world(true).await;
    let ns = "pay";
    let cid = eks_world::container_id();
    let pod = w.deployment_pod(ns, "checkout", "k1k1k", &cid);
    w.api.forbid("patch", "pods");
    let plan = eks_world::plan(&w.finding(
        &world::unique_finding_id(),
        ns,
        "checkout",
        "deployments",
        &cid,
    ));
    let outcomes = w.executor(&Guardrails::default()).execute(&plan).await;
    for kind in [ActionKind::EksLabelPod, ActionKind::EksRemoveServiceLabels] {
        let o = by_kind(&outcomes, kind);
        assert_eq!(o.status, Status::Failed, "{o:?}");
        assert!(
            o.detail.contains("403 Forbidden") && o.detail.contains("patch on pods"),
            "{}",
            o.detail
        );
        assert!(
            o.detail.contains("cannot patch resource \"pods\""),
            "the API server's words are kept: {}",
            o.detail
        );
    }
    // The policy is applied, but selects the pod by the label that did not land: not
    // isolated, and the step says so.
    let policy = by_kind(&outcomes, ActionKind::EksApplyDenyAllPolicy);
    assert_eq!(policy.status, Status::Failed, "{policy:?}");
    assert!(
        policy.detail.contains("does not select pod") && policy.detail.contains("NOT ISOLATED"),
        "{}",
        policy.detail
    );
    assert_eq!(
        w.api.list("networkpolicies").len(),
        1,
        "the policy is there"
    );
    // The node and the event do not depend on the pod patch.
    for kind in [
        ActionKind::EksCordonNode,
        ActionKind::EksProtectNode,
        ActionKind::EksRecordEvent,
    ] {
        assert_eq!(
            by_kind(&outcomes, kind).status,
            Status::Done,
            "{:?}",
            by_kind(&outcomes, kind)
        );
    }
    assert_eq!(
        w.api
            .get("pods", ns, pod["metadata"]["name"].as_str().unwrap())
            .unwrap(),
        pod
    );
    assert!(
        responder::outcome::any_failed(&outcomes),
        "the handler retries and says so"
    );

    // Without list on pods a controller's pod cannot be found: every step fails, clearly.
    let w = eks_world(true).await;
    let cid = eks_world::container_id();
    w.deployment_pod(ns, "checkout", "k2k2k", &cid);
    w.api.forbid("list", "pods");
    let plan = eks_world::plan(&w.finding(
        &world::unique_finding_id(),
        ns,
        "checkout",
        "deployments",
        &cid,
    ));
    let outcomes = w.executor(&Guardrails::default()).execute(&plan).await;
    assert_eq!(outcomes.len(), 6);
    for o in &outcomes {
        assert_eq!(o.status, Status::Failed);
        assert!(
            o.detail
                .contains("cannot find the pod: 403 Forbidden: RBAC does not allow list on pods"),
            "{}",
            o.detail
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_already_gone_is_skipped_with_the_reason() {
    let w = eks_world(true).await;
    let plan = eks_world::plan(&w.finding(
        &world::unique_finding_id(),
        "web",
        "web-gone-1",
        "pods",
        &eks_world::container_id(),
    ));
    let outcomes = w.executor(&Guardrails::default()).execute(&plan).await;
    assert_eq!(outcomes.len(), 6);
    for o in &outcomes {
        assert_eq!(o.status, Status::Skipped, "{o:?}");
        assert!(o.detail.contains("not found: already gone"), "{}", o.detail);
    }
    assert!(w.api.requests().iter().all(|r| r.method == "GET"));

    // Gone between the lookup and the patches: each pod step says so, nothing fails.
    let cid = eks_world::container_id();
    w.api.put(eks_world::pod_object(
        "web",
        "web-going-1",
        &w.node,
        &cid,
        json!({"app": "web"}),
        None,
    ));
    w.api.delete_after_next_get("pods", "web", "web-going-1");
    let plan = eks_world::plan(&w.finding(
        &world::unique_finding_id(),
        "web",
        "web-going-1",
        "pods",
        &cid,
    ));
    let outcomes = w.executor(&Guardrails::default()).execute(&plan).await;
    assert!(
        outcomes.iter().all(|o| o.status != Status::Failed),
        "{outcomes:?}"
    );
    for kind in [ActionKind::EksLabelPod, ActionKind::EksRemoveServiceLabels] {
        let o = by_kind(&outcomes, kind);
        assert_eq!(o.status, Status::Skipped, "{o:?}");
        assert!(o.detail.contains("the pod is gone"), "{}", o.detail);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_policy_is_idempotent_and_a_loosened_one_is_repaired() {
    let w = eks_world(true).await;
    let ns = "api";
    let cid = eks_world::container_id();
    let pod = w.deployment_pod(ns, "orders", "p0p0p", &cid);
    let uid = pod["metadata"]["uid"].as_str().unwrap().to_owned();
    // Exactly the policy the responder would write, already there (an earlier run).
    let ours = responder::actions::eks::policy::deny_all(ns, &uid, "x", None, "earlier");
    w.api.put(serde_json::to_value(&ours).unwrap());
    let plan = eks_world::plan(&w.finding(
        &world::unique_finding_id(),
        ns,
        "orders",
        "deployments",
        &cid,
    ));
    let ex = w.executor(&Guardrails::default());
    let outcomes = ex.execute(&plan).await;
    let o = by_kind(&outcomes, ActionKind::EksApplyDenyAllPolicy);
    assert_eq!(o.status, Status::AlreadyDone, "{o:?}");
    assert_eq!(w.api.list("networkpolicies").len(), 1);
    assert!(
        !w.api
            .requests()
            .iter()
            .any(|r| r.method == "PATCH" && r.path.contains("networkpolicies")),
        "no write when already in place"
    );

    // Somebody (kubectl) opened it up: an allow-all ingress rule, a wider selector.
    w.api.remove("networkpolicies", ns, &eks::policy_name(&uid));
    let mut loosened = serde_json::to_value(&ours).unwrap();
    loosened["spec"]["ingress"] = json!([{}]);
    loosened["spec"]["policyTypes"] = json!(["Egress"]);
    loosened["metadata"]["managedFields"] = json!([{"manager": "kubectl-edit", "operation": "Update", "apiVersion": "networking.k8s.io/v1"}]);
    w.api.put(loosened);
    let outcomes = ex.execute(&plan).await;
    let o = by_kind(&outcomes, ActionKind::EksApplyDenyAllPolicy);
    assert_eq!(o.status, Status::Done, "{o:?}");
    assert!(o.detail.starts_with("repaired"), "{}", o.detail);
    let np = w
        .api
        .get("networkpolicies", ns, &eks::policy_name(&uid))
        .unwrap();
    assert_eq!(np["spec"]["ingress"], json!([]));
    assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(
        eks_world::selected_pods(&w.api, &np),
        [pod["metadata"]["name"].as_str().unwrap()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_label_change_is_retried_and_recorded() {
    let w = eks_world(true).await;
    let ns = "race";
    let cid = eks_world::container_id();
    let pod = w.deployment_pod(ns, "web", "r4c3e", &cid);
    let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
    let plan =
        eks_world::plan(&w.finding(&world::unique_finding_id(), ns, "web", "deployments", &cid));
    // The label removal reads the pod, then somebody adds a label before it writes.
    let ex = w.executor(&Guardrails::default());
    let mut only = plan.clone();
    only.actions.retain(|a| a.kind == ActionKind::EksLabelPod);
    ex.execute(&only).await;
    w.api.change_after_next_get("pods", ns, &name, |p| {
        p["metadata"]["labels"]["version"] = json!("v2");
    });
    only.actions = plan
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::EksRemoveServiceLabels)
        .cloned()
        .collect();
    let outcomes = ex.execute(&only).await;
    assert_eq!(outcomes[0].status, Status::Done, "{:?}", outcomes[0]);
    let conflicts = w
        .api
        .requests()
        .iter()
        .filter(|r| r.status == 409 && r.method == "PATCH")
        .count();
    assert_eq!(
        conflicts, 1,
        "the stale write was refused once, then retried"
    );
    let p = w.api.get("pods", ns, &name).unwrap();
    assert_eq!(
        p["metadata"]["labels"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        [QUARANTINE_LABEL]
    );
    let recorded: serde_json::Value = serde_json::from_str(
        p["metadata"]["annotations"][eks::PRIOR_LABELS_ANNOTATION]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        recorded["version"],
        json!("v2"),
        "the concurrently added label is recorded too"
    );
    assert_eq!(recorded["app"], json!("web"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exempt_pods_and_protected_namespaces_are_left_alone() {
    let w = eks_world(true).await;
    let cid = eks_world::container_id();
    w.api.put(eks_world::pod_object(
        "tools",
        "scanner-1",
        &w.node,
        &cid,
        json!({"app": "scanner", eks::EXEMPT: "true"}),
        None,
    ));
    let plan = eks_world::plan(&w.finding(
        &world::unique_finding_id(),
        "tools",
        "scanner-1",
        "pods",
        &cid,
    ));
    // Pod exemptions count only when tag exemptions are switched on.
    let honoured = Guardrails {
        exemptions: responder::exemption::Exemptions {
            honour_tags: true,
            ..Default::default()
        },
        ..Guardrails::default()
    };
    let outcomes = w.executor(&honoured).execute(&plan).await;
    for o in &outcomes {
        assert_eq!(o.status, Status::Skipped);
        assert!(
            o.detail.contains(eks::EXEMPT) && o.detail.contains("notify only"),
            "{}",
            o.detail
        );
    }
    assert!(
        w.api.requests().iter().all(|r| r.method == "GET"),
        "only read"
    );
    assert_eq!(
        w.api.get("nodes", "", &w.node).unwrap()["spec"].get("unschedulable"),
        None
    );

    // The executor refuses a protected namespace even when the plan (made with another
    // configuration) contains it, without calling the cluster at all.
    w.api.clear_requests();
    let plan = eks_world::plan(&w.finding(
        &world::unique_finding_id(),
        "security",
        "agent-1",
        "pods",
        &cid,
    ));
    assert!(!plan.actions.is_empty());
    let guard = Guardrails {
        protected_namespaces: vec!["security".into()],
        ..Guardrails::default()
    };
    let outcomes = w.executor(&guard).execute(&plan).await;
    for o in &outcomes {
        assert_eq!(o.status, Status::Skipped);
        assert!(
            o.detail.contains("namespace security is protected"),
            "{}",
            o.detail
        );
    }
    assert!(w.api.requests().is_empty());
    assert!(
        w.executor(&Guardrails::default())
            .is_protected_namespace("amazon-guardduty")
    );
    assert!(
        w.executor(&Guardrails {
            protected_namespaces: vec![],
            ..Guardrails::default()
        })
        .is_protected_namespace("kube-system")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_policy_engine_the_outcome_says_the_policy_may_be_inert() {
    let w = eks_world(false).await;
    // VPC CNI present but its network policy agent off.
    w.api.put(eks_world::aws_node_pod(&w.node, false));
    w.api.put(eks_world::aws_node_daemonset(false));
    let cid = eks_world::container_id();
    w.api.put(eks_world::pod_object(
        "web",
        "web-solo",
        &w.node,
        &cid,
        json!({"app": "web"}),
        None,
    ));
    let plan =
        eks_world::plan(&w.finding(&world::unique_finding_id(), "web", "web-solo", "pods", &cid));
    let outcomes = w.executor(&Guardrails::default()).execute(&plan).await;
    let o = by_kind(&outcomes, ActionKind::EksApplyDenyAllPolicy);
    assert_eq!(o.status, Status::Done);
    assert!(
        o.detail.contains("no NetworkPolicy engine detected") && o.detail.contains("may be inert"),
        "{}",
        o.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_cluster_fails_every_step_with_the_describe_error() {
    let w = eks_world(true).await;
    let mut event: serde_json::Value = serde_json::from_slice(&w.finding(
        &world::unique_finding_id(),
        "web",
        "web-1",
        "pods",
        &eks_world::container_id(),
    ))
    .unwrap();
    event["detail"]["resource"]["eksClusterDetails"]["name"] = json!("no-such-cluster");
    let plan = eks_world::plan(&serde_json::to_vec(&event).unwrap());
    let outcomes = w.executor(&Guardrails::default()).execute(&plan).await;
    for o in &outcomes {
        assert_eq!(o.status, Status::Failed);
        assert!(
            o.detail.contains("eks:DescribeCluster no-such-cluster"),
            "{}",
            o.detail
        );
    }
    assert!(w.api.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_fails_clearly_and_the_next_invocation_starts_afresh() {
    let w = eks_world(true).await;
    let cid = eks_world::container_id();
    w.api.put(eks_world::pod_object(
        "web",
        "web-401",
        &w.node,
        &cid,
        json!({"app": "web"}),
        None,
    ));
    let plan =
        eks_world::plan(&w.finding(&world::unique_finding_id(), "web", "web-401", "pods", &cid));
    w.api.reject_all_tokens(true);
    let outcomes = w.executor(&Guardrails::default()).execute(&plan).await;
    for o in &outcomes {
        assert_eq!(o.status, Status::Failed);
        assert!(
            o.detail.contains("401 Unauthorized") && o.detail.contains("EKS access entry"),
            "{}",
            o.detail
        );
    }
    assert_eq!(w.described.lock().unwrap().len(), 1);
    // The access entry is fixed: the cached client was dropped, so the next invocation
    // describes the cluster and mints a token again, and succeeds.
    w.api.reject_all_tokens(false);
    let outcomes = w.executor(&Guardrails::default()).execute(&plan).await;
    assert!(
        outcomes.iter().all(|o| o.status == Status::Done),
        "{outcomes:?}"
    );
    assert_eq!(w.described.lock().unwrap().len(), 2);
}
