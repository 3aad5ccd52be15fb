//! Credentials for the finding's account. A delegated GuardDuty administrator receives
//! member findings; acting on a member's resources means assuming a role there.
//!
//! A finding function names its one member role (`<prefix>-<surface>` of its surface,
//! [`Accounts::new`]); a function acting on every surface (the interactions function)
//! names the prefix and assumes the role of the surface it acts on ([`Accounts::per_surface`],
//! [`Accounts::for_surface`]): each member role trusts only the functions of its surface.

use crate::classify::Surface;
use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use std::collections::HashMap;
use tokio::sync::Mutex;

/// SDK configurations per account, cached across warm invocations. The assume-role
/// provider caches its credentials and refreshes them before they expire.
pub struct Accounts {
    base: SdkConfig,
    role_name: Option<String>,
    external_id: Option<String>,
    /// `role_name` is a prefix: the role is `<prefix>-<surface>` ([`surface_role`]).
    per_surface: bool,
    /// By `<account>/<role>`.
    cache: Mutex<HashMap<String, SdkConfig>>,
}

/// The member role of `surface` under `prefix`: `<prefix>-<surface>`, as the member-role
/// Terraform module names them; none for an unknown surface (nothing acts on it).
pub fn surface_role(prefix: &str, surface: Surface) -> Option<String> {
    match surface {
        Surface::Unknown => None,
        s => Some(format!("{prefix}-{}", s.as_str())),
    }
}

/// `arn:<partition>:iam::<account>:role/<role>`; an unknown partition is `aws`.
pub fn role_arn(partition: &str, account: &str, role: &str) -> String {
    let partition = if matches!(partition, "aws" | "aws-cn" | "aws-us-gov") {
        partition
    } else {
        "aws"
    };
    format!("arn:{partition}:iam::{account}:role/{role}")
}

impl Accounts {
    pub fn new(
        base: SdkConfig,
        role_name: Option<String>,
        external_id: Option<String>,
    ) -> Accounts {
        Accounts {
            base,
            role_name,
            external_id,
            per_surface: false,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// For a function acting on every surface: `prefix` is the member roles' common name
    /// (`cross_account_role_name`); [`Accounts::for_surface`] picks the surface's role.
    pub fn per_surface(
        base: SdkConfig,
        prefix: Option<String>,
        external_id: Option<String>,
    ) -> Accounts {
        Accounts {
            per_surface: true,
            ..Accounts::new(base, prefix, external_id)
        }
    }

    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    /// Whether another account can be reached (a role name is configured).
    pub fn assumes_roles(&self) -> bool {
        self.role_name.is_some()
    }

    /// The configuration to act in `account` for `finding_id`: the function's own
    /// credentials for its own account (or when no role is configured), else an assumed role.
    /// A per-surface [`Accounts`] has no single role: it stays on its own credentials here.
    pub async fn for_account(
        &self,
        account: &str,
        own_account: Option<&str>,
        partition: &str,
        finding_id: &str,
    ) -> SdkConfig {
        let role = self.role_for(None);
        self.assume(account, own_account, partition, finding_id, role)
            .await
    }

    /// The configuration to act on a `surface` resource in `account`: the surface's member
    /// role (`<prefix>-<surface>`) when per-surface, else as [`Accounts::for_account`].
    /// `surface` must come from the finding as GuardDuty holds it, never from a request.
    pub async fn for_surface(
        &self,
        account: &str,
        own_account: Option<&str>,
        partition: &str,
        finding_id: &str,
        surface: Surface,
    ) -> SdkConfig {
        let role = self.role_for(Some(surface));
        self.assume(account, own_account, partition, finding_id, role)
            .await
    }

    /// The role name to assume for `surface` (`None`: no surface known, e.g. a finding
    /// function's own). Per-surface without a surface: none, the function's own credentials.
    fn role_for(&self, surface: Option<Surface>) -> Option<String> {
        match (&self.role_name, self.per_surface, surface) {
            (Some(prefix), true, Some(s)) => surface_role(prefix, s),
            (_, true, _) => None,
            (role, false, _) => role.clone(),
        }
    }

    async fn assume(
        &self,
        account: &str,
        own_account: Option<&str>,
        partition: &str,
        finding_id: &str,
        role: Option<String>,
    ) -> SdkConfig {
        let Some(role) = role else {
            return self.base.clone();
        };
        if !crate::validate::is_account_id(account) || own_account == Some(account) {
            return self.base.clone();
        }
        let key = format!("{account}/{role}");
        let mut cache = self.cache.lock().await;
        if let Some(config) = cache.get(&key) {
            return config.clone();
        }
        let mut builder = AssumeRoleProvider::builder(role_arn(partition, account, &role))
            .session_name(session_name(finding_id))
            .configure(&self.base);
        if let Some(id) = &self.external_id {
            builder = builder.external_id(id);
        }
        let provider = builder.build().await;
        let config = self
            .base
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build();
        cache.insert(key, config.clone());
        config
    }
}

/// `guardduty-<finding id>`, limited to the characters and length STS accepts, so
/// CloudTrail in the member account names the finding that opened the session.
pub fn session_name(finding_id: &str) -> String {
    let id: String = finding_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(50)
        .collect();
    format!("guardduty-{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_surface_has_its_own_member_role() {
        let arn = |s| surface_role("gd-member", s).map(|r| role_arn("aws", "210987654321", &r));
        assert_eq!(
            arn(Surface::Ec2).as_deref(),
            Some("arn:aws:iam::210987654321:role/gd-member-ec2")
        );
        assert_eq!(
            arn(Surface::Ecs).as_deref(),
            Some("arn:aws:iam::210987654321:role/gd-member-ecs")
        );
        assert_eq!(
            arn(Surface::Eks).as_deref(),
            Some("arn:aws:iam::210987654321:role/gd-member-eks")
        );
        assert_eq!(
            arn(Surface::Unknown),
            None,
            "no role for an unknown surface"
        );
        assert_eq!(
            role_arn("aws-cn", "210987654321", "r"),
            "arn:aws-cn:iam::210987654321:role/r"
        );
        assert_eq!(
            role_arn("evil:partition", "210987654321", "r"),
            "arn:aws:iam::210987654321:role/r"
        );
    }

    #[test]
    fn a_per_surface_function_assumes_the_findings_surface_role_only() {
        let base = || SdkConfig::builder().build();
        let clicks = Accounts::per_surface(base(), Some("gd-member".into()), None);
        for (surface, want) in [
            (Surface::Ec2, Some("gd-member-ec2")),
            (Surface::Ecs, Some("gd-member-ecs")),
            (Surface::Eks, Some("gd-member-eks")),
            (Surface::Unknown, None),
        ] {
            assert_eq!(clicks.role_for(Some(surface)).as_deref(), want);
        }
        assert_eq!(clicks.role_for(None), None, "no surface, no member role");
        // A finding function's role is already its surface's: used as is.
        let ec2 = Accounts::new(base(), Some("gd-member-ec2".into()), None);
        assert_eq!(
            ec2.role_for(Some(Surface::Ecs)).as_deref(),
            Some("gd-member-ec2")
        );
        assert_eq!(
            Accounts::per_surface(base(), None, None).role_for(Some(Surface::Ec2)),
            None
        );
    }

    #[test]
    fn session_names_are_sts_safe() {
        assert_eq!(super::session_name("ab12<script>"), "guardduty-ab12script");
        assert!(super::session_name(&"f".repeat(200)).len() <= 64);
    }
}
