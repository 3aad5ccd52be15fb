use super::*;
use crate::playbook::Decision;
use std::collections::HashMap;

#[test]
fn document_and_env_layer_over_defaults() {
    let env: HashMap<&str, &str> = HashMap::from([
        (
            "RESPONDER_CONFIG",
            r#"{"guardrails":{"protected_namespaces":["responder"]},"ec2":{"snapshots":false}}"#,
        ),
        (
            "RESPONDER_PLAYBOOK",
            r#"[{"families":["Discovery"],"min_severity":5,"decision":"contain"}]"#,
        ),
        ("RESPONDER_PROTECTED_NAMESPACES", "security, ops"),
    ]);
    let c = Config::from_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
    assert!(!c.ec2.snapshots);
    assert_eq!(
        c.guardrails.protected_namespaces,
        [
            "kube-system",
            "amazon-guardduty",
            "responder",
            "security",
            "ops"
        ]
    );
    assert_eq!(c.playbook.rules[0].decision, Decision::Contain);
    assert_eq!(c.playbook.rules.len(), Playbook::default().rules.len() + 1);
}

#[test]
fn exemptions_are_configured_and_tags_stay_off_by_default() {
    let c = Config::from_env(|_| None).unwrap();
    assert!(!c.guardrails.exemptions.honour_tags);
    assert_eq!(c.guardrails.exemptions.tag_key, DEFAULT_TAG_KEY);
    assert_eq!(c.test_event_source, None);
    let env: HashMap<&str, &str> = HashMap::from([
        (
            "RESPONDER_CONFIG",
            r#"{"guardrails":{"exemptions":{"accounts":[{"id":"123456789012","reason":"sandbox"}]}},
                "test_event_source":"guardduty-responder.test"}"#,
        ),
        ("RESPONDER_EXEMPT_TAG", " security:exempt "),
        ("RESPONDER_HONOUR_EXEMPT_TAGS", "true"),
    ]);
    let c = Config::from_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
    let e = &c.guardrails.exemptions;
    assert!(e.honour_tags);
    assert_eq!(e.tag_key, "security:exempt");
    assert_eq!(e.accounts[0].reason, "sandbox");
    assert_eq!(
        c.test_event_source.as_deref(),
        Some("guardduty-responder.test")
    );
    let legacy =
        Config::from_document(r#"{"guardrails":{"exempt_tag":"ops:exempt"}}"#, "f").unwrap();
    assert_eq!(legacy.guardrails.exemptions.tag_key, "ops:exempt");
    for (doc, needle) in [
        (
            r#"{"guardrails":{"exempt_tag":"a:x","exemptions":{"tag_key":"b:x"}}}"#,
            "differ",
        ),
        (
            r#"{"guardrails":{"exemptions":{"instances":[{"id":"i-1","reason":"r"}]}}}"#,
            "guardrails.exemptions.instances[0].id",
        ),
        (
            r#"{"guardrails":{"exemptions":{"accounts":[{"id":"123456789012"}]}}}"#,
            "reason",
        ),
        (
            r#"{"test_event_source":"aws.guardduty"}"#,
            "test_event_source",
        ),
    ] {
        let e = Config::from_document(doc, "f").unwrap_err().to_string();
        assert!(e.contains(needle), "{doc}: {e}");
    }
    for (name, value) in [
        ("RESPONDER_HONOUR_EXEMPT_TAGS", "yes"),
        ("RESPONDER_TEST_EVENT_SOURCE", "aws.events"),
    ] {
        let e = Config::from_env(|k| (k == name).then(|| value.to_string()))
            .unwrap_err()
            .to_string();
        assert!(e.contains(name), "{e}");
    }
}

#[test]
fn bad_documents_say_where() {
    let e = Config::from_document(r#"{"ec2":{"snapshot":true}}"#, "cfg.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cfg.json") && e.contains("snapshot"), "{e}");
    let e = Config::from_env(|k| (k == "RESPONDER_PLAYBOOK").then(|| "{".to_string()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("RESPONDER_PLAYBOOK"), "{e}");
}

#[test]
fn a_runbook_url_is_a_plain_https_url() {
    let base = "https://github.example/org/responder/blob/main/docs/runbooks";
    let doc = format!(r#"{{"runbook_url":"{base}/"}}"#);
    let c = Config::from_document(&doc, "cfg").unwrap();
    assert_eq!(c.runbook_url.as_deref(), Some(format!("{base}/").as_str()));
    let c = Config::from_env(|k| (k == "RESPONDER_RUNBOOK_URL").then(|| base.to_owned())).unwrap();
    assert_eq!(c.runbook_url.as_deref(), Some(base));
    for bad in [
        "http://example.com/runbooks",
        "javascript:alert(1)",
        "https://example.com/\"><script>",
        "https://example.com/a b",
        "https://example.com/x|<!here>",
        "https://example.com/?q='x'",
    ] {
        let doc = serde_json::json!({ "runbook_url": bad }).to_string();
        assert!(Config::from_document(&doc, "cfg").is_err(), "{bad}");
        let env = Config::from_env(|k| (k == "RESPONDER_RUNBOOK_URL").then(|| bad.to_owned()));
        assert!(env.is_err(), "{bad}");
    }
}

#[test]
fn the_evidence_bucket_and_its_limits_come_from_the_environment_and_the_document() {
    let doc = r#"{"evidence":{"time_limit_seconds":5,"log_minutes":10,"log_max_bytes":4096}}"#;
    let env = |k: &str| match k {
        "RESPONDER_CONFIG" => Some(doc.to_owned()),
        "RESPONDER_EVIDENCE_BUCKET" => Some(" acme-evidence-123456789012 ".to_owned()),
        "RESPONDER_EVIDENCE_KMS_KEY_ARN" => Some("arn:aws:kms:eu-west-1:1:key/k".to_owned()),
        "AWS_REGION" => Some("eu-west-1".to_owned()),
        "AWS_LAMBDA_FUNCTION_NAME" => Some("guardduty-responder-ecs".to_owned()),
        _ => None,
    };
    let e = Config::from_env(env).unwrap().evidence;
    assert_eq!(e.bucket.as_deref(), Some("acme-evidence-123456789012"));
    assert_eq!(
        e.kms_key_id.as_deref(),
        Some("arn:aws:kms:eu-west-1:1:key/k")
    );
    assert_eq!(e.bucket_region.as_deref(), Some("eu-west-1"));
    assert_eq!(e.collector, "guardduty-responder-ecs");
    assert_eq!(
        (e.time_limit_seconds, e.log_minutes, e.log_max_bytes),
        (5, 10, 4096)
    );
    // Without the variable no bundle is written.
    assert_eq!(Config::from_env(|_| None).unwrap().evidence.bucket, None);
    let bad = r#"{"evidence":{"bukket":"x"}}"#;
    assert!(Config::from_document(bad, "cfg").is_err());
}

/// The volatile capture needs the SSM endpoints kept open from isolation: without them
/// every command would time out, so the document is refused, naming the option.
#[test]
fn the_volatile_capture_is_refused_without_the_ssm_endpoints() {
    let on = r#"{"ec2":{"volatile_capture":{"enabled":true}}}"#;
    let e = Config::from_document(on, "cfg").unwrap_err().to_string();
    assert!(
        e.contains("ec2.volatile_capture.enabled needs isolation.keep_ssm_endpoints"),
        "{e}"
    );
    let ok = r#"{"isolation":{"keep_ssm_endpoints":true},
                 "ec2":{"volatile_capture":{"enabled":true,"timeout_seconds":45,"max_pids":4}}}"#;
    let c = Config::from_document(ok, "cfg").unwrap();
    assert!(c.ec2.volatile_capture.enabled);
    assert_eq!(c.ec2.volatile_capture.timeout_seconds, 45);
    assert_eq!(c.ec2.volatile_capture.max_pids, 4);
    // Off by default, and off needs nothing.
    assert!(!Config::default().ec2.volatile_capture.enabled);
    assert!(
        Config::from_document(r#"{"ec2":{"volatile_capture":{"enabled":false}}}"#, "c").is_ok()
    );
    for bad in [
        r#""timeout_seconds":0"#,
        r#""timeout_seconds":601"#,
        r#""max_pids":65"#,
        r#""pids":[1]"#,
    ] {
        let doc = format!(
            r#"{{"isolation":{{"keep_ssm_endpoints":true}},"ec2":{{"volatile_capture":{{"enabled":true,{bad}}}}}}}"#
        );
        assert!(Config::from_document(&doc, "cfg").is_err(), "{bad}");
    }
}
