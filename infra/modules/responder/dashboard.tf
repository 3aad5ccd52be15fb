# One CloudWatch dashboard, <name_prefix>: what the responder decided, did, and how fast,
# where its messages failed, what waits in the DLQ, and what GuardDuty cannot see.
# infra/README.md#dashboard describes each widget. The responder's own metrics are EMF
# records in the functions' logs (shared/src/metrics/), namespace GuardDutyResponder;
# breakdowns use SEARCH so that a new family or action kind appears without a change here.

locals {
  dashboard_functions = [for f in keys(local.containing_functions) : local.function_names[f]]
  # SEARCH filter: this deployment's finding functions only (another deployment in the
  # account writes the same namespace).
  dashboard_filter = length(local.dashboard_functions) > 0 ? "Function=(${join(" OR ", [for f in local.dashboard_functions : "\"${f}\""])})" : "Function=\"none\""
  dashboard_search = {
    for name, schema in {
      decisions    = ["{GuardDutyResponder,Decision,Function} MetricName=\"Findings\"", "Sum", 300]
      families     = ["{GuardDutyResponder,Decision,Family,Function,Surface} MetricName=\"Findings\"", "Sum", 3600]
      guardrails   = ["{GuardDutyResponder,Function,Guardrail} MetricName=\"GuardrailHits\"", "Sum", 3600]
      containments = ["{GuardDutyResponder,Function,Surface} MetricName=\"Containments\"", "Sum", 300]
      failures     = ["{GuardDutyResponder,Function,Surface} MetricName=\"ContainmentFailures\"", "Sum", 300]
      actions      = ["{GuardDutyResponder,Action,Function,Status,Surface} MetricName=\"Actions\"", "Sum", 3600]
      deliveries   = ["{GuardDutyResponder,Channel,Function,Status} MetricName=\"Deliveries\" Status=\"failed\"", "Sum", 300]
    } : name => "SEARCH('${schema[0]} ${local.dashboard_filter}', '${schema[1]}', ${schema[2]})"
  }
  coverage_function = contains(keys(local.functions), "coverage") ? local.function_names["coverage"] : null

  # The breakdowns: one SEARCH expression (or two) each, all laid out the same way.
  search_widgets = [
    for w in [
      { title = "Findings by decision", searches = ["decisions"], x = 0, y = 0, width = 12, stacked = true },
      { title = "Findings by family and surface (hourly)", searches = ["families"], x = 12, y = 0, width = 12, stacked = true },
      { title = "Containments and failures by surface", searches = ["containments", "failures"], x = 0, y = 6, width = 12, stacked = false },
      { title = "Delivery failures by channel", searches = ["deliveries"], x = 0, y = 12, width = 8, stacked = true },
      { title = "Actions by kind and status (hourly)", searches = ["actions"], x = 12, y = 18, width = 12, stacked = true },
      ] : {
      type = "metric", x = w.x, y = w.y, width = w.width, height = 6
      properties = {
        title   = w.title, view = "timeSeries", stacked = w.stacked, region = local.region
        metrics = [for id in w.searches : [{ expression = local.dashboard_search[id], id = id }]]
      }
    }
  ]

  # Metrics by name and function: [namespace, metric, dimension, value, {options}].
  per_function = {
    tti_p50 = [for f in local.dashboard_functions : ["GuardDutyResponder", "TimeToIsolation", "Function", f, { stat = "p50", label = "${f} updatedAt→isolated p50" }]]
    tti_p99 = [for f in local.dashboard_functions : ["GuardDutyResponder", "TimeToIsolation", "Function", f, { stat = "p99", label = "${f} updatedAt→isolated p99" }]]
    rti_p99 = [for f in local.dashboard_functions : ["GuardDutyResponder", "ReceiptToIsolation", "Function", f, { stat = "p99", label = "${f} receipt→isolated p99" }]]
    refused = [for f in local.dashboard_functions : ["GuardDutyResponder", "RateLimitRefused", "Function", f, { stat = "Sum", period = 3600 }]]
    errors  = [for f in values(local.function_names) : ["AWS/Lambda", "Errors", "FunctionName", f]]
    thrott  = [for f in values(local.function_names) : ["AWS/Lambda", "Throttles", "FunctionName", f]]
  }

  other_widgets = [
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title       = "Time to isolation (p50, p99)", view = "timeSeries", region = local.region, period = 3600
        yAxis       = { left = { label = "ms", showUnits = false } }
        metrics     = concat(local.per_function.tti_p50, local.per_function.tti_p99, local.per_function.rti_p99)
        annotations = { horizontal = [{ label = "p99 alarm", value = var.time_to_isolation_p99_threshold_seconds * 1000 }] }
      }
    },
    {
      type = "metric", x = 8, y = 12, width = 8, height = 6
      properties = {
        title   = "DLQ depth", view = "timeSeries", region = local.region, stat = "Maximum", period = 300
        metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dlq.name]]
      }
    },
    {
      type = "metric", x = 16, y = 12, width = 8, height = 6
      properties = {
        title   = "Unhealthy Runtime Monitoring coverage", view = "timeSeries", region = local.region, stat = "Maximum", period = 3600
        metrics = local.coverage_function == null ? [] : [for t in ["EKS", "ECS", "EC2"] : ["GuardDutyResponder", "UnhealthyResources", "Function", local.coverage_function, "ResourceType", t]]
      }
    },
    {
      type = "metric", x = 0, y = 18, width = 12, height = 6
      properties = {
        title   = "Guardrails and rate limit", view = "timeSeries", stacked = true, region = local.region
        metrics = concat([[{ expression = local.dashboard_search.guardrails, id = "guardrails" }]], local.per_function.refused)
      }
    },
    {
      type = "metric", x = 0, y = 24, width = 12, height = 6
      properties = {
        title   = "Function errors and throttles", view = "timeSeries", region = local.region, stat = "Sum", period = 300
        metrics = concat(local.per_function.errors, local.per_function.thrott)
      }
    },
    {
      type = "alarm", x = 12, y = 24, width = 12, height = 6
      properties = {
        title = "Alarms"
        alarms = concat(
          [for a in aws_cloudwatch_metric_alarm.responder : a.arn],
          [for a in aws_cloudwatch_metric_alarm.errors : a.arn],
          [for a in aws_cloudwatch_metric_alarm.throttles : a.arn],
          [aws_cloudwatch_metric_alarm.dlq_depth.arn],
          aws_cloudwatch_metric_alarm.no_invocation[*].arn,
        )
      }
    },
  ]

  # A metric widget needs a metric: widgets of functions not deployed are left out.
  dashboard_widgets = [
    for w in concat(local.search_widgets, local.other_widgets) : w
    if try(length(w.properties.metrics) > 0, true)
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.enable_dashboard ? 1 : 0

  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
