//! Unit tests of `event.rs`.

use super::*;

fn event(detail_type: &str, detail: &str) -> String {
    format!(
        r#"{{"version":"0","id":"e","detail-type":"{detail_type}","source":"aws.guardduty",
        "account":"111122223333","time":"2024-05-28T17:55:11Z","region":"us-east-1","resources":[],"detail":{detail}}}"#
    )
}

fn health(input: &str) -> HealthEvent {
    match parse_invocation(input.as_bytes()).unwrap() {
        Invocation::Health(h) => *h,
        other => panic!("{other:?}"),
    }
}

#[test]
fn eks_unhealthy_event_with_ms_timestamp() {
    let h = health(&event(
        UNHEALTHY_DETAIL_TYPE,
        r#"{"accountId":"123456789012","resourceDetails":{"resourceType":"EKS",
           "eksClusterDetails":{"clusterName":"prod-a","availableNodes":"3","desiredNodes":5,"usage":"50"}},
           "previousStatus":"HEALTHY","currentStatus":"UNHEALTHY","issue":"EKS add-on is not installed",
           "lastUpdatedAt":1716918911000}"#,
    ));
    assert_eq!(h.change, Change::Unhealthy);
    let r = &h.resource;
    assert_eq!(r.resource_type, ResourceType::Eks);
    assert_eq!(r.name.as_raw(), "prod-a");
    assert_eq!(r.account_id.as_raw(), "123456789012");
    assert!(r.is_unhealthy());
    assert_eq!(r.issues[0].as_raw(), "EKS add-on is not installed");
    assert_eq!(r.details[0].value.as_raw(), "3 of 5");
    assert_eq!(
        r.updated_at
            .as_ref()
            .and_then(Timestamp::as_datetime)
            .map(|t| t.to_rfc3339()),
        Some("2024-05-28T17:55:11+00:00".into())
    );
}

#[test]
fn microsecond_timestamp_lands_on_the_same_instant() {
    let ms = health(&event(
        HEALTHY_DETAIL_TYPE,
        r#"{"resourceDetails":{"resourceType":"EC2","ec2InstanceDetails":{"instanceId":"i-0abc"}},"lastUpdatedAt":1716918911000}"#,
    ));
    let us = health(&event(
        HEALTHY_DETAIL_TYPE,
        r#"{"resourceDetails":{"resourceType":"EC2","ec2InstanceDetails":{"instanceId":"i-0abc"}},"lastUpdatedAt":1716918911000000}"#,
    ));
    assert_eq!(ms.resource.updated_at, us.resource.updated_at);
    assert!(ms.resource.updated_at.unwrap().as_datetime().is_some());
    // No accountId in the detail: the envelope's account is used.
    assert_eq!(us.resource.account_id.as_raw(), "111122223333");
    assert_eq!(us.change, Change::Healthy);
    assert!(!us.resource.is_unhealthy());
}

#[test]
fn ecs_fargate_issues_are_kept_after_the_issue() {
    let h = health(&event(
        UNHEALTHY_DETAIL_TYPE,
        r#"{"resourceAccountId":"123456789012","resourceDetails":{"resourceType":"ECS",
           "ecsClusterDetails":{"clusterName":"c1","fargateDetails":{"issues":["task def <!channel> failed", 7, null],"managementType":"AUTO_MANAGED"},
           "containerInstanceDetails":{"coveredContainerInstances":1,"compatibleContainerInstances":2}}},
           "currentStatus":"UNHEALTHY","issue":"Agent is not reporting"}"#,
    ));
    let issues: Vec<&str> = h.resource.issues.iter().map(Untrusted::as_raw).collect();
    assert_eq!(
        issues,
        ["Agent is not reporting", "task def <!channel> failed", "7"]
    );
    assert_eq!(h.resource.account_id.as_raw(), "123456789012");
    assert!(
        h.resource
            .details
            .iter()
            .any(|d| d.value.as_raw() == "1 of 2")
    );
}

#[test]
fn scheduler_payload_is_an_audit() {
    let p = br#"{"version":"0","source":"guardduty-responder.scheduler","detail-type":"Scheduled Coverage Audit","detail":{}}"#;
    assert_eq!(parse_invocation(p).unwrap(), Invocation::Audit);
}

#[test]
fn findings_and_foreign_events_are_not_health_events() {
    let f = event("GuardDuty Finding", r#"{"id":"x"}"#);
    assert!(matches!(
        parse_invocation(f.as_bytes()).unwrap(),
        Invocation::Other { .. }
    ));
    let foreign = br#"{"source":"aws.ec2","detail-type":"GuardDuty Runtime Protection Unhealthy","detail":{}}"#;
    assert_eq!(
        parse_invocation(foreign).unwrap_err(),
        ParseError::ForeignSource("aws.ec2".into())
    );
    let no_type = event(UNHEALTHY_DETAIL_TYPE, r#"{"resourceDetails":{}}"#);
    assert_eq!(
        parse_invocation(no_type.as_bytes()).unwrap_err(),
        ParseError::MissingField("detail.resourceDetails.resourceType".into())
    );
    assert!(matches!(
        parse_invocation(b"[1]"),
        Err(ParseError::UnknownShape(_))
    ));
    assert_eq!(parse_invocation(b"  ").unwrap_err(), ParseError::Empty);
}

#[test]
fn test_events_only_from_the_configured_source() {
    let test = event(
        UNHEALTHY_DETAIL_TYPE,
        r#"{"resourceDetails":{"resourceType":"EKS"}}"#,
    )
    .replace("aws.guardduty", "ops.verify");
    assert_eq!(
        parse_invocation(test.as_bytes()).unwrap_err(),
        ParseError::ForeignSource("ops.verify".into())
    );
    assert!(matches!(
        parse_invocation_from(test.as_bytes(), Some("ops.verify")).unwrap(),
        Invocation::Health(_)
    ));
}
