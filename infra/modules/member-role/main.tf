# Role in a member account that the responder functions assume to contain resources
# there. Its permissions are the same per-surface action lists as the functions' own
# roles (passed in from the responder's local.permissions), scoped to this account by
# the shared ../surface-policy module. The notification, secret, KMS and DLQ actions
# stay in the responder account and are not granted here.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  role_arn   = "arn:${local.partition}:iam::${local.account_id}:role/${var.role_name}"
  surfaces   = [for s in var.surfaces : s if contains(keys(var.permissions), s)]
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "ResponderFunctionsAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.responder_role_arns
    }

    dynamic "condition" {
      for_each = var.external_id == null ? [] : [var.external_id]
      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = [condition.value]
      }
    }
  }
}

resource "aws_iam_role" "member" {
  name                 = var.role_name
  description          = "Assumed by the GuardDuty responder to contain resources in this account"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

module "surface_policy" {
  source   = "../surface-policy"
  for_each = toset(local.surfaces)

  surface             = each.key
  actions             = var.permissions[each.key]
  partition           = local.partition
  account_id          = local.account_id
  region              = var.region
  eks_cluster_names   = var.eks_cluster_names
  revocable_role_arns = var.ecs_revocable_role_arns
  protected_role_arns = [local.role_arn]
  sid_prefix          = upper(each.key)
}

resource "aws_iam_role_policy" "member" {
  for_each = toset(local.surfaces)

  name   = "responder-${each.key}"
  role   = aws_iam_role.member.id
  policy = module.surface_policy[each.key].json
}
