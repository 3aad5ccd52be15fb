# Where notifications go: an SNS topic (subscribe with a filter policy on the message
# attributes family / severity_label / surface / decision) and a Slack incoming-webhook
# URL kept in Secrets Manager. The secret is created empty: put its value out of band
# (README), so the URL never enters Terraform state.

resource "aws_sns_topic" "notifications" {
  name              = "${var.name_prefix}-notifications"
  kms_master_key_id = aws_kms_key.this.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "AccountOwnerManagesTopic"
    effect    = "Allow"
    resources = [aws_sns_topic.notifications.arn]
    actions = [
      "sns:GetTopicAttributes",
      "sns:SetTopicAttributes",
      "sns:AddPermission",
      "sns:RemovePermission",
      "sns:DeleteTopic",
      "sns:Subscribe",
      "sns:ListSubscriptionsByTopic",
      "sns:Publish",
    ]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarms"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.notifications.arn]

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

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.notifications.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "notifications" {
  arn    = aws_sns_topic.notifications.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_secretsmanager_secret" "slack_webhook" {
  #checkov:skip=CKV2_AWS_57:A Slack incoming-webhook URL cannot be rotated by a Lambda; it is replaced by hand in Slack and put again with put-secret-value.
  name                    = "${var.name_prefix}/slack-webhook"
  description             = "Slack incoming-webhook URL for ${var.name_prefix}. Value set out of band: aws secretsmanager put-secret-value."
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

# The generic JSON webhook (SIEM, ticketing), when enabled: its URL and HMAC signing key in
# one secret, {"url": "https://…", "signing_key": "…"}, put out of band like Slack's.
resource "aws_secretsmanager_secret" "json_webhook" {
  #checkov:skip=CKV2_AWS_57:The receiver's URL and shared signing key are set by hand with the receiving tool; a rotation Lambda cannot change the receiver's copy.
  count = var.enable_json_webhook ? 1 : 0

  name                    = "${var.name_prefix}/json-webhook"
  description             = "JSON webhook of ${var.name_prefix}: {\"url\": \"https://...\", \"signing_key\": \"...\"}. Value set out of band: aws secretsmanager put-secret-value."
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}
