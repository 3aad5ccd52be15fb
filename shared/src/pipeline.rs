//! The pure pipeline end to end: bytes in, plans out. Used by the CLI, the Lambda
//! handler, the fuzz target and the benchmark alike.

use crate::config::Config;
use crate::finding::{Entry, ParseError, parse_input_from};
use crate::plan::{ResponsePlan, plan};

/// What one input entry became.
#[derive(Debug)]
pub enum Handled {
    Plan(Box<ResponsePlan>),
    /// A GuardDuty event that is not a finding (e.g. a Runtime Protection health change).
    NotAFinding {
        detail_type: String,
    },
}

/// Parses any accepted input and plans every finding in it.
pub fn plan_input(bytes: &[u8], config: &Config) -> Result<Vec<Handled>, ParseError> {
    Ok(
        parse_input_from(bytes, config.test_event_source.as_deref())?
            .into_iter()
            .map(|entry| match entry {
                Entry::Finding(f) => Handled::Plan(Box::new(plan(f, config))),
                Entry::NotAFinding { detail_type } => Handled::NotAFinding { detail_type },
            })
            .collect(),
    )
}
