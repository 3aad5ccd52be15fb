# HMAC key that makes the prior-state records on quarantined resources tamper-evident
# (RESPONDER_RECORD_MAC_KEY_ID): quarantine MACs the record with GenerateMac, release
# and re-deliveries check it with VerifyMac. Nobody else may use the key for MACs, not
# even the account's administrators through IAM: a principal that could GenerateMac
# could forge a record that steers release.

data "aws_iam_policy_document" "record_mac" {
  #checkov:skip=CKV_AWS_109:Key policies must name the key itself as "*"; the account-root statement is administration only (no MAC operations).
  #checkov:skip=CKV_AWS_111:Same: "*" in a key policy means this key only.
  #checkov:skip=CKV_AWS_356:Same: "*" in a key policy means this key only.
  statement {
    sid    = "AccountAdministersKeyWithoutUsingIt"
    effect = "Allow"
    actions = [
      "kms:Create*",
      "kms:Describe*",
      "kms:Enable*",
      "kms:List*",
      "kms:Put*",
      "kms:Update*",
      "kms:Revoke*",
      "kms:Disable*",
      "kms:Get*",
      "kms:Delete*",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:ScheduleKeyDeletion",
      "kms:CancelKeyDeletion",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  dynamic "statement" {
    for_each = length(local.record_mac_principals) > 0 ? [1] : []
    content {
      sid       = "RespondersMacRecords"
      effect    = "Allow"
      actions   = ["kms:GenerateMac", "kms:VerifyMac"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = local.record_mac_principals
      }
    }
  }

  # The quarantine reminder (reminder.tf) only checks seals: it shows an edited record as such.
  dynamic "statement" {
    for_each = var.enable_reminder ? [1] : []
    content {
      sid       = "ReminderVerifiesRecords"
      effect    = "Allow"
      actions   = ["kms:VerifyMac"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = aws_iam_role.reminder[*].arn
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.release_operator_arns) > 0 ? [1] : []
    content {
      sid       = "ReleaseOperatorsVerifyRecords"
      effect    = "Allow"
      actions   = ["kms:VerifyMac"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.release_operator_arns
      }
    }
  }
}

locals {
  # Functions that MAC the records they write: EC2 instances, ECS tasks and their copies on
  # network ACLs, and with eks.quarantine_node_instance the EKS nodes' instances.
  record_mac_functions = [
    for name in concat(["ec2", "ecs"], local.eks_node_quarantine ? ["eks"] : []) : name
    if contains(keys(local.functions), name)
  ]
  record_mac_principals = concat(
    [for name in local.record_mac_functions : aws_iam_role.function[name].arn],
    var.record_mac_member_role_arns,
  )
}

resource "aws_kms_key" "record_mac" {
  description              = "${var.name_prefix}: MAC of the prior-state records release restores"
  customer_master_key_spec = "HMAC_256"
  key_usage                = "GENERATE_VERIFY_MAC"
  deletion_window_in_days  = var.kms_deletion_window_days
  policy                   = data.aws_iam_policy_document.record_mac.json
  tags                     = var.tags
}

resource "aws_kms_alias" "record_mac" {
  name          = "alias/${var.name_prefix}-record-mac"
  target_key_id = aws_kms_key.record_mac.key_id
}
