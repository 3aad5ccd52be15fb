//! The attacker inside a contained EKS pod, or with write access to its namespace, tries to
//! stay reachable while the responder reports `done`, or to use the responder's own
//! permissions: against the local Kubernetes API (executor) and the shipped admission
//! policy's CEL expressions (`admission_*`).

use integration_tests::admission::{Admission, Request};
use integration_tests::eks_world::{self, EksWorld, eks_world};
use integration_tests::world;
use responder::Config;
use responder::actions::eks::{self, QUARANTINE_LABEL};
use responder::execute::Executor;
use responder::options::{EksEscalation, EksOptions};
use responder::outcome::{Outcome, Status};
use responder::plan::ActionKind;
use responder::playbook::Guardrails;
use serde_json::{Value, json};

fn policy_step(outcomes: &[Outcome]) -> &Outcome {
    outcomes
        .iter()
        .find(|o| o.kind == ActionKind::EksApplyDenyAllPolicy)
        .expect("the deny-all step")
}

fn network_policy(ns: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": { "name": name, "namespace": ns },
        "spec": spec,
    })
}

/// Contains the Deployment pod running `cid` in `ns` with `options`.
async fn contain(w: &EksWorld, ns: &str, cid: &str, options: EksOptions) -> Vec<Outcome> {
    let config = Config {
        eks: options.clone(),
        ..Config::default()
    };
    let plan = world::plan(
        &w.finding(&world::unique_finding_id(), ns, "web", "deployments", cid),
        &config,
    );
    w.executor(&Guardrails::default())
        .with_options(options)
        .execute(&plan)
        .await
}

/// A Deployment's pod with `hostNetwork: true` on the world's node.
fn host_network_pod(w: &EksWorld, ns: &str, suffix: &str, cid: &str) {
    let mut pod = eks_world::pod_object(
        ns,
        &format!("web-7d4b9c8f5-{suffix}"),
        &w.node,
        cid,
        json!({"app": "web"}),
        Some(("ReplicaSet", "web-7d4b9c8f5")),
    );
    pod["spec"]["hostNetwork"] = json!(true);
    w.api.put(pod);
}

fn node_cordoned(w: &EksWorld) -> bool {
    w.api.get("nodes", "", &w.node).unwrap()["spec"]["unschedulable"] == json!(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pre_existing_allow_all_policy_is_not_reported_done() {
    let w = eks_world(true).await;
    let ns = "shop";
    let cid = eks_world::container_id();
    w.deployment_pod(ns, "web", "a1b2c", &cid);
    // Policies add up: `podSelector: {}` selects the pod whatever its labels.
    w.api.put(network_policy(
        ns,
        "allow-all",
        json!({"podSelector": {}, "ingress": [{}], "egress": [{}], "policyTypes": ["Ingress", "Egress"]}),
    ));
    let outcomes = contain(&w, ns, &cid, EksOptions::default()).await;
    let o = policy_step(&outcomes);
    assert_eq!(o.status, Status::Failed, "{o:?}");
    assert!(
        o.detail.contains("NOT ISOLATED")
            && o.detail
                .contains("allow-all (podSelector {}, allows ingress, egress)"),
        "{}",
        o.detail
    );
    assert!(
        o.detail
            .contains("node not contained and its instance not quarantined (eks.escalation: fail)"),
        "{}",
        o.detail
    );
    // The deny-all itself is in place; the other steps still ran.
    assert_eq!(w.api.list("networkpolicies").len(), 2);
    assert!(
        outcomes
            .iter()
            .filter(|o| o.kind != ActionKind::EksApplyDenyAllPolicy)
            .all(|o| o.status == Status::Done)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_selecting_the_stripped_pod_by_absence_are_reported_and_escalated() {
    let w = eks_world(true).await;
    let ns = "shop";
    let cid = eks_world::container_id();
    w.deployment_pod(ns, "web", "d3e4f", &cid);
    w.api.put(network_policy(
        ns,
        "not-db",
        json!({"podSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]},
               "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}], "policyTypes": ["Egress"]}),
    ));
    w.api.put(network_policy(
        ns,
        "untiered",
        json!({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
               "ingress": [{"from": [{"namespaceSelector": {}}]}]}),
    ));
    // Selects the pod before quarantine, not after its labels were removed.
    w.api.put(network_policy(
        ns,
        "web-in",
        json!({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{}]}),
    ));
    // Selects everything but only denies: not a leak.
    w.api.put(network_policy(
        ns,
        "default-deny",
        json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
    ));
    let options = EksOptions {
        cordon_node: false,
        escalation: EksEscalation::ContainNode,
        ..EksOptions::default()
    };
    let outcomes = contain(&w, ns, &cid, options).await;
    assert!(outcomes.iter().all(|o| o.kind != ActionKind::EksCordonNode));
    let o = policy_step(&outcomes);
    assert_eq!(o.status, Status::Failed, "{o:?}");
    assert!(
        o.detail
            .contains("not-db (podSelector app notin (db), allows egress)")
            && o.detail
                .contains("untiered (podSelector !tier, allows ingress)"),
        "{}",
        o.detail
    );
    assert!(
        !o.detail.contains("web-in") && !o.detail.contains("default-deny"),
        "{}",
        o.detail
    );
    // Escalation: the node is contained although the plan did not cordon it.
    assert!(node_cordoned(&w));
    assert!(
        o.detail.contains("node containment: cordon done")
            && o.detail.contains(
                "EC2 quarantine of the node's instance not performed (eks.quarantine_node_instance is off)"
            ),
        "{}",
        o.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_network_pod_is_contained_by_its_node() {
    let w = eks_world(true).await;
    let ns = "shop";
    let cid = eks_world::container_id();
    host_network_pod(&w, ns, "h0stn", &cid);
    let options = EksOptions {
        cordon_node: false,
        ..EksOptions::default()
    };
    let outcomes = contain(&w, ns, &cid, options).await;
    let o = policy_step(&outcomes);
    assert_eq!(o.status, Status::Failed, "{o:?}");
    assert!(
        o.detail.contains("hostNetwork: true")
            && o.detail.contains("no NetworkPolicy applies")
            && o.detail.contains("node containment: cordon done")
            && o.detail
                .contains("EC2 quarantine of the node's instance not performed"),
        "{}",
        o.detail
    );
    assert!(node_cordoned(&w), "cordoned although the plan did not ask");
    let node = w.api.get("nodes", "", &w.node).unwrap();
    assert_eq!(
        node["metadata"]["annotations"][eks::CORDONED_ANNOTATION],
        json!("true"),
        "recorded for release"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_network_pod_is_contained_by_quarantining_its_node_instance_when_configured() {
    let w = eks_world(true).await;
    let ns = "shop";
    let cid = eks_world::container_id();
    host_network_pod(&w, ns, "h0stq", &cid);
    let groups_before: Vec<Vec<String>> = {
        let mut v = Vec::new();
        for e in &w.instance.enis {
            v.push(world::eni_groups(&w.aws, &e.id).await);
        }
        v
    };
    let options = EksOptions {
        quarantine_node_instance: true,
        ..EksOptions::default()
    };
    let outcomes = contain(&w, ns, &cid, options).await;
    let o = policy_step(&outcomes);
    assert_ne!(o.status, Status::Failed, "{o:?}");
    assert!(
        o.detail.contains("CONTAINED BY THE NODE")
            && o.detail.contains(&format!(
                "EC2 quarantine of the node's instance {} done",
                w.instance.id
            )),
        "{}",
        o.detail
    );
    // The EC2 quarantine itself: recorded on the instance, every ENI's groups changed.
    let tags = world::tags(&w.aws, &w.instance.id).await;
    assert_eq!(
        tags.get("guardduty-responder:status").map(String::as_str),
        Some("quarantined"),
        "{tags:?}"
    );
    for (e, before) in w.instance.enis.iter().zip(groups_before) {
        assert_ne!(world::eni_groups(&w.aws, &e.id).await, before, "{}", e.id);
    }
    assert!(node_cordoned(&w));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_or_daemonset_mimicking_a_policy_engine_is_not_the_engine() {
    let w = eks_world(false).await;
    // The attacker's namespace: pods and a DaemonSet labelled like the engines.
    w.api.put(eks_world::daemonset(
        "attacker",
        "calico-node",
        json!({"k8s-app": "calico-node"}),
        json!([{ "name": "calico-node", "image": "busybox" }]),
    ));
    for (name, app) in [("calico-node-x", "calico-node"), ("cilium-x", "cilium")] {
        let mut p = eks_world::pod_object(
            "attacker",
            name,
            &w.node,
            &eks_world::container_id(),
            json!({ "k8s-app": app }),
            None,
        );
        p["spec"]["containers"][0]["name"] = json!(app);
        w.api.put(p);
    }
    let mut fake_cni = eks_world::aws_node_pod(&w.node, true);
    fake_cni["metadata"]["namespace"] = json!("attacker");
    w.api.put(fake_cni);

    let ns = "shop";
    let cid = eks_world::container_id();
    w.deployment_pod(ns, "web", "m1m1c", &cid);
    let outcomes = contain(&w, ns, &cid, EksOptions::default()).await;
    let o = policy_step(&outcomes);
    assert_eq!(o.status, Status::Done, "{o:?}");
    assert!(
        o.detail.contains("no NetworkPolicy engine detected"),
        "{}",
        o.detail
    );

    // The real engine, where it runs: found.
    w.api.put(eks_world::daemonset(
        "calico-system",
        "calico-node",
        json!({"k8s-app": "calico-node"}),
        json!([{ "name": "calico-node", "image": "calico/node:v3.29" }]),
    ));
    let again = contain(&w, ns, &cid, EksOptions::default()).await;
    let o = policy_step(&again);
    assert_eq!(o.status, Status::AlreadyDone, "{o:?}");
    assert!(o.detail.contains("enforced by Calico"), "{}", o.detail);
}

// ---- The admission policy (infra/kubernetes/admission-policy.yaml) ----

const RESPONDER: &[&str] = &["guardduty-responder", "system:authenticated"];
const FOREIGN: &[&str] = &["developers", "system:authenticated"];
const ADMINS: &[&str] = &["guardduty-responder-admins", "system:authenticated"];

fn pod() -> Value {
    eks_world::pod_object(
        "shop",
        "web-1",
        "ip-10-0-1-1",
        "0123456789abcdef",
        json!({"app": "web", "tier": "frontend"}),
        Some(("ReplicaSet", "web-7d4b9c8f5")),
    )
}

fn node() -> Value {
    let mut n = eks_world::node_object("ip-10-0-1-1", "i-0123456789abcdef0");
    n["metadata"]["annotations"] = json!({"node.alpha.kubernetes.io/ttl": "0"});
    n["spec"]["taints"] = json!([{"key": "dedicated", "value": "web", "effect": "NoSchedule"}]);
    n
}

fn with(mut v: Value, path: &[&str], value: Value) -> Value {
    let mut at = &mut v;
    for p in &path[..path.len() - 1] {
        at = at
            .as_object_mut()
            .unwrap()
            .entry(p.to_string())
            .or_insert(json!({}));
    }
    at[path[path.len() - 1]] = value;
    v
}

/// What the responder's actions do to the pod: the quarantine label and annotations,
/// every other label removed.
fn quarantined(p: &Value) -> Value {
    let mut q = p.clone();
    q["metadata"]["labels"] = json!({ QUARANTINE_LABEL: "uid-1" });
    q["metadata"]["annotations"][eks::FINDING_ID_ANNOTATION] = json!("f1");
    q["metadata"]["annotations"][eks::PRIOR_LABELS_ANNOTATION] =
        json!(r#"{"app":"web","tier":"frontend"}"#);
    for (k, v) in eks::do_not_disrupt(None) {
        q["metadata"]["annotations"][k] = json!(v);
    }
    q
}

fn deny_all() -> Value {
    serde_json::to_value(eks::policy::deny_all(
        "shop",
        "uid-1",
        "web-1",
        Some("ip-10-0-1-1"),
        "f1",
    ))
    .unwrap()
}

fn denied(a: &Admission, r: Request) -> String {
    a.admit(&r).expect_err(&format!("denied: {r:?}"))
}

#[test]
fn admission_lets_the_responder_do_exactly_its_pod_and_policy_actions() {
    let a = Admission::shipped();
    let p = pod();
    a.admit(&Request::update(
        RESPONDER,
        "pods",
        p.clone(),
        quarantined(&p),
    ))
    .expect("label, annotate and strip the pod");
    let image = with(
        quarantined(&p),
        &["spec", "containers"],
        json!([{"name": "web", "image": "attacker/root:latest"}]),
    );
    assert!(denied(&a, Request::update(RESPONDER, "pods", p.clone(), image)).contains("spec"));
    // Labelling a pod into another Service's selector would hijack its traffic.
    let relabel = with(p.clone(), &["metadata", "labels", "app"], json!("payments"));
    assert!(denied(&a, Request::update(RESPONDER, "pods", p.clone(), relabel)).contains("labels"));
    let foreign_annotation = with(
        p.clone(),
        &["metadata", "annotations", "kubernetes.io/psp"],
        json!("other"),
    );
    denied(
        &a,
        Request::update(RESPONDER, "pods", p.clone(), foreign_annotation),
    );
    let finalizer = with(p.clone(), &["metadata", "finalizers"], json!(["x/keep"]));
    denied(&a, Request::update(RESPONDER, "pods", p.clone(), finalizer));
    denied(&a, Request::create(RESPONDER, "pods", p.clone()));
    denied(&a, Request::delete(RESPONDER, "pods", p));

    a.admit(&Request::create(RESPONDER, "networkpolicies", deny_all()))
        .expect("the deny-all");
    a.admit(&Request::update(
        RESPONDER,
        "networkpolicies",
        deny_all(),
        deny_all(),
    ))
    .expect("re-applied");
    let renamed = with(deny_all(), &["metadata", "name"], json!("allow-everything"));
    denied(&a, Request::create(RESPONDER, "networkpolicies", renamed));
    let opened = with(deny_all(), &["spec", "ingress"], json!([{}]));
    denied(&a, Request::create(RESPONDER, "networkpolicies", opened));
    // A deny-all over the whole namespace would be a denial of service.
    let everyone = with(deny_all(), &["spec", "podSelector"], json!({}));
    denied(&a, Request::create(RESPONDER, "networkpolicies", everyone));
}

#[test]
fn admission_lets_the_responder_cordon_and_mark_a_node_and_nothing_else() {
    let a = Admission::shipped();
    let n = node();
    let cordoned = {
        let mut c = with(n.clone(), &["spec", "unschedulable"], json!(true));
        c["metadata"]["labels"][eks::UNDER_INVESTIGATION_LABEL] = json!("true");
        c["metadata"]["annotations"][eks::CORDONED_ANNOTATION] = json!("true");
        c["metadata"]["annotations"][eks::PROTECTED_ANNOTATION] = json!("termination");
        c["metadata"]["annotations"][eks::DO_NOT_DISRUPT] = json!("true");
        c
    };
    // Karpenter's annotation: only "true", and release may remove it.
    let disruptable = with(
        cordoned.clone(),
        &["metadata", "annotations", eks::DO_NOT_DISRUPT],
        json!("false"),
    );
    assert!(
        denied(
            &a,
            Request::update(RESPONDER, "nodes", n.clone(), disruptable)
        )
        .contains("do-not-disrupt")
    );
    a.admit(&Request::update(
        RESPONDER,
        "nodes",
        cordoned.clone(),
        n.clone(),
    ))
    .expect("release removes the responder's marks");
    a.admit(&Request::update(
        RESPONDER,
        "nodes",
        n.clone(),
        cordoned.clone(),
    ))
    .expect("cordon, label, annotate");
    let own_taint = with(
        cordoned.clone(),
        &["spec", "taints"],
        json!([{"key": "dedicated", "value": "web", "effect": "NoSchedule"},
               {"key": "guardduty-responder/quarantine", "effect": "NoExecute"}]),
    );
    a.admit(&Request::update(RESPONDER, "nodes", n.clone(), own_taint))
        .expect("a responder taint");
    let dropped_taint = with(n.clone(), &["spec", "taints"], json!([]));
    denied(
        &a,
        Request::update(RESPONDER, "nodes", n.clone(), dropped_taint),
    );
    let provider = with(
        n.clone(),
        &["spec", "providerID"],
        json!("aws:///x/i-0fffffffffffffff0"),
    );
    denied(&a, Request::update(RESPONDER, "nodes", n.clone(), provider));
    let mut unlabelled = n.clone();
    unlabelled["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("eks.amazonaws.com/nodegroup");
    denied(
        &a,
        Request::update(RESPONDER, "nodes", n.clone(), unlabelled),
    );
    let relabelled = with(n.clone(), &["metadata", "labels", "role"], json!("ingress"));
    denied(&a, Request::update(RESPONDER, "nodes", n, relabelled));
}

#[test]
fn admission_keeps_the_responder_keys_out_of_everybody_elses_reach() {
    let a = Admission::shipped();
    let p = pod();
    let q = quarantined(&p);
    // A workload owner lifting the quarantine, or exempting a pod, is denied.
    let lifted = with(q.clone(), &["metadata", "labels"], json!({"app": "web"}));
    assert!(
        denied(
            &a,
            Request::update(FOREIGN, "pods", q.clone(), lifted.clone())
        )
        .contains("removed")
    );
    let exempt = with(
        p.clone(),
        &["metadata", "labels", eks::EXEMPT],
        json!("true"),
    );
    denied(
        &a,
        Request::update(FOREIGN, "pods", p.clone(), exempt.clone()),
    );
    denied(&a, Request::create(FOREIGN, "pods", exempt.clone()));
    let forged = with(
        p.clone(),
        &["metadata", "annotations", eks::FINDING_ID_ANNOTATION],
        json!("x"),
    );
    denied(&a, Request::update(FOREIGN, "pods", p.clone(), forged));
    let n = node();
    let uncordon_mark = with(
        n.clone(),
        &["metadata", "annotations", eks::CORDONED_ANNOTATION],
        json!("true"),
    );
    denied(
        &a,
        Request::update(FOREIGN, "nodes", n.clone(), uncordon_mark),
    );
    // Their own labels, on a quarantined pod too, stay theirs.
    let own = with(q.clone(), &["metadata", "labels", "debug"], json!("1"));
    a.admit(&Request::update(FOREIGN, "pods", q.clone(), own))
        .expect("unrelated label");
    a.admit(&Request::create(FOREIGN, "pods", p.clone()))
        .expect("an ordinary pod");
    // The deny-all: not to be loosened, deleted or pre-empted.
    let loosened = with(deny_all(), &["spec", "ingress"], json!([{}]));
    denied(
        &a,
        Request::update(FOREIGN, "networkpolicies", deny_all(), loosened),
    );
    denied(&a, Request::delete(FOREIGN, "networkpolicies", deny_all()));
    let mut squat = deny_all();
    squat["metadata"]["labels"] = json!({});
    squat["metadata"]["annotations"] = json!({});
    denied(&a, Request::create(FOREIGN, "networkpolicies", squat));
    let theirs = json!({"metadata": {"name": "allow-dns", "namespace": "shop"},
                        "spec": {"podSelector": {}, "egress": [{}]}});
    a.admit(&Request::create(FOREIGN, "networkpolicies", theirs))
        .expect("their own policy");
    // The admins (who run `responder release eks`) may.
    a.admit(&Request::update(ADMINS, "pods", q.clone(), lifted))
        .expect("release");
    a.admit(&Request::delete(ADMINS, "networkpolicies", deny_all()))
        .expect("release");
    a.admit(&Request::update(ADMINS, "pods", p, exempt))
        .expect("an admin exemption");
}
