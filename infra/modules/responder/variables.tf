variable "name_prefix" {
  description = "Prefix of every resource name; functions are named <prefix>-<ec2|ecs|eks|coverage>."
  type        = string
  default     = "guardduty-responder"

  validation {
    condition     = can(regex("^[a-zA-Z0-9-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 1-40 letters, digits or hyphens."
  }
}

variable "lambda_zip_dir" {
  description = "Directory holding responder-<name>/bootstrap.zip per function, as written by `cargo lambda build --release --arm64 --output-format zip` (target/lambda)."
  type        = string
}

variable "functions" {
  description = <<-EOT
    Which functions to deploy and how. ec2 handles Instance and Container findings, ecs
    ECSCluster findings, eks EKSCluster findings, coverage the Runtime Protection
    Healthy/Unhealthy events (and the optional scheduled audit). reserved_concurrency
    caps parallel containments (-1: no reservation, for accounts whose concurrency
    quota is too small to reserve).
  EOT
  type = object({
    ec2 = optional(object({
      enabled              = optional(bool, true)
      reserved_concurrency = optional(number, 5)
      memory_size          = optional(number, 256)
      timeout              = optional(number, 60)
    }), {})
    ecs = optional(object({
      enabled              = optional(bool, false)
      reserved_concurrency = optional(number, 5)
      memory_size          = optional(number, 256)
      timeout              = optional(number, 60)
    }), {})
    eks = optional(object({
      enabled              = optional(bool, false)
      reserved_concurrency = optional(number, 5)
      memory_size          = optional(number, 256)
      timeout              = optional(number, 60)
    }), {})
    coverage = optional(object({
      enabled              = optional(bool, true)
      reserved_concurrency = optional(number, 2)
      memory_size          = optional(number, 256)
      timeout              = optional(number, 60)
    }), {})
  })
  default = {}
}

variable "mode" {
  description = "RESPONDER_MODE: enforce (contain) or dry-run (plan and notify only)."
  type        = string
  default     = "enforce"

  validation {
    condition     = contains(["enforce", "dry-run"], var.mode)
    error_message = "mode must be \"enforce\" or \"dry-run\"."
  }
}

variable "responder_config" {
  description = "Configuration document passed as RESPONDER_CONFIG (JSON): playbook rules, guardrails, ec2/ecs/eks options."
  type        = any
  default     = {}
}

variable "exempt_tag" {
  description = "RESPONDER_EXEMPT_TAG: tag key whose exact value \"true\" exempts a resource from containment when honour_exempt_tags is on. On Kubernetes its first \":\" is written \"/\" (guardduty-responder/exempt). Keep it under the tag-guard SCP's protected_tag_keys."
  type        = string
  default     = "guardduty-responder:exempt"
}

variable "honour_exempt_tags" {
  description = "RESPONDER_HONOUR_EXEMPT_TAGS: whether exempt_tag = true on a resource (instance, ECS cluster/task, EKS cluster, pod label/annotation) exempts it. Off: the workload being contained can often tag itself. Turn on only with ../tag-guard's SCP attached and the Kubernetes admission policy protecting the label. Configuration-owned exemptions (responder_config.guardrails.exemptions) need neither."
  type        = bool
  default     = false
}

variable "protected_namespaces" {
  description = "RESPONDER_PROTECTED_NAMESPACES: Kubernetes namespaces never contained, in addition to kube-system and amazon-guardduty."
  type        = list(string)
  default     = []
}

variable "cross_account_role_name" {
  description = "RESPONDER_CROSS_ACCOUNT_ROLE: role (from ../member-role) assumed in the finding's account when it is not this one. Empty disables cross-account action and sts:AssumeRole."
  type        = string
  default     = ""
}

variable "cross_account_external_id" {
  description = "External id the member roles require, passed as RESPONDER_CROSS_ACCOUNT_EXTERNAL_ID when non-empty."
  type        = string
  default     = ""
}

variable "max_containments_per_hour" {
  description = "RESPONDER_MAX_CONTAINMENTS_PER_HOUR: past this many containments in an hour over all accounts, a function downgrades to notify-only (0: no global budget)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_containments_per_hour >= 0 && floor(var.max_containments_per_hour) == var.max_containments_per_hour
    error_message = "max_containments_per_hour must be a non-negative integer."
  }
}

variable "max_containments_per_account_per_hour" {
  description = "RESPONDER_MAX_CONTAINMENTS_PER_ACCOUNT_PER_HOUR: past this many containments in an hour in one account, findings of that account are only notified (0: no per-account budget)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_containments_per_account_per_hour >= 0 && floor(var.max_containments_per_account_per_hour) == var.max_containments_per_account_per_hour
    error_message = "max_containments_per_account_per_hour must be a non-negative integer."
  }
}

variable "rate_limit_table_deletion_protection" {
  description = "Deletion protection of the rate-limit DynamoDB table."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the functions' CloudWatch log groups."
  type        = number
  default     = 365
}

variable "application_log_level" {
  description = "Lambda JSON logging: lowest application log level kept (TRACE, DEBUG, INFO, WARN, ERROR, FATAL)."
  type        = string
  default     = "INFO"
}

variable "system_log_level" {
  description = "Lambda JSON logging: lowest platform log level kept (DEBUG, INFO, WARN)."
  type        = string
  default     = "WARN"
}

variable "snapshot_follow_up_reserved_concurrency" {
  description = "Reserved concurrency of the forensic snapshot follow-up (<name_prefix>-ec2-snapshots, deployed with ec2.forensic_snapshots). Every snapshot completed in the account invokes it; a burst queues there (up to async_max_event_age_seconds) instead of taking the ec2 function's."
  type        = number
  default     = 2

  validation {
    condition     = var.snapshot_follow_up_reserved_concurrency >= 1
    error_message = "snapshot_follow_up_reserved_concurrency must be at least 1: without a reservation the follow-up would share the account's unreserved pool."
  }
}

variable "async_max_event_age_seconds" {
  description = "How long Lambda keeps retrying an asynchronous event (throttles included) before dead-lettering it."
  type        = number
  default     = 21600
}

variable "event_bus_name" {
  description = "Event bus GuardDuty findings arrive on (default: the account's default bus)."
  type        = string
  default     = "default"
}

variable "eks_cluster_names" {
  description = "EKS clusters of this account the eks function may act on: gets an access entry each (authentication mode API or API_AND_CONFIG_MAP) and scopes eks:DescribeCluster. Empty: DescribeCluster on any cluster, no access entries."
  type        = list(string)
  default     = []
}

variable "create_eks_access_entries" {
  description = "Create the access entries of eks_cluster_names (false: the clusters' entries are managed elsewhere, e.g. by the cluster's own stack, or the API cannot create them, as in the moto deploy test). eks:DescribeCluster stays scoped to eks_cluster_names either way."
  type        = bool
  default     = true
}

variable "revocable_role_arns" {
  description = "Workload role ARN patterns (ECS task roles, EC2 instance profile roles, EKS IRSA/Pod Identity roles) the functions may write the session-revocation inline policy on (iam:PutRolePolicy) and, on EKS, read (iam:GetRole), e.g. arn:aws:iam::*:role/workloads/*; also passed as the revocation.role_arns option. Empty: revocation off, neither action granted. Never every role (role/*)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "organization_id" {
  description = "AWS Organizations id (o-...). Required with cross_account_role_name: the functions may only assume member roles in accounts of this organization (aws:ResourceOrgID)."
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", coalesce(var.organization_id, "-")))
    error_message = "organization_id must look like o-xxxxxxxxxx."
  }
}

variable "enable_runtime_monitoring" {
  description = "Manage the detector's RUNTIME_MONITORING feature and its agent-management toggles here."
  type        = bool
  default     = false
}

variable "detector_id" {
  description = "GuardDuty detector id for enable_runtime_monitoring; null: the region's only detector."
  type        = string
  default     = null
}

variable "runtime_monitoring_agent_management" {
  description = "Automated agent management per resource type, when enable_runtime_monitoring is true."
  type = object({
    eks         = optional(bool, true)
    ecs_fargate = optional(bool, true)
    ec2         = optional(bool, true)
  })
  default = {}
}

variable "enable_coverage_schedule" {
  description = "Invoke the coverage function on a schedule (EventBridge Scheduler) for a full coverage audit."
  type        = bool
  default     = false
}

variable "coverage_schedule_expression" {
  description = "Schedule of the coverage audit."
  type        = string
  default     = "rate(1 hour)"
}

variable "coverage_detector_id" {
  description = "RESPONDER_COVERAGE_DETECTOR_ID (coverage function only): detector the scheduled audit reads. null: the region's only detector (guardduty:ListDetectors)."
  type        = string
  default     = null

  validation {
    condition     = var.coverage_detector_id == null || can(regex("^[a-z0-9]{1,300}$", var.coverage_detector_id))
    error_message = "coverage_detector_id must be a GuardDuty detector id (lowercase letters and digits, at most 300)."
  }
}

variable "coverage_resource_type" {
  description = "RESPONDER_COVERAGE_RESOURCE_TYPE (coverage function only): audit only EKS, ECS or EC2 coverage. null: every resource type."
  type        = string
  default     = null

  validation {
    condition     = var.coverage_resource_type == null || contains(["EKS", "ECS", "EC2"], coalesce(var.coverage_resource_type, "-"))
    error_message = "coverage_resource_type must be \"EKS\", \"ECS\" or \"EC2\" (or null)."
  }
}

variable "coverage_require_tag" {
  description = "RESPONDER_COVERAGE_REQUIRE_TAG (coverage function only), passed as KEY=VALUE: the audit only alerts on unhealthy resources carrying this tag (tag:GetResources); the others are listed as not tagged. null: every unhealthy resource alerts."
  type = object({
    key   = string
    value = string
  })
  default = null

  validation {
    condition = var.coverage_require_tag == null || (
      can(regex("^[^=]{1,128}$", try(var.coverage_require_tag.key, ""))) &&
      trimspace(try(var.coverage_require_tag.key, "")) != "" &&
      length(try(var.coverage_require_tag.value, "")) <= 256
    )
    error_message = "coverage_require_tag.key must be 1-128 characters without \"=\" (and not blank); value at most 256 characters."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the module's KMS key is deleted."
  type        = number
  default     = 30
}

variable "secret_recovery_window_days" {
  description = "Recovery window of the Slack webhook secret (0 deletes at once)."
  type        = number
  default     = 7
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary attached to every role the module creates."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "finding_source" {
  description = "Where the finding rules listen: \"guardduty\" (GuardDuty Finding events) or \"securityhub\" (Security Hub Findings - Imported events of GuardDuty findings, for organisations that send GuardDuty to Security Hub and subscribe there). One or the other, never both, so no finding is contained twice. Coverage (Runtime Protection health) always listens to GuardDuty."
  type        = string
  default     = "guardduty"

  validation {
    condition     = contains(["guardduty", "securityhub"], var.finding_source)
    error_message = "finding_source is \"guardduty\" or \"securityhub\"."
  }
}

variable "enable_test_event_rules" {
  description = "Also route events with source test_event_source (same patterns otherwise), so `aws events put-events` of an events/ sample reaches the functions. For a verification window only: whoever may call events:PutEvents can then forge findings."
  type        = bool
  default     = false
}

variable "test_event_source" {
  description = "Source of the forged test events accepted while enable_test_event_rules is true (must not start with \"aws.\")."
  type        = string
  default     = "guardduty-responder.test"

  validation {
    condition     = !startswith(var.test_event_source, "aws.")
    error_message = "EventBridge does not accept PutEvents with an \"aws.\" source."
  }
}

variable "release_operator_arns" {
  description = "IAM principals that run `responder release` and may verify record MACs (kms:VerifyMac on the record MAC key)."
  type        = list(string)
  default     = []
}

variable "record_mac_member_role_arns" {
  description = "Member-account roles the responder assumes (cross_account_role_name in each account): they MAC and verify records there, so the record MAC key allows them kms:GenerateMac and kms:VerifyMac."
  type        = list(string)
  default     = []
}

variable "idempotency_table_deletion_protection" {
  description = "Deletion protection of the idempotency (exactly-once) DynamoDB table."
  type        = bool
  default     = true
}

variable "eks_vpc_config" {
  description = "Run the eks function in these subnets with these security groups, to reach clusters whose API endpoint is private or CIDR-restricted (see infra/README.md for the endpoint access it then needs). null: outside any VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition     = var.eks_vpc_config == null || (length(try(var.eks_vpc_config.subnet_ids, [])) > 0 && length(try(var.eks_vpc_config.security_group_ids, [])) > 0)
    error_message = "eks_vpc_config needs at least one subnet id and one security group id."
  }
}

variable "time_to_isolation_p99_threshold_seconds" {
  description = "Alarm when the p99 of TimeToIsolation (a finding's updatedAt to its workload isolated) over an hour is above this many seconds."
  type        = number
  default     = 900

  validation {
    condition     = var.time_to_isolation_p99_threshold_seconds > 0
    error_message = "time_to_isolation_p99_threshold_seconds must be positive."
  }
}

variable "no_invocation_alarm_days" {
  description = "Alarm when GuardDuty published Runtime findings but no finding function was invoked for this many days (a broken rule). CloudWatch evaluates at most 7 days."
  type        = number
  default     = 3

  validation {
    condition     = var.no_invocation_alarm_days >= 1 && var.no_invocation_alarm_days <= 7 && floor(var.no_invocation_alarm_days) == var.no_invocation_alarm_days
    error_message = "no_invocation_alarm_days must be a whole number from 1 to 7."
  }
}

variable "enable_dashboard" {
  description = "Create the CloudWatch dashboard <name_prefix> (infra/README.md describes its widgets)."
  type        = bool
  default     = true
}

variable "securityhub_write_back" {
  description = "RESPONDER_SECURITYHUB_WRITE_BACK: after each response, BatchUpdateFindings on the finding's Security Hub counterpart (Workflow NOTIFIED, a note with the decision and each action's outcome, UserDefinedFields naming the responder), and grant securityhub:BatchUpdateFindings. Turn off where Security Hub is not enabled: each write-back would be a failed delivery."
  type        = bool
  default     = true
}

variable "enable_json_webhook" {
  description = "Create the secret <name_prefix>/json-webhook ({\"url\", \"signing_key\"}, value put out of band) and pass it as RESPONDER_WEBHOOK_SECRET_ARN: every response is also POSTed as one signed JSON document (docs/webhook.schema.json)."
  type        = bool
  default     = false
}

variable "evidence_bucket_arn" {
  description = "Existing evidence bucket (e.g. in a separate forensic account) the functions write bundles to. null: this module creates one (evidence.tf). With an existing bucket only the write grant is made here; its Object Lock, encryption and bucket policy are that account's (docs/evidence.md)."
  type        = string
  default     = null

  validation {
    condition     = var.evidence_bucket_arn == null || can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.evidence_bucket_arn, "-")))
    error_message = "evidence_bucket_arn must be a bucket ARN (arn:aws:s3:::name), without a key."
  }
}

variable "evidence_object_lock_mode" {
  description = "Default Object Lock retention mode of the created evidence bucket: GOVERNANCE (s3:BypassGovernanceRetention, denied by the bucket policy to all but evidence_admin_principal_arns, can lift it) or COMPLIANCE (nobody, not even the account root, can shorten it)."
  type        = string
  default     = "GOVERNANCE"

  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.evidence_object_lock_mode)
    error_message = "evidence_object_lock_mode must be GOVERNANCE or COMPLIANCE."
  }
}

variable "evidence_retention_days" {
  description = "Default Object Lock retention of every evidence object version, in days."
  type        = number
  default     = 365

  validation {
    condition     = var.evidence_retention_days >= 1 && floor(var.evidence_retention_days) == var.evidence_retention_days
    error_message = "evidence_retention_days must be a positive integer."
  }
}

variable "evidence_admin_principal_arns" {
  description = "Break-glass principals (IAM role/user ARNs) exempt from the evidence bucket policy's denials: deleting versions, bypassing governance retention, changing retention, legal holds, lifecycle, versioning, Object Lock or the policy itself. Empty: nobody but the account root user (which can always replace a bucket policy) can; Terraform then cannot update the bucket policy either, so name the deploying role here to keep managing it."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "evidence_kms_key_arn" {
  description = "With evidence_bucket_arn: the KMS key that bucket encrypts with, on which the functions get kms:GenerateDataKey (through S3 only). null: no KMS grant (an SSE-S3 bucket). Ignored when this module creates the bucket (it creates the key too)."
  type        = string
  default     = null
}

variable "slack_interactions" {
  description = <<-EOT
    The interactions function behind a Lambda function URL: Slack's Contain, Release and
    Acknowledge buttons on the alerts. approvers may Contain, releasers may Release (Slack
    user ids U…/W… or user-group ids S…; a group needs bot_token, which creates the
    <prefix>/slack-bot-token secret for a token with usergroups:read). The signing secret
    goes in <prefix>/slack-signing-secret. After a completed Release click the finding is
    marked RESOLVED in Security Hub (resolve_on_release, with securityhub_write_back) and,
    with archive_on_release, archived in GuardDuty. See infra/README.md, "Acting from Slack".
  EOT
  type = object({
    enabled              = optional(bool, false)
    approvers            = optional(list(string), [])
    releasers            = optional(list(string), [])
    bot_token            = optional(bool, false)
    reserved_concurrency = optional(number, 5)
    memory_size          = optional(number, 256)
    timeout              = optional(number, 120)
    resolve_on_release   = optional(bool, true)
    archive_on_release   = optional(bool, false)
  })
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      for id in concat(var.slack_interactions.approvers, var.slack_interactions.releasers) :
      can(regex("^[UWS][A-Z0-9]{2,31}$", id))
    ])
    error_message = "slack_interactions.approvers and releasers hold Slack user ids (U…, W…) and user-group ids (S…)."
  }
}

variable "enable_reminder" {
  description = "Deploy the quarantine reminder (function <name_prefix>-reminder, EventBridge Scheduler): posts quarantines older than reminder_min_age_hours to SNS and Slack, each with a Release button."
  type        = bool
  default     = false
}

variable "reminder_schedule_expression" {
  description = "When the reminder runs (EventBridge Scheduler expression, UTC)."
  type        = string
  default     = "cron(0 8 ? * MON-FRI *)"
}

variable "reminder_min_age_hours" {
  description = "RESPONDER_REMINDER_MIN_AGE_HOURS: remind of quarantines at least this many hours old (1-8760)."
  type        = number
  default     = 24

  validation {
    condition     = var.reminder_min_age_hours >= 1 && var.reminder_min_age_hours <= 8760 && floor(var.reminder_min_age_hours) == var.reminder_min_age_hours
    error_message = "reminder_min_age_hours must be a whole number of hours, 1-8760."
  }
}

variable "reminder_regions" {
  description = "RESPONDER_REMINDER_REGIONS: regions of this account whose quarantines the reminder reads. Empty: the deployment's region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.reminder_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", r))])
    error_message = "reminder_regions must be AWS region names such as eu-west-1."
  }
}

variable "evidence_member_account_ids" {
  description = "Member accounts whose member roles (<cross_account_role_name>-<surface>, ../member-role with its evidence_bucket_arn set) may write bundles to the created evidence bucket: the bucket policy allows them s3:PutObject under evidence/<their own account>/* and denies them everything else, and the key policy allows them kms:GenerateDataKey through S3. Needs cross_account_role_name and organization_id. Empty (and evidence_member_organization false): a containment in a member account writes no bundle (a failed outcome). Adding an account later updates the bucket policy, which the policy denies to all but evidence_admin_principal_arns."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.evidence_member_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "evidence_member_account_ids must be 12-digit account ids."
  }
}

variable "evidence_member_organization" {
  description = "As evidence_member_account_ids, for the member roles of every account in organization_id (aws:PrincipalOrgID): no policy update when an account joins."
  type        = bool
  default     = false
  nullable    = false
}

variable "reminder_eks_cluster_names" {
  description = "RESPONDER_REMINDER_CLUSTERS: EKS clusters whose quarantines the reminder reads, in each reminder region and account. Each cluster must map the reminder's role to the Kubernetes group guardduty-responder-reader (infra/kubernetes/reader-rbac.yaml); in this account the access entries are created (with create_eks_access_entries). Empty: EKS is not read."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.reminder_eks_cluster_names : can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$", c))])
    error_message = "reminder_eks_cluster_names must be EKS cluster names."
  }
}

variable "reminder_accounts" {
  description = "RESPONDER_REMINDER_ACCOUNTS: accounts whose quarantines the reminder reads (include this one to keep reading it). Every other account needs the read-only role of ../member-role (reader_principal_arn = this module's reminder_role_arn), named reminder_member_role_name. Empty: this account only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.reminder_accounts : can(regex("^[0-9]{12}$", a))])
    error_message = "reminder_accounts must be 12-digit account ids."
  }
}

variable "reminder_member_role_name" {
  description = "The read-only role the reminder assumes in the other reminder_accounts (../member-role's reader_role_name)."
  type        = string
  default     = "guardduty-responder-reader"
}
