use super::*;

const HOUR: i64 = WINDOW_MS;

fn finding(id: &str, at: Option<i64>, account: &str, decision: &'static str) -> FindingSummary {
    FindingSummary {
        finding_id: id.to_owned(),
        updated_at_ms: at,
        account_id: account.to_owned(),
        decision,
        family: "Execution".to_owned(),
        surface: "ec2",
        guardrail: None,
    }
}

fn refused(report: &Backtest) -> Vec<(&str, Option<&str>)> {
    report
        .containments
        .iter()
        .map(|c| (c.finding_id.as_str(), c.refused_by.as_deref()))
        .collect()
}

#[test]
fn counts_group_by_decision_family_surface_and_account() {
    let mut other = finding("c", None, "2", "contain");
    other.family = "Impact".into();
    let report = summarise(
        vec![
            finding("a", None, "1", "contain"),
            finding("b", None, "1", "contain"),
            other,
            finding("d", None, "1", "notify"),
        ],
        3,
        Budgets::default(),
    );
    let rows: Vec<_> = report
        .counts
        .iter()
        .map(|r| {
            (
                r.decision,
                r.family.as_str(),
                r.account_id.as_str(),
                r.count,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("contain", "Execution", "1", 2),
            ("contain", "Impact", "2", 1),
            ("notify", "Execution", "1", 1)
        ]
    );
    assert_eq!((report.findings, report.errors), (4, 3));
    assert_eq!((report.contained, report.rate_limited), (3, 0));
}

#[test]
fn the_rate_limit_is_replayed_in_event_time_not_input_order() {
    // Input order is the reverse of event time: "late" must be the one refused.
    let findings = vec![
        finding("late", Some(10 * HOUR + 50 * 60_000), "1", "contain"),
        finding("mid", Some(10 * HOUR + 20 * 60_000), "1", "contain"),
        finding("early", Some(10 * HOUR + 60_000), "1", "contain"),
        finding("next-hour", Some(11 * HOUR + 1), "1", "contain"),
        finding("notified", Some(10 * HOUR + 2), "1", "notify"),
    ];
    let budgets = Budgets {
        global: None,
        per_account: Some(2),
    };
    let report = summarise(findings, 0, budgets);
    assert_eq!(
        refused(&report),
        [
            ("early", None),
            ("mid", None),
            ("late", Some("account 1")),
            ("next-hour", None)
        ]
    );
    assert_eq!(report.rate_limit_trips.len(), 1);
    let trip = &report.rate_limit_trips[0];
    assert_eq!(
        (trip.window_start_ms, trip.scope.as_str(), trip.limit),
        (10 * HOUR, "account 1", 2)
    );
    assert_eq!((trip.first_refused.as_str(), trip.refused), ("late", 1));
    assert_eq!((report.contained, report.rate_limited), (3, 1));
}

#[test]
fn the_global_budget_spans_accounts_and_a_refusal_uses_no_account_budget() {
    let at = |m: i64| Some(5 * HOUR + m * 60_000);
    let findings = vec![
        finding("a1", at(1), "1", "contain"),
        finding("b1", at(2), "2", "contain"),
        finding("b2", at(3), "2", "contain"),
        finding("c1", at(4), "3", "contain"),
    ];
    let budgets = Budgets {
        global: Some(2),
        per_account: Some(1),
    };
    let report = summarise(findings, 0, budgets);
    assert_eq!(
        refused(&report),
        [
            ("a1", None),
            ("b1", None),
            ("b2", Some("account 2")),
            ("c1", Some("global"))
        ]
    );
    let scopes: Vec<_> = report
        .rate_limit_trips
        .iter()
        .map(|t| t.scope.as_str())
        .collect();
    assert_eq!(scopes, ["account 2", "global"]);
}

#[test]
fn guardrails_are_listed_and_findings_without_a_time_come_last() {
    let mut sample = finding("s", Some(1), "1", "notify");
    sample.guardrail = Some("SAMPLE finding".into());
    let findings = vec![
        finding("untimed", None, "1", "contain"),
        sample,
        finding("timed", Some(HOUR), "1", "contain"),
    ];
    let budgets = Budgets {
        global: Some(1),
        per_account: None,
    };
    let report = summarise(findings, 0, budgets);
    assert_eq!(report.guardrails.len(), 1);
    assert_eq!(report.guardrails[0].guardrail, "SAMPLE finding");
    assert_eq!(
        refused(&report),
        [("timed", None), ("untimed", None)],
        "an untimed finding is in a window of its own"
    );
}
