//! What reaches the function: a function-URL request (payload 2.0) from Slack, or the
//! function's own asynchronous job. Pure parsing; every field is hostile until checked.
//!
//! The two shapes cannot be confused: Lambda wraps every function-URL request in an event
//! with `requestContext`, so a [`Job`] (a document whose only key is [`JOB_KEY`]) can only
//! come from an `Invoke` by a principal allowed `lambda:InvokeFunction` — the function
//! itself — and a request body that looks like a job is just a body.

use crate::interaction::{ButtonAction, Reference};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The one key of an asynchronous job.
pub const JOB_KEY: &str = "responder_interaction_job";

/// A function-URL request, as much of it as the function reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlRequest {
    /// Present in every function-URL event (what tells it from a job); not read.
    pub request_context: serde_json::Value,
    #[serde(default)]
    pub headers: HashMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub is_base64_encoded: bool,
}

impl UrlRequest {
    /// A header by name (Lambda lower-cases them; compared case-insensitively anyway).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The raw body bytes, as Slack signed them.
    pub fn raw_body(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        let body = self.body.as_deref().unwrap_or_default();
        match self.is_base64_encoded {
            true => base64::engine::general_purpose::STANDARD.decode(body).ok(),
            false => Some(body.as_bytes().to_vec()),
        }
    }
}

/// The work a verified, authorised click hands to the asynchronous invocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// The button's value, re-parsed by the worker.
    pub reference: String,
    /// The Slack user who clicked (verified by the signature).
    pub user: String,
    /// Where the result goes (checked again by the worker).
    pub response_url: String,
}

/// One event: what the function was invoked with.
#[derive(Debug)]
pub enum Invocation {
    Url(Box<UrlRequest>),
    Job(Job),
}

/// Tells the two shapes apart; anything else is an error.
pub fn invocation(event: &serde_json::Value) -> Result<Invocation, String> {
    let object = event.as_object().ok_or("the event is not an object")?;
    if object.contains_key("requestContext") {
        return serde_json::from_value(event.clone())
            .map(|r| Invocation::Url(Box::new(r)))
            .map_err(|e| format!("not a function-URL request: {e}"));
    }
    match (object.len(), object.get(JOB_KEY)) {
        (1, Some(job)) => serde_json::from_value(job.clone())
            .map(Invocation::Job)
            .map_err(|e| format!("not a job: {e}")),
        _ => Err("neither a function-URL request nor a job".into()),
    }
}

/// What a verified request body asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// Slack checking the request URL: echo the challenge.
    UrlVerification {
        challenge: String,
    },
    Click(Click),
    /// A request type the function does not handle (named, for the log).
    Ignored(String),
}

/// One button click.
#[derive(Debug, Clone, PartialEq)]
pub struct Click {
    pub user: String,
    pub reference: Reference,
    pub response_url: String,
}

/// Why a signed body is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is neither a form with a payload nor JSON")]
    Shape,
    #[error("the click names no valid Slack user")]
    User,
    #[error("a click holds exactly one action")]
    Actions,
    #[error("the button's value is not a reference: {0}")]
    Reference(#[from] crate::interaction::ReferenceError),
    #[error("the button's action_id does not match its value")]
    ActionId,
    #[error("the click has no response_url")]
    ResponseUrl,
}

/// A Slack user id: `U` or `W` and upper-case letters and digits.
pub fn is_user_id(v: &str) -> bool {
    (3..=32).contains(&v.len())
        && matches!(v.as_bytes()[0], b'U' | b'W')
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Parses a verified body: a form with `payload` (interactivity) or JSON (Events API).
pub fn incoming(body: &[u8]) -> Result<Incoming, BodyError> {
    let json: serde_json::Value = match form_urlencoded::parse(body).find(|(k, _)| k == "payload") {
        Some((_, payload)) => serde_json::from_str(&payload).map_err(|_| BodyError::Shape)?,
        None => serde_json::from_slice(body).map_err(|_| BodyError::Shape)?,
    };
    let kind = json["type"].as_str().unwrap_or_default();
    match kind {
        "url_verification" => Ok(Incoming::UrlVerification {
            challenge: json["challenge"]
                .as_str()
                .filter(|c| c.len() <= 200 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
                .ok_or(BodyError::Shape)?
                .to_owned(),
        }),
        "block_actions" => click(&json).map(Incoming::Click),
        other => Ok(Incoming::Ignored(crate::sanitize::ascii_line(other, 40))),
    }
}

fn click(json: &serde_json::Value) -> Result<Click, BodyError> {
    let user = json["user"]["id"]
        .as_str()
        .filter(|u| is_user_id(u))
        .ok_or(BodyError::User)?;
    let [action] = json["actions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    else {
        return Err(BodyError::Actions);
    };
    let value = action["value"].as_str().ok_or(BodyError::Actions)?;
    let reference = Reference::parse(value)?;
    if action["action_id"].as_str() != Some(reference.action.action_id()) {
        return Err(BodyError::ActionId);
    }
    let response_url = json["response_url"]
        .as_str()
        .filter(|u| u.len() <= 512)
        .ok_or(BodyError::ResponseUrl)?;
    Ok(Click {
        user: user.to_owned(),
        reference,
        response_url: response_url.to_owned(),
    })
}

/// Which allow-list an action needs.
pub fn needs(action: ButtonAction) -> &'static str {
    match action {
        ButtonAction::Contain => "approvers",
        ButtonAction::Release => "releasers",
        ButtonAction::Acknowledge => "approvers or releasers",
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
