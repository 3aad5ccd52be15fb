//! Credentials for the finding's account. A delegated GuardDuty administrator receives
//! member findings; acting on a member's resources means assuming a role there.

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
    cache: Mutex<HashMap<String, SdkConfig>>,
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
            cache: Mutex::new(HashMap::new()),
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
    pub async fn for_account(
        &self,
        account: &str,
        own_account: Option<&str>,
        partition: &str,
        finding_id: &str,
    ) -> SdkConfig {
        let Some(role) = &self.role_name else {
            return self.base.clone();
        };
        if !crate::validate::is_account_id(account) || own_account == Some(account) {
            return self.base.clone();
        }
        let mut cache = self.cache.lock().await;
        if let Some(config) = cache.get(account) {
            return config.clone();
        }
        let partition = if matches!(partition, "aws" | "aws-cn" | "aws-us-gov") {
            partition
        } else {
            "aws"
        };
        let mut builder =
            AssumeRoleProvider::builder(format!("arn:{partition}:iam::{account}:role/{role}"))
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
        cache.insert(account.to_owned(), config.clone());
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
    #[test]
    fn session_names_are_sts_safe() {
        assert_eq!(super::session_name("ab12<script>"), "guardduty-ab12script");
        assert!(super::session_name(&"f".repeat(200)).len() <= 64);
    }
}
