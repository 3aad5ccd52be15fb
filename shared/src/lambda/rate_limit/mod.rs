//! Containment rate guardrail: past N containments in an hour (per account, and over all
//! accounts) the function only notifies.
//!
//! The counters live in a DynamoDB table only the responder's roles may write (IAM and the
//! table's resource policy), so a contained workload cannot exhaust or reset the budget
//! the way it could write the former CloudWatch metric with `cloudwatch:PutMetricData`.
//! Fixed hourly windows, one item per (scope, window), each taken with one atomic
//! conditional `UpdateItem` (`ADD count :one` if `count < :limit`): concurrent invocations
//! can never admit more than the limit. The account budget is taken first, so an account
//! that exhausted its own budget never touches the global one; when the global budget
//! refuses after the account's was taken, the account's is given back. A give-back that
//! fails leaves the account one containment stricter until the window ends (fail safe).
//! A containment that changed nothing (a re-delivery, or every action failed and Lambda
//! will retry) gives its budget back too.
//!
//! If the table cannot be reached the function contains anyway (fail open: a limiter
//! outage must not stop containment) and says so with the `RateLimiterUnavailable` metric
//! and its alarm. Tripping a limit writes `RateLimitRefused` and sends one distinct alert
//! per scope and window (SNS attribute `kind=rate_limit`), besides the downgraded finding.
//!
//! This module is the pure part (windows, keys, the alert, the metric lines); the DynamoDB
//! calls are in [`store`].

mod store;

pub use store::RateLimit;

use crate::metrics::{Record, Unit};
use crate::render::{Block, Notification, SlackMessage};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// CloudWatch namespace of the responder's own metrics (EMF and the coverage metrics).
pub const NAMESPACE: &str = crate::metrics::NAMESPACE;
/// One per containment refused by a budget.
pub const METRIC_REFUSED: &str = "RateLimitRefused";
/// One per containment admitted without the limiter (table unreachable: fail open).
pub const METRIC_UNAVAILABLE: &str = "RateLimiterUnavailable";
/// Length of a window.
pub const WINDOW_SECONDS: u64 = 3600;
/// Items expire (DynamoDB TTL) this long after their window ended.
pub const RETAIN_SECONDS: u64 = 2 * 3600;

/// Containments per hour; `None`: that budget is not enforced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budgets {
    pub global: Option<u32>,
    pub per_account: Option<u32>,
}

impl Budgets {
    pub fn any(&self) -> bool {
        self.global.is_some() || self.per_account.is_some()
    }
}

/// Whose budget: one account's, or all accounts'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A 12-digit account id, or `other` for anything else (the id comes from the finding).
    Account(String),
    Global,
}

impl Scope {
    pub fn account(id: &str) -> Scope {
        Scope::Account(if crate::validate::is_account_id(id) {
            id.to_owned()
        } else {
            "other".into()
        })
    }

    /// The item's partition key: `account#<id>` or `global`.
    pub fn key(&self) -> String {
        match self {
            Scope::Account(id) => format!("account#{id}"),
            Scope::Global => "global".into(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Scope::Account(id) => format!("account {id}"),
            Scope::Global => "all accounts".into(),
        }
    }
}

/// A fixed hourly window, by its start (seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
}

impl Window {
    pub fn of(now: SystemTime) -> Window {
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Window {
            start: secs - secs % WINDOW_SECONDS,
        }
    }
    pub fn end(&self) -> u64 {
        self.start + WINDOW_SECONDS
    }
    /// The TTL attribute: a while after the window, so the count stays inspectable.
    pub fn expires_at(&self) -> u64 {
        self.end() + RETAIN_SECONDS
    }
    fn utc(secs: u64) -> String {
        chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(0), 0)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    }
}

/// What was taken, to give back if the containment changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub window: Window,
    pub taken: Vec<Scope>,
}

/// A budget that refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trip {
    pub scope: Scope,
    pub limit: u32,
    pub window: Window,
    /// The first refusal of this scope in this window (across all invocations): alert.
    pub first: bool,
}

impl Trip {
    /// The downgraded plan's reason.
    pub fn reason(&self) -> String {
        let per = match self.scope {
            Scope::Account(_) => "per account",
            Scope::Global => "over all accounts",
        };
        format!(
            "containment rate limit reached for {} ({} per hour {per}, until {}): notify only",
            self.scope.describe(),
            self.limit,
            Window::utc(self.window.end())
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Counted in every budget: contain.
    Admitted(Token),
    /// A budget is exhausted: notify only.
    Refused(Trip),
    /// The table could not be reached: contain anyway (fail open), alerted by metric.
    /// `token` holds what was taken before the failure.
    Unavailable { reason: String, token: Token },
}

/// The alert sent once per tripped scope and window. Every value in it is trusted (a
/// validated account id, numbers, times).
pub fn trip_notification(trip: &Trip, function: &str) -> Notification {
    let who = trip.scope.describe();
    let subject = crate::sanitize::ascii_line(
        &format!("GuardDuty responder: containment rate limit reached ({who})"),
        100,
    );
    let text = format!(
        "{function}: the budget of {limit} containments per hour for {who} is used up in the \
         hour from {start}. Until {end}, findings of {who} are only notified, not contained. \
         A burst of findings may be an attack meant to exhaust the budget: review them, and \
         contain by hand (`responder replay --execute`) where needed.",
        function = crate::sanitize::ascii_line(function, 64),
        limit = trip.limit,
        start = Window::utc(trip.window.start),
        end = Window::utc(trip.window.end()),
    );
    let escaped = crate::sanitize::slack_escape(&text);
    Notification {
        html: format!("<p>{}</p>", html_escape::encode_text(&text)),
        slack: SlackMessage::new(
            crate::sanitize::slack_escape(&subject),
            vec![
                Block::header(crate::sanitize::slack_escape(&subject)),
                Block::section(escaped),
            ],
        ),
        subject,
        text,
    }
}

/// The SNS document (JSON-structure subscribers) and attributes of the trip alert.
pub fn trip_message(
    trip: &Trip,
    function: &str,
    text: &str,
) -> (Value, Vec<(&'static str, &'static str, String)>) {
    let (scope, account) = match &trip.scope {
        Scope::Account(id) => ("account", id.clone()),
        Scope::Global => ("global", String::new()),
    };
    let document = json!({
        "kind": "rate_limit", "scope": scope, "account_id": account, "limit": trip.limit,
        "window_start": trip.window.start, "window_end": trip.window.end(),
        "function": crate::sanitize::ascii_line(function, 64), "text": text,
    });
    let mut attributes = vec![
        ("kind", "String", "rate_limit".to_owned()),
        ("scope", "String", scope.to_owned()),
    ];
    if !account.is_empty() {
        attributes.push(("account_id", "String", account));
    }
    (document, attributes)
}

/// One CloudWatch embedded-metric-format record (a log line CloudWatch turns into a
/// metric): no `PutMetricData` call on the containment path.
pub fn emf_record(
    metric: &'static str,
    function: &str,
    scope: Option<&Scope>,
    now: SystemTime,
) -> Record {
    Record::at(now)
        .dimension("Function", function)
        .metric(metric, Unit::Count, 1.0)
        .property("scope", json!(scope.map(Scope::key)))
}

/// Whether a containment changed something (an action other than evidence collection
/// done): if not, its budget is given back.
pub fn changed_something(outcomes: &[crate::outcome::Outcome]) -> bool {
    outcomes
        .iter()
        .any(|o| o.status == crate::outcome::Status::Done && !o.kind.collects_evidence())
}

/// Writes a metric record to stdout, where Lambda collects the logs.
pub fn emit(metric: &'static str, function: &str, scope: Option<&Scope>) {
    crate::metrics::emit(&[emf_record(metric, function, scope, SystemTime::now())]);
}

#[cfg(test)]
mod tests;
