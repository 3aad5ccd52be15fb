//! What an alert adds to the facts so that on-call can act on it: severity as a colour and a
//! word, what the finding type means, its ATT&CK tactics and techniques, the runbook's first
//! checks, the release command and the links. Built from trusted parts only (our data
//! files, validated identifiers); each channel lays it out.

use super::attack::{Attack, attack};
use super::links::{Link, is_safe_url, links};
use super::runbook::{self, Runbook};
use super::undo::{Undo, undo};
use crate::classify::SeverityLabel;
use crate::outcome::Outcome;
use crate::plan::ResponsePlan;

pub(crate) struct Guide {
    /// `CRITICAL`, `HIGH`, …: the words that go with the colour.
    pub severity_word: &'static str,
    /// The severity's colour (`#rrggbb`), for the HTML band and the Slack colour bar.
    pub colour: &'static str,
    pub attack: Attack,
    pub runbook: Option<&'static Runbook>,
    /// The runbook online, when a base URL is configured (`runbook_url`).
    pub runbook_url: Option<String>,
    pub undo: Undo,
    pub links: Vec<Link>,
    /// No outcomes yet: the actions are what a dry run would do.
    pub planned: bool,
}

/// Colours with white text at a contrast of 4.5:1 or more, one per GuardDuty band.
pub(crate) fn severity_colour(label: SeverityLabel) -> (&'static str, &'static str) {
    match label {
        SeverityLabel::Critical => ("CRITICAL", "#b91c1c"),
        SeverityLabel::High => ("HIGH", "#c2410c"),
        SeverityLabel::Medium => ("MEDIUM", "#a16207"),
        SeverityLabel::Low => ("LOW", "#1d4ed8"),
    }
}

impl Guide {
    pub fn new(plan: &ResponsePlan, outcomes: Option<&[Outcome]>) -> Guide {
        let (severity_word, colour) = severity_colour(plan.severity_label);
        let runbook = runbook::for_family(&plan.family);
        let runbook_url = plan.runbook_url.as_deref().and_then(|base| {
            let page = runbook.map_or("README", |r| r.slug);
            let url = [base.trim_end_matches('/'), "/", page, ".md"].concat();
            is_safe_url(&url).then_some(url)
        });
        Guide {
            severity_word,
            colour,
            attack: attack(
                &plan.finding_type,
                &plan.finding,
                plan.classification.is_attack_sequence,
            ),
            runbook,
            runbook_url,
            undo: undo(plan, outcomes),
            links: links(plan),
            planned: outcomes.is_none(),
        }
    }

    /// `docs/runbooks/<family>.md` (the index for a family without one).
    pub fn runbook_path(&self) -> String {
        self.runbook
            .map_or_else(|| [runbook::DIR, "README.md"].concat(), |r| r.path())
    }

    /// The runbook's first three checks (none for a family without a runbook).
    pub fn checks(&self) -> Vec<&'static str> {
        self.runbook.map(|r| r.checks()).unwrap_or_default()
    }

    /// The heading of the actions: what was done, or what a dry run would do.
    pub fn actions_heading(&self) -> &'static str {
        if self.planned {
            "What it would do (dry run: nothing changed yet)"
        } else {
            "What we did"
        }
    }

    /// What the undo section says besides the commands.
    pub fn undo_note(&self) -> &'static str {
        match &self.undo {
            Undo::Nothing => "Nothing to undo: nothing was changed.",
            Undo::Commands(c) if c.is_empty() => {
                "Release with responder release once the finding's region is known: it is not a valid region name here."
            }
            Undo::Commands(c) if c.iter().any(|c| c.contains("<pod>")) => {
                "Drop --execute to see what it would restore first. <pod> is the pod the containment labels (named under what was done once it ran)."
            }
            Undo::Commands(_) => "Drop --execute to see what it would restore first.",
        }
    }

    pub fn commands(&self) -> &[String] {
        match &self.undo {
            Undo::Commands(c) => c,
            Undo::Nothing => &[],
        }
    }
}
