//! Forwarding a call to moto and relaying its answer (whole, or truncated for a fault).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

/// The response with only the first half of its body.
pub(super) async fn truncated(r: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    let (parts, body) = r.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    let mut out = Response::builder().status(parts.status);
    for (k, v) in &parts.headers {
        if k != hyper::header::CONTENT_LENGTH {
            out = out.header(k, v);
        }
    }
    out.body(Full::new(half)).unwrap_or_default()
}

pub(super) async fn forward(
    parts: hyper::http::request::Parts,
    body: Bytes,
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
) -> Response<Full<Bytes>> {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut builder = Request::builder()
        .method(parts.method)
        .uri(format!("{upstream}{path}"));
    for (k, v) in &parts.headers {
        if k != hyper::header::CONNECTION {
            builder = builder.header(k, v);
        }
    }
    let bad_gateway = |e: String| {
        Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Full::new(Bytes::from(e)))
            .unwrap_or_default()
    };
    let req = match builder.body(Full::new(body)) {
        Ok(r) => r,
        Err(e) => return bad_gateway(e.to_string()),
    };
    match client.request(req).await {
        Err(e) => bad_gateway(e.to_string()),
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let mut out = Response::builder().status(parts.status);
            for (k, v) in &parts.headers {
                if k != hyper::header::CONNECTION
                    && k != hyper::header::TRANSFER_ENCODING
                    && k != hyper::header::CONTENT_LENGTH
                {
                    out = out.header(k, v);
                }
            }
            out.body(Full::new(bytes)).unwrap_or_default()
        }
    }
}
