//! What the local servers share: a loopback port with one task accepting connections, each
//! served over HTTP/1 by the server's `answer`; and the REST-JSON reply of AWS services
//! (a JSON body, an error's type in `x-amzn-errortype`).

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

pub type Answer = Result<Response<Full<Bytes>>, hyper::Error>;

/// Serves `answer(request, state)` on a free loopback port: the port, and the task to abort.
pub async fn spawn<S, F, Fut>(state: Arc<S>, answer: F) -> (u16, tokio::task::JoinHandle<()>)
where
    S: Send + Sync + 'static,
    F: Fn(Request<Incoming>, Arc<S>) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let state = state.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| answer(req, state.clone()));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (port, task)
}

/// A REST-JSON answer; `error_type` names the error of a failed call.
pub fn json_reply(status: u16, body: Value, error_type: Option<&str>) -> Response<Full<Bytes>> {
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(t) = error_type {
        r = r.header("x-amzn-errortype", t);
    }
    r.body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}
