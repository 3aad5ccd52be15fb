//! The two-step group swap on one ENI, failing closed.
//!
//! Step one moves the ENI into the conversion group, which allows **all** traffic (that is
//! what makes its tracked flows untracked); step two moves it into the no-rules group. An
//! ENI left between the two is more open than before the responder touched it, so when
//! step two fails it is retried once, and if it fails again the ENI is moved back to its
//! prior groups: never left in the conversion group. If the function dies between the
//! steps, the next delivery finds the ENI in the conversion group and finishes the swap.

use super::Clients;
use super::isolation_groups::{IsolationGroups, Role};
use super::observe::{Eni, api_error};

/// `ModifyNetworkInterfaceAttribute` replacing the ENI's groups with `groups`.
pub(crate) async fn set_groups(c: &Clients, eni: &str, groups: &[String]) -> Result<(), String> {
    c.ec2
        .modify_network_interface_attribute()
        .network_interface_id(eni)
        .set_groups(Some(groups.to_vec()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "{eni}: {}",
                api_error("ModifyNetworkInterfaceAttribute", &e)
            )
        })
}

fn in_isolation_groups(eni: &Eni) -> bool {
    !eni.groups.is_empty()
        && eni
            .groups
            .iter()
            .all(|g| g.name.as_deref().and_then(Role::from_name).is_some())
}

/// Pure: the groups to fall back to. The observed groups, unless they are isolation groups
/// (a run that died mid-swap), in which case only the recorded prior groups will do.
pub(crate) fn fallback_groups(eni: &Eni, recorded: Option<&[String]>) -> Option<Vec<String>> {
    if in_isolation_groups(eni) {
        recorded.filter(|r| !r.is_empty()).map(<[String]>::to_vec)
    } else {
        Some(eni.group_ids()).filter(|g| !g.is_empty())
    }
}

/// The two-step swap on one ENI: `Ok(true)` when it moved, `Ok(false)` when it already sat
/// in the no-rules group. `recorded` is the prior groups recorded for it, used when the
/// ENI is found in an isolation group. The no-rules swap is attempted even if the
/// conversion swap failed: new connections are then blocked, only tracked ones may survive.
pub(crate) async fn isolate_eni(
    c: &Clients,
    eni: &Eni,
    g: &IsolationGroups,
    recorded: Option<&[String]>,
) -> Result<bool, String> {
    let ids = eni.group_ids();
    if ids == [g.no_rules.as_str()] {
        return Ok(false);
    }
    let no_rules = [g.no_rules.clone()];
    let was_in_conversion = ids == [g.conversion.as_str()];
    let converted = if was_in_conversion {
        Ok(())
    } else {
        set_groups(c, &eni.id, std::slice::from_ref(&g.conversion)).await
    };
    let mut isolated = set_groups(c, &eni.id, &no_rules).await;
    if let Err(first) = &isolated {
        tracing::warn!(eni = %eni.id, error = %first, "no-rules swap failed; retrying once");
        isolated = set_groups(c, &eni.id, &no_rules)
            .await
            .map_err(|e| format!("{first}; retried: {e}"));
    }
    let failed = match (converted, isolated) {
        (Ok(()), Ok(())) => return Ok(true),
        (Err(e), Ok(())) => {
            return Err(format!(
                "{e} (then moved to the no-rules group, but tracked connections may survive)"
            ));
        }
        // The conversion swap failed too: the ENI is still in its own groups.
        (Err(_), Err(e)) if !was_in_conversion => {
            return Err(format!("{e} (left in its own groups: not isolated)"));
        }
        (_, Err(e)) => e,
    };
    // The ENI sits in the all-traffic conversion group: back to its prior groups.
    let conversion = &g.conversion;
    let Some(prior) = fallback_groups(eni, recorded) else {
        return Err(format!(
            "{failed}; no prior groups recorded to fall back to: it may still be in the \
             all-traffic conversion group {conversion}"
        ));
    };
    match set_groups(c, &eni.id, &prior).await {
        Ok(()) => Err(format!(
            "{failed}; moved back to its prior groups [{}]: not isolated, and not left in the \
             all-traffic conversion group",
            prior.join(", ")
        )),
        Err(e) => Err(format!(
            "{failed}; restoring its prior groups failed too ({e}): it may still be in the \
             all-traffic conversion group {conversion}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::ec2::observe::GroupRef;

    fn eni(groups: &[(&str, &str)]) -> Eni {
        Eni {
            id: "eni-1".into(),
            vpc_id: Some("vpc-1".into()),
            groups: groups
                .iter()
                .map(|(id, name)| GroupRef {
                    id: (*id).into(),
                    name: Some((*name).into()),
                })
                .collect(),
            private_ips: Vec::new(),
        }
    }

    #[test]
    fn falls_back_to_observed_groups_unless_they_are_isolation_groups() {
        let recorded = vec!["sg-web".to_owned()];
        let own = eni(&[("sg-a", "web"), ("sg-b", "ssh")]);
        assert_eq!(
            fallback_groups(&own, Some(&recorded)),
            Some(vec!["sg-a".into(), "sg-b".into()])
        );
        // Found in the conversion group (a run died mid-swap): only the record is trusted.
        let mid = eni(&[("sg-c", Role::Conversion.group_name())]);
        assert_eq!(
            fallback_groups(&mid, Some(&recorded)),
            Some(recorded.clone())
        );
        assert_eq!(fallback_groups(&mid, None), None);
        assert_eq!(fallback_groups(&mid, Some(&[])), None);
    }
}
