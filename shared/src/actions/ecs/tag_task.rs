//! Writing the responder's tags on a task: every containment record and status goes
//! through here, so the run's ledger knows what was written (and what may have been).

use super::Clients;
use crate::actions::ec2::observe::api_error;

/// Adds tags to the task (`TagResource`).
pub(crate) async fn tag_task(
    c: &Clients,
    arn: &str,
    tags: &[(String, String)],
) -> Result<(), String> {
    if tags.is_empty() {
        return Ok(());
    }
    c.ecs
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| {
            c.ledger.unsure(tags);
            api_error("TagResource", &e)
        })?;
    c.ledger.add(tags);
    Ok(())
}
