resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${local.function_names[each.key]}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions call public AWS APIs and the Slack webhook; a VPC would add NAT or endpoints. The eks function takes one (eks_vpc_config) for private cluster endpoints.
  #checkov:skip=CKV_AWS_116:Failures go to the on-failure destination (aws_lambda_function_event_invoke_config), which records the request and the error; a legacy DLQ as well would duplicate every record.
  #checkov:skip=CKV_AWS_272:Zips come from this repository's own cargo-lambda build; add a code_signing_config_arn where AWS Signer is in use.
  for_each = local.functions

  function_name = local.function_names[each.key]
  description   = "GuardDuty Runtime Monitoring responder: ${each.key}"
  role          = aws_iam_role.function[each.key].arn

  filename         = local.zip_paths[each.key]
  source_code_hash = fileexists(local.zip_paths[each.key]) ? filebase64sha256(local.zip_paths[each.key]) : null
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  handler          = "bootstrap"

  memory_size                    = each.value.memory_size
  timeout                        = each.value.timeout
  reserved_concurrent_executions = each.value.reserved_concurrency
  kms_key_arn                    = aws_kms_key.this.arn

  environment {
    variables = local.function_environment[each.key]
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function[each.key].name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  tracing_config {
    mode = "Active"
  }

  # Only the eks function, only when asked: private cluster API endpoints.
  dynamic "vpc_config" {
    for_each = each.key == "eks" && var.eks_vpc_config != null ? [var.eks_vpc_config] : []
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.function]

  lifecycle {
    precondition {
      condition     = fileexists(local.zip_paths[each.key])
      error_message = "Missing ${local.zip_paths[each.key]}: build it first with `cargo lambda build --release --arm64 --output-format zip` (binary responder-${each.key})."
    }
  }
}

resource "aws_lambda_function_event_invoke_config" "this" {
  for_each = local.functions

  function_name                = aws_lambda_function.this[each.key].function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = var.async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }
}
