//! Pure: whether a completed snapshot is an evidence snapshot the responder took, before the
//! follow-up copies it for the forensic account.
//!
//! The tags say which finding and instance a snapshot claims to be evidence of, but anyone
//! allowed `ec2:CreateSnapshot` and `ec2:CreateTags` in the account can write them: the
//! workload's own instance role, before isolation cut it off, or credentials it stole. A
//! snapshot forged so (a cleaned disk, another instance's volume) would be re-encrypted and
//! handed to the forensic account as evidence. So a snapshot is the responder's only when
//! everything AWS itself sets, or the responder sealed, agrees with its tags:
//!
//! 1. its volume (set by EBS, not a tag) is the tagged volume, and is attached to the
//!    tagged instance;
//! 2. that instance carries the responder's prior-state record, sealed by its MAC when a
//!    key is configured (`record_mac.rs`; an invalid MAC refuses, as release does), and
//!    the quarantine's status tags, written last, so that run has finished;
//! 3. the snapshot's finding is the record's (sealed) or the instance's status finding (a
//!    later finding on an instance already quarantined);
//! 4. it is the first snapshot of that volume tagged for that finding and instance: the
//!    responder's is taken before isolation, so one tagged alike afterwards is not
//!    evidence, and a tie is refused rather than guessed.
//!
//! What cannot be decided yet (no seal or status while the quarantine may still be
//! running: both are written after its share step's wait) is retried while the snapshot
//! is young, and refused after. Everything else is decided at once.

use super::observe::InstanceView;
use super::prior_state::PriorState;
use super::record_mac::{FINDING_KEY as RECORD_FINDING_KEY, MacVerdict};
use crate::actions::tags::{
    FINDING_ID_KEY, SNAPSHOT_COPY_OF_KEY, SNAPSHOT_INSTANCE_KEY, SNAPSHOT_VOLUME_KEY,
    STATUS_INCOMPLETE, STATUS_KEY, STATUS_QUARANTINED,
};
use crate::ids::InstanceId;
use std::collections::BTreeMap;

/// What the follow-up read about one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SnapshotFacts {
    pub id: String,
    /// Set by EBS: the volume it was taken of.
    pub volume_id: Option<String>,
    pub state: String,
    /// Seconds since the epoch.
    pub started: Option<i64>,
    pub tags: BTreeMap<String, String>,
}

/// What the snapshot's tags claim: evidence of `finding` on `instance`'s `volume`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim {
    pub finding: String,
    pub instance: InstanceId,
    pub volume: String,
}

/// The judgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Carries none of the evidence tags: not the responder's business.
    NotClaimed(String),
    /// The responder's evidence snapshot of this claim (with a warning when unsealed).
    Ours(Option<String>),
    /// Claims to be evidence but is not bound to a quarantine of the responder: refused.
    Refused(String),
    /// Not decidable yet (the quarantine may still be running): retried.
    NotYet(String),
}

/// Step 0: what the tags claim, or why there is nothing to judge.
pub(crate) fn claim(s: &SnapshotFacts) -> Result<Claim, Verdict> {
    if s.tags.contains_key(SNAPSHOT_COPY_OF_KEY) {
        return Err(Verdict::NotClaimed(
            "a forensic copy, not an evidence snapshot".into(),
        ));
    }
    let (Some(finding), Some(instance)) = (
        s.tags.get(FINDING_ID_KEY),
        s.tags.get(SNAPSHOT_INSTANCE_KEY),
    ) else {
        return Err(Verdict::NotClaimed(format!(
            "no {FINDING_ID_KEY} and {SNAPSHOT_INSTANCE_KEY} tags: not a responder evidence snapshot"
        )));
    };
    let refuse = |why: &str| Err(Verdict::Refused(why.to_owned()));
    let Ok(instance) = InstanceId::parse(instance) else {
        return refuse("its instance tag is not an instance id");
    };
    if finding.is_empty() || super::quarantine::tag_value(finding) != *finding {
        return refuse("its finding tag is not one the responder writes");
    }
    let Some(volume) = s.tags.get(SNAPSHOT_VOLUME_KEY) else {
        return refuse("it carries no volume tag");
    };
    if s.volume_id.as_deref() != Some(volume.as_str()) {
        return refuse("it was not taken of the volume its tag names");
    }
    Ok(Claim {
        finding: finding.clone(),
        instance,
        volume: volume.clone(),
    })
}

/// What was read to bind a claim: the instance (none: gone or never existed), its
/// record's MAC verdict, every snapshot tagged for the claim's finding and instance, and
/// whether the snapshot is still young enough that its quarantine may be running.
pub(crate) struct Bindings<'a> {
    pub instance: Option<&'a InstanceView>,
    pub mac: &'a MacVerdict,
    pub siblings: &'a [SnapshotFacts],
    pub young: bool,
}

/// Steps 1–4 (module doc).
pub(crate) fn bind(s: &SnapshotFacts, c: &Claim, b: &Bindings<'_>) -> Verdict {
    let later = |why: String| {
        if b.young {
            Verdict::NotYet(format!(
                "{why}; retried while its quarantine may be running"
            ))
        } else {
            Verdict::Refused(why)
        }
    };
    if s.state != "completed" {
        return Verdict::NotYet(format!("still {}", s.state));
    }
    let Some(view) = b.instance else {
        return Verdict::Refused(format!("instance {} not found", c.instance));
    };
    if !view.volumes.iter().any(|v| v.volume_id == c.volume) {
        return Verdict::Refused(format!(
            "volume {} is not attached to {}",
            c.volume, c.instance
        ));
    }
    let decoded = PriorState::decode(view.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    // The record is written before the snapshot is even started: no waiting for it.
    if !matches!(decoded, Ok(Some(_))) {
        return Verdict::Refused(format!(
            "{} carries no prior-state record of the responder",
            c.instance
        ));
    }
    let warning = match super::release_checks::judge_mac(b.mac) {
        Ok(w) => w,
        Err(why) if *b.mac == MacVerdict::Invalid => return Verdict::Refused(why),
        Err(why) => return later(why),
    };
    let status = view.tags.get(STATUS_KEY).map(String::as_str);
    if !matches!(status, Some(STATUS_QUARANTINED | STATUS_INCOMPLETE)) {
        return later(format!("{} carries no quarantine status", c.instance));
    }
    let bound = [RECORD_FINDING_KEY, FINDING_ID_KEY]
        .iter()
        .any(|k| view.tags.get(*k) == Some(&c.finding));
    if !bound {
        return later(format!(
            "{} was not quarantined for this snapshot's finding",
            c.instance
        ));
    }
    let of_volume: Vec<&SnapshotFacts> = b
        .siblings
        .iter()
        .filter(|o| o.volume_id.as_deref() == Some(c.volume.as_str()))
        .collect();
    let first = of_volume.iter().filter_map(|o| o.started).min();
    let firsts: Vec<&str> = of_volume
        .iter()
        .filter(|o| o.started.is_some() && o.started == first)
        .map(|o| o.id.as_str())
        .collect();
    match firsts[..] {
        [only] if only == s.id => Verdict::Ours(warning),
        [only] => Verdict::Refused(format!(
            "not the first snapshot of {} for this finding (that is {only}): tagged alike after the responder's",
            c.volume
        )),
        [] => Verdict::Refused(format!("no start time for the snapshots of {}", c.volume)),
        _ => Verdict::Refused(format!(
            "{} snapshots of {} for this finding started at the same time: which is evidence is not decided",
            firsts.len(),
            c.volume
        )),
    }
}

#[cfg(test)]
#[path = "snapshot_origin_tests.rs"]
mod tests;
