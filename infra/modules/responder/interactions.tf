# The interactions function (functions/interactions): Slack's button clicks on the alerts
# (Contain, Release, Acknowledge) through a Lambda function URL. Off unless
# slack_interactions.enabled. The URL has no AWS authentication (Slack cannot sign AWS
# requests): the function verifies Slack's request signature, refuses replays (the
# idempotency table), checks the allow-lists, and trusts nothing from a click but the
# finding reference, which it fetches from GuardDuty and re-plans.
#
# With cross_account_role_name it acts in member accounts too: for a member account's
# finding it assumes <cross_account_role_name>-<surface> there, the surface being that of
# the finding GuardDuty returns (RESPONDER_MEMBER_ROLE_PREFIX). Each member role trusts it
# only when ../member-role is given interactions_role_arn. A click's containment takes the
# same hourly budgets as the finding functions (the rate-limit table).

locals {
  interactions          = var.slack_interactions.enabled
  interactions_name     = "${var.name_prefix}-interactions"
  interactions_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/${local.interactions_name}"
  interactions_zip      = "${var.lambda_zip_dir}/responder-interactions/bootstrap.zip"
  # The surfaces' containment and release actions, scoped as their own functions' are.
  interactions_surfaces = local.interactions ? toset(["ec2", "ecs", "eks"]) : toset([])

  # Where each release-only action may act: this account's resources of its type.
  arn_prefix = "arn:${local.partition}:%s:${local.region}:${local.account_id}:%s"
  interactions_release_scope = {
    "autoscaling:DescribeAutoScalingGroups" = ["*"] # Describe calls have no resource type.
    "ec2:AssociateAddress" = [
      format(local.arn_prefix, "ec2", "instance/*"),
      format(local.arn_prefix, "ec2", "elastic-ip/*"),
      format(local.arn_prefix, "ec2", "network-interface/*"),
    ]
    "autoscaling:AttachInstances"          = [format(local.arn_prefix, "autoscaling", "autoScalingGroup:*")]
    "autoscaling:ExitStandby"              = [format(local.arn_prefix, "autoscaling", "autoScalingGroup:*")]
    "ec2:DeleteNetworkAclEntry"            = [format(local.arn_prefix, "ec2", "network-acl/*")]
    "elasticloadbalancing:RegisterTargets" = [format(local.arn_prefix, "elasticloadbalancing", "targetgroup/*")]
    # The revocation policy lives on the revocable workload roles only.
    "iam:GetRolePolicy"    = var.revocable_role_arns
    "iam:DeleteRolePolicy" = var.revocable_role_arns
    "ecs:UntagResource"    = [format(local.arn_prefix, "ecs", "task/*")]
  }
  # The member roles of the three surfaces, in the organisation's accounts only.
  interactions_assume_statements = local.cross_account ? [{
    Sid       = "AssumeTheFindingSurfacesMemberRole"
    Effect    = "Allow"
    Action    = [for a in local.interactions_permissions : a if startswith(a, "sts:")]
    Resource  = [for s in ["ec2", "ecs", "eks"] : "arn:${local.partition}:iam::*:role/${var.cross_account_role_name}-${s}"]
    Condition = { StringEquals = { "aws:ResourceOrgID" = [var.organization_id] } }
  }] : []
  interactions_release_statements = [
    for act in local.interactions_release_permissions : {
      Sid      = "Release${replace(title(replace(act, ":", " ")), " ", "")}"
      Effect   = "Allow"
      Action   = [act]
      Resource = local.interactions_release_scope[act]
    } if length(local.interactions_release_scope[act]) > 0
  ]
}

resource "aws_secretsmanager_secret" "slack_signing_secret" {
  #checkov:skip=CKV2_AWS_57:The signing secret is issued by Slack (app settings, Basic Information); it is regenerated there and put again with put-secret-value.
  count                   = local.interactions ? 1 : 0
  name                    = "${var.name_prefix}/slack-signing-secret"
  description             = "Slack app signing secret for ${var.name_prefix}-interactions. Value set out of band: aws secretsmanager put-secret-value."
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

# The bot token (xoxb-…, scope usergroups:read), only when an allow-list names user groups.
resource "aws_secretsmanager_secret" "slack_bot_token" {
  #checkov:skip=CKV2_AWS_57:A Slack bot token is reissued in Slack (OAuth & Permissions), not by a rotation Lambda.
  count                   = local.interactions && var.slack_interactions.bot_token ? 1 : 0
  name                    = "${var.name_prefix}/slack-bot-token"
  description             = "Slack bot token (usergroups:read) for ${var.name_prefix}-interactions. Value set out of band."
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

resource "aws_cloudwatch_log_group" "interactions" {
  count             = local.interactions ? 1 : 0
  name              = "/aws/lambda/${local.interactions_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_iam_role" "interactions" {
  count                = local.interactions ? 1 : 0
  name                 = local.interactions_name
  description          = "GuardDuty responder interactions function (Slack buttons)"
  assume_role_policy   = data.aws_iam_policy_document.assume_lambda["interactions"].json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

module "interactions_surface_policy" {
  source   = "../surface-policy"
  for_each = local.interactions_surfaces

  surface             = each.key
  actions             = local.permissions[each.key]
  partition           = local.partition
  account_id          = local.account_id
  region              = local.region
  eks_cluster_names   = var.eks_cluster_names
  record_mac_keys     = [aws_kms_key.record_mac.arn]
  revocable_role_arns = var.revocable_role_arns
  protected_role_arns = ["arn:${local.partition}:iam::${local.account_id}:role/${var.name_prefix}-*"]
  sid_prefix          = "Surface${title(each.key)}"
}

# One managed policy per surface: the three together would pass an inline policy's size limit.
resource "aws_iam_policy" "interactions_surface" {
  for_each = local.interactions_surfaces

  name   = "${local.interactions_name}-${each.key}"
  policy = jsonencode({ Version = "2012-10-17", Statement = module.interactions_surface_policy[each.key].statements })
  tags   = var.tags
}

resource "aws_iam_role_policy_attachment" "interactions_surface" {
  for_each = local.interactions_surfaces

  role       = aws_iam_role.interactions[0].name
  policy_arn = aws_iam_policy.interactions_surface[each.key].arn
}

resource "aws_iam_role_policy" "interactions" {
  count = local.interactions ? 1 : 0
  name  = "responder"
  role  = aws_iam_role.interactions[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "FetchTheClickedFinding"
        Effect   = "Allow"
        Action   = [for a in local.interactions_permissions : a if startswith(a, "guardduty:")]
        Resource = ["arn:${local.partition}:guardduty:${local.region}:${local.account_id}:detector/*"]
      },
      {
        Sid      = "ResolveReleasedFindingsInSecurityHub"
        Effect   = "Allow"
        Action   = [for a in local.interactions_permissions : a if startswith(a, "securityhub:")]
        Resource = ["arn:${local.partition}:securityhub:*:${local.account_id}:hub/default"]
      },
      {
        Sid      = "InvokeItselfAsynchronously"
        Effect   = "Allow"
        Action   = [for a in local.interactions_permissions : a if startswith(a, "lambda:")]
        Resource = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.interactions_name}"]
      },
      {
        Sid      = "ReadTheSlackSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = concat(aws_secretsmanager_secret.slack_signing_secret[*].arn, aws_secretsmanager_secret.slack_bot_token[*].arn)
      },
      {
        Sid      = "ContainmentBudgets"
        Effect   = "Allow"
        Action   = ["dynamodb:UpdateItem"]
        Resource = [aws_dynamodb_table.rate_limit.arn]
      },
      {
        Sid      = "RateLimitAlert"
        Effect   = "Allow"
        Action   = [for a in local.interactions_permissions : a if startswith(a, "sns:")]
        Resource = [aws_sns_topic.notifications.arn]
      },
      {
        Sid      = "FailedJobsToTheDeadLetterQueue"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [aws_sqs_queue.dlq.arn]
      },
      {
        Sid      = "SecretsAndTableKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [aws_kms_key.this.arn]
      },
      {
        Sid      = "SeenSignaturesAndExactlyOnceRecords"
        Effect   = "Allow"
        Action   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:DeleteItem"]
        Resource = [aws_dynamodb_table.idempotency.arn]
      },
      ], local.interactions_release_statements, local.interactions_assume_statements, [
      {
        Sid      = "RuntimeLogsToOwnLogGroup"
        Effect   = "Allow"
        Action   = [for a in local.runtime_permissions : a if startswith(a, "logs:")]
        Resource = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.interactions_name}:*"]
      },
      {
        Sid      = "RuntimeXRayTracing" # X-Ray write calls have no resource type.
        Effect   = "Allow"
        Action   = [for a in local.runtime_permissions : a if startswith(a, "xray:")]
        Resource = ["*"]
      },
    ])
  })
}

resource "aws_lambda_function" "interactions" {
  #checkov:skip=CKV_AWS_117:The function calls public AWS APIs and Slack; a VPC would add NAT or endpoints.
  #checkov:skip=CKV_AWS_116:Its asynchronous self-invocations go to the on-failure destination (aws_lambda_function_event_invoke_config.interactions); function-URL requests are synchronous.
  #checkov:skip=CKV_AWS_272:The zip comes from this repository's own cargo-lambda build; add a code_signing_config_arn where AWS Signer is in use.
  count = local.interactions ? 1 : 0

  function_name = local.interactions_name
  description   = "GuardDuty Runtime Monitoring responder: Slack buttons (contain, release, acknowledge)"
  role          = aws_iam_role.interactions[0].arn

  filename         = local.interactions_zip
  source_code_hash = fileexists(local.interactions_zip) ? filebase64sha256(local.interactions_zip) : null
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  handler          = "bootstrap"

  memory_size                    = var.slack_interactions.memory_size
  timeout                        = var.slack_interactions.timeout
  reserved_concurrent_executions = var.slack_interactions.reserved_concurrency
  kms_key_arn                    = aws_kms_key.this.arn

  environment {
    variables = merge(
      {
        RESPONDER_MODE                 = var.mode
        RESPONDER_CONFIG               = jsonencode(local.responder_config)
        RESPONDER_EXEMPT_TAG           = var.exempt_tag
        RESPONDER_HONOUR_EXEMPT_TAGS   = tostring(var.honour_exempt_tags)
        RESPONDER_PROTECTED_NAMESPACES = join(",", var.protected_namespaces)
        RESPONDER_IDEMPOTENCY_TABLE    = aws_dynamodb_table.idempotency.name
        RESPONDER_RATE_LIMIT_TABLE     = aws_dynamodb_table.rate_limit.name
        RESPONDER_SNS_TOPIC_ARN        = aws_sns_topic.notifications.arn
        # The same budgets as the finding functions: a click contains within them.
        RESPONDER_MAX_CONTAINMENTS_PER_HOUR             = tostring(var.max_containments_per_hour)
        RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR = tostring(var.max_containments_per_account_per_hour)
        RESPONDER_RECORD_MAC_KEY_ID                     = aws_kms_key.record_mac.arn
        RESPONDER_SLACK_SIGNING_SECRET_ARN              = aws_secretsmanager_secret.slack_signing_secret[0].arn
        RESPONDER_SLACK_APPROVERS                       = join(",", var.slack_interactions.approvers)
        RESPONDER_SLACK_RELEASERS                       = join(",", var.slack_interactions.releasers)
        # After a Release click, as `responder release --resolve-in-securityhub
        # --archive-in-guardduty` would (each opt-in).
        RESPONDER_SECURITYHUB_RESOLVE_ON_RELEASE = var.securityhub_write_back && var.slack_interactions.resolve_on_release ? "on" : "off"
        RESPONDER_GUARDDUTY_ARCHIVE_ON_RELEASE   = var.slack_interactions.archive_on_release ? "on" : "off"
      },
      var.slack_interactions.bot_token ? { RESPONDER_SLACK_BOT_TOKEN_ARN = aws_secretsmanager_secret.slack_bot_token[0].arn } : {},
      local.cross_account ? { RESPONDER_MEMBER_ROLE_PREFIX = var.cross_account_role_name } : {},
      var.cross_account_external_id == "" ? {} : { RESPONDER_CROSS_ACCOUNT_EXTERNAL_ID = var.cross_account_external_id },
    )
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.interactions[0].name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.interactions, aws_iam_role_policy_attachment.interactions_surface]

  lifecycle {
    precondition {
      condition     = fileexists(local.interactions_zip)
      error_message = "Missing ${local.interactions_zip}: build it first with `cargo lambda build --release --arm64 --output-format zip` (binary responder-interactions)."
    }
  }
}

resource "aws_lambda_function_event_invoke_config" "interactions" {
  count = local.interactions ? 1 : 0

  function_name                = aws_lambda_function.interactions[0].function_name
  maximum_retry_attempts       = 0 # A click is acted on once; the person clicks again.
  maximum_event_age_in_seconds = 300

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }
}

resource "aws_lambda_function_url" "interactions" {
  #checkov:skip=CKV_AWS_258:Slack cannot sign AWS (SigV4) requests, so the URL has no AWS authentication; the function verifies every request's Slack signature (v0, HMAC-SHA256 with the signing secret, five-minute window, replays refused) before anything else.
  count = local.interactions ? 1 : 0

  function_name      = aws_lambda_function.interactions[0].function_name
  authorization_type = "NONE"
}
