//! IAM actions of the shared handler, granted to every function on top of its executor's
//! (`actions::<surface>::permissions`). Checked against `infra/` by a test.

/// Called by this crate's code, or implied by what it calls.
pub const COMMON_PERMISSIONS: &[&str] = &[
    // notify::sns — publish; the topic is KMS-encrypted, so the publisher needs the key.
    "sns:Publish",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    // notify::secret — the Slack webhook URL, read once per cold start.
    "secretsmanager:GetSecretValue",
    // The on-failure destination of asynchronous invocations is sent with the function's role.
    "sqs:SendMessage",
    // lambda::accounts — cross-account credentials (only granted when a role name is set).
    "sts:AssumeRole",
    // lambda::rate_limit — the containment budgets (one table; its metrics are EMF log lines);
    // idempotency — the exactly-once records (claim, read, complete, drop after a failure).
    "dynamodb:UpdateItem",
    "dynamodb:PutItem",
    "dynamodb:GetItem",
    "dynamodb:DeleteItem",
    // notify::securityhub — the write-back on the finding's Security Hub counterpart
    // (granted while securityhub_write_back is on).
    "securityhub:BatchUpdateFindings",
];

/// Needed only by deployments that configure them; not in the default policy.
pub const OPTIONAL_PERMISSIONS: &[&str] = &[
    // RESPONDER_SLACK_SECRET_ARN naming an SSM SecureString instead of a secret.
    "ssm:GetParameter",
];

/// Conditions on the common actions (`infra/modules/responder/iam.tf` must use exactly
/// these): member roles assumed only in accounts of the deployment's organisation.
pub const COMMON_CONDITIONS: &[crate::actions::iam_conditions::Conditioned] =
    &[crate::actions::iam_conditions::Conditioned {
        action: "sts:AssumeRole",
        statements: &[&[(
            "StringEquals",
            "aws:ResourceOrgID",
            &[crate::actions::iam_conditions::DEPLOYMENT_VALUE],
        )]],
    }];
