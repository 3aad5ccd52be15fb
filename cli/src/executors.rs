//! Which executor carries out a plan in the CLI: every surface this build can contain.

use responder::actions::ec2::Ec2Executor;
use responder::actions::ecs::EcsExecutor;
use responder::actions::eks::EksExecutor;
use responder::classify::Surface;
use responder::execute::Executor;
use responder::outcome::{Outcome, Status};
use responder::plan::ResponsePlan;

pub enum AnyExecutor {
    Ec2(Ec2Executor),
    Ecs(EcsExecutor),
    Eks(EksExecutor),
    /// No executor for this surface in this build: every action is reported skipped.
    Missing(Surface),
    /// One per surface of a plan whose actions span surfaces (an attack sequence).
    Many(Vec<(Surface, AnyExecutor)>),
}

impl AnyExecutor {
    pub fn for_surface(
        surface: Surface,
        sdk: &aws_config::SdkConfig,
        config: &responder::Config,
    ) -> AnyExecutor {
        match surface {
            Surface::Ec2 => AnyExecutor::Ec2(Ec2Executor::from_config(sdk, config)),
            Surface::Ecs => AnyExecutor::Ecs(EcsExecutor::from_config(sdk, config)),
            Surface::Eks => AnyExecutor::Eks(EksExecutor::from_config(sdk, config)),
            other => AnyExecutor::Missing(other),
        }
    }
}

impl AnyExecutor {
    /// The executor of the plan's surface, or of each surface its actions name.
    pub fn for_plan(
        plan: &ResponsePlan,
        sdk: &aws_config::SdkConfig,
        config: &responder::Config,
    ) -> AnyExecutor {
        let mut surfaces: Vec<Surface> = Vec::new();
        for a in &plan.actions {
            let s = a.target.surface();
            if !surfaces.contains(&s) {
                surfaces.push(s);
            }
        }
        match surfaces[..] {
            [] => AnyExecutor::for_surface(plan.surface, sdk, config),
            [one] => AnyExecutor::for_surface(one, sdk, config),
            _ => AnyExecutor::Many(
                surfaces
                    .into_iter()
                    .map(|s| (s, AnyExecutor::for_surface(s, sdk, config)))
                    .collect(),
            ),
        }
    }
}

impl AnyExecutor {
    /// One surface's executor (a `Many` inside a `Many` is never built: nothing to run).
    async fn execute_one(&self, plan: &ResponsePlan) -> Vec<Outcome> {
        match self {
            AnyExecutor::Ec2(e) => e.execute(plan).await,
            AnyExecutor::Ecs(e) => e.execute(plan).await,
            AnyExecutor::Eks(e) => e.execute(plan).await,
            AnyExecutor::Many(_) => Vec::new(),
            AnyExecutor::Missing(surface) => plan
                .actions
                .iter()
                .map(|a| {
                    Outcome::new(
                        a.kind,
                        a.target.to_string(),
                        Status::Skipped,
                        format!("no {} executor in this build", surface.as_str()),
                    )
                })
                .collect(),
        }
    }
}

impl Executor for AnyExecutor {
    fn required_permissions(&self) -> &'static [&'static str] {
        match self {
            AnyExecutor::Ec2(e) => e.required_permissions(),
            AnyExecutor::Ecs(e) => e.required_permissions(),
            AnyExecutor::Eks(e) => e.required_permissions(),
            AnyExecutor::Missing(_) | AnyExecutor::Many(_) => &[],
        }
    }

    async fn execute(&self, plan: &ResponsePlan) -> Vec<Outcome> {
        let AnyExecutor::Many(all) = self else {
            return self.execute_one(plan).await;
        };
        // Each executor answers every action (others' as skipped); keep each action's
        // answer from its own surface's executor.
        let mut answers = Vec::with_capacity(all.len());
        for (surface, e) in all {
            answers.push((*surface, e.execute_one(plan).await));
        }
        plan.actions
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let own = answers.iter().find(|(s, _)| *s == a.target.surface())?;
                own.1.get(i).cloned()
            })
            .collect()
    }
}
