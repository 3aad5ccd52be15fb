//! Runtime settings of a Lambda function, from environment variables (see the README's
//! configuration table). Read once at cold start.

use super::rate_limit::Budgets;
use crate::notify::NotifySettings;
use crate::respond::RepeatPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Carry containment out.
    Enforce,
    /// Plan and notify what would be done; change nothing.
    DryRun,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub notify: NotifySettings,
    pub repeat: RepeatPolicy,
    /// Role name assumed in a finding's account when it is not the function's own.
    pub cross_account_role: Option<String>,
    /// `sts:ExternalId` the member role may require.
    pub cross_account_external_id: Option<String>,
    /// Containments per hour (over all accounts, and per account) before downgrading to
    /// notify-only; counted in `rate_limit_table`.
    pub budgets: Budgets,
    /// The DynamoDB table of the rate budgets.
    pub rate_limit_table: Option<String>,
    /// The function's name, the dimension of the responder's metrics.
    pub function_name: String,
    /// The exactly-once records (`RESPONDER_IDEMPOTENCY_TABLE`); none: not deduplicated.
    pub idempotency: Option<crate::idempotency::RecordSettings>,
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {message}")]
pub struct SettingsError {
    pub name: &'static str,
    pub message: String,
}

impl Settings {
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let set = |k: &str| {
            var(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mode = match set("RESPONDER_MODE").as_deref() {
            None | Some("dry-run") => Mode::DryRun,
            Some("enforce") => Mode::Enforce,
            Some(other) => {
                return Err(SettingsError {
                    name: "RESPONDER_MODE",
                    message: format!("{other:?} is not enforce or dry-run"),
                });
            }
        };
        let repeat = match set("RESPONDER_REPEAT_NOTIFICATIONS") {
            None => RepeatPolicy::default(),
            Some(v) => RepeatPolicy::parse(&v).ok_or(SettingsError {
                name: "RESPONDER_REPEAT_NOTIFICATIONS",
                message: format!("{v:?} is not update, full or none"),
            })?,
        };
        // 0 or unset: that budget is not enforced.
        let budget = |name: &'static str| match set(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<u32>()
                .map(|n| Some(n).filter(|n| *n > 0))
                .map_err(|e| SettingsError {
                    name,
                    message: e.to_string(),
                }),
        };
        let budgets = Budgets {
            global: budget("RESPONDER_MAX_CONTAINMENTS_PER_HOUR")?,
            per_account: budget("RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR")?,
        };
        Ok(Settings {
            mode,
            notify: NotifySettings::from_env(&var),
            repeat,
            cross_account_role: set("RESPONDER_CROSS_ACCOUNT_ROLE"),
            cross_account_external_id: set("RESPONDER_CROSS_ACCOUNT_EXTERNAL_ID"),
            budgets,
            rate_limit_table: set("RESPONDER_RATE_LIMIT_TABLE"),
            function_name: set("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|| "guardduty-responder".into()),
            idempotency: crate::idempotency::RecordSettings::from_env(&var),
        })
    }
}
