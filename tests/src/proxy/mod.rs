//! A loopback HTTP proxy in front of moto that can delay every call, answer chosen AWS
//! actions with an error (e.g. 403 `UnauthorizedOperation`, 400 `Throttling`) or a canned
//! body, and logs every call with its timing, for fault-injection tests and the round-trip
//! benchmark. Actions are recognised in both wire protocols: Query (`Action=` in the form
//! body: EC2, Auto Scaling, ELBv2, IAM, SNS, STS) and JSON (`X-Amz-Target:
//! <Prefix>.<Action>`: ECS, Secrets Manager, SSM...), and the GuardDuty REST calls the
//! responder sends (by method and path); errors are answered in the caller's. SSM command
//! output can be chosen per command ([`Proxy::command_output`]).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

mod fault;
mod ssm;
mod upstream;
mod wire;

pub use fault::Fault;
pub use ssm::Invocation;
use upstream::{forward, truncated};
use wire::*;

/// One call that went through the proxy.
#[derive(Debug, Clone)]
pub struct Call {
    pub service: String,
    pub action: String,
    /// Since the proxy started (or the log was last cleared).
    pub start: Duration,
    pub end: Duration,
    pub status: u16,
    pub injected: bool,
    /// The request body, lossily as text (a Query call's form: `RoleArn=…`).
    pub body: String,
}

#[derive(Default)]
struct State {
    delay: Duration,
    faults: Vec<Fault>,
    log: Vec<Call>,
    epoch: Option<Instant>,
    ssm: ssm::Outputs,
}

pub struct Proxy {
    port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

fn lock(s: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl Proxy {
    /// Starts forwarding to `upstream` (e.g. moto's endpoint) on a free loopback port.
    /// Runs on the current tokio runtime until dropped.
    pub async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(Mutex::new(State {
            epoch: Some(Instant::now()),
            ..State::default()
        }));
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (st, client, upstream) = (st.clone(), client.clone(), upstream.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let (st, client, upstream) = (st.clone(), client.clone(), upstream.clone());
                        async move { handle(req, &st, &client, &upstream).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Proxy { port, state, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A fixed delay added to every call (before it is answered).
    pub fn set_delay(&self, d: Duration) {
        lock(&self.state).delay = d;
    }

    pub fn fail(&self, action: &str, status: u16, code: &str, times: Option<usize>) {
        self.inject(Fault::error(action, status, code, times));
    }

    /// Adds any fault.
    pub fn inject(&self, fault: Fault) {
        lock(&self.state).faults.push(fault);
    }

    /// Like [`Proxy::fail`], but forwards the first `skip` calls of `action` unharmed, e.g.
    /// to fail only the second `ModifyNetworkInterfaceAttribute` of a swap.
    pub fn fail_after(
        &self,
        action: &str,
        skip: usize,
        status: u16,
        code: &str,
        times: Option<usize>,
    ) {
        self.inject(Fault {
            skip,
            ..Fault::error(action, status, code, times)
        });
    }

    /// Answers `action` with `status` and `body` (in the caller's protocol's content type)
    /// instead of forwarding it, e.g. what AWS says once a resource is gone.
    pub fn answer(&self, action: &str, status: u16, body: &str, times: Option<usize>) {
        self.inject(Fault {
            body: Some(body.into()),
            ..Fault::error(action, status, "", times)
        });
    }

    /// Answers `GetCommandInvocation` of each command sent through the proxy with what
    /// `answer` returns for its `SendCommand` request (JSON), or forwards it on None.
    pub fn command_output(
        &self,
        answer: impl Fn(&serde_json::Value) -> Option<Invocation> + Send + Sync + 'static,
    ) {
        lock(&self.state).ssm.answer = Some(std::sync::Arc::new(answer));
    }

    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    pub fn calls(&self) -> Vec<Call> {
        lock(&self.state).log.clone()
    }

    /// Clears the log and restarts its clock.
    pub fn clear_log(&self) {
        let mut s = lock(&self.state);
        s.log.clear();
        s.epoch = Some(Instant::now());
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Reply = Result<Response<Full<Bytes>>, std::convert::Infallible>;

fn dynamodb_serial() -> &'static tokio::sync::Mutex<()> {
    static SERIAL: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    SERIAL.get_or_init(|| tokio::sync::Mutex::new(()))
}

async fn handle(
    req: Request<Incoming>,
    state: &Mutex<State>,
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
) -> Reply {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok());
    let json = target.is_some();
    let service = service_of(
        parts
            .headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    );
    let rest = match service.as_str() {
        "guardduty" | "eks" => rest_action_of(parts.method.as_str(), parts.uri.path()),
        "s3" => s3_action_of(parts.method.as_str(), parts.uri.path()),
        _ => None,
    };
    let action = json_action_of(target)
        .or(rest)
        .unwrap_or_else(|| action_of(&body, parts.uri.query()));
    let (delay, fault, epoch) = {
        let mut s = lock(state);
        let fault = s
            .faults
            .iter_mut()
            .find(|f| f.matches(&service, &action))
            .and_then(|f| {
                if f.skip > 0 {
                    f.skip -= 1;
                    return None;
                }
                if let Some(n) = f.times.as_mut() {
                    *n -= 1;
                }
                Some(f.clone())
            });
        (s.delay, fault, s.epoch.unwrap_or_else(Instant::now))
    };
    let start = epoch.elapsed();
    let text = String::from_utf8_lossy(&body).into_owned();
    let canned = match fault {
        None => ssm::canned(state, &action, &text),
        Some(_) => None,
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (response, injected) = match fault {
        Some(f) if f.late.is_some() || f.truncate => {
            let r = forward(parts, body, client, upstream).await;
            if let Some(d) = f.late {
                tokio::time::sleep(d).await;
            }
            (if f.truncate { truncated(r).await } else { r }, true)
        }
        Some(f) => (
            Response::builder()
                .status(f.status)
                .header(
                    "content-type",
                    if json {
                        "application/x-amz-json-1.1"
                    } else {
                        "text/xml"
                    },
                )
                .body(Full::new(Bytes::from(
                    f.body
                        .unwrap_or_else(|| error_body(&service, &f.code, json)),
                )))
                .unwrap_or_default(),
            true,
        ),
        None if canned.is_some() => (
            Response::builder()
                .status(200)
                .header("content-type", "application/x-amz-json-1.1")
                .body(Full::new(Bytes::from(canned.unwrap_or_default())))
                .unwrap_or_default(),
            true,
        ),
        // moto checks a DynamoDB condition and writes without a lock, so two overlapping
        // conditional writes can both succeed; DynamoDB is atomic per item. Serialised
        // here, moto answers as DynamoDB would.
        None if service == "dynamodb" => {
            let _one_at_a_time = dynamodb_serial().lock().await;
            (forward(parts, body, client, upstream).await, false)
        }
        None => (forward(parts, body, client, upstream).await, false),
    };
    let response = if action == "SendCommand" {
        ssm::remember(state, &text, response).await
    } else {
        response
    };
    let status = response.status().as_u16();
    lock(state).log.push(Call {
        service,
        action,
        start,
        end: epoch.elapsed(),
        status,
        injected,
        body: text,
    });
    Ok(response)
}

/// The longest chain of calls where each starts after the previous one ended: the number
/// of sequential round trips the client needed to reach `until` (the end of a call).
pub fn sequential_depth(calls: &[Call], until: Duration) -> usize {
    let mut sorted: Vec<&Call> = calls.iter().filter(|c| c.end <= until).collect();
    sorted.sort_by_key(|c| c.start);
    let mut depth: Vec<usize> = Vec::with_capacity(sorted.len());
    for (i, c) in sorted.iter().enumerate() {
        let before = (0..i)
            .filter(|&j| sorted[j].end <= c.start)
            .map(|j| depth[j])
            .max()
            .unwrap_or(0);
        depth.push(before + 1);
    }
    depth.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests;
