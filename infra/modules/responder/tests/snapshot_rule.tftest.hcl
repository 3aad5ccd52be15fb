# The follow-up rule of ec2.forensic_snapshots (snapshot_rule.tf), computed offline
# (`terraform test` in infra/check.sh; the account lookups are overridden).

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
  name_prefix    = "guardduty-responder"
  lambda_zip_dir = "tests/zips"
  functions      = { ec2 = { enabled = true } }
}

run "no_rule_without_forensic_snapshots" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_event_rule.snapshot_completed) == 0 && length(aws_lambda_permission.snapshot_completed) == 0 && length(aws_cloudwatch_event_target.snapshot_completed) == 0 && length(aws_lambda_function.snapshot_follow_up) == 0
    error_message = "The snapshot rule or its function exists although ec2.forensic_snapshots is not configured."
  }
}

run "createSnapshot_succeeded_on_the_default_bus_invokes_the_follow_up_function" {
  command = plan

  variables {
    responder_config = {
      ec2 = {
        forensic_snapshots = {
          account_id  = "999988887777"
          kms_key_arn = "arn:aws:kms:us-east-1:999988887777:key/0b4e2c1a-1111-2222-3333-444455556666"
        }
      }
    }
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.snapshot_completed[0].event_pattern) == {
      source        = ["aws.ec2"]
      "detail-type" = ["EBS Snapshot Notification"]
      detail        = { event = ["createSnapshot"], result = ["succeeded"] }
    }
    error_message = "The snapshot rule's pattern is not EBS createSnapshot succeeded only."
  }

  assert {
    condition     = aws_cloudwatch_event_rule.snapshot_completed[0].event_bus_name == "default" && aws_cloudwatch_event_target.snapshot_completed[0].event_bus_name == "default"
    error_message = "EBS notifications reach the default bus only."
  }

  assert {
    condition     = aws_lambda_permission.snapshot_completed[0].function_name == "guardduty-responder-ec2-snapshots" && aws_lambda_permission.snapshot_completed[0].principal == "events.amazonaws.com" && aws_lambda_permission.snapshot_completed[0].source_account == "111122223333"
    error_message = "The snapshot rule's permission is not the follow-up function's, for EventBridge in this account."
  }

  # Every snapshot of the account invokes the follow-up: never the function that contains
  # findings, and never without a reservation of its own.
  assert {
    condition     = aws_lambda_function.snapshot_follow_up[0].function_name != aws_lambda_function.this["ec2"].function_name && aws_lambda_function.snapshot_follow_up[0].reserved_concurrent_executions == 2 && aws_lambda_function.this["ec2"].reserved_concurrent_executions == 5
    error_message = "The snapshot follow-up shares the ec2 function's concurrency."
  }

  assert {
    condition     = length(aws_iam_role.function) == length(local.functions) && aws_lambda_function.snapshot_follow_up[0].logging_config[0].log_group == "/aws/lambda/guardduty-responder-ec2"
    error_message = "The follow-up must run with the ec2 role (no role of its own, no new grants) and log to the ec2 log group (the only one that role may write)."
  }

  assert {
    condition = jsondecode(data.aws_iam_policy_document.assume_lambda["ec2"].json).Statement[0].Condition.ArnLike["aws:SourceArn"] == [
      "arn:aws:lambda:us-east-1:111122223333:function:guardduty-responder-ec2",
      "arn:aws:lambda:us-east-1:111122223333:function:guardduty-responder-ec2-snapshots",
    ]
    error_message = "The ec2 role must be assumable by the ec2 function and its snapshot follow-up only."
  }
}

# (No finding function at all here: only coverage has a stand-in zip in tests/zips, so
# the module's receiver check is expected to fail.)
run "no_rule_without_the_ec2_function" {
  command         = plan
  expect_failures = [check.runtime_findings_have_a_receiver]

  variables {
    functions = { ec2 = { enabled = false }, coverage = { enabled = true } }
    responder_config = {
      ec2 = {
        forensic_snapshots = {
          account_id  = "999988887777"
          kms_key_arn = "arn:aws:kms:us-east-1:999988887777:key/0b4e2c1a-1111-2222-3333-444455556666"
        }
      }
    }
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.snapshot_completed) == 0 && length(aws_lambda_permission.snapshot_completed) == 0
    error_message = "The snapshot rule exists without the ec2 function."
  }
}
