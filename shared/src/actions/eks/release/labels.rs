//! The pod's side of release: its labels put back as recorded, the quarantine label and
//! annotations removed.

use super::*;

pub(super) async fn restore_labels(
    pods: &Api<Pod>,
    p: &PodView,
    restorable: &BTreeMap<String, String>,
    unrestorable: &BTreeMap<String, String>,
    execute: bool,
) -> ReleaseOutcome {
    let target = format!("{}/{}", p.namespace, p.name);
    let list = restorable
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut detail = if restorable.is_empty() {
        "no recorded labels to restore; removing the quarantine label".to_owned()
    } else {
        format!("restoring labels {}", neutralise(&list, 400))
    };
    if !unrestorable.is_empty() {
        detail.push_str(&format!(
            " (not restoring {} recorded entries that are not valid labels)",
            unrestorable.len()
        ));
    }
    if !execute {
        return ReleaseOutcome::new(
            ReleaseStep::RestoreLabels,
            target,
            Status::Skipped,
            format!("dry run: {detail}"),
        );
    }
    let mut current = p.clone();
    for _ in 0..3 {
        let mut labels = serde_json::Map::new();
        labels.insert(QUARANTINE_LABEL.into(), serde_json::Value::Null);
        for (k, v) in restorable {
            labels.insert(k.clone(), json!(v));
        }
        let mut annotations = serde_json::Map::new();
        for a in [
            PRIOR_LABELS_ANNOTATION,
            FINDING_ID_ANNOTATION,
            FINDING_TYPE_ANNOTATION,
            QUARANTINED_AT_ANNOTATION,
        ]
        .into_iter()
        .chain(super::super::release_do_not_disrupt(Some(
            &current.annotations,
        ))) {
            annotations.insert(a.into(), serde_json::Value::Null);
        }
        let patch = json!({
            "metadata": {
                "resourceVersion": current.resource_version,
                "labels": labels,
                "annotations": annotations,
            }
        });
        match pods
            .patch(&p.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                let done = if restorable.is_empty() {
                    "removed the quarantine label (no labels were recorded)".to_owned()
                } else {
                    format!(
                        "restored labels {} and removed the quarantine label; its controller may adopt it again and scale one pod down",
                        neutralise(&list, 400)
                    )
                };
                return ReleaseOutcome::new(ReleaseStep::RestoreLabels, target, Status::Done, done);
            }
            Err(e) if super::super::k8s::code(&e) == Some(409) => match pods.get(&p.name).await {
                Ok(fresh) => current = PodView::from_pod(&fresh),
                Err(e) => {
                    return ReleaseOutcome::new(
                        ReleaseStep::RestoreLabels,
                        target,
                        Status::Failed,
                        ApiError::new(&e, "get", "pods").to_string(),
                    );
                }
            },
            Err(e) if super::super::k8s::code(&e) == Some(404) => {
                return ReleaseOutcome::new(
                    ReleaseStep::RestoreLabels,
                    target,
                    Status::Skipped,
                    "the pod is gone",
                );
            }
            Err(e) => {
                return ReleaseOutcome::new(
                    ReleaseStep::RestoreLabels,
                    target,
                    Status::Failed,
                    ApiError::new(&e, "patch", "pods").to_string(),
                );
            }
        }
    }
    ReleaseOutcome::new(
        ReleaseStep::RestoreLabels,
        target,
        Status::Failed,
        "the pod kept changing (409 Conflict three times)",
    )
}
