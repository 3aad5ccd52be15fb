//! Kubernetes identifiers: object names and container ids.

use super::id_type;

/// RFC 1123 names, as Kubernetes requires for namespaces and most object names.
fn k8s_name(v: &str) -> bool {
    (1..=253).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && v.as_bytes()[0].is_ascii_alphanumeric()
        && v.as_bytes()[v.len() - 1].is_ascii_alphanumeric()
}

/// 12 to 64 hex digits, after an optional runtime scheme (`containerd://`).
fn container_id(v: &str) -> bool {
    let id = v.rsplit("://").next().unwrap_or(v);
    (12..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

id_type!(
    /// A namespace, workload or pod name: RFC 1123, lowercase, at most 253.
    K8sName,
    "Kubernetes name",
    k8s_name
);
id_type!(
    /// A container id as the runtime reports it (`containerd://<hex>` or bare hex).
    ContainerId,
    "container id",
    container_id
);
