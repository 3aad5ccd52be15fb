//! Entering the pipeline: recognise what was handed to us and turn it into findings.
//!
//! Four shapes are accepted everywhere (Lambda and CLI): an EventBridge event, a bare
//! finding (camelCase), the GuardDuty API's `GetFindings` response (`{"findings":[…]}`,
//! camelCase) and `aws guardduty get-findings` output (`{"Findings":[…]}`, PascalCase).
//! Other `aws.guardduty` events are recognised and reported as such.

use super::model::Finding;
use super::pascal::camel_case_keys;
use super::repair::repair;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// A GuardDuty finding wrapped in its EventBridge envelope. Only what routing reads is
/// kept: the envelope's `time`, `account` and `resources` are not needed, so a masked or
/// odd value there cannot reject the finding.
#[derive(Debug, Clone, Deserialize)]
pub struct FindingEvent {
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub detail: Finding,
}

pub const GUARDDUTY_SOURCE: &str = "aws.guardduty";
pub const FINDING_DETAIL_TYPE: &str = "GuardDuty Finding";

/// One thing found in the input.
#[derive(Debug, Clone)]
pub enum Entry {
    Finding(Box<Finding>),
    /// An `aws.guardduty` event that is not a finding (e.g. a Runtime Protection health change).
    NotAFinding {
        detail_type: String,
    },
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("empty input")]
    Empty,
    #[error("input is not valid JSON: {0}")]
    NotJson(String),
    #[error(
        "input is {0}; expected an EventBridge event, a GuardDuty finding, or get-findings output"
    )]
    UnknownShape(&'static str),
    #[error("event from source {0:?} is not a GuardDuty event")]
    ForeignSource(String),
    #[error("missing required field {0}")]
    MissingField(String),
    #[error("invalid field {path}: {message}")]
    InvalidField { path: String, message: String },
    #[error("get-findings output has an empty findings list")]
    NoFindings,
}

#[derive(Deserialize)]
struct Sniff<'a> {
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    source: Option<String>,
    #[serde(rename = "Findings", borrow)]
    findings: Option<Vec<&'a RawValue>>,
    #[serde(rename = "findings", borrow)]
    api_findings: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(rename = "type", borrow)]
    finding_type: Option<&'a RawValue>,
    #[serde(rename = "Id", borrow)]
    pascal_id: Option<&'a RawValue>,
    #[serde(rename = "Type", borrow)]
    pascal_type: Option<&'a RawValue>,
}

/// Parses any accepted input shape. Every finding is either returned or the whole input
/// is rejected with an error naming the JSON path, so nothing is silently dropped; only
/// a field routing needs can be that error (the others degrade, see [`super::text`]).
/// Events must come from `aws.guardduty`.
pub fn parse_input(bytes: &[u8]) -> Result<Vec<Entry>, ParseError> {
    parse_input_from(bytes, None)
}

/// Whether an event `source` is accepted: GuardDuty's, or the configured source of
/// hand-sent verification events (`aws events put-events` cannot use an `aws.` source).
pub fn accepted_source(source: &str, test_source: Option<&str>) -> bool {
    source == GUARDDUTY_SOURCE || test_source.is_some_and(|t| t == source)
}

/// [`parse_input`], also accepting events from `test_source` (the configuration's
/// `test_event_source`, the same value as the Terraform test rules).
pub fn parse_input_from(bytes: &[u8], test_source: Option<&str>) -> Result<Vec<Entry>, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    // The common case, a finding event from EventBridge, in one pass. Anything else (or
    // any error) takes the general path below, which also names what is wrong.
    // UTF-8 is checked once for the whole input, not again for every string in it.
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(event) = serde_json::from_str::<FindingEvent>(text)
        && event.detail_type == FINDING_DETAIL_TYPE
        && accepted_source(&event.source, test_source)
    {
        return Ok(vec![Entry::Finding(Box::new(event.detail))]);
    }
    match repair(bytes) {
        Some(repaired) => parse_shape(&repaired, test_source),
        None => parse_shape(bytes, test_source),
    }
}

/// The general path: which shape this is, then each finding in it.
fn parse_shape(bytes: &[u8], test_source: Option<&str>) -> Result<Vec<Entry>, ParseError> {
    let sniff: Sniff = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ParseError::UnknownShape(json_kind(bytes)),
        _ => ParseError::NotJson(e.to_string()),
    })?;

    if let Some(detail_type) = sniff.detail_type {
        let source = sniff.source.unwrap_or_default();
        if !accepted_source(&source, test_source) {
            return Err(ParseError::ForeignSource(source));
        }
        if detail_type != FINDING_DETAIL_TYPE {
            return Ok(vec![Entry::NotAFinding { detail_type }]);
        }
        let event: FindingEvent = deserialize_at(bytes, "")?;
        return Ok(vec![Entry::Finding(Box::new(event.detail))]);
    }
    // `get-findings` output (PascalCase) or the API's own response (camelCase).
    let lists = [
        (sniff.findings, "Findings"),
        (sniff.api_findings, "findings"),
    ];
    if let Some((list, name)) = lists.into_iter().find_map(|(l, name)| Some((l?, name))) {
        if list.is_empty() {
            return Err(ParseError::NoFindings);
        }
        return list
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                let at = format!("{name}[{i}]");
                if name == "Findings" {
                    return pascal_finding(raw.get(), &at);
                }
                let finding: Finding = deserialize_at(raw.get().as_bytes(), &at)?;
                Ok(Entry::Finding(Box::new(finding)))
            })
            .collect();
    }
    if sniff.pascal_id.is_some() || sniff.pascal_type.is_some() {
        let text = std::str::from_utf8(bytes).map_err(|e| ParseError::NotJson(e.to_string()))?;
        return Ok(vec![pascal_finding(text, "")?]);
    }
    if sniff.id.is_some() || sniff.finding_type.is_some() {
        let finding: Finding = deserialize_at(bytes, "")?;
        return Ok(vec![Entry::Finding(Box::new(finding))]);
    }
    Err(ParseError::UnknownShape(
        "a JSON object without detail-type, findings, id or type",
    ))
}

fn pascal_finding(text: &str, prefix: &str) -> Result<Entry, ParseError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let camel = camel_case_keys(value);
    let finding: Finding =
        serde_path_to_error::deserialize(camel).map_err(|e| field_error(prefix, e))?;
    Ok(Entry::Finding(Box::new(finding)))
}

/// Parses directly; only a failure is parsed again with path tracking, which costs
/// about half the parse time and is needed only to name the failing field.
fn deserialize_at<T: DeserializeOwned>(bytes: &[u8], prefix: &str) -> Result<T, ParseError> {
    serde_json::from_slice(bytes).or_else(|_| {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(&mut de).map_err(|e| field_error(prefix, e))
    })
}

fn field_error<E: std::fmt::Display>(prefix: &str, e: serde_path_to_error::Error<E>) -> ParseError {
    let mut path = e.path().to_string();
    if path == "." {
        path.clear();
    }
    let path = match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path,
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}.{path}"),
    };
    let message = e.inner().to_string();
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let full = if path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return ParseError::MissingField(full);
    }
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    ParseError::InvalidField {
        path: if path.is_empty() {
            "(top level)".into()
        } else {
            path
        },
        message,
    }
}

fn json_kind(bytes: &[u8]) -> &'static str {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => "a JSON array",
        Some(b'"') => "a JSON string",
        Some(b'{') => "a JSON object of an unexpected shape",
        Some(b't' | b'f') => "a JSON boolean",
        Some(b'n') => "JSON null",
        _ => "a JSON number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARE: &str = r#"{"id":"abc","type":"Execution:Runtime/ReverseShell","severity":8,
        "accountId":"123456789012","region":"us-east-1","resource":{"resourceType":"Instance"}}"#;

    fn wrap(detail: &str, detail_type: &str) -> String {
        format!(
            r#"{{"version":"0","id":"e","detail-type":"{detail_type}","source":"aws.guardduty",
            "account":"123456789012","time":"2024-05-28T17:55:11Z","region":"us-east-1","resources":[],"detail":{detail}}}"#
        )
    }

    fn one(input: &str) -> Finding {
        match parse_input(input.as_bytes()).unwrap().pop().unwrap() {
            Entry::Finding(f) => *f,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bare_finding_and_event_give_the_same_finding() {
        let a = one(BARE);
        let b = one(&wrap(BARE, FINDING_DETAIL_TYPE));
        assert_eq!(a.id, b.id);
        assert_eq!(b.finding_type.as_raw(), "Execution:Runtime/ReverseShell");
        assert_eq!(b.severity, 8.0);
    }

    #[test]
    fn missing_required_fields_name_their_path() {
        let no_id = BARE.replace(r#""id":"abc","#, "");
        assert_eq!(
            parse_input(wrap(&no_id, FINDING_DETAIL_TYPE).as_bytes()).unwrap_err(),
            ParseError::MissingField("detail.id".into())
        );
        let no_rt = BARE.replace(r#""resourceType":"Instance""#, "");
        assert_eq!(
            parse_input(no_rt.as_bytes()).unwrap_err(),
            ParseError::MissingField("resource.resourceType".into())
        );
        for field in ["type", "accountId", "region"] {
            let cut = BARE.replace(&format!(r#""{field}":"#), r#""x":"#);
            assert_eq!(
                parse_input(cut.as_bytes()).unwrap_err(),
                ParseError::MissingField(field.into())
            );
        }
    }

    #[test]
    fn health_events_are_not_findings_and_foreign_events_are_errors() {
        let unhealthy = wrap(
            r#"{"accountId":"1"}"#,
            "GuardDuty Runtime Protection Unhealthy",
        );
        assert!(matches!(
            &parse_input(unhealthy.as_bytes()).unwrap()[..],
            [Entry::NotAFinding { .. }]
        ));
        let foreign = wrap(BARE, FINDING_DETAIL_TYPE).replace("aws.guardduty", "aws.ec2");
        assert_eq!(
            parse_input(foreign.as_bytes()).unwrap_err(),
            ParseError::ForeignSource("aws.ec2".into())
        );
    }

    #[test]
    fn only_the_configured_test_source_is_accepted() {
        let test = wrap(BARE, FINDING_DETAIL_TYPE).replace("aws.guardduty", "ops.verify");
        assert_eq!(
            parse_input(test.as_bytes()).unwrap_err(),
            ParseError::ForeignSource("ops.verify".into())
        );
        let old_default = test.replace("ops.verify", "guardduty-responder.test");
        assert_eq!(
            parse_input_from(old_default.as_bytes(), Some("ops.verify")).unwrap_err(),
            ParseError::ForeignSource("guardduty-responder.test".into())
        );
        assert!(matches!(
            &parse_input_from(test.as_bytes(), Some("ops.verify")).unwrap()[..],
            [Entry::Finding(_)]
        ));
    }

    #[test]
    fn malformed_inputs_get_clear_errors() {
        assert_eq!(parse_input(b"  ").unwrap_err(), ParseError::Empty);
        assert!(matches!(
            parse_input(b"{nope").unwrap_err(),
            ParseError::NotJson(_)
        ));
        assert_eq!(
            parse_input(b"[]").unwrap_err(),
            ParseError::UnknownShape("a JSON array")
        );
        assert_eq!(
            parse_input(b"{}").unwrap_err(),
            ParseError::UnknownShape("a JSON object without detail-type, findings, id or type")
        );
        let bad_type = BARE.replace(r#""severity":8"#, r#""severity":"high""#);
        assert!(
            matches!(parse_input(bad_type.as_bytes()).unwrap_err(), ParseError::InvalidField { path, .. } if path == "severity")
        );
    }

    #[test]
    fn get_findings_output_is_pascal_case_and_every_finding_counts() {
        let out = r#"{"Findings":[
            {"Id":"a","Type":"Execution:Runtime/ReverseShell","Severity":8,"AccountId":"1","Region":"r",
             "Resource":{"ResourceType":"Instance","InstanceDetails":{"InstanceId":"i-1","Tags":[{"Key":"k","Value":"v"}]}},
             "Service":{"Archived":false,"RuntimeDetails":{"Process":{"Name":"sh","ExecutablePath":"/bin/sh"}}}},
            {"Id":"b","Type":"Impact:Runtime/CryptoMinerExecuted","Severity":5,"AccountId":"1","Region":"r",
             "Resource":{"ResourceType":"ECSCluster","EcsClusterDetails":{"TaskDetails":{"Arn":"t","TaskCreatedAt":1.7E9}}}}]}"#;
        let entries = parse_input(out.as_bytes()).unwrap();
        assert_eq!(entries.len(), 2);
        let Entry::Finding(f) = &entries[0] else {
            panic!()
        };
        assert_eq!(
            f.process()
                .unwrap()
                .executable_path
                .as_ref()
                .unwrap()
                .as_raw(),
            "/bin/sh"
        );
        assert_eq!(
            f.resource.instance_details.as_ref().unwrap().tags[0]
                .key
                .as_raw(),
            "k"
        );
        let Entry::Finding(g) = &entries[1] else {
            panic!()
        };
        let task = g
            .resource
            .ecs_cluster_details
            .as_ref()
            .unwrap()
            .task_details
            .as_ref()
            .unwrap();
        assert!(task.created_at.as_ref().unwrap().as_datetime().is_some());
        let missing = out.replace(r#""Id":"b","#, "");
        assert_eq!(
            parse_input(missing.as_bytes()).unwrap_err(),
            ParseError::MissingField("Findings[1].id".into())
        );
    }

    #[test]
    fn sample_flag_is_found_inside_the_value_string() {
        let s = BARE.replace(r#""resource""#, r#""service":{"additionalInfo":{"value":"{\"sample\":true}","type":"default"}},"resource""#);
        assert!(one(&s).is_sample());
        assert!(!one(BARE).is_sample());
    }

    #[test]
    fn nulls_and_odd_optional_values_do_not_reject() {
        let s = BARE.replace(r#""resource":{"resourceType":"Instance"}"#,
            r#""resource":{"resourceType":"Instance","instanceDetails":{"tags":null,"networkInterfaces":null,"launchTime":1500000000000}},
               "service":{"archived":"false","count":3.0,"eventFirstSeen":"XXXX-XX-XXTXX:XX:XXZ","runtimeDetails":null}"#);
        let f = one(&s);
        assert!(!f.is_archived());
        assert_eq!(f.service.count, Some(3));
    }
}
