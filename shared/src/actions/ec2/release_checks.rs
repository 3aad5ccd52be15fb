//! Pure judges of a prior-state record at release: every id it would restore must be
//! bound to the live instance, and its MAC must verify when a key is configured. Any
//! failed check refuses the whole release before anything is changed (no partial restore):
//! a record rewritten after quarantine must not be able to associate an Elastic IP with
//! someone else's interface, put the instance in another VPC's groups, or attach it to
//! another Auto Scaling group (and so behind another load balancer).

use super::observe::{AsgMember, InstanceView};
use super::prior_state::PriorState;
use super::record_mac::MacVerdict;
use std::collections::BTreeMap;

/// What release looked up about the ids the record names.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveFacts {
    /// VPC of every recorded security group that exists.
    pub group_vpcs: BTreeMap<String, String>,
    /// Whether the recorded Auto Scaling group exists (`None`: none recorded).
    pub asg_exists: Option<bool>,
}

/// The record's MAC judged: `Ok(Some(warning))` to go on with a warning, `Err` to refuse.
pub fn judge_mac(verdict: &MacVerdict) -> Result<Option<String>, String> {
    match verdict {
        MacVerdict::Valid => Ok(None),
        MacVerdict::NotConfigured => Ok(Some(format!(
            "unverified record: no MAC key configured ({}); only its binding to the live resource was checked",
            super::record_mac::KEY_ENV
        ))),
        MacVerdict::Absent => Err(
            "the record carries no MAC although a MAC key is configured: written without the key, by an interrupted quarantine, or rewritten; restore by hand from the quarantine notification's evidence"
                .into(),
        ),
        MacVerdict::Invalid => Err(
            "the record's MAC does not verify: its tags were edited after quarantine, or it was copied from another resource or finding"
                .into(),
        ),
        MacVerdict::Unverifiable(e) => Err(format!("the record's MAC could not be checked: {e}")),
    }
}

/// Every way the record is not bound to the live instance (empty: it is).
pub(crate) fn binding_violations(
    prior: &PriorState,
    view: &InstanceView,
    member: &Result<Option<AsgMember>, String>,
    facts: &LiveFacts,
) -> Vec<String> {
    let mut out = Vec::new();
    for (eni_id, groups) in &prior.network_interfaces {
        // Only attached ENIs are restored; a recorded ENI that is not is left alone.
        let Some(eni) = view.enis.iter().find(|e| &e.id == eni_id) else {
            continue;
        };
        let vpc = eni.vpc_id.as_deref().unwrap_or("?");
        for g in groups {
            match facts.group_vpcs.get(g) {
                None => out.push(format!("{g} (recorded for {eni_id}) does not exist")),
                Some(v) if v != vpc => out.push(format!(
                    "{g} (recorded for {eni_id}) is in {v}, not in the interface's VPC {vpc}"
                )),
                Some(_) => {}
            }
        }
    }
    for e in prior.elastic_ips.iter().flatten() {
        match view.enis.iter().find(|n| n.id == e.network_interface_id) {
            None => out.push(format!(
                "Elastic IP {} is recorded on {}, which is not attached to this instance",
                e.allocation_id, e.network_interface_id
            )),
            Some(n) if !n.private_ips.contains(&e.private_ip) => out.push(format!(
                "Elastic IP {} is recorded on {} {}, which is not an address of that interface",
                e.allocation_id, e.network_interface_id, e.private_ip
            )),
            Some(_) => {}
        }
    }
    if let Some(g) = prior.auto_scaling_group.as_deref() {
        let shown = crate::sanitize::ascii_line(g, 80);
        if facts.asg_exists == Some(false) {
            out.push(format!("Auto Scaling group {shown:?} does not exist"));
        }
        // `aws:` tags are set by AWS and cannot be written by anyone: the group that
        // launched the instance is the one it may go back to.
        if let Some(t) = view.asg_tag.as_deref().filter(|t| *t != g) {
            out.push(format!(
                "the record names Auto Scaling group {shown:?} but the instance was launched by {:?}",
                crate::sanitize::ascii_line(t, 80)
            ));
        }
        if let Ok(Some(m)) = member
            && m.group != g
        {
            out.push(format!(
                "the instance is now a member of {:?}, not of the recorded {shown:?}",
                crate::sanitize::ascii_line(&m.group, 80)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::ec2::observe::{Eni, GroupRef};
    use crate::actions::ec2::prior_state::EipAssociation;

    const ENI: &str = "eni-0123456789abcdef0";
    const VPC: &str = "vpc-0123456789abcdef0";
    const SG: &str = "sg-0123456789abcdef0";

    fn view() -> InstanceView {
        InstanceView {
            id: "i-0123456789abcdef0".into(),
            state: "running".into(),
            spot: false,
            instance_store_root: false,
            asg_tag: Some("web".into()),
            instance_profile_arn: None,
            enis: vec![Eni {
                id: ENI.into(),
                vpc_id: Some(VPC.into()),
                groups: vec![GroupRef {
                    id: "sg-00000000000000001".into(),
                    name: None,
                }],
                private_ips: vec!["10.0.1.5".into()],
            }],
            volumes: vec![],
            tags: BTreeMap::new(),
        }
    }

    fn prior() -> PriorState {
        PriorState {
            network_interfaces: BTreeMap::from([(ENI.into(), vec![SG.into()])]),
            auto_scaling_group: Some("web".into()),
            elastic_ips: Some(vec![EipAssociation {
                allocation_id: "eipalloc-0123456789abcdef0".into(),
                network_interface_id: ENI.into(),
                private_ip: "10.0.1.5".into(),
            }]),
            ..PriorState::default()
        }
    }

    fn facts() -> LiveFacts {
        LiveFacts {
            group_vpcs: BTreeMap::from([(SG.into(), VPC.into())]),
            asg_exists: Some(true),
        }
    }

    fn check(p: &PriorState, f: &LiveFacts, member: Option<&str>) -> Vec<String> {
        let m = Ok(member.map(|g| AsgMember {
            group: g.into(),
            lifecycle_state: "InService".into(),
        }));
        binding_violations(p, &view(), &m, f)
    }

    #[test]
    fn a_record_bound_to_the_instance_passes() {
        assert_eq!(check(&prior(), &facts(), None), Vec::<String>::new());
        assert_eq!(check(&prior(), &facts(), Some("web")), Vec::<String>::new());
    }

    #[test]
    fn an_elastic_ip_on_a_foreign_interface_or_address_is_refused() {
        let mut p = prior();
        p.elastic_ips.as_mut().unwrap()[0].network_interface_id = "eni-0fffffffffffffff0".into();
        let v = check(&p, &facts(), None);
        assert!(v.len() == 1 && v[0].contains("not attached"), "{v:?}");
        let mut p = prior();
        p.elastic_ips.as_mut().unwrap()[0].private_ip = "10.0.9.9".into();
        assert_eq!(check(&p, &facts(), None).len(), 1);
    }

    #[test]
    fn a_group_of_another_vpc_or_none_at_all_is_refused() {
        let mut f = facts();
        f.group_vpcs
            .insert(SG.into(), "vpc-0fffffffffffffff0".into());
        let v = check(&prior(), &f, None);
        assert!(
            v.len() == 1 && v[0].contains("vpc-0fffffffffffffff0"),
            "{v:?}"
        );
        let v = check(&prior(), &LiveFacts::default(), None);
        assert!(v.iter().any(|m| m.contains("does not exist")), "{v:?}");
    }

    #[test]
    fn a_foreign_auto_scaling_group_is_refused() {
        let mut p = prior();
        p.auto_scaling_group = Some("public-web".into());
        let v = check(&p, &facts(), None);
        assert!(v.iter().any(|m| m.contains("launched by")), "{v:?}");
        let v = check(&prior(), &facts(), Some("other"));
        assert!(v.iter().any(|m| m.contains("now a member")), "{v:?}");
        let mut f = facts();
        f.asg_exists = Some(false);
        assert_eq!(check(&prior(), &f, None).len(), 1);
    }

    #[test]
    fn the_mac_decides_only_when_a_key_is_configured() {
        assert_eq!(judge_mac(&MacVerdict::Valid), Ok(None));
        assert!(matches!(judge_mac(&MacVerdict::NotConfigured), Ok(Some(_))));
        assert!(judge_mac(&MacVerdict::Absent).is_err());
        assert!(judge_mac(&MacVerdict::Invalid).is_err());
        assert!(judge_mac(&MacVerdict::Unverifiable("denied".into())).is_err());
    }
}
