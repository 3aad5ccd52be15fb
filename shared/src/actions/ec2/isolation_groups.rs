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

pub use super::isolation_rules::{CONVERSION_GROUP_NAME, NO_RULES_GROUP_NAME, ROLE_TAG, Role};
use super::isolation_rules::{RuleFix, all_traffic, apply_fix, plan_fix};
use super::observe::{api_error, error_code};
use aws_sdk_ec2::Client as Ec2Client;
use aws_sdk_ec2::types::{
    Filter, IpPermission, ResourceType, SecurityGroup, Tag, TagSpecification,
};
use std::collections::BTreeSet;

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
