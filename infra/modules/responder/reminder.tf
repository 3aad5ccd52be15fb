# The quarantine reminder: EventBridge Scheduler invokes <name_prefix>-reminder, which
# lists what the responder has contained in this account (reminder_regions) and posts the
# quarantines older than reminder_min_age_hours to SNS and Slack, each with a Release
# button (shared/src/inventory/). Not a finding function: no event rule, no
# containment, no tables. Its role reads records (local.permissions.reminder), verifies
# their seals and publishes; nothing else.
#
# EKS clusters (reminder_eks_cluster_names) are read through an access entry mapping the
# role to the group guardduty-responder-reader, which infra/kubernetes/reader-rbac.yaml
# lets list NetworkPolicies and get pods, nothing else. Other accounts
# (reminder_accounts) are read through ../member-role's read-only role; the record seals
# are verified here, with this role and the record key, never in the member account.

locals {
  reminder      = var.enable_reminder ? 1 : 0
  reminder_name = "${var.name_prefix}-reminder"
  reminder_zip  = "${var.lambda_zip_dir}/responder-reminder/bootstrap.zip"
  reminder_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.reminder_name}"
  reminder_schedule_input = jsonencode({
    version       = "0"
    source        = "guardduty-responder.scheduler"
    "detail-type" = "Scheduled Quarantine Reminder"
    detail        = {}
  })
  # Describe and List calls have no resource type; the rest are scoped below.
  reminder_unscoped = [for a in local.permissions.reminder : a if !contains(["ecs:DescribeTasks", "kms:VerifyMac", "eks:DescribeCluster"], a)]
  reminder_accounts = length(var.reminder_accounts) > 0 ? var.reminder_accounts : [local.account_id]
  reminder_members  = [for a in local.reminder_accounts : a if a != local.account_id]
  reminder_clusters = var.enable_reminder && var.create_eks_access_entries ? toset(var.reminder_eks_cluster_names) : toset([])
  reminder_cluster_arns = flatten([
    for a in local.reminder_accounts : [
      for c in var.reminder_eks_cluster_names : "arn:${local.partition}:eks:*:${a}:cluster/${c}"
    ]
  ])
  reminder_member_roles = [
    for a in local.reminder_members : "arn:${local.partition}:iam::${a}:role/${var.reminder_member_role_name}"
  ]
  # What it reads beyond this account's EC2 and ECS records.
  reminder_reach_env = {
    RESPONDER_REMINDER_CLUSTERS = join(",", var.reminder_eks_cluster_names)
    RESPONDER_REMINDER_ACCOUNTS = join(",", var.reminder_accounts)
    # The read-only role in the other accounts; none while reminder_accounts names none.
    RESPONDER_CROSS_ACCOUNT_ROLE        = length(local.reminder_members) > 0 ? var.reminder_member_role_name : ""
    RESPONDER_CROSS_ACCOUNT_EXTERNAL_ID = var.cross_account_external_id
  }
}

resource "aws_iam_role" "reminder" {
  count = local.reminder

  name                 = local.reminder_name
  description          = "GuardDuty responder quarantine reminder: reads records, posts reminders"
  assume_role_policy   = data.aws_iam_policy_document.assume_lambda["reminder"].json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "reminder" {
  count = local.reminder

  name = "reminder"
  role = aws_iam_role.reminder[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      { Sid = "ReadRecords", Effect = "Allow", Action = local.reminder_unscoped, Resource = ["*"] },
      {
        Sid      = "DescribeTasksOfTheReadAccounts"
        Effect   = "Allow"
        Action   = ["ecs:DescribeTasks"]
        Resource = [for a in local.reminder_accounts : "arn:${local.partition}:ecs:*:${a}:task/*"]
      },
      { Sid = "VerifyRecordSeals", Effect = "Allow", Action = ["kms:VerifyMac"], Resource = [aws_kms_key.record_mac.arn] },
      { Sid = "Publish", Effect = "Allow", Action = ["sns:Publish"], Resource = [aws_sns_topic.notifications.arn] },
      { Sid = "SlackWebhook", Effect = "Allow", Action = ["secretsmanager:GetSecretValue"], Resource = [aws_secretsmanager_secret.slack_webhook.arn] },
      { Sid = "EncryptedTopicAndSecret", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], Resource = [aws_kms_key.this.arn] },
      { Sid = "FailuresToDeadLetter", Effect = "Allow", Action = ["sqs:SendMessage"], Resource = [aws_sqs_queue.dlq.arn] },
      {
        Sid      = "RuntimeLogsToOwnLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.reminder_name}:*"]
      },
      { Sid = "RuntimeXRayTracing", Effect = "Allow", Action = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource = ["*"] },
      ], length(local.reminder_cluster_arns) == 0 ? [] : [
      { Sid = "FindTheClusters", Effect = "Allow", Action = ["eks:DescribeCluster"], Resource = local.reminder_cluster_arns },
      ], length(local.reminder_member_roles) == 0 ? [] : [
      { Sid = "ReadMemberAccounts", Effect = "Allow", Action = ["sts:AssumeRole"], Resource = local.reminder_member_roles },
    ])
  })
}

# The reminder's read-only way into this account's clusters (reader-rbac.yaml).
resource "aws_eks_access_entry" "reminder" {
  for_each = local.reminder_clusters

  cluster_name      = each.value
  principal_arn     = aws_iam_role.reminder[0].arn
  type              = "STANDARD"
  kubernetes_groups = ["guardduty-responder-reader"]
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "reminder" {
  count = local.reminder

  name              = "/aws/lambda/${local.reminder_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_lambda_function" "reminder" {
  #checkov:skip=CKV_AWS_117:It calls public AWS APIs and the Slack webhook; a VPC would add NAT or endpoints.
  #checkov:skip=CKV_AWS_116:Failures go to the on-failure destination (aws_lambda_function_event_invoke_config.reminder).
  #checkov:skip=CKV_AWS_272:Zips come from this repository's own cargo-lambda build; add a code_signing_config_arn where AWS Signer is in use.
  count = local.reminder

  function_name = local.reminder_name
  description   = "GuardDuty Runtime Monitoring responder: quarantine reminder"
  role          = aws_iam_role.reminder[0].arn

  filename         = local.reminder_zip
  source_code_hash = fileexists(local.reminder_zip) ? filebase64sha256(local.reminder_zip) : null
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  handler          = "bootstrap"

  memory_size                    = 256
  timeout                        = 300
  reserved_concurrent_executions = 1
  kms_key_arn                    = aws_kms_key.this.arn

  environment {
    variables = merge(local.reminder_reach_env, {
      RESPONDER_SNS_TOPIC_ARN          = aws_sns_topic.notifications.arn
      RESPONDER_SLACK_SECRET_ARN       = aws_secretsmanager_secret.slack_webhook.arn
      RESPONDER_RECORD_MAC_KEY_ID      = aws_kms_key.record_mac.arn
      RESPONDER_REMINDER_MIN_AGE_HOURS = tostring(var.reminder_min_age_hours)
      RESPONDER_REMINDER_REGIONS       = join(",", var.reminder_regions)
      RESPONDER_REMINDER_PARTITION     = local.partition
    })
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.reminder[0].name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  tracing_config {
    mode = "Active"
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.reminder]

  lifecycle {
    precondition {
      condition     = fileexists(local.reminder_zip)
      error_message = "Missing ${local.reminder_zip}: build it first with `cargo lambda build --release --arm64 --output-format zip` (binary responder-reminder)."
    }
  }
}

resource "aws_lambda_function_event_invoke_config" "reminder" {
  count = local.reminder

  function_name = aws_lambda_function.reminder[0].function_name
  # A failed run is not retried (it would post the same reminder again); the next
  # schedule runs it anew, and the failure is recorded in the dead-letter queue.
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = var.async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }
}

resource "aws_iam_role" "reminder_scheduler" {
  count = local.reminder

  name                 = "${var.name_prefix}-reminder-scheduler"
  description          = "EventBridge Scheduler: invokes the quarantine reminder"
  assume_role_policy   = data.aws_iam_policy_document.assume_scheduler.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "reminder_scheduler" {
  count = local.reminder

  name = "invoke-reminder"
  role = aws_iam_role.reminder_scheduler[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "InvokeReminder", Effect = "Allow", Action = ["lambda:InvokeFunction"], Resource = [local.reminder_arn, "${local.reminder_arn}:*"] },
      { Sid = "DeadLetter", Effect = "Allow", Action = ["sqs:SendMessage"], Resource = [aws_sqs_queue.dlq.arn] },
      { Sid = "EncryptedScheduleAndQueue", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], Resource = [aws_kms_key.this.arn] },
    ]
  })
}

resource "aws_scheduler_schedule" "reminder" {
  count = local.reminder

  name                = local.reminder_name
  description         = "Reminds of quarantines older than ${var.reminder_min_age_hours} hours"
  schedule_expression = var.reminder_schedule_expression
  kms_key_arn         = aws_kms_key.this.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.reminder[0].arn
    role_arn = aws_iam_role.reminder_scheduler[0].arn
    input    = local.reminder_schedule_input

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 0
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }

  depends_on = [aws_iam_role_policy.reminder_scheduler]
}
