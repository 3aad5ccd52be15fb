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
}

impl AnyExecutor {
    pub fn for_surface(
        surface: Surface,
        sdk: &aws_config::SdkConfig,
        config: &responder::Config,
    ) -> AnyExecutor {
        match surface {
            Surface::Ec2 => {
                AnyExecutor::Ec2(Ec2Executor::new(sdk).with_isolation(config.isolation.clone()))
            }
            Surface::Ecs => AnyExecutor::Ecs(
                EcsExecutor::new(sdk, config.ecs.clone()).with_isolation(config.isolation.clone()),
            ),
            // The plan already applied the configured guardrails; the executor re-checks
            // the protected namespaces and, when tags are honoured, the exemption label.
            Surface::Eks => AnyExecutor::Eks(
                EksExecutor::new(sdk, &config.guardrails)
                    .with_options(config.eks.clone())
                    .with_isolation(config.isolation.clone()),
            ),
            other => AnyExecutor::Missing(other),
        }
    }
}

impl Executor for AnyExecutor {
    fn required_permissions(&self) -> &'static [&'static str] {
        match self {
            AnyExecutor::Ec2(e) => e.required_permissions(),
            AnyExecutor::Ecs(e) => e.required_permissions(),
            AnyExecutor::Eks(e) => e.required_permissions(),
            AnyExecutor::Missing(_) => &[],
        }
    }

    async fn execute(&self, plan: &ResponsePlan) -> Vec<Outcome> {
        match self {
            AnyExecutor::Ec2(e) => e.execute(plan).await,
            AnyExecutor::Ecs(e) => e.execute(plan).await,
            AnyExecutor::Eks(e) => e.execute(plan).await,
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
