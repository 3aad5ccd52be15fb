//! Bounded retries of the Kubernetes API's "try again later" answers (429, 503, 504).
//!
//! kube's default retry policy retries them up to 15 times with delays growing to 1,000 s:
//! under an API server that keeps answering 429 or 503, one call takes minutes, past the
//! function's timeout, and the whole containment is lost with it. Here: three retries
//! 200 ms, 400 ms and 800 ms apart; then the answer reaches the outcome, the step fails
//! and Lambda's own retries (then the DLQ) take over. `Retry-After` is not followed: it
//! has no upper bound.

use http::{Request, Response, StatusCode};
use kube::client::Body;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

const RETRIES: u32 = 3;
const FIRST_DELAY: Duration = Duration::from_millis(200);

/// `inner` behind the bounded retry.
pub(crate) fn bounded(inner: kube::Client) -> kube::Client {
    let namespace = inner.default_namespace().to_owned();
    kube::Client::new(Bounded { inner }, namespace)
}

/// Pure: whether the API server asks to try again.
fn retryable(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

/// The delay before retry `n` (0-based).
fn delay(n: u32) -> Duration {
    FIRST_DELAY * 2u32.pow(n)
}

#[derive(Clone)]
struct Bounded {
    inner: kube::Client,
}

/// A copy to send again; `None` when the body cannot be replayed (a stream).
fn copy(req: &Request<Body>) -> Option<Request<Body>> {
    let mut again = Request::builder()
        .method(req.method().clone())
        .uri(req.uri().clone())
        .version(req.version())
        .body(req.body().try_clone()?)
        .ok()?;
    *again.headers_mut() = req.headers().clone();
    Some(again)
}

impl tower_service::Service<Request<Body>> for Bounded {
    type Response = Response<Body>;
    type Error = kube::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, kube::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let client = self.inner.clone();
        Box::pin(async move {
            let mut req = req;
            for n in 0..RETRIES {
                let again = copy(&req);
                let res = client.send(req).await?;
                match again {
                    Some(next) if retryable(res.status()) => {
                        tokio::time::sleep(delay(n)).await;
                        req = next;
                    }
                    _ => return Ok(res),
                }
            }
            client.send(req).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_try_again_answers_are_retried_and_the_wait_is_bounded() {
        for s in [429, 503, 504] {
            assert!(retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 409, 422, 500] {
            assert!(!retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        let total: Duration = (0..RETRIES).map(delay).sum();
        assert_eq!(total, Duration::from_millis(1400));
    }
}
