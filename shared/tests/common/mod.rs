//! Helpers shared by the tests that replay `events/` through the pure pipeline.
#![allow(dead_code)]

use responder::Config;
use responder::pipeline::{Handled, plan_input};
use responder::plan::ResponsePlan;
use std::path::PathBuf;

pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

pub fn read(file: &str) -> Vec<u8> {
    std::fs::read(events_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The plans for every finding in `bytes` (inputs that are not findings give none).
pub fn plans(bytes: &[u8]) -> Vec<ResponsePlan> {
    plan_input(bytes, &Config::default())
        .unwrap_or_else(|e| panic!("rejected: {e}"))
        .into_iter()
        .filter_map(|h| match h {
            Handled::Plan(p) => Some(*p),
            Handled::NotAFinding { .. } => None,
        })
        .collect()
}

/// Every `*.json` file in `events/`, sorted.
pub fn event_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(events_dir())
        .expect("events/ is readable")
        .map(|e| {
            let name = e.expect("a directory entry").file_name();
            name.into_string().expect("a UTF-8 file name")
        })
        .filter(|f| f.ends_with(".json"))
        .collect();
    files.sort();
    files
}

/// Every string in a JSON document (what Slack receives).
pub fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The hosts of the links the renderers build (from validated parts only).
pub const OUR_LINK_HOSTS: [&str; 4] = [
    "https://console.aws.amazon.com/",
    "https://console.amazonaws.cn/",
    "https://console.amazonaws-us-gov.com/",
    "https://attack.mitre.org/",
];

/// A Slack text with our own `<https://…|label>` links taken out; panics on a link of ours
/// whose URL or label could carry markup. What is left is attacker-reachable text.
pub fn without_our_links(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("<https://") {
        let tail = &rest[at + 1..];
        let Some(end) = tail.find('>') else { break };
        let (url, label) = tail[..end].split_once('|').unwrap_or((&tail[..end], ""));
        if !OUR_LINK_HOSTS.iter().any(|h| url.starts_with(h)) {
            break;
        }
        assert!(
            !url.contains([' ', '"', '<']) && !label.contains(['<', '|']),
            "a link of ours carries markup: {s:?}"
        );
        out.push_str(&rest[..at]);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}
