# The follow-up of ec2.forensic_snapshots (docs/evidence.md): an evidence snapshot still
# pending when its quarantine stopped waiting (wait_seconds) is copied for the forensic
# account when EBS says it completed. EBS's createSnapshot notification (pattern
# infra/patterns/ec2-snapshot-completed.json) invokes the ec2 function, which copies only
# snapshots it can bind to a quarantine of its own (the event carries no tags, so the rule
# cannot select them: every snapshot of the account and region invokes the function once).
# Only with the ec2 function and forensic_snapshots configured. AWS service events reach
# the default bus only, whatever var.event_bus_name is.
#
# Every snapshot of the account (a backup window, or a workload that can snapshot) is an
# invocation, so they go to a function of their own: the same ec2 binary, role and log
# group, with its own reserved concurrency. A burst of snapshots then queues there and
# never takes the concurrency the ec2 function keeps for containing findings.

locals {
  snapshot_follow_up = contains(keys(local.functions), "ec2") && local.forensic_snapshots != null
}

resource "aws_lambda_function" "snapshot_follow_up" {
  #checkov:skip=CKV_AWS_117:As the ec2 function: public AWS APIs only.
  #checkov:skip=CKV_AWS_116:Failures go to the on-failure destination (aws_lambda_function_event_invoke_config), as the other functions'.
  #checkov:skip=CKV_AWS_272:Zips come from this repository's own cargo-lambda build; add a code_signing_config_arn where AWS Signer is in use.
  count = local.snapshot_follow_up ? 1 : 0

  function_name = "${local.function_names["ec2"]}-snapshots"
  description   = "GuardDuty Runtime Monitoring responder: ec2 forensic snapshot copies when EBS says a snapshot completed"
  role          = aws_iam_role.function["ec2"].arn

  filename         = local.zip_paths["ec2"]
  source_code_hash = aws_lambda_function.this["ec2"].source_code_hash
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  handler          = "bootstrap"

  memory_size                    = local.functions["ec2"].memory_size
  timeout                        = local.functions["ec2"].timeout
  reserved_concurrent_executions = var.snapshot_follow_up_reserved_concurrency
  kms_key_arn                    = aws_kms_key.this.arn

  environment {
    variables = local.function_environment["ec2"]
  }

  # The ec2 function's log group: its role may write there and nowhere else.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function["ec2"].name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags
}

resource "aws_lambda_function_event_invoke_config" "snapshot_follow_up" {
  count = local.snapshot_follow_up ? 1 : 0

  function_name                = aws_lambda_function.snapshot_follow_up[0].function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = var.async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }
}

resource "aws_cloudwatch_event_rule" "snapshot_completed" {
  count = local.snapshot_follow_up ? 1 : 0

  name           = "${local.function_names["ec2"]}-snapshot-completed"
  description    = "EBS createSnapshot succeeded: the ec2 responder copies its evidence snapshots still pending at the quarantine's wait for the forensic account"
  event_bus_name = "default"
  event_pattern  = file("${local.patterns_dir}/ec2-snapshot-completed.json")
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "snapshot_completed" {
  count = local.snapshot_follow_up ? 1 : 0

  rule           = aws_cloudwatch_event_rule.snapshot_completed[0].name
  event_bus_name = "default"
  target_id      = "responder-ec2-snapshots"
  arn            = aws_lambda_function.snapshot_follow_up[0].arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

# Scoped to this rule: no other rule (nor another account's) may invoke the function so.
resource "aws_lambda_permission" "snapshot_completed" {
  count = local.snapshot_follow_up ? 1 : 0

  statement_id   = "AllowEbsSnapshotCompletedRule"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.snapshot_follow_up[0].function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.snapshot_completed[0].arn
  source_account = local.account_id
}
