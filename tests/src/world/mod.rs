//! Building a realistic AWS world in moto, and findings that point at it.

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, Filter, InstanceMarketOptionsRequest,
    InstanceNetworkInterfaceSpecification, InstanceType, IpPermission, IpRange, MarketType,
    UserIdGroupPair,
};
use responder::Config;
use responder::pipeline::{Handled, plan_input};
use responder::plan::ResponsePlan;
use std::sync::atomic::{AtomicU64, Ordering};

mod instances;
mod snapshots;
pub use instances::*;
pub use snapshots::*;

/// An AMI moto knows.
pub const IMAGE_ID: &str = "ami-12c6146b";

/// SDK configuration pointing at `endpoint` with dummy credentials. It starts from the
/// product's own [`responder::execute::aws::sdk_config`], so retries and timeouts are
/// exactly production's; the credentials are set on the config, not in the environment.
pub async fn sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    responder::execute::aws::sdk_config(region)
        .await
        .into_builder()
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
            aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "moto"),
        ))
        .build()
}

/// Clients for setting the world up and checking it (straight to moto, no proxy).
#[derive(Clone)]
pub struct Aws {
    pub config: SdkConfig,
    pub ec2: aws_sdk_ec2::Client,
    pub asg: aws_sdk_autoscaling::Client,
}

impl Aws {
    pub async fn at(endpoint: &str, region: &str) -> Aws {
        Aws::from_config(sdk_config(endpoint, region).await)
    }

    /// Clients of `config` (e.g. another account's credentials).
    pub fn from_config(config: SdkConfig) -> Aws {
        Aws {
            ec2: aws_sdk_ec2::Client::new(&config),
            asg: aws_sdk_autoscaling::Client::new(&config),
            config,
        }
    }

    /// The shared moto server of this test binary.
    pub async fn moto(region: &str) -> Aws {
        Aws::at(&crate::moto::shared().endpoint(), region).await
    }
}

/// A unique GuardDuty-style finding id (32 hex).
pub fn unique_finding_id() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!("{:016x}{:08x}{:08x}", t, std::process::id(), n)
}

pub struct Network {
    pub region: String,
    pub vpc_id: String,
    pub subnet_a: String,
    pub subnet_b: String,
    pub web_sg: String,
    pub ssh_sg: String,
    pub backend_sg: String,
}

fn tcp(port: i32) -> aws_sdk_ec2::types::builders::IpPermissionBuilder {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
}

/// A VPC with two subnets and three groups with rules (web 443 from anywhere, SSH from the
/// VPC range, backend 8080 from the web group). Each call makes a new VPC, so tests do
/// not share isolation groups unless they mean to.
pub async fn network(aws: &Aws) -> Network {
    let ec2 = &aws.ec2;
    let region = aws
        .config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let vpc_id = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    let subnet = |cidr: &'static str, az: String| {
        let vpc_id = vpc_id.clone();
        async move {
            ec2.create_subnet()
                .vpc_id(vpc_id)
                .cidr_block(cidr)
                .availability_zone(az)
                .send()
                .await
                .expect("CreateSubnet")
                .subnet()
                .and_then(|s| s.subnet_id())
                .expect("subnet id")
                .to_owned()
        }
    };
    let subnet_a = subnet("10.0.1.0/24", format!("{region}a")).await;
    let subnet_b = subnet("10.0.2.0/24", format!("{region}b")).await;
    let group = |name: &'static str| {
        let vpc_id = vpc_id.clone();
        async move {
            ec2.create_security_group()
                .group_name(name)
                .description(name)
                .vpc_id(vpc_id)
                .send()
                .await
                .expect("CreateSecurityGroup")
                .group_id()
                .expect("group id")
                .to_owned()
        }
    };
    let web_sg = group("web-sg").await;
    let ssh_sg = group("ssh-bastion-access").await;
    let backend_sg = group("web-backend-sg").await;
    let rules = [
        (
            &web_sg,
            tcp(443)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        ),
        (
            &ssh_sg,
            tcp(22)
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
                .build(),
        ),
        (
            &backend_sg,
            tcp(8080)
                .user_id_group_pairs(UserIdGroupPair::builder().group_id(&web_sg).build())
                .build(),
        ),
    ];
    for (g, p) in rules {
        ec2.authorize_security_group_ingress()
            .group_id(g)
            .ip_permissions(p)
            .send()
            .await
            .expect("AuthorizeSecurityGroupIngress");
    }
    Network {
        region,
        vpc_id,
        subnet_a,
        subnet_b,
        web_sg,
        ssh_sg,
        backend_sg,
    }
}

/// A sample event from `events/` with the finding id, region, account, instance and its
/// network interfaces rewritten to the world.
pub fn finding_event(
    sample: &str,
    finding_id: &str,
    region: &str,
    instance: &Instance,
    vpc_id: Option<&str>,
) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(sample);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut event: serde_json::Value = serde_json::from_str(&text).expect("sample is JSON");
    event["region"] = region.into();
    let d = &mut event["detail"];
    d["id"] = finding_id.into();
    d["region"] = region.into();
    d["arn"] = format!(
        "arn:aws:guardduty:{region}:123456789012:detector/4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6/finding/{finding_id}"
    )
    .into();
    let details = &mut d["resource"]["instanceDetails"];
    details["instanceId"] = instance.id.clone().into();
    let enis: Vec<serde_json::Value> = instance
        .enis
        .iter()
        .map(|n| {
            serde_json::json!({
                "ipv6Addresses": [],
                "networkInterfaceId": n.id,
                "privateIpAddress": n.private_ip,
                "privateIpAddresses": [{"privateIpAddress": n.private_ip}],
                "securityGroups": n.groups.iter().map(|g| serde_json::json!({"groupId": g, "groupName": "?"})).collect::<Vec<_>>(),
                "subnetId": n.subnet_id,
                "vpcId": vpc_id,
            })
        })
        .collect();
    details["networkInterfaces"] = enis.into();
    serde_json::to_vec(&event).expect("serialises")
}

/// Plans the one finding in `event` with `config`.
pub fn plan(event: &[u8], config: &Config) -> ResponsePlan {
    match plan_input(event, config)
        .expect("the event parses")
        .into_iter()
        .next()
    {
        Some(Handled::Plan(p)) => *p,
        _ => panic!("the event is not a finding"),
    }
}

/// The plan of the event's finding, which must be to contain it.
pub fn contain_plan(event: &[u8], config: &Config) -> ResponsePlan {
    let plan = plan(event, config);
    assert_eq!(
        plan.decision,
        responder::Decision::Contain,
        "{}",
        plan.reason
    );
    plan
}

/// Snapshots tagged with `finding_id` (owned by the account; never an owner-wide listing).
pub async fn evidence_snapshots(aws: &Aws, finding_id: &str) -> Vec<aws_sdk_ec2::types::Snapshot> {
    aws.ec2
        .describe_snapshots()
        .owner_ids("self")
        .filters(
            Filter::builder()
                .name("tag:guardduty-responder:finding-id")
                .values(finding_id)
                .build(),
        )
        .send()
        .await
        .expect("DescribeSnapshots")
        .snapshots()
        .to_vec()
}

/// Security groups of `vpc_id` by name.
pub async fn groups_named(
    aws: &Aws,
    vpc_id: &str,
    name: &str,
) -> Vec<aws_sdk_ec2::types::SecurityGroup> {
    aws.ec2
        .describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
        .filters(Filter::builder().name("group-name").values(name).build())
        .send()
        .await
        .expect("DescribeSecurityGroups")
        .security_groups()
        .to_vec()
}

pub async fn instance_attribute_bool(aws: &Aws, id: &str) -> Option<bool> {
    aws.ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .expect("DescribeInstanceAttribute")
        .disable_api_termination()
        .and_then(|v| v.value())
}

pub async fn shutdown_behavior(aws: &Aws, id: &str) -> Option<String> {
    aws.ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::InstanceInitiatedShutdownBehavior)
        .send()
        .await
        .expect("DescribeInstanceAttribute")
        .instance_initiated_shutdown_behavior()
        .and_then(|v| v.value())
        .map(str::to_owned)
}

/// The instance's tags as a map.
/// Sets one tag on `id`, as anyone allowed `ec2:CreateTags` on it could (the workload's
/// own role included).
pub async fn set_tag(aws: &Aws, id: &str, key: &str, value: &str) {
    aws.ec2
        .create_tags()
        .resources(id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key(key)
                .value(value)
                .build(),
        )
        .send()
        .await
        .expect("CreateTags");
}

pub async fn tags(aws: &Aws, id: &str) -> std::collections::BTreeMap<String, String> {
    describe(aws, id)
        .await
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
        .collect()
}

/// A KMS HMAC key in moto, as `infra/modules/responder/record_mac.tf` creates it for the
/// prior-state record MAC.
pub async fn hmac_key(aws: &Aws) -> String {
    aws_sdk_kms::Client::new(&aws.config)
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .map(|m| m.key_id().to_owned())
        .expect("key id")
}

/// Outcomes one per line, for assertion messages.
pub fn show(outcomes: &[responder::outcome::Outcome]) -> String {
    outcomes
        .iter()
        .map(|o| format!("{} {:?} {}", o.kind.name(), o.status, o.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The responder's revocation policy on `role`, as JSON; `None` when the role has none
/// (any other error fails the test).
pub async fn revocation_policy(iam: &aws_sdk_iam::Client, role: &str) -> Option<serde_json::Value> {
    match iam
        .get_role_policy()
        .role_name(role)
        .policy_name(responder::actions::revocation::REVOKE_POLICY_NAME)
        .send()
        .await
    {
        Ok(o) => Some(
            responder::actions::revocation::policy_document(o.policy_document())
                .unwrap_or_else(|| panic!("not a policy: {}", o.policy_document())),
        ),
        Err(e) => {
            let code = e.as_service_error().and_then(|s| s.meta().code());
            assert_eq!(code, Some("NoSuchEntity"), "{e:?}");
            None
        }
    }
}

/// Moves the revocation on `role` back to a cutoff 13 hours ago: every session it denies
/// has expired, so release may delete it.
pub async fn age_revocation(iam: &aws_sdk_iam::Client, role: &str) {
    let long_ago = (chrono::Utc::now() - chrono::Duration::hours(13))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    iam.put_role_policy()
        .role_name(role)
        .policy_name(responder::actions::revocation::REVOKE_POLICY_NAME)
        .policy_document(responder::actions::revocation::policy(&long_ago))
        .send()
        .await
        .expect("PutRolePolicy");
}
