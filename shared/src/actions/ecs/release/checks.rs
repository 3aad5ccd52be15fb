//! Before release changes anything: the seals of the task's record and of its copies on
//! the network ACLs.

use super::*;

/// The seals of the record on the task and of each copy on an ACL: `Err` refuses (nothing
/// changed yet), `Ok` carries the warnings to show.
pub(super) async fn check_seals(
    c: &Clients,
    task: Option<&TaskView>,
    acls: &[Acl],
    acl_key: &str,
    task_id: &str,
) -> Result<Vec<String>, Vec<String>> {
    let on_task = async {
        match task {
            Some(v) => Some(record_seal::verify_task(c, &v.arn, &v.tags).await),
            None => None,
        }
    };
    let on_acls = futures::future::join_all(acls.iter().filter_map(|a| {
        let value = a.tags.get(acl_key)?;
        Some(async move {
            let verdict = record_seal::verify_acl(c, &a.id, task_id, value, &a.tags).await;
            (a.id.as_str(), verdict)
        })
    }));
    let (on_task, on_acls) = futures::join!(Box::pin(on_task), on_acls);
    let verdicts = on_task
        .map(|v| ("the task".to_owned(), v))
        .into_iter()
        .chain(
            on_acls
                .into_iter()
                .map(|(id, v)| (format!("network ACL {id}"), v)),
        );
    let (mut warnings, mut refusals) = (Vec::new(), Vec::new());
    for (place, verdict) in verdicts {
        match crate::actions::ec2::release_checks::judge_mac(&verdict) {
            Ok(None) => {}
            Ok(Some(w)) if warnings.is_empty() => warnings.push(w),
            Ok(Some(_)) => {}
            Err(why) => refusals.push(format!("record on {place}: {why}")),
        }
    }
    if refusals.is_empty() {
        Ok(warnings)
    } else {
        Err(refusals)
    }
}
