//! Runtime Monitoring coverage: is the GuardDuty agent actually delivering events?
//!
//! While a resource's coverage is `UNHEALTHY`, GuardDuty produces no Runtime findings for it,
//! so "no alerts" cannot be told from "blind". Two ways in:
//!
//! * [`event`]: the `GuardDuty Runtime Protection Unhealthy|Healthy` EventBridge events,
//!   parsed into [`resource::CoveredResource`] and rendered by [`render`] (escaped per channel)
//!   with a remediation [`hint`] — or a recovery message;
//! * [`audit`]: `GetCoverageStatistics` + `ListCoverage` (UNHEALTHY, every page), for the
//!   `responder coverage` CI gate and the scheduled audit of the coverage function.

pub mod audit;
pub mod event;
#[cfg(feature = "lambda")]
pub mod function;
pub mod hint;
pub mod metrics;
pub mod render;
pub mod resource;

pub use audit::{AuditOptions, AuditReport, TagFilter, audit};
pub use event::{Change, HealthEvent, Invocation, parse_invocation, parse_invocation_from};
pub use resource::{CoveredResource, ResourceType};
