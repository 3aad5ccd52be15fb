# One customer-managed key for everything the module stores: Lambda environment
# variables, log groups, the SNS topic, the Slack secret, the DLQ and the schedule.

# The account administers the key through IAM: the whole policy of the evidence key
# (evidence.tf), the first statement of this one.
data "aws_iam_policy_document" "account_administers_key" {
  #checkov:skip=CKV_AWS_109:Key policies must name the key itself as "*"; the account-root statement delegates to IAM and is what keeps the key manageable.
  #checkov:skip=CKV_AWS_111:Same: "*" in a key policy means this key only.
  #checkov:skip=CKV_AWS_356:Same: "*" in a key policy means this key only.
  statement {
    sid       = "AccountAdministersKeyThroughIAM"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:Key policies must name the key itself as "*".
  #checkov:skip=CKV_AWS_111:Same: "*" in a key policy means this key only; principals are the account and named AWS services.
  #checkov:skip=CKV_AWS_356:Same: "*" in a key policy means this key only.
  source_policy_documents = [data.aws_iam_policy_document.account_administers_key.json]

  statement {
    sid    = "CloudWatchLogsForResponderLogGroups"
    effect = "Allow"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:DescribeKey",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${var.name_prefix}-*"]
    }
  }

  # EventBridge writes undeliverable events to the encrypted DLQ.
  statement {
    sid       = "EventBridgeToEncryptedDLQ"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["${local.rule_arn_prefix}${var.name_prefix}-*"]
    }
  }

  # CloudWatch alarms publish to the encrypted SNS topic.
  statement {
    sid       = "CloudWatchAlarmsToEncryptedTopic"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: Lambda environment, logs, SNS, Slack secret, DLQ"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}
