//! The pure pipeline end to end: bytes in, plans out. Used by the CLI, the Lambda
//! handler, the fuzz target and the benchmark alike.

use crate::config::Config;
use crate::finding::{Entry, ParseError, parse_input_from, stream_input};
use crate::plan::{ResponsePlan, plan};
use std::io::Read;

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
            .map(|entry| handle(entry, config))
            .collect(),
    )
}

/// Plans each entry of `reader` as it is read and hands it on, so an input of any size
/// is planned in constant memory (see [`crate::finding::stream`]). A bad entry is handed
/// on as its error; `Err` only when the input as a whole cannot be read.
pub fn plan_stream(
    reader: impl Read,
    config: &Config,
    each: &mut dyn FnMut(Result<Handled, ParseError>),
) -> Result<(), ParseError> {
    stream_input(reader, config.test_event_source.as_deref(), &mut |entry| {
        each(entry.map(|e| handle(e, config)))
    })
}

fn handle(entry: Entry, config: &Config) -> Handled {
    match entry {
        Entry::Finding(f) => Handled::Plan(Box::new(plan(f, config))),
        Entry::NotAFinding { detail_type } => Handled::NotAFinding { detail_type },
    }
}

/// The plan of a one-finding event under the default configuration (unit tests).
#[cfg(test)]
pub(crate) fn sample_plan(event: &[u8]) -> crate::plan::ResponsePlan {
    match plan_input(event, &Config::default())
        .unwrap()
        .pop()
        .unwrap()
    {
        Handled::Plan(p) => *p,
        Handled::NotAFinding { .. } => panic!("not a finding"),
    }
}
