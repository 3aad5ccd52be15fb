//! `responder backtest`: what the playbook would have done to a detector's history, before
//! turning `enforce` on. Findings are read from files (streamed, like `replay`) or, with
//! the `aws` feature and no file, from GuardDuty (`ListFindings` + `GetFindings`: read
//! calls only); each is planned and reduced to a small summary, and the report is
//! computed from those. Nothing is changed or sent.

use crate::backtest_summary::{Budgets, FindingSummary, summarise};
use crate::replay::load_config;
use responder::Config;
use responder::pipeline::{Handled, plan_stream};
use responder::plan::ResponsePlan;
use responder::playbook::deciding_guard;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
}

#[derive(clap::Args)]
pub struct Args {
    /// get-findings exports, JSON Lines, EventBridge archives, … (any `replay` input; `-`
    /// is stdin). None: the detector's findings from GuardDuty (`aws` feature).
    files: Vec<String>,
    /// The configuration document to test (playbook, guardrails).
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    output: Format,
    /// Containments per hour over all accounts [default: RESPONDER_MAX_CONTAINMENTS_PER_HOUR].
    #[arg(long)]
    max_per_hour: Option<u32>,
    /// Containments per hour per account
    /// [default: RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR].
    #[arg(long)]
    max_per_account_per_hour: Option<u32>,
    #[cfg(feature = "aws")]
    #[command(flatten)]
    aws: crate::backtest_aws::Source,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let config = load_config(args.config.as_deref())?;
    let env_limit = |name: &str| -> Result<Option<u32>, String> {
        std::env::var(name)
            .ok()
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| format!("{name}: not a number: {v:?}"))
            })
            .transpose()
    };
    let budgets = Budgets {
        global: args.max_per_hour.map_or_else(
            || env_limit("RESPONDER_MAX_CONTAINMENTS_PER_HOUR"),
            |n| Ok(Some(n)),
        )?,
        per_account: args.max_per_account_per_hour.map_or_else(
            || env_limit("RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR"),
            |n| Ok(Some(n)),
        )?,
    };
    let mut collector = Collector::new(&config);
    if args.files.is_empty() {
        read_aws(&args, &mut collector)?;
    }
    for file in &args.files {
        let input: Box<dyn Read> = match file.as_str() {
            "-" => Box::new(std::io::stdin()),
            path => {
                Box::new(std::fs::File::open(path).map_err(|e| format!("cannot read {path}: {e}"))?)
            }
        };
        collector.read(input).map_err(|e| format!("{file}: {e}"))?;
    }
    let report = summarise(collector.summaries, collector.errors, budgets);
    let shown = match args.output {
        Format::Text => crate::backtest_render::text(&report),
        Format::Json => crate::backtest_render::json(&report),
        Format::Csv => crate::backtest_render::csv(&report),
    };
    print!("{shown}");
    Ok(if report.errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(feature = "aws")]
fn read_aws(args: &Args, collector: &mut Collector<'_>) -> Result<(), String> {
    crate::block_on(crate::backtest_aws::read(&args.aws, collector))
}

#[cfg(not(feature = "aws"))]
fn read_aws(_: &Args, _: &mut Collector<'_>) -> Result<(), String> {
    Err(format!(
        "no input file (get-findings exports, JSON Lines, archives; - is stdin); reading \
         the findings from GuardDuty needs the aws feature: {}",
        crate::NO_AWS
    ))
}

/// Plans every finding it is given and keeps only its summary.
pub struct Collector<'c> {
    config: &'c Config,
    pub summaries: Vec<FindingSummary>,
    pub errors: u64,
}

impl<'c> Collector<'c> {
    fn new(config: &'c Config) -> Collector<'c> {
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
    let guarded = deciding_guard(plan, &config.guardrails).map(|(_, reason)| reason);
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
