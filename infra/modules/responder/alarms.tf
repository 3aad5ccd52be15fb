# Alarms to the notification topic: a function erroring (containment failed, so Lambda
# retries and dead-letters), being throttled (reserved concurrency exhausted), and any
# message in the DLQ (a finding nobody handled).

locals {
  # Each deployed function and what its failure means; the forensic snapshot follow-up
  # (snapshot_rule.tf) is the ec2 binary deployed once more.
  error_alarms = merge(
    { for name in keys(local.functions) : name => {
      function = aws_lambda_function.this[name].function_name
      what     = "The ${name} responder failed (containment error or crash). Check its logs"
    } },
    { for f in aws_lambda_function.snapshot_follow_up : "ec2-snapshots" => {
      function = f.function_name
      what     = "The forensic snapshot follow-up failed (a copy or share refused, or a crash): evidence snapshots may not have reached the forensic account. Check the ec2 log group"
    } },
  )
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each = local.error_alarms

  alarm_name          = "${each.value.function}-errors"
  alarm_description   = "${each.value.what}; failed events land in ${aws_sqs_queue.dlq.name}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value.function }
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
# limiter because its table could not be reached (fail open): in the responder alarms below.
locals {
  containing_functions = { for name, f in local.functions : name => f if name != "coverage" }
}

# From the functions' EMF metrics (shared/src/metrics/), by Function: a containment run
# with a failed action, the hourly p99 of the time from the finding's updatedAt to the
# workload isolated (ms), and the rate limit's two. One resource, one entry per function
# and kind.
locals {
  responder_alarm_kinds = {
    rate-limit-refused = {
      metric   = "RateLimitRefused", statistic = "Sum", extended_statistic = null, period = 300, threshold = 0
      describe = "refused containments: a containment budget (per account or global) is used up, so findings are only notified until the hour ends. Review them; contain by hand where needed."
    }
    rate-limiter-unavailable = {
      metric   = "RateLimiterUnavailable", statistic = "Sum", extended_statistic = null, period = 300, threshold = 0
      describe = "contained without its rate limit: the table ${aws_dynamodb_table.rate_limit.name} could not be reached (throttling, IAM, KMS). Containment is not capped until it is fixed."
    }
    containment-failed = {
      metric   = "ContainmentFailures", statistic = "Sum", extended_statistic = null, period = 300, threshold = 0
      describe = "could not fully contain a workload (an action failed). The alert says [FAILED] and which action; the event is retried, then dead-lettered."
    }
    time-to-isolation-p99 = {
      metric   = "TimeToIsolation", statistic = null, extended_statistic = "p99", period = 3600, threshold = var.time_to_isolation_p99_threshold_seconds * 1000
      describe = "took more than ${var.time_to_isolation_p99_threshold_seconds} s (p99 over the last hour) from a finding's updatedAt to the workload isolated: GuardDuty delivers late, or the function is slow or throttled."
    }
  }
  responder_alarms = merge(concat(
    [
      for f in keys(local.containing_functions) : {
        for kind, a in local.responder_alarm_kinds : "${f}/${kind}" => merge(a, { function = f, kind = kind, name = local.function_names[f] })
      }
    ],
    # The interactions function takes the same budgets for a click's containment
    # (shared/src/interactions/budget.rs) and writes the same two metrics under its name.
    [{
      for kind in local.interactions ? ["rate-limit-refused", "rate-limiter-unavailable"] : [] :
      "interactions/${kind}" => merge(local.responder_alarm_kinds[kind], { function = "interactions", kind = kind, name = local.interactions_name })
    }],
  )...)
}

# The rate-limit alarms were resources of their own.
moved {
  from = aws_cloudwatch_metric_alarm.rate_limit_refused["ec2"]
  to   = aws_cloudwatch_metric_alarm.responder["ec2/rate-limit-refused"]
}
moved {
  from = aws_cloudwatch_metric_alarm.rate_limit_refused["ecs"]
  to   = aws_cloudwatch_metric_alarm.responder["ecs/rate-limit-refused"]
}
moved {
  from = aws_cloudwatch_metric_alarm.rate_limit_refused["eks"]
  to   = aws_cloudwatch_metric_alarm.responder["eks/rate-limit-refused"]
}
moved {
  from = aws_cloudwatch_metric_alarm.rate_limiter_unavailable["ec2"]
  to   = aws_cloudwatch_metric_alarm.responder["ec2/rate-limiter-unavailable"]
}
moved {
  from = aws_cloudwatch_metric_alarm.rate_limiter_unavailable["ecs"]
  to   = aws_cloudwatch_metric_alarm.responder["ecs/rate-limiter-unavailable"]
}
moved {
  from = aws_cloudwatch_metric_alarm.rate_limiter_unavailable["eks"]
  to   = aws_cloudwatch_metric_alarm.responder["eks/rate-limiter-unavailable"]
}

resource "aws_cloudwatch_metric_alarm" "responder" {
  for_each = local.responder_alarms

  alarm_name          = "${each.value.name}-${each.value.kind}"
  alarm_description   = "The ${each.value.function} responder ${each.value.describe}"
  namespace           = "GuardDutyResponder"
  metric_name         = each.value.metric
  dimensions          = { Function = each.value.name }
  statistic           = each.value.statistic
  extended_statistic  = each.value.extended_statistic
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
  ok_actions          = [aws_sns_topic.notifications.arn]
  tags                = var.tags

  # The function exists before its alarm watches it.
  depends_on = [aws_lambda_function.this, aws_lambda_function.interactions]
}

# A broken rule (a pattern that no longer matches, a deleted target, a lost permission) is
# silence, and silence looks like a quiet week. A second rule, with no target, matches every
# Runtime finding GuardDuty publishes, whatever finding_source is; its MatchedEvents is
# "findings exist". The alarm fires when, over the last no_invocation_alarm_days days,
# findings were matched and no finding function was invoked at all.
resource "aws_cloudwatch_event_rule" "findings_sentinel" {
  count = length(local.containing_functions) > 0 ? 1 : 0

  name           = "${var.name_prefix}-findings-sentinel"
  description    = "Counts GuardDuty Runtime findings (MatchedEvents) for the no-invocation alarm; no target."
  event_bus_name = var.event_bus_name
  event_pattern = jsonencode({
    source        = ["aws.guardduty"]
    "detail-type" = ["GuardDuty Finding"]
    detail        = { type = [{ wildcard = "*:Runtime/*" }] }
  })
  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "no_invocation" {
  count = length(local.containing_functions) > 0 ? 1 : 0

  alarm_name          = "${var.name_prefix}-findings-without-invocation"
  alarm_description   = "GuardDuty published Runtime findings in the last ${var.no_invocation_alarm_days} day(s) but no responder function was invoked: a rule, target or permission is broken. Check the rules ${join(", ", [for f in keys(local.containing_functions) : local.function_names[f]])}."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
  ok_actions          = [aws_sns_topic.notifications.arn]
  tags                = var.tags

  metric_query {
    id          = "silent"
    expression  = "IF(FILL(findings, 0) > 0 AND (${join(" + ", [for f in keys(local.containing_functions) : "FILL(inv_${f}, 0)"])}) == 0, 1, 0)"
    label       = "Findings without any invocation"
    return_data = true
  }

  metric_query {
    id = "findings"
    metric {
      namespace   = "AWS/Events"
      metric_name = "MatchedEvents"
      dimensions  = { RuleName = aws_cloudwatch_event_rule.findings_sentinel[0].name }
      stat        = "Sum"
      period      = var.no_invocation_alarm_days * 86400
    }
  }

  dynamic "metric_query" {
    for_each = local.containing_functions
    content {
      id = "inv_${metric_query.key}"
      metric {
        namespace   = "AWS/Lambda"
        metric_name = "Invocations"
        dimensions  = { FunctionName = aws_lambda_function.this[metric_query.key].function_name }
        stat        = "Sum"
        period      = var.no_invocation_alarm_days * 86400
      }
    }
  }
}

