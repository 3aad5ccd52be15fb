use super::*;

fn call(start: u64, end: u64) -> Call {
    Call {
        service: "ec2".into(),
        action: "X".into(),
        start: Duration::from_millis(start),
        end: Duration::from_millis(end),
        status: 200,
        injected: false,
        body: String::new(),
    }
}

#[test]
fn depth_counts_sequential_not_concurrent_calls() {
    // Three concurrent calls, then two concurrent, then one: depth 3.
    let calls = [
        call(0, 50),
        call(1, 52),
        call(2, 51),
        call(53, 103),
        call(54, 104),
        call(105, 155),
    ];
    assert_eq!(sequential_depth(&calls, Duration::from_millis(155)), 3);
    assert_eq!(sequential_depth(&calls, Duration::from_millis(104)), 2);
}

#[test]
fn parses_json_protocol_actions_and_matches_qualified_faults() {
    assert_eq!(
        json_action_of(Some("AmazonEC2ContainerServiceV20141113.TagResource")).as_deref(),
        Some("TagResource")
    );
    assert_eq!(json_action_of(None), None);
    let f = Fault::error("ecs:TagResource", 400, "AccessDeniedException", None);
    assert!(f.matches("ecs", "TagResource"));
    assert!(!f.matches("elasticloadbalancing", "TagResource"));
    let body: serde_json::Value =
        serde_json::from_str(&error_body("ecs", "AccessDeniedException", true)).unwrap();
    assert_eq!(body["__type"], "AccessDeniedException");
}

#[test]
fn parses_action_and_service() {
    assert_eq!(
        action_of(b"Action=DescribeInstances&Version=2016-11-15", None),
        "DescribeInstances"
    );
    assert_eq!(
        service_of(Some(
            "AWS4-HMAC-SHA256 Credential=testing/20261126/us-east-1/autoscaling/aws4_request, SignedHeaders=host"
        )),
        "autoscaling"
    );
}
