use super::*;
use std::time::Duration;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn windows_are_fixed_hours_and_expire_two_hours_after_they_end() {
    let w = Window::of(at(1_764_504_000 + 3599));
    assert_eq!(w.start, 1_764_504_000);
    assert_eq!(Window::of(at(1_764_504_000 + 3600)).start, w.start + 3600);
    assert_eq!(w.expires_at(), w.start + 3 * 3600);
}

#[test]
fn an_account_scope_is_a_validated_id() {
    assert_eq!(Scope::account("123456789012").key(), "account#123456789012");
    assert_eq!(Scope::Global.key(), "global");
    for hostile in [
        "12345678901",
        "1234567890123",
        "global",
        "12345678901x",
        "account#1",
    ] {
        assert_eq!(Scope::account(hostile).key(), "account#other", "{hostile}");
    }
}

#[test]
fn the_trip_alert_is_distinct_and_names_scope_limit_and_window() {
    let trip = Trip {
        scope: Scope::account("123456789012"),
        limit: 3,
        window: Window::of(at(1_764_504_000)),
        first: true,
    };
    let n = trip_notification(&trip, "fn-ec2");
    assert!(
        n.subject
            .contains("rate limit reached (account 123456789012)"),
        "{}",
        n.subject
    );
    assert!(n.text.contains("3 containments per hour"), "{}", n.text);
    assert!(n.text.contains("2025-11-30 13:00 UTC"), "{}", n.text);
    let (doc, attrs) = trip_message(&trip, "fn-ec2", &n.text);
    assert_eq!(doc["kind"], "rate_limit");
    assert_eq!(doc["limit"], 3);
    assert!(attrs.contains(&("kind", "String", "rate_limit".into())));
    assert!(attrs.contains(&("scope", "String", "account".into())));
    let global = Trip {
        scope: Scope::Global,
        ..trip
    };
    assert!(
        global.reason().contains("over all accounts"),
        "{}",
        global.reason()
    );
    assert!(global.reason().contains("rate limit reached"));
}

#[test]
fn the_metric_line_is_embedded_metric_format() {
    let line = emf_record(
        METRIC_REFUSED,
        "fn-ec2",
        Some(&Scope::Global),
        at(1_764_504_000),
    )
    .to_json()
    .unwrap()
    .to_string();
    assert!(!line.contains('\n'));
    let v: Value = serde_json::from_str(&line).unwrap();
    let m = &v["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(v["_aws"]["Timestamp"], 1_764_504_000_000u64);
    assert_eq!(m["Namespace"], NAMESPACE);
    assert_eq!(m["Dimensions"], json!([["Function"]]));
    assert_eq!(m["Metrics"][0]["Name"], METRIC_REFUSED);
    // Every dimension and metric named in the directive is a member of the record.
    assert_eq!(v["Function"], "fn-ec2");
    assert_eq!(v[METRIC_REFUSED], 1);
    assert_eq!(v["scope"], "global");
}
