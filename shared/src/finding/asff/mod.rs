//! Security Hub's ASFF → the finding model: `Security Hub Findings - Imported` events and
//! `aws securityhub get-findings` output, for findings GuardDuty sent there. The mapping
//! (docs/input-shapes.md has it as a table) only reads documented ASFF members and the
//! `ProductFields` GuardDuty writes; where the target is not unambiguous, the finding
//! carries why, and is notified instead of contained.

mod fields;
mod resources;

use super::entry::Entry;
use super::error::{ParseError, deserialize_value};
use super::model::Finding;
use resources::text;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

pub const SECURITY_HUB_SOURCE: &str = "aws.securityhub";
pub const IMPORTED_DETAIL_TYPE: &str = "Security Hub Findings - Imported";

/// What a Security Hub finding of another product is reported as (not acted on).
pub const OTHER_PRODUCT: &str = "Security Hub finding from another product";

/// The members read; each is a plain JSON value so an odd type degrades, never rejects.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Asff {
    product_arn: Value,
    id: Value,
    aws_account_id: Value,
    region: Value,
    types: Value,
    finding_provider_fields: Value,
    severity: Value,
    title: Value,
    description: Value,
    created_at: Value,
    updated_at: Value,
    record_state: Value,
    sample: Value,
    product_fields: Value,
    resources: Value,
}

/// Whether a `Findings` element is ASFF: it always names its `ProductArn`, which a
/// GuardDuty finding has no member for.
pub fn is_asff(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Sniff<'a> {
        #[serde(rename = "ProductArn", borrow)]
        product_arn: Option<&'a RawValue>,
    }
    // The key as the AWS CLI and EventBridge write it; only then is the document scanned.
    text.contains("\"ProductArn\"")
        && serde_json::from_str::<Sniff>(text).is_ok_and(|s| s.product_arn.is_some())
}

/// The `detail` of a `Security Hub Findings - Imported` event: `{"findings": [ASFF…]}`.
pub fn imported(detail: &str) -> Result<Vec<Entry>, ParseError> {
    #[derive(Deserialize)]
    struct Detail<'a> {
        #[serde(borrow)]
        findings: Vec<&'a RawValue>,
    }
    let mut de = serde_json::Deserializer::from_str(detail);
    let d: Detail = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| super::error::field_error("detail", e))?;
    if d.findings.is_empty() {
        return Err(ParseError::NoFindings);
    }
    d.findings
        .iter()
        .enumerate()
        .map(|(i, raw)| entry(raw.get(), &format!("detail.findings[{i}]")))
        .collect()
}

/// One ASFF finding: GuardDuty's is mapped, another product's is reported, not acted on.
pub fn entry(json: &str, at: &str) -> Result<Entry, ParseError> {
    let a: Asff = serde_json::from_str(json).map_err(|e| ParseError::InvalidField {
        path: path(at, "(top level)"),
        message: e.to_string(),
    })?;
    if !from_guardduty(&a.product_arn) {
        return Ok(Entry::NotAFinding {
            detail_type: OTHER_PRODUCT.into(),
        });
    }
    let id = text(&a.id).ok_or_else(|| ParseError::MissingField(path(at, "Id")))?;
    let finding_type = guardduty_type(&a).ok_or_else(|| ParseError::InvalidField {
        path: path(at, "Types"),
        message: "no GuardDuty finding type (TTPs/<tactic>/<Purpose>:<Resource>-<Name>)".into(),
    })?;
    let account = text(&a.aws_account_id)
        .ok_or_else(|| ParseError::MissingField(path(at, "AwsAccountId")))?;
    let arn: Vec<&str> = id.splitn(6, ':').collect();
    let region = text(&a.region)
        .or_else(|| text(&a.resources[0]["Region"]))
        .or_else(|| arn.get(3).copied().filter(|r| !r.is_empty()))
        .ok_or_else(|| ParseError::MissingField(path(at, "Region")))?;
    let empty = Map::new();
    let product_fields = a.product_fields.as_object().unwrap_or(&empty);
    let mapped = resources::map(
        &a.resources,
        fields::unflatten(product_fields, "aws/guardduty/resource/"),
    )
    .ok_or_else(|| ParseError::MissingField(path(at, "Resources")))?;
    let mut service = fields::unflatten(product_fields, "aws/guardduty/service/");
    if text(&a.record_state) == Some("ARCHIVED") {
        service.insert("archived".into(), true.into());
    }
    if a.sample.as_bool() == Some(true) {
        let info = service.entry("additionalInfo").or_insert_with(|| json!({}));
        if let Value::Object(info) = info {
            info.insert("sample".into(), true.into());
        }
    }
    let doc = json!({
        "id": id.rsplit_once("/finding/").map_or(id, |(_, tail)| tail),
        "arn": id.starts_with("arn:").then_some(id),
        "partition": arn.get(1).filter(|_| arn.len() == 6),
        "type": finding_type,
        "severity": severity(&a),
        "accountId": account,
        "region": region,
        "title": a.title,
        "description": a.description,
        "createdAt": a.created_at,
        "updatedAt": a.updated_at,
        "resource": mapped.resource,
        "service": service,
    });
    let mut finding: Finding = deserialize_value(doc, at)?;
    finding.target_ambiguity = mapped.ambiguity;
    Ok(Entry::Finding(Box::new(finding)))
}

fn path(at: &str, member: &str) -> String {
    if at.is_empty() {
        member.to_owned()
    } else {
        format!("{at}.{member}")
    }
}

/// GuardDuty's product ARN in any partition and region: `arn:<p>:securityhub:<r>::product/aws/guardduty`.
fn from_guardduty(product_arn: &Value) -> bool {
    text(product_arn)
        .is_some_and(|p| p.starts_with("arn:") && p.ends_with(":product/aws/guardduty"))
}

/// GuardDuty's own type from a `Types` entry, where Security Hub wrote it as the last
/// segment with its `/` rewritten to `-`: `TTPs/Execution/Execution:Runtime-ReverseShell`.
fn guardduty_type(a: &Asff) -> Option<String> {
    let lists = [&a.types, &a.finding_provider_fields["Types"]];
    lists
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_str)
        .find_map(from_asff_type)
}

fn from_asff_type(entry: &str) -> Option<String> {
    let last = entry.rsplit('/').next()?;
    let (purpose, rest) = last.split_once(':')?;
    let (resource, name) = rest.split_once('-')?;
    let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    (word(purpose) && word(resource) && !name.is_empty())
        .then(|| format!("{purpose}:{resource}/{name}"))
}

/// GuardDuty's own number when Security Hub kept it (`Severity.Product`, or the provider's
/// `Original`); else the lowest value of the label's band, so the label is kept.
fn severity(a: &Asff) -> f64 {
    let provider = &a.finding_provider_fields["Severity"];
    let number = |v: &Value| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n: &f64| n.is_finite())
    };
    let from_label = |v: &Value| match text(v)? {
        "CRITICAL" => Some(9.0),
        "HIGH" => Some(7.0),
        "MEDIUM" => Some(4.0),
        "LOW" => Some(1.0),
        _ => None,
    };
    number(&a.severity["Product"])
        .or_else(|| number(&provider["Original"]))
        .or_else(|| number(&a.severity["Original"]))
        .or_else(|| from_label(&a.severity["Label"]))
        .or_else(|| from_label(&provider["Label"]))
        .unwrap_or(0.0)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
