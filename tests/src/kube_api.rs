//! A local Kubernetes API server over HTTPS, for the EKS executor's tests.
//!
//! No kube-apiserver can be installed here, so this implements exactly the endpoints the
//! executor and release call, with the semantics they rely on:
//!
//! * objects are stored (pods, nodes, events, networkpolicies, daemonsets), get a `uid`,
//!   `resourceVersion` (bumped on every write) and `creationTimestamp`;
//! * reads: get (404 `NotFound`), list in a namespace or across all, with `labelSelector`
//!   (`k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (…)`, `k notin (…)`), `fieldSelector`
//!   (`metadata.name`, `metadata.namespace`, `spec.nodeName`, `status.phase`; others are
//!   a 400 as on a real server) and `limit`;
//! * writes: create (409 `AlreadyExists`), delete (404), and PATCH by content type:
//!   `application/merge-patch+json` (RFC 7386), `application/strategic-merge-patch+json`
//!   (maps merge, lists of objects with a `name` merge by it, other lists replace),
//!   `application/apply-patch+yaml` (server-side apply: `fieldManager` required, creates
//!   when absent, a changed value owned by another manager is a 409 `Conflict` unless
//!   `force=true`, fields the config does not mention are kept); anything else is a 415.
//!   A `metadata.resourceVersion` in a merge or strategic patch is a precondition (409);
//! * authentication: a bearer token starting `k8s-aws-v1.` or 401; authorisation: every
//!   request is allowed unless [`KubeApi::forbid`] made a (verb, resource) a 403 worded
//!   like RBAC's;
//! * every request is recorded ([`KubeApi::requests`]).
//!
//! TLS uses a CA generated per server with `rcgen`; [`KubeApi::connection`] gives the
//! endpoint and CA the executor's client seam takes.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request as HttpRequest, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType,
};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// One request the server received, and what it answered.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub content_type: Option<String>,
    pub authorization: Option<String>,
    pub body: Option<Value>,
    pub status: u16,
}

/// A fault the server answers for one kind of call (`"patch pods"`), for the fault matrix.
#[derive(Debug, Clone)]
pub struct KubeFault {
    /// `"<verb> <resource>"`, as [`Request::call`] names it.
    pub call: String,
    /// The status answered (ignored when `truncate`).
    pub status: u16,
    /// Carry the request out first, then answer the fault (the answer was lost).
    pub after: bool,
    /// Answer 200 with only the first half of the real body.
    pub truncate: bool,
    /// Send `Retry-After: 1` (as the API server's priority and fairness does with 429).
    pub retry_after: bool,
    /// How many calls to fail; `None` fails every call.
    pub times: Option<usize>,
}

impl Request {
    /// `"patch pods"`: the verb and resource, as RBAC names them.
    pub fn call(&self) -> Option<String> {
        let r = route(&self.path)?;
        Some(format!(
            "{} {}",
            verb(&self.method, r.name.is_some()),
            r.kind.resource
        ))
    }

    /// `"PATCH /api/v1/namespaces/web/pods/x"`
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A change made "by somebody else" right after the next GET of an object, to exercise
/// the optimistic-concurrency paths.
type Mutation = Box<dyn FnOnce(&mut Value) + Send>;

enum AfterGet {
    Change(Mutation),
    Delete,
}

#[derive(Default)]
struct State {
    /// (resource, namespace or "", name) → object.
    objects: BTreeMap<(String, String, String), Value>,
    requests: Vec<Request>,
    forbidden: Vec<(String, String)>,
    faults: Vec<KubeFault>,
    /// Answer every request 401, as when the role has no EKS access entry.
    unauthenticated: bool,
    after_get: HashMap<(String, String, String), AfterGet>,
    version: u64,
}

impl State {
    fn next_version(&mut self) -> String {
        self.version += 1;
        self.version.to_string()
    }
}

struct Kind {
    group_version: &'static str,
    resource: &'static str,
    kind: &'static str,
    namespaced: bool,
}

const KINDS: &[Kind] = &[
    Kind {
        group_version: "v1",
        resource: "pods",
        kind: "Pod",
        namespaced: true,
    },
    Kind {
        group_version: "v1",
        resource: "nodes",
        kind: "Node",
        namespaced: false,
    },
    Kind {
        group_version: "v1",
        resource: "events",
        kind: "Event",
        namespaced: true,
    },
    Kind {
        group_version: "networking.k8s.io/v1",
        resource: "networkpolicies",
        kind: "NetworkPolicy",
        namespaced: true,
    },
    Kind {
        group_version: "apps/v1",
        resource: "daemonsets",
        kind: "DaemonSet",
        namespaced: true,
    },
];

fn kind_of_resource(resource: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.resource == resource)
}

fn kind_of_object(kind: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// The local API server. Dropping it stops it.
pub struct KubeApi {
    addr: SocketAddr,
    ca_pem: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl KubeApi {
    /// Generates a CA and a server certificate for `127.0.0.1`/`localhost`, and serves on a
    /// free loopback port.
    pub async fn start() -> KubeApi {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "kube-api test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA certificate");
        let server_key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned()]).expect("server params");
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        let server_cert = params
            .signed_by(&server_key, &ca)
            .expect("server certificate");

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![server_cert.der().clone()], key)
            .expect("server TLS config");
        let acceptor = TlsAcceptor::from(Arc::new(tls));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let state = Arc::new(Mutex::new(State::default()));
        let served = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let state = served.clone();
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, hyper::Error>(handle(&state, req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        KubeApi {
            addr,
            ca_pem: ca.as_ref().pem(),
            state,
            task,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA that signed the server certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// What the executor's connection seam should use instead of DescribeCluster's answer.
    pub fn connection(&self) -> responder::actions::eks::Connection {
        responder::actions::eks::Connection {
            endpoint: self.endpoint(),
            ca_pem: self.ca_pem.clone().into_bytes(),
        }
    }

    /// Stores `object` as if created: fills uid, resourceVersion and creationTimestamp.
    /// Returns the stored object.
    pub fn put(&self, object: Value) -> Value {
        let mut st = self.state.lock().unwrap();
        let kind = object["kind"]
            .as_str()
            .and_then(kind_of_object)
            .expect("a known kind");
        let ns = if kind.namespaced {
            object["metadata"]["namespace"]
                .as_str()
                .expect("namespace")
                .to_owned()
        } else {
            String::new()
        };
        let name = object["metadata"]["name"]
            .as_str()
            .expect("name")
            .to_owned();
        let stored = stamp_new(&mut st, object, kind);
        st.objects
            .insert((kind.resource.into(), ns, name), stored.clone());
        stored
    }

    pub fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        self.state
            .lock()
            .unwrap()
            .objects
            .get(&(resource.into(), namespace.into(), name.into()))
            .cloned()
    }

    /// Removes an object behind the client's back (a pod deleted meanwhile).
    pub fn remove(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        self.state
            .lock()
            .unwrap()
            .objects
            .remove(&(resource.into(), namespace.into(), name.into()))
    }

    pub fn list(&self, resource: &str) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .objects
            .iter()
            .filter(|((r, _, _), _)| r == resource)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Answers every request 401 (`true`), as for a role without an EKS access entry.
    pub fn reject_all_tokens(&self, reject: bool) {
        self.state.lock().unwrap().unauthenticated = reject;
    }

    /// Answers `verb` (`get`, `list`, `create`, `patch`, `delete`) on `resource` with 403.
    pub fn forbid(&self, verb: &str, resource: &str) {
        self.state
            .lock()
            .unwrap()
            .forbidden
            .push((verb.into(), resource.into()));
    }

    /// Answers calls matching `fault.call` with the fault.
    pub fn inject(&self, fault: KubeFault) {
        self.state.lock().unwrap().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Right after the next GET of the object has been answered, applies `change` to the
    /// stored object and bumps its resourceVersion, as a concurrent writer would.
    pub fn change_after_next_get(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value) + Send + 'static,
    ) {
        self.state.lock().unwrap().after_get.insert(
            (resource.into(), namespace.into(), name.into()),
            AfterGet::Change(Box::new(change)),
        );
    }

    /// Right after the next GET of the object has been answered, deletes it (gone meanwhile).
    pub fn delete_after_next_get(&self, resource: &str, namespace: &str, name: &str) {
        self.state.lock().unwrap().after_get.insert(
            (resource.into(), namespace.into(), name.into()),
            AfterGet::Delete,
        );
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }
}

fn stamp_new(st: &mut State, mut object: Value, kind: &Kind) -> Value {
    let version = st.next_version();
    let meta = object["metadata"].as_object_mut().expect("metadata");
    meta.entry("uid").or_insert_with(|| {
        json!(format!(
            "{:08x}-7e57-4000-8000-{:012x}",
            st.version,
            rand_u64() & 0xffff_ffff_ffff
        ))
    });
    meta.insert("resourceVersion".into(), json!(version));
    meta.entry("creationTimestamp")
        .or_insert_with(|| json!("2026-01-01T00:00:00Z"));
    object["apiVersion"] = json!(kind.group_version);
    object["kind"] = json!(kind.kind);
    object
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish()
}

fn status(
    code: u16,
    reason: &str,
    message: String,
    name: Option<&str>,
    resource: Option<&str>,
) -> (u16, Value) {
    let mut details = Map::new();
    if let Some(n) = name {
        details.insert("name".into(), json!(n));
    }
    if let Some(r) = resource {
        details.insert("kind".into(), json!(r));
    }
    (
        code,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "details": details,
            "code": code,
        }),
    )
}

/// Where a path points.
struct Route {
    kind: &'static Kind,
    namespace: Option<String>,
    name: Option<String>,
}

fn route(path: &str) -> Option<Route> {
    let (gv, rest) = if let Some(r) = path.strip_prefix("/api/v1/") {
        ("v1", r)
    } else if let Some(r) = path.strip_prefix("/apis/networking.k8s.io/v1/") {
        ("networking.k8s.io/v1", r)
    } else if let Some(r) = path.strip_prefix("/apis/apps/v1/") {
        ("apps/v1", r)
    } else {
        return None;
    };
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let (namespace, resource, name) = match parts.as_slice() {
        ["namespaces", ns, res] => (Some(ns.to_string()), *res, None),
        ["namespaces", ns, res, name] => (Some(ns.to_string()), *res, Some(name.to_string())),
        [res] => (None, *res, None),
        [res, name] => (None, *res, Some(name.to_string())),
        _ => return None,
    };
    let kind = kind_of_resource(resource).filter(|k| k.group_version == gv)?;
    // A namespaced object needs its namespace; a cluster-scoped one has none.
    if (kind.namespaced && name.is_some() && namespace.is_none())
        || (!kind.namespaced && namespace.is_some())
    {
        return None;
    }
    Some(Route {
        kind,
        namespace,
        name,
    })
}

fn verb(method: &str, has_name: bool) -> &'static str {
    match (method, has_name) {
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PATCH", _) => "patch",
        ("PUT", _) => "update",
        ("DELETE", _) => "delete",
        _ => "unknown",
    }
}

fn parse_query(q: Option<&str>) -> BTreeMap<String, String> {
    q.unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(state: &Arc<Mutex<State>>, req: HttpRequest<Incoming>) -> Response<Full<Bytes>> {
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
    let call =
        route(&path).map(|r| format!("{} {}", verb(&method, r.name.is_some()), r.kind.resource));
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
    if let Some(f) = fault.as_ref().filter(|f| !f.after && !f.truncate) {
        let (code, answer) = fault_status(f.status);
        st.requests.push(Request {
            method,
            path,
            query,
            content_type,
            authorization,
            body,
            status: code,
        });
        let mut r = Response::builder()
            .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header("content-type", "application/json");
        if f.retry_after {
            r = r.header("retry-after", "1");
        }
        return r
            .body(Full::new(Bytes::from(answer.to_string())))
            .expect("response");
    }
    let (code, answer) = serve(
        &mut st,
        &method,
        &path,
        &query,
        content_type.as_deref(),
        authorization.as_deref(),
        body.as_ref(),
    );
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
    let (code, text) = match fault {
        Some(f) if f.truncate => {
            let full = answer.to_string();
            (code, full[..full.len() / 2].to_owned())
        }
        Some(f) => {
            let (c, a) = fault_status(f.status);
            (c, a.to_string())
        }
        None => (code, answer.to_string()),
    };
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(text)))
        .expect("response")
}

/// The API server's `Status` for an injected fault.
fn fault_status(code: u16) -> (u16, Value) {
    let reason = match code {
        403 => "Forbidden",
        404 => "NotFound",
        429 => "TooManyRequests",
        504 => "Timeout",
        _ => "InternalError",
    };
    status(
        code,
        reason,
        format!("injected by the test server: {reason}"),
        None,
        None,
    )
}

fn serve(
    st: &mut State,
    method: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    if st.unauthenticated
        || !authorization.is_some_and(|a| {
            a.starts_with("Bearer k8s-aws-v1.") && a.len() > "Bearer k8s-aws-v1.".len()
        })
    {
        return status(401, "Unauthorized", "Unauthorized".into(), None, None);
    }
    let Some(r) = route(path) else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            None,
            None,
        );
    };
    let resource = r.kind.resource;
    let v = verb(method, r.name.is_some());
    if st
        .forbidden
        .iter()
        .any(|(fv, fr)| fv == v && fr == resource)
    {
        let name = r
            .name
            .as_deref()
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default();
        let group = r.kind.group_version.rsplit_once('/').map_or("", |(g, _)| g);
        let scope = match &r.namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".into(),
        };
        return status(
            403,
            "Forbidden",
            format!(
                "{resource}{name} is forbidden: User \"arn:aws:sts::123456789012:assumed-role/guardduty-responder-eks/responder\" cannot {v} resource \"{resource}\" in API group \"{group}\" {scope}"
            ),
            r.name.as_deref(),
            Some(resource),
        );
    }
    let ns = r.namespace.clone().unwrap_or_default();
    match (method, &r.name) {
        ("GET", Some(name)) => {
            let key = (resource.to_owned(), ns.clone(), name.clone());
            match st.objects.get(&key).cloned() {
                Some(obj) => {
                    match st.after_get.remove(&key) {
                        Some(AfterGet::Change(change)) => {
                            let version = st.next_version();
                            let stored = st.objects.get_mut(&key).expect("present");
                            change(stored);
                            stored["metadata"]["resourceVersion"] = json!(version);
                        }
                        Some(AfterGet::Delete) => {
                            st.objects.remove(&key);
                        }
                        None => {}
                    }
                    (200, obj)
                }
                None => not_found(resource, name),
            }
        }
        ("GET", None) => list(st, &r, query),
        ("POST", None) => create(st, &r, body),
        ("PATCH", Some(name)) => patch(st, &r, name, query, content_type, body),
        ("DELETE", Some(name)) => match st.objects.remove(&(resource.to_owned(), ns, name.clone()))
        {
            Some(_) => (
                200,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": {"name": name, "kind": resource}}),
            ),
            None => not_found(resource, name),
        },
        _ => status(
            405,
            "MethodNotAllowed",
            format!("{method} is not supported on {path} by this fake"),
            None,
            None,
        ),
    }
}

fn not_found(resource: &str, name: &str) -> (u16, Value) {
    status(
        404,
        "NotFound",
        format!("{resource} \"{name}\" not found"),
        Some(name),
        Some(resource),
    )
}

fn list(st: &State, r: &Route, query: &BTreeMap<String, String>) -> (u16, Value) {
    let labels = query.get("labelSelector").map(String::as_str).unwrap_or("");
    let fields = query.get("fieldSelector").map(String::as_str).unwrap_or("");
    let label_reqs = match parse_label_selector(labels) {
        Ok(r) => r,
        Err(e) => {
            return status(
                400,
                "BadRequest",
                format!("unable to parse requirement: {e}"),
                None,
                None,
            );
        }
    };
    let field_reqs = match parse_field_selector(fields) {
        Ok(r) => r,
        Err(e) => return status(400, "BadRequest", e, None, None),
    };
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let mut items: Vec<Value> = st
        .objects
        .iter()
        .filter(|((res, ns, _), _)| {
            res == r.kind.resource && r.namespace.as_ref().is_none_or(|want| want == ns)
        })
        .map(|(_, v)| v)
        .filter(|o| {
            let empty = Map::new();
            let l = o["metadata"]["labels"].as_object().unwrap_or(&empty);
            label_reqs.iter().all(|req| req.matches(l))
                && field_reqs
                    .iter()
                    .all(|(path, eq, want)| (field(o, path) == *want) == *eq)
        })
        .cloned()
        .collect();
    let more = limit.is_some_and(|l| items.len() > l);
    if let Some(l) = limit {
        items.truncate(l);
    }
    (
        200,
        json!({
            "kind": format!("{}List", r.kind.kind),
            "apiVersion": r.kind.group_version,
            "metadata": { "resourceVersion": st.version.to_string(), "continue": if more { "more" } else { "" } },
            "items": items,
        }),
    )
}

fn field(o: &Value, path: &str) -> String {
    let mut v = o;
    for p in path.split('.') {
        v = &v[p];
    }
    v.as_str().unwrap_or_default().to_owned()
}

fn parse_field_selector(s: &str) -> Result<Vec<(String, bool, String)>, String> {
    const SUPPORTED: &[&str] = &[
        "metadata.name",
        "metadata.namespace",
        "spec.nodeName",
        "status.phase",
    ];
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, eq, v) = if let Some((k, v)) = p.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = p.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = p.split_once('=') {
                (k, true, v)
            } else {
                return Err(format!("invalid selector: '{p}'; can't understand '{p}'"));
            };
            let k = k.trim();
            if !SUPPORTED.contains(&k) {
                return Err(format!("field label not supported: {k}"));
            }
            Ok((k.to_owned(), eq, v.trim().to_owned()))
        })
        .collect()
}

#[derive(Debug)]
enum LabelReq {
    Exists(String),
    NotExists(String),
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl LabelReq {
    fn matches(&self, labels: &Map<String, Value>) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        match self {
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::Ne(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
        }
    }
}

fn parse_label_selector(s: &str) -> Result<Vec<LabelReq>, String> {
    // Split on commas outside parentheses.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    let set = |rest: &str| -> Result<Vec<String>, String> {
        let inner = rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(|| format!("expected (values) in {rest:?}"))?;
        Ok(inner.split(',').map(|v| v.trim().to_owned()).collect())
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            if let Some(k) = p.strip_prefix('!') {
                return Ok(LabelReq::NotExists(k.trim().to_owned()));
            }
            if let Some((k, rest)) = p.split_once(" notin ") {
                return Ok(LabelReq::NotIn(k.trim().to_owned(), set(rest)?));
            }
            if let Some((k, rest)) = p.split_once(" in ") {
                return Ok(LabelReq::In(k.trim().to_owned(), set(rest)?));
            }
            if let Some((k, v)) = p.split_once("!=") {
                return Ok(LabelReq::Ne(k.trim().to_owned(), v.trim().to_owned()));
            }
            if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
                return Ok(LabelReq::Eq(k.trim().to_owned(), v.trim().to_owned()));
            }
            if p.contains(|c: char| c.is_whitespace() || c == '(') {
                return Err(format!("cannot parse {p:?}"));
            }
            Ok(LabelReq::Exists(p.to_owned()))
        })
        .collect()
}

fn create(st: &mut State, r: &Route, body: Option<&Value>) -> (u16, Value) {
    let Some(obj) = body.filter(|b| b.is_object()) else {
        return status(
            400,
            "BadRequest",
            "the body of the request was not a JSON object".into(),
            None,
            None,
        );
    };
    let mut obj = obj.clone();
    if obj["kind"].as_str() != Some(r.kind.kind) {
        return status(
            400,
            "BadRequest",
            format!("the kind {:?} does not match {}", obj["kind"], r.kind.kind),
            None,
            None,
        );
    }
    let ns = r.namespace.clone().unwrap_or_default();
    if r.kind.namespaced {
        match obj["metadata"]["namespace"].as_str() {
            Some(n) if n != ns => {
                return status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request".into(), None, None);
            }
            _ => obj["metadata"]["namespace"] = json!(ns),
        }
    }
    let name = match (
        obj["metadata"]["name"].as_str(),
        obj["metadata"]["generateName"].as_str(),
    ) {
        (Some(n), _) => n.to_owned(),
        (None, Some(g)) => format!("{g}{:05x}", st.version + 1),
        (None, None) => {
            return status(
                422,
                "Invalid",
                format!(
                    "{} \"\" is invalid: metadata.name: Required value",
                    r.kind.kind
                ),
                None,
                None,
            );
        }
    };
    obj["metadata"]["name"] = json!(name);
    let key = (r.kind.resource.to_owned(), ns, name.clone());
    if st.objects.contains_key(&key) {
        return status(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", r.kind.resource),
            Some(&name),
            Some(r.kind.resource),
        );
    }
    let stored = stamp_new(st, obj, r.kind);
    st.objects.insert(key, stored.clone());
    (201, stored)
}

fn patch(
    st: &mut State,
    r: &Route,
    name: &str,
    query: &BTreeMap<String, String>,
    content_type: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let ns = r.namespace.clone().unwrap_or_default();
    let key = (r.kind.resource.to_owned(), ns.clone(), name.to_owned());
    let Some(patch) = body.filter(|b| b.is_object()) else {
        return status(
            400,
            "BadRequest",
            "the patch is not a JSON object".into(),
            None,
            None,
        );
    };
    let ct = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    match ct {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            let Some(existing) = st.objects.get(&key).cloned() else {
                return not_found(r.kind.resource, name);
            };
            if let Some(want) = patch["metadata"]["resourceVersion"].as_str()
                && existing["metadata"]["resourceVersion"].as_str() != Some(want)
            {
                return status(
                    409,
                    "Conflict",
                    format!(
                        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                        r.kind.resource
                    ),
                    Some(name),
                    Some(r.kind.resource),
                );
            }
            let mut updated = existing.clone();
            if ct == "application/merge-patch+json" {
                merge_patch(&mut updated, patch);
            } else if let Err(e) = strategic_merge(&mut updated, patch) {
                return status(400, "BadRequest", e, None, None);
            }
            // Identity fields cannot be changed by a patch.
            for f in ["name", "namespace", "uid", "creationTimestamp"] {
                updated["metadata"][f] = existing["metadata"][f].clone();
            }
            updated["apiVersion"] = existing["apiVersion"].clone();
            updated["kind"] = existing["kind"].clone();
            if updated != existing {
                updated["metadata"]["resourceVersion"] = json!(st.next_version());
                record_manager(
                    &mut updated,
                    query
                        .get("fieldManager")
                        .map(String::as_str)
                        .unwrap_or("kubectl-client-side-apply"),
                    "Update",
                );
            } else {
                updated["metadata"]["resourceVersion"] =
                    existing["metadata"]["resourceVersion"].clone();
            }
            st.objects.insert(key, updated.clone());
            (200, updated)
        }
        "application/apply-patch+yaml" => {
            let Some(manager) = query.get("fieldManager").filter(|m| !m.is_empty()) else {
                return status(
                    400,
                    "BadRequest",
                    "PATCH, application/apply-patch+yaml requires fieldManager".into(),
                    None,
                    None,
                );
            };
            let force = query.get("force").map(String::as_str) == Some("true");
            if patch["apiVersion"].as_str() != Some(r.kind.group_version)
                || patch["kind"].as_str() != Some(r.kind.kind)
            {
                return status(
                    400,
                    "BadRequest",
                    format!(
                        "apply config must name apiVersion {} and kind {}",
                        r.kind.group_version, r.kind.kind
                    ),
                    None,
                    None,
                );
            }
            if patch["metadata"]["name"].as_str() != Some(name) {
                return status(
                    400,
                    "BadRequest",
                    "the name of the object does not match the name on the URL".into(),
                    None,
                    None,
                );
            }
            if r.kind.namespaced
                && patch["metadata"]["namespace"]
                    .as_str()
                    .is_some_and(|n| n != ns)
            {
                return status(
                    400,
                    "BadRequest",
                    "the namespace of the object does not match the namespace on the URL".into(),
                    None,
                    None,
                );
            }
            match st.objects.get(&key).cloned() {
                None => {
                    let mut obj = patch.clone();
                    obj["metadata"]["namespace"] = if r.kind.namespaced {
                        json!(ns)
                    } else {
                        Value::Null
                    };
                    if !r.kind.namespaced {
                        obj["metadata"]
                            .as_object_mut()
                            .expect("metadata")
                            .remove("namespace");
                    }
                    record_manager(&mut obj, manager, "Apply");
                    let stored = stamp_new(st, obj, r.kind);
                    st.objects.insert(key, stored.clone());
                    (201, stored)
                }
                Some(existing) => {
                    let others: Vec<String> = existing["metadata"]["managedFields"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|m| m["manager"].as_str())
                        .filter(|m| m != manager)
                        .map(str::to_owned)
                        .collect();
                    let mut conflicts = Vec::new();
                    let mut config = patch.clone();
                    config.as_object_mut().expect("object").remove("status");
                    changed_leaves(&existing, &config, "", &mut conflicts);
                    if !force && !others.is_empty() && !conflicts.is_empty() {
                        return status(
                            409,
                            "Conflict",
                            format!(
                                "Apply failed with {} conflict(s): conflict with \"{}\": {}",
                                conflicts.len(),
                                others[0],
                                conflicts.join(", ")
                            ),
                            Some(name),
                            Some(r.kind.resource),
                        );
                    }
                    let mut updated = existing.clone();
                    apply_merge(&mut updated, &config);
                    for f in [
                        "name",
                        "namespace",
                        "uid",
                        "creationTimestamp",
                        "resourceVersion",
                        "managedFields",
                    ] {
                        updated["metadata"][f] = existing["metadata"][f].clone();
                    }
                    if updated != existing {
                        updated["metadata"]["resourceVersion"] = json!(st.next_version());
                    }
                    if force {
                        // Forced: the conflicting fields now belong to this manager alone.
                        if let Some(mf) = updated["metadata"]["managedFields"].as_array_mut()
                            && !conflicts.is_empty()
                        {
                            mf.retain(|m| m["manager"].as_str() == Some(manager));
                        }
                    }
                    record_manager(&mut updated, manager, "Apply");
                    st.objects.insert(key, updated.clone());
                    (200, updated)
                }
            }
        }
        "application/json-patch+json" => status(
            415,
            "UnsupportedMediaType",
            "json-patch is not implemented by this fake (the executor never sends it)".into(),
            None,
            None,
        ),
        other => status(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"
            ),
            None,
            None,
        ),
    }
}

fn record_manager(obj: &mut Value, manager: &str, operation: &str) {
    let api_version = obj["apiVersion"].clone();
    let meta = obj["metadata"].as_object_mut().expect("metadata");
    let list = meta.entry("managedFields").or_insert_with(|| json!([]));
    let Some(list) = list.as_array_mut() else {
        return;
    };
    if !list.iter().any(|m| {
        m["manager"].as_str() == Some(manager) && m["operation"].as_str() == Some(operation)
    }) {
        list.push(json!({ "manager": manager, "operation": operation, "apiVersion": api_version, "fieldsType": "FieldsV1" }));
    }
}

/// RFC 7386.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Strategic merge for the shapes this fake stores: maps merge (null deletes), lists of
/// objects that all have a `name` merge by name, other lists replace. `$setElementOrder`
/// directives are accepted and ignored; other `$` directives are a 400.
fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), String> {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if k.starts_with("$setElementOrder/") {
                    continue;
                }
                if k.starts_with('$') {
                    return Err(format!("directive {k} is not implemented by this fake"));
                }
                if v.is_null() {
                    t.remove(k);
                    continue;
                }
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                match (slot.as_array_mut(), v.as_array()) {
                    (Some(old), Some(new)) if named(old) && named(new) => {
                        for item in new {
                            match old.iter_mut().find(|o| o["name"] == item["name"]) {
                                Some(o) => strategic_merge(o, item)?,
                                None => old.push(item.clone()),
                            }
                        }
                    }
                    _ => strategic_merge(slot, v)?,
                }
            }
            Ok(())
        }
        other => {
            *target = other.clone();
            Ok(())
        }
    }
}

fn named(list: &[Value]) -> bool {
    !list.is_empty() && list.iter().all(|i| i["name"].is_string())
}

/// Server-side apply's merge: the config's maps merge into the object, its lists and
/// scalars replace; fields the config does not mention stay.
fn apply_merge(target: &mut Value, config: &Value) {
    match (target.as_object_mut(), config) {
        (Some(t), Value::Object(c)) => {
            for (k, v) in c {
                apply_merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        _ => *target = config.clone(),
    }
}

/// Paths where `config` sets a value `existing` already has differently.
fn changed_leaves(existing: &Value, config: &Value, at: &str, out: &mut Vec<String>) {
    match (existing, config) {
        (Value::Object(e), Value::Object(c)) => {
            for (k, v) in c {
                if at.is_empty() && (k == "apiVersion" || k == "kind") {
                    continue;
                }
                if let Some(ev) = e.get(k) {
                    changed_leaves(ev, v, &format!("{at}.{k}"), out);
                }
            }
        }
        (e, c) if e != c => out.push(at.to_owned()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_like_the_api_server() {
        let labels: Map<String, Value> =
            serde_json::from_value(json!({"app": "web", "tier": "fe"})).unwrap();
        let m = |s: &str| {
            parse_label_selector(s)
                .unwrap()
                .iter()
                .all(|r| r.matches(&labels))
        };
        assert!(
            m("app=web")
                && m("app==web,tier")
                && m("app in (web, api)")
                && m("!gone")
                && m("tier notin (be)")
        );
        assert!(!m("app!=web") && !m("gone") && !m("app in (api)"));
        assert!(parse_field_selector("spec.nodeName=n1").is_ok());
        assert!(parse_field_selector("spec.hostname=n1").is_err());
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut t = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge_patch(&mut t, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(t, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn strategic_merge_merges_named_lists() {
        let mut t =
            json!({"spec": {"containers": [{"name": "a", "image": "x"}], "unschedulable": null}});
        strategic_merge(&mut t, &json!({"spec": {"containers": [{"name": "a", "image": "y"}, {"name": "b"}], "unschedulable": true}})).unwrap();
        assert_eq!(
            t["spec"]["containers"],
            json!([{"name": "a", "image": "y"}, {"name": "b"}])
        );
        assert_eq!(t["spec"]["unschedulable"], json!(true));
    }

    #[test]
    fn paths_route_to_resources() {
        assert!(
            route("/api/v1/namespaces/web/pods/x")
                .is_some_and(|r| r.kind.resource == "pods" && r.name.as_deref() == Some("x"))
        );
        assert!(route("/api/v1/pods").is_some_and(|r| r.namespace.is_none() && r.name.is_none()));
        assert!(route("/api/v1/nodes/n1").is_some());
        assert!(route("/api/v1/namespaces/web/nodes/n1").is_none());
        assert!(route("/apis/networking.k8s.io/v1/namespaces/web/networkpolicies").is_some());
        assert!(route("/api/v1/namespaces/web/pods/x/status").is_none());
        assert!(route("/api/v1/namespaces/web/secrets/x").is_none());
    }
}
