# The containment rate budgets (RESPONDER_MAX_CONTAINMENTS_PER_HOUR over all accounts,
# RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR per account): one item per (scope,
# hourly window), taken with atomic conditional UpdateItem calls, expired by TTL.
#
# Only the responder's roles may write it: their policies grant dynamodb:UpdateItem on
# this table alone (iam.tf), and the table's resource policy denies every data-plane
# write to any other principal, so a workload role with dynamodb:* on "*" (or the
# CloudWatch agent's cloudwatch:PutMetricData, which could write the former metric
# counter) can neither exhaust nor reset the budgets.

resource "aws_dynamodb_table" "rate_limit" {
  #checkov:skip=CKV2_AWS_16:On-demand (PAY_PER_REQUEST): there is no provisioned capacity to auto-scale.
  name         = "${var.name_prefix}-rate-limit"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "scope"
  range_key    = "window"

  attribute {
    name = "scope"
    type = "S"
  }

  attribute {
    name = "window"
    type = "N"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  point_in_time_recovery {
    enabled = true
  }

  deletion_protection_enabled = var.rate_limit_table_deletion_protection

  tags = var.tags
}

data "aws_iam_policy_document" "rate_limit_table" {
  statement {
    sid    = "OnlyTheResponderWritesBudgets"
    effect = "Deny"
    actions = [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:PartiQLInsert",
      "dynamodb:PartiQLUpdate",
      "dynamodb:PartiQLDelete",
    ]
    resources = [aws_dynamodb_table.rate_limit.arn]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = concat(values(local.role_arns), local.interactions ? [local.interactions_role_arn] : [])
    }
  }
}

resource "aws_dynamodb_resource_policy" "rate_limit" {
  resource_arn = aws_dynamodb_table.rate_limit.arn
  policy       = data.aws_iam_policy_document.rate_limit_table.json
}
