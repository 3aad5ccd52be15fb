//! Tamper evidence for a task's record: the tags on the task ([`super::record`]) and their
//! second copy on the subnet's network ACL ([`super::acl_record`]). Both can be rewritten
//! by anyone allowed `ecs:TagResource` or `ec2:CreateTags` (credentials stolen before
//! isolation, too), so each is sealed with the KMS HMAC the EC2 record uses
//! ([`record_mac`]), and release refuses a seal that does not verify.
//!
//! A containment run seals exactly the record it trusted (verified, or empty) plus the
//! tags it wrote itself ([`Ledger`]): never tags that someone else added meanwhile, and
//! never an edited record (that one stays unsealed, so release refuses it and a person
//! looks). The status tags are not sealed: they follow the latest finding and steer nothing.

use super::Clients;
use super::acl_record::{self, ACL_TASK_KEY};
use super::network_acl;
use super::record::NaclEntry;
use super::record::is_record_key;
use crate::actions::ec2::record_mac::{self, MAC_KEY, MacVerdict};
use crate::actions::tags::STATUS_KEYS;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// The ACL tag holding the seal of one task's entries there.
pub const ACL_MAC_KEY: &str = "guardduty-responder:task-mac:";

pub fn acl_mac_key(task_id: &str) -> String {
    format!("{ACL_MAC_KEY}{task_id}")
}

/// Record keys the seal covers.
fn is_sealed_key(k: &str) -> bool {
    is_record_key(k) && !STATUS_KEYS.contains(&k) && k != MAC_KEY
}

/// Pure: the message of a task's record, bound to the task's ARN.
pub fn task_message<'a>(
    task_arn: &str,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<u8> {
    record_mac::canonical(
        task_arn,
        "",
        tags.into_iter().filter(|(k, _)| is_sealed_key(k)),
    )
}

/// Pure: the message of a task's entries recorded on an ACL, bound to that ACL and task.
pub fn acl_message(acl_id: &str, task_id: &str, value: &str) -> Vec<u8> {
    record_mac::canonical(acl_id, task_id, [(ACL_TASK_KEY, value)])
}

/// The tags one containment run wrote on its task.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ledger(Arc<Mutex<Writes>>);

#[derive(Clone, Debug, Default)]
struct Writes {
    /// Confirmed by AWS.
    written: Vec<(String, String)>,
    /// Sent, but the answer was an error: they may have landed all the same (a timeout,
    /// a 5xx or a cut-short answer after AWS acted).
    unsure: Vec<(String, String)>,
}

impl Ledger {
    pub(crate) fn add(&self, tags: &[(String, String)]) {
        if let Ok(mut w) = self.0.lock() {
            w.written.extend_from_slice(tags);
        }
    }

    /// A write whose answer was an error.
    pub(crate) fn unsure(&self, tags: &[(String, String)]) {
        if let Ok(mut w) = self.0.lock() {
            w.unsure.extend_from_slice(tags);
        }
    }

    fn writes(&self) -> Writes {
        self.0.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

/// Pure: the unsure writes that landed, as the task's live tags show them (same value).
fn landed(unsure: &[(String, String)], live: &BTreeMap<String, String>) -> Vec<(String, String)> {
    unsure
        .iter()
        .filter(|(k, v)| live.get(k) == Some(v))
        .cloned()
        .collect()
}

/// Checks the seal of the record already on the task (an earlier run's).
pub(crate) async fn verify_task(
    c: &Clients,
    arn: &str,
    tags: &BTreeMap<String, String>,
) -> MacVerdict {
    let message = task_message(arn, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Box::pin(record_mac::verify(
        &c.ec2.kms,
        c.ec2.mac_key.as_deref(),
        message,
        tags.get(MAC_KEY).map(String::as_str),
    ))
    .await
}

/// Checks the seal of a task's entries recorded on an ACL.
pub(crate) async fn verify_acl(
    c: &Clients,
    acl_id: &str,
    task_id: &str,
    value: &str,
    acl_tags: &BTreeMap<String, String>,
) -> MacVerdict {
    Box::pin(record_mac::verify(
        &c.ec2.kms,
        c.ec2.mac_key.as_deref(),
        acl_message(acl_id, task_id, value),
        acl_tags.get(&acl_mac_key(task_id)).map(String::as_str),
    ))
    .await
}

/// The seal tag for a task's entries on an ACL (`None`: no key configured).
pub(crate) async fn acl_seal(
    c: &Clients,
    acl_id: &str,
    task_id: &str,
    value: &str,
) -> Result<Option<(String, String)>, String> {
    let Some(key) = c.ec2.mac_key.as_deref() else {
        return Ok(None);
    };
    let mac = record_mac::generate(&c.ec2.kms, key, acl_message(acl_id, task_id, value)).await?;
    Ok(Some((acl_mac_key(task_id), mac)))
}

/// What sealing found to say, for the task's status step. `trusted` is the verdict on the
/// record that was on the task before this run (`None`: there was none).
pub(crate) async fn seal_task(
    c: &Clients,
    cluster: &str,
    arn: &str,
    before: &BTreeMap<String, String>,
    trusted: Option<&MacVerdict>,
    ledger: &Ledger,
) -> Result<Option<String>, String> {
    let Some(key) = c.ec2.mac_key.as_deref() else {
        return Ok(None);
    };
    let Writes {
        mut written,
        unsure,
    } = ledger.writes();
    if !unsure.is_empty() {
        // Our own write may be there although its answer was lost: seal it if it is there
        // with the value we wrote (an unsealed tag of ours would make release refuse).
        match Box::pin(super::evidence::describe_task(&c.ecs, cluster, arn)).await {
            super::evidence::Described::Found(v) => written.extend(landed(&unsure, &v.tags)),
            _ => {
                return Err(
                    "record left unsealed: the task's tags could not be read again after a \
                     write whose answer was lost; release refuses it until a person checks \
                     the tags"
                        .into(),
                );
            }
        }
    }
    match trusted {
        Some(MacVerdict::Valid) if written.is_empty() => return Ok(None),
        None | Some(MacVerdict::Valid) => {}
        Some(v) => {
            return Err(format!(
                "record left unsealed: {}; release refuses it until a person checks the tags",
                crate::actions::ec2::release_checks::judge_mac(v)
                    .err()
                    .unwrap_or_default()
            ));
        }
    }
    let mut pairs: BTreeMap<&str, &str> = before
        .iter()
        .filter(|(k, _)| is_sealed_key(k))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.extend(written.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mac = record_mac::generate(&c.ec2.kms, key, task_message(arn, pairs)).await?;
    super::tag_task::tag_task(c, arn, &[(MAC_KEY.to_owned(), mac)]).await?;
    Ok(Some("record sealed".into()))
}

/// Writes the task's entries as one tag on the ACL ([`acl_record`]).
pub(crate) async fn record_on_acl(
    c: &Clients,
    acl_id: &str,
    task_id: &str,
    entries: &BTreeSet<NaclEntry>,
) -> Result<(), String> {
    let entries: Vec<NaclEntry> = entries.iter().cloned().collect();
    let (key, value) = acl_record::encode(task_id, &entries).map_err(|e| e.to_string())?;
    let seal = acl_seal(c, acl_id, task_id, &value)
        .await
        .map_err(|e| format!("{e}: entries NOT recorded on {acl_id} (no seal)"))?;
    let tags: Vec<(String, String)> = std::iter::once((key, value)).chain(seal).collect();
    network_acl::tag(&c.ec2.ec2, acl_id, &tags)
        .await
        .map_err(|e| {
            format!(
                "{e}: entries NOT recorded on {acl_id}; release needs the task's own record, \
                 which ECS drops about an hour after the task stops"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef";

    #[test]
    fn the_task_seal_covers_the_record_not_the_status_or_other_tags() {
        let record = [("guardduty-responder:revoked-role", "app")];
        let base = task_message(ARN, record);
        let noise = [
            ("guardduty-responder:revoked-role", "app"),
            ("guardduty-responder:status", "quarantined"),
            (MAC_KEY, "x"),
            ("team", "payments"),
        ];
        assert_eq!(base, task_message(ARN, noise));
        assert_ne!(
            base,
            task_message(ARN, [("guardduty-responder:revoked-role", "b")])
        );
        assert_ne!(base, task_message(&ARN.replace("0123", "9999"), record));
    }

    #[test]
    fn only_unsure_writes_that_landed_with_our_value_are_sealed() {
        let unsure = vec![
            (
                "guardduty-responder:nacl:acl-1:ingress:99".to_owned(),
                "10.0.1.5/32".to_owned(),
            ),
            (
                "guardduty-responder:nacl:acl-1:egress:99".to_owned(),
                "10.0.1.5/32".to_owned(),
            ),
            (
                "guardduty-responder:revoked-role".to_owned(),
                "app".to_owned(),
            ),
        ];
        let live = BTreeMap::from([
            (
                "guardduty-responder:nacl:acl-1:ingress:99".to_owned(),
                "10.0.1.5/32".to_owned(),
            ),
            // Someone else's value under our key: not ours, not sealed.
            (
                "guardduty-responder:nacl:acl-1:egress:99".to_owned(),
                "10.0.0.0/8".to_owned(),
            ),
        ]);
        assert_eq!(landed(&unsure, &live), vec![unsure[0].clone()]);
    }

    #[test]
    fn the_acl_seal_binds_the_acl_and_the_task() {
        let m = acl_message("acl-1", "t1", "i99=10.0.1.5/32");
        assert_ne!(m, acl_message("acl-2", "t1", "i99=10.0.1.5/32"));
        assert_ne!(m, acl_message("acl-1", "t2", "i99=10.0.1.5/32"));
        assert_ne!(m, acl_message("acl-1", "t1", "i98=10.0.1.5/32"));
    }
}
