# Dead-letter queue shared by the EventBridge targets (events not delivered to a
# function) and the functions' on-failure destinations (invocations that still failed
# after their retries). Any message here is a finding that was not handled: alarmed.

resource "aws_sqs_queue" "dlq" {
  name                              = "${var.name_prefix}-dlq"
  message_retention_seconds         = 1209600 # 14 days, the maximum
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

data "aws_iam_policy_document" "dlq" {
  statement {
    sid       = "EventBridgeRuleTargets"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = concat([for rule in aws_cloudwatch_event_rule.this : rule.arn], [for rule in aws_cloudwatch_event_rule.test : rule.arn], aws_cloudwatch_event_rule.snapshot_completed[*].arn)
    }
  }

  # Lambda sends on-failure records with the function's execution role; only those roles
  # (and the schedulers', and the reminder's) may write here besides EventBridge.
  statement {
    sid       = "ResponderRolesOnFailureDestination"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]

    principals {
      type        = "AWS"
      identifiers = concat(values(local.role_arns), aws_iam_role.scheduler[*].arn, aws_iam_role.reminder[*].arn, aws_iam_role.reminder_scheduler[*].arn)
    }
  }

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    actions = [
      "sqs:SendMessage",
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
      "sqs:PurgeQueue",
    ]
    resources = [aws_sqs_queue.dlq.arn]

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

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.dlq.json

  # The roles must exist before a resource policy can name them.
  depends_on = [aws_iam_role.function, aws_iam_role.reminder, aws_iam_role.reminder_scheduler]
}
