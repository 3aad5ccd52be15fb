# Optional: the coverage audit on a schedule (EventBridge Scheduler invokes the coverage
# function with the payload below; the function lists UNHEALTHY coverage and notifies
# when the set changes).

locals {
  coverage_schedule = var.enable_coverage_schedule ? 1 : 0
  scheduler_name    = "${var.name_prefix}-coverage-audit"
  coverage_arn      = try(aws_lambda_function.this["coverage"].arn, "")

  # What the coverage function receives from the schedule (an EventBridge-shaped event).
  coverage_schedule_input = jsonencode({
    version       = "0"
    source        = "guardduty-responder.scheduler"
    "detail-type" = "Scheduled Coverage Audit"
    detail        = {}
  })
}

data "aws_iam_policy_document" "assume_scheduler" {
  statement {
    sid     = "SchedulerAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = local.coverage_schedule

  name                 = "${var.name_prefix}-scheduler"
  description          = "EventBridge Scheduler: invokes the coverage audit"
  assume_role_policy   = data.aws_iam_policy_document.assume_scheduler.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  count = local.coverage_schedule

  name = "invoke-coverage"
  role = aws_iam_role.scheduler[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "InvokeCoverageFunction"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = [local.coverage_arn, "${local.coverage_arn}:*"]
      },
      {
        Sid      = "DeadLetter"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [aws_sqs_queue.dlq.arn]
      },
      {
        Sid      = "EncryptedScheduleAndQueue"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [aws_kms_key.this.arn]
      },
    ]
  })

  lifecycle {
    precondition {
      condition     = contains(keys(local.functions), "coverage")
      error_message = "enable_coverage_schedule needs the coverage function: set functions.coverage.enabled = true."
    }
  }
}

resource "aws_scheduler_schedule" "coverage" {
  count = local.coverage_schedule

  name                = local.scheduler_name
  description         = "Hourly GuardDuty Runtime Monitoring coverage audit"
  schedule_expression = var.coverage_schedule_expression
  kms_key_arn         = aws_kms_key.this.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = local.coverage_arn
    role_arn = aws_iam_role.scheduler[0].arn
    input    = local.coverage_schedule_input

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 3
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}
