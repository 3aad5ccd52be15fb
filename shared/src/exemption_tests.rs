use super::*;
use crate::finding::{Entry, parse_input};
use proptest::prelude::*;

fn sample(file: &str) -> Finding {
    let path = format!("{}/../events/{file}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    match parse_input(&bytes).unwrap().pop().unwrap() {
        Entry::Finding(f) => *f,
        Entry::NotAFinding { .. } => panic!("{file} is not a finding"),
    }
}

/// The EC2 sample with its exemption tag set to `value`.
fn tagged(key: &str, value: &str) -> Finding {
    let mut f = sample("ec2-exempt-tag.json");
    let tags = &mut f.resource.instance_details.as_mut().unwrap().tags;
    tags.retain(|t| t.key.as_raw() != DEFAULT_TAG_KEY);
    tags.push(crate::finding::model::Tag {
        key: crate::sanitize::Untrusted::new(key),
        value: crate::sanitize::Untrusted::new(value),
    });
    f
}

fn honoured() -> Exemptions {
    Exemptions {
        honour_tags: true,
        ..Exemptions::default()
    }
}

#[test]
fn only_the_exact_value_true_exempts_and_only_when_switched_on() {
    for value in [
        "no", "0", "", "disabled", "TRUE ", " true", "True", "yes", "1",
    ] {
        assert!(
            !honoured().tagged(&tagged(DEFAULT_TAG_KEY, value)),
            "{value:?} exempted"
        );
    }
    assert!(honoured().tagged(&tagged(DEFAULT_TAG_KEY, "true")));
    assert!(
        !Exemptions::default().tagged(&tagged(DEFAULT_TAG_KEY, "true")),
        "tags are ignored unless switched on"
    );
    let custom = Exemptions {
        tag_key: "security:exempt".into(),
        ..honoured()
    };
    assert!(!custom.tagged(&tagged(DEFAULT_TAG_KEY, "true")));
    assert!(custom.tagged(&tagged("security:exempt", "true")));
    assert!(!custom.tagged(&tagged("Security:Exempt", "true")));
}

#[test]
fn kubernetes_key_is_the_configured_key() {
    assert_eq!(
        Exemptions::default().kubernetes_key(),
        "guardduty-responder/exempt"
    );
    assert_eq!(Exemptions::default().kubernetes_label(), None);
    let custom = Exemptions {
        tag_key: "security.example.com:exempt".into(),
        ..honoured()
    };
    assert_eq!(
        custom.kubernetes_label().as_deref(),
        Some("security.example.com/exempt")
    );
}

#[test]
fn configured_exemptions_match_the_finding_and_name_their_reason() {
    let id = |id: &str| IdExemption {
        id: id.into(),
        reason: "the detection-test account".into(),
    };
    let ec2 = sample("ec2-exempt-tag.json");
    let by_account = Exemptions {
        accounts: vec![id("123456789012")],
        ..Exemptions::default()
    };
    let r = by_account.configured(&ec2).unwrap();
    assert!(
        r.contains("account 123456789012") && r.contains("the detection-test account"),
        "{r}"
    );
    assert_eq!(
        Exemptions {
            accounts: vec![id("210987654321")],
            ..Exemptions::default()
        }
        .configured(&ec2),
        None
    );
    let by_instance = Exemptions {
        instances: vec![id("i-0c4d5e6f7a8b9012b")],
        ..Exemptions::default()
    };
    assert!(by_instance.configured(&ec2).unwrap().contains("instance"));
    assert_eq!(
        by_instance.configured(&sample("eks-execution-reverse-shell.json")),
        None
    );

    let ecs = sample("ecs-fargate-impact-cryptominer.json");
    for pattern in [
        "arn:aws:ecs:*:123456789012:cluster/payments",
        "arn:aws:ecs:us-east-1:*:task-definition/payments-web:*",
        "arn:aws:ecs:us-east-1:123456789012:service/payments/web",
        "arn:aws:ecs:*:*:task/payments/*",
    ] {
        let ex = Exemptions {
            arn_patterns: vec![ArnExemption {
                pattern: pattern.into(),
                reason: "load test".into(),
            }],
            ..Exemptions::default()
        };
        let r = ex.configured(&ecs).unwrap_or_else(|| panic!("{pattern}"));
        assert!(r.contains(pattern) && r.ends_with("load test"), "{r}");
        assert_eq!(ex.configured(&ec2), None, "{pattern} matched EC2");
    }
    let other_family = Exemptions {
        arn_patterns: vec![ArnExemption {
            pattern: "arn:aws:ecs:*:*:task-definition/payments-web-canary:*".into(),
            reason: "x".into(),
        }],
        ..Exemptions::default()
    };
    assert_eq!(other_family.configured(&ecs), None);

    let eks = sample("eks-execution-reverse-shell.json");
    let entry = |cluster: &str, namespace: Option<&str>, workload: Option<&str>| Exemptions {
        eks: vec![EksExemption {
            cluster: cluster.into(),
            namespace: namespace.map(Into::into),
            workload: workload.map(Into::into),
            reason: "chaos testing".into(),
        }],
        ..Exemptions::default()
    };
    let r = entry("prod-eks", Some("default"), Some("web-*"))
        .configured(&eks)
        .unwrap();
    assert!(
        r.contains("EKS prod-eks/default/web-*") && r.ends_with("chaos testing"),
        "{r}"
    );
    assert!(entry("prod-*", None, None).configured(&eks).is_some());
    assert!(
        entry("prod-eks", Some("payments"), None)
            .configured(&eks)
            .is_none()
    );
    assert!(
        entry("prod-eks", None, Some("api-*"))
            .configured(&eks)
            .is_none()
    );
    assert!(entry("staging", None, None).configured(&eks).is_none());
    assert!(
        entry("*", None, None).configured(&ecs).is_none(),
        "EKS entries only match EKS"
    );
}

#[test]
fn validation_names_the_bad_entry() {
    let bad = |ex: Exemptions, needle: &str| {
        let e = ex.validate().unwrap_err();
        assert!(e.contains(needle), "{e}");
    };
    let id = |id: &str, reason: &str| IdExemption {
        id: id.into(),
        reason: reason.into(),
    };
    bad(
        Exemptions {
            accounts: vec![id("12345", "r")],
            ..Exemptions::default()
        },
        "accounts[0].id",
    );
    bad(
        Exemptions {
            instances: vec![id("i-0c4d5e6f7a8b9012b", " ")],
            ..Exemptions::default()
        },
        "instances[0].reason",
    );
    bad(
        Exemptions {
            instances: vec![id("sg-0c4d5e6f", "r")],
            ..Exemptions::default()
        },
        "instances[0].id",
    );
    bad(
        Exemptions {
            arn_patterns: vec![ArnExemption {
                pattern: "*".into(),
                reason: "r".into(),
            }],
            ..Exemptions::default()
        },
        "arn_patterns[0].pattern",
    );
    bad(
        Exemptions {
            accounts: vec![id("123456789012", "line\nDecision: ignore")],
            ..Exemptions::default()
        },
        "accounts[0].reason",
    );
    bad(
        Exemptions {
            tag_key: " guardduty-responder:exempt".into(),
            ..Exemptions::default()
        },
        "tag_key",
    );
    assert_eq!(Exemptions::default().validate(), Ok(()));
}

/// A plainly recursive reference for `*` globs.
fn reference(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
        Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
    }
}

#[test]
fn glob_examples() {
    assert!(glob_match("arn:*:task/*", "arn:aws:ecs:r:1:task/c/1"));
    assert!(glob_match("*", ""));
    assert!(glob_match("a*b*c", "abbbc"));
    assert!(!glob_match("a*b*c", "abbbcd"));
    assert!(!glob_match("prod", "prod-eks"));
    assert!(!glob_match("", "x"));
    assert!(!glob_match("?", "x"), "only * is special");
}

proptest! {
    #[test]
    fn glob_agrees_with_the_reference(p in "[ab*]{0,8}", t in "[ab]{0,10}") {
        let (pc, tc): (Vec<char>, Vec<char>) = (p.chars().collect(), t.chars().collect());
        prop_assert_eq!(glob_match(&p, &t), reference(&pc, &tc));
    }
}
