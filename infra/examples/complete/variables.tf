variable "region" {
  description = "Region of the responder (GuardDuty findings are regional: deploy once per region)."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "guardduty-responder"
}

variable "lambda_zip_dir" {
  description = "cargo lambda output directory (holds responder-<name>/bootstrap.zip)."
  type        = string
  default     = "../../../target/lambda"
}

variable "functions" {
  description = "Functions to deploy; see the responder module."
  type = object({
    ec2      = optional(object({ enabled = optional(bool, true), reserved_concurrency = optional(number, 5) }), {})
    ecs      = optional(object({ enabled = optional(bool, false), reserved_concurrency = optional(number, 5) }), {})
    eks      = optional(object({ enabled = optional(bool, false), reserved_concurrency = optional(number, 5) }), {})
    coverage = optional(object({ enabled = optional(bool, true), reserved_concurrency = optional(number, 2) }), {})
  })
  default = {}
}

variable "mode" {
  description = "enforce or dry-run."
  type        = string
  default     = "dry-run"
}

variable "responder_config" {
  description = "RESPONDER_CONFIG document (playbook, guardrails, ec2/ecs/eks options)."
  type        = any
  default     = {}
}

variable "protected_namespaces" {
  description = "Kubernetes namespaces never contained (added to kube-system and amazon-guardduty)."
  type        = list(string)
  default     = []
}

variable "max_containments_per_hour" {
  description = "Containments per function per hour before it downgrades to notify-only."
  type        = number
  default     = 10
}

variable "eks_cluster_names" {
  description = "EKS clusters of the responder account that get an access entry."
  type        = list(string)
  default     = []
}

variable "create_eks_access_entries" {
  description = "Create an EKS access entry per eks_cluster_names entry (false where they are managed elsewhere)."
  type        = bool
  default     = true
}

variable "rate_limit_table_deletion_protection" {
  description = "Deletion protection of the rate-limit table (turn off before destroying the deployment)."
  type        = bool
  default     = true
}

variable "enable_runtime_monitoring" {
  description = "Manage the RUNTIME_MONITORING detector feature here."
  type        = bool
  default     = false
}

variable "enable_coverage_schedule" {
  description = "Hourly coverage audit."
  type        = bool
  default     = false
}

variable "coverage_detector_id" {
  description = "Detector the coverage audit reads; null: the region's only detector."
  type        = string
  default     = null
}

variable "coverage_resource_type" {
  description = "Audit only EKS, ECS or EC2 coverage; null: all."
  type        = string
  default     = null
}

variable "coverage_require_tag" {
  description = "Alert only on unhealthy resources carrying this tag ({ key, value }); null: all."
  type = object({
    key   = string
    value = string
  })
  default = null
}

variable "enable_test_event_rules" {
  description = "Accept forged events with source guardduty-responder.test (verification window only)."
  type        = bool
  default     = false
}

variable "member_account_admin_role_arn" {
  description = "Role Terraform assumes to create the member role in one member account (e.g. its OrganizationAccountAccessRole). null: no member account."
  type        = string
  default     = null
}

variable "cross_account_role_name" {
  description = "Name of the role the responder assumes in member accounts."
  type        = string
  default     = "guardduty-responder-member"
}

variable "organization_id" {
  description = "AWS Organizations id (o-...); required with a member account: roles are only assumed inside it."
  type        = string
  default     = null
}

variable "cross_account_external_id" {
  description = "sts:ExternalId the member roles require and the functions send (a random string, e.g. `openssl rand -hex 16`)."
  type        = string
  default     = null
  sensitive   = true

  validation {
    # (RE2 caps a repetition count at 1000: the length is checked apart.)
    condition = var.cross_account_external_id == null || (
      length(coalesce(var.cross_account_external_id, "-")) >= 16 &&
      length(coalesce(var.cross_account_external_id, "-")) <= 1224 &&
      can(regex("^[A-Za-z0-9+=,.@:/-]+$", coalesce(var.cross_account_external_id, "-")))
    )
    error_message = "cross_account_external_id must be 16-1224 characters of A-Za-z0-9+=,.@:/-."
  }
}

variable "revocable_role_arns" {
  description = "Workload role ARN patterns session revocation may write to on every surface (e.g. arn:aws:iam::*:role/workloads/*); empty: revocation off."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default = {
    Project = "guardduty-responder"
  }
}

variable "idempotency_table_deletion_protection" {
  description = "Deletion protection of the idempotency table (turn off before destroying the deployment)."
  type        = bool
  default     = true
}

variable "evidence_bucket_arn" {
  description = "An existing evidence bucket (e.g. in a forensic account) instead of creating one; see docs/evidence.md."
  type        = string
  default     = null
}

variable "evidence_object_lock_mode" {
  description = "Default Object Lock mode of the created evidence bucket: GOVERNANCE or COMPLIANCE."
  type        = string
  default     = "GOVERNANCE"
}

variable "evidence_retention_days" {
  description = "Default Object Lock retention of evidence, in days."
  type        = number
  default     = 365
}

variable "evidence_admin_principal_arns" {
  description = "Break-glass principals exempt from the evidence bucket policy's denials."
  type        = list(string)
  default     = []
}

variable "evidence_from_member_accounts" {
  description = "With a member account: its member roles may put bundles of its containments into the created evidence bucket (under evidence/<member account>/ only). false: a containment there writes no bundle (a failed outcome)."
  type        = bool
  default     = true
}

variable "slack_interactions" {
  description = "Slack's Contain, Release and Acknowledge buttons (the module's slack_interactions): enabled, approvers, releasers (Slack user or user-group ids)."
  type = object({
    enabled   = optional(bool, false)
    approvers = optional(list(string), [])
    releasers = optional(list(string), [])
  })
  default = {}
}

variable "enable_reminder" {
  description = "The quarantine reminder: posts quarantines older than a day to SNS and Slack, each with a Release button."
  type        = bool
  default     = false
}

variable "reminder_accounts" {
  description = "Accounts the reminder reads (this one and the member account); empty: this account only. The member account gets the reminder's read-only role."
  type        = list(string)
  default     = []
}

variable "reminder_eks_cluster_names" {
  description = "EKS clusters the reminder reads (apply infra/kubernetes/reader-rbac.yaml in each)."
  type        = list(string)
  default     = []
}
