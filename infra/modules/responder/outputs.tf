output "function_arns" {
  description = "Lambda function ARNs by name (ec2, ecs, eks, coverage)."
  value       = { for name, fn in aws_lambda_function.this : name => fn.arn }
}

output "function_names" {
  description = "Lambda function names by name."
  value       = { for name, fn in aws_lambda_function.this : name => fn.function_name }
}

output "role_arns" {
  description = "Execution role ARNs by function; give these to ../member-role as responder_role_arns."
  value       = { for name, role in aws_iam_role.function : name => role.arn }
}

output "sns_topic_arn" {
  description = "Notification topic (KMS-encrypted); subscribe to it."
  value       = aws_sns_topic.notifications.arn
}

output "slack_secret_arn" {
  description = "Secret holding the Slack webhook URL; put its value with `aws secretsmanager put-secret-value`."
  value       = aws_secretsmanager_secret.slack_webhook.arn
}

output "dlq_url" {
  description = "Dead-letter queue URL: undelivered events and failed invocations."
  value       = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  description = "Dead-letter queue ARN."
  value       = aws_sqs_queue.dlq.arn
}

output "kms_key_arn" {
  description = "The module's KMS key."
  value       = aws_kms_key.this.arn
}

output "event_rule_arns" {
  description = "EventBridge rule ARNs by function."
  value       = { for name, rule in aws_cloudwatch_event_rule.this : name => rule.arn }
}

output "test_event_rule_arns" {
  description = "Test-source rule ARNs by function (empty unless enable_test_event_rules)."
  value       = { for name, rule in aws_cloudwatch_event_rule.test : name => rule.arn }
}

output "surface_permissions" {
  description = "IAM actions per deployed surface (local.permissions), for ../member-role's permissions variable."
  value       = local.function_permissions
}

output "eks_kubernetes_group" {
  description = "Kubernetes group the eks function's access entries map to (bound in infra/kubernetes/rbac.yaml)."
  value       = local.eks_kubernetes_group
}

output "record_mac_key_arn" {
  description = "The HMAC key of the prior-state records: set RESPONDER_RECORD_MAC_KEY_ID to it when running `responder release`."
  value       = aws_kms_key.record_mac.arn
}

output "evidence_bucket_arn" {
  description = "The evidence bucket the functions write bundles to (RESPONDER_EVIDENCE_BUCKET): created here, or var.evidence_bucket_arn."
  value       = local.evidence_bucket_arn
}

output "evidence_kms_key_arn" {
  description = "The created evidence bucket's KMS key (null with evidence_bucket_arn)."
  value       = try(aws_kms_key.evidence[0].arn, null)
}

output "interactions_role_arn" {
  description = "The interactions function's role (null while slack_interactions is off): give it to ../member-role as interactions_role_arn so Slack's buttons act in member accounts."
  value       = local.interactions ? local.interactions_role_arn : null
}

output "slack_interactions_url" {
  description = "The interactions function's URL: the Slack app's Interactivity Request URL (null while slack_interactions is off)."
  value       = one(aws_lambda_function_url.interactions[*].function_url)
}

output "slack_signing_secret_arn" {
  description = "Put the Slack app's signing secret here (null while slack_interactions is off)."
  value       = one(aws_secretsmanager_secret.slack_signing_secret[*].arn)
}

output "reminder_role_arn" {
  description = "The reminder's role (null while enable_reminder is off): give it to ../member-role as reader_principal_arn so the reminder reads quarantines in member accounts."
  # Built from its name, not read from the role: known at plan, so a member module's count
  # can depend on it in the same apply.
  value = var.enable_reminder ? "arn:${local.partition}:iam::${local.account_id}:role/${local.reminder_name}" : null
}
