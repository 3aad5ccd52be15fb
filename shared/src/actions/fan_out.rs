//! The one fan-out every surface executor runs a plan through. The plan's actions on the
//! surface are grouped by the resource they act on (one containment per instance, task or
//! workload, however many actions name it). Each resource is contained once, the
//! resources concurrently, and each planned action gets one outcome, in plan order,
//! followed by the evidence bundles' (which no plan names).
//!
//! A surface brings only what differs: which resource a target is (keyed by its typed
//! identifier from [`crate::ids`]), what may refuse it before any call, and its
//! containment, which returns one [`Step`] per kind it was given. The plan's region is
//! parsed here once: a containment is handed a [`Region`], never the plan's string.

use crate::action::ActionKind;
use crate::classify::Surface;
use crate::ids::Region;
use crate::outcome::{Outcome, Step};
use crate::plan::ResponsePlan;
use crate::target::Target;
use std::collections::HashMap;
use std::future::Future;

/// What a surface's executor brings to the fan-out.
pub(crate) struct FanOut<'p> {
    pub plan: &'p ResponsePlan,
    pub surface: Surface,
    /// The detail of an action the surface does not carry out (another surface's kind, or a
    /// target of another shape).
    pub not_ours: &'static str,
}

/// One resource (`id`: its identifier, which tells two resources apart) and the kinds
/// planned on it, in plan order, each once; the region the plan runs in.
pub(crate) struct Resource<K, R> {
    pub id: K,
    pub detail: R,
    pub kinds: Vec<ActionKind>,
    pub region: Region,
}

/// What containing one resource gave: a step per kind it was given, and the outcomes no
/// plan names (its evidence bundles).
pub(crate) struct Contained {
    pub steps: HashMap<ActionKind, Step>,
    pub bundles: Vec<Outcome>,
}

impl Contained {
    /// Steps of a resource that reports its one bundle among them (EC2, ECS).
    pub fn with_bundle_step(id: &str, mut steps: HashMap<ActionKind, Step>) -> Contained {
        let bundles = steps
            .remove(&ActionKind::EvidenceWriteBundle)
            .map(|s| s.into_outcome(ActionKind::EvidenceWriteBundle, id))
            .into_iter()
            .collect();
        Contained { steps, bundles }
    }
}

impl<'p> FanOut<'p> {
    /// Runs `contain` once per resource (concurrently), after `refuse` (a check of the
    /// target alone, first) and the region check, which fail or skip all of a resource's
    /// actions without a call.
    pub async fn run<K, R, Fut>(
        &self,
        resource: impl Fn(&'p Target) -> Option<(K, R)>,
        refuse: impl Fn(&'p Target) -> Option<Step>,
        contain: impl Fn(Resource<K, R>) -> Fut,
    ) -> Vec<Outcome>
    where
        K: PartialEq,
        Fut: Future<Output = Contained>,
    {
        // Each resource, its detail and kinds, and the region it runs in or its refusal;
        // for each planned action, the index of its resource (`None`: not this surface's).
        // A target is read once, here: the outcomes below follow these indices.
        type Pending<K, R> = (K, R, Vec<ActionKind>, Result<Region, Step>);
        let mut resources: Vec<Pending<K, R>> = Vec::new();
        let mut of_action: Vec<Option<usize>> = Vec::with_capacity(self.plan.actions.len());
        for a in &self.plan.actions {
            let Some((id, detail)) = (a.kind.surface() == self.surface)
                .then(|| resource(&a.target))
                .flatten()
            else {
                of_action.push(None);
                continue;
            };
            let at = match resources.iter().position(|(r, ..)| *r == id) {
                Some(at) => {
                    let kinds = &mut resources[at].2;
                    if !kinds.contains(&a.kind) {
                        kinds.push(a.kind);
                    }
                    at
                }
                None => {
                    let ready = match refuse(&a.target) {
                        Some(step) => Err(step),
                        None => self.region(),
                    };
                    resources.push((id, detail, vec![a.kind], ready));
                    resources.len() - 1
                }
            };
            of_action.push(Some(at));
        }
        let runs = resources
            .into_iter()
            .map(|(id, detail, kinds, ready)| async {
                match ready {
                    Err(step) => Contained {
                        steps: kinds.iter().map(|k| (*k, step.clone())).collect(),
                        bundles: vec![],
                    },
                    Ok(region) => {
                        let r = Resource {
                            id,
                            detail,
                            kinds,
                            region,
                        };
                        contain(r).await
                    }
                }
            });
        // In the order of `resources`: `join_all` keeps it.
        let results: Vec<Contained> = futures::future::join_all(runs).await;
        let mut outcomes: Vec<Outcome> = self
            .plan
            .actions
            .iter()
            .zip(&of_action)
            .map(|(a, at)| {
                let step = at
                    .and_then(|at| results[at].steps.get(&a.kind).cloned())
                    .unwrap_or_else(|| Step::skipped(self.not_ours));
                step.into_outcome(a.kind, a.target.to_string())
            })
            .collect();
        let mut bundles: Vec<Outcome> = results.into_iter().flat_map(|c| c.bundles).collect();
        bundles.sort_by(|a, b| a.target.cmp(&b.target));
        outcomes.extend(bundles);
        outcomes
    }

    /// The plan's region, or the failure of every action of a resource when it is not one.
    fn region(&self) -> Result<Region, Step> {
        Region::parse(&self.plan.region).map_err(|_| {
            Step::failed(format!(
                "region {:?} is not a valid AWS region",
                crate::sanitize::ascii_line(&self.plan.region, 40)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::InstanceId;
    use crate::outcome::Status;
    use crate::render::test_support::{event, plan_of};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn instance(id: &str) -> Arc<Target> {
        Arc::new(Target::Ec2 {
            instance_id: id.parse().unwrap(),
            vpc_id: None,
            network_interface_ids: vec![],
        })
    }

    fn plan(region: &str, actions: Vec<(ActionKind, Arc<Target>)>) -> ResponsePlan {
        let mut p = plan_of(&event("ec2-persistence-suspicious-command.json"));
        p.region = region.into();
        p.actions = actions
            .into_iter()
            .map(|(kind, target)| crate::plan::Action { kind, target })
            .collect();
        p
    }

    fn id_of(t: &Target) -> Option<(&InstanceId, ())> {
        match t {
            Target::Ec2 { instance_id, .. } => Some((instance_id, ())),
            _ => None,
        }
    }

    fn fan_out(plan: &ResponsePlan) -> FanOut<'_> {
        FanOut {
            plan,
            surface: Surface::Ec2,
            not_ours: "not ours",
        }
    }

    /// Each resource is contained once with its kinds in plan order; every planned action
    /// gets its own resource's step, in plan order; another surface's kind is skipped; a
    /// bundle step becomes one more outcome; a step may name what it acted on.
    #[tokio::test]
    async fn one_containment_per_resource_and_one_outcome_per_action() {
        let (a, b) = (
            instance("i-0aaaaaaaaaaaaaaaa"),
            instance("i-0bbbbbbbbbbbbbbbb"),
        );
        let p = plan(
            "eu-west-1",
            vec![
                (ActionKind::Ec2IsolateNetwork, a.clone()),
                (ActionKind::Ec2IsolateNetwork, b.clone()),
                (ActionKind::EcsStopTask, a.clone()),
                (ActionKind::Ec2TagInstance, a.clone()),
            ],
        );
        let calls = AtomicUsize::new(0);
        let out = fan_out(&p)
            .run(
                id_of,
                |_| None,
                |r| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let mut steps: HashMap<ActionKind, Step> = r
                            .kinds
                            .iter()
                            .map(|k| (*k, Step::done(format!("{} on {}", k.name(), r.id))))
                            .collect();
                        assert_eq!(r.region, "eu-west-1");
                        if r.id.ends_with('a') {
                            steps.insert(
                                ActionKind::Ec2TagInstance,
                                Step::done("tagged").on("elsewhere"),
                            );
                            steps.insert(ActionKind::EvidenceWriteBundle, Step::done("bundle"));
                        }
                        Contained::with_bundle_step(r.id, steps)
                    }
                },
            )
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let seen: Vec<(ActionKind, &str, Status, &str)> = out
            .iter()
            .map(|o| (o.kind, o.target.as_str(), o.status, o.detail.as_str()))
            .collect();
        let (on_a, on_b) = (
            format!("{} on {}", ActionKind::Ec2IsolateNetwork.name(), a.name()),
            format!("{} on {}", ActionKind::Ec2IsolateNetwork.name(), b.name()),
        );
        let (a, b) = (a.name(), b.name());
        use ActionKind::*;
        use Status::*;
        assert_eq!(
            seen,
            vec![
                (Ec2IsolateNetwork, &*a, Done, on_a.as_str()),
                (Ec2IsolateNetwork, &*b, Done, on_b.as_str()),
                (EcsStopTask, &*a, Skipped, "not ours"),
                (Ec2TagInstance, "elsewhere", Done, "tagged"),
                (EvidenceWriteBundle, &*a, Done, "bundle"),
            ]
        );
    }

    /// Each of the surface's actions has its target read once (another surface's, never):
    /// the outcomes follow the grouping instead of reading every target again.
    #[tokio::test]
    async fn each_target_is_read_once() {
        let a = instance("i-0aaaaaaaaaaaaaaaa");
        let p = plan(
            "eu-west-1",
            vec![
                (ActionKind::Ec2IsolateNetwork, a.clone()),
                (ActionKind::EcsStopTask, a.clone()),
                (ActionKind::Ec2TagInstance, a.clone()),
            ],
        );
        let reads = AtomicUsize::new(0);
        let out = fan_out(&p)
            .run(
                |t| {
                    reads.fetch_add(1, Ordering::SeqCst);
                    id_of(t)
                },
                |_| None,
                |r| async move {
                    let steps = r.kinds.iter().map(|k| (*k, Step::done("ok"))).collect();
                    Contained::with_bundle_step(r.id, steps)
                },
            )
            .await;
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        let statuses: Vec<Status> = out.iter().map(|o| o.status).collect();
        assert_eq!(statuses, [Status::Done, Status::Skipped, Status::Done]);
    }

    /// A hostile region or a refusal of the target fails or skips every action of the
    /// resource without a single call.
    #[tokio::test]
    async fn a_bad_region_or_a_refused_target_makes_no_call() {
        let a = instance("i-0aaaaaaaaaaaaaaaa");
        let two = vec![
            (ActionKind::Ec2IsolateNetwork, a.clone()),
            (ActionKind::Ec2TagInstance, a.clone()),
        ];
        let calls = AtomicUsize::new(0);
        let contain = |_r: Resource<&InstanceId, ()>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Contained::with_bundle_step("unused", HashMap::new()) }
        };
        let bad = plan("us-east-1\"><script>", two.clone());
        let out = fan_out(&bad).run(id_of, |_| None, contain).await;
        assert!(
            out.iter()
                .all(|o| o.status == Status::Failed
                    && o.detail.contains("is not a valid AWS region"))
        );
        assert_eq!(out.len(), 2);
        let good = plan("eu-west-1", two);
        let out = fan_out(&good)
            .run(id_of, |_| Some(Step::skipped("protected")), contain)
            .await;
        assert!(
            out.iter()
                .all(|o| o.status == Status::Skipped && o.detail == "protected")
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }
}
