//! What an alert's button carries: an opaque reference (which action, on which finding, in
//! which account and region), never a plan. The interactions function trusts nothing else
//! from a click: it fetches the finding from GuardDuty and re-plans it with the current
//! configuration, so a forged value can at most name a finding that does not exist.

use crate::validate::{is_account_id, is_finding_id, is_region};
use std::fmt;

/// What a person may ask for from an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ButtonAction {
    /// Contain a finding the playbook notified or held for approval.
    Contain,
    /// Undo the responder's containment of the finding's resource.
    Release,
    /// Record that someone has seen the alert; changes nothing.
    Acknowledge,
}

impl ButtonAction {
    pub const ALL: [ButtonAction; 3] = [Self::Contain, Self::Release, Self::Acknowledge];

    /// The word in the reference and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contain => "contain",
            Self::Release => "release",
            Self::Acknowledge => "acknowledge",
        }
    }

    /// The Block Kit `action_id`: one per action, so a handler can route without parsing.
    pub fn action_id(self) -> &'static str {
        match self {
            Self::Contain => "responder_contain",
            Self::Release => "responder_release",
            Self::Acknowledge => "responder_acknowledge",
        }
    }

    fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == word)
    }
}

/// The button's `value`: `<action>:<account>:<region>:<finding-id>`, each part validated
/// when built and again when parsed, so that nothing but these four facts travels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub action: ButtonAction,
    pub account: String,
    pub region: String,
    pub finding_id: String,
}

/// Why a button value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("a reference has four ':'-separated parts")]
    Shape,
    #[error("unknown action {0:?}")]
    Action(String),
    #[error("not an AWS account id")]
    Account,
    #[error("not an AWS region")]
    Region,
    #[error("not a GuardDuty finding id")]
    FindingId,
}

/// Longest value a reference can encode to: well within Block Kit's 2,000 characters.
pub const MAX_LEN: usize = 11 + 1 + 12 + 1 + 32 + 1 + 64;

impl Reference {
    /// Builds a reference from a finding's own fields, refusing any that would not parse
    /// back: a hostile region or id gets no button rather than a strange one.
    pub fn new(
        action: ButtonAction,
        account: &str,
        region: &str,
        finding_id: &str,
    ) -> Result<Self, ReferenceError> {
        if !is_account_id(account) {
            return Err(ReferenceError::Account);
        }
        if !is_region(region) {
            return Err(ReferenceError::Region);
        }
        if !is_finding_id(finding_id) {
            return Err(ReferenceError::FindingId);
        }
        Ok(Self {
            action,
            account: account.to_owned(),
            region: region.to_owned(),
            finding_id: finding_id.to_owned(),
        })
    }

    /// Parses a button value back, with the same checks as [`Reference::new`].
    pub fn parse(value: &str) -> Result<Self, ReferenceError> {
        if value.len() > MAX_LEN {
            return Err(ReferenceError::Shape);
        }
        let mut parts = value.split(':');
        let (Some(action), Some(account), Some(region), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(ReferenceError::Shape);
        };
        let action =
            ButtonAction::from_word(action).ok_or_else(|| ReferenceError::Action(action.into()))?;
        Self::new(action, account, region, id)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.action.as_str(),
            self.account,
            self.region,
            self.finding_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn every_action_round_trips() {
        for action in ButtonAction::ALL {
            let r = Reference::new(action, "123456789012", "eu-west-1", ID).unwrap();
            let value = r.to_string();
            assert!(value.len() <= MAX_LEN);
            assert_eq!(Reference::parse(&value), Ok(r));
        }
    }

    #[test]
    fn hostile_values_are_refused() {
        let cases: [(&str, ReferenceError); 8] = [
            ("contain:123456789012:eu-west-1", ReferenceError::Shape),
            (
                "contain:123456789012:eu-west-1:ab:cd",
                ReferenceError::Shape,
            ),
            (
                "plan:123456789012:eu-west-1:ab",
                ReferenceError::Action("plan".into()),
            ),
            ("contain:12345678901:eu-west-1:ab", ReferenceError::Account),
            ("contain:12345678901x:eu-west-1:ab", ReferenceError::Account),
            (
                "contain:123456789012:eu-west-1.evil:ab",
                ReferenceError::Region,
            ),
            (
                "contain:123456789012:eu-west-1:../x",
                ReferenceError::FindingId,
            ),
            ("release:123456789012:eu-west-1:", ReferenceError::FindingId),
        ];
        for (value, want) in cases {
            assert_eq!(Reference::parse(value), Err(want), "{value}");
        }
        assert_eq!(
            Reference::parse(&format!("contain:{}", "a".repeat(MAX_LEN))),
            Err(ReferenceError::Shape)
        );
    }
}
