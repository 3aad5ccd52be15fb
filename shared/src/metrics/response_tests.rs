use super::*;
use crate::ActionKind;
use crate::config::Config;
use crate::notify::Delivery;
use crate::outcome::Outcome;
use crate::pipeline::sample_plan as plan_of;
use crate::plan::ResponsePlan;
use serde_json::Value;
use std::time::Duration;

fn ec2_plan() -> ResponsePlan {
    plan_of(include_bytes!(
        "../../../events/ec2-defense-evasion-kernel-module.json"
    ))
}

fn response(plan: ResponsePlan, outcomes: Vec<Outcome>, deliveries: Vec<Delivery>) -> Response {
    Response {
        notification: None,
        plan,
        outcomes,
        deliveries,
        repeat: false,
        isolated_at: None,
    }
}

fn cx(received: SystemTime) -> Context<'static> {
    Context {
        function: "fn-ec2",
        received,
        guard: None,
        now: received,
    }
}

fn json(records: &[Record]) -> Vec<Value> {
    records.iter().map(|r| r.to_json().unwrap()).collect()
}

/// The records carrying `metric`.
fn with<'a>(records: &'a [Value], metric: &str) -> Vec<&'a Value> {
    records.iter().filter(|v| v.get(metric).is_some()).collect()
}

#[test]
fn a_containment_counts_actions_by_kind_and_status_and_times_isolation() {
    let plan = ec2_plan();
    let updated: SystemTime = plan
        .finding
        .updated_at
        .as_ref()
        .and_then(|t| t.as_datetime())
        .unwrap()
        .into();
    let outcome = |kind, status| Outcome::new(kind, "i-0abc", status, "");
    let mut r = response(
        plan,
        vec![
            outcome(ActionKind::Ec2IsolateNetwork, Status::Done),
            outcome(ActionKind::Ec2SnapshotVolumes, Status::Done),
            outcome(ActionKind::Ec2TagInstance, Status::Failed),
            outcome(ActionKind::Ec2DetachFromAutoScaling, Status::Skipped),
        ],
        vec![],
    );
    let received = updated + Duration::from_secs(90);
    r.isolated_at = Some(received + Duration::from_millis(1500));
    let v = json(&records(&r, &cx(received)));

    let findings = with(&v, FINDINGS);
    assert_eq!(findings.len(), 1);
    let f = findings[0];
    assert_eq!(
        (
            f["Decision"].as_str(),
            f["Family"].as_str(),
            f["Surface"].as_str()
        ),
        (Some("contain"), Some("DefenseEvasion"), Some("ec2"))
    );
    let actions = with(&v, ACTIONS);
    assert_eq!(actions.len(), 4, "one record per (kind, status)");
    let failed: Vec<_> = actions.iter().filter(|a| a["Status"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["Action"], "ec2.tag_instance");

    let run = with(&v, CONTAINMENTS);
    assert_eq!(run.len(), 1);
    assert_eq!(run[0][CONTAINMENT_FAILURES].as_f64(), Some(1.0));
    assert_eq!(run[0][TIME_TO_ISOLATION].as_f64(), Some(91_500.0));
    assert_eq!(run[0][RECEIPT_TO_ISOLATION].as_f64(), Some(1_500.0));
    assert_eq!(
        run[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"][1],
        serde_json::json!(["Function"]),
        "the alarms' dimension set"
    );
}

#[test]
fn no_isolation_no_time_and_a_notification_has_no_containment_record() {
    let plan = ec2_plan();
    let again = Outcome::new(
        ActionKind::Ec2IsolateNetwork,
        "i-0abc",
        Status::AlreadyDone,
        "",
    );
    let v = json(&records(
        &response(plan.clone(), vec![again], vec![]),
        &cx(SystemTime::now()),
    ));
    let run = with(&v, CONTAINMENTS);
    assert_eq!(run[0][CONTAINMENT_FAILURES].as_f64(), Some(0.0));
    assert!(run[0].get(TIME_TO_ISOLATION).is_none());

    let delivered = |channel, ok| Delivery {
        channel,
        ok,
        detail: String::new(),
    };
    let deliveries = vec![
        delivered("sns", true),
        delivered("slack", false),
        delivered("slack", false),
    ];
    let v = json(&records(
        &response(plan, vec![], deliveries),
        &cx(SystemTime::now()),
    ));
    assert!(with(&v, CONTAINMENTS).is_empty() && with(&v, ACTIONS).is_empty());
    let slack: Vec<_> = with(&v, DELIVERIES)
        .into_iter()
        .filter(|d| d["Channel"] == "slack")
        .collect();
    assert_eq!(slack.len(), 1);
    assert_eq!(
        (slack[0]["Status"].as_str(), slack[0][DELIVERIES].as_f64()),
        (Some("failed"), Some(2.0))
    );
}

#[test]
fn guardrails_are_counted_by_name_and_ids_never_become_dimensions() {
    let plan = plan_of(include_bytes!(
        "../../../events/eks-kube-system-protected.json"
    ));
    let guard = plan.deciding_guard(&Config::default().guardrails);
    assert_eq!(guard.as_ref().map(|g| g.0), Some(Guard::ProtectedNamespace));
    let (id, account) = (plan.finding_id.clone(), plan.account_id.clone());
    let r = response(plan, vec![], vec![]);
    let v = json(&records(
        &r,
        &Context {
            guard: guard.map(|g| g.0),
            ..cx(SystemTime::now())
        },
    ));
    assert_eq!(
        with(&v, GUARDRAIL_HITS)[0]["Guardrail"],
        "protected_namespace"
    );
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains(&id) && !text.contains(&account), "{text}");
}

#[test]
fn an_unknown_family_is_one_dimension_value() {
    let mut plan = ec2_plan();
    plan.family = ThreatFamily::Unknown("Attacker-Chosen-123".into());
    let v = json(&records(
        &response(plan, vec![], vec![]),
        &cx(SystemTime::now()),
    ));
    assert_eq!(with(&v, FINDINGS)[0]["Family"], "Unknown");
}
