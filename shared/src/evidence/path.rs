//! Where a bundle lives: `evidence/<account>/<finding-id>/<resource>/<object>`.
//!
//! Every part comes from a finding, which an attacker can shape (a pod name, a task id).
//! Each is checked on its own so that no value can climb out of its bundle (`..`), add a
//! level (`/`) or collide with another bundle's prefix.

use std::fmt;

/// Why a path part was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("account id must be 12 digits, got {0:?}")]
    Account(String),
    #[error("finding id must be 1-64 lowercase hex digits, got {0:?}")]
    FindingId(String),
    #[error("resource id must be 1-128 of A-Z a-z 0-9 . _ - (not . or ..), got {0:?}")]
    Resource(String),
    #[error(
        "object name must be /-separated parts of A-Z a-z 0-9 . _ - (not . or ..), at most 512 bytes, got {0:?}"
    )]
    Object(String),
}

/// The prefix of one bundle: one resource contained for one finding in one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundlePrefix {
    account: String,
    finding_id: String,
    resource: String,
}

/// Letters, digits, `.`, `_`, `-`; never empty, `.` or `..`.
fn is_segment(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A finding id as [`crate::validate::is_finding_id`] accepts it, lowercase only, so that
/// one finding has exactly one prefix.
fn is_finding_id(id: &str) -> bool {
    crate::validate::is_finding_id(id) && !id.bytes().any(|b| b.is_ascii_uppercase())
}

/// An object's name inside a bundle: `finding.json`, `logs/app.txt`.
pub fn check_object_name(name: &str) -> Result<(), PathError> {
    if name.len() <= 512 && name.split('/').all(|part| is_segment(part, 255)) {
        Ok(())
    } else {
        Err(PathError::Object(name.to_owned()))
    }
}

impl BundlePrefix {
    /// Validates each part; the resource is an id such as `i-0abc…` or an ECS task id, never
    /// an ARN (its `/` and `:` would add levels).
    pub fn new(account: &str, finding_id: &str, resource: &str) -> Result<Self, PathError> {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PathError::Account(account.to_owned()));
        }
        if !is_finding_id(finding_id) {
            return Err(PathError::FindingId(finding_id.to_owned()));
        }
        if !is_segment(resource, 128) {
            return Err(PathError::Resource(resource.to_owned()));
        }
        Ok(Self {
            account: account.to_owned(),
            finding_id: finding_id.to_owned(),
            resource: resource.to_owned(),
        })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn finding_id(&self) -> &str {
        &self.finding_id
    }

    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The full key of an object of this bundle.
    pub fn key(&self, object: &str) -> Result<String, PathError> {
        check_object_name(object)?;
        Ok(format!("{self}{object}"))
    }
}

/// `evidence/<account>/<finding-id>/<resource>/`, with the trailing `/`.
impl fmt::Display for BundlePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "evidence/{}/{}/{}/",
            self.account, self.finding_id, self.resource
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINDING: &str = "60c8b4e2b4a1f0b9c1d3e5f7a9b1c3d5";

    #[test]
    fn a_valid_bundle_has_its_prefix_and_keys() {
        let p = BundlePrefix::new("123456789012", FINDING, "i-0abc123").expect("valid");
        assert_eq!(
            p.to_string(),
            format!("evidence/123456789012/{FINDING}/i-0abc123/")
        );
        assert_eq!(
            p.key("logs/app.txt").expect("valid"),
            format!("evidence/123456789012/{FINDING}/i-0abc123/logs/app.txt")
        );
    }

    #[test]
    fn each_part_is_refused_when_it_could_escape_or_add_a_level() {
        for account in ["12345678901", "1234567890123", "12345678901a", ""] {
            assert!(matches!(
                BundlePrefix::new(account, FINDING, "r"),
                Err(PathError::Account(_))
            ));
        }
        for id in ["", "../x", "ABCDEF", "abc/def", &"a".repeat(65)] {
            assert!(matches!(
                BundlePrefix::new("123456789012", id, "r"),
                Err(PathError::FindingId(_))
            ));
        }
        for r in [
            "",
            ".",
            "..",
            "a/b",
            "arn:aws:ecs:x",
            "a b",
            &"r".repeat(129),
        ] {
            assert!(matches!(
                BundlePrefix::new("123456789012", FINDING, r),
                Err(PathError::Resource(_))
            ));
        }
        let p = BundlePrefix::new("123456789012", FINDING, "r").expect("valid");
        for o in [
            "", "/a", "a/", "a//b", "../a", "a/../b", "./a", "a\\b", "a\0",
        ] {
            assert!(matches!(p.key(o), Err(PathError::Object(_))), "{o:?}");
        }
    }
}
