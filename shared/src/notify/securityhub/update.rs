//! What the write-back sets on a finding's Security Hub counterpart (pure): the identifier,
//! `Workflow.Status`, a `Note` with the decision and each action's outcome, and
//! `UserDefinedFields` naming the responder — each within `BatchUpdateFindings`' limits.
//!
//! The counterpart's identifier: GuardDuty's Security Hub integration imports each finding
//! with `Id` = the GuardDuty finding ARN and `ProductArn` =
//! `arn:<partition>:securityhub:<region>::product/aws/guardduty` (docs/input-shapes.md reads
//! the same mapping the other way). The ARN must be GuardDuty's and end with this finding's
//! id, so a forged event cannot steer the write-back to another finding.

use crate::outcome::Outcome;
use crate::plan::ResponsePlan;
use std::collections::BTreeMap;

/// `Note.Text` and `Note.UpdatedBy` are at most 512 characters.
pub const NOTE_MAX: usize = 512;
/// The `UserDefinedFields` key that names the responder.
pub const FIELD_RESPONDER: &str = "guardduty-responder";

/// `Workflow.Status` values the responder sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workflow {
    /// After a response: someone was told.
    Notified,
    /// After a completed release ([`crate::notify::after_release`]).
    Resolved,
}

impl Workflow {
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::Notified => "NOTIFIED",
            Workflow::Resolved => "RESOLVED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingUpdate {
    pub product_arn: String,
    /// The GuardDuty finding ARN.
    pub id: String,
    pub region: String,
    pub workflow: Workflow,
    pub note: String,
    pub updated_by: String,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoCounterpart {
    #[error("the finding carries no ARN")]
    NoArn,
    #[error("the finding ARN is not a GuardDuty finding ARN for this finding's id")]
    NotThisFinding,
}

/// `(partition, region)` of a GuardDuty finding ARN that ends with `/finding/<id>`.
fn parse_arn<'a>(arn: &'a str, finding_id: &str) -> Option<(&'a str, &'a str)> {
    let printable = arn.len() <= 512 && arn.bytes().all(|b| b.is_ascii_graphic());
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, rest] = parts[..] else {
        return None;
    };
    let well_formed = printable
        && prefix == "arn"
        && partition.starts_with("aws")
        && service == "guardduty"
        && !region.is_empty()
        && crate::validate::is_account_id(account)
        && rest.starts_with("detector/")
        && !finding_id.is_empty()
        && rest.ends_with(&format!("/finding/{finding_id}"));
    well_formed.then_some((partition, region))
}

/// Cuts `text` to `max` characters, ending with `…` when cut.
pub(crate) fn bounded(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// The note: the decision and its (trusted) reason, then each action's kind and status.
/// Outcome details are left out: they may echo API error text, and the note is shown as is.
pub fn note(plan: &ResponsePlan, outcomes: &[Outcome]) -> String {
    let mut text = format!(
        "GuardDuty responder: {} ({})",
        plan.decision.as_str(),
        crate::sanitize::ascii_line(&plan.reason, 200)
    );
    if !outcomes.is_empty() {
        let list: Vec<String> = outcomes
            .iter()
            .map(|o| {
                format!(
                    "{} {}",
                    o.kind.name(),
                    crate::metrics::response::status_name(o.status)
                )
            })
            .collect();
        text.push_str(". Actions: ");
        text.push_str(&list.join("; "));
    }
    bounded(&text, NOTE_MAX)
}

/// The update for one response, or why the finding has no Security Hub counterpart.
pub fn update(
    plan: &ResponsePlan,
    outcomes: &[Outcome],
    function: &str,
    workflow: Workflow,
) -> Result<FindingUpdate, NoCounterpart> {
    let arn = plan
        .finding
        .arn
        .as_ref()
        .ok_or(NoCounterpart::NoArn)?
        .as_raw();
    let (partition, region) =
        parse_arn(arn, &plan.finding_id).ok_or(NoCounterpart::NotThisFinding)?;
    let outcome = if crate::outcome::any_failed(outcomes) {
        "containment_failed"
    } else if outcomes
        .iter()
        .any(|o| o.status == crate::outcome::Status::Done)
    {
        "contained"
    } else if outcomes.is_empty() {
        "notified"
    } else {
        "already_contained"
    };
    let function = crate::sanitize::ascii_line(function, 128);
    let fields = BTreeMap::from([
        (FIELD_RESPONDER.to_owned(), function.clone()),
        (
            format!("{FIELD_RESPONDER}:decision"),
            plan.decision.as_str().to_owned(),
        ),
        (format!("{FIELD_RESPONDER}:outcome"), outcome.to_owned()),
    ]);
    Ok(FindingUpdate {
        product_arn: format!("arn:{partition}:securityhub:{region}::product/aws/guardduty"),
        id: arn.to_owned(),
        region: region.to_owned(),
        workflow,
        note: note(plan, outcomes),
        updated_by: bounded(&function, NOTE_MAX),
        fields,
    })
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
