//! Runtime settings of a Lambda function, from environment variables (see the README's
//! configuration table). Read once at cold start.

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
    /// Containments per hour per function before downgrading to notify-only.
    pub max_containments_per_hour: Option<u32>,
    /// The function's name, the dimension of the containment metric.
    pub function_name: String,
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
        let max_containments_per_hour = match set("RESPONDER_MAX_CONTAINMENTS_PER_HOUR") {
            None => None,
            Some(v) => Some(v.parse::<u32>().map_err(|e| SettingsError {
                name: "RESPONDER_MAX_CONTAINMENTS_PER_HOUR",
                message: e.to_string(),
            })?)
            .filter(|n| *n > 0),
        };
        Ok(Settings {
            mode,
            notify: NotifySettings::from_env(&var),
            repeat,
            cross_account_role: set("RESPONDER_CROSS_ACCOUNT_ROLE"),
            cross_account_external_id: set("RESPONDER_CROSS_ACCOUNT_EXTERNAL_ID"),
            max_containments_per_hour,
            function_name: set("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|| "guardduty-responder".into()),
        })
    }
}
