//! MITRE ATT&CK for an alert: the tactics and techniques of a Runtime finding type, or of an
//! attack sequence's indicators, each with its public ATT&CK page.
//!
//! The mapping is data (`shared/data/attack.tsv`, which cites GuardDuty's finding-type
//! documentation), read once. Links are built only from IDs that are in that file or, for
//! a sequence's technique indicators (attacker-influenced text), that have the exact shape
//! of an ATT&CK technique ID: nothing else from a finding reaches a URL.

use crate::finding::Finding;
use crate::sanitize::Untrusted;
use std::sync::OnceLock;

const DATA: &str = include_str!("../../data/attack.tsv");

/// A tactic or technique as the alert shows it: trusted parts only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ref {
    /// `TA0002`, `T1059.004`: from the data file or checked by [`is_technique_id`].
    pub id: String,
    /// The ATT&CK name, when the data file has it.
    pub name: Option<&'static str>,
}

impl Ref {
    /// The public ATT&CK page (`T1059.004` → `/techniques/T1059/004/`).
    pub fn url(&self) -> String {
        let (kind, path) = if self.id.starts_with("TA") {
            ("tactics", self.id.clone())
        } else {
            ("techniques", self.id.replace('.', "/"))
        };
        ["https://attack.mitre.org/", kind, "/", &path, "/"].concat()
    }
    /// `T1059.004 Command and Scripting Interpreter: Unix Shell`, or the ID alone.
    pub fn label(&self) -> String {
        match self.name {
            Some(n) => [self.id.as_str(), " ", n].concat(),
            None => self.id.clone(),
        }
    }
}

/// What ATT&CK says about one alert.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Attack {
    /// The finding type in plain words (none for a type the data file does not know).
    pub meaning: Option<&'static str>,
    pub tactics: Vec<Ref>,
    pub techniques: Vec<Ref>,
}

struct TypeRow {
    finding_type: &'static str,
    tactics: Vec<&'static str>,
    techniques: Vec<&'static str>,
    meaning: &'static str,
}

struct Table {
    /// (ID, name, the `ATTACK_TACTIC` spelling GuardDuty uses)
    tactics: Vec<(&'static str, &'static str, &'static str)>,
    techniques: Vec<(&'static str, &'static str)>,
    types: Vec<TypeRow>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse(DATA))
}

/// Reads the data file; a malformed row is skipped (the tests reject it).
fn parse(data: &'static str) -> Table {
    let mut t = Table {
        tactics: Vec::new(),
        techniques: Vec::new(),
        types: Vec::new(),
    };
    let list = |s: &'static str| s.split(',').filter(|x| !x.is_empty()).collect();
    for line in data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        match line.split('\t').collect::<Vec<_>>()[..] {
            ["tactic", id, name, spelling] => t.tactics.push((id, name, spelling)),
            ["technique", id, name] => t.techniques.push((id, name)),
            ["type", finding_type, tactics, techniques, meaning] => t.types.push(TypeRow {
                finding_type,
                tactics: list(tactics),
                techniques: list(techniques),
                meaning,
            }),
            _ => {}
        }
    }
    t
}

/// `T` and four digits, optionally `.` and three digits: the only technique text linked.
pub(crate) fn is_technique_id(v: &str) -> bool {
    let b = v.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b {
        [b'T', rest @ ..] if rest.len() == 4 => digits(rest),
        [b'T', rest @ ..] if rest.len() == 8 && rest[4] == b'.' => {
            digits(&rest[..4]) && digits(&rest[5..])
        }
        _ => false,
    }
}

fn tactic(id: &str) -> Option<Ref> {
    let &(id, name, _) = table().tactics.iter().find(|t| t.0 == id)?;
    Some(Ref {
        id: id.to_owned(),
        name: Some(name),
    })
}

fn technique(id: &str) -> Ref {
    Ref {
        id: id.to_owned(),
        name: table()
            .techniques
            .iter()
            .find(|t| t.0 == id)
            .map(|&(_, n)| n),
    }
}

/// Values of one indicator key of an attack sequence, at most `max`.
fn indicator<'a>(f: &'a Finding, key: &str, max: usize) -> Vec<&'a str> {
    let Some(s) = f.sequence() else {
        return Vec::new();
    };
    let mut out: Vec<&str> = s
        .sequence_indicators
        .iter()
        .filter(|i| Untrusted::raw_of(&i.key) == Some(key))
        .flat_map(|i| i.values.iter().map(Untrusted::as_raw))
        .collect();
    out.dedup();
    out.truncate(max);
    out
}

/// The ATT&CK view of `finding_type`; for an attack sequence, of its indicators (tactics
/// by GuardDuty's spelling, techniques by well-formed ID; anything else is left to the
/// story, where it is shown escaped).
pub(crate) fn attack(finding_type: &str, f: &Finding, is_sequence: bool) -> Attack {
    if is_sequence {
        let tactics = indicator(f, "ATTACK_TACTIC", 14)
            .into_iter()
            .filter_map(|v| table().tactics.iter().find(|t| t.2 == v))
            .filter_map(|t| tactic(t.0))
            .collect();
        let techniques = indicator(f, "ATTACK_TECHNIQUE", 12)
            .into_iter()
            .filter(|v| is_technique_id(v))
            .map(technique)
            .collect();
        return Attack {
            meaning: Some("GuardDuty correlated several signals into one attack."),
            tactics,
            techniques,
        };
    }
    let Some(row) = table()
        .types
        .iter()
        .find(|r| r.finding_type == finding_type)
    else {
        return Attack::default();
    };
    Attack {
        meaning: Some(row.meaning),
        tactics: row.tactics.iter().filter_map(|id| tactic(id)).collect(),
        techniques: row.techniques.iter().map(|id| technique(id)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::RUNTIME_TYPES;

    #[test]
    fn every_documented_runtime_type_has_a_mapping() {
        let t = table();
        for ty in RUNTIME_TYPES {
            let row = t.types.iter().find(|r| r.finding_type == ty);
            let row = row.unwrap_or_else(|| panic!("{ty} has no row in data/attack.tsv"));
            assert!(
                !row.tactics.is_empty() && !row.techniques.is_empty(),
                "{ty}"
            );
            assert!(
                row.meaning.ends_with('.') && row.meaning.len() < 120,
                "{ty}"
            );
        }
        assert_eq!(t.types.len(), RUNTIME_TYPES.len(), "rows for unknown types");
    }

    #[test]
    fn every_row_is_well_formed_and_every_id_is_named() {
        let rows = DATA
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty());
        let t = table();
        assert_eq!(
            rows.count(),
            t.tactics.len() + t.techniques.len() + t.types.len()
        );
        for &(id, _, _) in &t.tactics {
            assert!(
                id.len() == 6
                    && id.starts_with("TA")
                    && id[2..].bytes().all(|b| b.is_ascii_digit())
            );
        }
        for &(id, _) in &t.techniques {
            assert!(is_technique_id(id), "{id}");
        }
        for row in &t.types {
            for id in &row.tactics {
                assert!(tactic(id).is_some(), "{}: {id}", row.finding_type);
            }
            for id in &row.techniques {
                assert!(technique(id).name.is_some(), "{}: {id}", row.finding_type);
            }
        }
    }

    #[test]
    fn links_go_to_the_attack_pages() {
        let shell = technique("T1059.004");
        assert_eq!(
            shell.url(),
            "https://attack.mitre.org/techniques/T1059/004/"
        );
        assert_eq!(
            tactic("TA0002").unwrap().url(),
            "https://attack.mitre.org/tactics/TA0002/"
        );
        assert_eq!(technique("T9999").label(), "T9999");
    }

    #[test]
    fn only_exact_technique_ids_are_linked() {
        for ok in ["T1059", "T1059.004"] {
            assert!(is_technique_id(ok));
        }
        for bad in [
            "",
            "T",
            "T105",
            "T10599",
            "T1059.04",
            "T1059.0044",
            "t1059",
            "T1059/../x",
            "T1059\"",
            "T1059.00<",
            "javascript:T1059",
            "T１０５９",
        ] {
            assert!(!is_technique_id(bad), "{bad}");
        }
    }

    use crate::render::test_support::{HOSTILE, event, plan_of};

    fn of(e: &serde_json::Value) -> Attack {
        let p = plan_of(e);
        attack(
            &p.finding_type,
            &p.finding,
            p.classification.is_attack_sequence,
        )
    }

    #[test]
    fn the_sample_sequences_tactics_and_techniques_are_all_linked() {
        for file in [
            "attack-sequence-eks-compromised-cluster.json",
            "attack-sequence-ecs-compromised-cluster.json",
            "attack-sequence-ec2-compromised-instance-group.json",
        ] {
            let e = event(file);
            let indicators = e["detail"]["service"]["detection"]["sequence"]["sequenceIndicators"]
                .as_array()
                .expect("indicators");
            let count = |key: &str| {
                indicators
                    .iter()
                    .filter(|i| i["key"] == key)
                    .map(|i| i["values"].as_array().map_or(0, Vec::len))
                    .sum::<usize>()
            };
            let a = of(&e);
            assert_eq!(a.tactics.len(), count("ATTACK_TACTIC"), "{file}: {a:?}");
            assert_eq!(
                a.techniques.len(),
                count("ATTACK_TECHNIQUE"),
                "{file}: {a:?}"
            );
            assert!(a.tactics.iter().all(|t| t.name.is_some()), "{file}");
        }
    }

    #[test]
    fn hostile_indicators_are_never_linked() {
        let mut e = event("attack-sequence-eks-compromised-cluster.json");
        let mut values: Vec<&str> = HOSTILE.to_vec();
        values.extend(["T1059/../../evil", "TA0002", "T1059 ", "Execution<script>"]);
        let indicators = serde_json::json!([
            {"key": "ATTACK_TACTIC", "values": values},
            {"key": "ATTACK_TECHNIQUE", "values": values},
        ]);
        e["detail"]["service"]["detection"]["sequence"]["sequenceIndicators"] = indicators;
        let a = of(&e);
        assert!(a.tactics.is_empty() && a.techniques.is_empty(), "{a:?}");
    }

    #[test]
    fn a_type_the_file_does_not_know_gets_no_attack_section() {
        let mut e = event("ec2-persistence-suspicious-command.json");
        e["detail"]["type"] = serde_json::json!("Execution:Runtime/SomethingNew");
        assert_eq!(of(&e), Attack::default());
    }
}
