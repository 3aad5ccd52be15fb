//! Every sample in `events/` reaches exactly the function of its surface: the EventBridge
//! patterns in `infra/patterns/` (the ones Terraform deploys) are evaluated by moto's
//! implementation of EventBridge pattern matching, and compared with the surface our
//! own pipeline classifies each event into; and with `finding_source = "securityhub"`, the
//! patterns in `infra/patterns/securityhub/` the same way for Security Hub imports.

use integration_tests::deploy::delivered_from;
use responder::Config;
use responder::finding::snapshot_event::SNAPSHOT_DETAIL_TYPE;
use responder::pipeline::{Handled, plan_input};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const MATCHER: &str = r#"
import json, os, sys
from moto.events.models import EventPattern

# EventBridge matches a path through an array of objects against every element's value
# (Security Hub's detail.findings[].Resources[].Type); moto 5.2.5 does not, so such arrays
# are merged into one object of value lists first.
def arrays(v):
    if isinstance(v, dict):
        return {k: arrays(x) for k, x in v.items()}
    if not isinstance(v, list):
        return v
    items = [arrays(x) for x in v]
    if items and all(isinstance(x, dict) for x in items):
        merged = {}
        for x in items:
            for k, y in x.items():
                merged.setdefault(k, []).extend(y if isinstance(y, list) else [y])
        return {k: arrays(ys) if all(isinstance(y, dict) for y in ys) else ys for k, ys in merged.items()}
    return [y for x in items for y in (x if isinstance(x, list) else [x])]
patterns = {f[:-5]: EventPattern.load(open(os.path.join(sys.argv[1], f)).read())
            for f in sorted(os.listdir(sys.argv[1])) if f.endswith(".json")}
out = {}
for f in sorted(os.listdir(sys.argv[2])):
    if not f.endswith(".json"): continue
    event = arrays(json.load(open(os.path.join(sys.argv[2], f))))
    if "detail-type" not in event: continue
    out[f] = [name for name, p in patterns.items() if p.matches_event(event)]
print(json.dumps(out))
"#;

/// Which pattern of `patterns_dir` each sample with a `detail-type` matches, by moto.
fn matches(patterns_dir: &str) -> BTreeMap<String, Vec<String>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(integration_tests::moto::python_path())
        .arg("-c")
        .arg(MATCHER)
        .arg(root.join(patterns_dir))
        .arg(root.join("events"))
        .output()
        .expect("run python with moto");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The functions a sample must reach when the rules listen to `finding_source`.
fn expected(file: &str, finding_source: &str) -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bytes = std::fs::read(root.join("events").join(file)).unwrap();
    // serde_json rejects the lone surrogates of degraded-fields.json: Null reads as GuardDuty's.
    let sample = serde_json::from_slice(&bytes).unwrap_or_default();
    if delivered_from(&sample) != Some(finding_source) {
        return vec![];
    }
    match plan_input(&bytes, &Config::default()).unwrap().remove(0) {
        Handled::NotAFinding { detail_type }
            if detail_type.starts_with("GuardDuty Runtime Protection") =>
        {
            vec!["coverage".into()]
        }
        // EBS's createSnapshot notification: the forensic copies' follow-up rule.
        Handled::NotAFinding { detail_type } if detail_type == SNAPSHOT_DETAIL_TYPE => {
            vec!["ec2-snapshot-completed".into()]
        }
        Handled::NotAFinding { .. } => vec![],
        Handled::Plan(p) if p.classification.is_runtime => vec![p.surface.as_str().to_owned()],
        // Attack sequences span surfaces: their own rule (patterns/attack-sequence.json).
        Handled::Plan(p)
            if p.classification.is_attack_sequence && finding_source == "guardduty" =>
        {
            vec!["attack-sequence".to_owned()]
        }
        // Non-Runtime findings must not reach any function.
        Handled::Plan(_) => vec![],
    }
}

#[test]
fn each_sample_matches_exactly_the_rule_of_its_surface() {
    let matched = matches("infra/patterns");
    assert!(matched.len() >= 12, "{matched:?}");
    for (file, rules) in &matched {
        assert_eq!(rules, &expected(file, "guardduty"), "{file}");
    }
}

/// `finding_source = "securityhub"`: the Security Hub imports reach their surface's rule,
/// and nothing GuardDuty sends directly matches (no finding is contained twice).
#[test]
fn security_hub_rules_take_only_security_hub_imports_of_their_surface() {
    let matched = matches("infra/patterns/securityhub");
    let imports = matched
        .keys()
        .filter(|f| !expected(f, "securityhub").is_empty())
        .count();
    assert!(imports >= 2, "{matched:?}");
    for (file, rules) in &matched {
        assert_eq!(rules, &expected(file, "securityhub"), "{file}");
    }
}
