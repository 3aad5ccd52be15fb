//! The reminder Lambda function: on each scheduled invocation, reads what is contained
//! (read-only calls, [`super::read_aws::PERMISSIONS`]) and posts the quarantines older than
//! `RESPONDER_REMINDER_MIN_AGE_HOURS` to SNS and Slack, each with a Release button. Nothing
//! is sent when nothing is due. A part that could not be read fails the invocation (after
//! posting what was read), so the on-failure destination and the error alarm see it.

use super::reminder::{DEFAULT_MIN_AGE_HOURS, document, reminder};
use super::scope::{Scope, list, read_all, validate};
use crate::lambda::accounts::Accounts;
use crate::notify::{Delivery, Notifier, NotifySettings};
use crate::sanitize::ascii_line;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ReminderError {
    #[error("environment variable {0}: {1}")]
    Setting(&'static str, String),
    #[error("could not read {0} part(s) of the inventory: {1}")]
    Unread(usize, String),
}

impl From<ReminderError> for lambda_runtime::Diagnostic {
    fn from(e: ReminderError) -> Self {
        let error_type = match e {
            ReminderError::Setting(..) => "BadSetting",
            ReminderError::Unread(..) => "InventoryUnread",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// Built once per cold start.
pub struct ReminderFunction {
    pub accounts: Accounts,
    pub notifier: Notifier,
    pub scope: Scope,
    pub min_age: Duration,
}

/// `RESPONDER_REMINDER_MIN_AGE_HOURS` (default 24), the other reminder settings and the
/// record key, from `var`; `region` is the function's own (the default region list).
pub fn settings(
    var: impl Fn(&str) -> Option<String>,
    region: &str,
) -> Result<(Scope, Duration), ReminderError> {
    let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    let hours = match set("RESPONDER_REMINDER_MIN_AGE_HOURS") {
        None => DEFAULT_MIN_AGE_HOURS,
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|h| (1..=24 * 365).contains(h))
            .ok_or_else(|| {
                ReminderError::Setting(
                    "RESPONDER_REMINDER_MIN_AGE_HOURS",
                    format!("{:?} is not 1..=8760 hours", ascii_line(&v, 20)),
                )
            })?,
    };
    let mut regions = list(set("RESPONDER_REMINDER_REGIONS"));
    if regions.is_empty() {
        regions.push(region.to_owned());
    }
    let scope = Scope {
        accounts: list(set("RESPONDER_REMINDER_ACCOUNTS")),
        regions,
        clusters: list(set("RESPONDER_REMINDER_CLUSTERS")),
        partition: set("RESPONDER_REMINDER_PARTITION").unwrap_or_else(|| "aws".into()),
        mac_key: set(crate::actions::ec2::record_mac::KEY_ENV).map(|k| k.trim().to_owned()),
    };
    validate(&scope).map_err(|e| ReminderError::Setting("RESPONDER_REMINDER_*", e))?;
    Ok((scope, Duration::from_secs(hours * 3600)))
}

impl ReminderFunction {
    pub async fn from_env() -> Result<ReminderFunction, ReminderError> {
        let env = |k: &str| std::env::var(k).ok();
        let region = env("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
        let (scope, min_age) = settings(env, &region)?;
        let sdk = crate::execute::aws::sdk_config(&region).await;
        let notify = NotifySettings::from_env(env);
        let notifier = if notify.is_empty() {
            Notifier::disabled()
        } else {
            Notifier::new(&sdk, &notify).await
        };
        let set = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let accounts = Accounts::new(
            sdk,
            set("RESPONDER_CROSS_ACCOUNT_ROLE"),
            set("RESPONDER_CROSS_ACCOUNT_EXTERNAL_ID"),
        );
        Ok(ReminderFunction {
            accounts,
            notifier,
            scope,
            min_age,
        })
    }

    /// One run: read, remind what is due, report.
    pub async fn handle(&self, own_account: &str) -> Result<Value, ReminderError> {
        let now = chrono::Utc::now();
        let inv = read_all(&self.accounts, own_account, &self.scope, now).await;
        let due = inv
            .contained
            .iter()
            .filter(|c| c.is_older_than(self.min_age, now))
            .count();
        let deliveries: Vec<Delivery> = match reminder(&inv, self.min_age, now) {
            None => Vec::new(),
            Some(n) => {
                let doc = document(&inv, self.min_age, now, &n.text);
                let attributes = vec![
                    ("kind", "String", "reminder".to_owned()),
                    ("due", "Number", due.to_string()),
                ];
                self.notifier.send_other(&n, doc, attributes).await
            }
        };
        tracing::info!(
            contained = inv.contained.len(),
            due,
            unread = inv.errors.len(),
            deliveries = %serde_json::to_string(&deliveries).unwrap_or_default(),
            "quarantine reminder"
        );
        if !inv.errors.is_empty() {
            let first = serde_json::to_string(&inv.errors[0]).unwrap_or_default();
            return Err(ReminderError::Unread(
                inv.errors.len(),
                ascii_line(&first, 400),
            ));
        }
        Ok(json!({"contained": inv.contained.len(), "due": due, "deliveries": deliveries}))
    }
}

/// The whole `main` of the reminder function.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    use lambda_runtime::{LambdaEvent, service_fn};
    use serde_json::value::RawValue;
    use std::sync::Arc;
    crate::lambda::init_tracing();
    let function = Arc::new(ReminderFunction::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let function = Arc::clone(&function);
        async move {
            let arn = &event.context.invoked_function_arn;
            let own = arn.split(':').nth(4).unwrap_or_default().to_owned();
            function
                .handle(&own)
                .await
                .inspect_err(|e| tracing::error!(error = %e, "reminder failed"))
        }
    }))
    .await
}
