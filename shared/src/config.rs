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
        if let Some(why) = doc.ec2.volatile_capture.invalid(&doc.isolation) {
            return Err(invalid(format!("ec2.volatile_capture.{why}")));
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
#[path = "config_tests.rs"]
mod tests;
