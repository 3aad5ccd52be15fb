//! SSM command output chosen per command: moto answers every `GetCommandInvocation`
//! `Success` at once with output of its own, so a test that needs what the instance
//! writes (the contained workload controls it entirely) answers it here, by what the
//! command that was sent asked for.

use super::{State, lock};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Response;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How an invocation ends, as `GetCommandInvocation` reports it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

impl Invocation {
    pub fn success(stdout: impl Into<String>) -> Invocation {
        Invocation {
            status: "Success".into(),
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }
}

/// Given the `SendCommand` request (JSON) of the command asked about, its answer, or
/// None to forward the call to moto.
pub type Answer = Arc<dyn Fn(&serde_json::Value) -> Option<Invocation> + Send + Sync>;

/// The answer and the commands seen, by command id.
#[derive(Default)]
pub(super) struct Outputs {
    pub answer: Option<Answer>,
    pub sent: HashMap<String, serde_json::Value>,
}

/// The canned `GetCommandInvocation` body for this request, if the test chose one.
pub(super) fn canned(state: &Mutex<State>, action: &str, request: &str) -> Option<String> {
    if action != "GetCommandInvocation" {
        return None;
    }
    let asked: serde_json::Value = serde_json::from_str(request).ok()?;
    let id = asked["CommandId"].as_str()?;
    let (answer, sent) = {
        let s = lock(state);
        (s.ssm.answer.clone()?, s.ssm.sent.get(id)?.clone())
    };
    let inv = answer(&sent)?;
    Some(
        serde_json::json!({
            "CommandId": id,
            "InstanceId": asked["InstanceId"],
            "DocumentName": sent["DocumentName"],
            "PluginName": "aws:runShellScript",
            "ResponseCode": if inv.status == "Success" { 0 } else { 1 },
            "Status": inv.status,
            "StatusDetails": inv.status,
            "StandardOutputContent": inv.stdout,
            "StandardErrorContent": inv.stderr,
        })
        .to_string(),
    )
}

/// Notes the id of a command sent (from moto's answer) with its request.
pub(super) async fn remember(
    state: &Mutex<State>,
    request: &str,
    response: Response<Full<Bytes>>,
) -> Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let answered: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if let (Some(id), Ok(req)) = (
        answered["Command"]["CommandId"].as_str(),
        serde_json::from_str::<serde_json::Value>(request),
    ) {
        lock(state).ssm.sent.insert(id.to_owned(), req);
    }
    Response::from_parts(parts, Full::new(bytes))
}
