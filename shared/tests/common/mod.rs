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
