//! The EC2 instance's part of revocation ([`crate::actions::revocation`]): the role of its
//! instance profile (the credentials IMDS hands out, which an attacker on the instance
//! can copy), recorded on the instance before the policy is written.

use super::Clients;
use super::observe::{InstanceView, api_error};
use crate::actions::revocation::{self, REVOCATION_OFF, is_role_name, revocable, role_name};
use crate::actions::tags::REVOKED_ROLE_KEY;
use crate::outcome::Step;
use aws_sdk_ec2::types::Tag;

/// The instance profile's name from its ARN (`arn:…:iam::<acct>:instance-profile/<path/>name`).
fn profile_name(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    resource
        .strip_prefix("instance-profile/")?
        .rsplit('/')
        .next()
        .filter(|n| is_role_name(n))
}

/// Quarantine step: find the profile's role, record it on the instance, write the policy.
pub(crate) async fn revoke_instance_role(c: &Clients, view: &InstanceView) -> Step {
    if c.revocable_role_arns.is_empty() {
        return Step::skipped(REVOCATION_OFF);
    }
    let Some(arn) = &view.instance_profile_arn else {
        return Step::skipped("the instance has no instance profile");
    };
    let Some(profile) = profile_name(arn) else {
        return Step::failed(format!(
            "unexpected instance profile ARN {:?}",
            crate::sanitize::ascii_line(arn, 120)
        ));
    };
    let role_arn = match c
        .iam
        .get_instance_profile()
        .instance_profile_name(profile)
        .send()
        .await
    {
        // An instance profile holds at most one role.
        Ok(o) => match o.instance_profile().and_then(|p| p.roles().first()) {
            Some(r) => r.arn().to_owned(),
            None => return Step::skipped(format!("instance profile {profile} has no role")),
        },
        Err(e) => return Step::failed(api_error("GetInstanceProfile", &e)),
    };
    if let Err(why) = revocable(&role_arn, &c.revocable_role_arns) {
        return Step::skipped(why);
    }
    let Some(role) = role_name(&role_arn) else {
        return Step::failed(format!(
            "unexpected role ARN {:?}",
            crate::sanitize::ascii_line(&role_arn, 120)
        ));
    };
    let recorded = c
        .ec2
        .create_tags()
        .resources(&view.id)
        .tags(Tag::builder().key(REVOKED_ROLE_KEY).value(role).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| api_error("CreateTags", &e));
    revocation::revoke_role(&c.iam, role, recorded).await
}

#[cfg(test)]
mod tests {
    use super::profile_name;

    #[test]
    fn profile_names_from_arns() {
        let arn = "arn:aws:iam::123456789012:instance-profile/web/web-server";
        assert_eq!(profile_name(arn), Some("web-server"));
        assert_eq!(
            profile_name("arn:aws:iam::123456789012:role/web-server"),
            None
        );
        assert_eq!(
            profile_name("arn:aws:iam::123456789012:instance-profile/a b"),
            None
        );
        assert_eq!(profile_name("nonsense"), None);
    }
}
