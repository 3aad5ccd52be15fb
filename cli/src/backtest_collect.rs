//! What `responder backtest` keeps of each finding it reads: its summary, not its plan.

use crate::backtest_summary::FindingSummary;
use responder::Config;
use responder::pipeline::{Handled, plan_stream};
use responder::plan::ResponsePlan;
use std::io::Read;

/// Plans every finding it is given and keeps only its summary.
pub struct Collector<'c> {
    config: &'c Config,
    pub summaries: Vec<FindingSummary>,
    pub errors: u64,
}

impl<'c> Collector<'c> {
    pub(crate) fn new(config: &'c Config) -> Collector<'c> {
        Collector {
            config,
            summaries: Vec::new(),
            errors: 0,
        }
    }

    /// Reads one input (any shape `replay` reads); a bad entry is reported on stderr and
    /// counted, the others are kept.
    pub fn read(&mut self, input: impl Read) -> Result<(), String> {
        let config = self.config;
        let (summaries, errors) = (&mut self.summaries, &mut self.errors);
        plan_stream(input, config, &mut |handled| match handled {
            Ok(Handled::Plan(plan)) => summaries.push(summary(&plan, config)),
            Ok(Handled::NotAFinding { .. }) => {}
            Err(e) => {
                *errors += 1;
                eprintln!("error: {e}");
            }
        })
        .map_err(|e| e.to_string())
    }
}

fn summary(plan: &ResponsePlan, config: &Config) -> FindingSummary {
    let guarded = plan
        .deciding_guard(&config.guardrails)
        .map(|(_, reason)| reason);
    FindingSummary {
        finding_id: plan.finding_id.clone(),
        updated_at_ms: plan
            .finding
            .updated_at
            .as_ref()
            .and_then(|t| t.as_datetime())
            .map(|t| t.timestamp_millis()),
        account_id: plan.account_id.clone(),
        decision: plan.decision.as_str(),
        family: plan.family.as_str().to_owned(),
        surface: plan.surface.as_str(),
        guardrail: guarded,
    }
}
