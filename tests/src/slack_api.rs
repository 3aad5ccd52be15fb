//! A local Slack Web API answering `usergroups.users.list` (`GET
//! /usergroups.users.list?usergroup=S…`, bearer token), as the interactions function's
//! allow-lists ask it for a user group's members. Every request is counted.

use crate::local_server::{Answer, json_reply, spawn};
use hyper::Request;
use hyper::body::Incoming;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct SlackApi {
    port: u16,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

struct State {
    token: String,
    groups: BTreeMap<String, Vec<String>>,
    calls: AtomicUsize,
}

impl SlackApi {
    /// A workspace whose bot token is `token`, with these groups and members.
    pub async fn start(token: &str, groups: &[(&str, &[&str])]) -> SlackApi {
        let state = Arc::new(State {
            token: token.to_owned(),
            groups: groups
                .iter()
                .map(|(g, m)| (g.to_string(), m.iter().map(|u| u.to_string()).collect()))
                .collect(),
            calls: AtomicUsize::new(0),
        });
        let (port, task) = spawn(state.clone(), answer).await;
        SlackApi { port, state, task }
    }

    /// The API base, as `RESPONDER_SLACK_API_URL` takes it.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }
}

impl Drop for SlackApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(req: Request<Incoming>, state: Arc<State>) -> Answer {
    state.calls.fetch_add(1, Ordering::SeqCst);
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(state.token.as_str()) {
        return Ok(json_reply(
            200,
            json!({"ok": false, "error": "invalid_auth"}),
            None,
        ));
    }
    if req.uri().path() != "/api/usergroups.users.list" {
        return Ok(json_reply(
            404,
            json!({"ok": false, "error": "unknown_method"}),
            None,
        ));
    }
    let group = req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|p| p.strip_prefix("usergroup="))
        .unwrap_or_default();
    Ok(match state.groups.get(group) {
        Some(users) => json_reply(200, json!({"ok": true, "users": users}), None),
        None => json_reply(200, json!({"ok": false, "error": "no_such_subteam"}), None),
    })
}
