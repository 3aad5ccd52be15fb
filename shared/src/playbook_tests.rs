//! Unit tests of `playbook.rs`.

use super::*;
use crate::classify::classify;
use crate::finding::{Entry, parse_input};

fn finding(ty: &str, severity: f64, extra: &str) -> Finding {
    let json = format!(
        r#"{{"id":"1","type":"{ty}","severity":{severity},"accountId":"1","region":"r",
        "resource":{{"resourceType":"EKSCluster","kubernetesDetails":{{"kubernetesWorkloadDetails":{{"namespace":"web"}}}},
        "eksClusterDetails":{{"tags":[]}}}}{extra}}}"#
    );
    match parse_input(json.as_bytes()).unwrap().pop().unwrap() {
        Entry::Finding(f) => *f,
        _ => unreachable!(),
    }
}

fn route(f: &Finding) -> Decision {
    decide(
        f,
        &classify(f),
        &Playbook::default(),
        &Guardrails::default(),
    )
    .decision
}

#[test]
fn default_playbook_contains_high_and_critical_except_discovery() {
    for family in ThreatFamily::KNOWN {
        let ty = format!("{family}:Runtime/SuspiciousCommand");
        let expected_high = if family == ThreatFamily::Discovery {
            Decision::Notify
        } else {
            Decision::Contain
        };
        assert_eq!(route(&finding(&ty, 8.0, "")), expected_high, "{ty}");
        assert_eq!(route(&finding(&ty, 9.5, "")), expected_high, "{ty}");
        assert_eq!(route(&finding(&ty, 5.0, "")), Decision::Notify, "{ty}");
    }
    assert_eq!(
        route(&finding("Exfiltration:Runtime/New", 9.0, "")),
        Decision::Notify
    );
    assert_eq!(
        route(&finding("Recon:EC2/PortProbeUnprotectedPort", 9.0, "")),
        Decision::Ignore
    );
}

#[test]
fn guardrails_win_over_the_playbook() {
    let ty = "Execution:Runtime/ReverseShell";
    assert_eq!(
        route(&finding(ty, 8.0, r#","service":{"archived":true}"#)),
        Decision::Ignore
    );
    assert_eq!(
        route(&finding(
            ty,
            8.0,
            r#","service":{"additionalInfo":{"sample":true}}"#
        )),
        Decision::Notify
    );
    let kube_system = finding(ty, 8.0, "");
    let json = serde_json::to_string(&kube_system)
        .unwrap()
        .replace(r#""namespace":"web""#, r#""namespace":"kube-system""#);
    let Entry::Finding(ks) = parse_input(json.as_bytes()).unwrap().pop().unwrap() else {
        unreachable!()
    };
    assert_eq!(route(&ks), Decision::Notify);
    let honoured = Guardrails {
        exemptions: Exemptions {
            honour_tags: true,
            ..Exemptions::default()
        },
        ..Guardrails::default()
    };
    for (value, default, when_honoured) in [
        ("yes", Decision::Contain, Decision::Contain),
        ("true", Decision::Contain, Decision::Notify),
    ] {
        let exempt = serde_json::to_string(&kube_system).unwrap().replace(
            r#""tags":[]"#,
            &format!(r#""tags":[{{"key":"guardduty-responder:exempt","value":"{value}"}}]"#),
        );
        let Entry::Finding(ex) = parse_input(exempt.as_bytes()).unwrap().pop().unwrap() else {
            unreachable!()
        };
        assert_eq!(route(&ex), default, "{value}");
        let v = decide(&ex, &classify(&ex), &Playbook::default(), &honoured);
        assert_eq!(v.decision, when_honoured, "{value}");
    }
}

#[test]
fn configured_exemptions_lower_contain_to_notify_with_their_reason() {
    let f = finding("Execution:Runtime/ReverseShell", 8.0, "");
    let guard = Guardrails {
        exemptions: Exemptions {
            accounts: vec![crate::exemption::IdExemption {
                id: "1".into(),
                reason: "red-team account until Friday".into(),
            }],
            ..Exemptions::default()
        },
        ..Guardrails::default()
    };
    let v = decide(&f, &classify(&f), &Playbook::default(), &guard);
    assert_eq!(v.decision, Decision::Notify);
    assert!(
        v.reason.contains("red-team account until Friday"),
        "{}",
        v.reason
    );
    let low = finding("Execution:Runtime/ReverseShell", 2.0, "");
    let v = decide(&low, &classify(&low), &Playbook::default(), &guard);
    assert_eq!(v.decision, Decision::Notify);
    assert!(
        !v.reason.contains("red-team"),
        "only containment is exempted: {}",
        v.reason
    );
}

#[test]
fn overrides_come_first_and_can_replace_defaults() {
    let rule = Rule {
        families: vec!["Discovery".into()],
        types: vec![],
        surfaces: vec![Surface::Eks],
        accounts: vec![],
        min_severity: Some(5.0),
        max_severity: None,
        decision: Decision::Contain,
    };
    let f = finding("Discovery:Runtime/SuspiciousCommand", 5.0, "");
    let c = classify(&f);
    let pb = Playbook::with_overrides(vec![rule.clone()], false);
    assert_eq!(
        decide(&f, &c, &pb, &Guardrails::default()).decision,
        Decision::Contain
    );
    let only = Playbook::with_overrides(
        vec![Rule {
            decision: Decision::Ignore,
            ..rule
        }],
        true,
    );
    let g = finding("Execution:Runtime/ReverseShell", 8.0, "");
    assert_eq!(
        decide(&g, &classify(&g), &only, &Guardrails::default()).decision,
        Decision::Notify
    );
}

#[test]
fn approve_holds_containment_for_a_person_and_guardrails_still_win() {
    let rule = Rule {
        families: vec![],
        types: vec![],
        surfaces: vec![],
        accounts: vec!["1".into()],
        min_severity: Some(7.0),
        max_severity: Some(9.0),
        decision: Decision::Approve,
    };
    let playbook = Playbook::with_overrides(vec![rule], false);
    let decide_with = |f: &Finding| decide(f, &classify(f), &playbook, &Guardrails::default());
    let ty = "Execution:Runtime/ReverseShell";
    assert_eq!(
        decide_with(&finding(ty, 8.0, "")).decision,
        Decision::Approve
    );
    assert_eq!(
        decide_with(&finding(ty, 9.5, "")).decision,
        Decision::Contain
    );
    let other_account = finding(ty, 8.0, "");
    let json = serde_json::to_string(&other_account)
        .unwrap()
        .replace(r#""accountId":"1""#, r#""accountId":"2""#);
    let Entry::Finding(other) = parse_input(json.as_bytes()).unwrap().pop().unwrap() else {
        unreachable!()
    };
    assert_eq!(
        decide_with(&other).decision,
        Decision::Contain,
        "not a listed account"
    );
    let sample = finding(ty, 8.0, r#","service":{"additionalInfo":{"sample":true}}"#);
    let v = decide_with(&sample);
    assert_eq!(v.decision, Decision::Notify);
    assert!(v.reason.contains("SAMPLE"), "{}", v.reason);
    assert_eq!(
        decide_with(&finding(ty, 8.0, r#","service":{"archived":true}"#)).decision,
        Decision::Ignore
    );
}

#[test]
fn a_persons_approval_contains_only_what_the_guardrails_allow() {
    let approve =
        |f: &Finding| decide_approved(f, &classify(f), &Guardrails::default(), "approved".into());
    let ty = "Discovery:Runtime/SuspiciousCommand";
    // The playbook only notifies Discovery and Low findings; a person may still contain.
    let v = approve(&finding(ty, 2.0, ""));
    assert_eq!(
        (v.decision, v.reason.as_str()),
        (Decision::Contain, "approved")
    );
    let sample = finding(ty, 2.0, r#","service":{"additionalInfo":{"sample":true}}"#);
    assert_eq!(approve(&sample).decision, Decision::Notify);
    let ignored = finding("Recon:EC2/PortProbeUnprotectedPort", 9.0, "");
    assert_eq!(approve(&ignored).decision, Decision::Ignore);
}
