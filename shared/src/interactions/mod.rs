//! The interactions function (`functions/interactions`): Slack's button clicks, behind a
//! Lambda function URL with no AWS authentication, so every request is authenticated here.
//!
//! The front door answers within Slack's three seconds: it verifies the signature
//! ([`signature`]), refuses a replayed one ([`seen`]), parses the click ([`request`]),
//! authorises the user ([`authorise`]) and hands the work to an asynchronous invocation
//! of this same function ([`request::Job`]), which fetches the finding, re-plans it and
//! contains or releases ([`work`]), then replaces the alert through the click's
//! `response_url` ([`reply`]). Every attempt leaves one audit record in the log.

pub mod authorise;
pub mod budget;
pub mod permissions;
pub mod release;
pub mod reply;
pub mod request;
pub mod seen;
pub mod settings;
pub mod signature;
pub mod work;

use crate::interaction::Reference;
use authorise::{Authoriser, Verdict};
use reply::{ReplyPolicy, ephemeral, replacement};
use request::{Incoming, Invocation, Job, UrlRequest};
use secrecy::SecretString;
use seen::{Seen, SeenSignatures};
use serde_json::{Value, json};
use work::{Done, Reply, Worker};

/// Hands a job to the asynchronous invocation (`lambda:InvokeFunction`, `Event`).
pub struct Dispatch {
    pub client: aws_sdk_lambda::Client,
    pub function_name: String,
}

pub struct Handler {
    pub secret: SecretString,
    pub seen: SeenSignatures,
    pub authoriser: Authoriser,
    pub replies: ReplyPolicy,
    pub dispatch: Dispatch,
    pub worker: Worker,
}

/// One structured audit record per attempt: who, what, which finding, how it ended.
fn audit(user: &str, action: &str, reference: Option<&Reference>, result: &str, detail: &str) {
    tracing::info!(
        audit = true,
        user = %crate::sanitize::ascii_line(user, 40),
        action,
        finding_id = reference.map_or("", |r| r.finding_id.as_str()),
        account_id = reference.map_or("", |r| r.account.as_str()),
        region = reference.map_or("", |r| r.region.as_str()),
        result,
        detail = %crate::sanitize::ascii_line(detail, 400),
        "slack interaction"
    );
}

/// A function-URL response.
fn http(status: u16, body: Value) -> Value {
    json!({"statusCode": status, "headers": {"content-type": "application/json"}, "body": body.to_string()})
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Handler {
    /// One invocation: a request through the function URL, or the function's own job.
    pub async fn handle(&self, event: &Value, own_account: Option<&str>) -> Value {
        match request::invocation(event) {
            Ok(Invocation::Url(r)) => self.front(&r).await,
            Ok(Invocation::Job(job)) => self.work(job, own_account).await,
            Err(e) => {
                audit("", "", None, "refused", &e);
                http(400, json!({"error": "bad request"}))
            }
        }
    }

    async fn front(&self, r: &UrlRequest) -> Value {
        let refuse = |status: u16, result: &str, detail: &str| {
            audit("", "", None, result, detail);
            http(status, json!({"error": "refused"}))
        };
        let Some(body) = r.raw_body() else {
            return refuse(400, "refused", "unreadable body");
        };
        let (timestamp, sig) = (
            r.header("x-slack-request-timestamp"),
            r.header("x-slack-signature"),
        );
        let at = match signature::verify(&self.secret, timestamp, sig, &body, now()) {
            Ok(at) => at,
            Err(e) => return refuse(401, "refused_signature", &e.to_string()),
        };
        if r.header("x-slack-retry-num").is_some() {
            // A retry of a request already received: answered, never acted on twice.
            return refuse(200, "ignored_retry", "X-Slack-Retry-Num");
        }
        let expires = at + signature::MAX_SKEW_SECONDS + 60;
        match self.seen.first_use(sig.unwrap_or_default(), expires).await {
            Seen::First => {}
            Seen::Replayed => return refuse(401, "refused_replay", "signature already used"),
            Seen::Unavailable(e) => return refuse(503, "refused_unavailable", &e),
        }
        match request::incoming(&body) {
            Ok(Incoming::UrlVerification { challenge }) => {
                http(200, json!({ "challenge": challenge }))
            }
            Ok(Incoming::Ignored(kind)) => refuse(200, "ignored", &kind),
            Ok(Incoming::Click(click)) => self.click(click).await,
            Err(e) => refuse(400, "refused", &e.to_string()),
        }
    }

    async fn click(&self, click: request::Click) -> Value {
        let r = &click.reference;
        let action = r.action.as_str();
        let Some(url) = self.replies.check(&click.response_url) else {
            audit(
                &click.user,
                action,
                Some(r),
                "refused",
                "response_url is not Slack's",
            );
            return http(400, json!({"error": "refused"}));
        };
        if let Verdict::Refused = self.authoriser.check(&click.user, r.action).await {
            let text = format!(
                "You are not authorised to {action} from Slack (only the configured {}). Nothing was done.",
                request::needs(r.action)
            );
            let d = reply::post(&url, &ephemeral(text)).await;
            audit(
                &click.user,
                action,
                Some(r),
                "refused_unauthorised",
                &d.detail,
            );
            return http(200, json!({}));
        }
        let job = Job {
            reference: r.to_string(),
            user: click.user.clone(),
            response_url: click.response_url.clone(),
        };
        if let Err(e) = self.dispatch(&job).await {
            let _ = reply::post(
                &url,
                &ephemeral("The responder could not start: nothing was done. Try again.".into()),
            )
            .await;
            audit(&click.user, action, Some(r), "failed", &e);
            return http(200, json!({}));
        }
        let text = format!(
            "Working on it: {action} of finding {} requested by <@{}>.",
            r.finding_id, click.user
        );
        let _ = reply::post(&url, &ephemeral(text)).await;
        audit(&click.user, action, Some(r), "accepted", "");
        http(200, json!({}))
    }

    async fn dispatch(&self, job: &Job) -> Result<(), String> {
        let payload = json!({ request::JOB_KEY: job }).to_string();
        self.dispatch
            .client
            .invoke()
            .function_name(&self.dispatch.function_name)
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_smithy_types::Blob::new(payload))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                crate::sanitize::ascii_line(
                    &aws_sdk_lambda::error::DisplayErrorContext(e).to_string(),
                    300,
                )
            })
    }

    /// The asynchronous half; everything in the job is checked again.
    async fn work(&self, job: Job, own_account: Option<&str>) -> Value {
        let (Ok(reference), true, Some(url)) = (
            Reference::parse(&job.reference),
            request::is_user_id(&job.user),
            self.replies.check(&job.response_url),
        ) else {
            audit(&job.user, "", None, "refused", "malformed job");
            return json!({"result": "refused"});
        };
        let action = reference.action.as_str();
        let done = match self.authoriser.check(&job.user, reference.action).await {
            Verdict::Refused => Done {
                result: "refused_unauthorised",
                detail: String::new(),
                reply: Reply::Ephemeral("You are no longer authorised: nothing was done.".into()),
            },
            Verdict::Allowed(_) => self.worker.run(&reference, &job.user, own_account).await,
        };
        let delivery = match done.reply {
            Reply::Ephemeral(text) => reply::post(&url, &ephemeral(text)).await,
            Reply::Replace(alert, line) => reply::post(&url, &replacement(*alert, line)).await,
            Reply::InChannel(line) => reply::post(&url, &reply::in_channel(line)).await,
        };
        let detail = format!("{}; reply {}", done.detail, delivery.detail);
        audit(&job.user, action, Some(&reference), done.result, &detail);
        json!({"result": done.result})
    }
}
