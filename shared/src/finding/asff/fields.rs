//! `ProductFields`: GuardDuty writes the finding's `service` (and some `resource`) members
//! into Security Hub as flat string keys, `aws/guardduty/service/runtimeDetails/process/name`.
//! Unflattening them gives back the nested camelCase object the finding model reads.

use serde_json::{Map, Value};

/// Deeper keys are not GuardDuty's (its deepest is about ten) and would only cost stack.
const MAX_SEGMENTS: usize = 16;

/// The keys under `prefix`, nested again. Empty strings (how ASFF writes an absent
/// member) are left out; where a key is both a value and a parent, the parent wins.
/// Objects whose keys are all indices (`lineage/0/name`) become lists.
pub fn unflatten(fields: &Map<String, Value>, prefix: &str) -> Map<String, Value> {
    let mut root = Map::new();
    for (key, value) in fields {
        let Some(path) = key.strip_prefix(prefix) else {
            continue;
        };
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() > MAX_SEGMENTS || parts.iter().any(|p| p.is_empty()) {
            continue;
        }
        if value.as_str().is_some_and(str::is_empty) {
            continue;
        }
        insert(&mut root, &parts, value.clone());
    }
    match lists(Value::Object(root)) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn insert(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            map.entry(*last).or_insert(value);
        }
        [first, rest @ ..] => {
            let child = map
                .entry(*first)
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(inner) = child {
                insert(inner, rest, value);
            }
        }
    }
}

fn lists(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let indexed: Option<Vec<(usize, Value)>> = (!map.is_empty())
                .then(|| {
                    map.iter()
                        .map(|(k, v)| Some((k.parse::<usize>().ok()?, v.clone())))
                        .collect()
                })
                .flatten();
            match indexed {
                Some(mut items) => {
                    items.sort_by_key(|(i, _)| *i);
                    Value::Array(items.into_iter().map(|(_, v)| lists(v)).collect())
                }
                None => Value::Object(map.into_iter().map(|(k, v)| (k, lists(v))).collect()),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_keys_nest_again_and_indices_become_lists() {
        let fields = json!({
            "aws/guardduty/service/count": "3",
            "aws/guardduty/service/additionalInfo": "",
            "aws/guardduty/service/additionalInfo/value": "{}",
            "aws/guardduty/service/runtimeDetails/process/lineage/1/name": "sshd",
            "aws/guardduty/service/runtimeDetails/process/lineage/0/name": "bash",
            "aws/guardduty/service/evidence": "",
            "aws/guardduty/service//x": "skipped",
            "aws/securityhub/FindingId": "other prefix"
        });
        let service = unflatten(fields.as_object().unwrap(), "aws/guardduty/service/");
        assert_eq!(
            Value::Object(service),
            json!({"count": "3", "additionalInfo": {"value": "{}"},
                   "runtimeDetails": {"process": {"lineage": [{"name": "bash"}, {"name": "sshd"}]}}})
        );
        let deep = format!("aws/guardduty/service/{}b", "a/".repeat(100_000));
        let fields = json!({ deep: "x" });
        assert!(unflatten(fields.as_object().unwrap(), "aws/guardduty/service/").is_empty());
    }
}
