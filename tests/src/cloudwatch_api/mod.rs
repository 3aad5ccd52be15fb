//! A real local HTTP server speaking CloudWatch's current wire protocol, Smithy RPC v2 CBOR
//! (`POST /service/GraniteServiceVersion20100801/operation/{Operation}`, header
//! `smithy-protocol: rpc-v2-cbor`, CBOR bodies, awsQuery-compatible error codes), for
//! `PutMetricData` and `GetMetricStatistics`. The Rust SDK speaks only that protocol and
//! moto 5.2.5 only the older query/JSON ones at `/`, so the responder's CloudWatch calls
//! (the containment rate limit, the coverage set) come here through
//! `AWS_ENDPOINT_URL_CLOUDWATCH` or [`CloudWatchApi::route`].
//!
//! It keeps real state: every datum put, aggregated on read over the requested window
//! (start rounded down to the minute, as CloudWatch does for recent data) into `Period`
//! buckets, with CloudWatch's validation (dimensions must match exactly, at most 1,440
//! datapoints per request, `AWS/` namespaces reserved). Every request is logged.

use bytes::Bytes;
use ciborium::Value as Cbor;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

mod requests;
use requests::*;

const PATH_PREFIX: &str = "/service/GraniteServiceVersion20100801/operation/";
const MAX_DATAPOINTS: f64 = 1440.0;

/// One stored datum: a statistic set at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub namespace: String,
    pub metric: String,
    /// Sorted by name.
    pub dimensions: Vec<(String, String)>,
    /// Seconds since the epoch.
    pub timestamp: f64,
    pub unit: String,
    pub count: f64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

/// One request as received: the operation and its body (CBOR decoded to JSON, timestamps
/// as epoch seconds).
#[derive(Debug, Clone)]
pub struct Call {
    pub operation: String,
    pub body: serde_json::Value,
    /// The error code and message answered, if any.
    pub error: Option<String>,
}

#[derive(Default)]
struct State {
    data: Vec<Datum>,
    calls: Vec<Call>,
    /// Answer every `GetMetricStatistics` with this status and error code (an unreadable metric).
    fail_reads: Option<(u16, String)>,
}

pub struct CloudWatchApi {
    port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl CloudWatchApi {
    pub async fn start() -> CloudWatchApi {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let state = state.clone();
                        async move { answer(req, &state).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        CloudWatchApi {
            port,
            state: shared,
            task,
        }
    }

    /// The value of `AWS_ENDPOINT_URL_CLOUDWATCH`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `sdk` with its CloudWatch client sent here; every other service keeps its endpoint.
    /// (What `AWS_ENDPOINT_URL_CLOUDWATCH` does for a function binary.)
    pub fn route(&self, sdk: &aws_config::SdkConfig) -> aws_config::SdkConfig {
        sdk.to_builder()
            .service_config(CloudWatchEndpoint(self.endpoint()))
            .build()
    }

    /// Everything stored so far.
    pub fn data(&self) -> Vec<Datum> {
        self.lock().data.clone()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// From now on `GetMetricStatistics` fails with this HTTP status and error code, e.g.
    /// `(403, "AccessDenied")` for a missing permission (`None`: answers again).
    pub fn fail_reads(&self, fault: Option<(u16, &str)>) {
        self.lock().fail_reads = fault.map(|(s, c)| (s, c.to_owned()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for CloudWatchApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Service-specific endpoint: CloudWatch here, nothing else.
#[derive(Debug)]
struct CloudWatchEndpoint(String);

impl aws_types::service_config::LoadServiceConfig for CloudWatchEndpoint {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        (key.service_id() == "CloudWatch" && key.env() == "AWS_ENDPOINT_URL")
            .then(|| self.0.clone())
    }
}

// ---- protocol shell ----

async fn answer(
    req: Request<Incoming>,
    state: &Mutex<State>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_owned();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (protocol, encoding, auth) = (
        header("smithy-protocol"),
        header("content-encoding"),
        header("authorization"),
    );
    let post = req.method() == hyper::Method::POST;
    let bytes = req.into_body().collect().await?.to_bytes();
    let Some(operation) = path.strip_prefix(PATH_PREFIX).filter(|_| post) else {
        return Ok(error(
            404,
            "UnknownOperationException",
            &format!("no route {path}"),
        ));
    };
    if protocol != "rpc-v2-cbor" {
        return Ok(error(
            400,
            "InvalidRequest",
            "missing smithy-protocol: rpc-v2-cbor",
        ));
    }
    if !auth.contains("/monitoring/aws4_request") {
        return Ok(error(
            403,
            "MissingAuthenticationToken",
            "not signed for monitoring",
        ));
    }
    if !encoding.is_empty() {
        return Ok(error(
            400,
            "InvalidRequest",
            "compressed bodies are not supported here",
        ));
    }
    let body: Cbor = if bytes.is_empty() {
        Cbor::Map(vec![])
    } else {
        match ciborium::from_reader(&bytes[..]) {
            Ok(v) => v,
            Err(e) => return Ok(error(400, "SerializationException", &e.to_string())),
        }
    };
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    let call = Call {
        operation: operation.to_owned(),
        body: to_json(&body),
        error: None,
    };
    let now = epoch_now();
    let result = match operation {
        "PutMetricData" => parse_put(&body, now).map(|data| {
            state.data.extend(data);
            Cbor::Map(vec![])
        }),
        "GetMetricStatistics" => match &state.fail_reads {
            Some((status, code)) => Err(Fault(*status, code.clone(), "injected failure".into())),
            None => parse_query(&body).map(|q| statistics(&state.data, &q)),
        },
        other => Err(Fault(
            400,
            "UnknownOperationException".into(),
            format!("{other} is not implemented by this test server"),
        )),
    };
    let error_text = result.as_ref().err().map(|f| format!("{}: {}", f.1, f.2));
    state.calls.push(Call {
        error: error_text,
        ..call
    });
    Ok(match result {
        Ok(out) => cbor_reply(200, &out, None),
        Err(Fault(status, code, message)) => error(status, &code, &message),
    })
}

struct Fault(u16, String, String);

fn invalid(message: impl Into<String>) -> Fault {
    Fault(400, "InvalidParameterValue".into(), message.into())
}

fn missing(field: &str) -> Fault {
    Fault(
        400,
        "MissingParameter".into(),
        format!("The parameter {field} is required."),
    )
}

fn cbor_reply(status: u16, body: &Cbor, query_error: Option<&str>) -> Response<Full<Bytes>> {
    let mut r = Response::builder()
        .status(status)
        .header("smithy-protocol", "rpc-v2-cbor")
        .header("content-type", "application/cbor")
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000");
    if let Some(q) = query_error {
        r = r.header("x-amzn-query-error", q);
    }
    let mut out = Vec::new();
    encode(body, &mut out);
    r.body(Full::new(Bytes::from(out))).expect("valid response")
}

fn error(status: u16, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = map(vec![
        ("__type", text(&format!("com.amazonaws.cloudwatch#{code}"))),
        ("message", text(message)),
    ]);
    let sender = if status >= 500 { "Receiver" } else { "Sender" };
    cbor_reply(status, &body, Some(&format!("{code};{sender}")))
}

fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_responses_decode_back_to_the_same_value() {
        let v = map(vec![
            ("Label", text("Containments")),
            (
                "Datapoints",
                Cbor::Array(vec![map(vec![
                    ("Timestamp", Cbor::Tag(1, Box::new(Cbor::Float(1.7e9)))),
                    ("Sum", Cbor::Float(3.0)),
                    ("Unit", text(&"x".repeat(300))),
                ])]),
            ),
        ]);
        let mut out = Vec::new();
        encode(&v, &mut out);
        let back: Cbor = ciborium::from_reader(&out[..]).unwrap();
        assert_eq!(back, v);
    }
}
