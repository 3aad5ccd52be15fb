//! Identifiers validated once, where they enter (a finding, a CLI argument, a button's
//! value), and typed from there on.
//!
//! A finding, a replayed file or a forged button can put anything in an identifier; each
//! newtype here has one fallible constructor applying its rule, and no other, so holding an
//! [`InstanceId`] proves the string is one. Executors take the newtypes where they act on a
//! resource, so none re-validates a string or trusts one by convention. Each serializes as
//! its plain string (`serde(transparent)`), so every JSON output stays the same.
//!
//! A leaf: it depends on nothing else in the crate.

mod aws;
mod k8s;
#[cfg(test)]
mod tests;

pub use aws::{
    AccountId, ClusterName, DetectorId, FindingId, InstanceId, NetworkInterfaceId, Region,
    SnapshotId, TaskArn, VpcId,
};
pub use k8s::{ContainerId, K8sName};

/// A value that is not a well-formed identifier of its kind. It names the kind only: the
/// value is hostile input, and a caller that shows it neutralises it first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {what}")]
pub struct InvalidId {
    /// The kind, as messages name it (`instance id`, `task ARN`, …).
    pub what: &'static str,
}

/// Defines a validated string newtype: `$rule` is its one validation, applied by every
/// constructor (`parse`, `TryFrom`, `FromStr`, `Deserialize`).
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $rule:path) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The kind, as messages name it.
            pub const WHAT: &'static str = $what;

            /// The one way in: the value if it is well-formed.
            pub fn parse(v: &str) -> Result<$name, $crate::ids::InvalidId> {
                $name::try_from(v.to_owned())
            }

            /// Whether `v` would parse (for a caller that only needs the yes or no).
            pub fn is_valid(v: &str) -> bool {
                $rule(v)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::ids::InvalidId;
            fn try_from(v: String) -> Result<$name, $crate::ids::InvalidId> {
                if $rule(&v) {
                    Ok($name(v))
                } else {
                    Err($crate::ids::InvalidId { what: $what })
                }
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::ids::InvalidId;
            fn try_from(v: &str) -> Result<$name, $crate::ids::InvalidId> {
                $name::parse(v)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ids::InvalidId;
            fn from_str(v: &str) -> Result<$name, $crate::ids::InvalidId> {
                $name::parse(v)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// As the plain string's, so logs and test messages read as before.
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl<'a> From<&'a $name> for std::borrow::Cow<'a, str> {
            fn from(v: &'a $name) -> std::borrow::Cow<'a, str> {
                std::borrow::Cow::Borrowed(&v.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let v = String::deserialize(d)?;
                $name::try_from(v).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use id_type;
