//! What to do next: the runbook of the finding's family (`docs/runbooks/<slug>.md`).
//!
//! The runbooks are the one source: they are embedded here, and the alert shows each one's
//! "First three checks" itself (an on-call engineer should not need a browser to start)
//! and links or names the file for the rest. Their text is ours, not the finding's.

use crate::classify::ThreatFamily;

/// One family's runbook, as embedded.
pub(crate) struct Runbook {
    /// `docs/runbooks/<slug>.md`
    pub slug: &'static str,
    pub family: &'static str,
    text: &'static str,
}

macro_rules! runbook {
    ($family:literal, $slug:literal) => {
        Runbook {
            slug: $slug,
            family: $family,
            text: include_str!(concat!("../../../docs/runbooks/", $slug, ".md")),
        }
    };
}

const RUNBOOKS: [Runbook; 11] = [
    runbook!("Execution", "execution"),
    runbook!("PrivilegeEscalation", "privilege-escalation"),
    runbook!("DefenseEvasion", "defense-evasion"),
    runbook!("Persistence", "persistence"),
    runbook!("Impact", "impact"),
    runbook!("CryptoCurrency", "cryptocurrency"),
    runbook!("Backdoor", "backdoor"),
    runbook!("Trojan", "trojan"),
    runbook!("UnauthorizedAccess", "unauthorized-access"),
    runbook!("Discovery", "discovery"),
    runbook!("AttackSequence", "attack-sequence"),
];

/// Where the runbooks live in the repository (and, under a configured base URL, online).
pub(crate) const DIR: &str = "docs/runbooks/";

impl Runbook {
    /// The numbered items under `## First three checks`.
    pub fn checks(&self) -> Vec<&'static str> {
        let text: &'static str = self.text;
        text.split("\n## First three checks\n")
            .nth(1)
            .unwrap_or("")
            .split("\n## ")
            .next()
            .unwrap_or("")
            .lines()
            .filter_map(|l| {
                let (n, rest) = l.split_once(". ")?;
                (n.len() == 1 && n.as_bytes()[0].is_ascii_digit()).then_some(rest)
            })
            .collect()
    }
    /// `docs/runbooks/<slug>.md`
    pub fn path(&self) -> String {
        [DIR, self.slug, ".md"].concat()
    }
}

/// The runbook of `family`; `None` for a family GuardDuty adds later (the alert then names
/// the runbook index).
pub(crate) fn for_family(family: &ThreatFamily) -> Option<&'static Runbook> {
    RUNBOOKS.iter().find(|r| r.family == family.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_and_attack_sequences_have_a_runbook() {
        let families = ThreatFamily::KNOWN
            .iter()
            .chain([&ThreatFamily::AttackSequence]);
        for f in families {
            let r = for_family(f).unwrap_or_else(|| panic!("{f} has no runbook"));
            assert!(
                r.text.starts_with("# Runbook: "),
                "{}: title missing",
                r.slug
            );
        }
        assert!(for_family(&ThreatFamily::Unknown("Exfiltration".into())).is_none());
    }

    #[test]
    fn each_runbook_gives_three_checks_and_the_evidence() {
        let index = include_str!("../../../docs/runbooks/README.md");
        for r in &RUNBOOKS {
            let checks = r.checks();
            assert_eq!(checks.len(), 3, "{}: {checks:?}", r.slug);
            for c in checks {
                // Shown in every channel: plain sentences, nothing a channel would read as markup.
                assert!(c.ends_with('.') && c.len() < 300, "{}: {c}", r.slug);
                assert!(
                    !c.contains(['`', '*', '_', '<', '>', '[', '&']),
                    "{}: {c}",
                    r.slug
                );
            }
            let evidence = r.text.split("\n## Where the evidence is\n").nth(1);
            let bullets = evidence.map_or(0, |e| {
                e.split("\n## ")
                    .next()
                    .unwrap_or("")
                    .lines()
                    .filter(|l| l.starts_with("- "))
                    .count()
            });
            assert!(bullets >= 2, "{}: where is the evidence?", r.slug);
            assert!(
                index.contains(&format!("]({}.md)", r.slug)),
                "{} not in the index",
                r.slug
            );
        }
    }
}
