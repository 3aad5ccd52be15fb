//! The coverage Lambda function: health events in → escaped notification out; the scheduled
//! audit payload → the audit, notified only when the set of failing (unhealthy) resources
//! changed.
//!
//! "The last set" is kept without a database, with what only this function is granted
//! (`cloudwatch:PutMetricData` in namespace `GuardDutyResponder`, `GetMetricStatistics`):
//! each audit puts two metrics by `Function` — `CoverageUnhealthy` (the failing count, for
//! dashboards and alarms) and `CoverageUnhealthySet` (a 32-bit hash of the failing set,
//! exact in a metric's f64). The previous hash comes from the warm container's memory, or
//! after a cold start from the newest `CoverageUnhealthySet` datapoint of the last 24 hours.
//! When neither is known, a non-empty set is notified (at worst one repeated alert).

use super::audit::{AuditOptions, AuditReport, TagFilter, audit};
use super::event::{Change, Invocation, parse_invocation_from};
use super::render::{audit_notification, health_notification};
use super::resource::ResourceType;
use crate::finding::ParseError;
use crate::notify::{Delivery, Notifier, NotifySettings};
use crate::sanitize::ascii_line;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit, Statistic};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

pub const NAMESPACE: &str = crate::lambda::rate_limit::NAMESPACE;
pub const COUNT_METRIC: &str = "CoverageUnhealthy";
pub const SET_METRIC: &str = "CoverageUnhealthySet";

/// How far back the previous set is looked up. `GetMetricStatistics` refuses requests for
/// more than 1,440 datapoints, counted over the window with its start rounded down to the
/// minute: with one-minute periods and one minute ahead (clock skew), 24 h would ask for
/// 1,442. This asks for at most 1,440.
const SET_LOOKBACK: Duration = Duration::from_secs(24 * 3600 - 2 * 60);

#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    #[error("unreadable event: {0}")]
    Parse(#[from] ParseError),
    #[error("coverage audit failed: {0}")]
    Audit(#[from] super::audit::AuditError),
    #[error("environment variable {0}: {1}")]
    Setting(&'static str, String),
}

impl From<CoverageError> for lambda_runtime::Diagnostic {
    fn from(e: CoverageError) -> Self {
        let error_type = match e {
            CoverageError::Parse(_) => "UnreadableEvent",
            CoverageError::Audit(_) => "AuditFailed",
            CoverageError::Setting(..) => "BadSetting",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// Where the last failing set's hash is kept across cold starts.
pub struct SetMetric {
    client: aws_sdk_cloudwatch::Client,
    function: String,
}

impl SetMetric {
    pub fn new(sdk: &aws_config::SdkConfig, function: String) -> SetMetric {
        SetMetric {
            client: aws_sdk_cloudwatch::Client::new(sdk),
            function,
        }
    }

    fn dimension(&self) -> Dimension {
        Dimension::builder()
            .name("Function")
            .value(&self.function)
            .build()
    }

    /// The newest recorded hash of (nearly) the last 24 hours; `None` when none or unreadable.
    pub async fn last(&self) -> Option<u32> {
        let now = SystemTime::now();
        let out = self
            .client
            .get_metric_statistics()
            .namespace(NAMESPACE)
            .metric_name(SET_METRIC)
            .dimensions(self.dimension())
            .start_time(DateTime::from(now - SET_LOOKBACK))
            .end_time(DateTime::from(now + Duration::from_secs(60)))
            .period(60)
            .statistics(Statistic::Maximum)
            .send()
            .await
            .inspect_err(|e| {
                tracing::warn!(error = %aws_sdk_cloudwatch::error::DisplayErrorContext(e), "previous coverage set unreadable")
            })
            .ok()?;
        out.datapoints()
            .iter()
            .filter_map(|d| Some((d.timestamp()?.as_secs_f64(), d.maximum()?)))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, v)| v as u32)
    }

    pub async fn record(&self, failing: usize, hash: u32) {
        let datum = |name: &str, value: f64, unit: StandardUnit| {
            MetricDatum::builder()
                .metric_name(name)
                .dimensions(self.dimension())
                .value(value)
                .unit(unit)
                .build()
        };
        if let Err(e) = self
            .client
            .put_metric_data()
            .namespace(NAMESPACE)
            .metric_data(datum(COUNT_METRIC, failing as f64, StandardUnit::Count))
            .metric_data(datum(SET_METRIC, f64::from(hash), StandardUnit::None))
            .send()
            .await
        {
            tracing::warn!(error = %aws_sdk_cloudwatch::error::DisplayErrorContext(e), "coverage metrics not recorded");
        }
    }
}

/// Built once per cold start.
pub struct CoverageFunction {
    pub sdk: aws_config::SdkConfig,
    pub notifier: Notifier,
    pub audit: AuditOptions,
    /// `None` keeps the last set in memory only (tests, local runs).
    pub metric: Option<SetMetric>,
    /// `RESPONDER_TEST_EVENT_SOURCE`: hand-sent health events accepted besides GuardDuty's.
    pub test_event_source: Option<String>,
    /// The `Function` dimension of its EMF metrics.
    pub function_name: String,
    last: Mutex<Option<u32>>,
}

impl CoverageFunction {
    pub fn new(
        sdk: aws_config::SdkConfig,
        notifier: Notifier,
        audit: AuditOptions,
        metric: Option<SetMetric>,
    ) -> CoverageFunction {
        CoverageFunction {
            sdk,
            notifier,
            audit,
            metric,
            test_event_source: None,
            function_name: "guardduty-responder-coverage".into(),
            last: Mutex::new(None),
        }
    }

    /// Audit options from `RESPONDER_COVERAGE_DETECTOR_ID`, `RESPONDER_COVERAGE_RESOURCE_TYPE`
    /// (EKS|ECS|EC2) and `RESPONDER_COVERAGE_REQUIRE_TAG` (KEY=VALUE), all optional.
    pub fn audit_options(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<AuditOptions, CoverageError> {
        let set = |k: &str| {
            var(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let resource_type = match set("RESPONDER_COVERAGE_RESOURCE_TYPE") {
            None => None,
            Some(v) => match ResourceType::parse(&v) {
                ResourceType::Other(_) => {
                    return Err(CoverageError::Setting(
                        "RESPONDER_COVERAGE_RESOURCE_TYPE",
                        format!("{v:?} is not EKS, ECS or EC2"),
                    ));
                }
                t => Some(t),
            },
        };
        let require_tag = set("RESPONDER_COVERAGE_REQUIRE_TAG")
            .map(|v| TagFilter::parse(&v))
            .transpose()
            .map_err(|e| CoverageError::Setting("RESPONDER_COVERAGE_REQUIRE_TAG", e))?;
        Ok(AuditOptions {
            detector_id: set("RESPONDER_COVERAGE_DETECTOR_ID"),
            resource_type,
            require_tag,
            page_size: None,
        })
    }

    /// Cold start: SDK, notifier (the webhook secret read once) and audit options.
    pub async fn from_env() -> Result<CoverageFunction, CoverageError> {
        let env = |k: &str| std::env::var(k).ok();
        let region = env("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
        let sdk = crate::execute::aws::sdk_config(&region).await;
        let settings = NotifySettings::from_env(env);
        let notifier = if settings.is_empty() {
            Notifier::disabled()
        } else {
            Notifier::new(&sdk, &settings).await
        };
        let audit = Self::audit_options(env)?;
        let function = env("AWS_LAMBDA_FUNCTION_NAME")
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| "guardduty-responder-coverage".into());
        let metric = Some(SetMetric::new(&sdk, function.clone()));
        let test_event_source = crate::config::test_event_source_from_env(env)
            .map_err(|e| CoverageError::Setting("RESPONDER_TEST_EVENT_SOURCE", e.to_string()))?
            .flatten();
        Ok(CoverageFunction {
            test_event_source,
            function_name: function,
            ..CoverageFunction::new(sdk, notifier, audit, metric)
        })
    }

    /// Handles one invocation and returns a summary (also the Lambda's result).
    pub async fn handle(&self, payload: &[u8]) -> Result<Value, CoverageError> {
        match parse_invocation_from(payload, self.test_event_source.as_deref())? {
            Invocation::Health(event) => {
                let n = health_notification(&event);
                let deliveries = self
                    .notifier
                    .send_other(
                        &n,
                        health_document(&event, &n.text),
                        health_attributes(&event),
                    )
                    .await;
                let now = SystemTime::now();
                crate::metrics::emit(&[super::metrics::change_record(
                    &event,
                    &self.function_name,
                    now,
                )]);
                let r = &event.resource;
                tracing::info!(
                    change = ?event.change,
                    resource_type = %ascii_line(r.resource_type.api_name(), 16),
                    resource = %serde_json::to_string(&r).unwrap_or_default(),
                    deliveries = %serde_json::to_string(&deliveries).unwrap_or_default(),
                    "coverage change handled"
                );
                Ok(json!({"coverage_change": event.change, "deliveries": deliveries}))
            }
            Invocation::Audit => self.audit_and_notify().await,
            Invocation::Other { detail_type } => {
                tracing::info!(detail_type = %ascii_line(&detail_type, 80), "not a coverage event; nothing to do");
                Ok(json!({"ignored": ascii_line(&detail_type, 80)}))
            }
        }
    }

    async fn audit_and_notify(&self) -> Result<Value, CoverageError> {
        let report = audit(&self.sdk, &self.audit).await?;
        let hash = report.failing_set_hash();
        let remembered = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        let previous = match remembered {
            Some(h) => Some(h),
            None => match &self.metric {
                Some(m) => m.last().await,
                None => None,
            },
        };
        let changed = match previous {
            Some(p) => p != hash,
            None => report.failing > 0,
        };
        if let Some(m) = &self.metric {
            m.record(report.failing, hash).await;
        }
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(hash);
        let now = SystemTime::now();
        crate::metrics::emit(&super::metrics::audit_records(
            &report,
            &self.function_name,
            now,
        ));
        let deliveries: Vec<Delivery> = if changed {
            let n = audit_notification(&report);
            self.notifier
                .send_other(
                    &n,
                    audit_document(&report, &n.text),
                    audit_attributes(&report),
                )
                .await
        } else {
            Vec::new()
        };
        tracing::info!(
            detector_id = %ascii_line(&report.detector_id, 64),
            unhealthy = report.unhealthy.len(),
            failing = report.failing,
            changed,
            report = %serde_json::to_string(&report).unwrap_or_default(),
            deliveries = %serde_json::to_string(&deliveries).unwrap_or_default(),
            "coverage audit"
        );
        Ok(json!({
            "audit": {"detector_id": report.detector_id, "unhealthy": report.unhealthy.len(), "failing": report.failing, "changed": changed},
            "deliveries": deliveries,
        }))
    }
}

fn health_attributes(e: &super::event::HealthEvent) -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("kind", "String", "coverage".into()),
        (
            "surface",
            "String",
            e.resource.resource_type.surface().into(),
        ),
        (
            "coverage_status",
            "String",
            match e.change {
                Change::Unhealthy => "UNHEALTHY",
                Change::Healthy => "HEALTHY",
            }
            .into(),
        ),
        (
            "account_id",
            "String",
            ascii_line(e.resource.account_id.as_raw(), 128),
        ),
    ]
}

fn health_document(e: &super::event::HealthEvent, text: &str) -> Value {
    json!({"kind": "coverage", "change": e.change, "resource": e.resource, "region": e.region, "text": text})
}

fn audit_attributes(r: &AuditReport) -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("kind", "String", "coverage".into()),
        (
            "coverage_status",
            "String",
            if r.failing > 0 {
                "UNHEALTHY"
            } else {
                "HEALTHY"
            }
            .into(),
        ),
        ("unhealthy", "Number", r.failing.to_string()),
    ]
}

fn audit_document(r: &AuditReport, text: &str) -> Value {
    json!({"kind": "coverage_audit", "report": r, "text": text})
}

/// The whole `main` of the coverage function.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    use lambda_runtime::{LambdaEvent, service_fn};
    use serde_json::value::RawValue;
    use std::sync::Arc;
    crate::lambda::init_tracing();
    let function = Arc::new(CoverageFunction::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let function = Arc::clone(&function);
        async move {
            function
                .handle(event.payload.get().as_bytes())
                .await
                .inspect_err(|e| tracing::error!(error = %e, "invocation failed"))
        }
    }))
    .await
}
