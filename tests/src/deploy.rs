//! Reading a deployment back from moto, for the deploy test: what exists
//! (`deploy/inventory.py`) and where each `events/` sample is routed
//! (`deploy/routing.py`, moto's own EventBridge pattern matcher on the rules as deployed).
//! Both run in moto's Python, which has boto3 and moto's modules.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Terraform resource type => `account/id` of everything of that type.
pub type Inventory = BTreeMap<String, Vec<String>>;

/// Per deployment prefix: sample file => targets it reaches (function names without the
/// prefix). `problems`: targets that could never be delivered.
#[derive(Debug, Deserialize)]
pub struct Routing {
    pub routes: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    pub problems: Vec<String>,
}

fn run_python(script: &str, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new(crate::moto::python_path());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .arg("-c")
        .arg(script)
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .map_err(|e| format!("run python: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The module's `finding_source` whose rules can deliver a sample: `"securityhub"` for a
/// Security Hub import; none for an envelope with a PascalCase `detail` (a replay file:
/// EventBridge only carries GuardDuty's camelCase); else `"guardduty"`.
pub fn delivered_from(event: &serde_json::Value) -> Option<&'static str> {
    let detail = &event["detail"];
    if event["source"] == "aws.securityhub" {
        Some("securityhub")
    } else if detail.get("id").is_none() && detail.get("Id").is_some() {
        None
    } else {
        Some("guardduty")
    }
}

/// Everything in moto's default account and in the account of each of `roles`.
pub fn inventory(endpoint: &str, roles: &[String]) -> Result<Inventory, String> {
    let mut args = vec![endpoint];
    args.extend(roles.iter().map(String::as_str));
    let out = run_python(include_str!("deploy/inventory.py"), &args)?;
    serde_json::from_slice(&out).map_err(|e| format!("inventory output: {e}"))
}

/// Where each sample of `events_dir` goes, for each deployment prefix.
pub fn routing(endpoint: &str, events_dir: &Path, prefixes: &[&str]) -> Result<Routing, String> {
    let dir = events_dir.to_string_lossy();
    let mut args = vec![endpoint, dir.as_ref()];
    args.extend(prefixes);
    let out = run_python(include_str!("deploy/routing.py"), &args)?;
    serde_json::from_slice(&out).map_err(|e| format!("routing output: {e}"))
}

/// What was created: for each inventoried type, the items of `after` not in `before`.
pub fn added(before: &Inventory, after: &Inventory) -> BTreeMap<String, Vec<String>> {
    after
        .iter()
        .map(|(kind, ids)| {
            let old = before.get(kind).map(Vec::as_slice).unwrap_or_default();
            let new = ids.iter().filter(|i| !old.contains(i)).cloned().collect();
            (kind.clone(), new)
        })
        .collect()
}
