variable "name" {
  description = "Name of the service control policy."
  type        = string
  default     = "guardduty-responder-tag-guard"
}

variable "protected_tag_keys" {
  description = "Tag key patterns (aws:TagKeys, StringLike) nobody but the allowed roles may create, change or delete: the exemption key (the responder's exempt_tag) and the prior-state records (guardduty-responder:prior*, the ECS task and network-ACL records) share the default prefix. Add the exemption key here if it does not start with guardduty-responder:."
  type        = list(string)
  default     = ["guardduty-responder:*"]

  validation {
    condition     = length(var.protected_tag_keys) > 0 && alltrue([for k in var.protected_tag_keys : length(trimspace(k)) > 0 && k != "*"])
    error_message = "protected_tag_keys must be a non-empty list of key patterns, none of them \"*\"."
  }
}

variable "responder_role_arns" {
  description = "Roles that write the records: the responder functions' execution roles (responder module output role_arns, values(...)) and the member role in every account (e.g. arn:aws:iam::*:role/guardduty-responder-member). ArnLike patterns."
  type        = list(string)

  validation {
    condition     = length(var.responder_role_arns) > 0 && alltrue([for a in var.responder_role_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|\\*):role/[^*]+$", a))])
    error_message = "responder_role_arns must be a non-empty list of IAM role ARNs (the account may be \"*\", the role name may not)."
  }
}

variable "security_admin_role_arns" {
  description = "The named security-admin role(s) that may set or remove exemption tags and clean up records by hand. ArnLike patterns, as responder_role_arns."
  type        = list(string)

  validation {
    condition     = length(var.security_admin_role_arns) > 0 && alltrue([for a in var.security_admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|\\*):role/[^*]+$", a))])
    error_message = "security_admin_role_arns must name at least one IAM role ARN (the account may be \"*\", the role name may not)."
  }
}

variable "target_ids" {
  description = "Organization root, OU or account IDs to attach the policy to (empty: create it only). An SCP never restricts the management account or service-linked roles."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for the policy."
  type        = map(string)
  default     = {}
}
