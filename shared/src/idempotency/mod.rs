//! One containment per finding and resource, however often it arrives. EventBridge
//! delivers at least once, Lambda retries, GuardDuty republishes: executors are idempotent
//! one run after another, not when runs overlap (ten overlapping runs took ten snapshots).
//!
//! The record follows the AWS Lambda Powertools idempotency utility: one DynamoDB item per
//! finding and resource (partition key `id`), put `IN_PROGRESS` with a conditional write
//! and an expiry longer than the function's timeout; `COMPLETED` with the outcome summary
//! when the run ends; deleted when the run failed (so that a retry acts); removed by the
//! table's TTL (`expires_at`) later. A run that finds a fresh `IN_PROGRESS` record does not
//! act and asks to be retried; one that finds an expired one takes over (the first run
//! crashed); one that finds `COMPLETED` reports `already_done`.
//!
//! Without a table (`RESPONDER_IDEMPOTENCY_TABLE` unset) nothing is recorded and
//! overlapping deliveries may each act, as before. A table that cannot be asked does not
//! block containment either: the run acts, and says so in the log.

use crate::execute::Executor;
use crate::outcome::{Outcome, Status};
use crate::plan::ResponsePlan;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod notify;
pub use notify::{Seen, notify_once};

const ID: &str = "id";
const STATUS: &str = "status";
const EXPIRY: &str = "in_progress_expiry";
const TTL: &str = "expires_at";
const SUMMARY: &str = "summary";
const IN_PROGRESS: &str = "IN_PROGRESS";
const COMPLETED: &str = "COMPLETED";

/// Environment: the table, how long a run may hold a record, how long records are kept.
pub const TABLE_ENV: &str = "RESPONDER_IDEMPOTENCY_TABLE";
pub const IN_PROGRESS_ENV: &str = "RESPONDER_IDEMPOTENCY_IN_PROGRESS_SECONDS";
pub const KEEP_ENV: &str = "RESPONDER_IDEMPOTENCY_KEEP_SECONDS";
pub const NOTIFY_KEEP_ENV: &str = "RESPONDER_IDEMPOTENCY_NOTIFY_KEEP_SECONDS";

#[derive(Clone, Debug)]
pub struct Idempotency {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// Longer than the function's timeout: a record older than this belongs to a run that
    /// died.
    in_progress_for: Duration,
    keep_for: Duration,
    notify_keep_for: Duration,
}

/// What claiming a plan found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Ours (first, or taking over a crashed run's): act, then [`Idempotency::finish`].
    Acquired(String),
    /// Another run is acting now: do not act; retry after `until` (epoch seconds).
    InProgress { until: u64 },
    /// An earlier run completed it.
    Completed { summary: String },
    /// The table could not be asked: act anyway (containment before deduplication).
    Unavailable(String),
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Pure: the record's key, from the finding id and every target the plan acts on.
pub fn key(plan: &ResponsePlan) -> String {
    let mut targets: Vec<String> = plan
        .actions
        .iter()
        .map(|a| a.target.name().into_owned())
        .collect();
    targets.sort();
    targets.dedup();
    let digest = Sha256::digest(targets.join("\n").as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}#{hex}",
        crate::sanitize::ascii_line(&plan.finding_id, 300)
    )
}

/// Pure: the summary stored with `COMPLETED`, e.g. `ec2.isolate_network done, …`.
pub fn summary(outcomes: &[Outcome]) -> String {
    let parts: Vec<String> = outcomes
        .iter()
        .map(|o| format!("{} {}", o.kind.name(), o.status.as_str()))
        .collect();
    crate::sanitize::ascii_line(&parts.join(", "), 2000)
}

/// Where and how long records are kept (from the environment).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSettings {
    pub table: String,
    pub in_progress_for: Duration,
    /// How long a COMPLETED containment answers `already_done` without asking the
    /// resource. Short on purpose: it only has to outlive the retries of one delivery
    /// (EventBridge retries for an hour); a finding re-published after someone released
    /// the resource must be contained again, and the executors' own checks do that.
    pub keep_for: Duration,
    /// How long a notify-only finding's last alert is remembered (GuardDuty re-publishes
    /// active findings every 15 minutes to 6 hours).
    pub notify_keep_for: Duration,
}

impl RecordSettings {
    /// `None` when no table is configured.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<RecordSettings> {
        let table = env(TABLE_ENV)
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())?;
        let secs = |k: &str, default: u64| {
            env(k)
                .and_then(|v| v.trim().parse().ok())
                .filter(|s| *s > 0)
                .unwrap_or(default)
        };
        Some(RecordSettings {
            table,
            // The longest Lambda timeout (900 s) plus a margin; Terraform sets the
            // function's own timeout plus a margin.
            in_progress_for: Duration::from_secs(secs(IN_PROGRESS_ENV, 960)),
            keep_for: Duration::from_secs(secs(KEEP_ENV, 2 * 3600)),
            notify_keep_for: Duration::from_secs(secs(NOTIFY_KEEP_ENV, 7 * 24 * 3600)),
        })
    }
}

impl Idempotency {
    pub fn new(sdk: &aws_config::SdkConfig, settings: &RecordSettings) -> Idempotency {
        Idempotency {
            client: aws_sdk_dynamodb::Client::new(sdk),
            table: settings.table.clone(),
            in_progress_for: settings.in_progress_for,
            keep_for: settings.keep_for,
            notify_keep_for: settings.notify_keep_for,
        }
    }

    /// Marks `key` in progress unless a fresh in-progress or a completed record exists.
    pub async fn claim(&self, key: &str) -> Claim {
        let now = now();
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(ID, AttributeValue::S(key.to_owned()))
            .item(STATUS, AttributeValue::S(IN_PROGRESS.into()))
            .item(EXPIRY, n(now + self.in_progress_for.as_secs()))
            .item(TTL, n(now + self.keep_for.as_secs()))
            // DynamoDB deletes expired items up to days late: the expiry itself decides.
            .condition_expression(
                "attribute_not_exists(#id) OR (#s = :p AND #x < :now) OR #t < :now",
            )
            .expression_attribute_names("#id", ID)
            .expression_attribute_names("#s", STATUS)
            .expression_attribute_names("#x", EXPIRY)
            .expression_attribute_names("#t", TTL)
            .expression_attribute_values(":p", AttributeValue::S(IN_PROGRESS.into()))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match put {
            Ok(_) => return Claim::Acquired(key.to_owned()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
            Err(e) => return Claim::Unavailable(DisplayErrorContext(e).to_string()),
        }
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await;
        let item = match got {
            Ok(o) => o.item,
            Err(e) => return Claim::Unavailable(DisplayErrorContext(e).to_string()),
        };
        let item = item.unwrap_or_default();
        let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        let number = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        match text(STATUS).as_deref() {
            Some(COMPLETED) => Claim::Completed {
                summary: text(SUMMARY).unwrap_or_default(),
            },
            // In progress, or gone between the two calls: the other run decides.
            _ => Claim::InProgress {
                until: number(EXPIRY).unwrap_or(now + self.in_progress_for.as_secs()),
            },
        }
    }

    /// Ends our claim: `COMPLETED` with the summary when containment did not fail; deleted
    /// otherwise, so that the retry acts.
    pub async fn finish(&self, key: &str, outcomes: &[Outcome]) -> Result<(), String> {
        let result = if crate::outcome::any_failed(outcomes) {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key(ID, AttributeValue::S(key.to_owned()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DisplayErrorContext(e).to_string())
        } else {
            self.client
                .update_item()
                .table_name(&self.table)
                .key(ID, AttributeValue::S(key.to_owned()))
                .update_expression("SET #s = :c, #m = :m, #t = :t")
                .expression_attribute_names("#s", STATUS)
                .expression_attribute_names("#m", SUMMARY)
                .expression_attribute_names("#t", TTL)
                .expression_attribute_values(":c", AttributeValue::S(COMPLETED.into()))
                .expression_attribute_values(":m", AttributeValue::S(summary(outcomes)))
                .expression_attribute_values(":t", n(now() + self.keep_for.as_secs()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DisplayErrorContext(e).to_string())
        };
        result.map_err(|e| format!("idempotency record {key}: {e}"))
    }
}

/// What an earlier, completed run did, reported as `already_done` for every action: the
/// notifier then sends at most the short update.
pub struct Completed(pub String);

impl Executor for Completed {
    fn required_permissions(&self) -> &'static [&'static str] {
        &[]
    }

    async fn execute(&self, plan: &ResponsePlan) -> Vec<Outcome> {
        plan.actions
            .iter()
            .map(|a| {
                Outcome::new(
                    a.kind,
                    a.target.to_string(),
                    Status::AlreadyDone,
                    format!("done by an earlier delivery of this finding: {}", self.0),
                )
            })
            .collect()
    }
}

/// A containment another run is carrying out right now.
#[derive(Debug, Clone, thiserror::Error)]
#[error("finding {finding_id} is being contained by another run (until {until}); retry later")]
pub struct Busy {
    pub finding_id: String,
    pub until: u64,
}

/// [`crate::respond::respond`] at most once per finding and resource: with a record, a
/// containment is claimed first; a completed one is reported `already_done` (the
/// notifier sends at most the short update); one in progress elsewhere is [`Busy`].
pub async fn respond_once<E: Executor>(
    plan: ResponsePlan,
    executor: &E,
    notifier: &crate::notify::Notifier,
    repeat: crate::respond::RepeatPolicy,
    record: Option<&Idempotency>,
) -> Result<crate::respond::Response, Busy> {
    use crate::respond::respond;
    let record = record.filter(|_| {
        plan.decision == crate::playbook::Decision::Contain && !plan.actions.is_empty()
    });
    let Some(record) = record else {
        return Ok(respond(plan, Some(executor), notifier, repeat).await);
    };
    match record.claim(&key(&plan)).await {
        Claim::Acquired(key) => {
            let response = respond(plan, Some(executor), notifier, repeat).await;
            if let Err(e) = record.finish(&key, &response.outcomes).await {
                tracing::error!(error = %e, "idempotency record not finished");
            }
            Ok(response)
        }
        Claim::Completed { summary } => {
            Ok(respond(plan, Some(&Completed(summary)), notifier, repeat).await)
        }
        Claim::InProgress { until } => Err(Busy {
            finding_id: crate::sanitize::ascii_line(&plan.finding_id, 200),
            until,
        }),
        Claim::Unavailable(e) => {
            tracing::error!(error = %e, "idempotency table unavailable: containing without it");
            Ok(respond(plan, Some(executor), notifier, repeat).await)
        }
    }
}
