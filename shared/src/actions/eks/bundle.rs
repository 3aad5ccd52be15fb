//! The pod's evidence bundle (docs/evidence.md): the finding and the pod as the executor
//! read it to find it, before any change (reused, never read again), then, alongside
//! isolation, its owner chain, ServiceAccount, Events, each container's logs (current and
//! previous instance) and its node. Read-only calls, each in the responder's RBAC
//! (permissions.rs); whatever fails is a gap of the bundle, never of the containment.

use super::k8s::{ApiError, code};
use super::pod::PodView;
use crate::evidence::BundlePrefix;
use crate::evidence::collect::{Collected, Collection, Evidence, Missing, Subject};
use crate::outcome::Step;
use k8s_openapi::api::core::v1::{Event, Node, ServiceAccount};
use kube::api::{Api, ListParams};

/// Events read at most: a pod in a crash loop has a few, an attacker cannot make many
/// about a pod (Events are deduplicated by the API server and expire).
const MAX_EVENTS: u32 = 500;

/// `<namespace>.<pod name>`, or `<namespace>.<pod uid>` when the name does not fit a
/// bundle's resource part (a pod name may be 253 characters, a part at most 128).
/// Namespaces are DNS labels (no `.`), so the first `.` always ends the namespace.
pub(crate) fn prefix(subject: &Subject<'_>, p: &PodView) -> Result<BundlePrefix, String> {
    subject
        .prefix(&format!("{}.{}", p.namespace, p.name))
        .or_else(|_| subject.prefix(&format!("{}.{}", p.namespace, p.uid)))
        .map_err(|e| format!("no bundle: {e}"))
}

pub(crate) async fn write(
    client: &kube::Client,
    ev: &Evidence,
    subject: &Subject<'_>,
    p: &PodView,
) -> Step {
    let prefix = match prefix(subject, p) {
        Ok(prefix) => prefix,
        Err(e) => return Step::failed(e),
    };
    let before = vec![
        subject.finding_object(),
        Collected::json("describe/pod.json", "kubernetes:get pods", &p.described),
    ];
    ev.write_bundle(prefix, before, collect(client, ev, p))
        .await
}

async fn collect(client: &kube::Client, ev: &Evidence, p: &PodView) -> Collection {
    let (owners, logs, account, events, node) = futures::join!(
        super::owners::chain(client, &p.namespace, &p.uid, &p.described),
        super::logs::collect(client, &ev.options, p),
        service_account(client, p),
        events(client, p),
        node(client, p),
    );
    let mut out = owners;
    out.extend(logs);
    for one in [account, events, node] {
        out.add(one);
    }
    out
}

fn gap(name: &str, e: &kube::Error, verb: &str, resource: &str) -> Missing {
    Missing::Gap(format!("{name}: {}", ApiError::new(e, verb, resource)))
}

/// `describe/serviceaccount.json`: the account the pod runs as (its IAM role annotation,
/// its token settings).
async fn service_account(client: &kube::Client, p: &PodView) -> Result<Collected, Missing> {
    const NAME: &str = "describe/serviceaccount.json";
    let account = p.service_account.as_deref().unwrap_or("default");
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &p.namespace);
    match api.get(account).await {
        Ok(sa) => Ok(Collected::json(
            NAME,
            "kubernetes:get serviceaccounts",
            &serde_json::to_value(sa).unwrap_or_default(),
        )),
        Err(e) if code(&e) == Some(404) => Err(Missing::Absent(format!(
            "{NAME}: serviceaccount {account} not found"
        ))),
        Err(e) => Err(gap(NAME, &e, "get", "serviceaccounts")),
    }
}

/// `describe/events.json`: the core/v1 Events about this pod (by name, namespace and UID,
/// so not a former pod of the same name).
async fn events(client: &kube::Client, p: &PodView) -> Result<Collected, Missing> {
    const NAME: &str = "describe/events.json";
    let api: Api<Event> = Api::namespaced(client.clone(), &p.namespace);
    let fields = format!(
        "involvedObject.name={},involvedObject.namespace={},involvedObject.uid={}",
        p.name, p.namespace, p.uid
    );
    let params = ListParams::default().fields(&fields).limit(MAX_EVENTS);
    match api.list(&params).await {
        Ok(list) => {
            let mut source = "kubernetes:list events".to_owned();
            if list
                .metadata
                .continue_
                .as_deref()
                .is_some_and(|c| !c.is_empty())
            {
                source.push_str(&format!(" (the first {MAX_EVENTS})"));
            }
            Ok(Collected::json(
                NAME,
                &source,
                &serde_json::to_value(&list).unwrap_or_default(),
            ))
        }
        Err(e) => Err(gap(NAME, &e, "list", "events")),
    }
}

/// `describe/node.json`: the node the pod runs on, read alongside isolation (it may
/// already show the cordon and the responder's label).
async fn node(client: &kube::Client, p: &PodView) -> Result<Collected, Missing> {
    const NAME: &str = "describe/node.json";
    let Some(name) = p.node_name.as_deref() else {
        return Err(Missing::Absent(format!(
            "{NAME}: the pod is not scheduled on a node"
        )));
    };
    let api: Api<Node> = Api::all(client.clone());
    match api.get(name).await {
        Ok(n) => Ok(Collected::json(
            NAME,
            "kubernetes:get nodes",
            &serde_json::to_value(n).unwrap_or_default(),
        )),
        Err(e) if code(&e) == Some(404) => {
            Err(Missing::Absent(format!("{NAME}: node {name} not found")))
        }
        Err(e) => Err(gap(NAME, &e, "get", "nodes")),
    }
}
