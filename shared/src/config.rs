//! Configuration shared by the Lambda functions and the CLI: one JSON document (all keys
//! optional), with environment variables layered on top. Read once at cold start.

use crate::options::{Ec2Options, EcsOptions, EksOptions};
use crate::playbook::{Guardrails, Playbook, Rule};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Config {
    pub playbook: Playbook,
    pub guardrails: Guardrails,
    pub ec2: Ec2Options,
    pub ecs: EcsOptions,
    pub eks: EksOptions,
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
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct GuardrailsDocument {
    exempt_tag: Option<String>,
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
        let mut guardrails = Guardrails::default();
        if let Some(g) = doc.guardrails {
            if let Some(tag) = g.exempt_tag {
                guardrails.exempt_tag = tag;
            }
            guardrails
                .protected_namespaces
                .extend(g.protected_namespaces);
        }
        Ok(Config {
            playbook: Playbook::with_overrides(doc.playbook.rules, doc.playbook.replace_defaults),
            guardrails,
            ec2: doc.ec2,
            ecs: doc.ecs,
            eks: doc.eks,
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
        if let Some(tag) = var("RESPONDER_EXEMPT_TAG").filter(|t| !t.trim().is_empty()) {
            config.guardrails.exempt_tag = tag.trim().to_owned();
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
}
