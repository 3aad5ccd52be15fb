# The reminder's reach (other accounts, EKS clusters) and the interactions function's
# rate-limit alarms as planned, offline (`terraform test` in infra/check.sh; no AWS call).

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "111122223333" }
}

override_data {
  target = data.aws_partition.current
  values = { partition = "aws" }
}

override_data {
  target = data.aws_region.current
  values = { name = "us-east-1" }
}

variables {
  name_prefix     = "guardduty-responder"
  lambda_zip_dir  = "tests/zips"
  functions       = { ec2 = { enabled = true } }
  enable_reminder = true
}

# This account only, no cluster: the role assumes nothing and describes no cluster.
run "the_reminder_reads_this_account_only_by_default" {
  command = plan

  assert {
    condition     = local.reminder_member_roles == [] && local.reminder_cluster_arns == []
    error_message = "The reminder reaches beyond this account's records by default."
  }

  assert {
    condition     = local.reminder_reach_env["RESPONDER_CROSS_ACCOUNT_ROLE"] == ""
    error_message = "No member role is named without reminder_accounts."
  }

  assert {
    condition     = length(aws_eks_access_entry.reminder) == 0
    error_message = "No access entry without reminder_eks_cluster_names."
  }
}

# Another account and a cluster: the read-only role of that account only (never this
# one's), the cluster in both accounts, an access entry here mapping to the reader group.
run "other_accounts_through_their_reader_role_and_clusters_through_the_reader_group" {
  command = plan

  variables {
    reminder_accounts          = ["111122223333", "444455556666"]
    reminder_eks_cluster_names = ["prod"]
  }

  assert {
    condition     = local.reminder_member_roles == ["arn:aws:iam::444455556666:role/guardduty-responder-reader"]
    error_message = "The reminder may assume something else than the member accounts' reader role."
  }

  assert {
    condition = toset(local.reminder_cluster_arns) == toset([
      "arn:aws:eks:*:111122223333:cluster/prod",
      "arn:aws:eks:*:444455556666:cluster/prod",
    ])
    error_message = "DescribeCluster is not scoped to the named clusters."
  }

  assert {
    condition     = aws_eks_access_entry.reminder["prod"].kubernetes_groups == toset(["guardduty-responder-reader"])
    error_message = "The reminder's access entry must map to the reader group only."
  }

  assert {
    condition = (
      local.reminder_reach_env["RESPONDER_REMINDER_ACCOUNTS"] == "111122223333,444455556666"
      && local.reminder_reach_env["RESPONDER_REMINDER_CLUSTERS"] == "prod"
      && local.reminder_reach_env["RESPONDER_CROSS_ACCOUNT_ROLE"] == "guardduty-responder-reader"
    )
    error_message = "The reminder's settings do not name what Terraform grants."
  }
}

# A click's containment is rate-limited like a finding's: its refusals and fail-open
# admissions alarm under the interactions function's name.
run "the_interactions_function_has_the_rate_limit_alarms" {
  command = plan

  variables {
    slack_interactions = { enabled = true, approvers = ["U0123ABCD"], releasers = ["U0123ABCD"] }
  }

  assert {
    condition = alltrue([
      for k in ["interactions/rate-limit-refused", "interactions/rate-limiter-unavailable"] :
      aws_cloudwatch_metric_alarm.responder[k].dimensions["Function"] == "guardduty-responder-interactions"
    ])
    error_message = "The interactions function's rate-limit metrics have no alarm."
  }
}
