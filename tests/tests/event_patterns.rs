//! Every sample in `events/` reaches exactly the function of its surface: the EventBridge
//! patterns in `infra/patterns/` (the ones Terraform deploys) are evaluated by moto's
//! implementation of EventBridge pattern matching, and compared with the surface our
//! own pipeline classifies each event into.

use responder::Config;
use responder::pipeline::{Handled, plan_input};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const MATCHER: &str = r#"
import json, os, sys
from moto.events.models import EventPattern
patterns = {f[:-5]: EventPattern.load(open(os.path.join(sys.argv[1], f)).read())
            for f in sorted(os.listdir(sys.argv[1])) if f.endswith(".json")}
out = {}
for f in sorted(os.listdir(sys.argv[2])):
    if not f.endswith(".json"): continue
    event = json.load(open(os.path.join(sys.argv[2], f)))
    if "detail-type" not in event: continue
    out[f] = [name for name, p in patterns.items() if p.matches_event(event)]
print(json.dumps(out))
"#;

#[test]
fn each_sample_matches_exactly_the_rule_of_its_surface() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(integration_tests::moto::python_path())
        .arg("-c")
        .arg(MATCHER)
        .arg(root.join("infra/patterns"))
        .arg(root.join("events"))
        .output()
        .expect("run python with moto");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let matched: BTreeMap<String, Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(matched.len() >= 12, "{matched:?}");
    for (file, rules) in &matched {
        let bytes = std::fs::read(root.join("events").join(file)).unwrap();
        let expected: Vec<String> = match plan_input(&bytes, &Config::default()).unwrap().remove(0)
        {
            Handled::NotAFinding { detail_type }
                if detail_type.starts_with("GuardDuty Runtime Protection") =>
            {
                vec!["coverage".into()]
            }
            Handled::NotAFinding { .. } => vec![],
            Handled::Plan(p) if p.classification.is_runtime => vec![p.surface.as_str().to_owned()],
            // Non-Runtime findings must not reach any function.
            Handled::Plan(_) => vec![],
        };
        assert_eq!(rules, &expected, "{file}");
    }
}
