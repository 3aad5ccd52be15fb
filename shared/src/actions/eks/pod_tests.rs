//! Unit tests of `pod.rs`.

use super::super::EXEMPT;
use super::*;

fn owners(k: &str, n: &str) -> Vec<(String, String)> {
    vec![(k.into(), n.into())]
}

#[test]
fn owner_matching_follows_generated_names() {
    assert!(owned_by(
        &owners("ReplicaSet", "web-7d4b9c8f5"),
        "deployments",
        "web"
    ));
    assert!(!owned_by(
        &owners("ReplicaSet", "web-api-7d4b9c8f5"),
        "deployments",
        "web"
    ));
    assert!(owned_by(&owners("StatefulSet", "db"), "statefulsets", "db"));
    assert!(!owned_by(&owners("ReplicaSet", "db"), "statefulsets", "db"));
    assert!(owned_by(
        &owners("Job", "backup-28391234"),
        "cronjobs",
        "backup"
    ));
    assert!(!owned_by(
        &owners("Job", "backup-manual"),
        "cronjobs",
        "backup"
    ));
    assert!(owned_by(
        &owners("DaemonSet", "agent"),
        "DaemonSet",
        "agent"
    ));
}

#[test]
fn container_ids_match_with_or_without_scheme_and_by_prefix() {
    let p = PodView {
        name: "p".into(),
        namespace: "n".into(),
        uid: "u".into(),
        labels: BTreeMap::new(),
        annotations: BTreeMap::from([(EXEMPT.into(), "False".into())]),
        node_name: None,
        service_account: None,
        resource_version: None,
        container_ids: vec!["0123456789abcdef0123456789abcdef".into()],
        owners: vec![],
        containers: vec![],
        described: serde_json::Value::Null,
    };
    let id = |v: &str| crate::ids::ContainerId::parse(v).unwrap();
    assert!(p.runs_container(&[id("containerd://0123456789ABCDEF0123456789abcdef")]));
    assert!(p.runs_container(&[id("0123456789ab")]));
    assert!(!p.runs_container(&[id("0123456789ac")]));
    // A prefix too short to name one container is not a container id at all.
    assert!(crate::ids::ContainerId::parse("0123456789").is_err());
    assert!(!p.is_exempt(EXEMPT));
    let mut q = p.clone();
    for value in ["yes", "1", "", "disabled", "TRUE", " true", "true "] {
        q.labels.insert(EXEMPT.into(), value.into());
        assert!(!q.is_exempt(EXEMPT), "{value:?}");
    }
    q.labels.insert(EXEMPT.into(), "true".into());
    assert!(q.is_exempt(EXEMPT));
    assert!(!q.is_exempt("security/exempt"));
}
