//! The ASFF mapping, on hand-written Security Hub findings.

use super::*;
use crate::finding::parse_input;
use serde_json::json;

fn asff() -> Value {
    json!({
        "SchemaVersion": "2018-10-08",
        "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/guardduty",
        "Id": "arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/f1",
        "AwsAccountId": "123456789012",
        "Types": ["TTPs/Execution/Execution:Runtime-ReverseShell"],
        "Severity": {"Product": 8, "Label": "HIGH", "Normalized": 60},
        "Title": "t",
        "ProductFields": {
            "aws/guardduty/service/count": "2",
            "aws/guardduty/service/runtimeDetails/process/name": "sh",
            "aws/guardduty/service/additionalInfo": ""
        },
        "Resources": [{"Type": "AwsEc2Instance", "Region": "us-east-1",
            "Id": "arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60718",
            "Tags": {"Name": "web"},
            "Details": {"AwsEc2Instance": {"VpcId": "vpc-0a1b2c3d4e5f60789",
                "NetworkInterfaces": [{"NetworkInterfaceId": "eni-89105b0f1abcd2385"}]}}}]
    })
}

fn one(v: &Value) -> Finding {
    match entry(&v.to_string(), "").unwrap() {
        Entry::Finding(f) => *f,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_guardduty_asff_finding_maps_onto_the_model() {
    let f = one(&asff());
    assert_eq!(f.id.as_raw(), "f1");
    assert_eq!(f.finding_type.as_raw(), "Execution:Runtime/ReverseShell");
    assert_eq!(f.severity, 8.0);
    assert_eq!(f.region.as_raw(), "us-east-1");
    assert_eq!(f.partition.as_deref(), Some("aws"));
    assert_eq!(f.service.count, Some(2));
    assert_eq!(f.process().unwrap().name.as_ref().unwrap().as_raw(), "sh");
    let i = f.resource.instance_details.as_ref().unwrap();
    assert_eq!(
        i.instance_id.as_ref().unwrap().as_raw(),
        "i-0a1b2c3d4e5f60718"
    );
    assert_eq!(i.tags[0].value.as_raw(), "web");
    assert_eq!(f.resource.resource_type.as_raw(), "Instance");
    assert!(f.target_ambiguity.is_none());
}

#[test]
fn types_severity_and_state_fall_back_as_documented() {
    assert_eq!(
        from_asff_type("TTPs/Command and Control/Backdoor:Runtime-C&CActivity.B!DNS").as_deref(),
        Some("Backdoor:Runtime/C&CActivity.B!DNS")
    );
    assert_eq!(
        from_asff_type("Software and Configuration Checks/Vulnerabilities"),
        None
    );
    let mut v = asff();
    v["Severity"] = json!({"Label": "CRITICAL"});
    v["FindingProviderFields"] = json!({"Severity": {"Original": "9.5"}});
    v["RecordState"] = json!("ARCHIVED");
    v["Sample"] = json!(true);
    let f = one(&v);
    assert_eq!(f.severity, 9.5);
    assert!(f.is_archived() && f.is_sample());
    v["FindingProviderFields"] = json!({});
    assert_eq!(one(&v).severity, 9.0);
    v["Types"] = json!(["Unusual Behaviors"]);
    assert!(matches!(entry(&v.to_string(), "x").unwrap_err(),
        ParseError::InvalidField { path, .. } if path == "x.Types"));
}

#[test]
fn other_products_are_not_acted_on_and_required_members_are_named() {
    let mut v = asff();
    v["ProductArn"] = json!("arn:aws:securityhub:us-east-1::product/aws/inspector");
    assert!(matches!(
        entry(&v.to_string(), "").unwrap(),
        Entry::NotAFinding { .. }
    ));
    for member in ["Id", "AwsAccountId", "Resources"] {
        let mut v = asff();
        v.as_object_mut().unwrap().remove(member);
        assert_eq!(
            entry(&v.to_string(), "Findings[0]").unwrap_err(),
            ParseError::MissingField(format!("Findings[0].{member}"))
        );
    }
}

#[test]
fn several_targets_or_an_unnamed_pod_are_ambiguous() {
    let mut v = asff();
    let second = v["Resources"][0].clone();
    v["Resources"].as_array_mut().unwrap().push(second);
    assert!(
        one(&v)
            .target_ambiguity
            .unwrap()
            .contains("2 EC2 instances")
    );
    let eks = json!([{"Type": "AwsEksCluster", "Id": "arn:aws:eks:us-east-1:1:cluster/prod"}]);
    v["Resources"] = eks;
    let f = one(&v);
    assert_eq!(f.resource.resource_type.as_raw(), "EKSCluster");
    assert!(
        f.target_ambiguity
            .unwrap()
            .contains("does not name the pod")
    );
    let w = "aws/guardduty/resource/kubernetesDetails/kubernetesWorkloadDetails";
    v["ProductFields"][format!("{w}/namespace")] = json!("default");
    v["ProductFields"][format!("{w}/name")] = json!("web");
    let f = one(&v);
    assert!(f.target_ambiguity.is_none());
    assert_eq!(f.workload().unwrap().name.as_ref().unwrap().as_raw(), "web");
}

#[test]
fn security_hub_get_findings_and_guardduty_get_findings_share_a_key() {
    let pascal = json!({"Id": "g1", "Type": "Execution:Runtime/ReverseShell", "Severity": 8,
        "AccountId": "123456789012", "Region": "us-east-1", "Resource": {"ResourceType": "Instance"}});
    let out = json!({"Findings": [asff(), pascal]}).to_string();
    let ids: Vec<String> = parse_input(out.as_bytes())
        .unwrap()
        .into_iter()
        .map(|e| match e {
            Entry::Finding(f) => f.id.as_raw().to_owned(),
            Entry::NotAFinding { detail_type } => detail_type,
        })
        .collect();
    assert_eq!(ids, ["f1", "g1"]);
    let event = json!({"detail-type": IMPORTED_DETAIL_TYPE, "source": SECURITY_HUB_SOURCE,
        "detail": {"findings": [asff()]}});
    assert!(matches!(
        &parse_input(event.to_string().as_bytes()).unwrap()[..],
        [Entry::Finding(_)]
    ));
    let empty = json!({"detail-type": IMPORTED_DETAIL_TYPE, "source": SECURITY_HUB_SOURCE,
        "detail": {"findings": []}});
    assert_eq!(
        parse_input(empty.to_string().as_bytes()).unwrap_err(),
        ParseError::NoFindings
    );
}

fn odd_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,24}".prop_map(Value::from),
        Just(json!([{"Type": "AwsEc2Instance"}, "x", 1])),
        Just(json!({"aws/guardduty/service/count": {"a": 1}, "": ""})),
    ]
}

proptest::proptest! {
    /// An odd value in any member read from ASFF maps, or is rejected with an error; it
    /// never panics.
    #[test]
    fn odd_member_values_never_panic(member in 0usize..10, value in odd_value()) {
        let names = ["Id", "AwsAccountId", "Region", "Types", "Severity", "ProductFields",
            "Resources", "Sample", "RecordState", "FindingProviderFields"];
        let mut v = asff();
        v[names[member]] = value;
        let _ = entry(&v.to_string(), "Findings[0]");
    }
}
