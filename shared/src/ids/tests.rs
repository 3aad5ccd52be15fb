//! Each identifier's rule against valid values and what a hostile finding, replay file or
//! button value would put there instead.

use super::*;

/// What no identifier accepts: empty, path and shell characters, whitespace, newlines,
/// markup, look-alike Unicode (fullwidth digits, Cyrillic letters, a zero-width space).
const HOSTILE: &[&str] = &[
    "",
    " ",
    "../etc/passwd",
    "a/../b",
    "x\ny",
    "x\r\n",
    "<script>",
    "a;rm -rf /",
    "$(id)",
    "`id`",
    "\u{200b}",
    "\u{202e}",
    "１２３４５６７８９０１２",
];

fn rejects<T: TryFrom<&'static str, Error = InvalidId> + std::fmt::Debug>(
    what: &str,
    bad: &[&'static str],
) {
    for v in HOSTILE.iter().chain(bad) {
        let err = T::try_from(v).expect_err(v);
        assert_eq!(err.what, what, "{v:?}");
        assert_eq!(err.to_string(), format!("not a valid {what}"));
    }
}

#[test]
fn instance_ids() {
    for ok in ["i-12345678", "i-0a1b2c3d4e5f60718"] {
        assert_eq!(InstanceId::parse(ok).unwrap().as_str(), ok);
    }
    rejects::<InstanceId>(
        "instance id",
        &[
            "i-",
            "i-0A1B2C3D",
            "I-12345678",
            "i-1234567",
            "i-0a1b2c3d4e5f607189",
            "i-123; rm -rf /",
            "i-12345678\n",
            " i-12345678",
            "i-1234567８",
            "і-12345678", // Cyrillic і
            "vpc-12345678",
        ],
    );
}

#[test]
fn vpc_and_network_interface_ids() {
    assert!(VpcId::parse("vpc-0a1b2c3d").is_ok());
    assert!(NetworkInterfaceId::parse("eni-0a1b2c3d4e5f60718").is_ok());
    rejects::<VpcId>(
        "VPC id",
        &["vpc-", "vpc-0A1B2C3D", "eni-0a1b2c3d", "vpc-0a1b2c3d/x"],
    );
    rejects::<NetworkInterfaceId>(
        "network interface id",
        &[
            "eni-",
            "i-0a1b2c3d",
            "eni-0a1b2c3d\n",
            "eni-abcdef012345678901",
        ],
    );
}

#[test]
fn task_arns() {
    let ok = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";
    let arn = TaskArn::parse(ok).unwrap();
    assert_eq!((arn.as_str(), arn.cluster()), (ok, Some("prod")));
    let old = TaskArn::parse("arn:aws:ecs:us-east-1:123456789012:task/0123abcd").unwrap();
    assert_eq!(old.cluster(), None);
    let long = format!("arn:aws:ecs:us-east-1:1:task/p/{}", "a".repeat(500));
    rejects::<TaskArn>(
        "task ARN",
        &[
            "arn:aws:ecs:us-east-1:1:task/prod/<script>",
            "arn:aws:ec2:us-east-1:1:task/prod/x",
            "arn:aws:ecs:us-east-1:1:service/prod/x",
            "arn:aws:ecs:us-east-1:1:task/prod/x y",
            "arn:aws:ecs:us-east-1:1:task/prod/x\n",
            "arn:aws:ecs:us-east-1:1:task/prod/ｘ",
            "task/prod/x",
            Box::leak(long.into_boxed_str()),
        ],
    );
}

#[test]
fn cluster_names() {
    for ok in ["prod", "Prod_Cluster-2", &"c".repeat(255)] {
        assert!(ClusterName::parse(ok).is_ok(), "{ok}");
    }
    let long: &'static str = Box::leak("c".repeat(256).into_boxed_str());
    rejects::<ClusterName>("cluster name", &["a b", "a/b", "a.b", "a\n", "рrod", long]);
}

#[test]
fn kubernetes_names() {
    for ok in [
        "web-7d4b9c",
        "default",
        "a",
        "kube.system-1",
        &"a".repeat(253),
    ] {
        assert!(K8sName::parse(ok).is_ok(), "{ok}");
    }
    let long: &'static str = Box::leak("a".repeat(254).into_boxed_str());
    rejects::<K8sName>(
        "Kubernetes name",
        &[
            "Web", "-x", "x-", ".x", "a*b", "a/b", "a_b", "a\nb", "wеb", long,
        ],
    );
}

#[test]
fn container_ids() {
    for ok in [
        "containerd://0123456789abcdef0123",
        "0123456789AB",
        &"f".repeat(64),
    ] {
        assert!(ContainerId::parse(ok).is_ok(), "{ok}");
    }
    let long: &'static str = Box::leak("f".repeat(65).into_boxed_str());
    rejects::<ContainerId>(
        "container id",
        &[
            "containerd://",
            "0123456789a",
            "containerd://0123456789abcdefg",
            long,
        ],
    );
}

#[test]
fn regions() {
    for ok in ["us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"] {
        assert!(Region::parse(ok).is_ok(), "{ok}");
    }
    let long: &'static str = Box::leak("a-b-".repeat(20).into_boxed_str());
    rejects::<Region>(
        "region",
        &[
            "US-EAST-1",
            "us-east-1.evil.example",
            "us-east-1/",
            "us--1",
            "-us-east-1",
            "us-east-1-",
            "useast1",
            "us-east-1\n",
            "us-eаst-1",
            long,
        ],
    );
}

#[test]
fn account_finding_and_detector_ids() {
    assert!(AccountId::parse("123456789012").is_ok());
    rejects::<AccountId>(
        "account id",
        &[
            "12345678901",
            "1234567890123",
            "12345678901a",
            "１23456789012",
        ],
    );
    assert!(FindingId::parse("0123456789abcdef0123456789ABCDEF").is_ok());
    let long: &'static str = Box::leak("a".repeat(65).into_boxed_str());
    rejects::<FindingId>("finding id", &["g1", "../x", "ab\n", long]);
    assert!(DetectorId::parse("4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6").is_ok());
    rejects::<DetectorId>("detector id", &["a/b", "..", "A1", "d:x", long]);
}

/// Every way in applies the rule: `TryFrom<String>`, `FromStr` and deserialization too.
#[test]
fn every_constructor_validates() {
    assert!(InstanceId::try_from(String::from("i-; rm -rf /")).is_err());
    assert!("../x".parse::<K8sName>().is_err());
    assert!(serde_json::from_str::<Region>("\"us-east-1.evil.example\"").is_err());
    let r: Region = serde_json::from_str("\"eu-west-1\"").unwrap();
    assert_eq!(r, "eu-west-1");
}

/// The JSON of a newtype is its string's, byte for byte, so replay output, notifications
/// and webhooks are unchanged; `Debug` and `Display` read as the string's too.
#[test]
fn serializes_and_prints_as_the_plain_string() {
    let id = InstanceId::parse("i-0a1b2c3d4e5f60718").unwrap();
    let plain = "i-0a1b2c3d4e5f60718";
    assert_eq!(
        serde_json::to_string(&id).unwrap(),
        serde_json::to_string(plain).unwrap()
    );
    assert_eq!(format!("{id} {id:?}"), format!("{plain} {plain:?}"));
    assert_eq!(String::from(id), plain);
}
