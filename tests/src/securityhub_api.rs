//! A real local HTTP server for Security Hub's `BatchUpdateFindings` (REST-JSON,
//! `PATCH /findings/batchupdate`): moto 5.2.5 has Security Hub but not this operation. It
//! holds the findings that exist (`ProductArn`, `Id`), refuses what the API refuses (a
//! `Note.Text` or `UpdatedBy` over 512 characters, an unknown workflow status, more than
//! 50 user-defined fields) with a 400, reports unknown findings as unprocessed, can be told
//! to fail, and records every request.

use crate::local_server::{Answer, json_reply as reply, spawn};
use http_body_util::BodyExt;
use hyper::Request;
use hyper::body::Incoming;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    /// `(ProductArn, Id)` of the findings Security Hub holds.
    findings: Vec<(String, String)>,
    /// Answer every request with this HTTP status (a service error), when set.
    fail_with: Option<u16>,
    /// `(method, path, body)` of every request.
    received: Vec<(String, String, Value)>,
}

pub struct SecurityHubApi {
    port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl SecurityHubApi {
    pub async fn start(findings: Vec<(String, String)>) -> SecurityHubApi {
        let state = Arc::new(Mutex::new(State {
            findings,
            ..State::default()
        }));
        let (port, task) = spawn(
            state.clone(),
            |req, st| async move { answer(req, &st).await },
        )
        .await;
        SecurityHubApi { port, state, task }
    }

    /// The value of `AWS_ENDPOINT_URL_SECURITYHUB`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn fail_with(&self, status: Option<u16>) {
        self.lock().fail_with = status;
    }

    /// `(method, path, body)` of every request, oldest first.
    pub fn received(&self) -> Vec<(String, String, Value)> {
        self.lock().received.clone()
    }

    /// The body of the one request received, which must be a `BatchUpdateFindings`.
    pub fn the_one_update(&self) -> Value {
        let received = self.received();
        match &received[..] {
            [(method, path, body)] if method == "PATCH" && path == "/findings/batchupdate" => {
                body.clone()
            }
            _ => panic!("not one BatchUpdateFindings: {received:?}"),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for SecurityHubApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why the real API would refuse the request with a 400, if it would.
fn invalid(body: &Value) -> Option<String> {
    let within = |v: &Value, max: usize| {
        v.as_str()
            .is_some_and(|s| (1..=max).contains(&s.chars().count()))
    };
    let ids = body["FindingIdentifiers"].as_array()?;
    if ids.is_empty() || ids.len() > 100 {
        return Some("FindingIdentifiers: 1 to 100".into());
    }
    if let Some(note) = body.get("Note")
        && !(within(&note["Text"], 512) && within(&note["UpdatedBy"], 512))
    {
        return Some("Note.Text and Note.UpdatedBy: 1 to 512 characters".into());
    }
    if let Some(status) = body.get("Workflow").map(|w| &w["Status"])
        && !["NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"].contains(&status.as_str().unwrap_or(""))
    {
        return Some(format!("Workflow.Status {status} is not a workflow status"));
    }
    if let Some(fields) = body.get("UserDefinedFields") {
        let fields = fields.as_object()?;
        let fine = fields.len() <= 50
            && fields
                .iter()
                .all(|(k, v)| (1..=128).contains(&k.len()) && within(v, 1024));
        if !fine {
            return Some(
                "UserDefinedFields: at most 50, keys 1-128, values 1-1024 characters".into(),
            );
        }
    }
    None
}

async fn answer(req: Request<Incoming>, state: &Mutex<State>) -> Answer {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let bytes = req.into_body().collect().await?.to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    s.received
        .push((method.clone(), path.clone(), body.clone()));
    if let Some(status) = s.fail_with {
        return Ok(reply(
            status,
            json!({"Message": "injected failure"}),
            Some("InternalException"),
        ));
    }
    if !(method == "PATCH" && path == "/findings/batchupdate") {
        return Ok(reply(
            404,
            json!({"Message": "unknown operation"}),
            Some("ResourceNotFoundException"),
        ));
    }
    if let Some(why) = invalid(&body) {
        return Ok(reply(
            400,
            json!({"Message": why}),
            Some("InvalidInputException"),
        ));
    }
    let (mut processed, mut unprocessed) = (Vec::new(), Vec::new());
    for id in body["FindingIdentifiers"].as_array().into_iter().flatten() {
        let key = (
            id["ProductArn"].as_str().unwrap_or("").to_owned(),
            id["Id"].as_str().unwrap_or("").to_owned(),
        );
        if s.findings.contains(&key) {
            processed.push(id.clone());
        } else {
            unprocessed.push(json!({"FindingIdentifier": id, "ErrorCode": "FindingNotFound", "ErrorMessage": "no such finding"}));
        }
    }
    Ok(reply(
        200,
        json!({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}),
        None,
    ))
}
