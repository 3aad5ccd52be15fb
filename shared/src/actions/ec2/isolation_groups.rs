//! The two isolation security groups of a VPC, found or created idempotently.
//!
//! * conversion (`guardduty-responder-isolation-conversion`): all traffic in and out from
//!   `0.0.0.0/0` and `::/0`. Moving an ENI here makes its existing flows untracked.
//! * no rules (`guardduty-responder-isolation`): no ingress, default egress revoked. Moving
//!   the ENI here next drops those untracked flows.
//!
//! Group names are unique per VPC, so the name is the race-safe key: two invocations that
//! both create get one `InvalidGroup.Duplicate`, which re-reads the winner's group. For a
//! VPC whose groups this process has not yet seen, [`first_look`] creates them in the same
//! round trip as the lookup (a create that finds them existing costs one harmless
//! `InvalidGroup.Duplicate`), so the first quarantine in a VPC is not a round trip slower
//! than the next. Rules
//! are converged from what was observed on every run (authorise what is missing, revoke
//! what should not be there), so a group half set up by a crashed or racing invocation,
//! or one somebody loosened by hand, is repaired before use.

use super::observe::{api_error, error_code};
use super::sensor_link;
use aws_sdk_ec2::Client as Ec2Client;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, ResourceType, SecurityGroup, Tag, TagSpecification,
};
use std::collections::BTreeSet;

pub const CONVERSION_GROUP_NAME: &str = "guardduty-responder-isolation-conversion";
pub const NO_RULES_GROUP_NAME: &str = "guardduty-responder-isolation";
/// Tag on both groups naming their role (`conversion` or `no-rules`).
pub const ROLE_TAG: &str = "guardduty-responder:isolation-group";

const ANY_V4: &str = "0.0.0.0/0";
const ANY_V6: &str = "::/0";

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
    fn tag_value(self) -> &'static str {
        match self {
            Role::Conversion => "conversion",
            Role::NoRules => "no-rules",
        }
    }
    fn description(self) -> &'static str {
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

/// An isolation group as described.
#[derive(Debug, Clone)]
pub(crate) struct Observed {
    pub id: String,
    pub vpc_id: String,
    pub role: Role,
    pub ingress: Vec<IpPermission>,
    pub egress: Vec<IpPermission>,
}

fn observed_from(g: &SecurityGroup) -> Option<Observed> {
    Some(Observed {
        id: g.group_id()?.to_owned(),
        vpc_id: g.vpc_id()?.to_owned(),
        role: Role::from_name(g.group_name()?)?,
        ingress: g.ip_permissions().to_vec(),
        egress: g.ip_permissions_egress().to_vec(),
    })
}

/// The isolation groups of one VPC, ready to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsolationGroups {
    pub vpc_id: String,
    pub conversion: String,
    pub no_rules: String,
    /// Whether this run created a group or repaired its rules (reported in the outcome).
    pub changed: bool,
}

/// Describes the isolation groups of `vpcs` in one call.
pub(crate) async fn lookup(
    ec2: &Ec2Client,
    vpcs: &BTreeSet<String>,
) -> Result<Vec<Observed>, String> {
    if vpcs.is_empty() {
        return Ok(vec![]);
    }
    let out = ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("vpc-id")
                .set_values(Some(vpcs.iter().cloned().collect()))
                .build(),
        )
        .filters(
            Filter::builder()
                .name("group-name")
                .values(CONVERSION_GROUP_NAME)
                .values(NO_RULES_GROUP_NAME)
                .build(),
        )
        .send()
        .await
        .map_err(|e| api_error("DescribeSecurityGroups", &e))?;
    Ok(out
        .security_groups()
        .iter()
        .filter_map(observed_from)
        .collect())
}

/// A group this run created: its rules are a new group's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Created {
    pub vpc_id: String,
    pub role: Role,
    pub id: String,
}

/// What one round trip learnt about the isolation groups of some VPCs.
#[derive(Debug, Default)]
pub(crate) struct FirstLook {
    pub observed: Vec<Observed>,
    pub created: Vec<Created>,
}

/// VPCs whose isolation groups this process has already found or set up: for them a look
/// is only a lookup. Shared by every executor of the process (a warm Lambda container).
static KNOWN_VPCS: std::sync::Mutex<BTreeSet<String>> = std::sync::Mutex::new(BTreeSet::new());

fn known(vpc: &str) -> bool {
    KNOWN_VPCS.lock().is_ok_and(|k| k.contains(vpc))
}

fn remember(vpc: &str) {
    if let Ok(mut k) = KNOWN_VPCS.lock() {
        k.insert(vpc.to_owned());
    }
}

/// Looks the groups of `vpcs` up and, at the same time, creates both groups in each VPC not
/// known to hold them. Lookup failures are returned; create failures are not (the
/// groups are then created, or the error reported, by [`ensure_looked`]).
pub(crate) async fn first_look(
    ec2: &Ec2Client,
    vpcs: &BTreeSet<String>,
) -> Result<FirstLook, String> {
    let unknown: Vec<(&String, Role)> = vpcs
        .iter()
        .filter(|v| !known(v))
        .flat_map(|v| [(v, Role::Conversion), (v, Role::NoRules)])
        .collect();
    let creates = futures::future::join_all(unknown.into_iter().map(|(vpc, role)| async move {
        match create(ec2, vpc, role).await {
            Ok(Some(id)) => Some(Created {
                vpc_id: vpc.clone(),
                role,
                id,
            }),
            _ => None,
        }
    }));
    let (observed, created) = futures::join!(Box::pin(lookup(ec2, vpcs)), Box::pin(creates));
    let created: Vec<Created> = created.into_iter().flatten().collect();
    match observed {
        Ok(observed) => Ok(FirstLook { observed, created }),
        // Groups just created are still usable; the other VPCs report the error.
        Err(e) if created.is_empty() => Err(e),
        Err(_) => Ok(FirstLook {
            observed: vec![],
            created,
        }),
    }
}

fn all_traffic(v4: bool, v6: bool) -> IpPermission {
    let mut p = IpPermission::builder().ip_protocol("-1");
    if v4 {
        p = p.ip_ranges(IpRange::builder().cidr_ip(ANY_V4).build());
    }
    if v6 {
        p = p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(ANY_V6).build());
    }
    p.build()
}

fn allows_all(perms: &[IpPermission], cidr: &str) -> bool {
    perms.iter().any(|p| {
        p.ip_protocol() == Some("-1")
            && (p.ip_ranges().iter().any(|r| r.cidr_ip() == Some(cidr))
                || p.ipv6_ranges().iter().any(|r| r.cidr_ipv6() == Some(cidr)))
    })
}

/// What must change for a group to have exactly its role's rules.
#[derive(Debug, Default, PartialEq)]
struct RuleFix {
    authorize_ingress: Option<IpPermission>,
    authorize_egress: Option<IpPermission>,
    revoke_ingress: Vec<IpPermission>,
    revoke_egress: Vec<IpPermission>,
}

impl RuleFix {
    fn is_empty(&self) -> bool {
        *self == RuleFix::default()
    }
}

/// Pure: the calls that bring `ingress`/`egress` to `role`'s rule set. The no-rules group
/// allows one thing: tcp 443 to `keep`, the VPC's GuardDuty (and SSM) endpoint addresses
/// ([`sensor_link`]).
fn plan_fix(
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
async fn apply_fix(ec2: &Ec2Client, group_id: &str, fix: RuleFix) -> Result<(), String> {
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

async fn create(ec2: &Ec2Client, vpc_id: &str, role: Role) -> Result<Option<String>, String> {
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::SecurityGroup)
        .tags(Tag::builder().key("Name").value(role.group_name()).build())
        .tags(Tag::builder().key(ROLE_TAG).value(role.tag_value()).build())
        .build();
    match ec2
        .create_security_group()
        .group_name(role.group_name())
        .description(role.description())
        .vpc_id(vpc_id)
        .tag_specifications(tags)
        .send()
        .await
    {
        Ok(out) => out
            .group_id()
            .map(|id| Some(id.to_owned()))
            .ok_or_else(|| "CreateSecurityGroup: no group id returned".to_owned()),
        Err(e) if error_code(&e) == Some("InvalidGroup.Duplicate") => Ok(None),
        Err(e) => Err(api_error("CreateSecurityGroup", &e)),
    }
}

/// A freshly created group has no ingress and the default allow-all IPv4 egress (plus
/// IPv6 egress in some VPCs, which revoking tolerates being absent).
fn fresh_rules() -> (Vec<IpPermission>, Vec<IpPermission>) {
    (vec![], vec![all_traffic(true, false)])
}

/// Gives a group this run created its role's rules.
async fn converge_fresh(
    ec2: &Ec2Client,
    id: &str,
    role: Role,
    keep: &BTreeSet<String>,
) -> Result<(), String> {
    let (ingress, egress) = fresh_rules();
    let fix = plan_fix(role, &ingress, &egress, keep);
    if role == Role::NoRules {
        // Revoked in its own call so a VPC without the IPv6 default rule cannot fail the
        // IPv4 revoke.
        let v6 = RuleFix {
            revoke_egress: vec![all_traffic(false, true)],
            ..RuleFix::default()
        };
        let (a, b) = futures::join!(
            Box::pin(apply_fix(ec2, id, fix)),
            Box::pin(apply_fix(ec2, id, v6))
        );
        a.and(b)
    } else {
        // Ingress and egress are separate calls; an IPv6 egress rule the VPC added by
        // itself comes back as a tolerated duplicate.
        apply_fix(ec2, id, fix).await
    }
}

async fn converge_observed(
    ec2: &Ec2Client,
    o: &Observed,
    keep: &BTreeSet<String>,
) -> Result<(String, bool), String> {
    let fix = plan_fix(o.role, &o.ingress, &o.egress, keep);
    let changed = !fix.is_empty();
    apply_fix(ec2, &o.id, fix).await?;
    Ok((o.id.clone(), changed))
}

async fn ensure_one(
    ec2: &Ec2Client,
    vpc_id: &str,
    role: Role,
    look: &FirstLook,
    keep: &BTreeSet<String>,
) -> Result<(String, bool), String> {
    if let Some(c) = look
        .created
        .iter()
        .find(|c| c.role == role && c.vpc_id == vpc_id)
    {
        converge_fresh(ec2, &c.id, role, keep).await?;
        return Ok((c.id.clone(), true));
    }
    if let Some(o) = look
        .observed
        .iter()
        .find(|o| o.role == role && o.vpc_id == vpc_id)
    {
        return converge_observed(ec2, o, keep).await;
    }
    match create(ec2, vpc_id, role).await? {
        Some(id) => {
            converge_fresh(ec2, &id, role, keep).await?;
            Ok((id, true))
        }
        None => {
            // Lost a race (or a concurrent invocation is setting it up): use the winner's
            // group and converge its rules ourselves.
            let vpcs = BTreeSet::from([vpc_id.to_owned()]);
            let found = lookup(ec2, &vpcs).await?;
            let o = found
                .iter()
                .find(|o| o.role == role && o.vpc_id == vpc_id)
                .ok_or_else(|| {
                    format!(
                        "CreateSecurityGroup reported {} as existing, but it cannot be found",
                        role.group_name()
                    )
                })?;
            converge_observed(ec2, o, keep).await
        }
    }
}

/// Finds or creates both groups of `vpc_id` (concurrently), using `observed` from an
/// earlier lookup when it has them, and converges their rules.
pub(crate) async fn ensure(
    ec2: &Ec2Client,
    vpc_id: &str,
    observed: &[Observed],
    keep: &BTreeSet<String>,
) -> Result<IsolationGroups, String> {
    let look = FirstLook {
        observed: observed.to_vec(),
        created: vec![],
    };
    ensure_looked(ec2, vpc_id, &look, keep).await
}

/// [`ensure`] after a [`first_look`]: groups it created are only given their rules.
pub(crate) async fn ensure_looked(
    ec2: &Ec2Client,
    vpc_id: &str,
    look: &FirstLook,
    keep: &BTreeSet<String>,
) -> Result<IsolationGroups, String> {
    let (conv, none) = futures::join!(
        Box::pin(ensure_one(ec2, vpc_id, Role::Conversion, look, keep)),
        Box::pin(ensure_one(ec2, vpc_id, Role::NoRules, look, keep)),
    );
    match (conv, none) {
        (Ok((conversion, c1)), Ok((no_rules, c2))) => {
            remember(vpc_id);
            Ok(IsolationGroups {
                vpc_id: vpc_id.to_owned(),
                conversion,
                no_rules,
                changed: c1 || c2,
            })
        }
        (Err(a), Err(b)) => Err(format!("{a}; {b}")),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

#[cfg(test)]
#[path = "isolation_groups_tests.rs"]
mod tests;
