//! Which role an EKS pod's credentials come from through IRSA, and whether that role
//! really trusts the pod's ServiceAccount.
//!
//! The `eks.amazonaws.com/role-arn` annotation is written by whoever may edit the
//! ServiceAccount: possibly the attacker. Pointed at another role, it would have the
//! responder deny that role's sessions (an outage of something else). So the role is only
//! revoked when its trust policy admits this ServiceAccount's token
//! (`system:serviceaccount:<namespace>:<name>` as the OIDC `sub`), which no annotation can
//! forge; the configured role patterns apply on top.

use super::policy_document;
use serde_json::Value;

/// The ServiceAccount annotation the EKS Pod Identity webhook reads (IRSA).
pub const IRSA_ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// Pure: whether the trust policy `document` (as IAM returns it, URL-encoded or not) lets
/// `system:serviceaccount:<namespace>:<service_account>` assume the role through web
/// identity: an `Allow` of `sts:AssumeRoleWithWebIdentity` whose `…:sub` condition names it
/// exactly or by an IAM wildcard pattern.
pub fn trusts_service_account(document: &str, namespace: &str, service_account: &str) -> bool {
    let Some(doc) = policy_document(document) else {
        return false;
    };
    let subject = format!("system:serviceaccount:{namespace}:{service_account}");
    as_list(&doc["Statement"])
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .filter(|s| {
            as_list(&s["Action"])
                .iter()
                .any(|a| a.as_str() == Some("sts:AssumeRoleWithWebIdentity"))
        })
        .any(|s| subjects(&s["Condition"]).any(|p| super::arn_like(&p, &subject)))
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

/// The `…:sub` values of a statement's `StringEquals` / `StringLike` conditions, as
/// patterns (`StringEquals` values are escaped so that their `*` and `?` are literal: IAM
/// compares them as they are, and so must we).
fn subjects(condition: &Value) -> impl Iterator<Item = String> + '_ {
    ["StringEquals", "StringLike"]
        .into_iter()
        .flat_map(move |op| {
            let block = condition[op].as_object().cloned().unwrap_or_default();
            block
                .into_iter()
                .filter(|(k, _)| k.ends_with(":sub"))
                .flat_map(|(_, v)| as_list(&v))
                .filter_map(|v| v.as_str().map(str::to_owned))
                // A literal value with a wildcard character cannot match a subject we built
                // from a namespace and name (Kubernetes forbids `*` and `?` in both).
                .filter(move |v| op == "StringLike" || !v.contains(['*', '?']))
                .collect::<Vec<_>>()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(op: &str, sub: &str) -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {op: {"oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": sub}}
            }]
        })
        .to_string()
    }

    #[test]
    fn the_role_must_trust_this_service_account() {
        let exact = trust("StringEquals", "system:serviceaccount:shop:checkout");
        assert!(trusts_service_account(&exact, "shop", "checkout"));
        assert!(!trusts_service_account(&exact, "shop", "checkout2"));
        assert!(!trusts_service_account(&exact, "shop2", "checkout"));
        let like = trust("StringLike", "system:serviceaccount:shop:*");
        assert!(trusts_service_account(&like, "shop", "anything"));
        assert!(!trusts_service_account(&like, "other", "checkout"));
        // A literal `*` in StringEquals is a literal.
        let literal = trust("StringEquals", "system:serviceaccount:shop:*");
        assert!(!trusts_service_account(&literal, "shop", "checkout"));
    }

    #[test]
    fn other_trusts_do_not_count() {
        // An EC2 role, a Deny, a role without a sub condition: none is this pod's.
        let ec2 = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(!trusts_service_account(ec2, "shop", "checkout"));
        let deny = trust("StringEquals", "system:serviceaccount:shop:checkout")
            .replace("\"Allow\"", "\"Deny\"");
        assert!(!trusts_service_account(&deny, "shop", "checkout"));
        assert!(!trusts_service_account("not json", "shop", "checkout"));
        assert!(!trusts_service_account("%zz", "shop", "checkout"));
    }

    #[test]
    fn url_encoded_documents_are_read() {
        let doc = trust("StringEquals", "system:serviceaccount:shop:checkout");
        let encoded: String = doc
            .bytes()
            .map(|b| match b.is_ascii_alphanumeric() {
                true => (b as char).to_string(),
                false => format!("%{b:02X}"),
            })
            .collect();
        assert!(trusts_service_account(&encoded, "shop", "checkout"));
    }
}
