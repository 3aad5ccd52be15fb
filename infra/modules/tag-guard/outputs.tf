output "policy_id" {
  description = "ID of the service control policy (attach it elsewhere with aws_organizations_policy_attachment)."
  value       = aws_organizations_policy.tag_guard.id
}

output "policy_arn" {
  description = "ARN of the service control policy."
  value       = aws_organizations_policy.tag_guard.arn
}

output "policy_json" {
  description = "The policy document, for review or for a test that evaluates it."
  value       = local.policy
}
