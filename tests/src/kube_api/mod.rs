//! A local Kubernetes API server over HTTPS, for the EKS executor's tests.
//!
//! No kube-apiserver can be installed here, so this implements exactly the endpoints the
//! executor and release call, with the semantics they rely on:
//!
//! * objects are stored (pods, nodes, events, serviceaccounts, networkpolicies, and the
//!   workloads that own pods: daemonsets, replicasets, deployments, statefulsets, jobs,
//!   cronjobs), get a `uid`,
//!   `resourceVersion` (bumped on every write) and `creationTimestamp`;
//! * reads: get (404 `NotFound`), list in a namespace or across all, with `labelSelector`
//!   (`k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (…)`, `k notin (…)`), `fieldSelector`
//!   (`metadata.name`, `metadata.namespace`, `spec.nodeName`, `status.phase`, and on
//!   events `involvedObject.*`, `reason`, `type`; others are a 400 as on a real server)
//!   and `limit`; a pod's `log` (`logs.rs`: `container`, `previous`, `sinceSeconds`,
//!   `tailLines`, `timestamps`, `limitBytes`);
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
//! * every request is recorded ([`KubeApi::requests`]); faults can be injected per call
//!   ([`KubeApi::inject`]: 429, 503, a 504 after acting, a body cut in half).
//!
//! The folder: `server.rs` answers one request, `routes.rs` maps paths to kinds and verbs,
//! `store.rs` holds the objects, `selectors.rs` parses and matches selectors, `patch.rs`
//! implements the three PATCH semantics.
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

mod logs;
mod patch;
mod routes;
mod selectors;
mod server;
mod store;

use logs::*;
pub use patch::merge_patch;
use patch::*;
use routes::*;
use selectors::*;
use server::*;
use store::*;

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
        call(&self.method, &self.path)
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
    /// What each container (and its previous instance) wrote, for `pods/log`.
    logs: BTreeMap<LogKey, Vec<LogLine>>,
    version: u64,
}

impl State {
    fn next_version(&mut self) -> String {
        self.version += 1;
        self.version.to_string()
    }
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

    /// What `container` of pod `ns/pod` wrote, just now, one line each; `previous`: its
    /// instance before the last restart (without one, `previous=true` is a 400).
    pub fn set_log(&self, ns: &str, pod: &str, container: &str, previous: bool, lines: &[&str]) {
        let lines: Vec<_> = lines.iter().map(|l| (0, *l)).collect();
        self.set_log_aged(ns, pod, container, previous, &lines);
    }

    /// As [`KubeApi::set_log`], each line written `seconds` ago.
    pub fn set_log_aged(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        previous: bool,
        lines: &[(i64, &str)],
    ) {
        let now = chrono::Utc::now();
        self.state.lock().unwrap().logs.insert(
            (ns.into(), pod.into(), container.into(), previous),
            lines
                .iter()
                .map(|(ago, text)| LogLine {
                    at: now - chrono::Duration::seconds(*ago),
                    text: (*text).to_owned(),
                })
                .collect(),
        );
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }
}

#[cfg(test)]
mod tests;
