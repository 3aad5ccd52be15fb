output "statements" {
  description = "IAM policy statements (Allow per scope, plus the PutRolePolicy self-deny) in policy-JSON shape."
  value       = local.statements

  precondition {
    condition     = length(local.unscoped_writes) == 0
    error_message = "Actions with no resource scope in modules/surface-policy that are not Describe/List/Get calls: ${join(", ", local.unscoped_writes)}. Add a scope entry for each."
  }
}

output "json" {
  description = "The statements as a complete IAM policy document."
  value       = jsonencode({ Version = "2012-10-17", Statement = local.statements })

  precondition {
    condition     = length(local.unscoped_writes) == 0
    error_message = "Actions with no resource scope in modules/surface-policy that are not Describe/List/Get calls: ${join(", ", local.unscoped_writes)}. Add a scope entry for each."
  }
}

output "unscoped_actions" {
  description = "Read-only actions granted on \"*\" because AWS offers no resource-level scope for them (or none is needed)."
  value       = local.unscoped
}
