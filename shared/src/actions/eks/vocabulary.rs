//! The labels, annotations and names the responder writes on Kubernetes objects: one
//! place, so that containment, release, the RBAC and the admission policy agree.

/// The field manager of every write, and the `app.kubernetes.io/managed-by` value.
pub const FIELD_MANAGER: &str = "guardduty-responder";
/// Pod label whose value is the pod's UID: the one thing the NetworkPolicy selects.
pub const QUARANTINE_LABEL: &str = "guardduty-responder/quarantine";
/// The default exemption label/annotation key: the default tag key, `:` written `/`.
/// Exempts (value exactly `true`) only when tag exemptions are switched on.
pub const EXEMPT: &str = "guardduty-responder/exempt";
pub const FINDING_ID_ANNOTATION: &str = "guardduty-responder/finding-id";
pub const FINDING_TYPE_ANNOTATION: &str = "guardduty-responder/finding-type";
pub const QUARANTINED_AT_ANNOTATION: &str = "guardduty-responder/quarantined-at";
/// JSON object of the labels `eks.remove_service_labels` removed, for release.
pub const PRIOR_LABELS_ANNOTATION: &str = "guardduty-responder/prior-labels";
/// On the pod and its policy: the IAM roles whose earlier sessions were revoked, comma
/// separated (role names have no comma). Release keeps it while the revocation stays.
pub const REVOKED_ROLES_ANNOTATION: &str = "guardduty-responder/revoked-roles";
/// On the policy: the quarantined pod's name and node (the pod may be gone at release).
pub const POD_ANNOTATION: &str = "guardduty-responder/pod";
pub const NODE_ANNOTATION: &str = "guardduty-responder/node";
/// Node label set while any pod on it is quarantined.
pub const UNDER_INVESTIGATION_LABEL: &str = "guardduty-responder/under-investigation";
/// Node annotation `true` when the responder (not somebody before it) cordoned the node.
pub const CORDONED_ANNOTATION: &str = "guardduty-responder/cordoned";
/// Karpenter (and EKS Auto Mode) neither consolidates nor replaces a node, nor evicts a pod,
/// carrying this annotation with the value `true`: set on the contained node and the
/// quarantined pod so the evidence is not destroyed.
pub const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";
/// `true` when the responder (not somebody before it) set [`DO_NOT_DISRUPT`]; release
/// removes that annotation only then.
pub const DO_NOT_DISRUPT_ADDED_ANNOTATION: &str = "guardduty-responder/do-not-disrupt-added";

/// Pure: the annotations that make Karpenter leave an object alone, unless `current`
/// already has them (then nothing is recorded, and release leaves them).
pub fn do_not_disrupt(
    current: Option<&std::collections::BTreeMap<String, String>>,
) -> Vec<(&'static str, &'static str)> {
    let set = current
        .and_then(|a| a.get(DO_NOT_DISRUPT))
        .is_some_and(|v| v == "true");
    match set {
        true => vec![],
        false => vec![
            (DO_NOT_DISRUPT, "true"),
            (DO_NOT_DISRUPT_ADDED_ANNOTATION, "true"),
        ],
    }
}

/// Pure: the release patch's annotations for [`do_not_disrupt`]: the marker always, the
/// Karpenter annotation only when the marker says the responder added it.
pub fn release_do_not_disrupt(
    current: Option<&std::collections::BTreeMap<String, String>>,
) -> Vec<&'static str> {
    let ours = current
        .and_then(|a| a.get(DO_NOT_DISRUPT_ADDED_ANNOTATION))
        .is_some_and(|v| v == "true");
    match ours {
        true => vec![DO_NOT_DISRUPT_ADDED_ANNOTATION, DO_NOT_DISRUPT],
        false => vec![DO_NOT_DISRUPT_ADDED_ANNOTATION],
    }
}

/// Node annotation listing the instance protections the responder turned on.
pub const PROTECTED_ANNOTATION: &str = "guardduty-responder/protected";
/// Namespaces never acted on, whatever the configuration says.
pub const ALWAYS_PROTECTED: &[&str] = &["kube-system", "amazon-guardduty"];

/// Every quarantine NetworkPolicy's name starts so (the admission policy reserves it).
pub const POLICY_NAME_PREFIX: &str = "guardduty-responder-quarantine-";

/// The NetworkPolicy isolating the pod with this UID.
pub fn policy_name(uid: &str) -> String {
    format!("{POLICY_NAME_PREFIX}{uid}")
}
