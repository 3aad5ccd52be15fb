//! The GuardDuty sensor's way out of isolation.
//!
//! GuardDuty's Runtime agent sends its telemetry to the `guardduty-data` interface VPC
//! endpoint of the workload's VPC. Isolation that cuts it leaves GuardDuty blind to what
//! the attacker does next, so isolation keeps HTTPS (tcp 443) open to that endpoint, and
//! optionally to the SSM endpoints (`ssm`, `ssmmessages`, `ec2messages`) so responders can
//! still investigate with Session Manager.
//!
//! The opening is the endpoint's ENIs' private addresses (`/32`), not its security groups:
//! an endpoint often shares a group with other resources (the VPC's default group most of
//! all), and a group reference would open 443 to every member of it. The addresses also
//! serve the network-ACL method, which cannot name groups. They change only when the
//! endpoint gains or loses a subnet, and every containment converges to the live ones.
//!
//! Discovery is `DescribeVpcEndpoints` (filtered by VPC and service name), then
//! `DescribeNetworkInterfaces` of the endpoints' ENIs. No endpoint: isolation is total and
//! the outcome says GuardDuty is blind there.

use super::observe::api_error;
use aws_sdk_ec2::Client as Ec2Client;
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange};
use std::collections::{BTreeMap, BTreeSet};

pub const GUARDDUTY_DATA: &str = "guardduty-data";
/// Session Manager needs all three.
pub const SSM_SERVICES: [&str; 3] = ["ssm", "ssmmessages", "ec2messages"];
pub const HTTPS: i32 = 443;

/// An interface endpoint kept reachable from isolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    /// The short service name (`guardduty-data`, `ssm`, …).
    pub service: String,
    /// Private IPv4 addresses of its ENIs.
    pub addresses: Vec<String>,
    /// The subnets of those ENIs (where the network-ACL method opens the way in).
    pub subnets: Vec<String>,
}

/// The endpoints of one VPC that isolation keeps reachable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SensorLink {
    pub vpc_id: String,
    pub endpoints: Vec<Endpoint>,
}

impl SensorLink {
    /// Whether GuardDuty's agent can still send from isolation.
    pub fn guardduty_reachable(&self) -> bool {
        self.endpoints
            .iter()
            .any(|e| e.service == GUARDDUTY_DATA && !e.addresses.is_empty())
    }

    /// The `/32` of every endpoint address, sorted.
    pub fn host_cidrs(&self) -> BTreeSet<String> {
        self.endpoints
            .iter()
            .flat_map(|e| e.addresses.iter())
            .filter_map(|a| a.parse::<std::net::Ipv4Addr>().ok())
            .map(|a| format!("{a}/32"))
            .collect()
    }

    /// The subnets holding the GuardDuty endpoint's addresses, sorted.
    pub fn guardduty_subnets(&self) -> BTreeSet<String> {
        self.endpoints
            .iter()
            .filter(|e| e.service == GUARDDUTY_DATA)
            .flat_map(|e| e.subnets.iter().cloned())
            .collect()
    }

    /// The subnets of every kept endpoint, sorted.
    pub fn subnets(&self) -> BTreeSet<String> {
        self.endpoints
            .iter()
            .flat_map(|e| e.subnets.iter().cloned())
            .collect()
    }

    /// One line for the outcome: what stays open, or that GuardDuty is blind.
    pub fn describe(&self) -> String {
        if !self.guardduty_reachable() {
            return format!(
                "no {GUARDDUTY_DATA} VPC endpoint in {}: isolation is total and GuardDuty is now \
                 blind there (its Runtime agent cannot send)",
                self.vpc_id
            );
        }
        let kept: Vec<String> = self
            .endpoints
            .iter()
            .map(|e| format!("{} {} ({})", e.service, e.id, e.addresses.join(" ")))
            .collect();
        format!(
            "GuardDuty sensor link kept: tcp {HTTPS} to {}",
            kept.join(", ")
        )
    }
}

/// The endpoint service names to keep, in `region`.
pub fn service_names(region: &str, keep_ssm: bool) -> Vec<String> {
    let ssm: &[&str] = if keep_ssm { &SSM_SERVICES } else { &[] };
    std::iter::once(GUARDDUTY_DATA)
        .chain(ssm.iter().copied())
        .map(|s| format!("com.amazonaws.{region}.{s}"))
        .collect()
}

/// Pure: the egress rule the no-rules isolation group holds for `cidrs` (none: no rule).
pub fn egress_permissions(cidrs: &BTreeSet<String>) -> Vec<IpPermission> {
    if cidrs.is_empty() {
        return vec![];
    }
    vec![
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(HTTPS)
            .to_port(HTTPS)
            .set_ip_ranges(Some(
                cidrs
                    .iter()
                    .map(|c| {
                        IpRange::builder()
                            .cidr_ip(c)
                            .description("GuardDuty responder: keep the sensor link")
                            .build()
                    })
                    .collect(),
            ))
            .build(),
    ]
}

/// Finds the endpoints of `vpc_id` to keep reachable (two round trips; one without any).
pub async fn discover(ec2: &Ec2Client, vpc_id: &str, keep_ssm: bool) -> Result<SensorLink, String> {
    let region = ec2
        .config()
        .region()
        .map(|r| r.as_ref().to_owned())
        .unwrap_or_default();
    let out = ec2
        .describe_vpc_endpoints()
        .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
        .filters(
            Filter::builder()
                .name("service-name")
                .set_values(Some(service_names(&region, keep_ssm)))
                .build(),
        )
        .send()
        .await
        .map_err(|e| api_error("DescribeVpcEndpoints", &e))?;
    let usable: Vec<(String, String, Vec<String>)> = out
        .vpc_endpoints()
        .iter()
        .filter(|e| e.vpc_id() == Some(vpc_id))
        .filter(|e| {
            !matches!(
                e.state()
                    .map(|s| s.as_str().to_ascii_lowercase())
                    .as_deref(),
                Some("deleting" | "deleted" | "rejected" | "failed" | "expired")
            )
        })
        .filter_map(|e| {
            let service = e.service_name()?.rsplit('.').next()?.to_owned();
            Some((
                e.vpc_endpoint_id()?.to_owned(),
                service,
                e.network_interface_ids().to_vec(),
            ))
        })
        .collect();
    let enis: Vec<String> = usable.iter().flat_map(|u| u.2.clone()).collect();
    let addresses = if enis.is_empty() {
        vec![]
    } else {
        ec2.describe_network_interfaces()
            .set_network_interface_ids(Some(enis))
            .send()
            .await
            .map_err(|e| api_error("DescribeNetworkInterfaces", &e))?
            .network_interfaces()
            .iter()
            .filter_map(|n| {
                Some((
                    n.network_interface_id()?.to_owned(),
                    n.private_ip_address()?.to_owned(),
                    n.subnet_id().map(str::to_owned),
                ))
            })
            .collect()
    };
    Ok(link_of(vpc_id, usable, &addresses))
}

/// [`discover`] in each VPC, concurrently.
pub async fn discover_all(
    ec2: &Ec2Client,
    vpcs: &BTreeSet<String>,
    keep_ssm: bool,
) -> BTreeMap<String, Result<SensorLink, String>> {
    let found =
        futures::future::join_all(vpcs.iter().map(|v| Box::pin(discover(ec2, v, keep_ssm)))).await;
    vpcs.iter().cloned().zip(found).collect()
}

/// The addresses to keep open in a VPC; none when discovery failed (isolation stays total).
pub fn keep_of(link: Option<&Result<SensorLink, String>>) -> BTreeSet<String> {
    match link {
        Some(Ok(l)) => l.host_cidrs(),
        _ => BTreeSet::new(),
    }
}

/// Pure: appends what each VPC's link is to `detail`; true when GuardDuty's is kept in all.
pub fn notes(links: &BTreeMap<String, Result<SensorLink, String>>, detail: &mut String) -> bool {
    let mut kept = !links.is_empty();
    for (vpc, link) in links {
        let note = match link {
            Ok(l) => {
                kept &= l.guardduty_reachable();
                l.describe()
            }
            Err(e) => {
                kept = false;
                format!(
                    "VPC endpoints of {vpc} not found ({e}): isolation is total and GuardDuty \
                     is now blind there"
                )
            }
        };
        detail.push_str("; ");
        detail.push_str(&note);
    }
    kept
}

/// Pure: endpoints with the addresses of their ENIs, sorted.
fn link_of(
    vpc_id: &str,
    endpoints: Vec<(String, String, Vec<String>)>,
    addresses: &[(String, String, Option<String>)],
) -> SensorLink {
    let mut endpoints: Vec<Endpoint> = endpoints
        .into_iter()
        .map(|(id, service, enis)| {
            let mine = || addresses.iter().filter(|(eni, _, _)| enis.contains(eni));
            let mut a: Vec<String> = mine().map(|(_, ip, _)| ip.clone()).collect();
            a.sort();
            let subnets: BTreeSet<String> = mine().filter_map(|(_, _, s)| s.clone()).collect();
            Endpoint {
                id,
                service,
                addresses: a,
                subnets: subnets.into_iter().collect(),
            }
        })
        .collect();
    endpoints.sort_by(|a, b| (&a.service, &a.id).cmp(&(&b.service, &b.id)));
    SensorLink {
        vpc_id: vpc_id.to_owned(),
        endpoints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> SensorLink {
        link_of(
            "vpc-1",
            vec![
                ("vpce-2".into(), "ssm".into(), vec!["eni-3".into()]),
                (
                    "vpce-1".into(),
                    GUARDDUTY_DATA.into(),
                    vec!["eni-1".into(), "eni-2".into()],
                ),
            ],
            &[
                ("eni-2".into(), "10.0.2.9".into(), Some("subnet-2".into())),
                ("eni-1".into(), "10.0.1.9".into(), Some("subnet-1".into())),
                ("eni-3".into(), "10.0.1.7".into(), Some("subnet-1".into())),
            ],
        )
    }

    #[test]
    fn addresses_belong_to_their_endpoint() {
        let l = link();
        assert!(l.guardduty_reachable());
        assert_eq!(l.endpoints[0].service, GUARDDUTY_DATA);
        assert_eq!(l.endpoints[0].addresses, ["10.0.1.9", "10.0.2.9"]);
        assert_eq!(l.endpoints[0].subnets, ["subnet-1", "subnet-2"]);
        assert_eq!(
            l.guardduty_subnets().into_iter().collect::<Vec<_>>(),
            ["subnet-1", "subnet-2"]
        );
        assert_eq!(l.endpoints[1].subnets, ["subnet-1"]);
        assert_eq!(
            l.host_cidrs().into_iter().collect::<Vec<_>>(),
            ["10.0.1.7/32", "10.0.1.9/32", "10.0.2.9/32"]
        );
        assert!(
            l.describe().contains("vpce-1 (10.0.1.9 10.0.2.9)"),
            "{}",
            l.describe()
        );
    }

    #[test]
    fn without_a_guardduty_endpoint_it_says_blind() {
        let mut l = link();
        l.endpoints.retain(|e| e.service != GUARDDUTY_DATA);
        assert!(!l.guardduty_reachable());
        assert!(
            l.describe().contains("GuardDuty is now blind"),
            "{}",
            l.describe()
        );
        let empty = SensorLink::default();
        assert!(egress_permissions(&empty.host_cidrs()).is_empty());
    }

    #[test]
    fn ssm_services_only_when_asked() {
        assert_eq!(
            service_names("eu-west-1", false),
            ["com.amazonaws.eu-west-1.guardduty-data"]
        );
        assert_eq!(service_names("eu-west-1", true).len(), 4);
        let perms = egress_permissions(&link().host_cidrs());
        assert_eq!(perms.len(), 1);
        assert_eq!(perms[0].from_port(), Some(443));
        assert_eq!(perms[0].ip_ranges().len(), 3);
    }
}
