//! The interactions tests' rig: the real `responder-interactions` binary under the local
//! Lambda Runtime API, function-URL events signed as Slack signs them, a local recorder
//! for the self-invocations (`lambda:Invoke`, `Event`) that hands the jobs back as Lambda
//! would, and a local `response_url` receiver.

#![allow(dead_code)] // Each test binary uses its own part of the rig.

use integration_tests::runtime_api::{Function, RuntimeApi};
use integration_tests::webhook::Webhook;
use responder::interactions::signature::sign;
use serde_json::{Value, json};

pub const SECRET: &str = "test-signing-secret-0123456789abcdef";
pub const APPROVER: &str = "UAPPROVER1";
pub const RELEASER: &str = "URELEASER1";

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A function-URL event carrying `body`, signed with `secret` at `ts`.
pub fn url_event(body: &str, ts: u64, secret: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let ts = ts.to_string();
    let mut headers = json!({
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": sign(secret, &ts, body.as_bytes()),
    });
    for (k, v) in extra {
        headers[*k] = json!(v);
    }
    json!({
        "version": "2.0", "rawPath": "/", "rawQueryString": "",
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": "/"}, "requestId": "r"},
        "body": body, "isBase64Encoded": false,
    })
    .to_string()
    .into_bytes()
}

/// A Slack `block_actions` form body: `user` clicked the button whose value is `value`.
/// Each carries its own `trigger_id`, as Slack's do: two clicks are two requests.
pub fn click_body(action: &str, value: &str, user: &str, response_url: &str) -> String {
    static CLICKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CLICKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let payload = json!({
        "type": "block_actions", "user": {"id": user}, "response_url": response_url,
        "trigger_id": format!("{n}.1234.abcdef"),
        "actions": [{"type": "button", "action_id": format!("responder_{action}"), "value": value}],
    });
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

pub struct Rig {
    pub api: RuntimeApi,
    pub function: Function,
    pub lambda: Webhook,
    pub slack: Webhook,
    /// The response_url every click carries (the local receiver).
    pub hook: String,
    pub calls: usize,
}

impl Rig {
    /// Starts the binary with the signing secret, the allow-lists, enforce mode, the
    /// idempotency table, AWS at `aws_endpoint` and GuardDuty at `guardduty`, plus `env`.
    pub async fn start(
        aws: &integration_tests::world::Aws,
        aws_endpoint: String,
        guardduty: String,
        env: &[(&str, String)],
    ) -> Rig {
        let slack = Webhook::start(vec![]).await;
        let hook = slack.url();
        let base = format!(
            "{}/",
            hook.splitn(4, '/').take(3).collect::<Vec<_>>().join("/")
        );
        let lambda = Webhook::start(vec![]).await;
        let table = integration_tests::idempotency_table::create(&aws.config).await;
        let api = RuntimeApi::start().await;
        let mut all = vec![
            ("AWS_ENDPOINT_URL", aws_endpoint),
            ("AWS_ENDPOINT_URL_GUARDDUTY", guardduty),
            ("AWS_ENDPOINT_URL_LAMBDA", lambda.url()),
            ("RESPONDER_MODE", "enforce".into()),
            ("RESPONDER_IDEMPOTENCY_TABLE", table),
            ("RESPONDER_SLACK_SIGNING_SECRET", SECRET.into()),
            ("RESPONDER_SLACK_APPROVERS", APPROVER.into()),
            ("RESPONDER_SLACK_RELEASERS", RELEASER.into()),
            ("RESPONDER_SLACK_RESPONSE_URL_BASE", base),
        ];
        all.extend(env.iter().cloned());
        let function = api.run(
            env!("CARGO_BIN_EXE_responder-interactions"),
            "guardduty-responder-interactions",
            &all,
        );
        Rig {
            api,
            function,
            lambda,
            slack,
            hook,
            calls: 0,
        }
    }

    /// Sends one function-URL event; returns its HTTP status and body.
    pub async fn request(&mut self, event: Vec<u8>) -> (u64, Value) {
        self.calls += 1;
        let a = self.api.call(&format!("url-{}", self.calls), event).await;
        assert!(a.ok, "{:?} / {:?}", a.body, self.api.init_errors());
        let body = serde_json::from_str(a.body["body"].as_str().unwrap_or("{}")).unwrap();
        (a.body["statusCode"].as_u64().unwrap(), body)
    }

    /// Jobs the function handed to itself so far.
    pub fn jobs(&self) -> Vec<Vec<u8>> {
        self.lambda.received().into_iter().map(|r| r.body).collect()
    }

    /// Runs the newest job as Lambda's asynchronous invocation would; its result.
    pub async fn run_last_job(&mut self) -> String {
        let job = self.jobs().pop().expect("a job was dispatched");
        self.calls += 1;
        let a = self.api.call(&format!("job-{}", self.calls), job).await;
        assert!(a.ok, "{:?}", a.body);
        a.body["result"].as_str().unwrap_or_default().to_owned()
    }

    /// `user` clicks `action` on `reference` (`<account>:<region>:<id>`): the signed
    /// request is accepted, its job dispatched and run; the job's result.
    pub async fn click(&mut self, action: &str, reference: &str, user: &str) -> String {
        let value = format!("{action}:{reference}");
        let body = click_body(action, &value, user, &self.hook);
        let jobs = self.jobs().len();
        assert_eq!(
            self.request(url_event(&body, now(), SECRET, &[])).await.0,
            200
        );
        assert_eq!(self.jobs().len(), jobs + 1, "the click was not dispatched");
        self.run_last_job().await
    }

    /// The replies posted to the response_url, newest last.
    pub fn replies(&self) -> Vec<Value> {
        self.slack
            .received()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }

    /// The newest reply, as text (for `contains` checks).
    pub fn last_reply(&self) -> String {
        self.replies().pop().expect("a reply").to_string()
    }
}

/// The security groups of each of `instance`'s ENIs, in order.
pub async fn groups(
    aws: &integration_tests::world::Aws,
    instance: &integration_tests::world::Instance,
) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for eni in &instance.enis {
        out.push(integration_tests::world::eni_groups(aws, &eni.id).await);
    }
    out
}
