//! `responder replay`: parse → plan → (execute → notify) → show, for one file or stdin,
//! one finding at a time: memory does not grow with the input (except with `--execute`).
//! Without `--execute` nothing is called and nothing is sent: the output shows what would be.
//! This part is pure; `--execute` lives in `replay_execute` (feature `aws`).

use crate::ReplayOutput as Output;
use crate::replay_report::{Report, Reported};
use responder::Config;
use responder::outcome::any_failed;
use responder::pipeline::{Handled, plan_stream};
use responder::plan::ResponsePlan;
use std::io::{BufWriter, Read};
use std::path::Path;
use std::process::ExitCode;

/// What `responder replay` shows with no file: a real-schema EC2 finding that the default
/// playbook contains.
const EMBEDDED_SAMPLE: &str = include_str!("../../events/ec2-defense-evasion-kernel-module.json");

pub struct Replay<'a> {
    pub file: Option<&'a str>,
    pub output: Output,
    pub config: Option<&'a Path>,
    pub execute: bool,
}

pub fn run(args: Replay<'_>) -> Result<ExitCode, String> {
    let config = load_config(args.config)?;
    let input = open_input(args.file)?;
    if args.execute {
        return execute_all(input, &config, args.output);
    }
    let stdout = std::io::stdout();
    let mut report = Report::new(BufWriter::new(stdout.lock()), args.output, false);
    let mut failed_entries = false;
    let end = plan_stream(input, &config, &mut |handled| match handled {
        Ok(Handled::Plan(plan)) => report.plan(&Reported::dry_run(*plan)),
        Ok(Handled::NotAFinding { detail_type }) => report.not_a_finding(detail_type),
        Err(e) => {
            failed_entries = true;
            eprintln!("error: {e}");
        }
    });
    report.finish(failed_entries || end.is_err());
    end.map_err(|e| e.to_string())?;
    Ok(if failed_entries {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--execute`: every entry is read and checked before anything is done (a bad entry
/// stops the run), then each plan is carried out and shown.
fn execute_all(input: Box<dyn Read>, config: &Config, output: Output) -> Result<ExitCode, String> {
    let mut plans = Vec::new();
    let mut others = Vec::new();
    let mut first_error = None;
    plan_stream(input, config, &mut |handled| match handled {
        Ok(Handled::Plan(plan)) => plans.push(*plan),
        Ok(Handled::NotAFinding { detail_type }) => others.push(detail_type),
        Err(e) => {
            first_error.get_or_insert(e);
        }
    })
    .map_err(|e| e.to_string())?;
    if let Some(e) = first_error {
        return Err(format!("{e} (nothing was executed)"));
    }
    let reported = execute(plans, config)?;
    let stdout = std::io::stdout();
    let mut report = Report::new(BufWriter::new(stdout.lock()), output, true);
    others.into_iter().for_each(|d| report.not_a_finding(d));
    reported.iter().for_each(|r| report.plan(r));
    report.finish(false);
    let failed = reported.iter().any(|r| any_failed(&r.outcomes));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(feature = "aws")]
fn execute(plans: Vec<ResponsePlan>, config: &Config) -> Result<Vec<Reported>, String> {
    crate::block_on(async { Ok(crate::replay_execute::execute(plans, config).await) })
}

#[cfg(not(feature = "aws"))]
fn execute(_: Vec<ResponsePlan>, _: &Config) -> Result<Vec<Reported>, String> {
    Err(crate::NO_AWS.to_owned())
}

pub fn load_config(path: Option<&Path>) -> Result<Config, String> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read config {}: {e}", p.display()))?;
            Config::from_document(&text, &p.display().to_string()).map_err(|e| e.to_string())
        }
        None => Config::from_env(|k| std::env::var(k).ok()).map_err(|e| e.to_string()),
    }
}

/// The input as a reader: a file, stdin, or the embedded sample. It is streamed, so its
/// size is not bounded (each entry is, see `responder::finding::stream`).
fn open_input(file: Option<&str>) -> Result<Box<dyn Read>, String> {
    match file {
        None => Ok(Box::new(EMBEDDED_SAMPLE.as_bytes())),
        Some("-") => Ok(Box::new(std::io::stdin())),
        Some(path) => std::fs::File::open(path)
            .map(|f| Box::new(f) as Box<dyn Read>)
            .map_err(|e| format!("cannot read {path}: {e}")),
    }
}
