# The follow-up of ec2.forensic_snapshots (docs/evidence.md): an evidence snapshot still
# pending when its quarantine stopped waiting (wait_seconds) is copied for the forensic
# account when EBS says it completed. EBS's createSnapshot notification (pattern
# infra/patterns/ec2-snapshot-completed.json) invokes the ec2 function, which copies only
# snapshots it can bind to a quarantine of its own (the event carries no tags, so the rule
# cannot select them: every snapshot of the account and region invokes the function once).
# Only with the ec2 function and forensic_snapshots configured. AWS service events reach
# the default bus only, whatever var.event_bus_name is.

locals {
  snapshot_follow_up = contains(keys(local.functions), "ec2") && local.forensic_snapshots != null
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
  target_id      = "responder-ec2-snapshot-completed"
  arn            = aws_lambda_function.this["ec2"].arn

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
  function_name  = aws_lambda_function.this["ec2"].function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.snapshot_completed[0].arn
  source_account = local.account_id
}
