//! The node's side of release: uncordon and unprotect it (and its instance) once no other
//! quarantined pod remains there.

use super::*;

pub(super) async fn release_node(
    ex: &EksExecutor,
    client: &kube::Client,
    req: &Request<'_>,
    node: &str,
    execute: bool,
) -> (ReleaseOutcome, ReleaseOutcome) {
    let target = format!("{}/node/{node}", req.cluster);
    let both = |status: Status, detail: String| {
        (
            ReleaseOutcome::new(ReleaseStep::UncordonNode, &target, status, detail.clone()),
            ReleaseOutcome::new(ReleaseStep::UnprotectNode, &target, status, detail),
        )
    };
    // Other quarantined pods on the node keep it cordoned and protected.
    let all: Api<Pod> = Api::all(client.clone());
    let others = match all
        .list(
            &ListParams::default()
                .labels(QUARANTINE_LABEL)
                .fields(&format!("spec.nodeName={node}")),
        )
        .await
    {
        Ok(l) => l
            .items
            .iter()
            .map(PodView::from_pod)
            .filter(|p| !(*req.namespace == *p.namespace && *req.pod == *p.name))
            .map(|p| format!("{}/{}", p.namespace, p.name))
            .collect::<Vec<_>>(),
        Err(e) => {
            return both(
                Status::Failed,
                ApiError::new(&e, "list", "pods").to_string(),
            );
        }
    };
    if !others.is_empty() {
        return both(
            Status::Skipped,
            format!(
                "left as is: {} other quarantined pod(s) remain on it ({})",
                others.len(),
                others.join(", ")
            ),
        );
    }
    let nodes: Api<Node> = Api::all(client.clone());
    let current = match nodes.get_opt(node).await {
        Ok(Some(n)) => n,
        Ok(None) => return both(Status::Skipped, format!("node {node} is gone")),
        Err(e) => {
            return both(
                Status::Failed,
                ApiError::new(&e, "get", "nodes").to_string(),
            );
        }
    };
    let annotations = current.metadata.annotations.clone().unwrap_or_default();
    let labels = current.metadata.labels.clone().unwrap_or_default();
    let we_cordoned = annotations.get(CORDONED_ANNOTATION).map(String::as_str) == Some("true");
    let ours = labels.contains_key(UNDER_INVESTIGATION_LABEL)
        || annotations.contains_key(CORDONED_ANNOTATION)
        || annotations.contains_key(FINDING_ID_ANNOTATION);

    // Uncordon (only if the responder cordoned it) and drop the label and annotations.
    let uncordon = if !ours {
        ReleaseOutcome::new(
            ReleaseStep::UncordonNode,
            &target,
            Status::AlreadyDone,
            "the node carries no quarantine label",
        )
    } else {
        let detail = if we_cordoned {
            format!("uncordon node {node} and remove {UNDER_INVESTIGATION_LABEL}")
        } else {
            format!(
                "remove {UNDER_INVESTIGATION_LABEL}; leave node {node} cordoned (the responder did not cordon it)"
            )
        };
        if !execute {
            ReleaseOutcome::new(
                ReleaseStep::UncordonNode,
                &target,
                Status::Skipped,
                format!("dry run: would {detail}"),
            )
        } else {
            let mut patch = json!({
                "metadata": {
                    "labels": { UNDER_INVESTIGATION_LABEL: null },
                    "annotations": { CORDONED_ANNOTATION: null, FINDING_ID_ANNOTATION: null },
                }
            });
            for a in super::super::release_do_not_disrupt(Some(&annotations)) {
                patch["metadata"]["annotations"][a] = serde_json::Value::Null;
            }
            if we_cordoned {
                patch["spec"] = json!({ "unschedulable": null });
            }
            match nodes
                .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => ReleaseOutcome::new(
                    ReleaseStep::UncordonNode,
                    &target,
                    Status::Done,
                    format!("done: {detail}"),
                ),
                Err(e) => ReleaseOutcome::new(
                    ReleaseStep::UncordonNode,
                    &target,
                    Status::Failed,
                    ApiError::new(&e, "patch", "nodes").to_string(),
                ),
            }
        }
    };

    // Turn off the protections the responder turned on.
    let protected: Vec<String> = annotations
        .get(PROTECTED_ANNOTATION)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let instance = current
        .spec
        .as_ref()
        .and_then(|s| s.provider_id.as_deref())
        .and_then(instance_from_provider_id);
    let unprotect = match (protected.is_empty(), instance) {
        (true, _) => ReleaseOutcome::new(
            ReleaseStep::UnprotectNode,
            &target,
            Status::AlreadyDone,
            "the responder turned on no instance protection here",
        ),
        (false, None) => ReleaseOutcome::new(
            ReleaseStep::UnprotectNode,
            &target,
            Status::Failed,
            format!(
                "node {node} names no EC2 instance; turn off {} by hand",
                protected.join(", ")
            ),
        ),
        (false, Some(i)) if !execute => ReleaseOutcome::new(
            ReleaseStep::UnprotectNode,
            &i,
            Status::Skipped,
            format!(
                "dry run: would turn off {} protection on {i}",
                protected.join(" and ")
            ),
        ),
        (false, Some(i)) => unprotect_instance(ex, &nodes, req.region, node, &i, &protected).await,
    };
    (uncordon, unprotect)
}

pub(super) async fn unprotect_instance(
    ex: &EksExecutor,
    nodes: &Api<Node>,
    region: &Region,
    node: &str,
    instance: &str,
    protected: &[String],
) -> ReleaseOutcome {
    let region = aws_config::Region::new(region.to_string());
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(&ex.config)
            .region(region.clone())
            .build(),
    );
    let asg = aws_sdk_autoscaling::Client::from_conf(
        aws_sdk_autoscaling::config::Builder::from(&ex.config)
            .region(region)
            .build(),
    );
    let mut done = Vec::new();
    let mut failed = Vec::new();
    if protected.iter().any(|p| p == "termination") {
        match ec2
            .modify_instance_attribute()
            .instance_id(instance)
            .disable_api_termination(AttributeBooleanValue::builder().value(false).build())
            .send()
            .await
        {
            Ok(_) => done.push("termination protection off".to_owned()),
            Err(e) => failed.push(format!(
                "ec2:ModifyInstanceAttribute: {}",
                neutralise(
                    &aws_sdk_ec2::error::DisplayErrorContext(&e).to_string(),
                    300
                )
            )),
        }
    }
    if protected.iter().any(|p| p == "scale-in") {
        let group = asg
            .describe_auto_scaling_instances()
            .instance_ids(instance)
            .send()
            .await
            .map(|o| {
                o.auto_scaling_instances()
                    .first()
                    .and_then(|i| i.auto_scaling_group_name().map(str::to_owned))
            });
        match group {
            Ok(None) => done.push("no longer in an Auto Scaling group".to_owned()),
            Ok(Some(g)) => match asg
                .set_instance_protection()
                .auto_scaling_group_name(&g)
                .instance_ids(instance)
                .protected_from_scale_in(false)
                .send()
                .await
            {
                Ok(_) => done.push(format!("scale-in protection in {g} off")),
                Err(e) => failed.push(format!(
                    "autoscaling:SetInstanceProtection: {}",
                    neutralise(
                        &aws_sdk_autoscaling::error::DisplayErrorContext(&e).to_string(),
                        300
                    )
                )),
            },
            Err(e) => failed.push(format!(
                "autoscaling:DescribeAutoScalingInstances: {}",
                neutralise(
                    &aws_sdk_autoscaling::error::DisplayErrorContext(&e).to_string(),
                    300
                )
            )),
        }
    }
    if !failed.is_empty() {
        // The annotation stays, so release can be re-run.
        return ReleaseOutcome::new(
            ReleaseStep::UnprotectNode,
            instance,
            Status::Failed,
            format!("{}; FAILED: {}", done.join(", "), failed.join("; ")),
        );
    }
    let patch = json!({ "metadata": { "annotations": { PROTECTED_ANNOTATION: null } } });
    if let Err(e) = nodes
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        return ReleaseOutcome::new(
            ReleaseStep::UnprotectNode,
            instance,
            Status::Failed,
            format!(
                "{}; but removing {PROTECTED_ANNOTATION}: {}",
                done.join(", "),
                ApiError::new(&e, "patch", "nodes")
            ),
        );
    }
    ReleaseOutcome::new(
        ReleaseStep::UnprotectNode,
        instance,
        Status::Done,
        done.join(", "),
    )
}
