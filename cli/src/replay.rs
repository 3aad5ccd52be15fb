//! `responder replay`: parse → plan → (execute) → show, for one file or stdin.

use crate::Output;
use responder::Config;
use responder::pipeline::{Handled, plan_input};
use responder::plan::ResponsePlan;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

/// Largest input read (EventBridge caps events at 256 KB; get-findings output can be larger).
const MAX_INPUT: u64 = 16 * 1024 * 1024;

pub fn run(file: &str, output: Output, config: Option<&Path>) -> Result<ExitCode, String> {
    let config = load_config(config)?;
    let bytes = read_input(file)?;
    let handled = plan_input(&bytes, &config).map_err(|e| e.to_string())?;
    match output {
        Output::Json => println!("{}", json_report(&handled)),
        Output::Text => print!("{}", text_report(&handled)),
    }
    Ok(ExitCode::SUCCESS)
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

fn json_report(handled: &[Handled]) -> String {
    let plans: Vec<&ResponsePlan> = handled
        .iter()
        .filter_map(|h| match h {
            Handled::Plan(p) => Some(&**p),
            _ => None,
        })
        .collect();
    let others: Vec<serde_json::Value> = handled
        .iter()
        .filter_map(|h| match h {
            Handled::NotAFinding { detail_type } => {
                Some(serde_json::json!({"detail_type": detail_type, "handled": "not a finding"}))
            }
            _ => None,
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({"plans": plans, "not_findings": others}))
        .unwrap_or_default()
}

fn text_report(handled: &[Handled]) -> String {
    let mut out = String::new();
    for h in handled {
        match h {
            Handled::NotAFinding { detail_type } => {
                out.push_str(&format!(
                    "Not a finding: a GuardDuty {:?} event (nothing to do)\n\n",
                    responder::sanitize::ascii_line(detail_type, 80)
                ));
            }
            Handled::Plan(p) => {
                out.push_str(&format!("== {} ==\n", p.notification.subject));
                out.push_str(&format!(
                    "decision: {} — {}\n",
                    p.decision.as_str(),
                    p.reason
                ));
                for a in &p.actions {
                    out.push_str(&format!(
                        "  would run {} on {}\n",
                        a.kind.name(),
                        responder::sanitize::neutralise(&a.target.to_string(), 512)
                    ));
                }
                out.push_str("-- notification (dry run: nothing sent) --\n");
                out.push_str(&p.notification.text);
                out.push('\n');
            }
        }
    }
    out
}
