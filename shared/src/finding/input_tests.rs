//! Unit tests of the GuardDuty shapes in [`super`] (the wrapper, export and Security Hub
//! shapes have theirs beside their parsers).

use super::*;

const BARE: &str = r#"{"id":"abc","type":"Execution:Runtime/ReverseShell","severity":8,
    "accountId":"123456789012","region":"us-east-1","resource":{"resourceType":"Instance"}}"#;

fn wrap(detail: &str, detail_type: &str) -> String {
    format!(
        r#"{{"version":"0","id":"e","detail-type":"{detail_type}","source":"aws.guardduty",
        "account":"123456789012","time":"2024-05-28T17:55:11Z","region":"us-east-1","resources":[],"detail":{detail}}}"#
    )
}

fn one(input: &str) -> Finding {
    match parse_input(input.as_bytes()).unwrap().pop().unwrap() {
        Entry::Finding(f) => *f,
        other => panic!("{other:?}"),
    }
}

#[test]
fn bare_finding_and_event_give_the_same_finding() {
    let a = one(BARE);
    let b = one(&wrap(BARE, FINDING_DETAIL_TYPE));
    assert_eq!(a.id, b.id);
    assert_eq!(b.finding_type.as_raw(), "Execution:Runtime/ReverseShell");
    assert_eq!(b.severity, 8.0);
}

#[test]
fn missing_required_fields_name_their_path() {
    let no_id = BARE.replace(r#""id":"abc","#, "");
    assert_eq!(
        parse_input(wrap(&no_id, FINDING_DETAIL_TYPE).as_bytes()).unwrap_err(),
        ParseError::MissingField("detail.id".into())
    );
    let no_rt = BARE.replace(r#""resourceType":"Instance""#, "");
    assert_eq!(
        parse_input(no_rt.as_bytes()).unwrap_err(),
        ParseError::MissingField("resource.resourceType".into())
    );
    for field in ["type", "accountId", "region"] {
        let cut = BARE.replace(&format!(r#""{field}":"#), r#""x":"#);
        assert_eq!(
            parse_input(cut.as_bytes()).unwrap_err(),
            ParseError::MissingField(field.into())
        );
    }
}

#[test]
fn health_events_are_not_findings_and_foreign_events_are_errors() {
    let unhealthy = wrap(
        r#"{"accountId":"1"}"#,
        "GuardDuty Runtime Protection Unhealthy",
    );
    assert!(matches!(
        &parse_input(unhealthy.as_bytes()).unwrap()[..],
        [Entry::NotAFinding { .. }]
    ));
    let foreign = wrap(BARE, FINDING_DETAIL_TYPE).replace("aws.guardduty", "aws.ec2");
    assert_eq!(
        parse_input(foreign.as_bytes()).unwrap_err(),
        ParseError::ForeignSource("aws.ec2".into())
    );
    // EBS's snapshot notification (the forensic copies' follow-up) is not a finding;
    // another aws.ec2 event stays a foreign one.
    let snapshot = wrap(r#"{"event":"createSnapshot"}"#, "EBS Snapshot Notification")
        .replace("aws.guardduty", "aws.ec2");
    assert!(matches!(
        &parse_input(snapshot.as_bytes()).unwrap()[..],
        [Entry::NotAFinding { detail_type }] if detail_type == "EBS Snapshot Notification"
    ));
    let volume = snapshot.replace("EBS Snapshot Notification", "EBS Volume Notification");
    assert_eq!(
        parse_input(volume.as_bytes()).unwrap_err(),
        ParseError::ForeignSource("aws.ec2".into())
    );
    let spoofed = snapshot.replace("aws.ec2", "ops.verify");
    assert_eq!(
        parse_input(spoofed.as_bytes()).unwrap_err(),
        ParseError::ForeignSource("ops.verify".into())
    );
}

#[test]
fn only_the_configured_test_source_is_accepted() {
    let test = wrap(BARE, FINDING_DETAIL_TYPE).replace("aws.guardduty", "ops.verify");
    assert_eq!(
        parse_input(test.as_bytes()).unwrap_err(),
        ParseError::ForeignSource("ops.verify".into())
    );
    let old_default = test.replace("ops.verify", "guardduty-responder.test");
    assert_eq!(
        parse_input_from(old_default.as_bytes(), Some("ops.verify")).unwrap_err(),
        ParseError::ForeignSource("guardduty-responder.test".into())
    );
    assert!(matches!(
        &parse_input_from(test.as_bytes(), Some("ops.verify")).unwrap()[..],
        [Entry::Finding(_)]
    ));
}

#[test]
fn malformed_inputs_get_clear_errors() {
    assert_eq!(parse_input(b"  ").unwrap_err(), ParseError::Empty);
    assert!(matches!(
        parse_input(b"{nope").unwrap_err(),
        ParseError::NotJson(_)
    ));
    assert_eq!(
        parse_input(b"[]").unwrap_err(),
        ParseError::UnknownShape("a JSON array")
    );
    assert_eq!(
        parse_input(b"{}").unwrap_err(),
        ParseError::UnknownShape("a JSON object without detail-type, findings, id or type")
    );
    let bad_type = BARE.replace(r#""severity":8"#, r#""severity":"high""#);
    assert!(
        matches!(parse_input(bad_type.as_bytes()).unwrap_err(), ParseError::InvalidField { path, .. } if path == "severity")
    );
}

#[test]
fn get_findings_output_is_pascal_case_and_every_finding_counts() {
    let out = r#"{"Findings":[
        {"Id":"a","Type":"Execution:Runtime/ReverseShell","Severity":8,"AccountId":"1","Region":"r",
         "Resource":{"ResourceType":"Instance","InstanceDetails":{"InstanceId":"i-1","Tags":[{"Key":"k","Value":"v"}]}},
         "Service":{"Archived":false,"RuntimeDetails":{"Process":{"Name":"sh","ExecutablePath":"/bin/sh"}}}},
        {"Id":"b","Type":"Impact:Runtime/CryptoMinerExecuted","Severity":5,"AccountId":"1","Region":"r",
         "Resource":{"ResourceType":"ECSCluster","EcsClusterDetails":{"TaskDetails":{"Arn":"t","TaskCreatedAt":1.7E9}}}}]}"#;
    let entries = parse_input(out.as_bytes()).unwrap();
    assert_eq!(entries.len(), 2);
    let Entry::Finding(f) = &entries[0] else {
        panic!()
    };
    assert_eq!(
        f.process()
            .unwrap()
            .executable_path
            .as_ref()
            .unwrap()
            .as_raw(),
        "/bin/sh"
    );
    assert_eq!(
        f.resource.instance_details.as_ref().unwrap().tags[0]
            .key
            .as_raw(),
        "k"
    );
    let Entry::Finding(g) = &entries[1] else {
        panic!()
    };
    let task = g
        .resource
        .ecs_cluster_details
        .as_ref()
        .unwrap()
        .task_details
        .as_ref()
        .unwrap();
    assert!(task.created_at.as_ref().unwrap().as_datetime().is_some());
    let missing = out.replace(r#""Id":"b","#, "");
    assert_eq!(
        parse_input(missing.as_bytes()).unwrap_err(),
        ParseError::MissingField("Findings[1].id".into())
    );
}

#[test]
fn sample_flag_is_found_inside_the_value_string() {
    let s = BARE.replace(
        r#""resource""#,
        r#""service":{"additionalInfo":{"value":"{\"sample\":true}","type":"default"}},"resource""#,
    );
    assert!(one(&s).is_sample());
    assert!(!one(BARE).is_sample());
}

#[test]
fn nulls_and_odd_optional_values_do_not_reject() {
    let s = BARE.replace(r#""resource":{"resourceType":"Instance"}"#,
        r#""resource":{"resourceType":"Instance","instanceDetails":{"tags":null,"networkInterfaces":null,"launchTime":1500000000000}},
           "service":{"archived":"false","count":3.0,"eventFirstSeen":"XXXX-XX-XXTXX:XX:XXZ","runtimeDetails":null}"#);
    let f = one(&s);
    assert!(!f.is_archived());
    assert_eq!(f.service.count, Some(3));
}

#[test]
fn an_event_with_a_pascal_case_detail_reads_like_a_camel_case_one() {
    let pascal = r#"{"Id":"abc","Type":"Execution:Runtime/ReverseShell","Severity":8,
        "AccountId":"123456789012","Region":"us-east-1","Resource":{"ResourceType":"Instance"}}"#;
    let a = one(&wrap(BARE, FINDING_DETAIL_TYPE));
    let b = one(&wrap(pascal, FINDING_DETAIL_TYPE));
    assert_eq!(
        (a.id.as_raw(), a.finding_type.as_raw(), a.severity),
        (b.id.as_raw(), b.finding_type.as_raw(), b.severity)
    );
    let no_region = pascal.replace(r#""Region":"us-east-1","#, "");
    assert_eq!(
        parse_input(wrap(&no_region, FINDING_DETAIL_TYPE).as_bytes()).unwrap_err(),
        ParseError::MissingField("detail.region".into())
    );
}

#[test]
fn an_unknown_shape_lists_every_accepted_one() {
    let message = parse_input(br#"{"hello":1}"#).unwrap_err().to_string();
    for shape in [
        "EventBridge",
        "SNS",
        "SQS",
        "Entries",
        "Security Hub",
        "JSON Lines",
    ] {
        assert!(message.contains(shape), "{shape} missing from {message}");
    }
}
