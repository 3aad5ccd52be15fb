# One rule per function. Each pattern is the file infra/patterns/<name>.json, verbatim:
#   ec2      GuardDuty Finding, *:Runtime/*, resourceType Instance | Container
#   ecs      GuardDuty Finding, *:Runtime/*, resourceType ECSCluster
#   eks      GuardDuty Finding, *:Runtime/*, resourceType EKSCluster
#   coverage GuardDuty Runtime Protection Unhealthy | Healthy
# With finding_source = "securityhub", the finding rules take infra/patterns/securityhub/<name>.json
# instead (Security Hub Findings - Imported from GuardDuty, Types *:Runtime-*, by resource
# type): a finding rule listens to one source only, so no finding is contained twice.

locals {
  pattern_files = {
    for name in keys(local.functions) : name => (
      var.finding_source == "securityhub" && name != "coverage"
      ? "${local.patterns_dir}/securityhub/${name}.json"
      : "${local.patterns_dir}/${name}.json"
    )
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.functions

  name           = local.function_names[each.key]
  description    = "GuardDuty Runtime Monitoring events (from ${each.key == "coverage" ? "guardduty" : var.finding_source}) for the ${each.key} responder"
  event_bus_name = var.event_bus_name
  event_pattern  = file(local.pattern_files[each.key])
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.functions

  rule           = aws_cloudwatch_event_rule.this[each.key].name
  event_bus_name = var.event_bus_name
  target_id      = "responder-${each.key}"
  arn            = aws_lambda_function.this[each.key].arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

resource "aws_lambda_permission" "events" {
  for_each = local.functions

  statement_id   = "AllowEventBridgeRule"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this[each.key].function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.this[each.key].arn
  source_account = local.account_id
}

# Optional test path. EventBridge refuses PutEvents with an "aws." source, so a sample
# from events/ cannot be replayed as aws.guardduty. With enable_test_event_rules, a
# second rule per function takes the same pattern (read from the same file) with source
# var.test_event_source instead. Anyone allowed events:PutEvents on the bus can then
# forge findings that the responder acts on: enable it for a verification window only.

locals {
  test_rules = var.enable_test_event_rules ? local.functions : {}
}

resource "aws_cloudwatch_event_rule" "test" {
  for_each = local.test_rules

  name           = "${local.function_names[each.key]}-test"
  description    = "TEST ONLY: ${var.test_event_source} events shaped like GuardDuty's, for the ${each.key} responder"
  event_bus_name = var.event_bus_name
  event_pattern = jsonencode(merge(
    jsondecode(file(local.pattern_files[each.key])),
    { source = [var.test_event_source] },
  ))
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "test" {
  for_each = local.test_rules

  rule           = aws_cloudwatch_event_rule.test[each.key].name
  event_bus_name = var.event_bus_name
  target_id      = "responder-${each.key}"
  arn            = aws_lambda_function.this[each.key].arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

resource "aws_lambda_permission" "test_events" {
  for_each = local.test_rules

  statement_id   = "AllowEventBridgeTestRule"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this[each.key].function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.test[each.key].arn
  source_account = local.account_id
}
