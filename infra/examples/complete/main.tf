# Security (or single) account: the responder. Optionally one member account: the role
# the responder assumes there. Repeat the member module (with its own provider) per
# member account, or deploy ../../modules/member-role through StackSets-like tooling.

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

provider "aws" {
  alias  = "member"
  region = var.region

  dynamic "assume_role" {
    for_each = var.member_account_admin_role_arn == null ? [] : [var.member_account_admin_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "guardduty-responder-deploy"
    }
  }

  default_tags {
    tags = var.tags
  }
}

locals {
  cross_account = var.member_account_admin_role_arn != null
  # Member roles write bundles to the bucket created here (not to an existing one, whose
  # policy is its own account's: docs/evidence.md).
  member_evidence = local.cross_account && var.evidence_from_member_accounts && var.evidence_bucket_arn == null
}

module "responder" {
  source = "../../modules/responder"

  name_prefix                           = var.name_prefix
  lambda_zip_dir                        = var.lambda_zip_dir
  functions                             = var.functions
  mode                                  = var.mode
  responder_config                      = var.responder_config
  protected_namespaces                  = var.protected_namespaces
  max_containments_per_hour             = var.max_containments_per_hour
  eks_cluster_names                     = var.eks_cluster_names
  create_eks_access_entries             = var.create_eks_access_entries
  rate_limit_table_deletion_protection  = var.rate_limit_table_deletion_protection
  idempotency_table_deletion_protection = var.idempotency_table_deletion_protection
  enable_runtime_monitoring             = var.enable_runtime_monitoring
  enable_coverage_schedule              = var.enable_coverage_schedule
  coverage_detector_id                  = var.coverage_detector_id
  coverage_resource_type                = var.coverage_resource_type
  coverage_require_tag                  = var.coverage_require_tag
  enable_test_event_rules               = var.enable_test_event_rules
  cross_account_role_name               = local.cross_account ? var.cross_account_role_name : ""
  cross_account_external_id             = local.cross_account ? var.cross_account_external_id : ""
  organization_id                       = var.organization_id
  revocable_role_arns                   = var.revocable_role_arns
  evidence_bucket_arn                   = var.evidence_bucket_arn
  evidence_object_lock_mode             = var.evidence_object_lock_mode
  evidence_retention_days               = var.evidence_retention_days
  evidence_admin_principal_arns         = var.evidence_admin_principal_arns
  evidence_member_organization          = local.member_evidence
  slack_interactions                    = var.slack_interactions
  enable_reminder                       = var.enable_reminder
  reminder_accounts                     = var.reminder_accounts
  reminder_eks_cluster_names            = var.reminder_eks_cluster_names
  reminder_member_role_name             = "${var.cross_account_role_name}-reader"
}

module "member_role" {
  source = "../../modules/member-role"
  count  = local.cross_account ? 1 : 0

  providers = {
    aws = aws.member
  }

  role_name            = var.cross_account_role_name
  responder_role_arns  = { for s, arn in module.responder.role_arns : s => arn if s != "coverage" }
  organization_id      = var.organization_id
  external_id          = var.cross_account_external_id
  permissions          = module.responder.surface_permissions
  surfaces             = [for s in keys(module.responder.surface_permissions) : s if s != "coverage"]
  revocable_role_arns  = var.revocable_role_arns
  evidence_bucket_arn  = local.member_evidence ? module.responder.evidence_bucket_arn : null
  evidence_kms_key_arn = local.member_evidence ? module.responder.evidence_kms_key_arn : null
  # Slack's buttons act in the member account; the reminder reads its quarantines.
  interactions_role_arn = module.responder.interactions_role_arn
  reader_principal_arn  = module.responder.reminder_role_arn
  reader_role_name      = "${var.cross_account_role_name}-reader"
}
