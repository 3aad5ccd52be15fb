variable "surface" {
  description = "Function or surface the actions belong to (ec2, ecs, eks, coverage); selects per-surface scope overrides."
  type        = string
}

variable "actions" {
  description = "IAM actions to grant, e.g. local.permissions[\"ec2\"] of the responder module."
  type        = list(string)
}

variable "partition" {
  description = "AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
}

variable "account_id" {
  description = "Account whose resources the actions are scoped to."
  type        = string
}

variable "region" {
  description = "Region the actions are scoped to, or \"*\" for a role used from several regions."
  type        = string
}

variable "eks_cluster_names" {
  description = "EKS clusters eks:DescribeCluster is limited to; empty means every cluster of the account."
  type        = list(string)
  default     = []
}

variable "revocable_role_arns" {
  description = "Role ARN patterns iam:PutRolePolicy (session revocation of workload roles) may write to, e.g. arn:aws:iam::*:role/workloads/*. Empty: revocation off, iam:PutRolePolicy and iam:GetRole not granted."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition = alltrue([
      for a in var.revocable_role_arns :
      can(regex("^arn:(aws[a-z-]*|\\*):iam::([0-9]{12}|\\*):role/[A-Za-z0-9+=,.@_-]", a))
    ])
    error_message = "revocable_role_arns must be IAM role ARN patterns naming a path or roles (arn:aws:iam::*:role/<path>/*), starting with a literal path or name character (never role/* or role/?...)."
  }
}

variable "protected_role_arns" {
  description = "Roles iam:PutRolePolicy is explicitly denied on (the responder's own roles)."
  type        = list(string)
  default     = []
}

variable "sid_prefix" {
  description = "Prefix of the statement ids (alphanumeric)."
  type        = string
  default     = "Surface"

  validation {
    condition     = can(regex("^[A-Za-z0-9]+$", var.sid_prefix))
    error_message = "sid_prefix must be alphanumeric."
  }
}

variable "record_mac_keys" {
  description = "KMS keys kms:GenerateMac/kms:VerifyMac are limited to (the prior-state record MAC key); null means every key of the account (the key policy still decides)."
  type        = list(string)
  default     = null
}

variable "forensic_snapshots" {
  description = "The responder's responder_config.ec2.forensic_snapshots ({ account_id, kms_key_arn }): evidence snapshots are copied re-encrypted with that key and the copies shared with that account. null: ec2:CopySnapshot, ec2:ModifySnapshotAttribute and ec2:DescribeSnapshotAttribute are not granted."
  type = object({
    account_id  = string
    kms_key_arn = string
  })
  default = null
}

variable "volatile_capture" {
  description = "The responder's responder_config.ec2.volatile_capture.enabled: the role may then run AWS-RunShellScript over SSM on instances the responder has recorded a prior state on (ssm:SendCommand, ssm:GetCommandInvocation). false: neither is granted."
  type        = bool
  default     = false
}
