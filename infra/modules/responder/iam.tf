# One role per function. Its policy grants exactly local.permissions[<name>] (scoped by
# ../surface-policy) plus local.common_permissions (scoped below), and the Lambda
# runtime's own logs/X-Ray needs. Nothing is granted with a "*" action.

data "aws_iam_policy_document" "assume_lambda" {
  # The functions' roles, and the interactions (interactions.tf) and reminder (reminder.tf)
  # functions'.
  for_each = merge(
    local.function_names,
    local.interactions ? { interactions = local.interactions_name } : {},
    local.reminder == 1 ? { reminder = local.reminder_name } : {},
  )

  statement {
    sid     = "LambdaAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      # The ec2 role also runs the forensic snapshot follow-up (snapshot_rule.tf).
      values = [
        for fn in concat([each.value], each.key == "ec2" && local.snapshot_follow_up ? ["${each.value}-snapshots"] : []) :
        "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${fn}"
      ]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = local.functions

  name                 = local.function_names[each.key]
  description          = "GuardDuty responder ${each.key} function"
  assume_role_policy   = data.aws_iam_policy_document.assume_lambda[each.key].json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

locals {
  # eks.quarantine_node_instance: the eks function also runs the EC2 quarantine of a node
  # whose pod no NetworkPolicy holds, so it gets the ec2 function's actions, scoped as the
  # ec2 function's (not the eks-only "termination protection on" scope).
  eks_node_quarantine = try(var.responder_config.eks.quarantine_node_instance, false)
  # ec2.forensic_snapshots: the ec2 function may copy and share evidence snapshots.
  forensic_snapshots = try(var.responder_config.ec2.forensic_snapshots, null)
  # ec2.volatile_capture: the ec2 function may run AWS-RunShellScript on recorded instances.
  volatile_capture = try(var.responder_config.ec2.volatile_capture.enabled, false) == true
  function_permissions = {
    for name in keys(local.functions) : name => (
      name == "eks" && local.eks_node_quarantine
      ? distinct(concat(local.permissions.eks, local.permissions.ec2))
      : local.permissions[name]
    )
  }
}

module "surface_policy" {
  source   = "../surface-policy"
  for_each = local.functions

  surface           = each.key == "eks" && local.eks_node_quarantine ? "eks-node-quarantine" : each.key
  actions           = local.function_permissions[each.key]
  partition         = local.partition
  account_id        = local.account_id
  region            = local.region
  eks_cluster_names = var.eks_cluster_names
  record_mac_keys   = [aws_kms_key.record_mac.arn]
  # Only the ec2 function shares snapshots (a node quarantine does not).
  forensic_snapshots = each.key == "ec2" ? local.forensic_snapshots : null
  volatile_capture   = each.key == "ec2" && local.volatile_capture
  # Session revocation may never target the responder's own roles.
  revocable_role_arns = var.revocable_role_arns
  protected_role_arns = concat(
    ["arn:${local.partition}:iam::${local.account_id}:role/${var.name_prefix}-*"],
    local.cross_account ? ["arn:${local.partition}:iam::${local.account_id}:role/${var.cross_account_role_name}-*"] : [],
  )
  sid_prefix = "Surface"
}

locals {
  # Scope of each common action: { resources, condition }. Every entry of
  # local.common_permissions must have one (plan fails on a missing key).
  common_scope = {
    "sns:Publish"                   = { resources = [aws_sns_topic.notifications.arn], condition = {} }
    "secretsmanager:GetSecretValue" = { resources = concat([aws_secretsmanager_secret.slack_webhook.arn], aws_secretsmanager_secret.json_webhook[*].arn), condition = {} }
    "kms:Decrypt"                   = { resources = [aws_kms_key.this.arn], condition = {} }
    "kms:GenerateDataKey"           = { resources = [aws_kms_key.this.arn], condition = {} }
    "sqs:SendMessage"               = { resources = [aws_sqs_queue.dlq.arn], condition = {} }
    # Resources per function (its own surface's member role), see common_statements.
    "sts:AssumeRole"      = { resources = [], condition = { StringEquals = { "aws:ResourceOrgID" = [var.organization_id] } } }
    "dynamodb:UpdateItem" = { resources = [aws_dynamodb_table.rate_limit.arn, aws_dynamodb_table.idempotency.arn], condition = {} }
    "dynamodb:PutItem"    = { resources = [aws_dynamodb_table.idempotency.arn], condition = {} }
    "dynamodb:GetItem"    = { resources = [aws_dynamodb_table.idempotency.arn], condition = {} }
    "dynamodb:DeleteItem" = { resources = [aws_dynamodb_table.idempotency.arn], condition = {} }
    # The account's hub in any region: a finding is written back where GuardDuty found it.
    "securityhub:BatchUpdateFindings" = { resources = ["arn:${local.partition}:securityhub:*:${local.account_id}:hub/default"], condition = {} }
  }

  # sts:AssumeRole only for functions that act in member accounts, on their surface's role
  # in any account of the organisation.
  common_actions = {
    for name in keys(local.functions) : name => [
      for act in local.common_permissions : act
      if(act != "sts:AssumeRole" || local.member_role_names[name] != "")
      && (act != "securityhub:BatchUpdateFindings" || (var.securityhub_write_back && name != "coverage"))
    ]
  }

  common_statements = {
    for name in keys(local.functions) : name => [
      for act in local.common_actions[name] : merge(
        {
          Sid      = "Common${replace(title(replace(act, ":", " ")), " ", "")}"
          Effect   = "Allow"
          Action   = [act]
          Resource = act == "sts:AssumeRole" ? ["arn:${local.partition}:iam::*:role/${local.member_role_names[name]}"] : local.common_scope[act].resources
        },
        { for k, v in { Condition = local.common_scope[act].condition } : k => v if length(v) > 0 },
      )
    ]
  }

  runtime_statements = {
    for name in keys(local.functions) : name => concat([
      {
        Sid      = "RuntimeLogsToOwnLogGroup"
        Effect   = "Allow"
        Action   = [for a in local.runtime_permissions : a if startswith(a, "logs:")]
        Resource = ["${local.log_group_arns[name]}:*"]
      },
      {
        Sid      = "RuntimeXRayTracing" # X-Ray write calls have no resource type.
        Effect   = "Allow"
        Action   = [for a in local.runtime_permissions : a if startswith(a, "xray:")]
        Resource = ["*"]
      },
    ], name == "eks" && var.eks_vpc_config != null ? local.vpc_runtime_statements : [])
  }

  # The eks function in a VPC (eks_vpc_config): its ENIs, in its own subnets and groups.
  vpc_runtime_statements = [
    {
      Sid      = "RuntimeVpcDescribe" # Describe calls have no resource type.
      Effect   = "Allow"
      Action   = [for a in local.runtime_permissions : a if startswith(a, "ec2:Describe")]
      Resource = ["*"]
    },
    {
      Sid    = "RuntimeVpcNetworkInterfaces"
      Effect = "Allow"
      Action = [for a in local.runtime_permissions : a if startswith(a, "ec2:") && !startswith(a, "ec2:Describe")]
      Resource = concat(
        ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"],
        [for s in try(var.eks_vpc_config.subnet_ids, []) : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${s}"],
        [for g in try(var.eks_vpc_config.security_group_ids, []) : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${g}"],
      )
    },
  ]

  # Evidence bundles (evidence.tf): put only, only under evidence/, and the bucket's KMS
  # key only through S3: exactly evidence::store::PERMISSIONS (tests/tests/iam_policies.rs),
  # to the functions that write bundles (evidence_writers).
  # Both empty when no bucket exists (no containing function): nothing writes evidence.
  evidence_statements = concat(
    [for bucket in local.evidence_bucket_arn == null ? [] : [local.evidence_bucket_arn] : {
      Sid      = "EvidencePutOnly"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${bucket}/evidence/*"]
    }],
    local.evidence_kms_key_arn == null ? [] : [{
      Sid       = "EvidenceEncryptThroughS3"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey"]
      Resource  = [local.evidence_kms_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }
    }],
  )

  function_policies = {
    for name in keys(local.functions) : name => jsonencode({
      Version = "2012-10-17"
      Statement = concat(
        module.surface_policy[name].statements,
        local.common_statements[name],
        local.runtime_statements[name],
        # (A for-filter: a conditional's two tuples would be of different types.)
        [for st in local.evidence_statements : st if contains(local.evidence_writers, name)],
      )
    })
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name   = "responder"
  role   = aws_iam_role.function[each.key].id
  policy = local.function_policies[each.key]

  lifecycle {
    precondition {
      condition     = !local.cross_account || var.organization_id != null
      error_message = "cross_account_role_name needs organization_id: member roles may only be assumed inside the organisation (aws:ResourceOrgID)."
    }
    precondition {
      condition     = length(var.evidence_member_account_ids) == 0 && !var.evidence_member_organization || local.cross_account && var.evidence_bucket_arn == null
      error_message = "evidence_member_account_ids / evidence_member_organization need cross_account_role_name and the evidence bucket this module creates (with evidence_bucket_arn, the forensic account's bucket policy admits the member roles: docs/evidence.md)."
    }
  }
}
