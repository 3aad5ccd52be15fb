//! The shared Lambda handler: EventBridge event in → parse → plan → execute → notify,
//! one structured JSON log record per finding, and an error (so Lambda retries and
//! finally dead-letters) only when containment failed or the event is unreadable.
//! Each function's `main.rs` only names its executor and calls [`run`].

pub mod accounts;
pub mod permissions;
pub mod rate_limit;
pub mod settings;
mod snapshot;

use crate::classify::Surface;
use crate::config::Config;
use crate::execute::Executor;
use crate::notify::Notifier;
use crate::pipeline::{Handled, plan_input};
use crate::playbook::Decision;
use crate::respond::Response;
use accounts::Accounts;
use aws_config::{Region, SdkConfig};
use lambda_runtime::{LambdaEvent, service_fn};
use rate_limit::{Admission, RateLimit, Token};
use serde_json::value::RawValue;
use settings::{Mode, Settings};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Builds a surface's executor for one account's credentials.
pub trait ExecutorFactory: Send + Sync + 'static {
    type Executor: Executor;
    /// The surface this function contains; other surfaces' findings are only notified.
    fn surface(&self) -> Surface;
    fn build(&self, sdk: &SdkConfig, config: &Config) -> Self::Executor;
}

pub use lambda_runtime::Error;

/// A surface paired with a constructor is a factory: what each `main.rs` passes to [`run`].
impl<E, B> ExecutorFactory for (Surface, B)
where
    E: Executor + 'static,
    B: Fn(&SdkConfig, &Config) -> E + Send + Sync + 'static,
{
    type Executor = E;
    fn surface(&self) -> Surface {
        self.0
    }
    fn build(&self, sdk: &SdkConfig, config: &Config) -> E {
        (self.1)(sdk, config)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("unreadable event: {0}")]
    Parse(#[from] crate::finding::ParseError),
    #[error("containment failed for finding(s) {0}; the event will be retried")]
    ContainmentFailed(String),
    /// Another run holds the finding's record: retried by Lambda, acted on by one run.
    #[error(transparent)]
    InProgress(#[from] crate::idempotency::Busy),
    /// An EBS snapshot notification that is unreadable, refused or not this function's.
    #[error("snapshot event not acted on: {0}")]
    SnapshotEvent(String),
    /// Whether the snapshot is the responder's cannot be decided yet: retried.
    #[error("snapshot not copied yet, the event will be retried: {0}")]
    SnapshotNotYet(String),
    #[error("snapshot copy failed, the event will be retried: {0}")]
    SnapshotCopyFailed(String),
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match e {
            HandlerError::Parse(_) => "UnreadableEvent",
            HandlerError::ContainmentFailed(_) => "ContainmentFailed",
            HandlerError::InProgress(_) => "ContainmentInProgress",
            HandlerError::SnapshotEvent(_) => "RefusedSnapshotEvent",
            HandlerError::SnapshotNotYet(_) => "SnapshotNotYetBound",
            HandlerError::SnapshotCopyFailed(_) => "SnapshotCopyFailed",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

pub struct Handler<F: ExecutorFactory> {
    config: Config,
    settings: Settings,
    factory: F,
    notifier: Notifier,
    accounts: Accounts,
    rate: Option<RateLimit>,
    once: Option<crate::idempotency::Idempotency>,
}

impl<F: ExecutorFactory> Handler<F> {
    pub fn new(
        config: Config,
        settings: Settings,
        factory: F,
        notifier: Notifier,
        base: SdkConfig,
    ) -> Handler<F> {
        let rate = settings
            .budgets
            .any()
            .then(|| RateLimit::new(&base, settings.rate_limit_table.clone(), settings.budgets));
        let once = settings
            .idempotency
            .as_ref()
            .map(|s| crate::idempotency::Idempotency::new(&base, s));
        let accounts = Accounts::new(
            base,
            settings.cross_account_role.clone(),
            settings.cross_account_external_id.clone(),
        );
        Handler {
            config,
            settings,
            factory,
            notifier,
            accounts,
            rate,
            once,
        }
    }

    /// Cold start: configuration, settings and the webhook secret, read once.
    pub async fn from_env(factory: F) -> Result<Handler<F>, lambda_runtime::Error> {
        let env = |k: &str| std::env::var(k).ok();
        let config = Config::from_env(env)?;
        let settings = Settings::from_env(env)?;
        let region = env("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
        let base = crate::execute::aws::sdk_config(&region).await;
        let notifier = if settings.notify.is_empty() {
            Notifier::disabled()
        } else {
            Notifier::new(&base, &settings.notify).await
        };
        Ok(Handler::new(config, settings, factory, notifier, base))
    }

    /// Handles one invocation payload. `own_account` comes from the invoked function ARN.
    pub async fn handle(
        &self,
        payload: &[u8],
        own_account: Option<&str>,
    ) -> Result<Vec<Response>, HandlerError> {
        let received = SystemTime::now();
        let mut responses = Vec::new();
        for handled in plan_input(payload, &self.config)? {
            match handled {
                Handled::NotAFinding { detail_type } => {
                    tracing::info!(detail_type = %crate::sanitize::ascii_line(&detail_type, 80), "not a finding; nothing to do");
                }
                Handled::Plan(plan) => {
                    responses.push(self.respond_one(*plan, own_account, received).await?)
                }
            }
        }
        let failed: Vec<&str> = responses
            .iter()
            .filter(|r| r.containment_failed())
            .map(|r| r.plan.finding_id.as_str())
            .collect();
        if failed.is_empty() {
            Ok(responses)
        } else {
            Err(HandlerError::ContainmentFailed(
                crate::sanitize::ascii_line(&failed.join(", "), 200),
            ))
        }
    }

    async fn respond_one(
        &self,
        mut plan: crate::plan::ResponsePlan,
        own_account: Option<&str>,
        received: SystemTime,
    ) -> Result<Response, HandlerError> {
        let started = Instant::now();
        if plan.decision == Decision::Contain {
            // Terraform aims a surface's findings here only when its function is off; an
            // attack sequence's resources may span surfaces.
            plan.keep_surface(self.factory.surface());
        }
        let token = if plan.decision == Decision::Contain && self.settings.mode == Mode::Enforce {
            self.admit(&mut plan).await
        } else {
            None
        };
        let enforce = self.settings.mode == Mode::Enforce && plan.decision == Decision::Contain;
        let response = if enforce {
            let sdk = self
                .accounts
                .for_account(
                    &plan.account_id,
                    own_account,
                    &plan.partition,
                    &plan.finding_id,
                )
                .await;
            let sdk = with_region(sdk, &plan.region);
            let executor = self.factory.build(&sdk, &self.config);
            let once = crate::idempotency::respond_once(
                plan,
                &executor,
                &self.notifier,
                self.settings.repeat,
                self.once.as_ref(),
            );
            let response = match Box::pin(once).await {
                Ok(r) => r,
                Err(busy) => {
                    if let (Some(rate), Some(token)) = (&self.rate, token) {
                        rate.release(token).await;
                    }
                    tracing::warn!(finding_id = %busy.finding_id, until = busy.until, "another run is containing this finding; retry");
                    return Err(busy.into());
                }
            };
            if let (Some(rate), Some(token)) = (&self.rate, token)
                && !rate_limit::changed_something(&response.outcomes)
            {
                rate.release(token).await;
            }
            response
        } else {
            let once = crate::idempotency::notify_once(
                plan,
                &self.notifier,
                self.settings.repeat,
                self.once.as_ref(),
            );
            Box::pin(once).await
        };
        log_response(&response, self.settings.mode, started);
        let guard = response.plan.deciding_guard(&self.config.guardrails);
        crate::metrics::emit(&crate::metrics::response::records(
            &response,
            &crate::metrics::response::Context {
                function: &self.settings.function_name,
                received,
                guard: guard.map(|(g, _)| g),
                now: SystemTime::now(),
            },
        ));
        Ok(response)
    }
}

impl<F: ExecutorFactory> Handler<F> {
    /// Takes the rate budgets for a containment: `Some(token)` to contain (give it back if
    /// nothing changed), or the plan downgraded when a budget is exhausted — alerted once
    /// per scope and window. An unreachable table does not block (see [`rate_limit`]).
    async fn admit(&self, plan: &mut crate::plan::ResponsePlan) -> Option<Token> {
        let rate = self.rate.as_ref()?;
        let function = &self.settings.function_name;
        match rate.admit(&plan.account_id, SystemTime::now()).await {
            Admission::Admitted(token) => Some(token),
            Admission::Unavailable { reason, token } => {
                tracing::error!(error = %reason, "rate limiter unavailable: containing without it");
                rate_limit::emit(rate_limit::METRIC_UNAVAILABLE, function, None);
                Some(token)
            }
            Admission::Refused(trip) => {
                rate_limit::emit(rate_limit::METRIC_REFUSED, function, Some(&trip.scope));
                plan.downgrade(trip.reason());
                if trip.first {
                    let n = rate_limit::trip_notification(&trip, function);
                    let (document, attributes) = rate_limit::trip_message(&trip, function, &n.text);
                    let deliveries = self.notifier.send_other(&n, document, attributes).await;
                    tracing::warn!(scope = %trip.scope.key(), limit = trip.limit, deliveries = %serde_json::to_string(&deliveries).unwrap_or_default(), "containment rate limit tripped");
                }
                None
            }
        }
    }
}

/// Acts in the finding's own region (a valid region name only).
fn with_region(sdk: SdkConfig, region: &str) -> SdkConfig {
    let valid = (5..=32).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid && sdk.region().map(|r| r.as_ref()) != Some(region) {
        sdk.to_builder()
            .region(Region::new(region.to_owned()))
            .build()
    } else {
        sdk
    }
}

/// One record per finding. Values are JSON-encoded by the formatter; the raw finding is
/// included for investigators (CloudWatch is not a rendering channel).
fn log_response(r: &Response, mode: Mode, started: Instant) {
    let p = &r.plan;
    tracing::info!(
        finding_id = %p.finding_id,
        finding_type = %p.finding_type,
        family = %p.family,
        surface = p.surface.as_str(),
        severity = p.severity,
        decision = p.decision.as_str(),
        reason = %p.reason,
        dry_run = mode == Mode::DryRun,
        repeat = r.repeat,
        outcomes = %serde_json::to_string(&r.outcomes).unwrap_or_default(),
        deliveries = %serde_json::to_string(&r.deliveries).unwrap_or_default(),
        latency_ms = started.elapsed().as_millis() as u64,
        finding = %serde_json::to_string(&p.finding).unwrap_or_default(),
        "finding handled"
    );
}

/// The account the invoked function belongs to (from its ARN): events of any other are
/// not this function's to act on.
pub fn own_account(context: &lambda_runtime::Context) -> Option<String> {
    context
        .invoked_function_arn
        .split(':')
        .nth(4)
        .map(str::to_owned)
}

/// JSON logs for CloudWatch; level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
pub fn init_tracing() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_target(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            level.to_ascii_lowercase(),
        ))
        .try_init();
}

/// The whole `main` of a function: tracing, cold-start setup, then the runtime loop.
pub async fn run<F: ExecutorFactory>(factory: F) -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let handler = Arc::new(Handler::from_env(factory).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let handler = Arc::clone(&handler);
        async move {
            let own_account = crate::lambda::own_account(&event.context);
            handler
                .handle_invocation(event.payload.get().as_bytes(), own_account.as_deref())
                .await
                .inspect_err(|e| tracing::error!(error = %e, "invocation failed"))
        }
    }))
    .await
}
