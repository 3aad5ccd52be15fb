//! The workload being contained tries to exempt itself (issue #15, point 1) or to make its
//! notification fail (point 10): tags it sets on its own instance or pod, near-miss values,
//! test events from a source nobody configured, and findings whose SNS attributes would be
//! empty or out of range. Against moto, the local Kubernetes API and the local webhook.

use integration_tests::eks_world::{self, eks_world};
use integration_tests::function_env::FunctionEnv;
use integration_tests::moto;
use integration_tests::world::{self, Aws, Instance};
use responder::Config;
use responder::actions::ec2::Ec2Executor;
use responder::actions::eks;
use responder::classify::Surface;
use responder::execute::Executor;
use responder::exemption::{DEFAULT_TAG_KEY, Exemptions, glob_match};
use responder::lambda::Handler;
use responder::lambda::settings::Settings;
use responder::notify::Notifier;
use responder::notify::sns::SnsNotifier;
use responder::outcome::Status;
use responder::plan::ActionKind;
use responder::playbook::Guardrails;
use responder::{Decision, ParseError};
use serde_json::{Value, json};
use std::collections::HashMap;

const REGION: &str = "us-east-1";
const SAMPLE: &str = "ec2-defense-evasion-kernel-module.json";
/// What a user new to the tag tried (issue #15): none of these may exempt.
const NEAR_MISSES: &[&str] = &["no", "0", "", "disabled", "TRUE ", " true", "True", "false"];

fn honoured(tag_key: &str) -> Guardrails {
    Guardrails {
        exemptions: Exemptions {
            honour_tags: true,
            tag_key: tag_key.into(),
            ..Exemptions::default()
        },
        ..Guardrails::default()
    }
}

/// The finding GuardDuty reports for `inst`, with the tags the instance has now.
async fn finding_with_live_tags(aws: &Aws, net: &world::Network, inst: &Instance) -> Vec<u8> {
    let event = world::finding_event(
        SAMPLE,
        &world::unique_finding_id(),
        REGION,
        inst,
        Some(&net.vpc_id),
    );
    let mut event: Value = serde_json::from_slice(&event).unwrap();
    let tags: Vec<Value> = world::tags(aws, &inst.id)
        .await
        .into_iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    event["detail"]["resource"]["instanceDetails"]["tags"] = tags.into();
    serde_json::to_vec(&event).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_that_tags_itself_exempt_is_still_contained() {
    let aws = Aws::moto(REGION).await;
    let net = world::network(&aws).await;
    let inst = world::two_eni_instance(&aws, &net).await;
    let mut config = Config::default();
    for value in NEAR_MISSES {
        world::set_tag(&aws, &inst.id, DEFAULT_TAG_KEY, value).await;
        let event = finding_with_live_tags(&aws, &net, &inst).await;
        let p = world::plan(&event, &config);
        assert_eq!(p.decision, Decision::Contain, "{value:?}: {}", p.reason);
        config.guardrails = honoured(DEFAULT_TAG_KEY);
        let p = world::plan(&event, &config);
        assert_eq!(
            p.decision,
            Decision::Contain,
            "{value:?} honoured: {}",
            p.reason
        );
        config = Config::default();
    }

    // The exact value: still contained by default, and the executor really isolates.
    world::set_tag(&aws, &inst.id, DEFAULT_TAG_KEY, "true").await;
    let event = finding_with_live_tags(&aws, &net, &inst).await;
    let p = world::contain_plan(&event, &Config::default());
    let outcomes = Ec2Executor::new(&aws.config).execute(&p).await;
    let isolate = outcomes
        .iter()
        .find(|o| o.kind == ActionKind::Ec2IsolateNetwork)
        .unwrap();
    assert_eq!(isolate.status, Status::Done, "{isolate:?}");
    for eni in &inst.enis {
        let groups = world::eni_groups(&aws, &eni.id).await;
        assert!(
            !groups.iter().any(|g| eni.groups.contains(g)),
            "{} kept its groups {groups:?}",
            eni.id
        );
    }

    // Only with tags switched on does `true` (with the configured key) exempt.
    config.guardrails = honoured(DEFAULT_TAG_KEY);
    let p = world::plan(&event, &config);
    assert_eq!(p.decision, Decision::Notify);
    assert!(p.reason.contains(DEFAULT_TAG_KEY), "{}", p.reason);
    config.guardrails = honoured("security:exempt");
    assert_eq!(world::plan(&event, &config).decision, Decision::Contain);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_that_labels_itself_exempt_is_still_contained_and_the_configured_key_counts() {
    let w = eks_world(true).await;
    let pod = |name: &str, labels: Value, annotations: Value| {
        let cid = eks_world::container_id();
        let mut p = eks_world::pod_object("shop", name, &w.node, &cid, labels, None);
        p["metadata"]["annotations"] = annotations;
        w.api.put(p);
        eks_world::plan(&w.finding(&world::unique_finding_id(), "shop", name, "pods", &cid))
    };
    let label = |o: &[responder::outcome::Outcome]| {
        o.iter()
            .find(|o| o.kind == ActionKind::EksLabelPod)
            .map(|o| (o.status, o.detail.clone()))
            .unwrap()
    };

    // Default configuration: the label is ignored whatever its value.
    let plan = pod(
        "self-labelled",
        json!({"app": "shop", eks::EXEMPT: "true"}),
        json!({}),
    );
    let out = w.executor(&Guardrails::default()).execute(&plan).await;
    assert_eq!(label(&out).0, Status::Done, "{:?}", label(&out));

    // Switched on with a custom key: the key, written the Kubernetes way, exempts only
    // with exactly `true`; the default key no longer does.
    let guard = honoured("security.example.com:exempt");
    let key = guard.exemptions.kubernetes_key();
    assert_eq!(key, "security.example.com/exempt");
    let plan = pod(
        "by-key",
        json!({"app": "shop"}),
        json!({ key.as_str(): "true" }),
    );
    let out = w.executor(&guard).execute(&plan).await;
    let (status, detail) = label(&out);
    assert_eq!(status, Status::Skipped, "{detail}");
    assert!(detail.contains(&key), "{detail}");
    for (name, labels) in [
        ("old-key", json!({ eks::EXEMPT: "true" })),
        ("shouting", json!({ key.as_str(): "TRUE" })),
        ("padded", json!({ key.as_str(): "true " })),
        ("empty", json!({ key.as_str(): "" })),
    ] {
        let plan = pod(name, labels, json!({}));
        let out = w.executor(&guard).execute(&plan).await;
        assert_eq!(label(&out).0, Status::Done, "{name}: {:?}", label(&out));
    }
}

fn sample_event(file: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../events/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_exemptions_are_notified_with_their_reason() {
    let sdk = world::sdk_config(&moto::shared().endpoint(), REGION).await;
    let fenv = FunctionEnv::start(&sdk, "responder-exemptions").await;
    let doc = r#"{"guardrails":{"exemptions":{
        "instances":[{"id":"i-0c4d5e6f7a8b9012b","reason":"GuardDuty detection test box (SEC-42)"}],
        "arn_patterns":[{"pattern":"arn:aws:ecs:*:123456789012:task-definition/payments-web:*","reason":"payments load test until 2026-12-01"}],
        "eks":[{"cluster":"prod-eks","namespace":"default","workload":"web-*","reason":"chaos game day"}]}}}"#;
    let config = Config::from_document(doc, "test").unwrap();
    let vars: HashMap<String, String> = fenv
        .env(&[])
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let settings = Settings::from_env(|k| vars.get(k).cloned()).unwrap();
    let notifier = Notifier::new(&sdk, &settings.notify).await;
    let build: fn(&aws_config::SdkConfig, &Config) -> Ec2Executor = |sdk, _| Ec2Executor::new(sdk);
    let handler = Handler::new(config, settings, (Surface::Ec2, build), notifier, sdk);
    let cases = [
        (
            "ec2-exempt-tag.json",
            "GuardDuty detection test box (SEC-42)",
        ),
        (
            "ecs-fargate-impact-cryptominer.json",
            "payments load test until 2026-12-01",
        ),
        ("eks-execution-reverse-shell.json", "chaos game day"),
    ];
    for (file, reason) in cases {
        let r = handler
            .handle(&sample_event(file), Some("123456789012"))
            .await
            .unwrap();
        let p = &r[0].plan;
        assert_eq!(p.decision, Decision::Notify, "{file}");
        assert!(p.reason.contains(reason), "{file}: {}", p.reason);
        assert!(r[0].outcomes.is_empty(), "{file}: nothing executed");
        for channel in [&p.notification().text, &p.notification().html] {
            assert!(one_line(channel).contains(reason), "{file}: {channel}");
        }
    }
    let slack = fenv.slack();
    let sns = fenv.sns().await;
    assert_eq!((slack.len(), sns.len()), (3, 3));
    for (i, (_, reason)) in cases.iter().enumerate() {
        assert!(slack[i].contains(reason), "{}", slack[i]);
        assert!(one_line(&sns[i].0).contains(reason), "{}", sns[i].0);
    }
}

/// Text as read, whatever the line wrapping (the text channel wraps at 78 columns).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn one_odd_finding_cannot_fail_the_sns_publish() {
    let sdk = world::sdk_config(&moto::shared().endpoint(), REGION).await;
    let arn = aws_sdk_sns::Client::new(&sdk)
        .create_topic()
        .name("responder-odd-attributes")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let notifier = SnsNotifier::new(&sdk, arn.clone(), false);
    let mut event: Value = serde_json::from_slice(&sample_event(SAMPLE)).unwrap();
    event["detail"]["accountId"] = "".into();
    event["detail"]["severity"] = json!(5e9);
    let p = world::plan(&serde_json::to_vec(&event).unwrap(), &Config::default());
    let d = notifier.publish(&p, &p.notification()).await;
    assert!(d.ok, "{d:?}");
    let sent = responder_sns(&arn).await;
    assert_eq!(sent.len(), 1);
    let attrs = &sent[0];
    assert!(attrs.get("account_id").is_none(), "{attrs}");
    assert!(attrs.get("severity").is_none(), "{attrs}");
    assert_eq!(attrs["surface"]["Value"], "ec2");
    assert_eq!(attrs["family"]["Value"], "DefenseEvasion");
}

async fn responder_sns(arn: &str) -> Vec<Value> {
    integration_tests::moto_data::sns_published(arn)
        .await
        .into_iter()
        .map(|(_, _, a)| a)
        .collect()
}

fn infra(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../infra/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The default of `variable "name"` in a Terraform variables file.
fn variable_default(file: &str, name: &str) -> hcl::Value {
    let body: hcl::Body = hcl::from_str(&infra(file)).unwrap();
    let block = body
        .blocks()
        .find(|b| b.identifier() == "variable" && b.labels()[0].as_str() == name)
        .unwrap_or_else(|| panic!("variable {name} in {file}"));
    let default = block
        .body()
        .attributes()
        .find(|a| a.key() == "default")
        .unwrap_or_else(|| panic!("{name} has a default"));
    hcl::Value::from(default.expr().clone())
}

#[test]
fn test_events_are_accepted_only_from_the_source_terraform_routes() {
    let source = variable_default("modules/responder/variables.tf", "test_event_source");
    let source = source.as_str().unwrap();
    let main = infra("modules/responder/main.tf");
    assert!(
        main.contains("RESPONDER_TEST_EVENT_SOURCE = var.test_event_source"),
        "Terraform passes its test source to the functions"
    );
    let mut event: Value = serde_json::from_slice(&sample_event(SAMPLE)).unwrap();
    event["source"] = source.into();
    let event = serde_json::to_vec(&event).unwrap();
    let unconfigured = responder::pipeline::plan_input(&event, &Config::default()).unwrap_err();
    assert_eq!(unconfigured, ParseError::ForeignSource(source.into()));
    let config =
        Config::from_env(|k| (k == "RESPONDER_TEST_EVENT_SOURCE").then(|| source.into())).unwrap();
    assert_eq!(world::plan(&event, &config).decision, Decision::Contain);
    let mut other: Value = serde_json::from_slice(&event).unwrap();
    other["source"] = "attacker.test".into();
    assert!(
        responder::pipeline::plan_input(&serde_json::to_vec(&other).unwrap(), &config).is_err()
    );
}

#[test]
fn the_tag_guard_scp_covers_every_key_the_responder_trusts_and_every_tag_api_it_uses() {
    let keys = variable_default("modules/tag-guard/variables.tf", "protected_tag_keys");
    let patterns: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let trusted: [&str; 9] = [
        DEFAULT_TAG_KEY,
        responder::actions::ec2::prior_state::PRIOR_KEY,
        responder::actions::ec2::quarantine::STATUS_KEY,
        responder::actions::ec2::quarantine::FINDING_ID_KEY,
        &format!("{}0", responder::actions::ecs::record::NACL_KEY),
        &format!("{}0", responder::actions::ecs::record::TARGET_KEY),
        &format!("{}eni-1", responder::actions::ecs::record::PRIOR_ENI_KEY),
        responder::actions::ecs::record::REVOKED_ROLE_KEY,
        &format!("{}abc", responder::actions::ecs::acl_record::ACL_TASK_KEY),
    ];
    for key in trusted {
        assert!(
            patterns.iter().any(|p| glob_match(p, key)),
            "{key} is not protected by {patterns:?}"
        );
    }
    let main = infra("modules/tag-guard/main.tf");
    let tagging = responder::actions::ec2::REQUIRED_PERMISSIONS
        .iter()
        .chain(responder::actions::ec2::RELEASE_PERMISSIONS)
        .chain(responder::actions::ecs::REQUIRED_PERMISSIONS.iter())
        .chain(responder::actions::ecs::RELEASE_PERMISSIONS)
        .chain(responder::actions::eks::REQUIRED_PERMISSIONS.iter())
        .filter(|a| a.contains("Tag"));
    for action in tagging.chain(&["eks:TagResource", "eks:UntagResource"]) {
        assert!(
            main.contains(&format!("\"{action}\"")),
            "the SCP does not deny {action}"
        );
    }
    assert!(main.contains("aws:TagKeys") && main.contains("aws:PrincipalArn"));
}
