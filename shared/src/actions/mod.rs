//! Executors: one folder per response-action family, each an adapter from a
//! [`crate::plan::ResponsePlan`] to AWS (or Kubernetes) calls, reporting one
//! [`crate::outcome::Outcome`] per planned action.

#[cfg(feature = "ec2")]
pub mod ec2;
#[cfg(feature = "ecs")]
pub mod ecs;
#[cfg(feature = "eks")]
pub mod eks;
#[cfg(feature = "ec2")]
mod fan_out;
pub mod iam_conditions;
#[cfg(feature = "ec2")]
pub mod revocation;
pub mod tags;

#[cfg(all(test, feature = "ecs", feature = "eks"))]
mod catalog_tests;
#[cfg(all(test, feature = "ecs", feature = "eks"))]
mod release_json_tests;
