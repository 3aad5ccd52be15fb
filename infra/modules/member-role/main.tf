# Roles in a member account that the responder functions assume to contain resources
# there: one per surface, each trusted only by that surface's function and only from
# inside the organisation (aws:PrincipalOrgID), with an ExternalId when one is set. A
# compromised ec2 function cannot assume the role that may write IAM policies (ecs).
# Opt-in (interactions_role_arn): the Slack interactions function may assume all three,
# under the same conditions, to act on a click in this account.
# Their permissions are the responder's per-surface action lists (passed in from its
# local.permissions), scoped to this account by the shared ../surface-policy module. The
# notification, secret, KMS and DLQ actions stay in the responder account.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  surfaces = [
    for s in var.surfaces : s
    if contains(keys(var.permissions), s) && contains(keys(var.responder_role_arns), s)
  ]
  role_names = { for s in local.surfaces : s => "${var.role_name}-${s}" }
  role_arns  = { for s, n in local.role_names : s => "arn:${local.partition}:iam::${local.account_id}:role/${n}" }
}

data "aws_iam_policy_document" "trust" {
  for_each = toset(local.surfaces)

  statement {
    sid     = "ResponderFunctionAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [var.responder_role_arns[each.key]]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID"
      values   = [var.organization_id]
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

  # Opt-in: the interactions function (Slack's Contain and Release buttons) acts on every
  # surface, so it may assume each surface's role, under the same conditions. It picks the
  # role of the surface of the finding GuardDuty returns, never one named by the click.
  dynamic "statement" {
    for_each = var.interactions_role_arn == null ? [] : [var.interactions_role_arn]
    content {
      sid     = "InteractionsFunctionAssumesRole"
      effect  = "Allow"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "AWS"
        identifiers = [statement.value]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [var.organization_id]
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
}

resource "aws_iam_role" "member" {
  for_each = toset(local.surfaces)

  name                 = local.role_names[each.key]
  description          = "Assumed by the GuardDuty responder's ${each.key} function to contain resources in this account"
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

module "surface_policy" {
  source   = "../surface-policy"
  for_each = toset(local.surfaces)

  surface             = each.key == "eks" && var.eks_node_quarantine ? "eks-node-quarantine" : each.key
  actions             = var.permissions[each.key]
  partition           = local.partition
  account_id          = local.account_id
  region              = var.region
  eks_cluster_names   = var.eks_cluster_names
  revocable_role_arns = var.revocable_role_arns
  protected_role_arns = values(local.role_arns)
  forensic_snapshots  = each.key == "ec2" ? var.forensic_snapshots : null
  volatile_capture    = each.key == "ec2" && var.volatile_capture
  sid_prefix          = upper(each.key)
}

resource "aws_iam_role_policy" "member" {
  for_each = toset(local.surfaces)

  name   = "responder-${each.key}"
  role   = aws_iam_role.member[each.key].id
  policy = module.surface_policy[each.key].json
}

# Evidence bundles of containments in this account (opt-in, docs/evidence.md): put only,
# only under evidence/<this account>/, and the bucket's key only through S3. Exactly the
# writer's evidence::store::PERMISSIONS (tests/tests/iam_policies.rs). No read, list or
# delete; the bucket policy admits these roles to PutObject and denies them the rest.
locals {
  evidence_statements = concat(
    [for bucket in var.evidence_bucket_arn == null ? [] : [var.evidence_bucket_arn] : {
      Sid      = "EvidencePutOnly"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${bucket}/evidence/${local.account_id}/*"]
    }],
    [for key in var.evidence_bucket_arn == null || var.evidence_kms_key_arn == null ? [] : [var.evidence_kms_key_arn] : {
      Sid       = "EvidenceEncryptThroughS3"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey"]
      Resource  = [key]
      Condition = { StringLike = { "kms:ViaService" = "s3.*.amazonaws.com" } }
    }],
  )
}

resource "aws_iam_role_policy" "evidence" {
  # Keyed on the bucket only: the key's ARN may not be known until the responder applies.
  for_each = var.evidence_bucket_arn == null ? toset([]) : toset(local.surfaces)

  name   = "responder-evidence"
  role   = aws_iam_role.member[each.key].id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.evidence_statements })
}
