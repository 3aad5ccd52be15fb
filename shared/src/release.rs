//! The one release vocabulary: what `responder release <surface>` (and a Release click)
//! reports, and why it refused to start. Each surface keeps only what is truly its own:
//! the resource's identifiers, what containment recorded on it, and its release steps
//! (`ec2::ReleaseStep`…, spelled like the plan's action kinds).

use crate::outcome::ReleaseOutcome;
use serde::Serialize;

/// What release did (or, when `executed` is false, would do) to one contained resource.
///
/// `Id` and `Record` are flattened into the JSON the CLI prints, so each surface keeps its
/// keys (`instance_id` and `prior_state`; `cluster`, `task_arn`, `task_found` and `record`;
/// `cluster`, `namespace`, `pod`, `restored_labels` and `node`).
#[derive(Debug, Clone, Serialize)]
pub struct Released<Id, Record, Step> {
    /// The resource released, as the surface names it.
    #[serde(flatten)]
    pub resource: Id,
    /// The finding containment recorded on the resource, as recorded: unvalidated (the
    /// after-release write-back validates it). `None` when the record is gone or was
    /// already acted on.
    pub finding_id: Option<String>,
    pub executed: bool,
    /// What containment recorded and release restores, shown for the operator to check.
    #[serde(flatten)]
    pub record: Record,
    /// E.g. that the record is unverified (no MAC key configured).
    pub warnings: Vec<String>,
    pub outcomes: Vec<ReleaseOutcome<Step>>,
}

impl<Id, Record, Step> Released<Id, Record, Step> {
    /// True when a step failed: the responder's marks stay and release can be run again.
    pub fn any_failed(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| o.status == crate::outcome::Status::Failed)
    }
}

/// A resource as release messages name it: `instance i-…`, `task arn:…`, `pod ns/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub noun: &'static str,
    pub id: String,
}

impl Resource {
    pub fn new(noun: &'static str, id: impl Into<String>) -> Resource {
        Resource {
            noun,
            id: id.into(),
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.noun, self.id)
    }
}

/// Why release did not start. Nothing was changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReleaseError {
    /// An identifier of the wrong shape: nothing was looked up.
    #[error("{given} is not {expected}")]
    Invalid {
        /// The value as given, quoted.
        given: String,
        /// What it should be: `an instance id`, `a task ARN`…
        expected: &'static str,
    },
    #[error("{resource}: {why}")]
    NotFound { resource: Resource, why: String },
    /// Nothing the responder records is on it.
    #[error("{resource} {why}, or already released")]
    NotQuarantined {
        resource: Resource,
        /// What is missing and what that means (`carries no recorded prior state: not
        /// quarantined by the responder`).
        why: &'static str,
    },
    /// The record is there but does not parse.
    #[error("{resource}: {why}")]
    Unreadable { resource: Resource, why: String },
    /// The record is not bound to the live resource, or its seal does not verify.
    #[error("{resource}: release refused, nothing was changed: {reasons}", reasons = .reasons.join("; "))]
    Refused {
        resource: Resource,
        reasons: Vec<String>,
    },
    /// A read before any change failed (or the cluster could not be reached).
    #[error("{0}")]
    Api(String),
}

impl ReleaseError {
    /// `value` is not `expected` (`"an instance id"`).
    pub fn invalid(value: &str, expected: &'static str) -> ReleaseError {
        ReleaseError::Invalid {
            given: format!("{value:?}"),
            expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages read as they did when each surface had its own error type.
    #[test]
    fn messages_name_the_resource_as_before() {
        let instance = || Resource::new("instance", "i-0123456789abcdef0");
        assert_eq!(
            ReleaseError::invalid("i-x", "an instance id").to_string(),
            "\"i-x\" is not an instance id"
        );
        assert_eq!(
            ReleaseError::NotQuarantined {
                resource: instance(),
                why: "carries no recorded prior state: not quarantined by the responder",
            }
            .to_string(),
            "instance i-0123456789abcdef0 carries no recorded prior state: not quarantined by \
             the responder, or already released"
        );
        assert_eq!(
            ReleaseError::Refused {
                resource: Resource::new("task", "arn:t"),
                reasons: vec!["a".into(), "b".into()],
            }
            .to_string(),
            "task arn:t: release refused, nothing was changed: a; b"
        );
        assert_eq!(
            ReleaseError::Unreadable {
                resource: instance(),
                why: "prior-state tags: bad".into(),
            }
            .to_string(),
            "instance i-0123456789abcdef0: prior-state tags: bad"
        );
        assert_eq!(
            ReleaseError::NotFound {
                resource: instance(),
                why: "not found (terminated)".into(),
            }
            .to_string(),
            "instance i-0123456789abcdef0: not found (terminated)"
        );
    }
}
