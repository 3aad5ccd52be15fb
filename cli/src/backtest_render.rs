//! `responder backtest` output: a text table with a bar per row, JSON, or CSV (the counts).
//! Every value that came from a finding (ids, accounts, unknown family names) is shown
//! through `ascii_line` in text and quoted in CSV (formula characters defused).

use crate::backtest_summary::{Backtest, Budgets};
use responder::sanitize::ascii_line;
use std::fmt::Write as _;

/// Rows of a long list shown in text; JSON has them all.
const TEXT_LIST: usize = 20;
/// The longest bar, for the largest count.
const BAR: u64 = 40;

pub fn json(report: &Backtest) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

/// The counts table: `decision,family,surface,account_id,count`.
pub fn csv(report: &Backtest) -> String {
    let mut out = String::from("decision,family,surface,account_id,count\n");
    for r in &report.counts {
        let _ = writeln!(
            out,
            "{},{},{},{},{}",
            r.decision,
            csv_field(&r.family),
            r.surface,
            csv_field(&r.account_id),
            r.count
        );
    }
    out
}

fn csv_field(value: &str) -> String {
    let defused = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

pub fn text(report: &Backtest) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} findings planned ({} entries could not be read)\n",
        report.findings, report.errors
    );
    let max = report.counts.iter().map(|r| r.count).max().unwrap_or(1);
    let _ = writeln!(
        out,
        "{:<8} {:<20} {:<7} {:<12} {:>7}",
        "decision", "family", "surface", "account", "count"
    );
    for r in &report.counts {
        let bar = "█".repeat(((r.count * BAR).div_ceil(max)) as usize);
        let _ = writeln!(
            out,
            "{:<8} {:<20} {:<7} {:<12} {:>7} {bar}",
            r.decision,
            ascii_line(&r.family, 20),
            r.surface,
            ascii_line(&r.account_id, 12),
            r.count
        );
    }
    let _ = writeln!(
        out,
        "\nContainment: {} would be contained, {} refused by the rate limit ({})",
        report.contained,
        report.rate_limited,
        limits(report.budgets)
    );
    for t in report.rate_limit_trips.iter().take(TEXT_LIST) {
        let _ = writeln!(
            out,
            "  tripped in the hour from {}: {} limit {}, first refused {}, {} refused",
            hour(t.window_start_ms),
            ascii_line(&t.scope, 24),
            t.limit,
            ascii_line(&t.first_refused, 64),
            t.refused
        );
    }
    more(&mut out, report.rate_limit_trips.len());
    let _ = writeln!(
        out,
        "\nGuardrails: {} findings kept from containment (sample, exemption, protected namespace, archived)",
        report.guardrails.len()
    );
    for g in report.guardrails.iter().take(TEXT_LIST) {
        let _ = writeln!(
            out,
            "  {} ({}): {}",
            ascii_line(&g.finding_id, 64),
            ascii_line(&g.account_id, 12),
            ascii_line(&g.guardrail, 100)
        );
    }
    more(&mut out, report.guardrails.len());
    out
}

/// The line that says how many rows of a list were left out of the text.
fn more(out: &mut String, rows: usize) {
    if rows > TEXT_LIST {
        let _ = writeln!(
            out,
            "  … and {} more (--output json lists them all)",
            rows - TEXT_LIST
        );
    }
}

fn limits(b: Budgets) -> String {
    let show = |l: Option<u32>| l.map_or("unlimited".to_owned(), |n| format!("{n}/hour"));
    format!(
        "global {}, per account {}",
        show(b.global),
        show(b.per_account)
    )
}

fn hour(window_start_ms: i64) -> String {
    if window_start_ms == i64::MAX {
        return "(no updatedAt)".into();
    }
    chrono::DateTime::from_timestamp_millis(window_start_ms).map_or_else(
        || window_start_ms.to_string(),
        |t| t.format("%Y-%m-%d %H:00Z").to_string(),
    )
}
