//! `responder replay`: parse → plan → (execute → notify) → show, for one file or stdin.
//! Without `--execute` nothing is called and nothing is sent: the output shows what would be.
//! This part is pure; `--execute` lives in `replay_execute` (feature `aws`).

use crate::Output;
use responder::Config;
use responder::outcome::{Outcome, any_failed};
use responder::pipeline::{Handled, plan_input};
use responder::plan::ResponsePlan;
use responder::sanitize::{ascii_line, neutralise};
use serde::Serialize;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

/// What `responder replay` shows with no file: a real-schema EC2 finding that the default
/// playbook contains.
const EMBEDDED_SAMPLE: &str = include_str!("../../events/ec2-defense-evasion-kernel-module.json");

/// Largest input read (EventBridge caps events at 256 KB; get-findings output can be larger).
const MAX_INPUT: u64 = 16 * 1024 * 1024;

pub struct Replay<'a> {
    pub file: Option<&'a str>,
    pub output: Output,
    pub config: Option<&'a Path>,
    pub execute: bool,
}

/// One finding's result as shown: the plan, then what was done and sent (both empty in a
/// dry run). Field names and order are the replay JSON contract.
#[derive(Serialize)]
pub struct Reported {
    #[serde(flatten)]
    pub plan: ResponsePlan,
    pub outcomes: Vec<Outcome>,
    pub deliveries: Vec<DeliveryLine>,
    pub repeat: bool,
}

/// One notification channel's result.
#[derive(Serialize)]
pub struct DeliveryLine {
    pub channel: &'static str,
    pub ok: bool,
    pub detail: String,
}

impl Reported {
    /// Not acted on: another run holds the finding's exactly-once record.
    #[cfg(feature = "aws")]
    pub fn busy(plan: ResponsePlan, why: &str) -> Reported {
        let outcomes = plan
            .actions
            .iter()
            .map(|a| {
                Outcome::new(
                    a.kind,
                    a.target.to_string(),
                    responder::outcome::Status::Skipped,
                    why,
                )
            })
            .collect();
        Reported {
            plan,
            outcomes,
            deliveries: Vec::new(),
            repeat: false,
        }
    }

    fn dry_run(plan: ResponsePlan) -> Reported {
        Reported {
            plan,
            outcomes: Vec::new(),
            deliveries: Vec::new(),
            repeat: false,
        }
    }
}

pub fn run(args: Replay<'_>) -> Result<ExitCode, String> {
    let config = load_config(args.config)?;
    let bytes = match args.file {
        Some(file) => read_input(file)?,
        None => EMBEDDED_SAMPLE.as_bytes().to_vec(),
    };
    let handled = plan_input(&bytes, &config).map_err(|e| e.to_string())?;
    let mut plans = Vec::new();
    let mut others = Vec::new();
    for h in handled {
        match h {
            Handled::NotAFinding { detail_type } => others.push(detail_type),
            Handled::Plan(plan) => plans.push(*plan),
        }
    }
    let reported = if args.execute {
        execute(plans, &config)?
    } else {
        plans.into_iter().map(Reported::dry_run).collect()
    };
    match args.output {
        Output::Json => println!("{}", json_report(&reported, &others)),
        Output::Text => print!("{}", text_report(&reported, &others, args.execute)),
    }
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

fn load_config(path: Option<&Path>) -> Result<Config, String> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read config {}: {e}", p.display()))?;
            Config::from_document(&text, &p.display().to_string()).map_err(|e| e.to_string())
        }
        None => Config::from_env(|k| std::env::var(k).ok()).map_err(|e| e.to_string()),
    }
}

fn read_input(file: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let read = if file == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("cannot read {file}: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(format!("{file} is larger than {MAX_INPUT} bytes"));
    }
    Ok(bytes)
}

fn json_report(responses: &[Reported], others: &[String]) -> String {
    let others: Vec<serde_json::Value> = others
        .iter()
        .map(|d| serde_json::json!({"detail_type": d, "handled": "not a finding"}))
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({"plans": responses, "not_findings": others}))
        .unwrap_or_default()
}

fn text_report(responses: &[Reported], others: &[String], executed: bool) -> String {
    let mut out = String::new();
    for d in others {
        out.push_str(&format!(
            "Not a finding: a GuardDuty {:?} event (nothing to do)\n\n",
            ascii_line(d, 80)
        ));
    }
    for r in responses {
        let p = &r.plan;
        out.push_str(&format!("== {} ==\n", p.notification.subject));
        out.push_str(&format!(
            "decision: {} — {}\n",
            p.decision.as_str(),
            p.reason
        ));
        if executed {
            for o in &r.outcomes {
                out.push_str(&format!(
                    "  {} {}: {} {}\n",
                    o.kind.name(),
                    neutralise(&o.target, 512),
                    o.status.as_str(),
                    neutralise(&o.detail, 1024)
                ));
            }
            for d in &r.deliveries {
                out.push_str(&format!(
                    "  notification via {}: {} {}\n",
                    d.channel,
                    if d.ok { "sent" } else { "FAILED" },
                    neutralise(&d.detail, 256)
                ));
            }
        } else {
            for a in &p.actions {
                out.push_str(&format!(
                    "  would run {} on {}\n",
                    a.kind.name(),
                    neutralise(&a.target.to_string(), 512)
                ));
            }
        }
        if p.decision != responder::Decision::Ignore {
            out.push_str(if executed {
                "-- notification --\n"
            } else {
                "-- notification (dry run: nothing sent) --\n"
            });
            out.push_str(&p.notification.text);
        }
        out.push('\n');
    }
    out
}
