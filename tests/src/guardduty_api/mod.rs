//! A real local HTTP server speaking the GuardDuty REST-JSON protocol for the coverage
//! audit — `ListDetectors` (`GET /detector`), `GetCoverageStatistics`
//! (`POST /detector/{id}/coverage/statistics`) and `ListCoverage`
//! (`POST /detector/{id}/coverage`, `nextToken` pagination), `ListFindings`
//! (`POST /detector/{id}/findings`, an `updatedAt` criterion, `nextToken` pagination) and
//! `GetFindings` (`POST /detector/{id}/findings/get`, at most 50 ids) and `ArchiveFindings`
//! (`POST /detector/{id}/findings/archive`, 1 to 50 ids) — plus the Resource Groups
//! Tagging API's `GetResources` (awsJson1.1, `X-Amz-Target`). moto 5.2.5 implements neither
//! coverage operation, so the real SDK (and the real CLI binary, through
//! `AWS_ENDPOINT_URL`) talks to this instead. Every request is logged.

use crate::local_server::json_reply as reply;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

mod coverage;
mod findings;

pub use coverage::{ec2, ecs, eks};

/// What the fake account holds.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub detectors: Vec<String>,
    /// `ListCoverage` resource documents (camelCase, as the service returns them), healthy
    /// and unhealthy; statistics are counted from these.
    pub resources: Vec<Value>,
    /// Resources per `ListCoverage` page (the server's own page size; `maxResults` lowers it).
    pub page_size: usize,
    /// (ARN, tag key, tag value) for `GetResources`.
    pub tags: Vec<(String, String, String)>,
    /// Findings (camelCase, as the service returns them) with their `updatedAt` in epoch
    /// milliseconds, for `ListFindings` (`page_size` per page) and `GetFindings`.
    pub findings: Vec<(i64, Value)>,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub target: String,
    pub body: Value,
}

/// Operations answered with an error instead: `(operation, HTTP status, error code)`.
type Refusals = Arc<Mutex<Vec<(String, u16, String)>>>;

pub struct GuardDutyApi {
    port: u16,
    world: Arc<Mutex<World>>,
    calls: Arc<Mutex<Vec<Call>>>,
    refusals: Refusals,
    task: tokio::task::JoinHandle<()>,
}

impl GuardDutyApi {
    pub async fn start(world: World) -> GuardDutyApi {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let world = Arc::new(Mutex::new(world));
        let shared = world.clone();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let log = calls.clone();
        let refusals: Refusals = Arc::default();
        let refused = refusals.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (world, log, refused) = (world.clone(), log.clone(), refused.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let (world, log, refused) = (world.clone(), log.clone(), refused.clone());
                        async move { answer(req, &world, &log, &refused).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        GuardDutyApi {
            port,
            world: shared,
            calls,
            refusals,
            task,
        }
    }

    /// Answers `operation` (`ListDetectors`, `ArchiveFindings`) with `status` and the
    /// error `code` (e.g. 403 `AccessDeniedException`) from now on.
    pub fn refuse(&self, operation: &str, status: u16, code: &str) {
        self.refusals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((operation.into(), status, code.into()));
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Changes what the account holds (e.g. a resource recovers between two audits).
    pub fn set_world(&self, world: World) {
        *self.world.lock().unwrap_or_else(|p| p.into_inner()) = world;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// An SDK configuration pointed at this server (static test credentials, no retries).
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::for_tests(),
                ),
            )
            .build()
    }

    /// `config` with GuardDuty (only) sent to this server: the executors' EC2 calls still
    /// go to moto, their coverage check here.
    pub fn route_guardduty(&self, config: &aws_config::SdkConfig) -> aws_config::SdkConfig {
        config
            .to_builder()
            .service_config(GuardDutyEndpoint(self.endpoint()))
            .build()
    }
}

/// Answers the SDK's per-service endpoint look-up (`AWS_ENDPOINT_URL_GUARDDUTY`) with the
/// fake, for GuardDuty only.
#[derive(Debug)]
struct GuardDutyEndpoint(String);

impl aws_types::service_config::LoadServiceConfig for GuardDutyEndpoint {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        (key.service_id() == "GuardDuty" && key.env() == "AWS_ENDPOINT_URL").then(|| self.0.clone())
    }
}

impl Drop for GuardDutyApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn bad_request(message: &str) -> Response<Full<Bytes>> {
    reply(
        400,
        json!({"message": message, "__type": "BadRequestException"}),
        Some("BadRequestException"),
    )
}

/// The operation a REST request is, for the ones that can be refused.
fn operation(method: &str, parts: &[&str]) -> &'static str {
    match (method, parts) {
        ("GET", ["detector"]) => "ListDetectors",
        ("POST", ["detector", _, "findings", "archive"]) => "ArchiveFindings",
        _ => "",
    }
}

async fn answer(
    req: Request<Incoming>,
    world: &Mutex<World>,
    log: &Mutex<Vec<Call>>,
    refusals: &Mutex<Vec<(String, u16, String)>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = req.into_body().collect().await?.to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let world = world.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let world = &world;
    log.lock().unwrap_or_else(|p| p.into_inner()).push(Call {
        method: method.clone(),
        path: path.clone(),
        target: target.clone(),
        body: body.clone(),
    });

    if target.ends_with(".GetResources") {
        let wanted = &body["TagFilters"][0];
        let list: Vec<Value> = world
            .tags
            .iter()
            .filter(|(_, k, v)| {
                wanted["Key"].as_str() == Some(k.as_str())
                    && wanted["Values"]
                        .as_array()
                        .is_none_or(|vs| vs.iter().any(|x| x.as_str() == Some(v.as_str())))
            })
            .map(|(arn, k, v)| json!({"ResourceARN": arn, "Tags": [{"Key": k, "Value": v}]}))
            .collect();
        return Ok(reply(
            200,
            json!({"ResourceTagMappingList": list, "PaginationToken": ""}),
            None,
        ));
    }

    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let op = operation(&method, &parts);
    let refusal = refusals
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|(o, _, _)| o == op)
        .cloned();
    if let Some((_, status, code)) = refusal {
        return Ok(reply(
            status,
            json!({"message": format!("{op} refused"), "__type": code}),
            Some(&code),
        ));
    }
    Ok(match (method.as_str(), parts.as_slice()) {
        ("GET", ["detector"]) => reply(200, json!({"detectorIds": world.detectors}), None),
        ("POST", ["detector", id, "coverage", "statistics"]) if owned(world, id) => {
            coverage::statistics(world, &body)
        }
        ("POST", ["detector", id, "findings"]) if owned(world, id) => findings::list(world, &body),
        ("POST", ["detector", id, "findings", "get"]) if owned(world, id) => {
            findings::get(world, &body)
        }
        ("POST", ["detector", id, "findings", "archive"]) if owned(world, id) => {
            findings::archive(&body)
        }
        ("POST", ["detector", _, "findings", ..]) => bad_request(NOT_OWNED),
        ("POST", ["detector", id, "coverage"]) if owned(world, id) => coverage::list(world, &body),
        ("POST", ["detector", _, "coverage"] | ["detector", _, "coverage", "statistics"]) => {
            bad_request(NOT_OWNED)
        }
        _ => reply(
            404,
            json!({"message": format!("no route {method} {path}")}),
            Some("ResourceNotFoundException"),
        ),
    })
}

const NOT_OWNED: &str =
    "The request is rejected because the input detectorId is not owned by the current account.";

fn owned(world: &World, id: &str) -> bool {
    world.detectors.iter().any(|d| d == id)
}
