# One rule per function. Each pattern is the file infra/patterns/<name>.json, verbatim:
#   ec2      GuardDuty Finding, *:Runtime/*, resourceType Instance | Container
#   ecs      GuardDuty Finding, *:Runtime/*, resourceType ECSCluster
#   eks      GuardDuty Finding, *:Runtime/*, resourceType EKSCluster
#   coverage GuardDuty Runtime Protection Unhealthy | Healthy
# plus attack-sequence.json (AttackSequence:*), aimed at the notifying function below.
# With finding_source = "securityhub", the finding rules take infra/patterns/securityhub/<name>.json
# instead (Security Hub Findings - Imported from GuardDuty, Types *:Runtime-*, by resource
# type): a finding rule listens to one source only, so no finding is contained twice.

locals {
  pattern_files = {
    for name in distinct(concat(keys(local.functions), local.surfaces)) : name => (
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

# Never drop a Runtime finding. A surface whose function is off keeps its rule, aimed at a
# notifying function: the first enabled of ec2, ecs, eks. Its handler does not contain
# another surface's resources: it decides `notify` ("no executor deployed for ecs").
# Attack sequences (Extended Threat Detection) span surfaces: one rule, aimed at the same
# function, which notifies them with their story (and contains the resources of its own
# surface when a playbook rule says `contain`; see docs/playbook.md).

locals {
  surfaces = ["ec2", "ecs", "eks"]
  notifier = try([for s in local.surfaces : s if contains(keys(local.functions), s)][0], null)
  # Rules aimed at the notifier: key => { name, description, pattern file }.
  notifier_rules = local.notifier == null ? {} : merge(
    {
      for s in local.surfaces : s => {
        name        = "${var.name_prefix}-${s}-notify-only"
        description = "GuardDuty Runtime Monitoring ${s} findings, notified by the ${local.notifier} function (no ${s} function deployed)"
        pattern     = local.pattern_files[s]
      } if !contains(keys(local.functions), s)
    },
    {
      attack-sequences = {
        name        = "${var.name_prefix}-attack-sequences"
        description = "GuardDuty AttackSequence findings, notified by the ${local.notifier} function"
        pattern     = "${local.patterns_dir}/attack-sequence.json"
      }
    },
  )
}

check "runtime_findings_have_a_receiver" {
  assert {
    condition     = local.notifier != null
    error_message = "No ec2, ecs or eks function is enabled: Runtime findings reach no function and are not even notified."
  }
}

resource "aws_cloudwatch_event_rule" "notifier" {
  for_each = local.notifier_rules

  name           = each.value.name
  description    = each.value.description
  event_bus_name = var.event_bus_name
  event_pattern  = file(each.value.pattern)
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "notifier" {
  for_each = local.notifier_rules

  rule           = aws_cloudwatch_event_rule.notifier[each.key].name
  event_bus_name = var.event_bus_name
  target_id      = "responder-${local.notifier}"
  arn            = aws_lambda_function.this[local.notifier].arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

resource "aws_lambda_permission" "notifier" {
  for_each = local.notifier_rules

  statement_id   = "AllowEventBridgeRule-${each.key}"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this[local.notifier].function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.notifier[each.key].arn
  source_account = local.account_id
}
