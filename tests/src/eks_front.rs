//! A loopback front for moto's EKS API, for a real function binary (which has no test
//! seam): every call is forwarded to moto unchanged, except that a successful
//! `DescribeCluster` (`GET /clusters/{name}`) gets the local [`KubeApi`]'s endpoint and CA
//! (base64 PEM, as EKS returns it) instead of the ones moto makes up. The binary reaches
//! it through `AWS_ENDPOINT_URL_EKS`; the cluster itself still lives in moto.
//!
//! [`KubeApi`]: crate::kube_api::KubeApi

use base64::Engine;
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
use tokio::net::TcpListener;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub struct EksFront {
    port: u16,
    described: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl EksFront {
    /// Forwards to `moto`; rewrites DescribeCluster to `connection`.
    pub async fn start(moto: &str, connection: responder::actions::eks::Connection) -> EksFront {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        let upstream = Arc::new(moto.trim_end_matches('/').to_owned());
        let connection = Arc::new(connection);
        let described = Arc::new(Mutex::new(Vec::new()));
        let log = described.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (client, upstream, connection, log) = (
                    client.clone(),
                    upstream.clone(),
                    connection.clone(),
                    log.clone(),
                );
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let (client, upstream, connection, log) = (
                            client.clone(),
                            upstream.clone(),
                            connection.clone(),
                            log.clone(),
                        );
                        async move { handle(req, &client, &upstream, &connection, &log).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        EksFront {
            port,
            described,
            task,
        }
    }

    /// The value of `AWS_ENDPOINT_URL_EKS`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The clusters whose DescribeCluster answer was rewritten, in order.
    pub fn described(&self) -> Vec<String> {
        self.described
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for EksFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn reply(status: u16, body: Bytes, content_type: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body))
        .expect("valid response")
}

async fn handle(
    req: Request<Incoming>,
    client: &HttpClient,
    upstream: &str,
    connection: &responder::actions::eks::Connection,
    described: &Mutex<Vec<String>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let describe = (parts.method == hyper::Method::GET)
        .then(|| parts.uri.path().strip_prefix("/clusters/"))
        .flatten()
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .map(str::to_owned);
    let mut forward = Request::builder()
        .method(parts.method)
        .uri(format!("{upstream}{path}"));
    for (k, v) in &parts.headers {
        if k != hyper::header::CONNECTION {
            forward = forward.header(k, v);
        }
    }
    let forward = forward.body(Full::new(body)).expect("valid request");
    let (status, headers, body) = match client.request(forward).await {
        Ok(r) => {
            let (p, b) = r.into_parts();
            (p.status, p.headers, b.collect().await?.to_bytes())
        }
        Err(e) => return Ok(reply(502, Bytes::from(e.to_string()), "text/plain")),
    };
    let content_type = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let (Some(name), true) = (describe, status.is_success()) else {
        return Ok(reply(status.as_u16(), body, &content_type));
    };
    let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return Ok(reply(status.as_u16(), body, &content_type));
    };
    doc["cluster"]["endpoint"] = connection.endpoint.clone().into();
    doc["cluster"]["certificateAuthority"]["data"] = base64::engine::general_purpose::STANDARD
        .encode(&connection.ca_pem)
        .into();
    described
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(name);
    Ok(reply(
        status.as_u16(),
        Bytes::from(doc.to_string()),
        &content_type,
    ))
}
