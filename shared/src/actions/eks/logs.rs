//! Each container's logs for the pod's evidence bundle (`pods/log`): the current instance
//! and the previous one (the instance before the last restart, often the one that ran
//! the attack), the last `evidence.log_minutes`, each cut at `evidence.log_max_bytes`.
//!
//! The bytes are the workload's own output, stored verbatim (never decoded, never
//! rendered into an alert): the API server's `timestamps=true` prefixes each line with its
//! RFC 3339 time. `limitBytes` asks the API server to stop there; the reader stops there
//! too, whatever the server sends.

use super::k8s::ApiError;
use super::pod::PodView;
use crate::evidence::collect::{Collected, Collection, Missing};
use crate::options::EvidenceOptions;
use futures::AsyncReadExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

/// The logs of every container of `p`, current and previous, read concurrently.
pub(crate) async fn collect(
    client: &kube::Client,
    options: &EvidenceOptions,
    p: &PodView,
) -> Collection {
    let api: Api<Pod> = Api::namespaced(client.clone(), &p.namespace);
    let reads = p.containers.iter().flat_map(|c| {
        let api = &api;
        [false, true].map(move |previous| one(api, options, &p.name, c, previous))
    });
    let mut out = Collection::default();
    for r in futures::future::join_all(reads).await {
        out.add(r);
    }
    out
}

/// `logs/<container>.log` or `logs/<container>.previous.log`.
async fn one(
    api: &Api<Pod>,
    options: &EvidenceOptions,
    pod: &str,
    container: &str,
    previous: bool,
) -> Result<Collected, Missing> {
    let name = if previous {
        format!("logs/{container}.previous.log")
    } else {
        format!("logs/{container}.log")
    };
    let limit = options.log_max_bytes.max(1);
    let params = LogParams {
        container: Some(container.to_owned()),
        previous,
        since_seconds: Some(i64::from(options.log_minutes.max(1)) * 60),
        limit_bytes: Some(i64::try_from(limit).unwrap_or(i64::MAX)),
        timestamps: true,
        ..LogParams::default()
    };
    let stream = match api.log_stream(pod, &params).await {
        Ok(s) => s,
        // The API server's answer when the container has not restarted (or its previous
        // instance is gone): "previous terminated container … not found".
        Err(e) if previous && super::k8s::code(&e) == Some(400) => {
            return Err(Missing::Absent(format!(
                "{name}: no previous instance of container {container} ({})",
                ApiError::new(&e, "get", "pods/log")
            )));
        }
        Err(e) => {
            return Err(Missing::Gap(format!(
                "{name}: {}",
                ApiError::new(&e, "get", "pods/log")
            )));
        }
    };
    let mut bytes = Vec::new();
    let read = stream
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .await;
    if let Err(e) = read {
        return Err(Missing::Gap(format!(
            "{name}: the log stream broke after {} bytes: {}",
            bytes.len(),
            crate::sanitize::ascii_line(&e.to_string(), 200)
        )));
    }
    // At the limit the server (or this reader) stopped: the log was cut.
    let cut = bytes.len() >= limit;
    bytes.truncate(limit);
    let what = if previous {
        "kubernetes:get pods/log (previous)"
    } else {
        "kubernetes:get pods/log"
    };
    let source = if cut {
        format!("{what} (cut at {limit} bytes)")
    } else {
        what.to_owned()
    };
    Ok(Collected::new(name, &source, bytes))
}
