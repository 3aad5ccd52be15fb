variable "role_name" {
  description = "Name prefix of the roles (<role_name>-<surface>); the responder's cross_account_role_name must be the same."
  type        = string
  default     = "guardduty-responder-member"
}

variable "responder_role_arns" {
  description = "Execution role ARN of each responder function by surface (the responder module's output role_arns). Each surface's role trusts only its own function."
  type        = map(string)

  validation {
    condition     = length(var.responder_role_arns) > 0 && alltrue([for a in values(var.responder_role_arns) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", a))])
    error_message = "responder_role_arns must be a non-empty map of surface to IAM role ARN."
  }
}

variable "interactions_role_arn" {
  description = "Opt-in: the responder's interactions function role (its output interactions_role_arn), trusted by every surface's role with the same organisation and ExternalId conditions, so Slack's Contain and Release buttons act in this account. null: not trusted."
  type        = string
  default     = null

  validation {
    condition     = var.interactions_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.interactions_role_arn))
    error_message = "interactions_role_arn must be an IAM role ARN."
  }
}

variable "organization_id" {
  description = "AWS Organizations id (o-...) the responder account belongs to: the trust requires aws:PrincipalOrgID."
  type        = string

  validation {
    condition     = can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must look like o-xxxxxxxxxx."
  }
}

variable "external_id" {
  description = "If set, callers must pass this sts:ExternalId (the responder's cross_account_external_id)."
  type        = string
  default     = null
}

variable "permissions" {
  description = "IAM actions per surface: the responder module's output surface_permissions (its local.permissions), so both accounts grant the same lists."
  type        = map(list(string))
}

variable "surfaces" {
  description = "Surfaces to grant in this account (keys of permissions). coverage is not needed here: the audit runs against the administrator's detector."
  type        = list(string)
  default     = ["ec2", "ecs", "eks"]
}

variable "region" {
  description = "Region the permissions are scoped to; \"*\" when responders in several regions assume the role."
  type        = string
  default     = "*"
}

variable "eks_cluster_names" {
  description = "EKS clusters of this account eks:DescribeCluster is limited to (empty: any). Each also needs an access entry for this role and the infra/kubernetes RBAC."
  type        = list(string)
  default     = []
}

variable "revocable_role_arns" {
  description = "Workload role ARN patterns session revocation may write an inline policy on (the responder's revocable_role_arns). Empty: revocation off, iam:PutRolePolicy and iam:GetRole not granted."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "max_session_duration" {
  description = "Maximum session length of the role, in seconds."
  type        = number
  default     = 3600
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for the role."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}

variable "eks_node_quarantine" {
  description = "Set as the responder's responder_config.eks.quarantine_node_instance: the eks role then also runs the EC2 quarantine of a node's instance, with the ec2 role's scoping."
  type        = bool
  default     = false
}

variable "evidence_bucket_arn" {
  description = "Opt-in: the responder's evidence bucket (its output evidence_bucket_arn). Each member role then gets s3:PutObject on <bucket>/evidence/<this account>/* only, so bundles of containments in this account can be written (docs/evidence.md). The bucket's policy must admit these roles too (the responder's evidence_member_account_ids or evidence_member_organization). null: no grant, the bundle is a failed outcome here."
  type        = string
  default     = null

  validation {
    condition     = var.evidence_bucket_arn == null || can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.evidence_bucket_arn, "-")))
    error_message = "evidence_bucket_arn must be a bucket ARN (arn:aws:s3:::name), without a key."
  }
}

variable "evidence_kms_key_arn" {
  description = "With evidence_bucket_arn: the bucket's KMS key (the responder's output evidence_kms_key_arn), on which the member roles get kms:GenerateDataKey through S3 only. null: no KMS grant (an SSE-S3 bucket)."
  type        = string
  default     = null

  validation {
    condition     = var.evidence_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", coalesce(var.evidence_kms_key_arn, "-")))
    error_message = "evidence_kms_key_arn must be a KMS key ARN (arn:aws:kms:region:account:key/id)."
  }
}

variable "forensic_snapshots" {
  description = "The responder's responder_config.ec2.forensic_snapshots ({ account_id, kms_key_arn }): the ec2 role may then copy evidence snapshots re-encrypted with that key and share the copies with that account (docs/evidence.md). null: not granted."
  type = object({
    account_id  = string
    kms_key_arn = string
  })
  default = null
}

variable "reader_principal_arn" {
  description = "Opt-in: the responder's reminder role (its output reminder_role_arn), trusted by a read-only role (reader_role_name) with the same organisation and ExternalId conditions, so the reminder lists the quarantines in this account. null: no reader role."
  type        = string
  default     = null

  validation {
    condition     = var.reader_principal_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.reader_principal_arn))
    error_message = "reader_principal_arn must be an IAM role ARN."
  }
}

variable "reader_role_name" {
  description = "Name of the read-only role (the responder's reminder_member_role_name)."
  type        = string
  default     = "guardduty-responder-reader"
}

variable "volatile_capture" {
  description = "The responder's responder_config.ec2.volatile_capture.enabled: the ec2 role may then run AWS-RunShellScript over SSM on instances the responder has recorded (docs/evidence.md). The instances' own roles need s3:PutObject on the evidence prefix for the output. false: not granted."
  type        = bool
  default     = false
}
