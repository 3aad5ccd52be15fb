# Opt-in (reader_principal_arn): a read-only role for the responder's quarantine reminder,
# which lists what the responder has contained in this account (instances, tasks and
# network ACL records carrying its tags; EKS clusters through their endpoint). The
# reminder verifies the records' seals itself, with the responder's record key in its own
# account: this role has no KMS permission and no write.
#
# reader_actions is the reminder's read list (shared/src/inventory/read_aws.rs
# PERMISSIONS) without kms:VerifyMac; tests/tests/iam_policies.rs holds them equal.

locals {
  reader = var.reader_principal_arn == null ? 0 : 1
  reader_actions = [
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkAcls",
    "ecs:ListClusters",
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "eks:DescribeCluster",
  ]
}

data "aws_iam_policy_document" "reader_trust" {
  count = local.reader

  statement {
    sid     = "ReminderAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [var.reader_principal_arn]
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

resource "aws_iam_role" "reader" {
  count = local.reader

  name                 = var.reader_role_name
  description          = "Assumed by the GuardDuty responder's reminder to list the quarantines in this account (read-only)"
  assume_role_policy   = data.aws_iam_policy_document.reader_trust[0].json
  max_session_duration = 3600
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "reader" {
  count = local.reader

  name = "responder-reader"
  role = aws_iam_role.reader[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadTheResponderRecords"
        Effect   = "Allow"
        Action   = [for a in local.reader_actions : a if a != "ecs:DescribeTasks" && a != "eks:DescribeCluster"]
        Resource = ["*"]
      },
      {
        Sid      = "DescribeTasksOfThisAccount"
        Effect   = "Allow"
        Action   = ["ecs:DescribeTasks"]
        Resource = ["arn:${local.partition}:ecs:*:${local.account_id}:task/*"]
      },
      {
        Sid      = "DescribeClustersOfThisAccount"
        Effect   = "Allow"
        Action   = ["eks:DescribeCluster"]
        Resource = ["arn:${local.partition}:eks:*:${local.account_id}:cluster/*"]
      },
    ]
  })
}
