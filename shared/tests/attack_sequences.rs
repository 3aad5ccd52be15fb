//! Attack sequences (`AttackSequence:*`): notified by default with their story in time
//! order, bounded in every channel however many hostile parts they carry; with a playbook
//! rule that says `contain`, every containable resource is planned with the guardrails a
//! single finding gets.

mod common;

use common::read;
use responder::Config;
use responder::classify::ThreatFamily;
use responder::pipeline::{Handled, plan_input};
use responder::plan::ResponsePlan;
use responder::playbook::Decision;
use responder::target::Target;

fn plan(file: &str, config: &Config) -> ResponsePlan {
    match plan_input(&read(file), config).expect("parses").remove(0) {
        Handled::Plan(p) => *p,
        other => panic!("{file}: {other:?}"),
    }
}

fn containing(extra: &str) -> Config {
    let doc = format!(
        r#"{{"playbook": {{"rules": [{{"families": ["AttackSequence"], "decision": "contain"}}]}}{extra}}}"#
    );
    Config::from_document(&doc, "test").expect("a valid configuration")
}

fn targets(p: &ResponsePlan) -> Vec<String> {
    let mut t: Vec<String> = p
        .actions
        .iter()
        .map(|a| a.target.name().into_owned())
        .collect();
    t.dedup();
    t
}

#[test]
fn sequences_are_notified_with_the_signals_in_time_order() {
    let p = plan(
        "attack-sequence-eks-compromised-cluster.json",
        &Config::default(),
    );
    assert_eq!(p.family, ThreatFamily::AttackSequence);
    assert_eq!(p.decision, Decision::Notify);
    assert!(p.actions.is_empty());
    let text = &p.notification().text;
    assert!(text.starts_with("GuardDuty attack sequence: "), "{text}");
    // The file lists the container escape first; it happened after the reverse shell.
    let shell = text
        .find("Execution:Runtime/ReverseShell")
        .expect("first signal");
    let escape = text
        .find("PrivilegeEscalation:Runtime/ContainerMountsHostDirectory")
        .expect("second signal");
    let api = text.find("ListSecrets").expect("third signal");
    assert!(shell < escape && escape < api, "{text}");
    for part in [
        "Tactics: Execution",
        "c2.example.net:4444",
        "KUBERNETES_WORKLOAD",
    ] {
        assert!(text.contains(part), "{part} missing: {text}");
    }
    for channel in [&p.notification().html, &p.notification().slack.text] {
        assert!(!channel.is_empty());
    }
    let slack = serde_json::to_string(&p.notification().slack).unwrap();
    assert!(slack.contains("ReverseShell"), "{slack}");
}

#[test]
fn a_hostile_sequence_is_bounded_and_counts_what_it_leaves_out() {
    let p = plan("hostile-attack-sequence.json", &Config::default());
    let n = &p.notification();
    assert!(n.text.len() < 40_000, "text {} bytes", n.text.len());
    assert!(n.html.len() < 80_000, "html {} bytes", n.html.len());
    let blocks = serde_json::to_value(&n.slack).unwrap()["blocks"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert!(
        (1..=50).contains(&blocks),
        "Slack allows 50 blocks: {blocks}"
    );
    assert!(
        n.text.contains("30 more signals") && n.text.contains("8 more actors"),
        "{}",
        n.text
    );
}

#[test]
fn a_contain_rule_plans_every_containable_resource() {
    let ec2 = plan(
        "attack-sequence-ec2-compromised-instance-group.json",
        &containing(""),
    );
    assert_eq!(ec2.decision, Decision::Contain, "{}", ec2.reason);
    assert_eq!(
        targets(&ec2),
        ["i-0a1b2c3d4e5f60718", "i-0b2c3d4e5f6071829"]
    );

    let ecs = plan(
        "attack-sequence-ecs-compromised-cluster.json",
        &containing(""),
    );
    assert_eq!(ecs.decision, Decision::Contain, "{}", ecs.reason);
    assert!(
        matches!(&*ecs.actions[0].target, Target::Ecs { cluster, launch_type, .. }
            if cluster == "prod-cluster" && launch_type.as_deref() == Some("FARGATE")),
        "{:?}",
        ecs.actions[0].target
    );
    // The cluster itself is not a containable resource: only the task is planned.
    assert_eq!(targets(&ecs).len(), 1);

    let eks = plan(
        "attack-sequence-eks-compromised-cluster.json",
        &containing(""),
    );
    assert_eq!(eks.decision, Decision::Contain, "{}", eks.reason);
    assert!(
        matches!(&*eks.actions[0].target, Target::Eks { cluster, namespace, workload_name, .. }
            if cluster == "prod-eks" && namespace == "default" && workload_name == "web"),
        "{:?}",
        eks.actions[0].target
    );
}

#[test]
fn each_resource_keeps_the_guardrails_of_a_single_finding() {
    let exempt = containing(
        r#", "guardrails": {"exemptions": {"instances": [{"id": "i-0b2c3d4e5f6071829", "reason": "forensics host"}]}}"#,
    );
    let p = plan(
        "attack-sequence-ec2-compromised-instance-group.json",
        &exempt,
    );
    assert_eq!(targets(&p), ["i-0a1b2c3d4e5f60718"]);
    assert!(
        p.reason.contains("i-0b2c3d4e5f6071829") && p.reason.contains("forensics host"),
        "{}",
        p.reason
    );

    let protected = containing(r#", "guardrails": {"protected_namespaces": ["default"]}"#);
    let p = plan("attack-sequence-eks-compromised-cluster.json", &protected);
    assert_eq!(p.decision, Decision::Notify, "nothing left to contain");
    assert!(p.actions.is_empty());
    assert!(
        p.reason.contains("protected Kubernetes namespace"),
        "{}",
        p.reason
    );

    // A hostile sequence names resources no validator accepts: nothing is planned for them.
    let p = plan("hostile-attack-sequence.json", &containing(""));
    for a in &p.actions {
        assert!(
            matches!(&*a.target, Target::Eks { workload_name, .. } if workload_name == "web"),
            "{:?}",
            a.target
        );
    }
}

#[test]
fn a_function_keeps_only_its_own_surface_of_a_sequence() {
    use responder::classify::Surface;
    let mut p = plan(
        "attack-sequence-ec2-compromised-instance-group.json",
        &containing(""),
    );
    let n = p.actions.len();
    assert!(p.keep_surface(Surface::Ec2).is_empty());
    assert_eq!((p.actions.len(), p.decision), (n, Decision::Contain));
    assert_eq!(p.keep_surface(Surface::Eks), [Surface::Ec2]);
    assert_eq!(p.decision, Decision::Notify);
    assert!(p.actions.is_empty());
    assert!(
        p.reason.contains("no executor deployed for ec2"),
        "{}",
        p.reason
    );
}
