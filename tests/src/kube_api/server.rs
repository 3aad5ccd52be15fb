//! One HTTP request: injected faults first, then the routes and the store.

use super::*;

pub(super) async fn handle(
    state: &Arc<Mutex<State>>,
    req: HttpRequest<Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = parse_query(req.uri().query());
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type");
    let authorization = header("authorization");
    let raw = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Option<Value> = if raw.is_empty() {
        None
    } else {
        serde_json::from_slice(&raw).ok().or(Some(Value::String(
            String::from_utf8_lossy(&raw).into_owned(),
        )))
    };
    let mut st = state.lock().unwrap();
    let call = call(&method, &path);
    // A pod's log is text, not JSON.
    let log = route(&path).is_some_and(|r| r.log);
    let fault = st
        .faults
        .iter_mut()
        .find(|f| Some(&f.call) == call.as_ref() && f.times != Some(0))
        .map(|f| {
            if let Some(n) = f.times.as_mut() {
                *n -= 1;
            }
            f.clone()
        });
    // A fault answered before the server acts, or after (the answer lost on the way).
    let before = fault.as_ref().filter(|f| !f.after && !f.truncate);
    let (code, answer) = match before {
        Some(f) => fault_status(f.status),
        None => serve(
            &mut st,
            &method,
            &path,
            &query,
            content_type.as_deref(),
            authorization.as_deref(),
            body.as_ref(),
        ),
    };
    st.requests.push(Request {
        method,
        path,
        query,
        content_type,
        authorization,
        body,
        status: code,
    });
    drop(st);
    let (code, text) = match &fault {
        Some(f) if f.truncate => {
            let full = answer.to_string();
            (code, full[..full.len() / 2].to_owned())
        }
        Some(f) if f.after => {
            let (c, a) = fault_status(f.status);
            (c, a.to_string())
        }
        _ => match answer {
            Value::String(text) if log && code == 200 => (code, text),
            answer => (code, answer.to_string()),
        },
    };
    let content_type = if log && code == 200 {
        "text/plain"
    } else {
        "application/json"
    };
    let mut r = Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type);
    if fault.is_some_and(|f| f.retry_after) {
        r = r.header("retry-after", "1");
    }
    r.body(Full::new(Bytes::from(text))).expect("response")
}
