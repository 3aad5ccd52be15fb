//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`, as the API server (and the kubelet
//! behind it) answers:
//!
//! * the pod must exist (404); `container` may be left out only for a one-container pod,
//!   else a 400 naming the choices; a container not in the pod's spec is a 400;
//! * `previous=true` reads the instance before the last restart; when there is none, a 400
//!   `previous terminated container "…" in pod "…" not found`;
//! * `sinceSeconds` (at least 1) keeps the lines written since; `tailLines` the last N;
//!   `timestamps=true` prefixes each line with its RFC 3339 time; `limitBytes` (at least
//!   1) cuts the answer at that many bytes, mid-line if need be;
//! * the answer is `text/plain`, the lines as the container wrote them.

use super::*;
use chrono::{DateTime, Utc};

/// One line a container wrote, and when.
#[derive(Debug, Clone)]
pub(super) struct LogLine {
    pub(super) at: DateTime<Utc>,
    pub(super) text: String,
}

/// `(namespace, pod, container, previous)`
pub(super) type LogKey = (String, String, String, bool);

fn containers(pod: &Value) -> Vec<String> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| pod["spec"][*k].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .collect()
}

fn bad(message: String) -> (u16, Value) {
    status(400, "BadRequest", message, None, None)
}

fn positive(query: &BTreeMap<String, String>, key: &str) -> Result<Option<i64>, (u16, Value)> {
    match query.get(key) {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 1 || (key == "tailLines" && n >= 0) => Ok(Some(n)),
            _ => Err(bad(format!(
                "{key}: Invalid value: {v:?}: must be greater than 0"
            ))),
        },
    }
}

pub(super) fn pod_log(
    st: &State,
    ns: &str,
    name: &str,
    query: &BTreeMap<String, String>,
) -> (u16, Value) {
    let Some(pod) = st
        .objects
        .get(&("pods".to_owned(), ns.to_owned(), name.to_owned()))
    else {
        return not_found("pods", name);
    };
    let names = containers(pod);
    let container = match query.get("container") {
        Some(c) => c.clone(),
        None if names.len() == 1 => names[0].clone(),
        None => {
            return bad(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            ));
        }
    };
    if !names.contains(&container) {
        return bad(format!("container {container} is not valid for pod {name}"));
    }
    let previous = query.get("previous").is_some_and(|v| v == "true");
    let (since, tail, limit) = match (
        positive(query, "sinceSeconds"),
        positive(query, "tailLines"),
        positive(query, "limitBytes"),
    ) {
        (Ok(s), Ok(t), Ok(l)) => (s, t, l),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e,
    };
    let key = (ns.to_owned(), name.to_owned(), container.clone(), previous);
    let lines = match st.logs.get(&key) {
        Some(l) => l.clone(),
        None if previous => {
            return bad(format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            ));
        }
        None => Vec::new(),
    };
    let now = Utc::now();
    let mut kept: Vec<&LogLine> = lines
        .iter()
        .filter(|l| since.is_none_or(|s| l.at >= now - chrono::Duration::seconds(s)))
        .collect();
    if let Some(t) = tail {
        let t = usize::try_from(t).unwrap_or(usize::MAX);
        kept = kept.split_off(kept.len().saturating_sub(t));
    }
    let stamps = query.get("timestamps").is_some_and(|v| v == "true");
    let mut text = String::new();
    for l in kept {
        if stamps {
            text.push_str(&l.at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
            text.push(' ');
        }
        text.push_str(&l.text);
        text.push('\n');
    }
    if let Some(l) = limit {
        let mut cut = usize::try_from(l).unwrap_or(usize::MAX).min(text.len());
        // Bytes on the wire; a cut inside a character is moved back to stay text here.
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    (200, Value::String(text))
}
