//! Which buttons an alert offers: Contain (and Acknowledge) on an alert that did not
//! contain, Release (and Acknowledge) on one that did. Each button carries only an
//! [`Reference`]; when the finding's account, region or id would not make a valid one
//! (a hostile or replayed finding), the alert has no buttons at all.

use super::slack::{Block, Button, Confirm, Text};
use crate::classify::Surface;
use crate::interaction::{ButtonAction, Reference};
use crate::outcome::{Outcome, Status};
use crate::plan::ResponsePlan;
use crate::playbook::Decision;

/// The buttons for `plan` after `outcomes` (none yet: a dry run or a notify-only alert).
pub(crate) fn references(plan: &ResponsePlan, outcomes: Option<&[Outcome]>) -> Vec<Reference> {
    let actions: &[ButtonAction] = match plan.decision {
        Decision::Ignore => &[],
        Decision::Contain if contained(outcomes) => {
            &[ButtonAction::Release, ButtonAction::Acknowledge]
        }
        _ if has_executor(plan) => &[ButtonAction::Contain, ButtonAction::Acknowledge],
        _ => &[ButtonAction::Acknowledge],
    };
    let built: Result<Vec<Reference>, _> = actions
        .iter()
        .map(|a| Reference::new(*a, &plan.account_id, &plan.region, &plan.finding_id))
        .collect();
    built.unwrap_or_default()
}

/// Something was changed (or already was): there is a containment to release.
fn contained(outcomes: Option<&[Outcome]>) -> bool {
    outcomes.is_some_and(|o| {
        o.iter()
            .any(|o| matches!(o.status, Status::Done | Status::AlreadyDone))
    })
}

/// A Contain click is carried out by the interactions function's surface executors: one
/// finding on EC2, ECS or EKS (an attack sequence's resources are contained by the playbook).
fn has_executor(plan: &ResponsePlan) -> bool {
    plan.surface != Surface::Unknown && !plan.classification.is_attack_sequence
}

/// The Block Kit actions block, or none without buttons.
pub(crate) fn block(references: &[Reference]) -> Option<Block> {
    if references.is_empty() {
        return None;
    }
    Some(Block::Actions {
        elements: references.iter().map(button).collect(),
    })
}

fn button(r: &Reference) -> Button {
    let (label, style, confirm) = match r.action {
        ButtonAction::Contain => (
            "Contain",
            Some("danger"),
            Some(confirm(
                "Contain this resource?",
                "The responder fetches the finding from GuardDuty again and isolates its resource, unless a guardrail forbids it. Release undoes it.",
                "Contain",
            )),
        ),
        ButtonAction::Release => (
            "Release",
            Some("primary"),
            Some(confirm(
                "Release this resource?",
                "The responder undoes the containment from what it recorded on the resource. The workload is reachable again.",
                "Release",
            )),
        ),
        ButtonAction::Acknowledge => ("Acknowledge", None, None),
    };
    Button {
        text: Text::plain(label),
        action_id: r.action.action_id().to_owned(),
        value: r.to_string(),
        style: style.map(str::to_owned),
        confirm,
    }
}

fn confirm(title: &str, text: &str, yes: &str) -> Confirm {
    Confirm {
        title: Text::plain(title),
        text: Text::plain(text),
        confirm: Text::plain(yes),
        deny: Text::plain("Cancel"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use crate::render::test_support::{event, plan_of};

    fn actions(refs: &[Reference]) -> Vec<ButtonAction> {
        refs.iter().map(|r| r.action).collect()
    }

    fn outcome(p: &ResponsePlan, status: Status) -> Outcome {
        let a = &p.actions[0];
        Outcome {
            kind: a.kind,
            target: a.target.name().into_owned(),
            status,
            detail: String::new(),
            evidence: None,
        }
    }

    #[test]
    fn contained_alerts_offer_release_others_contain() {
        let p = plan_of(&event("ec2-persistence-suspicious-command.json"));
        assert_eq!(p.decision, Decision::Contain);
        let done = [outcome(&p, Status::Done)];
        assert_eq!(
            actions(&references(&p, Some(&done))),
            [ButtonAction::Release, ButtonAction::Acknowledge]
        );
        // A dry run, or a containment that failed, can still be contained by a person.
        let failed = [outcome(&p, Status::Failed)];
        for outcomes in [None, Some(&failed[..])] {
            assert_eq!(
                actions(&references(&p, outcomes)),
                [ButtonAction::Contain, ButtonAction::Acknowledge]
            );
        }
        let mut notified = p.clone();
        notified.downgrade("rate limit".into());
        let refs = references(&notified, None);
        assert_eq!(
            actions(&refs),
            [ButtonAction::Contain, ButtonAction::Acknowledge]
        );
        // Every value parses back to the finding's own facts.
        for r in refs {
            assert_eq!(Reference::parse(&r.to_string()), Ok(r.clone()));
            assert_eq!(r.finding_id, p.finding_id);
        }
    }

    #[test]
    fn approve_offers_contain_and_ignore_nothing() {
        let mut p = plan_of(&event("ec2-persistence-suspicious-command.json"));
        p.downgrade(String::new());
        p.decision = Decision::Approve;
        assert_eq!(
            actions(&references(&p, None)),
            [ButtonAction::Contain, ButtonAction::Acknowledge]
        );
        p.decision = Decision::Ignore;
        assert!(references(&p, None).is_empty());
        p.decision = Decision::Notify;
        p.surface = Surface::Unknown;
        assert_eq!(
            actions(&references(&p, None)),
            [ButtonAction::Acknowledge],
            "no executor: nothing to contain with"
        );
    }

    #[test]
    fn a_hostile_reference_gets_no_button() {
        let base = plan_of(&event("ec2-persistence-suspicious-command.json"));
        let hostile = [
            ("region", "eu-west-1:release"),
            ("id", "abc:contain:123456789012:eu-west-1:x"),
            ("account", "12345678901<"),
        ];
        for (field, value) in hostile {
            let mut p = base.clone();
            match field {
                "region" => p.region = value.into(),
                "id" => p.finding_id = value.into(),
                _ => p.account_id = value.into(),
            }
            assert!(references(&p, None).is_empty(), "{field}");
            let n = crate::render::render(&p, None);
            assert!(
                !n.slack
                    .all_blocks()
                    .any(|b| matches!(b, Block::Actions { .. })),
                "{field}"
            );
        }
    }
}
