//! What each isolation group is ([`Role`]) and the rules it must have: the pure plan of
//! rule changes ([`plan_fix`]) and the calls that apply it. The groups themselves are
//! found and created in [`super::isolation_groups`].

use super::observe::{api_error, error_code};
use super::sensor_link;
use aws_sdk_ec2::Client as Ec2Client;
use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range};
use std::collections::BTreeSet;

pub const CONVERSION_GROUP_NAME: &str = "guardduty-responder-isolation-conversion";
pub const NO_RULES_GROUP_NAME: &str = "guardduty-responder-isolation";
/// Tag on both groups naming their role (`conversion` or `no-rules`).
pub const ROLE_TAG: &str = "guardduty-responder:isolation-group";

pub(super) const ANY_V4: &str = "0.0.0.0/0";
pub(super) const ANY_V6: &str = "::/0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Conversion,
    NoRules,
}

impl Role {
    pub fn group_name(self) -> &'static str {
        match self {
            Role::Conversion => CONVERSION_GROUP_NAME,
            Role::NoRules => NO_RULES_GROUP_NAME,
        }
    }
    pub(super) fn tag_value(self) -> &'static str {
        match self {
            Role::Conversion => "conversion",
            Role::NoRules => "no-rules",
        }
    }
    pub(super) fn description(self) -> &'static str {
        match self {
            Role::Conversion => {
                "GuardDuty responder isolation step 1: all traffic, makes flows untracked. Do not use."
            }
            Role::NoRules => "GuardDuty responder isolation: no rules. Quarantined instances only.",
        }
    }
    pub fn from_name(name: &str) -> Option<Role> {
        match name {
            CONVERSION_GROUP_NAME => Some(Role::Conversion),
            NO_RULES_GROUP_NAME => Some(Role::NoRules),
            _ => None,
        }
    }
}

pub(super) fn all_traffic(v4: bool, v6: bool) -> IpPermission {
    let mut p = IpPermission::builder().ip_protocol("-1");
    if v4 {
        p = p.ip_ranges(IpRange::builder().cidr_ip(ANY_V4).build());
    }
    if v6 {
        p = p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(ANY_V6).build());
    }
    p.build()
}

pub(super) fn allows_all(perms: &[IpPermission], cidr: &str) -> bool {
    perms.iter().any(|p| {
        p.ip_protocol() == Some("-1")
            && (p.ip_ranges().iter().any(|r| r.cidr_ip() == Some(cidr))
                || p.ipv6_ranges().iter().any(|r| r.cidr_ipv6() == Some(cidr)))
    })
}

/// What must change for a group to have exactly its role's rules.
#[derive(Debug, Default, PartialEq)]
pub(super) struct RuleFix {
    pub authorize_ingress: Option<IpPermission>,
    pub authorize_egress: Option<IpPermission>,
    pub revoke_ingress: Vec<IpPermission>,
    pub revoke_egress: Vec<IpPermission>,
}

impl RuleFix {
    pub(super) fn is_empty(&self) -> bool {
        *self == RuleFix::default()
    }
}

/// Pure: the calls that bring `ingress`/`egress` to `role`'s rule set. The no-rules group
/// allows one thing: tcp 443 to `keep`, the VPC's GuardDuty (and SSM) endpoint addresses
/// ([`sensor_link`]).
pub(super) fn plan_fix(
    role: Role,
    ingress: &[IpPermission],
    egress: &[IpPermission],
    keep: &BTreeSet<String>,
) -> RuleFix {
    match role {
        Role::Conversion => {
            let missing = |perms: &[IpPermission]| {
                let (v4, v6) = (!allows_all(perms, ANY_V4), !allows_all(perms, ANY_V6));
                (v4 || v6).then(|| all_traffic(v4, v6))
            };
            RuleFix {
                authorize_ingress: missing(ingress),
                authorize_egress: missing(egress),
                ..RuleFix::default()
            }
        }
        Role::NoRules => {
            let (revoke_egress, present) = egress_beyond(egress, keep);
            let missing: BTreeSet<String> = keep.difference(&present).cloned().collect();
            RuleFix {
                revoke_ingress: ingress.to_vec(),
                revoke_egress,
                authorize_egress: sensor_link::egress_permissions(&missing).pop(),
                ..RuleFix::default()
            }
        }
    }
}

/// Pure: the parts of `egress` beyond tcp 443 to the `keep` addresses (to revoke), and the
/// `keep` addresses already allowed.
fn egress_beyond(
    egress: &[IpPermission],
    keep: &BTreeSet<String>,
) -> (Vec<IpPermission>, BTreeSet<String>) {
    let mut revoke = Vec::new();
    let mut present = BTreeSet::new();
    for p in egress {
        let https = p.ip_protocol() == Some("tcp")
            && p.from_port() == Some(sensor_link::HTTPS)
            && p.to_port() == Some(sensor_link::HTTPS);
        let (kept, other): (Vec<&IpRange>, Vec<&IpRange>) = p
            .ip_ranges()
            .iter()
            .partition(|r| https && r.cidr_ip().is_some_and(|c| keep.contains(c)));
        present.extend(kept.iter().filter_map(|r| r.cidr_ip().map(str::to_owned)));
        if kept.is_empty() {
            revoke.push(p.clone());
            continue;
        }
        let rest = IpPermission::builder()
            .set_ip_protocol(p.ip_protocol().map(str::to_owned))
            .set_from_port(p.from_port())
            .set_to_port(p.to_port())
            .set_ip_ranges(Some(
                other
                    .iter()
                    .map(|r| {
                        IpRange::builder()
                            .set_cidr_ip(r.cidr_ip().map(str::to_owned))
                            .build()
                    })
                    .collect(),
            ))
            .set_ipv6_ranges(Some(p.ipv6_ranges().to_vec()))
            .set_prefix_list_ids(Some(p.prefix_list_ids().to_vec()))
            .set_user_id_group_pairs(Some(p.user_id_group_pairs().to_vec()))
            .build();
        let empty = rest.ip_ranges().is_empty()
            && rest.ipv6_ranges().is_empty()
            && rest.prefix_list_ids().is_empty()
            && rest.user_id_group_pairs().is_empty();
        if !empty {
            revoke.push(rest);
        }
    }
    (revoke, present)
}

/// One rule call of a fix.
#[derive(Clone, Copy)]
enum RuleCall {
    AuthorizeIngress,
    AuthorizeEgress,
    RevokeIngress,
    RevokeEgress,
}

impl RuleCall {
    fn name(self) -> &'static str {
        match self {
            RuleCall::AuthorizeIngress => "AuthorizeSecurityGroupIngress",
            RuleCall::AuthorizeEgress => "AuthorizeSecurityGroupEgress",
            RuleCall::RevokeIngress => "RevokeSecurityGroupIngress",
            RuleCall::RevokeEgress => "RevokeSecurityGroupEgress",
        }
    }
    /// The error code meaning "another invocation got there first".
    fn benign(self) -> &'static str {
        match self {
            RuleCall::AuthorizeIngress | RuleCall::AuthorizeEgress => "InvalidPermission.Duplicate",
            RuleCall::RevokeIngress | RuleCall::RevokeEgress => "InvalidPermission.NotFound",
        }
    }

    async fn send(
        self,
        ec2: &Ec2Client,
        group_id: &str,
        perms: Vec<IpPermission>,
    ) -> Result<(), String> {
        if perms.is_empty() {
            return Ok(());
        }
        let perms = Some(perms);
        // The four builders are distinct types with the same shape.
        macro_rules! call {
            ($op:ident) => {
                ec2.$op()
                    .group_id(group_id)
                    .set_ip_permissions(perms)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        (
                            error_code(&e).map(str::to_owned),
                            api_error(self.name(), &e),
                        )
                    })
            };
        }
        let sent = match self {
            RuleCall::AuthorizeIngress => call!(authorize_security_group_ingress),
            RuleCall::AuthorizeEgress => call!(authorize_security_group_egress),
            RuleCall::RevokeIngress => call!(revoke_security_group_ingress),
            RuleCall::RevokeEgress => call!(revoke_security_group_egress),
        };
        match sent {
            Err((Some(code), _)) if code == self.benign() => Ok(()),
            Err((_, text)) => Err(text),
            Ok(()) => Ok(()),
        }
    }
}

/// Applies a fix concurrently; duplicates and already-revoked rules count as success
/// (another invocation got there first).
pub(super) async fn apply_fix(ec2: &Ec2Client, group_id: &str, fix: RuleFix) -> Result<(), String> {
    let results = futures::future::join_all([
        Box::pin(RuleCall::AuthorizeIngress.send(
            ec2,
            group_id,
            fix.authorize_ingress.into_iter().collect(),
        )),
        Box::pin(RuleCall::AuthorizeEgress.send(
            ec2,
            group_id,
            fix.authorize_egress.into_iter().collect(),
        )),
        Box::pin(RuleCall::RevokeIngress.send(ec2, group_id, fix.revoke_ingress)),
        Box::pin(RuleCall::RevokeEgress.send(ec2, group_id, fix.revoke_egress)),
    ])
    .await;
    let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
