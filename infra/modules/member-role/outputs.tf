output "role_arns" {
  description = "ARNs of the member roles by surface."
  value       = { for s, role in aws_iam_role.member : s => role.arn }
}

output "role_names" {
  description = "Names of the member roles by surface: <role_name>-<surface> (role_name is the responder's cross_account_role_name)."
  value       = { for s, role in aws_iam_role.member : s => role.name }
}

output "reader_role_arn" {
  description = "ARN of the reminder's read-only role (null without reader_principal_arn)."
  value       = one(aws_iam_role.reader[*].arn)
}
