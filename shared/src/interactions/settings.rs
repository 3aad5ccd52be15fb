//! The interactions function's cold start: its environment, the signing secret (read once,
//! held as a [`SecretString`], never logged) and the clients. See infra/README.md.

use super::authorise::{AllowList, Authoriser, GroupLookup};
use super::budget::Budget;
use super::reply::{ReplyPolicy, is_loopback_base};
use super::seen::SeenSignatures;
use super::work::Worker;
use super::{Dispatch, Handler};
use crate::Config;
use crate::lambda::accounts::Accounts;
use crate::lambda::rate_limit::RateLimit;
use crate::lambda::settings::Settings;
use crate::notify::Notifier;
use crate::notify::secret::read_secret_string;
use secrecy::SecretString;
use std::sync::Arc;

pub const SIGNING_SECRET_ARN: &str = "RESPONDER_SLACK_SIGNING_SECRET_ARN";
pub const SIGNING_SECRET: &str = "RESPONDER_SLACK_SIGNING_SECRET";
pub const APPROVERS: &str = "RESPONDER_SLACK_APPROVERS";
pub const RELEASERS: &str = "RESPONDER_SLACK_RELEASERS";
pub const BOT_TOKEN_ARN: &str = "RESPONDER_SLACK_BOT_TOKEN_ARN";
pub const BOT_TOKEN: &str = "RESPONDER_SLACK_BOT_TOKEN";
pub const API_URL: &str = "RESPONDER_SLACK_API_URL";
pub const RESPONSE_URL_BASE: &str = "RESPONDER_SLACK_RESPONSE_URL_BASE";
/// The member roles' common name (`cross_account_role_name`): a click on a member
/// account's finding assumes `<prefix>-<surface>` there, for the finding's surface.
pub const MEMBER_ROLE_PREFIX: &str = "RESPONDER_MEMBER_ROLE_PREFIX";

type Error = Box<dyn std::error::Error + Send + Sync>;

fn err(name: &str, message: impl std::fmt::Display) -> Error {
    format!("environment variable {name}: {message}").into()
}

/// A secret from Secrets Manager (`arn_var`) or, for local tests, the environment.
async fn secret(
    env: &impl Fn(&str) -> Option<String>,
    sdk: &aws_config::SdkConfig,
    arn_var: &str,
    value_var: &str,
) -> Result<Option<SecretString>, Error> {
    if let Some(arn) = env(arn_var) {
        let raw = read_secret_string(sdk, &arn)
            .await
            .map_err(|e| err(arn_var, e))?;
        return Ok(Some(SecretString::from(raw.trim().to_owned())));
    }
    Ok(env(value_var).map(|v| SecretString::from(v.trim().to_owned())))
}

impl Handler {
    /// Everything from the environment; refuses to start without a signing secret, the
    /// idempotency table (replay protection) or the function's own name.
    pub async fn from_env() -> Result<Handler, Error> {
        let env = |k: &str| {
            std::env::var(k)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let config = Config::from_env(env)?;
        let settings = Settings::from_env(env)?;
        let region = env("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
        let base = crate::execute::aws::sdk_config(&region).await;
        let signing = secret(&env, &base, SIGNING_SECRET_ARN, SIGNING_SECRET)
            .await?
            .ok_or_else(|| err(SIGNING_SECRET_ARN, "no Slack signing secret"))?;
        let list =
            |name: &str| AllowList::parse(&env(name).unwrap_or_default()).map_err(|e| err(name, e));
        let (approvers, releasers) = (list(APPROVERS)?, list(RELEASERS)?);
        let groups = match secret(&env, &base, BOT_TOKEN_ARN, BOT_TOKEN).await? {
            Some(token) => Some(GroupLookup {
                http: crate::notify::slack::client(&Default::default()),
                api_base: env(API_URL).unwrap_or_else(|| "https://slack.com/api".into()),
                token,
            }),
            None if !approvers.groups.is_empty() || !releasers.groups.is_empty() => {
                return Err(err(
                    BOT_TOKEN_ARN,
                    "user groups are listed but no bot token is set",
                ));
            }
            None => None,
        };
        let loopback_base = env(RESPONSE_URL_BASE);
        if loopback_base
            .as_deref()
            .is_some_and(|b| !is_loopback_base(b))
        {
            return Err(err(
                RESPONSE_URL_BASE,
                "only an http://127.0.0.1:<port>/ base (tests)",
            ));
        }
        if settings.cross_account_role.is_some() {
            // One role name cannot serve three surfaces: each member role trusts only
            // its own surface's functions.
            return Err(err(
                "RESPONDER_CROSS_ACCOUNT_ROLE",
                format!(
                    "not read by this function; set {MEMBER_ROLE_PREFIX} (the roles are <prefix>-<surface>)"
                ),
            ));
        }
        let records = settings.idempotency.clone().ok_or_else(|| {
            err(
                crate::idempotency::TABLE_ENV,
                "the interactions function needs the table",
            )
        })?;
        let function_name = env("AWS_LAMBDA_FUNCTION_NAME")
            .ok_or_else(|| err("AWS_LAMBDA_FUNCTION_NAME", "unset"))?;
        Ok(Handler {
            secret: signing,
            seen: SeenSignatures::new(&base, records.table.clone()),
            authoriser: Authoriser {
                approvers,
                releasers,
                groups,
            },
            replies: ReplyPolicy { loopback_base },
            dispatch: Dispatch {
                client: aws_sdk_lambda::Client::new(&base),
                function_name,
            },
            worker: Worker {
                budget: Budget {
                    rate: settings.budgets.any().then(|| {
                        RateLimit::new(&base, settings.rate_limit_table.clone(), settings.budgets)
                    }),
                    function: settings.function_name.clone(),
                    notifier: match settings.notify.is_empty() {
                        true => Notifier::disabled(),
                        false => Notifier::new(&base, &settings.notify).await,
                    },
                },
                config,
                mode: settings.mode,
                once: Some(crate::idempotency::Idempotency::new(&base, &records)),
                accounts: Accounts::per_surface(
                    base,
                    env(MEMBER_ROLE_PREFIX),
                    settings.cross_account_external_id.clone(),
                ),
            },
        })
    }
}

/// The whole `main` of the function: tracing, cold start, then the runtime loop.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    use lambda_runtime::{LambdaEvent, service_fn};
    crate::lambda::init_tracing();
    let handler = Arc::new(Handler::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let handler = Arc::clone(&handler);
        async move {
            let own_account = crate::lambda::own_account(&event.context);
            Ok::<_, lambda_runtime::Error>(
                handler.handle(&event.payload, own_account.as_deref()).await,
            )
        }
    }))
    .await
}
