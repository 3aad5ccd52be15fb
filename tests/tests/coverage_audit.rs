//! The coverage audit and the coverage function against a local GuardDuty REST-JSON server
//! (moto 5.2.5 has neither GetCoverageStatistics nor ListCoverage) and a local Slack webhook.

use integration_tests::guardduty_api::{GuardDutyApi, World, ec2, ecs, eks};
use integration_tests::webhook::Webhook;
use responder::coverage::audit::{AuditError, AuditOptions, TagFilter, audit};
use responder::coverage::function::CoverageFunction;
use responder::coverage::resource::ResourceType;
use responder::notify::secret::SecretUrl;
use responder::notify::{Notifier, NotifySettings};
use serde_json::Value;

const ACCOUNT: &str = "123456789012";
const SCHEDULED: &[u8] = br#"{"version":"0","source":"guardduty-responder.scheduler","detail-type":"Scheduled Coverage Audit","detail":{}}"#;

fn world(resources: Vec<Value>) -> World {
    World {
        detectors: vec!["12abc34d567e8fa901bc2d34e56789f0".into()],
        resources,
        page_size: 2,
        tags: vec![],
        findings: vec![],
    }
}

fn mixed() -> Vec<Value> {
    vec![
        eks(
            ACCOUNT,
            "prod-a",
            "UNHEALTHY",
            Some("EKS add-on is not installed"),
        ),
        eks(ACCOUNT, "prod-b", "HEALTHY", None),
        ec2(
            ACCOUNT,
            "i-0aaa",
            "UNHEALTHY",
            Some("The EC2 instance is not managed by SSM"),
        ),
        ec2(
            ACCOUNT,
            "i-0bbb",
            "UNHEALTHY",
            Some("VPC Endpoint creation failed"),
        ),
        ec2(ACCOUNT, "i-0ccc", "HEALTHY", None),
        ecs(ACCOUNT, "web", "UNHEALTHY", &["Agent is not reporting"]),
        eks(ACCOUNT, "prod-c", "UNHEALTHY", Some("No Agent Reporting")),
    ]
}

fn list_coverage_calls(api: &GuardDutyApi) -> Vec<Value> {
    api.calls()
        .into_iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/coverage"))
        .map(|c| c.body)
        .collect()
}

#[tokio::test]
async fn audit_reads_every_page_and_both_statistics() {
    let api = GuardDutyApi::start(world(mixed())).await;
    let report = audit(&api.sdk_config(), &AuditOptions::default())
        .await
        .unwrap();
    assert_eq!(report.detector_id, "12abc34d567e8fa901bc2d34e56789f0");
    assert_eq!(report.unhealthy.len(), 5);
    assert_eq!(report.failing, 5);
    assert_eq!(report.by_status["HEALTHY"], 2);
    assert_eq!(report.by_status["UNHEALTHY"], 5);
    assert_eq!(report.by_resource_type["EC2"], 3);
    assert_eq!(report.by_resource_type["EKS"], 3);
    // Five unhealthy resources at two per page: three pages, the token carried along.
    let pages = list_coverage_calls(&api);
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert_eq!(pages[0].get("nextToken"), None);
    assert_eq!(pages[1]["nextToken"], "page-2");
    assert_eq!(pages[2]["nextToken"], "page-4");
    let filter = &pages[0]["filterCriteria"]["filterCriterion"][0];
    assert_eq!(filter["criterionKey"], "COVERAGE_STATUS");
    assert_eq!(filter["filterCondition"]["equals"][0], "UNHEALTHY");
    let stats = api
        .calls()
        .into_iter()
        .find(|c| c.path.ends_with("/coverage/statistics"))
        .unwrap();
    assert_eq!(
        stats.body["statisticsType"],
        serde_json::json!(["COUNT_BY_COVERAGE_STATUS", "COUNT_BY_RESOURCE_TYPE"])
    );
    // Each resource with its hint; EC2 with its instance id.
    let ssm = report
        .unhealthy
        .iter()
        .find(|u| u.resource.name.as_raw() == "i-0aaa")
        .unwrap();
    assert_eq!(ssm.resource.resource_type, ResourceType::Ec2);
    assert!(ssm.hint.contains("Systems Manager"), "{}", ssm.hint);
    let web = report
        .unhealthy
        .iter()
        .find(|u| u.resource.name.as_raw() == "web")
        .unwrap();
    assert_eq!(web.resource.issues[0].as_raw(), "Agent is not reporting");
    assert!(
        web.resource
            .updated_at
            .as_ref()
            .unwrap()
            .as_datetime()
            .is_some()
    );
}

#[tokio::test]
async fn an_all_healthy_account_fails_nothing() {
    let api = GuardDutyApi::start(world(vec![eks(ACCOUNT, "prod-b", "HEALTHY", None)])).await;
    let report = audit(&api.sdk_config(), &AuditOptions::default())
        .await
        .unwrap();
    assert!(report.unhealthy.is_empty());
    assert_eq!((report.failing, report.failing_set_hash()), (0, 0));
    assert_eq!(report.by_status["HEALTHY"], 1);
    assert_eq!(list_coverage_calls(&api).len(), 1);
}

#[tokio::test]
async fn require_tag_narrows_the_failing_set() {
    let mut w = world(mixed());
    w.tags = vec![
        (
            format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0bbb"),
            "tier".into(),
            "critical".into(),
        ),
        (
            format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/prod-b"),
            "tier".into(),
            "critical".into(),
        ),
    ];
    let api = GuardDutyApi::start(w).await;
    let opts = AuditOptions {
        require_tag: Some(TagFilter::parse("tier=critical").unwrap()),
        ..AuditOptions::default()
    };
    let report = audit(&api.sdk_config(), &opts).await.unwrap();
    assert_eq!(report.unhealthy.len(), 5);
    let failing: Vec<&str> = report.failing().map(|u| u.resource.name.as_raw()).collect();
    assert_eq!(failing, ["i-0bbb"]);
    let lookup = api
        .calls()
        .into_iter()
        .find(|c| c.target.ends_with(".GetResources"))
        .expect("a tag look-up");
    assert_eq!(lookup.body["TagFilters"][0]["Key"], "tier");
    assert_eq!(lookup.body["TagFilters"][0]["Values"][0], "critical");
}

#[tokio::test]
async fn resource_type_and_detector_id_narrow_the_calls() {
    let api = GuardDutyApi::start(world(mixed())).await;
    let opts = AuditOptions {
        detector_id: Some("12abc34d567e8fa901bc2d34e56789f0".into()),
        resource_type: Some(ResourceType::Eks),
        ..AuditOptions::default()
    };
    let report = audit(&api.sdk_config(), &opts).await.unwrap();
    let names: Vec<&str> = report
        .unhealthy
        .iter()
        .map(|u| u.resource.name.as_raw())
        .collect();
    assert_eq!(names, ["prod-a", "prod-c"]);
    assert!(
        !api.calls().iter().any(|c| c.method == "GET"),
        "no ListDetectors with an id"
    );
    let criteria = &list_coverage_calls(&api)[0]["filterCriteria"]["filterCriterion"];
    assert!(criteria.as_array().unwrap().iter().any(
        |c| c["criterionKey"] == "RESOURCE_TYPE" && c["filterCondition"]["equals"][0] == "EKS"
    ));
}

#[tokio::test]
async fn detector_must_be_unique_or_given() {
    let mut w = world(vec![]);
    w.detectors.push("another".into());
    let api = GuardDutyApi::start(w).await;
    let err = audit(&api.sdk_config(), &AuditOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, AuditError::SeveralDetectors(2)), "{err}");
    let none = GuardDutyApi::start(World::default()).await;
    let err = audit(&none.sdk_config(), &AuditOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, AuditError::NoDetector), "{err}");
}

async fn function(api: &GuardDutyApi, hook: &Webhook) -> CoverageFunction {
    let sdk = api.sdk_config();
    let settings = NotifySettings {
        slack_webhook_url: Some(SecretUrl::new(hook.url())),
        ..NotifySettings::default()
    };
    let notifier = Notifier::new(&sdk, &settings).await;
    CoverageFunction::new(sdk, notifier, AuditOptions::default(), None)
}

fn slack_bodies(hook: &Webhook) -> Vec<String> {
    hook.received()
        .into_iter()
        .map(|r| String::from_utf8(r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn scheduled_audit_notifies_only_when_the_set_changes() {
    let api = GuardDutyApi::start(world(mixed())).await;
    let hook = Webhook::start(vec![]).await;
    let f = function(&api, &hook).await;

    let first = f.handle(SCHEDULED).await.unwrap();
    assert_eq!(first["audit"]["changed"], true);
    assert_eq!(slack_bodies(&hook).len(), 1);
    assert!(slack_bodies(&hook)[0].contains("5 resource(s) UNHEALTHY"));

    // Same set: no notification.
    let second = f.handle(SCHEDULED).await.unwrap();
    assert_eq!(second["audit"]["changed"], false);
    assert_eq!(slack_bodies(&hook).len(), 1);

    // One resource recovers: the set changed.
    let mut fewer = mixed();
    fewer.remove(0);
    api.set_world(world(fewer));
    let third = f.handle(SCHEDULED).await.unwrap();
    assert_eq!(third["audit"]["changed"], true);
    assert_eq!(slack_bodies(&hook).len(), 2);
    assert!(slack_bodies(&hook)[1].contains("4 resource(s) UNHEALTHY"));

    // Everything recovers: one "healthy again" message, then silence.
    api.set_world(world(vec![eks(ACCOUNT, "prod-b", "HEALTHY", None)]));
    f.handle(SCHEDULED).await.unwrap();
    f.handle(SCHEDULED).await.unwrap();
    let bodies = slack_bodies(&hook);
    assert_eq!(bodies.len(), 3);
    assert!(bodies[2].contains("every resource is healthy again"));
}

#[tokio::test]
async fn a_cold_start_with_a_healthy_account_stays_silent() {
    let api = GuardDutyApi::start(world(vec![])).await;
    let hook = Webhook::start(vec![]).await;
    let f = function(&api, &hook).await;
    let out = f.handle(SCHEDULED).await.unwrap();
    assert_eq!(out["audit"]["changed"], false);
    assert!(hook.received().is_empty());
}

const HOSTILE_ECS: &str = r#"{"version":"0","id":"7a2c","detail-type":"GuardDuty Runtime Protection Unhealthy","source":"aws.guardduty",
  "account":"123456789012","time":"2024-05-28T17:55:11Z","region":"us-east-1","resources":[],
  "detail":{"schemaVersion":"1.0","accountId":"123456789012","resourceDetails":{"resourceType":"ECS","ecsClusterDetails":{
    "clusterName":"<!channel> *prod*","fargateDetails":{"issues":[
      "Task definition <https://evil.example/x|click here> `rm -rf` </td><script>alert(1)</script> is unsupported\u202e\u0007",
      "<@U0123ABCD> ~strike~ _i_ & more"],"managementType":"AUTO_MANAGED"}}},
    "previousStatus":"HEALTHY","currentStatus":"UNHEALTHY","issue":"VPC endpoint is unreachable","lastUpdatedAt":1716918911000000}}"#;

#[tokio::test]
async fn hostile_issues_arrive_escaped_in_slack() {
    let api = GuardDutyApi::start(world(vec![])).await;
    let hook = Webhook::start(vec![]).await;
    let f = function(&api, &hook).await;
    let out = f.handle(HOSTILE_ECS.as_bytes()).await.unwrap();
    assert_eq!(out["coverage_change"], "unhealthy");
    assert_eq!(out["deliveries"][0]["ok"], true);
    let bodies = slack_bodies(&hook);
    assert_eq!(bodies.len(), 1);
    let payload: Value = serde_json::from_str(&bodies[0]).unwrap();
    // Every text Slack will interpret, decoded from JSON.
    let mut texts = Vec::new();
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(t)) = m.get("text") {
                    out.push(t.clone());
                }
                m.values().for_each(|x| collect(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    collect(&payload, &mut texts);
    let all = texts.join("\n");
    for raw in [
        "<!channel>",
        "<@U0123ABCD>",
        "<https://evil",
        "</td>",
        "`rm",
        "\u{202e}",
        "\u{7}",
    ] {
        assert!(!all.contains(raw), "{raw:?} reached Slack raw: {all}");
    }
    assert!(
        all.contains("&lt;!channel&gt;") && all.contains("&lt;@U0123ABCD&gt;"),
        "{all}"
    );
    assert!(all.contains("\\u{202e}"), "{all}");
    assert!(all.contains("Likely fix"), "{all}");
    assert!(all.contains("2024-05-28T17:55:11Z"), "µs timestamp: {all}");
    // No audit ran for an event.
    assert!(api.calls().is_empty());
}

#[tokio::test]
async fn hostile_issues_are_escaped_in_html_and_plain_text() {
    let Ok(responder::coverage::Invocation::Health(e)) =
        responder::coverage::parse_invocation(HOSTILE_ECS.as_bytes())
    else {
        panic!("a health event")
    };
    let n = responder::coverage::render::health_notification(&e);
    assert!(!n.html.contains("<script>") && !n.html.contains("</td><script"));
    assert!(
        n.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        n.html
    );
    assert!(!n.text.contains('\u{202e}') && !n.text.contains('\u{7}'));
    assert!(
        n.subject.is_ascii() && n.subject.len() <= 100,
        "{}",
        n.subject
    );
}

#[tokio::test]
async fn sample_events_replay_through_the_function() {
    let api = GuardDutyApi::start(world(vec![])).await;
    let hook = Webhook::start(vec![]).await;
    let f = function(&api, &hook).await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !((name.starts_with("coverage-") || name.starts_with("runtime-protection-"))
            && name.ends_with(".json"))
        {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let out = f
            .handle(&bytes)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = if name.contains("unhealthy") {
            "unhealthy"
        } else {
            "healthy"
        };
        assert_eq!(out["coverage_change"], want, "{name}");
        let Ok(responder::coverage::Invocation::Health(e)) =
            responder::coverage::parse_invocation(&bytes)
        else {
            panic!("{name}")
        };
        let at = e.resource.updated_at.as_ref().and_then(|t| t.as_datetime());
        assert!(
            at.is_some_and(|t| t.timestamp() > 1_600_000_000 && t.timestamp() < 2_000_000_000),
            "{name}: {at:?}"
        );
        seen += 1;
    }
    assert!(seen >= 3, "coverage sample events: {seen}");
    assert_eq!(hook.received().len(), seen);
}

#[test]
fn coverage_function_policy_matches_the_audit() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/modules/responder/permissions.tf"
    );
    let body: hcl::Body = hcl::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let locals = body
        .blocks()
        .find(|b| b.identifier() == "locals")
        .expect("a locals block");
    let permissions = locals
        .body()
        .attributes()
        .find(|a| a.key() == "permissions")
        .expect("permissions");
    let value = hcl::Value::from(permissions.expr().clone());
    let granted: std::collections::BTreeSet<String> = value.as_object().expect("a map")["coverage"]
        .as_array()
        .expect("permissions.coverage")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let declared: std::collections::BTreeSet<String> =
        responder::coverage::audit::REQUIRED_PERMISSIONS
            .iter()
            .map(|s| s.to_string())
            .collect();
    assert_eq!(granted, declared);
}
