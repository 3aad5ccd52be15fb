//! Which NetworkPolicies still let traffic reach a quarantined pod. Pure: the executor
//! lists the namespace's policies and the pod's labels after quarantine, this decides.
//!
//! NetworkPolicies add up: the deny-all only isolates the pod when no other policy both
//! selects it and allows something. Stripping the pod's labels is not enough, because a
//! `podSelector: {}` selects every pod, and `NotIn` / `DoesNotExist` expressions select
//! pods that *lack* a label.

use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// Whether `selector` selects a pod with `labels`, as the API server evaluates it:
/// every `matchLabels` pair and every expression must hold; an empty selector selects
/// everything. An unknown operator, or `In`/`NotIn` without values, is invalid: the API
/// server would have rejected it, so it is treated as selecting (the cautious answer).
pub fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let pairs = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions = selector.match_expressions.iter().flatten().all(|e| {
        let value = labels.get(&e.key);
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" if !values.is_empty() => value.is_some_and(|v| values.contains(v)),
            "NotIn" if !values.is_empty() => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => true,
        }
    });
    pairs && expressions
}

/// A policy that selects the quarantined pod and allows some traffic to or from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    pub policy: String,
    /// `ingress`, `egress` or both: the directions in which it allows something.
    pub directions: Vec<&'static str>,
    /// Why it selects the pod, for the outcome (`podSelector {}`, the expressions).
    pub why: String,
}

/// The directions in which `p` allows traffic to the pods it selects. A direction counts
/// when the policy applies to it (`policyTypes`, or the API server's default: Ingress
/// always, Egress when egress rules exist) and it has at least one rule: every rule
/// allows something (an empty rule `{}` allows everything), and a policy type without
/// rules only denies, like the responder's own.
pub fn allowed_directions(p: &NetworkPolicy) -> Vec<&'static str> {
    let Some(spec) = &p.spec else { return vec![] };
    let ingress = spec.ingress.as_deref().unwrap_or_default();
    let egress = spec.egress.as_deref().unwrap_or_default();
    let types: Vec<&str> = match &spec.policy_types {
        Some(t) if !t.is_empty() => t.iter().map(String::as_str).collect(),
        _ if !egress.is_empty() => vec!["Ingress", "Egress"],
        _ => vec!["Ingress"],
    };
    let mut out = Vec::new();
    if types.contains(&"Ingress") && !ingress.is_empty() {
        out.push("ingress");
    }
    if types.contains(&"Egress") && !egress.is_empty() {
        out.push("egress");
    }
    out
}

/// Every policy in `policies` (other than `own`, the responder's deny-all) that selects a
/// pod labelled `labels` and allows traffic in some direction.
pub fn leaks(
    policies: &[NetworkPolicy],
    own: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<Leak> {
    policies
        .iter()
        .filter(|p| p.metadata.name.as_deref() != Some(own))
        .filter_map(|p| {
            let selector = p.spec.as_ref()?.pod_selector.clone().unwrap_or_default();
            if !selects(&selector, labels) {
                return None;
            }
            let directions = allowed_directions(p);
            if directions.is_empty() {
                return None;
            }
            Some(Leak {
                policy: p.metadata.name.clone().unwrap_or_default(),
                directions,
                why: describe(&selector),
            })
        })
        .collect()
}

/// The selector in kubectl's words, e.g. `{}` or `app notin (web), !tier`.
pub fn describe(s: &LabelSelector) -> String {
    let mut parts: Vec<String> = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in s.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            other => format!("{} {other} ({values})", e.key),
        });
    }
    if parts.is_empty() {
        "podSelector {}".into()
    } else {
        format!("podSelector {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn sel(v: Value) -> LabelSelector {
        serde_json::from_value(v).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn policy(name: &str, spec: Value) -> NetworkPolicy {
        serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
    }

    #[test]
    fn selectors_follow_the_api_server() {
        let q = labels(&[("guardduty-responder/quarantine", "u1")]);
        let web = labels(&[("app", "web"), ("tier", "fe")]);
        assert!(selects(&sel(json!({})), &q), "{{}} selects every pod");
        assert!(selects(&sel(json!({"matchLabels": {"app": "web"}})), &web));
        assert!(!selects(&sel(json!({"matchLabels": {"app": "web"}})), &q));
        let notin = sel(json!({"matchExpressions": [
            {"key": "app", "operator": "NotIn", "values": ["db"]}]}));
        assert!(selects(&notin, &q), "NotIn selects pods without the key");
        assert!(selects(&notin, &web));
        assert!(!selects(&notin, &labels(&[("app", "db")])));
        let missing = sel(json!({"matchExpressions": [
            {"key": "tier", "operator": "DoesNotExist"}]}));
        assert!(selects(&missing, &q) && !selects(&missing, &web));
        let exists = sel(json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}));
        assert!(!selects(&exists, &q) && selects(&exists, &web));
        let is_in = sel(json!({"matchExpressions": [
            {"key": "app", "operator": "In", "values": ["web", "api"]}]}));
        assert!(selects(&is_in, &web) && !selects(&is_in, &q));
        let both = sel(json!({"matchLabels": {"app": "web"}, "matchExpressions": [
            {"key": "tier", "operator": "NotIn", "values": ["fe"]}]}));
        assert!(!selects(&both, &web), "all requirements must hold");
    }

    #[test]
    fn a_direction_counts_only_with_a_rule_and_its_policy_type() {
        let allow_all = policy(
            "allow",
            json!({"podSelector": {}, "ingress": [{}], "egress": [{}], "policyTypes": ["Ingress", "Egress"]}),
        );
        assert_eq!(allowed_directions(&allow_all), ["ingress", "egress"]);
        // No policyTypes: Ingress always, Egress because egress rules exist.
        let defaulted = policy("d", json!({"podSelector": {}, "egress": [{}]}));
        assert_eq!(allowed_directions(&defaulted), ["egress"]);
        // Egress rules ignored when the types name only Ingress.
        let ingress_only = policy(
            "i",
            json!({"podSelector": {}, "egress": [{}], "policyTypes": ["Ingress"]}),
        );
        assert!(allowed_directions(&ingress_only).is_empty());
        let deny = policy(
            "deny",
            json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        );
        assert!(allowed_directions(&deny).is_empty());
    }

    #[test]
    fn leaks_are_the_selecting_allowing_policies_but_our_own() {
        let q = labels(&[("guardduty-responder/quarantine", "u1")]);
        let policies = vec![
            policy("own", json!({"podSelector": {}, "ingress": [{}]})),
            policy("all", json!({"podSelector": {}, "ingress": [{}]})),
            policy(
                "notin",
                json!({"podSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]}, "egress": [{}], "policyTypes": ["Egress"]}),
            ),
            policy(
                "web",
                json!({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{}]}),
            ),
            policy(
                "deny",
                json!({"podSelector": {}, "policyTypes": ["Ingress"]}),
            ),
        ];
        let found = leaks(&policies, "own", &q);
        let names: Vec<&str> = found.iter().map(|l| l.policy.as_str()).collect();
        assert_eq!(names, ["all", "notin"]);
        assert_eq!(found[0].why, "podSelector {}");
        assert_eq!(found[1].why, "podSelector app notin (db)");
        assert_eq!(found[1].directions, ["egress"]);
    }
}
