//! Instances in the world: launched in its network, with one or two ENIs, an Elastic IP, as spot or Auto Scaling members, and read back.

use super::*;

/// One network interface as the finding names it.
#[derive(Debug, Clone)]
pub struct NetIf {
    pub id: String,
    pub subnet_id: String,
    pub private_ip: String,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub enis: Vec<NetIf>,
}

pub async fn describe(aws: &Aws, id: &str) -> aws_sdk_ec2::types::Instance {
    aws.ec2
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .expect("DescribeInstances")
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .next()
        .cloned()
        .expect("instance")
}

pub(super) async fn net_ifs(aws: &Aws, id: &str) -> Vec<NetIf> {
    let i = describe(aws, id).await;
    let mut enis: Vec<_> = i.network_interfaces().to_vec();
    enis.sort_by_key(|n| n.attachment().and_then(|a| a.device_index()).unwrap_or(0));
    enis.iter()
        .map(|n| NetIf {
            id: n.network_interface_id().unwrap_or_default().to_owned(),
            subnet_id: n.subnet_id().unwrap_or_default().to_owned(),
            private_ip: n.private_ip_address().unwrap_or_default().to_owned(),
            groups: n
                .groups()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_owned))
                .collect(),
        })
        .collect()
}

/// The ENIs that have `group` among their groups.
pub async fn enis_in_group(aws: &Aws, group: &str) -> Vec<String> {
    aws.ec2
        .describe_network_interfaces()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-id")
                .values(group)
                .build(),
        )
        .send()
        .await
        .expect("DescribeNetworkInterfaces")
        .network_interfaces()
        .iter()
        .filter_map(|n| n.network_interface_id().map(str::to_owned))
        .collect()
}

/// The groups of one ENI, straight from DescribeNetworkInterfaces.
pub async fn eni_groups(aws: &Aws, eni: &str) -> Vec<String> {
    aws.ec2
        .describe_network_interfaces()
        .network_interface_ids(eni)
        .send()
        .await
        .expect("DescribeNetworkInterfaces")
        .network_interfaces()
        .iter()
        .flat_map(|n| n.groups())
        .filter_map(|g| g.group_id().map(str::to_owned))
        .collect()
}

pub(super) async fn run_instance(
    aws: &Aws,
    net: &Network,
    groups: &[&String],
    spot: bool,
) -> String {
    // Groups are given on the primary network interface (as launch templates and most
    // tools do), not as instance-level SecurityGroupIds: moto reports instance-level launch
    // groups on every attached ENI forever, whatever the ENI's own groups become.
    let mut req = aws
        .ec2
        .run_instances()
        .image_id(IMAGE_ID)
        .instance_type(InstanceType::M5Large)
        .min_count(1)
        .max_count(1)
        .network_interfaces(
            InstanceNetworkInterfaceSpecification::builder()
                .device_index(0)
                .subnet_id(&net.subnet_a)
                .set_groups(Some(groups.iter().map(|g| (*g).clone()).collect()))
                .build(),
        )
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/sdf")
                .ebs(
                    EbsBlockDevice::builder()
                        .volume_size(8)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        );
    if spot {
        req = req.instance_market_options(
            InstanceMarketOptionsRequest::builder()
                .market_type(MarketType::Spot)
                .build(),
        );
    }
    req.send()
        .await
        .expect("RunInstances")
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .expect("instance id")
        .to_owned()
}

/// An instance with two ENIs: the primary in subnet A with the web and SSH groups, a
/// second in subnet B with the backend group; plus an EBS data volume.
pub async fn two_eni_instance(aws: &Aws, net: &Network) -> Instance {
    let id = run_instance(aws, net, &[&net.web_sg, &net.ssh_sg], false).await;
    let eni = aws
        .ec2
        .create_network_interface()
        .subnet_id(&net.subnet_b)
        .groups(&net.backend_sg)
        .send()
        .await
        .expect("CreateNetworkInterface")
        .network_interface()
        .and_then(|n| n.network_interface_id())
        .expect("eni id")
        .to_owned();
    aws.ec2
        .attach_network_interface()
        .instance_id(&id)
        .network_interface_id(&eni)
        .device_index(1)
        .send()
        .await
        .expect("AttachNetworkInterface");
    Instance {
        enis: net_ifs(aws, &id).await,
        id,
    }
}

/// An instance with one ENI (web group) and an EBS data volume.
pub async fn one_eni_instance(aws: &Aws, net: &Network) -> Instance {
    let id = run_instance(aws, net, &[&net.web_sg], false).await;
    Instance {
        enis: net_ifs(aws, &id).await,
        id,
    }
}

pub async fn spot_instance(aws: &Aws, net: &Network) -> Instance {
    let id = run_instance(aws, net, &[&net.web_sg], true).await;
    Instance {
        enis: net_ifs(aws, &id).await,
        id,
    }
}

/// An instance with an Elastic IP on its primary ENI. Returns it and the allocation id.
pub async fn eip_instance(aws: &Aws, net: &Network) -> (Instance, String) {
    let id = run_instance(aws, net, &[&net.web_sg], false).await;
    let alloc = aws
        .ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .expect("AllocateAddress")
        .allocation_id()
        .expect("allocation id")
        .to_owned();
    aws.ec2
        .associate_address()
        .allocation_id(&alloc)
        .instance_id(&id)
        .send()
        .await
        .expect("AssociateAddress");
    (
        Instance {
            enis: net_ifs(aws, &id).await,
            id,
        },
        alloc,
    )
}

/// An Auto Scaling group `name` (min 1, desired 1, max 3) in subnet A; returns its one
/// instance.
pub async fn asg_member(aws: &Aws, net: &Network, name: &str) -> Instance {
    aws.asg
        .create_launch_configuration()
        .launch_configuration_name(name)
        .image_id(IMAGE_ID)
        .instance_type("m5.large")
        .security_groups(&net.web_sg)
        .send()
        .await
        .expect("CreateLaunchConfiguration");
    aws.asg
        .create_auto_scaling_group()
        .auto_scaling_group_name(name)
        .launch_configuration_name(name)
        .min_size(1)
        .max_size(3)
        .desired_capacity(1)
        .vpc_zone_identifier(&net.subnet_a)
        .send()
        .await
        .expect("CreateAutoScalingGroup");
    let id = asg_instances(aws, name)
        .await
        .into_iter()
        .next()
        .expect("the group launched an instance")
        .0;
    Instance {
        enis: net_ifs(aws, &id).await,
        id,
    }
}

/// `(instance id, lifecycle state)` of every member of group `name`.
pub async fn asg_instances(aws: &Aws, name: &str) -> Vec<(String, String)> {
    aws.asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(name)
        .send()
        .await
        .expect("DescribeAutoScalingGroups")
        .auto_scaling_groups()
        .iter()
        .flat_map(|g| g.instances())
        .map(|i| {
            (
                i.instance_id().unwrap_or_default().to_owned(),
                i.lifecycle_state()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// Gives `instance_id` an instance profile holding a new role `role_name` under `path`
/// (trusting EC2), as the instance's credentials come from IMDS.
pub async fn with_instance_role(aws: &Aws, instance_id: &str, path: &str, role_name: &str) {
    let iam = aws_sdk_iam::Client::new(&aws.config);
    iam.create_role()
        .path(path)
        .role_name(role_name)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .expect("CreateRole");
    let profile = format!("{role_name}-profile");
    let created = iam
        .create_instance_profile()
        .instance_profile_name(&profile)
        .send()
        .await
        .expect("CreateInstanceProfile");
    iam.add_role_to_instance_profile()
        .instance_profile_name(&profile)
        .role_name(role_name)
        .send()
        .await
        .expect("AddRoleToInstanceProfile");
    aws.ec2
        .associate_iam_instance_profile()
        .instance_id(instance_id)
        .iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .arn(created.instance_profile().expect("profile").arn())
                .build(),
        )
        .send()
        .await
        .expect("AssociateIamInstanceProfile");
}
