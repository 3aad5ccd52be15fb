//! Field and label selectors, as the API server parses and matches them.

use super::*;

pub(super) fn field(o: &Value, path: &str) -> String {
    let mut v = o;
    for p in path.split('.') {
        v = &v[p];
    }
    v.as_str().unwrap_or_default().to_owned()
}

/// The fields an Event can be selected by, besides the common ones.
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

/// `resource`: the fields it can be selected by differ (only events have `involvedObject`).
pub(super) fn parse_field_selector(
    resource: &str,
    s: &str,
) -> Result<Vec<(String, bool, String)>, String> {
    const SUPPORTED: &[&str] = &[
        "metadata.name",
        "metadata.namespace",
        "spec.nodeName",
        "status.phase",
    ];
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, eq, v) = if let Some((k, v)) = p.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = p.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = p.split_once('=') {
                (k, true, v)
            } else {
                return Err(format!("invalid selector: '{p}'; can't understand '{p}'"));
            };
            let k = k.trim();
            let supported =
                SUPPORTED.contains(&k) || (resource == "events" && EVENT_FIELDS.contains(&k));
            if !supported {
                return Err(format!("field label not supported: {k}"));
            }
            Ok((k.to_owned(), eq, v.trim().to_owned()))
        })
        .collect()
}

#[derive(Debug)]
pub(super) enum LabelReq {
    Exists(String),
    NotExists(String),
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl LabelReq {
    pub(super) fn matches(&self, labels: &Map<String, Value>) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        match self {
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::Ne(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
        }
    }
}

pub(super) fn parse_label_selector(s: &str) -> Result<Vec<LabelReq>, String> {
    // Split on commas outside parentheses.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    let set = |rest: &str| -> Result<Vec<String>, String> {
        let inner = rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(|| format!("expected (values) in {rest:?}"))?;
        Ok(inner.split(',').map(|v| v.trim().to_owned()).collect())
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            if let Some(k) = p.strip_prefix('!') {
                return Ok(LabelReq::NotExists(k.trim().to_owned()));
            }
            if let Some((k, rest)) = p.split_once(" notin ") {
                return Ok(LabelReq::NotIn(k.trim().to_owned(), set(rest)?));
            }
            if let Some((k, rest)) = p.split_once(" in ") {
                return Ok(LabelReq::In(k.trim().to_owned(), set(rest)?));
            }
            if let Some((k, v)) = p.split_once("!=") {
                return Ok(LabelReq::Ne(k.trim().to_owned(), v.trim().to_owned()));
            }
            if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
                return Ok(LabelReq::Eq(k.trim().to_owned(), v.trim().to_owned()));
            }
            if p.contains(|c: char| c.is_whitespace() || c == '(') {
                return Err(format!("cannot parse {p:?}"));
            }
            Ok(LabelReq::Exists(p.to_owned()))
        })
        .collect()
}
