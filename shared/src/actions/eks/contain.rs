//! Containing one workload: the cluster reached, its pods found (exempt ones left alone),
//! then each planned step on those pods in plan order, the policy step held to the reach
//! check, and each pod's evidence bundle alongside.

use super::pod::{self, PodView};
use super::{EksExecutor, bundle, event, node, policy, reach, revoke, step};
use crate::ids::Region;
use crate::outcome::{Outcome, Status, Step};
use crate::plan::{ActionKind, ResponsePlan};
use crate::target::Target;

impl EksExecutor {
    /// One step per kind in `kinds`, in that order, and the `evidence.write_bundle` outcome
    /// of each contained pod (none without an evidence bucket).
    pub(super) async fn contain(
        &self,
        plan: &ResponsePlan,
        region: &Region,
        target: &Target,
        kinds: &[ActionKind],
    ) -> (Vec<Step>, Vec<Outcome>) {
        let Target::Eks {
            cluster, namespace, ..
        } = target
        else {
            return (vec![], vec![]);
        };
        let everywhere = |status: Status, detail: String| -> (Vec<Step>, Vec<Outcome>) {
            let steps = kinds
                .iter()
                .map(|_| step::on(target.to_string(), status, detail.clone()))
                .collect();
            (steps, vec![])
        };
        let client = match self.clusters.client(region, &plan.partition, cluster).await {
            Ok(c) => c,
            Err(e) => return everywhere(Status::Failed, format!("cannot reach the cluster: {e}")),
        };
        let pods = match pod::resolve(&client, target).await {
            Ok(pod::Resolved::Pods(p)) => p,
            Ok(pod::Resolved::NotFound(why)) => return everywhere(Status::Skipped, why),
            Err(e) => {
                if e.unauthorized {
                    self.clusters.forget(region, cluster).await;
                }
                return everywhere(Status::Failed, format!("cannot find the pod: {e}"));
            }
        };
        let label = self.exempt_label.as_deref().unwrap_or_default();
        let (exempt, pods): (Vec<PodView>, Vec<PodView>) = pods
            .into_iter()
            .partition(|p| self.exempt_label.is_some() && p.is_exempt(label));
        if pods.is_empty() {
            let names: Vec<String> = exempt.iter().map(|p| p.name.clone()).collect();
            return everywhere(
                Status::Skipped,
                format!(
                    "pod {namespace}/{} carries {label}=true: exempt from containment, notify only",
                    names.join(", ")
                ),
            );
        }
        let ctx = Ctx {
            executor: self,
            client: &client,
            plan,
            region,
            target,
            cluster,
        };
        // The bundles alongside the steps: the pods were read above, before any change.
        let subject = crate::evidence::collect::Subject {
            finding: &plan.finding,
            account: &plan.account_id,
            finding_id: &plan.finding_id,
        };
        let bundles = futures::future::join_all(pods.iter().map(|p| async {
            let ev = self.evidence.as_deref()?;
            let s = bundle::write(&client, ev, &subject, p).await;
            Some(s.into_outcome(ActionKind::EvidenceWriteBundle, p.display(cluster)))
        }));
        let (steps, bundles) = futures::join!(self.steps(&ctx, &pods, &exempt, kinds), bundles);
        (steps, bundles.into_iter().flatten().collect())
    }

    /// The containment steps on `pods`, one per kind, in order; then the reach check of the
    /// policy step.
    async fn steps(
        &self,
        ctx: &Ctx<'_>,
        pods: &[PodView],
        exempt: &[PodView],
        kinds: &[ActionKind],
    ) -> Vec<Step> {
        let (cluster, label) = (
            ctx.cluster,
            self.exempt_label.as_deref().unwrap_or_default(),
        );
        let mut nodes = node::Nodes::default();
        let mut steps = Vec::with_capacity(kinds.len());
        for kind in kinds {
            let mut per_pod = Vec::new();
            match kind {
                ActionKind::EksCordonNode | ActionKind::EksProtectNode => {
                    for (node_name, on_it) in node::by_node(pods) {
                        let s = match kind {
                            ActionKind::EksCordonNode => {
                                node::cordon(ctx, node_name.as_deref(), &mut nodes).await
                            }
                            _ => node::protect(ctx, node_name.as_deref(), &mut nodes).await,
                        };
                        per_pod.push((on_it, s));
                    }
                }
                _ => {
                    for p in pods {
                        let s = match kind {
                            ActionKind::EksLabelPod => pod::label(ctx, p).await,
                            ActionKind::EksApplyDenyAllPolicy => policy::apply(ctx, p).await,
                            ActionKind::EksRemoveServiceLabels => pod::remove_labels(ctx, p).await,
                            ActionKind::EksRecordEvent => event::record(ctx, p).await,
                            ActionKind::EksRevokeRoleSessions => revoke::revoke(ctx, p).await,
                            _ => step::on(p.display(cluster), Status::Skipped, "not an EKS action"),
                        };
                        per_pod.push((vec![p.name.clone()], s));
                    }
                }
            }
            let mut step = step::merge(per_pod);
            if !exempt.is_empty() {
                step.detail.push_str(&format!(
                    " (left alone, exempt by {label}=true: {})",
                    exempt
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            steps.push(step);
        }
        if let Some(i) = kinds
            .iter()
            .position(|k| *k == ActionKind::EksApplyDenyAllPolicy)
            .filter(|i| matches!(steps[*i].status, Status::Done | Status::AlreadyDone))
        {
            let mut found = Vec::with_capacity(pods.len());
            for p in pods {
                found.push(reach::check(ctx, p, self.options.escalation, &mut nodes).await);
            }
            let (status, detail) = reach::verdict(steps[i].status, &steps[i].detail, &found);
            steps[i].status = status;
            steps[i].detail = detail;
        }
        steps
    }
}

/// What one step needs.
pub(crate) struct Ctx<'a> {
    pub executor: &'a EksExecutor,
    pub client: &'a kube::Client,
    pub plan: &'a ResponsePlan,
    /// The plan's region, parsed once by the fan-out.
    pub region: &'a Region,
    pub target: &'a Target,
    pub cluster: &'a str,
}
