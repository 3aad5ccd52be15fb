//! GuardDuty Runtime Monitoring responder.
//!
//! The pipeline is a functional core — [`finding`] (parse) → [`classify`] → [`playbook`]
//! (decide) → [`plan`] → [`render`] — that returns a [`plan::ResponsePlan`] as data, and an
//! imperative shell of executors and notifiers (behind cargo features) that carries it out.
#![deny(clippy::unwrap_used)]

pub mod action;
pub mod action_catalog;
#[cfg(feature = "aws")]
pub mod actions;
pub mod classify;
pub mod config;
#[cfg(feature = "coverage")]
pub mod coverage;
#[cfg(feature = "evidence")]
pub mod evidence;
#[cfg(feature = "aws")]
pub mod execute;
pub mod exemption;
pub mod finding;
#[cfg(feature = "coverage")]
pub mod history;
#[cfg(feature = "idempotency")]
pub mod idempotency;
pub mod ids;
pub mod interaction;
#[cfg(feature = "interactions")]
pub mod interactions;
#[cfg(feature = "inventory")]
pub mod inventory;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod metrics;
#[cfg(feature = "notify")]
pub mod notify;
pub mod options;
pub mod outcome;
pub mod pipeline;
pub mod plan;
pub mod playbook;
pub mod release;
pub mod render;
#[cfg(feature = "notify")]
pub mod respond;
pub mod sanitize;
pub mod sequence_targets;
mod surface_actions;
pub mod target;
pub mod validate;

pub use config::Config;
pub use finding::{Entry, Finding, ParseError, parse_input};
pub use plan::{Action, ActionKind, ResponsePlan, plan};
pub use playbook::Decision;
