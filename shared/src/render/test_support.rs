//! Plans from the `events/` samples, changed field by field, for the renderers' unit tests.

use crate::Config;
use crate::pipeline::{Handled, plan_input};
use crate::plan::ResponsePlan;
use serde_json::Value;

/// An `events/` sample as JSON, to be changed before planning.
pub fn event(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&bytes).expect("a JSON event")
}

/// The one plan of an event (default configuration).
pub fn plan_of(event: &Value) -> ResponsePlan {
    plan_with(event, &Config::default())
}

pub fn plan_with(event: &Value, config: &Config) -> ResponsePlan {
    let bytes = event.to_string();
    match plan_input(bytes.as_bytes(), config)
        .expect("plans")
        .remove(0)
    {
        Handled::Plan(p) => *p,
        Handled::NotAFinding { .. } => panic!("not a finding"),
    }
}

/// Lures for every field that can reach markup or a URL.
pub const HOSTILE: [&str; 8] = [
    "<script>document.body.setAttribute('data-pwned','1')</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "us-east-1\"><script>",
    "<!channel> <https://evil.example|x>",
    "a|b>c",
    "i-0123456789abcdef0/../../x",
    "x\u{202e}y\n\u{1b}[31m",
];
