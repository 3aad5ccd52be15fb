//! The record of what quarantine changes, written before anything changes: captured from
//! the live instance, judged against an earlier run's (sealed) record, written as tags.

use super::*;

/// A prior-state record found on the instance, judged.
#[derive(Debug, Clone, Copy)]
pub(super) enum Record<'a> {
    None,
    /// Written by an earlier run of ours: kept.
    Ours(&'a PriorState),
    /// Ours but unreadable: left as is, it may be the only copy of the truth.
    OursUnreadable(&'a PriorStateError),
    /// Stale or planted: replaced by the live state.
    Untrusted,
}

/// Pure: whether a record on the instance is ours. It is only if an earlier run got as far
/// as isolating an ENI, or tagged the instance with this finding's id (which nobody knows
/// before GuardDuty publishes it; this also covers a describe that still shows the groups
/// from before). Anyone with `ec2:CreateTags` on the instance can write these tags; on an
/// instance that is not isolated the live state is the truth, and a record there is stale
/// or planted (it would make release restore the planter's groups).
///
/// With a MAC key configured, a record whose MAC does not verify was edited after that run:
/// it is replaced too (release leaves the isolated ENIs as they are: nothing true is known
/// about their groups). One without a MAC (that run has not finished, or did not get to
/// write it) is kept unsigned; release refuses it.
pub(super) fn judge_record<'a>(
    view: &InstanceView,
    finding_tag: &str,
    decoded: &'a Result<Option<PriorState>, PriorStateError>,
    mac: &MacVerdict,
) -> Record<'a> {
    let earlier_run = earlier_run(view, finding_tag);
    match decoded {
        Ok(None) => Record::None,
        Ok(Some(_)) if *mac == MacVerdict::Invalid => Record::Untrusted,
        Ok(Some(p)) if earlier_run => Record::Ours(p),
        Err(e) if earlier_run => Record::OursUnreadable(e),
        _ => Record::Untrusted,
    }
}

/// An earlier run isolated an ENI or tagged the instance with this finding.
pub(super) fn earlier_run(view: &InstanceView, finding_tag: &str) -> bool {
    view.enis.iter().any(already_in_isolation)
        || view
            .tags
            .get(FINDING_ID_KEY)
            .is_some_and(|v| v == finding_tag)
}

/// Records the prior state and, with a key configured, MACs it at the same time (the MAC
/// is written with the finding id by the tag step). Returns the step and the MAC.
#[allow(clippy::too_many_arguments)]
pub(super) async fn record_prior_state(
    c: &Clients,
    view: &InstanceView,
    finding_tag: &str,
    existing: &Record<'_>,
    tp: &Result<bool, String>,
    sb: &Result<String, String>,
    eips: &Result<Vec<Eip>, String>,
    asg: &Result<Option<AsgMember>, String>,
) -> (Step, Option<String>) {
    let replaced = match existing {
        Record::Ours(p) => {
            let mut s = Step::already("prior state recorded by an earlier run");
            s.evidence = serde_json::to_value(p).ok();
            return (s, None);
        }
        Record::OursUnreadable(e) => {
            return (
                Step::failed(format!("{e}; left as is, check the instance's tags")),
                None,
            );
        }
        Record::Untrusted => Some(
            "replaced prior-state tags the responder did not write for this quarantine (stale, planted, or edited after it)",
        ),
        Record::None => None,
    };
    let prior = capture(view, tp, sb, eips, asg);
    let mut gaps = Vec::new();
    if let Err(e) = tp {
        gaps.push(format!("termination protection ({e})"));
    }
    if let Err(e) = sb {
        gaps.push(format!("shutdown behaviour ({e})"));
    }
    if let Err(e) = eips {
        gaps.push(format!("Elastic IPs ({e})"));
    }
    let isolated: Vec<&str> = view
        .enis
        .iter()
        .filter(|e| already_in_isolation(e))
        .map(|e| e.id.as_str())
        .collect();
    if !isolated.is_empty() {
        gaps.push(format!(
            "groups of {} (already in isolation groups)",
            isolated.join(", ")
        ));
    }
    let evidence = serde_json::to_value(&prior).ok();
    let tags = match prior.encode() {
        Ok(t) => t,
        Err(e) => {
            let mut s = Step::failed(format!("{e}; nothing recorded"));
            s.evidence = evidence;
            return (s, None);
        }
    };
    // The finding the record (and its MAC) belongs to.
    let mut tags = tags;
    tags.push((record_mac::FINDING_KEY.to_owned(), finding_tag.to_owned()));
    let n = tags.len();
    // Keys of a replaced record that the new one does not overwrite.
    let stale: Vec<Tag> = view
        .tags
        .iter()
        .filter(|(k, _)| {
            crate::actions::ec2::prior_state::is_prior_key(k)
                && !tags.iter().any(|(new, _)| new == *k)
        })
        .map(|(k, _)| Tag::builder().key(k).build())
        .collect();
    let create = c
        .ec2
        .create_tags()
        .resources(&view.id)
        .set_tags(Some(tags.iter().map(|(k, v)| tag(k, v)).collect()))
        .send();
    let delete = async {
        if stale.is_empty() {
            return Ok(());
        }
        c.ec2
            .delete_tags()
            .resources(&view.id)
            .set_tags(Some(stale))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("DeleteTags", &e))
    };
    let mac = maybe(c.mac_key.is_some(), async {
        let message = record_mac::canonical(
            &view.id,
            finding_tag,
            tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        record_mac::generate(&c.kms, c.mac_key.as_deref().unwrap_or_default(), message).await
    });
    let (sent, deleted, mac) = futures::join!(Box::pin(create), Box::pin(delete), Box::pin(mac));
    if let Err(e) = deleted {
        gaps.push(format!("stale prior-state tags left ({e})"));
    }
    let mac = match mac {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            gaps.push(format!("MAC ({e}): release will refuse this record"));
            None
        }
    };
    let mut s = match sent {
        Err(e) => Step::failed(format!(
            "{} (the prior state is in this outcome's evidence)",
            api_error("CreateTags", &e)
        )),
        Ok(_) if gaps.is_empty() => Step::done(match replaced {
            Some(why) => format!("recorded in {n} instance tags; {why}"),
            None => format!("recorded in {n} instance tags"),
        }),
        // Recorded what could be read; what could not is marked unknown and release leaves
        // it as it finds it. Reported as a failure so the alert says so.
        Ok(_) => Step::failed(format!(
            "recorded in {n} instance tags, except: {}{}",
            gaps.join("; "),
            replaced.map(|why| format!("; {why}")).unwrap_or_default()
        )),
    };
    s.evidence = evidence;
    (s, mac)
}

/// Pure: the prior state from what was observed.
pub(crate) fn capture(
    view: &InstanceView,
    tp: &Result<bool, String>,
    sb: &Result<String, String>,
    eips: &Result<Vec<Eip>, String>,
    asg: &Result<Option<AsgMember>, String>,
) -> PriorState {
    PriorState {
        network_interfaces: view
            .enis
            .iter()
            .filter(|e| !already_in_isolation(e))
            .map(|e| (e.id.clone(), e.group_ids()))
            .collect(),
        termination_protection: tp.as_ref().ok().copied(),
        shutdown_behavior: sb.as_ref().ok().cloned(),
        delete_on_termination: view
            .volumes
            .iter()
            .filter(|v| v.delete_on_termination)
            .map(|v| v.device_name.clone())
            .collect(),
        auto_scaling_group: asg.as_ref().ok().cloned().flatten().map(|m| m.group),
        elastic_ips: eips.as_ref().ok().map(|list| {
            list.iter()
                .filter(|e| e.association_id.is_some())
                .filter_map(|e| {
                    Some(EipAssociation {
                        allocation_id: e.allocation_id.clone(),
                        network_interface_id: e.network_interface_id.clone()?,
                        private_ip: e.private_ip.clone()?,
                    })
                })
                .collect()
        }),
    }
}
