//! What `responder backtest` reports, computed from small per-finding summaries (never
//! whole findings, so a long history fits): counts by decision × family × surface ×
//! account, the containments replayed in event time through the hourly rate limit, and
//! the findings a guardrail kept from containment. Pure.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One hour, the rate limit's fixed window (as the Lambda functions count it).
pub const WINDOW_MS: i64 = 3600 * 1000;

/// What is kept of one planned finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingSummary {
    pub finding_id: String,
    /// `updatedAt`, epoch milliseconds; `None` when the finding has none (replayed last).
    pub updated_at_ms: Option<i64>,
    pub account_id: String,
    pub decision: &'static str,
    pub family: String,
    pub surface: &'static str,
    /// The guardrail that turned a containment into a notification, if one did.
    pub guardrail: Option<String>,
}

/// Containments per hour (the `RESPONDER_MAX_CONTAINMENTS_*` settings); `None`: unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Budgets {
    pub global: Option<u32>,
    pub per_account: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CountRow {
    pub decision: &'static str,
    pub family: String,
    pub surface: &'static str,
    pub account_id: String,
    pub count: u64,
}

/// A containment the playbook decides, replayed through the rate limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Containment {
    pub finding_id: String,
    pub updated_at_ms: Option<i64>,
    pub account_id: String,
    pub family: String,
    pub surface: &'static str,
    /// `None`: contained; else the budget that refused it (`account 1234…` or `global`).
    pub refused_by: Option<String>,
}

/// The first refusal of a budget in a window: when the rate limit tripped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trip {
    pub window_start_ms: i64,
    pub scope: String,
    pub limit: u32,
    pub first_refused: String,
    pub refused: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guarded {
    pub finding_id: String,
    pub account_id: String,
    pub guardrail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    pub findings: u64,
    pub errors: u64,
    pub budgets: Budgets,
    pub counts: Vec<CountRow>,
    pub contained: u64,
    pub rate_limited: u64,
    pub containments: Vec<Containment>,
    pub rate_limit_trips: Vec<Trip>,
    pub guardrails: Vec<Guarded>,
}

/// The whole report from every finding's summary (in any order) and the entries that
/// could not be parsed.
pub fn summarise(mut findings: Vec<FindingSummary>, errors: u64, budgets: Budgets) -> Backtest {
    let mut counts: BTreeMap<(&'static str, String, &'static str, String), u64> = BTreeMap::new();
    for f in &findings {
        *counts
            .entry((
                f.decision,
                f.family.clone(),
                f.surface,
                f.account_id.clone(),
            ))
            .or_default() += 1;
    }
    let guardrails = findings
        .iter()
        .filter_map(|f| {
            Some(Guarded {
                finding_id: f.finding_id.clone(),
                account_id: f.account_id.clone(),
                guardrail: f.guardrail.clone()?,
            })
        })
        .collect();
    // Event time: exports are not in order. Without a time, last; ties by id, so the
    // result does not depend on the input's order.
    findings.sort_by(|a, b| {
        (a.updated_at_ms.is_none(), a.updated_at_ms, &a.finding_id).cmp(&(
            b.updated_at_ms.is_none(),
            b.updated_at_ms,
            &b.finding_id,
        ))
    });
    let (containments, rate_limit_trips) = replay_rate_limit(&findings, budgets);
    let rate_limited = containments
        .iter()
        .filter(|c| c.refused_by.is_some())
        .count() as u64;
    Backtest {
        findings: findings.len() as u64,
        errors,
        budgets,
        counts: counts
            .into_iter()
            .map(
                |((decision, family, surface, account_id), count)| CountRow {
                    decision,
                    family,
                    surface,
                    account_id,
                    count,
                },
            )
            .collect(),
        contained: containments.len() as u64 - rate_limited,
        rate_limited,
        containments,
        rate_limit_trips,
        guardrails,
    }
}

/// The containments in event-time order through fixed hourly windows, as the functions
/// take them: the account's budget first, then the global one (giving the account's back
/// when the global one refuses).
fn replay_rate_limit(sorted: &[FindingSummary], budgets: Budgets) -> (Vec<Containment>, Vec<Trip>) {
    let mut used: HashMap<(String, i64), u32> = HashMap::new();
    let mut trips: Vec<Trip> = Vec::new();
    let mut trip_index: HashMap<(String, i64), usize> = HashMap::new();
    let mut out = Vec::new();
    for f in sorted.iter().filter(|f| f.decision == "contain") {
        let window = f
            .updated_at_ms
            .map_or(i64::MAX, |t| t.div_euclid(WINDOW_MS) * WINDOW_MS);
        let account = (format!("account {}", f.account_id), window);
        let global = ("global".to_owned(), window);
        let refused = [(account, budgets.per_account), (global, budgets.global)]
            .into_iter()
            .find_map(|(key, limit)| {
                let limit = limit?;
                let n = used.get(&key).copied().unwrap_or(0);
                (n >= limit).then_some((key, limit))
            });
        match &refused {
            Some((key, limit)) => {
                let limit = *limit;
                let at = *trip_index.entry(key.clone()).or_insert_with(|| {
                    trips.push(Trip {
                        window_start_ms: key.1,
                        scope: key.0.clone(),
                        limit,
                        first_refused: f.finding_id.clone(),
                        refused: 0,
                    });
                    trips.len() - 1
                });
                trips[at].refused += 1;
            }
            None => {
                *used
                    .entry((format!("account {}", f.account_id), window))
                    .or_default() += 1;
                *used.entry(("global".to_owned(), window)).or_default() += 1;
            }
        }
        out.push(Containment {
            finding_id: f.finding_id.clone(),
            updated_at_ms: f.updated_at_ms,
            account_id: f.account_id.clone(),
            family: f.family.clone(),
            surface: f.surface,
            refused_by: refused.map(|(key, _)| key.0),
        });
    }
    (out, trips)
}

#[cfg(test)]
#[path = "backtest_summary_tests.rs"]
mod tests;
