//! Replays every file in `events/` through the pure pipeline: each must be handled, route
//! as `events/README.md` says, and leave no hostile string intact in any channel.

mod common;

use common::{event_files, events_dir, strings as slack_texts};
use responder::Config;
use responder::pipeline::{Handled, plan_input};
use responder::plan::ResponsePlan;
use responder::sanitize::is_dangerous;

/// (file, family, surface, decision) per finding, from the table in events/README.md.
const EXPECTED: &[(&str, &str, &str, &str)] = &[
    ("archived-finding.json", "Execution", "ec2", "ignore"),
    (
        "attack-sequence-ec2-compromised-instance-group.json",
        "AttackSequence",
        "ec2",
        "notify",
    ),
    (
        "attack-sequence-ecs-compromised-cluster.json",
        "AttackSequence",
        "ecs",
        "notify",
    ),
    (
        "attack-sequence-eks-compromised-cluster.json",
        "AttackSequence",
        "eks",
        "notify",
    ),
    (
        "container-defense-evasion-ptrace-injection.json",
        "DefenseEvasion",
        "ec2",
        "contain",
    ),
    (
        "degraded-fields.json",
        "PrivilegeEscalation",
        "ecs",
        "contain",
    ),
    (
        "ec2-backdoor-cc-activity-dns.json",
        "Backdoor",
        "ec2",
        "contain",
    ),
    (
        "ec2-defense-evasion-kernel-module.json",
        "DefenseEvasion",
        "ec2",
        "contain",
    ),
    // Tag exemptions are off by default: the tag alone does not exempt.
    ("ec2-exempt-tag.json", "Execution", "ec2", "contain"),
    (
        "ec2-persistence-suspicious-command.json",
        "Persistence",
        "ec2",
        "contain",
    ),
    (
        "ec2-unauthorized-access-tor-client.json",
        "UnauthorizedAccess",
        "ec2",
        "contain",
    ),
    (
        "ecs-ec2-defense-evasion-ptrace-anti-debugging.json",
        "DefenseEvasion",
        "ecs",
        "notify",
    ),
    (
        "ecs-ec2-privilege-escalation-host-mount.json",
        "PrivilegeEscalation",
        "ecs",
        "contain",
    ),
    (
        "ecs-fargate-cryptocurrency-bitcoin-dns.json",
        "CryptoCurrency",
        "ecs",
        "contain",
    ),
    (
        "ecs-fargate-impact-cryptominer.json",
        "Impact",
        "ecs",
        "contain",
    ),
    (
        "ecs-fargate-trojan-drop-point-dns.json",
        "Trojan",
        "ecs",
        "notify",
    ),
    (
        "eks-discovery-suspicious-command.json",
        "Discovery",
        "eks",
        "notify",
    ),
    (
        "eks-execution-reverse-shell.json",
        "Execution",
        "eks",
        "contain",
    ),
    (
        "eks-kube-system-protected.json",
        "PrivilegeEscalation",
        "eks",
        "notify",
    ),
    (
        "eks-privilege-escalation-runc-escape.json",
        "PrivilegeEscalation",
        "eks",
        "contain",
    ),
    (
        "eks-unauthorized-access-metadata-dns-rebind.json",
        "UnauthorizedAccess",
        "eks",
        "contain",
    ),
    ("get-findings-output.json", "Execution", "ec2", "contain"),
    ("get-findings-output.json", "Trojan", "ecs", "notify"),
    ("guardduty-api-findings.json", "Execution", "eks", "contain"),
    (
        "guardduty-api-findings.json",
        "DefenseEvasion",
        "ec2",
        "contain",
    ),
    (
        "hostile-ampersand-padding.json",
        "Backdoor",
        "ec2",
        "contain",
    ),
    (
        "hostile-attack-sequence.json",
        "AttackSequence",
        "eks",
        "notify",
    ),
    (
        "hostile-backtick-breakout.json",
        "Persistence",
        "ecs",
        "contain",
    ),
    ("hostile-bidi-zero-width.json", "Impact", "eks", "notify"),
    ("hostile-control-chars.json", "Execution", "ec2", "contain"),
    ("hostile-html-injection.json", "Execution", "ec2", "contain"),
    (
        "hostile-invisible-chars.json",
        "Execution",
        "ec2",
        "contain",
    ),
    (
        "hostile-large-command-line.json",
        "Persistence",
        "ec2",
        "contain",
    ),
    (
        "hostile-shape-eventbridge-pascal-detail.json",
        "Execution",
        "ec2",
        "contain",
    ),
    (
        "hostile-shape-put-events-entries.json",
        "Execution",
        "ec2",
        "contain",
    ),
    (
        "hostile-shape-securityhub-get-findings.json",
        "Execution",
        "ec2",
        "contain",
    ),
    (
        "hostile-shape-securityhub-imported.json",
        "Execution",
        "ec2",
        "contain",
    ),
    (
        "hostile-shape-sns-notification.json",
        "DefenseEvasion",
        "eks",
        "notify",
    ),
    ("hostile-shape-sqs-records.json", "Impact", "eks", "notify"),
    (
        "hostile-slack-injection.json",
        "DefenseEvasion",
        "eks",
        "notify",
    ),
    ("non-runtime-port-probe.json", "Recon", "ec2", "ignore"),
    (
        "sample-flag-flattened.json",
        "DefenseEvasion",
        "ec2",
        "notify",
    ),
    ("sample-flag-in-value.json", "Execution", "eks", "notify"),
    (
        "shape-eventbridge-pascal-detail.json",
        "DefenseEvasion",
        "ec2",
        "contain",
    ),
    (
        "shape-put-events-entries.json",
        "DefenseEvasion",
        "ec2",
        "contain",
    ),
    (
        "shape-securityhub-get-findings.json",
        "DefenseEvasion",
        "ec2",
        "contain",
    ),
    (
        "shape-securityhub-imported.json",
        "DefenseEvasion",
        "ec2",
        "contain",
    ),
    (
        "shape-sns-notification.json",
        "DefenseEvasion",
        "ec2",
        "contain",
    ),
    ("shape-sqs-records.json", "DefenseEvasion", "ec2", "contain"),
];

fn plans_of(file: &str) -> Vec<ResponsePlan> {
    common::plans(&common::read(file))
}

#[test]
fn every_event_file_replays_and_routes_as_documented() {
    let files = event_files();
    let mut seen = Vec::new();
    for file in &files {
        for p in plans_of(file) {
            seen.push((
                file.as_str().to_owned(),
                p.family.to_string(),
                p.surface.as_str().to_owned(),
                p.decision.as_str().to_owned(),
            ));
            if p.decision == responder::Decision::Contain {
                assert!(!p.actions.is_empty(), "{file}: contain without actions");
            }
        }
    }
    let expected: Vec<_> = EXPECTED
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn the_exempt_tag_sample_is_exempt_only_with_tag_exemptions_on() {
    let bytes = std::fs::read(events_dir().join("ec2-exempt-tag.json")).unwrap();
    let config = Config::from_document(
        r#"{"guardrails":{"exemptions":{"honour_tags":true}}}"#,
        "test",
    )
    .unwrap();
    let Handled::Plan(p) = plan_input(&bytes, &config).unwrap().remove(0) else {
        panic!("a finding")
    };
    assert_eq!(p.decision, responder::Decision::Notify);
    assert!(
        p.reason.contains("guardduty-responder:exempt"),
        "{}",
        p.reason
    );
}

#[test]
fn health_events_are_reported_as_not_findings() {
    let bytes = std::fs::read(events_dir().join("runtime-protection-unhealthy.json")).unwrap();
    let handled = plan_input(&bytes, &Config::default()).unwrap();
    assert!(
        matches!(&handled[..], [Handled::NotAFinding { detail_type }] if detail_type == "GuardDuty Runtime Protection Unhealthy")
    );
}

/// Substrings an attacker planted that must never reach a channel verbatim.
const HOSTILE: &[&str] = &[
    "<script",
    "<img",
    "<svg",
    "<iframe",
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U012AB3CD>",
    "<https://evil",
];

#[test]
fn no_hostile_string_survives_in_any_channel() {
    for file in event_files() {
        for p in plans_of(&file) {
            let n = &p.notification();
            let mut slack = Vec::new();
            // What Slack receives: the serialized payload.
            slack_texts(&serde_json::to_value(&n.slack).unwrap(), &mut slack);
            for (channel, text) in [
                ("subject", &n.subject),
                ("text", &n.text),
                ("html", &n.html),
            ]
            .into_iter()
            .chain(slack.iter().map(|s| ("slack", s)))
            {
                assert!(
                    !text.chars().any(|c| c != '\n' && is_dangerous(c)),
                    "{file} {channel}: control/bidi character in {text:?}"
                );
                // Plain text is not markup: only HTML and Slack interpret these.
                for h in HOSTILE
                    .iter()
                    .filter(|_| channel == "html" || channel == "slack")
                {
                    assert!(!text.contains(h), "{file} {channel}: {h:?} survived");
                }
            }
            assert!(
                n.subject.len() <= 100 && n.subject.bytes().all(|b| (0x20..0x7f).contains(&b)),
                "{file}: subject {:?}",
                n.subject
            );
            for s in &slack {
                // Our only markup is our links (console, ATT&CK); attacker text has no raw
                // angle brackets.
                let without_link = common::without_our_links(s);
                assert!(
                    !without_link.contains('<') && !without_link.contains('>'),
                    "{file}: raw bracket in slack {s:?}"
                );
                assert!(
                    !s.contains('`') || s.matches("```").count() % 2 == 0,
                    "{file}: unbalanced code fence {s:?}"
                );
            }
            assert!(
                n.text.lines().all(|l| !l.starts_with("Decision: ignore")),
                "{file}: forged line in text"
            );
        }
    }
}

#[test]
fn a_huge_command_line_is_bounded_in_every_channel() {
    let p = &plans_of("hostile-large-command-line.json")[0];
    assert!(
        p.notification().text.len() < 20_000,
        "text {} bytes",
        p.notification().text.len()
    );
    assert!(
        p.notification().html.len() < 40_000,
        "html {} bytes",
        p.notification().html.len()
    );
    assert!(
        serde_json::to_string(&p.notification().slack)
            .unwrap()
            .len()
            < 40_000
    );
    assert!(
        p.notification().text.contains("chars]"),
        "cut marker missing"
    );
}
