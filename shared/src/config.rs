//! Configuration shared by the Lambda functions and the CLI: one JSON document (all keys
//! optional), with environment variables layered on top. Read once at cold start.

use crate::exemption::{DEFAULT_TAG_KEY, Exemptions};
use crate::options::{
    Ec2Options, EcsOptions, EksOptions, EvidenceOptions, IsolationOptions, RevocationOptions,
};
use crate::playbook::{Guardrails, Playbook, Rule};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Config {
    pub playbook: Playbook,
    pub guardrails: Guardrails,
    pub ec2: Ec2Options,
    pub ecs: EcsOptions,
    pub eks: EksOptions,
    /// What isolation keeps reachable (the VPC endpoints), on every surface.
    pub isolation: IsolationOptions,
    /// Which workload roles session revocation may write to, on every surface.
    pub revocation: RevocationOptions,
    /// Evidence bundles: the bucket and the collection limits.
    pub evidence: EvidenceOptions,
    /// The EventBridge source of hand-sent test events accepted besides `aws.guardduty`
    /// (`RESPONDER_TEST_EVENT_SOURCE`, set by Terraform only while its test rules exist).
    pub test_event_source: Option<String>,
    /// Where `docs/runbooks/` is published (e.g. the repository's `…/blob/main/docs/runbooks`),
    /// so that alerts link each runbook (`RESPONDER_RUNBOOK_URL`); without it they name the file.
    pub runbook_url: Option<String>,
}

/// The document's playbook section: extra rules, checked before the defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PlaybookDocument {
    rules: Vec<Rule>,
    replace_defaults: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Document {
    playbook: PlaybookDocument,
    guardrails: Option<GuardrailsDocument>,
    ec2: Ec2Options,
    ecs: EcsOptions,
    eks: EksOptions,
    isolation: IsolationOptions,
    revocation: RevocationOptions,
    evidence: EvidenceOptions,
    test_event_source: Option<String>,
    runbook_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct GuardrailsDocument {
    /// The older name of `exemptions.tag_key`.
    exempt_tag: Option<String>,
    exemptions: Option<Exemptions>,
    /// Added to the always-protected namespaces.
    protected_namespaces: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration document {origin}: {message}")]
    Document { origin: String, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: &'static str, message: String },
}

impl Config {
    /// Parses a configuration document; `origin` names it in errors (file path, env var).
    pub fn from_document(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let doc: Document =
            serde_path_to_error::deserialize(&mut de).map_err(|e| ConfigError::Document {
                origin: origin.to_owned(),
                message: format!("{}: {}", e.path(), e.inner()),
            })?;
        let invalid = |message: String| ConfigError::Document {
            origin: origin.to_owned(),
            message,
        };
        let mut guardrails = Guardrails::default();
        if let Some(g) = doc.guardrails {
            if let Some(e) = g.exemptions {
                guardrails.exemptions = e;
            }
            if let Some(tag) = g.exempt_tag {
                let key = &guardrails.exemptions.tag_key;
                if key != DEFAULT_TAG_KEY && *key != tag {
                    return Err(invalid(format!(
                        "guardrails.exempt_tag {tag:?} and guardrails.exemptions.tag_key {key:?} differ; set one"
                    )));
                }
                guardrails.exemptions.tag_key = tag;
            }
            guardrails
                .protected_namespaces
                .extend(g.protected_namespaces);
        }
        guardrails
            .exemptions
            .validate()
            .map_err(|m| invalid(format!("guardrails.exemptions.{m}")))?;
        doc.revocation
            .validate()
            .map_err(|m| invalid(format!("revocation.role_arns: {m}")))?;
        if let Some(why) = doc
            .ec2
            .forensic_snapshots
            .as_ref()
            .and_then(|f| f.invalid())
        {
            return Err(invalid(format!("ec2.forensic_snapshots.{why}")));
        }
        let test_event_source = doc
            .test_event_source
            .map(|s| test_source(&s))
            .transpose()
            .map_err(|m| invalid(format!("test_event_source: {m}")))?
            .flatten();
        let runbook_url = doc
            .runbook_url
            .map(|u| runbook_url(&u))
            .transpose()
            .map_err(|m| invalid(format!("runbook_url: {m}")))?;
        Ok(Config {
            runbook_url,
            playbook: Playbook::with_overrides(doc.playbook.rules, doc.playbook.replace_defaults),
            guardrails,
            ec2: doc.ec2,
            ecs: doc.ecs,
            eks: doc.eks,
            isolation: doc.isolation,
            revocation: doc.revocation,
            evidence: doc.evidence,
            test_event_source,
        })
    }

    /// Reads `RESPONDER_CONFIG` (an inline document), then the single-purpose variables
    /// documented in the README. `var` is `std::env::var` in production, a map in tests.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut config = match var("RESPONDER_CONFIG") {
            Some(doc) if !doc.trim().is_empty() => Config::from_document(&doc, "RESPONDER_CONFIG")?,
            _ => Config::default(),
        };
        if let Some(rules) = var("RESPONDER_PLAYBOOK").filter(|r| !r.trim().is_empty()) {
            let rules: Vec<Rule> = serde_json::from_str(&rules).map_err(|e| ConfigError::Env {
                name: "RESPONDER_PLAYBOOK",
                message: format!("expected a JSON array of rules: {e}"),
            })?;
            let mut merged = rules;
            merged.extend(config.playbook.rules);
            config.playbook.rules = merged;
        }
        let exemptions = &mut config.guardrails.exemptions;
        if let Some(tag) = var("RESPONDER_EXEMPT_TAG").filter(|t| !t.trim().is_empty()) {
            exemptions.tag_key = tag.trim().to_owned();
        }
        if let Some(flag) = var("RESPONDER_HONOUR_EXEMPT_TAGS").filter(|t| !t.trim().is_empty()) {
            exemptions.honour_tags = match flag.trim() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(ConfigError::Env {
                        name: "RESPONDER_HONOUR_EXEMPT_TAGS",
                        message: format!("{other:?} is not true or false"),
                    });
                }
            };
        }
        exemptions.validate().map_err(|message| ConfigError::Env {
            name: "RESPONDER_EXEMPT_TAG",
            message,
        })?;
        if let Some(source) = test_event_source_from_env(&var)? {
            config.test_event_source = source;
        }
        if let Some(url) = var("RESPONDER_RUNBOOK_URL").filter(|u| !u.trim().is_empty()) {
            config.runbook_url = Some(runbook_url(&url).map_err(|message| ConfigError::Env {
                name: "RESPONDER_RUNBOOK_URL",
                message,
            })?);
        }
        let set = |k: &str| {
            var(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if let Some(bucket) = set("RESPONDER_EVIDENCE_BUCKET") {
            config.evidence.bucket = Some(bucket);
        }
        if config.evidence.bucket_region.is_none() {
            config.evidence.bucket_region = set("AWS_REGION");
        }
        if let Some(key) = set("RESPONDER_EVIDENCE_KMS_KEY_ARN") {
            config.evidence.kms_key_id = Some(key);
        }
        if let Some(name) = set("AWS_LAMBDA_FUNCTION_NAME") {
            config.evidence.collector = name;
        }
        if let Some(list) = var("RESPONDER_PROTECTED_NAMESPACES") {
            config.guardrails.protected_namespaces.extend(
                list.split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
            );
        }
        Ok(config)
    }
}

/// `RESPONDER_TEST_EVENT_SOURCE`, when set (blank: no test source). The coverage function
/// reads only this.
pub fn test_event_source_from_env(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<Option<String>>, ConfigError> {
    var("RESPONDER_TEST_EVENT_SOURCE")
        .map(|s| test_source(&s))
        .transpose()
        .map_err(|message| ConfigError::Env {
            name: "RESPONDER_TEST_EVENT_SOURCE",
            message,
        })
}

/// A runbook base URL: `https://`, at most 256 bytes, only characters a URL needs (it is
/// put into HTML attributes and Slack links as it is).
fn runbook_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.len() <= 256 && crate::render::is_safe_url(value) && !value.contains(['\'', '#', '?'])
    {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{:?} is not an https:// URL of plain characters",
            crate::sanitize::neutralise(value, 80)
        ))
    }
}

/// A test-event source: blank means none; an `aws.` source is GuardDuty's to send, and
/// EventBridge refuses it in `PutEvents` anyway.
fn test_source(value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() {
        Ok(None)
    } else if value.starts_with("aws.") {
        Err(format!("{value:?}: an aws. source cannot be a test source"))
    } else {
        Ok(Some(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
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
        let c =
            Config::from_env(|k| (k == "RESPONDER_RUNBOOK_URL").then(|| base.to_owned())).unwrap();
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
}
