# Alarms to the notification topic: a function erroring (containment failed, so Lambda
# retries and dead-letters), being throttled (reserved concurrency exhausted), and any
# message in the DLQ (a finding nobody handled).

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each = local.functions

  alarm_name          = "${local.function_names[each.key]}-errors"
  alarm_description   = "The ${each.key} responder failed (containment error or crash). Check its logs; failed events land in ${aws_sqs_queue.dlq.name}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
  ok_actions          = [aws_sns_topic.notifications.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each = local.functions

  alarm_name          = "${local.function_names[each.key]}-throttles"
  alarm_description   = "The ${each.key} responder was throttled: more concurrent findings than its reserved concurrency. Events are retried, then dead-lettered."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
  ok_actions          = [aws_sns_topic.notifications.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  alarm_name          = "${var.name_prefix}-dlq-not-empty"
  alarm_description   = "Unhandled GuardDuty events in ${aws_sqs_queue.dlq.name}: inspect, fix, and replay them (responder replay)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
  ok_actions          = [aws_sns_topic.notifications.arn]
  tags                = var.tags
}

# The containment rate limit (rate_limit.tf): budgets refusing containments (a burst of
# findings, possibly one meant to exhaust them), and containments admitted without the
# limiter because its table could not be reached (fail open). Both metrics are written
# by the functions as embedded-metric-format log lines, dimension Function.
locals {
  containing_functions = { for name, f in local.functions : name => f if name != "coverage" }
}

resource "aws_cloudwatch_metric_alarm" "rate_limit_refused" {
  for_each = local.containing_functions

  alarm_name          = "${local.function_names[each.key]}-rate-limit-refused"
  alarm_description   = "The ${each.key} responder refused containments: a containment budget (per account or global) is used up, so findings are only notified until the hour ends. Review them; contain by hand where needed."
  namespace           = "GuardDutyResponder"
  metric_name         = "RateLimitRefused"
  dimensions          = { Function = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
  ok_actions          = [aws_sns_topic.notifications.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "rate_limiter_unavailable" {
  for_each = local.containing_functions

  alarm_name          = "${local.function_names[each.key]}-rate-limiter-unavailable"
  alarm_description   = "The ${each.key} responder contained without its rate limit: the table ${aws_dynamodb_table.rate_limit.name} could not be reached (throttling, IAM, KMS). Containment is not capped until it is fixed."
  namespace           = "GuardDutyResponder"
  metric_name         = "RateLimiterUnavailable"
  dimensions          = { Function = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
  ok_actions          = [aws_sns_topic.notifications.arn]
  tags                = var.tags
}
