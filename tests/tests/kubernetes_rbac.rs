//! Least privilege in the cluster, checked both ways as `iam_policies.rs` does for IAM: the
//! ClusterRole shipped in `infra/kubernetes/rbac.yaml` grants exactly the rules the EKS
//! units declare in the action catalog (`KUBERNETES_RBAC`, their union), bound to the group
//! its access entry maps to, and the admission policy narrowing it is bound to that same
//! group. And what is declared is what is called: each EKS unit, run alone against the
//! local API server, and release, make only calls their rules allow.

use integration_tests::admission::{find, manifests};
use integration_tests::eks_world::{self, EksWorld, PodToRelease, REGION, eks_world};
use integration_tests::world;
use responder::action_catalog::{self, release_kubernetes_rbac, unit_rbac};
use responder::actions::eks::KUBERNETES_RBAC;
use responder::actions::eks::permissions::KUBERNETES_GROUP;
use responder::execute::Executor;
use responder::outcome::Status;
use responder::plan::ActionKind;
use responder::playbook::Guardrails;
use serde_json::Value;
use std::collections::BTreeSet;

/// `(api group, resource, verb, object name or *)`, one per grant.
type Grant = (String, String, String, String);

fn expand(groups: &[&str], resources: &[&str], verbs: &[&str], names: &[&str]) -> Vec<Grant> {
    let names: Vec<&str> = if names.is_empty() {
        vec!["*"]
    } else {
        names.to_vec()
    };
    let mut out = Vec::new();
    for g in groups {
        for r in resources {
            for v in verbs {
                for n in &names {
                    out.push((g.to_string(), r.to_string(), v.to_string(), n.to_string()));
                }
            }
        }
    }
    out
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().expect("a string"))
        .collect()
}

fn shipped() -> BTreeSet<Grant> {
    granted("rbac.yaml", "guardduty-responder")
}

/// Every grant of ClusterRole `role` in `infra/kubernetes/<file>`.
fn granted(file: &str, role: &str) -> BTreeSet<Grant> {
    let docs = manifests(file);
    find(&docs, "ClusterRole", role)["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .flat_map(|r| {
            assert!(
                r.get("nonResourceURLs").is_none(),
                "no non-resource URLs: {r}"
            );
            expand(
                &strs(&r["apiGroups"]),
                &strs(&r["resources"]),
                &strs(&r["verbs"]),
                &strs(&r["resourceNames"]),
            )
        })
        .collect()
}

/// The units' rules (`action_catalog`), each grant on any object name.
fn declared() -> BTreeSet<Grant> {
    KUBERNETES_RBAC
        .iter()
        .flat_map(|g| expand(&[g.group], &[g.resource], &[g.verb], &[]))
        .collect()
}

#[test]
fn the_shipped_cluster_role_grants_exactly_what_the_executor_declares() {
    let (shipped, declared) = (shipped(), declared());
    let missing: Vec<_> = declared.difference(&shipped).collect();
    let undeclared: Vec<_> = shipped.difference(&declared).collect();
    assert!(
        missing.is_empty() && undeclared.is_empty(),
        "missing from rbac.yaml {missing:?}; granted but not declared {undeclared:?}"
    );
}

#[test]
fn the_cluster_role_has_no_wildcard_and_no_privilege_escalating_verb() {
    for (group, resource, verb, name) in shipped() {
        assert!(
            !group.contains('*') && !resource.contains('*') && !verb.contains('*'),
            "{group} {resource} {verb}"
        );
        assert!(
            ![
                "delete",
                "deletecollection",
                "escalate",
                "bind",
                "impersonate",
                "update"
            ]
            .contains(&verb.as_str()),
            "{resource} {verb}"
        );
        // One subresource, read-only: the logs (never pods/exec, pods/attach, nodes/proxy…).
        assert!(
            !resource.contains('/') || (resource == "pods/log" && verb == "get"),
            "no subresource but pods/log get ({resource} {verb})"
        );
        assert_eq!(name, "*", "{resource}: no rule is restricted by name");
    }
}

#[test]
fn the_role_and_the_admission_policy_are_bound_to_the_responder_group() {
    let docs = manifests("rbac.yaml");
    let binding = find(&docs, "ClusterRoleBinding", "guardduty-responder");
    assert_eq!(binding["roleRef"]["name"], "guardduty-responder");
    let subjects = binding["subjects"].as_array().expect("subjects");
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    assert_eq!(subjects[0]["kind"], "Group");
    assert_eq!(subjects[0]["name"], KUBERNETES_GROUP);

    let tf = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/modules/responder/eks.tf"
    ))
    .unwrap();
    assert!(
        tf.contains(&format!("eks_kubernetes_group = \"{KUBERNETES_GROUP}\"")),
        "the access entry maps the role to {KUBERNETES_GROUP}"
    );

    let policy = manifests("admission-policy.yaml");
    let scope = find(
        &policy,
        "ValidatingAdmissionPolicy",
        "guardduty-responder-scope",
    );
    let condition = scope["spec"]["matchConditions"][0]["expression"]
        .as_str()
        .unwrap();
    assert!(
        condition.contains(&format!("'{KUBERNETES_GROUP}'")),
        "{condition}"
    );
    for name in ["guardduty-responder-scope", "guardduty-responder-keys"] {
        let b = find(&policy, "ValidatingAdmissionPolicyBinding", name);
        assert_eq!(b["spec"]["policyName"], name);
        assert_eq!(b["spec"]["validationActions"], serde_json::json!(["Deny"]));
        assert!(b["spec"].get("matchResources").is_none(), "every namespace");
        let p = find(&policy, "ValidatingAdmissionPolicy", name);
        assert_eq!(p["spec"]["failurePolicy"], "Fail");
    }
}

/// The reminder's ClusterRole (`reader-rbac.yaml`) grants exactly the reader's calls, reads
/// only, bound to the group its access entry maps to.
#[test]
fn the_reader_role_grants_exactly_the_inventory_reads() {
    use responder::inventory::read_eks;
    let docs = manifests("reader-rbac.yaml");
    let shipped = granted("reader-rbac.yaml", read_eks::KUBERNETES_GROUP);
    let declared: BTreeSet<Grant> = read_eks::KUBERNETES_RBAC
        .iter()
        .flat_map(|r| expand(r.groups, &[r.resource], r.verbs, &[]))
        .collect();
    assert_eq!(shipped, declared);
    assert!(
        shipped
            .iter()
            .all(|(_, _, verb, _)| ["get", "list"].contains(&verb.as_str())),
        "{shipped:?}"
    );

    let binding = find(&docs, "ClusterRoleBinding", read_eks::KUBERNETES_GROUP);
    assert_eq!(binding["roleRef"]["name"], read_eks::KUBERNETES_GROUP);
    assert_eq!(binding["subjects"][0]["name"], read_eks::KUBERNETES_GROUP);
    assert_eq!(binding["subjects"].as_array().map(Vec::len), Some(1));
    let tf = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/modules/responder/reminder.tf"
    ))
    .unwrap();
    assert!(
        tf.contains(&format!(
            "kubernetes_groups = [\"{}\"]",
            read_eks::KUBERNETES_GROUP
        )),
        "the reminder's access entry maps its role to {}",
        read_eks::KUBERNETES_GROUP
    );
}

/// The calls the local API server saw since the last clear, as RBAC names them
/// (`patch pods`), each once.
fn calls(w: &EksWorld) -> BTreeSet<String> {
    let calls: BTreeSet<String> = w.api.requests().iter().filter_map(|r| r.call()).collect();
    w.api.clear_requests();
    calls
}

fn allowed(grants: impl IntoIterator<Item = action_catalog::Grant>) -> BTreeSet<String> {
    grants.into_iter().map(|g| g.call()).collect()
}

/// Each EKS unit of a workload plan, run alone on its own pod (after the units before it),
/// calls nothing its unit does not declare (beyond the pod look-up every containment makes): a step that starts calling
/// something new fails here until its unit, and so the ClusterRole, says so. Then release
/// calls nothing the units' release rules do not declare.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_eks_unit_calls_only_what_it_declares() {
    let w = eks_world(true).await;
    let ex = w.executor(&Guardrails::default());
    let full = {
        let cid = eks_world::container_id();
        eks_world::plan(&w.finding(&world::unique_finding_id(), "a", "web", "deployments", &cid))
    };
    let kinds: Vec<ActionKind> = full.actions.iter().map(|a| a.kind).collect();
    assert!(kinds.len() >= 5, "{kinds:?}");
    for (i, kind) in kinds.iter().enumerate() {
        let (ns, cid) = (format!("unit{i}"), eks_world::container_id());
        w.deployment_pod(&ns, "web", "x2x9k", &cid);
        let fid = world::unique_finding_id();
        let planned = eks_world::plan(&w.finding(&fid, &ns, "web", "deployments", &cid));
        // The units before it first, so it acts on the pod as it finds it in a whole run.
        let mut before = planned.clone();
        before.actions.retain(|a| kinds[..i].contains(&a.kind));
        if !before.actions.is_empty() {
            ex.execute(&before).await;
        }
        let mut plan = planned;
        plan.actions.retain(|a| a.kind == *kind);
        calls(&w);
        let outcomes = ex.execute(&plan).await;
        assert_eq!(outcomes.len(), 1, "{outcomes:?}");
        // Done, so the calls are those of the unit doing its work, not of an early exit.
        assert_eq!(outcomes[0].status, Status::Done, "{outcomes:?}");
        let (made, allowed) = (calls(&w), allowed(unit_rbac(*kind)));
        let undeclared: Vec<_> = made.difference(&allowed).collect();
        assert!(
            undeclared.is_empty(),
            "{}: calls {undeclared:?}, not in its unit's rules {allowed:?}",
            kind.name()
        );
    }

    // The whole plan on one more pod, then its release.
    let (ns, cid) = ("whole", eks_world::container_id());
    let pod = w.deployment_pod(ns, "web", "x2x9k", &cid);
    let fid = world::unique_finding_id();
    let plan = eks_world::plan(&w.finding(&fid, ns, "web", "deployments", &cid));
    let outcomes = ex.execute(&plan).await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o.status, Status::Done | Status::AlreadyDone)),
        "{outcomes:?}"
    );
    calls(&w);
    let pod_name = pod["metadata"]["name"].as_str().expect("pod name");
    let to_release = PodToRelease::new(REGION, &w.cluster, ns, pod_name);
    let released = ex
        .release(&to_release.request(), true)
        .await
        .expect("release");
    assert!(!released.any_failed(), "{released:?}");
    let (made, allowed) = (calls(&w), allowed(release_kubernetes_rbac()));
    let undeclared: Vec<_> = made.difference(&allowed).collect();
    assert!(
        undeclared.is_empty(),
        "release calls {undeclared:?}, not in the release rules {allowed:?}"
    );
    assert!(made.contains("delete networkpolicies"), "{made:?}");
}
