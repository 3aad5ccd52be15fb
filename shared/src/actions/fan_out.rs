//! The one fan-out every surface executor runs a plan through. The plan's actions on the
//! surface are grouped by the resource they act on (one containment per instance, task or
//! workload, however many actions name it). Each resource is contained once, the
//! resources concurrently, and each planned action gets one outcome, in plan order,
//! followed by the evidence bundles' (which no plan names).
//!
//! A surface brings only what differs: which resource a target is, what may refuse it
//! before any call, and its containment, which returns one [`Step`] per kind it was given.

use crate::action::ActionKind;
use crate::classify::Surface;
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

/// One resource and the kinds planned on it, in plan order, each once.
pub(crate) struct Resource<'p, R> {
    pub id: &'p str,
    pub detail: R,
    pub kinds: Vec<ActionKind>,
}

impl<'p> FanOut<'p> {
    /// Runs `contain` once per resource (concurrently), after `refuse` (a check of the
    /// target alone, first) and the region check, which fail or skip all of a resource's
    /// actions without a call.
    pub async fn run<R, Fut>(
        &self,
        resource: impl Fn(&'p Target) -> Option<(&'p str, R)>,
        refuse: impl Fn(&'p Target) -> Option<Step>,
        contain: impl Fn(Resource<'p, R>) -> Fut,
    ) -> Vec<Outcome>
    where
        Fut: Future<Output = HashMap<ActionKind, Step>>,
    {
        let mut resources: Vec<(Resource<'p, R>, Option<Step>)> = Vec::new();
        for a in self.ours() {
            let Some((id, detail)) = resource(&a.target) else {
                continue;
            };
            match resources.iter_mut().find(|(r, _)| r.id == id) {
                Some((r, _)) if !r.kinds.contains(&a.kind) => r.kinds.push(a.kind),
                Some(_) => {}
                None => {
                    let refusal = refuse(&a.target).or_else(|| self.region_refusal());
                    let r = Resource {
                        id,
                        detail,
                        kinds: vec![a.kind],
                    };
                    resources.push((r, refusal));
                }
            }
        }
        let runs = resources.into_iter().map(|(r, refusal)| async {
            let id = r.id;
            let steps = match refusal {
                Some(step) => r.kinds.iter().map(|k| (*k, step.clone())).collect(),
                None => contain(r).await,
            };
            (id, steps)
        });
        let results: HashMap<&str, HashMap<ActionKind, Step>> =
            futures::future::join_all(runs).await.into_iter().collect();
        let mut outcomes: Vec<Outcome> = self
            .plan
            .actions
            .iter()
            .map(|a| {
                let step = (a.kind.surface() == self.surface)
                    .then(|| resource(&a.target))
                    .flatten()
                    .and_then(|(id, _)| results.get(id)?.get(&a.kind).cloned())
                    .unwrap_or_else(|| Step::skipped(self.not_ours));
                step.into_outcome(a.kind, a.target.to_string())
            })
            .collect();
        outcomes.extend(crate::evidence::collect::bundle_outcomes(&results));
        outcomes
    }

    fn ours(&self) -> impl Iterator<Item = &'p crate::plan::Action> + use<'p, '_> {
        let surface = self.surface;
        self.plan
            .actions
            .iter()
            .filter(move |a| a.kind.surface() == surface)
    }

    fn region_refusal(&self) -> Option<Step> {
        (!crate::validate::is_region(&self.plan.region)).then(|| {
            Step::failed(format!(
                "region {:?} is not a valid AWS region",
                crate::sanitize::ascii_line(&self.plan.region, 40)
            ))
        })
    }
}
