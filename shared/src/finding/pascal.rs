//! `aws guardduty get-findings` prints SDK member names (PascalCase); EventBridge uses the
//! REST-JSON names (camelCase). Converting keys lets one model read both.

use serde_json::{Map, Value};

/// Rewrites every object key to its camelCase JSON name, recursively.
pub fn camel_case_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (json_name(&k), camel_case_keys(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case_keys).collect()),
        other => other,
    }
}

/// The JSON name of an SDK member. Most differ only in the first letter; the exceptions
/// are the documented renames.
pub(super) fn json_name(member: &str) -> String {
    match member {
        "SourceIps" => "sourceIPs".into(),
        "TaskCreatedAt" => "createdAt".into(),
        _ => {
            let mut chars = member.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => String::new(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_converted_and_values_kept() {
        let v = camel_case_keys(
            json!({"Resource":{"ResourceType":"Instance","Tags":[{"Key":"Name","Value":"Web"}]},
            "Action":{"KubernetesApiCallAction":{"SourceIps":["1.2.3.4"]}}, "TaskCreatedAt": 1}),
        );
        assert_eq!(
            v,
            json!({"resource":{"resourceType":"Instance","tags":[{"key":"Name","value":"Web"}]},
            "action":{"kubernetesApiCallAction":{"sourceIPs":["1.2.3.4"]}}, "createdAt": 1})
        );
    }
}
