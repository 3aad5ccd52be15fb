//! A minimal AWS Lambda Runtime API on loopback, so a real function binary runs exactly
//! as in Lambda: it long-polls `/invocation/next`, gets an event with the usual headers,
//! and posts a response or an error. [`RuntimeApi::run`] starts a function binary against
//! it with Lambda's environment; [`RuntimeApi::call`] invokes it and waits.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc};

/// What the function answered for one invocation.
#[derive(Debug, Clone)]
pub struct Answer {
    pub request_id: String,
    pub ok: bool,
    pub body: serde_json::Value,
    pub at: Instant,
}

pub struct RuntimeApi {
    port: u16,
    events: mpsc::UnboundedSender<(String, Vec<u8>)>,
    answers: Arc<Mutex<mpsc::UnboundedReceiver<Answer>>>,
    init_errors: Arc<std::sync::Mutex<Vec<String>>>,
    first_poll: Arc<std::sync::OnceLock<Instant>>,
    task: tokio::task::JoinHandle<()>,
}

pub const FUNCTION_ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:guardduty-responder-ec2";

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let (event_tx, event_rx) = mpsc::unbounded_channel::<(String, Vec<u8>)>();
        let (answer_tx, answer_rx) = mpsc::unbounded_channel::<Answer>();
        let event_rx = Arc::new(Mutex::new(event_rx));
        let init_errors = Arc::new(std::sync::Mutex::new(Vec::new()));
        let errs = init_errors.clone();
        let first_poll = Arc::new(std::sync::OnceLock::new());
        let polled = first_poll.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (event_rx, answer_tx, errs, polled) = (
                    event_rx.clone(),
                    answer_tx.clone(),
                    errs.clone(),
                    polled.clone(),
                );
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let (event_rx, answer_tx, errs, polled) = (
                            event_rx.clone(),
                            answer_tx.clone(),
                            errs.clone(),
                            polled.clone(),
                        );
                        async move {
                            if req.uri().path().ends_with("/invocation/next") {
                                polled.get_or_init(Instant::now);
                            }
                            serve(req, &event_rx, &answer_tx, &errs).await
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        RuntimeApi {
            port,
            events: event_tx,
            answers: Arc::new(Mutex::new(answer_rx)),
            init_errors,
            first_poll,
            task,
        }
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn invoke(&self, request_id: &str, event: Vec<u8>) {
        let _ = self.events.send((request_id.to_owned(), event));
    }

    /// The next answer, or `None` after `timeout`.
    pub async fn answer(&self, timeout: Duration) -> Option<Answer> {
        tokio::time::timeout(timeout, self.answers.lock().await.recv())
            .await
            .ok()
            .flatten()
    }

    /// When the function first asked for work: the end of its initialisation (what Lambda
    /// reports as Init Duration).
    pub fn first_poll(&self) -> Option<Instant> {
        self.first_poll.get().copied()
    }

    pub fn init_errors(&self) -> Vec<String> {
        self.init_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A function binary running under a [`RuntimeApi`]; killed and reaped on drop.
pub struct Function {
    child: Child,
    /// When the process was started (for cold-start figures).
    pub started: Instant,
    /// Its stdout, line by line (logs and EMF metric records), as Lambda would collect it.
    stdout: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Function {
    /// The lines printed so far. Lines are read by a thread: after an answer, give the
    /// function a moment ([`Function::lines_after`]) for the last ones to arrive.
    pub fn lines(&self) -> Vec<String> {
        self.stdout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The lines once `ready` holds for them, or after 5 s whatever they are.
    pub async fn lines_after(&self, ready: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let lines = self.lines();
            if ready(&lines) || Instant::now() > deadline {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RuntimeApi {
    /// Starts the function binary `exe` as Lambda would: this API's address, the function's
    /// name and log group, `AWS_REGION` us-east-1 and static test credentials, plus `env`
    /// (endpoints such as `AWS_ENDPOINT_URL`, `RESPONDER_*` settings). Nothing else is
    /// inherited from the test's environment.
    pub fn run(&self, exe: &str, function_name: &str, env: &[(&str, String)]) -> Function {
        let started = Instant::now();
        let child = Command::new(exe)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function_name}"),
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {exe}: {e}"));
        let mut child = child;
        let stdout = Arc::new(std::sync::Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            let lines = Arc::clone(&stdout);
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                    lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                }
            });
        }
        Function {
            child,
            started,
            stdout,
        }
    }

    /// Invokes the function with `event` and waits up to 60 s for its answer.
    pub async fn call(&self, request_id: &str, event: Vec<u8>) -> Answer {
        self.invoke(request_id, event);
        let answer = self.answer(Duration::from_secs(60)).await;
        answer.unwrap_or_else(|| {
            panic!(
                "no answer to {request_id}; init errors: {:?}",
                self.init_errors()
            )
        })
    }
}

/// `(kind, status)` of every outcome of the `n`-th finding in a shared-handler answer
/// (`{"handled": [{"outcomes": [...]}, ...]}`).
pub fn outcomes(answer: &Answer, n: usize) -> Vec<(String, String)> {
    answer.body["handled"][n]["outcomes"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|o| {
                    (
                        o["kind"].as_str().unwrap_or("").to_owned(),
                        o["status"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn reply(status: u16, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

async fn serve(
    req: Request<Incoming>,
    events: &Mutex<mpsc::UnboundedReceiver<(String, Vec<u8>)>>,
    answers: &mpsc::UnboundedSender<Answer>,
    init_errors: &std::sync::Mutex<Vec<String>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let body = req.into_body().collect().await?.to_bytes().to_vec();
    if method == Method::GET && path == "/2018-06-01/runtime/invocation/next" {
        let Some((id, event)) = events.lock().await.recv().await else {
            // Torn down: Lambda never answers a poll without an invocation (the runtime
            // crate panics on a header-less answer), so leave it waiting until it is killed.
            return std::future::pending().await;
        };
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            + Duration::from_secs(60);
        return Ok(Response::builder()
            .status(200)
            .header("lambda-runtime-aws-request-id", id)
            .header(
                "lambda-runtime-deadline-ms",
                deadline.as_millis().to_string(),
            )
            .header("lambda-runtime-invoked-function-arn", FUNCTION_ARN)
            .header(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000",
            )
            .body(Full::new(Bytes::from(event)))
            .expect("valid response"));
    }
    if path == "/2018-06-01/runtime/init/error" {
        init_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(String::from_utf8_lossy(&body).into_owned());
        return Ok(reply(202, b"{}".to_vec()));
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let [
        "2018-06-01",
        "runtime",
        "invocation",
        id,
        kind @ ("response" | "error"),
    ] = parts[..]
    {
        let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        let _ = answers.send(Answer {
            request_id: id.to_owned(),
            ok: kind == "response",
            body,
            at: Instant::now(),
        });
        return Ok(reply(202, b"{}".to_vec()));
    }
    Ok(reply(404, vec![]))
}
