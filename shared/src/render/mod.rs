//! Stage 5 — render: one escaped notification per channel, from the plan and, after
//! execution, the outcomes. Attacker text reaches a channel only through that channel's
//! renderer in [`crate::sanitize`].

mod attack;
pub(crate) mod buttons;
mod facts;
mod guide;
mod html;
mod html_style;
mod links;
mod plain;
mod runbook;
mod slack;
mod slack_payload;
mod story;
#[cfg(test)]
pub(crate) mod test_support;
mod undo;
mod update;

use crate::outcome::Outcome;
use crate::plan::ResponsePlan;
use crate::playbook::Decision;
use crate::sanitize::{FieldKind, Untrusted, neutralise};
use serde::Serialize;
use std::borrow::Cow;
use std::rc::Rc;

pub use plain::subject;
pub use slack::{Attachment, Block, Button, Confirm, SlackMessage, Text};
pub use undo::{Undo, release_command, undo};
pub use update::{still_active, still_notified};

pub(crate) use links::is_safe_url;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Notification {
    /// SNS subject: printable ASCII, one line, at most 100 characters.
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A Slack incoming-webhook payload (Block Kit plus `text` fallback).
    pub slack: SlackMessage,
}

/// One line of the "what was done" list, neutralised once; each channel escapes from here.
pub(crate) struct StepLine<'a> {
    pub kind: &'static str,
    /// Shared: the actions of a plan usually all name the same target.
    pub target: Rc<str>,
    pub status: &'static str,
    pub detail: Cow<'a, str>,
}

pub(crate) fn step_lines<'a>(
    plan: &'a ResponsePlan,
    outcomes: Option<&'a [Outcome]>,
) -> Vec<StepLine<'a>> {
    let path = FieldKind::Path.max_chars();
    match outcomes {
        Some(list) => list
            .iter()
            .map(|o| StepLine {
                kind: o.kind.name(),
                target: Rc::from(neutralise(&o.target, path).as_ref()),
                status: o.status.as_str(),
                detail: neutralise(&o.detail, FieldKind::Text.max_chars()),
            })
            .collect(),
        None => {
            let mut shown: Option<(&crate::target::Target, Rc<str>)> = None;
            plan.actions
                .iter()
                .map(|a| {
                    let target = match &shown {
                        Some((t, text)) if *t == &*a.target => text.clone(),
                        _ => {
                            let text: Rc<str> =
                                Rc::from(neutralise(&a.target.name(), path).as_ref());
                            shown = Some((&*a.target, text.clone()));
                            text
                        }
                    };
                    StepLine {
                        kind: a.kind.name(),
                        target,
                        status: "planned",
                        detail: Cow::Borrowed(""),
                    }
                })
                .collect()
        }
    }
}

/// Words for the headline, from trusted parts only.
/// What the notification is about, in its first line.
pub(crate) fn kind_title(plan: &ResponsePlan) -> &'static str {
    if plan.classification.is_attack_sequence {
        "GuardDuty attack sequence: "
    } else {
        "GuardDuty Runtime finding: "
    }
}

pub(crate) fn headline(plan: &ResponsePlan, outcomes: Option<&[Outcome]>) -> String {
    let family = plan.classification.family_label();
    let mut head = String::with_capacity(64 + family.len());
    if plan.sample {
        head.push_str("[SAMPLE] ");
    }
    if outcomes.is_some_and(crate::outcome::any_failed) {
        head.push_str("[FAILED] ");
    }
    head.push_str(plan.severity_label.as_str());
    head.push_str(" (");
    push_one_decimal(&mut head, plan.severity);
    head.push_str(") ");
    head.push_str(family);
    head.push_str(" on ");
    head.push_str(plan.surface.as_str());
    head
}

/// `{:.1}` without the formatting machinery for the usual whole-number severities.
fn push_one_decimal(out: &mut String, n: f64) {
    if (0.0..=1000.0).contains(&n) && n.is_sign_positive() && n.fract() == 0.0 {
        out.push_str(itoa::Buffer::new().format(n as u32));
        out.push_str(".0");
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{n:.1}");
    }
}

/// The short type (`ReverseShell`, `C&CActivity.B!DNS`), untrusted in a replayed file.
pub(crate) fn short_type(plan: &ResponsePlan) -> Untrusted {
    let t = plan.finding_type.as_str();
    Untrusted::new(t.split_once('/').map(|(_, s)| s).unwrap_or(t))
}

pub(crate) fn decision_word(d: Decision) -> &'static str {
    match d {
        Decision::Contain => "CONTAIN",
        Decision::Approve => "AWAITING APPROVAL",
        Decision::Notify => "NOTIFY",
        Decision::Ignore => "IGNORE",
    }
}

/// Renders every channel.
pub fn render(plan: &ResponsePlan, outcomes: Option<&[Outcome]>) -> Notification {
    let resource = facts::resource_facts(&plan.finding);
    let mut activity = facts::activity_facts(&plan.finding);
    activity.extend(story::sequence_facts(&plan.finding));
    let steps = step_lines(plan, outcomes);
    let id = View::ID.max_chars();
    let view = View {
        plan,
        resource: &resource,
        activity: &activity,
        steps: &steps,
        headline: headline(plan, outcomes),
        // Account and region are 12 digits and a region name in real findings, but a
        // replayed file can hold anything: they are neutralised and escaped like the rest.
        account: neutralise(&plan.account_id, id),
        region: neutralise(&plan.region, id),
        finding_id: neutralise(&plan.finding_id, id),
        finding_type: neutralise(&plan.finding_type, FieldKind::Name.max_chars()),
        guide: guide::Guide::new(plan, outcomes),
        buttons: buttons::references(plan, outcomes),
    };
    Notification {
        subject: plain::subject_line(&view.headline, plan),
        text: plain::body(&view),
        html: html::page(&view),
        slack: slack_payload::payload(&view),
    }
}

impl ResponsePlan {
    /// The notification before anything is done: what a dry run shows and what is sent
    /// when nothing is executed. After execution, [`render`] the plan with its outcomes.
    pub fn notification(&self) -> Notification {
        render(self, None)
    }
}

/// What every channel shows, gathered and neutralised once.
pub(crate) struct View<'a> {
    pub plan: &'a ResponsePlan,
    pub resource: &'a [facts::Fact<'a>],
    pub activity: &'a [facts::Fact<'a>],
    pub steps: &'a [StepLine<'a>],
    /// From trusted parts only.
    pub headline: String,
    pub account: Cow<'a, str>,
    pub region: Cow<'a, str>,
    pub finding_id: Cow<'a, str>,
    pub finding_type: Cow<'a, str>,
    pub guide: guide::Guide,
    /// The Slack alert's buttons (none when no valid reference can be built).
    pub buttons: Vec<crate::interaction::Reference>,
}

impl View<'_> {
    pub const ID: FieldKind = FieldKind::Name;
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn one_decimal_is_what_format_gives(n in prop_oneof![
            (0u32..=1200).prop_map(f64::from),
            (0u32..=1200).prop_map(|t| f64::from(t) / 10.0),
            Just(-0.0),
            any::<f64>(),
        ]) {
            let mut out = String::new();
            super::push_one_decimal(&mut out, n);
            prop_assert_eq!(out, format!("{n:.1}"));
        }
    }
}
