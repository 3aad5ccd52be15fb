//! Entering the pipeline: recognise what was handed to us and turn it into findings.
//!
//! The shape is read from the content, never from a file name, and is the same in the
//! Lambda handler and the CLI. GuardDuty's own shapes are parsed here: an EventBridge
//! event (camelCase or PascalCase `detail`), a bare finding (camelCase or PascalCase), the
//! API's `GetFindings` response (`{"findings":[…]}`) and `aws guardduty get-findings`
//! output (`{"Findings":[…]}`). Wrappers that carry them are unwrapped in [`super::wrapper`]
//! (SNS, SQS, put-events `Entries`), GuardDuty's S3 export is read in [`super::jsonl`],
//! and Security Hub's ASFF is mapped in [`super::asff`]. Other `aws.guardduty` events are
//! recognised and reported as such, and so is EBS's snapshot notification (the ec2
//! function's follow-up trigger, [`super::snapshot_event`]). Everything here is pure.

use super::asff;
use super::error::{deserialize_at, json_kind};
use super::jsonl;
use super::model::Finding;
use super::pascal::camel_case_keys;
use super::pascal_de::Renamed;
use super::repair::repair;
use super::wrapper;
use serde::Deserialize;
use serde_json::value::RawValue;

pub use super::entry::{Context, Entry, FINDING_DETAIL_TYPE, GUARDDUTY_SOURCE, accepted_source};
pub use super::error::{ACCEPTED_SHAPES, ParseError};

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

#[derive(Deserialize)]
struct Sniff<'a> {
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    source: Option<String>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
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
    #[serde(rename = "Message", borrow)]
    message: Option<&'a RawValue>,
    #[serde(rename = "Records", borrow)]
    records: Option<&'a RawValue>,
    #[serde(rename = "Messages", borrow)]
    sqs_messages: Option<&'a RawValue>,
    #[serde(rename = "Entries", borrow)]
    entries: Option<&'a RawValue>,
    #[serde(rename = "ProductArn", borrow)]
    product_arn: Option<&'a RawValue>,
}

/// Parses any accepted input shape. Every finding is either returned or the whole input
/// is rejected with an error naming the JSON path, so nothing is silently dropped; only
/// a field routing needs can be that error (the others degrade, see [`super::text`]).
/// Events must come from `aws.guardduty` (or `aws.securityhub` for imported findings).
pub fn parse_input(bytes: &[u8]) -> Result<Vec<Entry>, ParseError> {
    parse_input_from(bytes, None)
}

/// [`parse_input`], also accepting events from `test_source` (the configuration's
/// `test_event_source`, the same value as the Terraform test rules).
pub fn parse_input_from(bytes: &[u8], test_source: Option<&str>) -> Result<Vec<Entry>, ParseError> {
    let context = Context::root(test_source, parse_document);
    if jsonl::is_gzip(bytes) {
        return jsonl::gzip_lines(bytes, context);
    }
    parse_document(bytes, context)
}

/// One uncompressed document: a JSON value, or JSON Lines.
pub(super) fn parse_document(bytes: &[u8], context: Context<'_>) -> Result<Vec<Entry>, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    // The common case, a finding event from EventBridge, in one pass. Anything else (or
    // any error) takes the general path below, which also names what is wrong.
    // UTF-8 is checked once for the whole input, not again for every string in it.
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(event) = serde_json::from_str::<FindingEvent>(text)
        && event.detail_type == FINDING_DETAIL_TYPE
        && context.accepts(&event.source)
    {
        return Ok(vec![Entry::Finding(Box::new(event.detail))]);
    }
    let repaired = repair(bytes);
    let bytes = repaired.as_deref().unwrap_or(bytes);
    if jsonl::is_json_lines(bytes) {
        return jsonl::plain_lines(bytes, context);
    }
    parse_shape(bytes, context)
}

/// The general path: which shape this is, then each finding in it.
fn parse_shape(bytes: &[u8], context: Context<'_>) -> Result<Vec<Entry>, ParseError> {
    let sniff: Sniff = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ParseError::UnknownShape(json_kind(bytes)),
        _ => ParseError::NotJson(e.to_string()),
    })?;

    if let Some(detail_type) = sniff.detail_type {
        let source = sniff.source.unwrap_or_default();
        return event(bytes, &detail_type, &source, sniff.detail, context);
    }
    let is_notification = sniff
        .pascal_type
        .is_some_and(|t| t.get() == r#""Notification""#);
    if let (true, Some(message)) = (is_notification, sniff.message) {
        return wrapper::sns_message(message, "Message", context);
    }
    if let Some(records) = sniff.records {
        return wrapper::records(records, context);
    }
    if let Some(messages) = sniff.sqs_messages {
        return wrapper::sqs_messages(messages, context);
    }
    if let Some(entries) = sniff.entries {
        return wrapper::entries(entries, context);
    }
    // `get-findings` output (PascalCase, GuardDuty's or Security Hub's ASFF) or the API's
    // own response (camelCase).
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
            .map(|(i, raw)| list_element(name, raw.get(), &format!("{name}[{i}]")))
            .collect();
    }
    if sniff.product_arn.is_some() {
        return Ok(vec![asff::entry(as_text(bytes)?, "")?]);
    }
    if sniff.pascal_id.is_some() || sniff.pascal_type.is_some() {
        return Ok(vec![pascal_finding(as_text(bytes)?, "")?]);
    }
    if sniff.id.is_some() || sniff.finding_type.is_some() {
        let finding: Finding = deserialize_at(bytes, "")?;
        return Ok(vec![Entry::Finding(Box::new(finding))]);
    }
    Err(ParseError::UnknownShape(
        "a JSON object without detail-type, findings, id or type",
    ))
}

/// One element of a `Findings` (get-findings: PascalCase or ASFF) or `findings` (the API:
/// camelCase) list.
pub(super) fn list_element(list: &str, text: &str, at: &str) -> Result<Entry, ParseError> {
    if list == "Findings" {
        return pascal_or_asff(text, at);
    }
    let finding: Finding = deserialize_at(text.as_bytes(), at)?;
    Ok(Entry::Finding(Box::new(finding)))
}

/// [`list_element`] for an element read on its own (streamed): a lone surrogate in it is
/// repaired as in a whole input, and any error names the element.
pub(super) fn streamed_element(list: &str, text: &str, at: &str) -> Result<Entry, ParseError> {
    let result = list_element(list, text, at).or_else(|e| match repair(text.as_bytes()) {
        Some(fixed) => list_element(list, &String::from_utf8_lossy(&fixed), at),
        None => Err(e),
    });
    result.map_err(|e| match e {
        ParseError::NotJson(_) => e.within(at),
        named => named,
    })
}

/// An EventBridge event: a GuardDuty finding (either key case), a Security Hub import,
/// or another GuardDuty event.
fn event(
    bytes: &[u8],
    detail_type: &str,
    source: &str,
    detail: Option<&RawValue>,
    context: Context<'_>,
) -> Result<Vec<Entry>, ParseError> {
    let from_security_hub =
        source == asff::SECURITY_HUB_SOURCE || context.test_source == Some(source);
    if detail_type == asff::IMPORTED_DETAIL_TYPE && from_security_hub {
        let detail = detail.ok_or_else(|| ParseError::MissingField("detail".into()))?;
        return asff::imported(detail.get());
    }
    // EBS's createSnapshot notification is the ec2 function's follow-up trigger for
    // forensic snapshot copies (`super::snapshot_event`): reported, never a finding.
    if super::snapshot_event::is_snapshot_notification(source, detail_type) {
        return Ok(vec![Entry::NotAFinding {
            detail_type: detail_type.to_owned(),
        }]);
    }
    if !context.accepts(source) {
        return Err(ParseError::ForeignSource(source.to_owned()));
    }
    if detail_type != FINDING_DETAIL_TYPE {
        return Ok(vec![Entry::NotAFinding {
            detail_type: detail_type.to_owned(),
        }]);
    }
    if let Some(detail) = detail.filter(|d| is_pascal_case(d)) {
        return Ok(vec![pascal_finding(detail.get(), "detail")?]);
    }
    let event: FindingEvent = deserialize_at(bytes, "")?;
    Ok(vec![Entry::Finding(Box::new(event.detail))])
}

/// A finding written with SDK member names (`Id`, `Type`) rather than JSON names.
fn is_pascal_case(finding: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct Keys<'a> {
        #[serde(borrow)]
        id: Option<&'a RawValue>,
        #[serde(rename = "Id", borrow)]
        pascal_id: Option<&'a RawValue>,
        #[serde(rename = "Type", borrow)]
        pascal_type: Option<&'a RawValue>,
    }
    serde_json::from_str::<Keys>(finding.get())
        .is_ok_and(|k| k.id.is_none() && (k.pascal_id.is_some() || k.pascal_type.is_some()))
}

/// A `Findings` element: Security Hub's ASFF (it always names its `ProductArn`) or
/// GuardDuty's PascalCase finding.
fn pascal_or_asff(text: &str, at: &str) -> Result<Entry, ParseError> {
    if asff::is_asff(text) {
        asff::entry(text, at)
    } else {
        pascal_finding(text, at)
    }
}

fn as_text(bytes: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(bytes).map_err(|e| ParseError::NotJson(e.to_string()))
}

fn pascal_finding(text: &str, prefix: &str) -> Result<Entry, ParseError> {
    // Keys renamed as they are read; only a failure takes the slower path below, which
    // names the failing field.
    let mut de = serde_json::Deserializer::from_str(text);
    if let Ok(finding) = Finding::deserialize(Renamed(&mut de))
        && de.end().is_ok()
    {
        return Ok(Entry::Finding(Box::new(finding)));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let camel = camel_case_keys(value);
    let finding: Finding = super::error::deserialize_value(camel, prefix)?;
    Ok(Entry::Finding(Box::new(finding)))
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
