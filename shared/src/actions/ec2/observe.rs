//! Reading the instance and its surroundings: the first round trip, issued concurrently.
//! Every SDK answer is turned into plain data here; nothing downstream unwraps AWS data.

use aws_sdk_autoscaling::Client as AsgClient;
use aws_sdk_ec2::Client as Ec2Client;
use aws_sdk_ec2::types::{Filter, InstanceAttributeName, InstanceLifecycleType, InstanceStateName};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::{BTreeMap, BTreeSet};

/// `"<Api>: <Code>: <message>"`, short and printable: outcome details reach channels.
pub(crate) fn api_error<E, R>(api: &str, e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = match (e.code(), e.message()) {
        (Some(c), Some(m)) => format!("{api}: {c}: {m}"),
        (Some(c), None) => format!("{api}: {c}"),
        _ => format!("{api}: {}", DisplayErrorContext(e)),
    };
    crate::sanitize::ascii_line(&text, 300)
}

pub(crate) fn error_code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.code()
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct GroupRef {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Eni {
    pub id: String,
    pub vpc_id: Option<String>,
    pub groups: Vec<GroupRef>,
    /// Its private IPv4 addresses (release binds an Elastic IP to one of them).
    pub private_ips: Vec<String>,
}

impl Eni {
    pub fn group_ids(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.id.clone()).collect()
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Volume {
    pub device_name: String,
    pub volume_id: String,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct InstanceView {
    pub id: String,
    pub state: String,
    pub spot: bool,
    pub instance_store_root: bool,
    pub asg_tag: Option<String>,
    /// The instance profile's ARN: its role is the one session revocation denies.
    pub instance_profile_arn: Option<String>,
    pub enis: Vec<Eni>,
    pub volumes: Vec<Volume>,
    pub tags: BTreeMap<String, String>,
}

impl InstanceView {
    pub fn vpcs(&self) -> BTreeSet<String> {
        self.enis.iter().filter_map(|e| e.vpc_id.clone()).collect()
    }
}

pub(crate) enum Described {
    Found(InstanceView),
    /// Gone, terminated or never existed: nothing to contain.
    NotFound(String),
    Failed(String),
}

pub(crate) fn view_from(i: &aws_sdk_ec2::types::Instance) -> Option<InstanceView> {
    let id = i.instance_id()?.to_owned();
    let enis = i
        .network_interfaces()
        .iter()
        .filter_map(|n| {
            Some(Eni {
                id: n.network_interface_id()?.to_owned(),
                vpc_id: n.vpc_id().or(i.vpc_id()).map(str::to_owned),
                groups: n
                    .groups()
                    .iter()
                    .filter_map(|g| {
                        Some(GroupRef {
                            id: g.group_id()?.to_owned(),
                            name: g.group_name().map(str::to_owned),
                        })
                    })
                    .collect(),
                private_ips: n
                    .private_ip_addresses()
                    .iter()
                    .filter_map(|a| a.private_ip_address().map(str::to_owned))
                    .chain(n.private_ip_address().map(str::to_owned))
                    .collect(),
            })
        })
        .collect();
    let volumes = i
        .block_device_mappings()
        .iter()
        .filter_map(|m| {
            let ebs = m.ebs()?;
            Some(Volume {
                device_name: m.device_name()?.to_owned(),
                volume_id: ebs.volume_id()?.to_owned(),
                delete_on_termination: ebs.delete_on_termination().unwrap_or(false),
            })
        })
        .collect();
    let tags: BTreeMap<String, String> = i
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
        .collect();
    Some(InstanceView {
        id,
        state: i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default(),
        spot: i.instance_lifecycle() == Some(&InstanceLifecycleType::Spot),
        instance_store_root: i.root_device_type().map(|t| t.as_str()) == Some("instance-store"),
        asg_tag: tags.get("aws:autoscaling:groupName").cloned(),
        instance_profile_arn: i
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .map(str::to_owned),
        enis,
        volumes,
        tags,
    })
}

pub(crate) async fn describe_instance(ec2: &Ec2Client, id: &str) -> Described {
    match ec2.describe_instances().instance_ids(id).send().await {
        Ok(out) => {
            let found = out
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .find(|i| i.instance_id() == Some(id));
            // AWS names a missing instance with `InvalidInstanceID.NotFound`: an answer
            // without it (or without its id) is incomplete, e.g. cut short, and is retried
            // rather than taken for "gone".
            let incomplete = || {
                Described::Failed(format!(
                    "DescribeInstances answered without {id}: an incomplete answer"
                ))
            };
            match found {
                None => incomplete(),
                Some(i) => {
                    let gone = matches!(
                        i.state().and_then(|s| s.name()),
                        Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
                    );
                    match view_from(i) {
                        Some(v) if gone => Described::NotFound(format!("not found ({})", v.state)),
                        Some(v) => Described::Found(v),
                        None => incomplete(),
                    }
                }
            }
        }
        Err(e) => match error_code(&e) {
            Some("InvalidInstanceID.NotFound" | "InvalidInstanceID.Malformed") => {
                Described::NotFound("not found".into())
            }
            _ => Described::Failed(api_error("DescribeInstances", &e)),
        },
    }
}

pub(crate) async fn termination_protection(ec2: &Ec2Client, id: &str) -> Result<bool, String> {
    ec2.describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .map_err(|e| api_error("DescribeInstanceAttribute", &e))?
        .disable_api_termination()
        .and_then(|v| v.value())
        .ok_or_else(|| "DescribeInstanceAttribute: no disableApiTermination value".to_owned())
}

pub(crate) async fn shutdown_behavior(ec2: &Ec2Client, id: &str) -> Result<String, String> {
    ec2.describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::InstanceInitiatedShutdownBehavior)
        .send()
        .await
        .map_err(|e| api_error("DescribeInstanceAttribute", &e))?
        .instance_initiated_shutdown_behavior()
        .and_then(|v| v.value())
        .map(str::to_owned)
        .ok_or_else(|| {
            "DescribeInstanceAttribute: no instanceInitiatedShutdownBehavior value".to_owned()
        })
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Eip {
    pub allocation_id: String,
    pub association_id: Option<String>,
    pub public_ip: String,
    pub network_interface_id: Option<String>,
    pub private_ip: Option<String>,
}

fn eips_from(addresses: &[aws_sdk_ec2::types::Address]) -> Vec<Eip> {
    addresses
        .iter()
        .filter_map(|a| {
            Some(Eip {
                allocation_id: a.allocation_id()?.to_owned(),
                association_id: a.association_id().map(str::to_owned),
                public_ip: a.public_ip().unwrap_or("").to_owned(),
                network_interface_id: a.network_interface_id().map(str::to_owned),
                private_ip: a.private_ip_address().map(str::to_owned),
            })
        })
        .collect()
}

/// Elastic IPs associated with the instance.
pub(crate) async fn addresses_of_instance(ec2: &Ec2Client, id: &str) -> Result<Vec<Eip>, String> {
    let out = ec2
        .describe_addresses()
        .filters(Filter::builder().name("instance-id").values(id).build())
        .send()
        .await
        .map_err(|e| api_error("DescribeAddresses", &e))?;
    Ok(eips_from(out.addresses()))
}

/// Elastic IPs by allocation id (release: where are they now?).
pub(crate) async fn addresses_by_allocation(
    ec2: &Ec2Client,
    allocation_ids: &[String],
) -> Result<Vec<Eip>, String> {
    if allocation_ids.is_empty() {
        return Ok(vec![]);
    }
    let out = ec2
        .describe_addresses()
        .set_allocation_ids(Some(allocation_ids.to_vec()))
        .send()
        .await
        .map_err(|e| api_error("DescribeAddresses", &e))?;
    Ok(eips_from(out.addresses()))
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AsgMember {
    pub group: String,
    pub lifecycle_state: String,
}

pub(crate) async fn asg_membership(asg: &AsgClient, id: &str) -> Result<Option<AsgMember>, String> {
    let out = asg
        .describe_auto_scaling_instances()
        .instance_ids(id)
        .send()
        .await
        .map_err(|e| api_error("DescribeAutoScalingInstances", &e))?;
    Ok(out
        .auto_scaling_instances()
        .iter()
        .find(|d| d.instance_id() == Some(id))
        .and_then(|d| {
            Some(AsgMember {
                group: d.auto_scaling_group_name()?.to_owned(),
                lifecycle_state: d.lifecycle_state().unwrap_or("").to_owned(),
            })
        }))
}
