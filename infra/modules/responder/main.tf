data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # Deployed functions: name => settings. The four keys of var.functions share one type.
  functions = { for name, f in var.functions : name => f if f.enabled }

  function_names = { for name in keys(local.functions) : name => "${var.name_prefix}-${name}" }
  zip_paths      = { for name in keys(local.functions) : name => "${var.lambda_zip_dir}/responder-${name}/bootstrap.zip" }
  log_group_arns = {
    for name, fn in local.function_names : name => "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${fn}"
  }

  # EventBridge patterns: one JSON file per function under infra/patterns, the single
  # source of truth (a test evaluates every events/ sample against these files).
  patterns_dir = "${path.module}/../../patterns"

  cross_account = var.cross_account_role_name != ""

  # One member role per surface (../member-role), each trusting only that surface's function.
  member_role_names = {
    for name in keys(local.functions) : name => local.cross_account && name != "coverage" ? "${var.cross_account_role_name}-${name}" : ""
  }

  # The revocable role patterns reach the code as the revocation.role_arns option, so the
  # function refuses the roles IAM would refuse.
  # (A for-filter, not a conditional: the two branches would be objects of different types.)
  responder_config = merge(var.responder_config, {
    for k, v in { revocation = { role_arns = var.revocable_role_arns } } :
    k => v if length(var.revocable_role_arns) > 0
  })

  # Rule ARNs on the default bus have no bus segment.
  rule_arn_prefix = var.event_bus_name == "default" ? "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/" : "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${var.event_bus_name}/"

  role_arns = { for name in keys(local.functions) : name => "arn:${local.partition}:iam::${local.account_id}:role/${var.name_prefix}-${name}" }

  environment = merge(
    {
      RESPONDER_MODE                            = var.mode
      RESPONDER_CONFIG                          = jsonencode(local.responder_config)
      RESPONDER_EXEMPT_TAG                      = var.exempt_tag
      RESPONDER_HONOUR_EXEMPT_TAGS              = tostring(var.honour_exempt_tags)
      RESPONDER_PROTECTED_NAMESPACES            = join(",", var.protected_namespaces)
      RESPONDER_SNS_TOPIC_ARN                   = aws_sns_topic.notifications.arn
      RESPONDER_SLACK_SECRET_ARN                = aws_secretsmanager_secret.slack_webhook.arn
      RESPONDER_MAX_CONTAINMENTS_PER_HOUR       = tostring(var.max_containments_per_hour)
      RESPONDER_RATE_LIMIT_TABLE                = aws_dynamodb_table.rate_limit.name
      RESPONDER_IDEMPOTENCY_TABLE               = aws_dynamodb_table.idempotency.name
      RESPONDER_IDEMPOTENCY_IN_PROGRESS_SECONDS = tostring(local.idempotency_in_progress_seconds)
      RESPONDER_RECORD_MAC_KEY_ID               = aws_kms_key.record_mac.arn
      RESPONDER_SECURITYHUB_WRITE_BACK          = var.securityhub_write_back ? "on" : "off"
    },
    var.cross_account_external_id == "" ? {} : { RESPONDER_CROSS_ACCOUNT_EXTERNAL_ID = var.cross_account_external_id },
    var.enable_json_webhook ? { RESPONDER_WEBHOOK_SECRET_ARN = aws_secretsmanager_secret.json_webhook[0].arn } : {},
    # The functions accept the test rules' source only while those rules exist.
    var.enable_test_event_rules ? { RESPONDER_TEST_EVENT_SOURCE = var.test_event_source } : {},
    { RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR = tostring(var.max_containments_per_account_per_hour) },
  )

  # The coverage function's audit options, each only when set (unset: the function's default).
  coverage_environment = merge(
    var.coverage_detector_id == null ? {} : { RESPONDER_COVERAGE_DETECTOR_ID = var.coverage_detector_id },
    var.coverage_resource_type == null ? {} : { RESPONDER_COVERAGE_RESOURCE_TYPE = var.coverage_resource_type },
    var.coverage_require_tag == null ? {} : { RESPONDER_COVERAGE_REQUIRE_TAG = "${var.coverage_require_tag.key}=${var.coverage_require_tag.value}" },
  )

  function_environment = {
    for name in keys(local.functions) : name => merge(
      local.environment,
      { RESPONDER_CROSS_ACCOUNT_ROLE = local.member_role_names[name] },
      name == "coverage" ? local.coverage_environment : {},
      contains(local.evidence_writers, name) ? { RESPONDER_EVIDENCE_BUCKET = local.evidence_bucket_name } : {},
      contains(local.evidence_writers, name) && local.evidence_kms_key_arn != null ? { RESPONDER_EVIDENCE_KMS_KEY_ARN = local.evidence_kms_key_arn } : {},
    )
  }
}
