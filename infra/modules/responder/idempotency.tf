# Exactly-once records (RESPONDER_IDEMPOTENCY_TABLE), in the style of the Lambda Powertools
# idempotency utility: one item per finding and resource (partition key `id`), put
# IN_PROGRESS with a conditional write, COMPLETED with the outcome summary, deleted when
# containment failed (so the retry acts), expired by TTL (`expires_at`).
#
# An IN_PROGRESS record older than the longest function timeout plus a minute belongs to
# a run that died; the next delivery takes over. Only the responder's roles may write it
# (their policies, and the table's resource policy for everyone else): a workload that
# could write a COMPLETED record for its own finding would switch containment off.

locals {
  idempotency_in_progress_seconds = max(concat([60], [for f in values(local.functions) : f.timeout])...) + 60
}

resource "aws_dynamodb_table" "idempotency" {
  #checkov:skip=CKV2_AWS_16:On-demand (PAY_PER_REQUEST): there is no provisioned capacity to auto-scale.
  name         = "${var.name_prefix}-idempotency"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
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

  deletion_protection_enabled = var.idempotency_table_deletion_protection

  tags = var.tags
}

data "aws_iam_policy_document" "idempotency_table" {
  statement {
    sid    = "OnlyTheResponderWritesRecords"
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
    resources = [aws_dynamodb_table.idempotency.arn]

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

resource "aws_dynamodb_resource_policy" "idempotency" {
  resource_arn = aws_dynamodb_table.idempotency.arn
  policy       = data.aws_iam_policy_document.idempotency_table.json
}
