output "function_arns" {
  description = "Responder functions."
  value       = module.responder.function_arns
}

output "role_arns" {
  description = "Responder execution roles."
  value       = module.responder.role_arns
}

output "sns_topic_arn" {
  description = "Subscribe here."
  value       = module.responder.sns_topic_arn
}

output "slack_secret_arn" {
  description = "Put the Slack webhook URL here."
  value       = module.responder.slack_secret_arn
}

output "dlq_url" {
  description = "Dead-letter queue."
  value       = module.responder.dlq_url
}

output "member_role_arns" {
  description = "Roles created in the member account by surface, if any."
  value       = one(module.member_role[*].role_arns)
}

output "evidence_bucket_arn" {
  description = "Where the evidence bundles go (docs/evidence.md)."
  value       = module.responder.evidence_bucket_arn
}

output "slack_interactions_url" {
  description = "The Slack app's Interactivity Request URL (null while slack_interactions is off)."
  value       = module.responder.slack_interactions_url
}
