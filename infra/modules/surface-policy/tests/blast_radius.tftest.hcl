# What a compromised function role could do with the statements this module writes.
# Pure module: runs offline with `terraform test` (infra/check.sh).

variables {
  surface    = "ecs"
  actions    = ["ecs:DescribeTasks", "ecs:TagResource", "iam:PutRolePolicy", "ec2:CreateTags", "ec2:ModifyInstanceAttribute"]
  partition  = "aws"
  account_id = "111122223333"
  region     = "us-east-1"
  protected_role_arns = [
    "arn:aws:iam::111122223333:role/guardduty-responder-*",
  ]
}

run "revocation_is_off_without_role_patterns" {
  command = plan

  assert {
    condition     = alltrue([for s in output.statements : !contains(s.Action, "iam:PutRolePolicy")])
    error_message = "iam:PutRolePolicy granted although no revocable role pattern is configured."
  }
}

run "revocation_writes_only_to_the_configured_roles" {
  command = plan

  variables {
    revocable_role_arns = ["arn:aws:iam::*:role/ecs-tasks/*"]
  }

  assert {
    condition = [
      for s in output.statements : s.Resource if s.Effect == "Allow" && contains(s.Action, "iam:PutRolePolicy")
    ] == [["arn:aws:iam::*:role/ecs-tasks/*"]]
    error_message = "iam:PutRolePolicy must be allowed on exactly the configured patterns."
  }

  assert {
    condition = anytrue([
      for s in output.statements : s.Effect == "Deny" && contains(s.Action, "iam:PutRolePolicy") && contains(s.Resource, "arn:aws:iam::111122223333:role/guardduty-responder-*")
    ])
    error_message = "The responder's own roles must be denied iam:PutRolePolicy."
  }
}

run "every_role_of_the_account_is_refused" {
  command = plan

  variables {
    revocable_role_arns = ["arn:aws:iam::111122223333:role/*"]
  }

  expect_failures = [var.revocable_role_arns]
}

run "tags_and_attributes_are_limited" {
  command = plan

  # Every tagging statement limits the keys to the responder's prefix (plus Name on
  # resources it creates, with ec2:CreateAction).
  assert {
    condition = alltrue([
      for s in output.statements : alltrue([
        for k in s.Condition["ForAllValues:StringLike"]["aws:TagKeys"] : startswith(k, "guardduty-responder:") || (k == "Name" && can(s.Condition.StringEquals["ec2:CreateAction"]))
      ])
      if length(setintersection(s.Action, ["ec2:CreateTags", "ecs:TagResource"])) > 0
    ])
    error_message = "A tagging statement without an aws:TagKeys limit to guardduty-responder:*."
  }

  # No ModifyInstanceAttribute statement without an ec2:Attribute condition, and none on
  # security groups (groupSet).
  assert {
    condition = alltrue([
      for s in output.statements : length(regexall("ec2:Attribute", jsonencode(s.Condition))) > 0 && !anytrue([for r in s.Resource : strcontains(r, ":security-group/")])
      if contains(s.Action, "ec2:ModifyInstanceAttribute")
    ])
    error_message = "ec2:ModifyInstanceAttribute granted without ec2:Attribute conditions, or on security groups."
  }
}

# Forensic snapshot copies: not granted without the configuration; with it, sharing only
# with the forensic account, only the responder's copies, never to a group.
run "forensic_snapshots_are_off_without_the_configuration" {
  command = plan

  variables {
    surface = "ec2"
    actions = ["ec2:CreateSnapshot", "ec2:CopySnapshot", "ec2:ModifySnapshotAttribute", "ec2:DescribeSnapshotAttribute"]
  }

  assert {
    condition     = alltrue([for s in output.statements : !anytrue([for a in s.Action : contains(["ec2:CopySnapshot", "ec2:ModifySnapshotAttribute", "ec2:DescribeSnapshotAttribute"], a) || startswith(a, "kms:")])])
    error_message = "Snapshot sharing granted without forensic_snapshots."
  }
}

run "forensic_snapshots_share_only_copies_with_the_forensic_account" {
  command = plan

  variables {
    surface            = "ec2"
    actions            = ["ec2:CreateSnapshot", "ec2:CopySnapshot", "ec2:ModifySnapshotAttribute", "ec2:DescribeSnapshotAttribute"]
    forensic_snapshots = { account_id = "999988887777", kms_key_arn = "arn:aws:kms:us-east-1:999988887777:key/abc" }
  }

  assert {
    condition = [for s in output.statements : try(s.Condition, null) if s.Effect == "Allow" && contains(s.Action, "ec2:ModifySnapshotAttribute")] == [{
      StringEquals = { "ec2:Add/userId" = ["999988887777"] }
      Null         = { "aws:ResourceTag/guardduty-responder:copy-of" = ["false"] }
    }]
    error_message = "ModifySnapshotAttribute must be limited to the forensic account and the responder's copies."
  }

  assert {
    condition     = anytrue([for s in output.statements : s.Effect == "Deny" && s.Action == ["ec2:ModifySnapshotAttribute"] && try(s.Condition, null) == { Null = { "ec2:Add/group" = "false" } }])
    error_message = "Adding a group (public sharing) must be denied."
  }

  assert {
    condition     = anytrue([for s in output.statements : s.Effect == "Allow" && contains(s.Resource, "arn:aws:kms:us-east-1:999988887777:key/abc") && try(s.Condition, null) == { StringLike = { "kms:ViaService" = "ec2.*.amazonaws.com" } }])
    error_message = "The forensic key is usable through EC2 only."
  }

  assert {
    condition = [for s in output.statements : try(s.Condition, null) if s.Effect == "Allow" && contains(s.Action, "kms:CreateGrant")] == [{
      StringLike = { "kms:ViaService" = "ec2.*.amazonaws.com" }
      Bool       = { "kms:GrantIsForAWSResource" = "true" }
    }]
    error_message = "kms:CreateGrant only for EC2's own use (kms:GrantIsForAWSResource), through EC2 only."
  }
}

# The volatile capture: not granted without the configuration; with it, only AWS's shell
# document and only on instances the responder has recorded.
run "volatile_capture_is_off_without_the_configuration" {
  command = plan

  variables {
    surface = "ec2"
    actions = ["ec2:DescribeInstances", "ssm:SendCommand", "ssm:GetCommandInvocation"]
  }

  assert {
    condition     = alltrue([for s in output.statements : !anytrue([for a in s.Action : startswith(a, "ssm:")])])
    error_message = "SSM commands granted without volatile_capture."
  }
}

run "volatile_capture_runs_only_the_shell_document_on_recorded_instances" {
  command = plan

  variables {
    surface          = "ec2"
    actions          = ["ec2:DescribeInstances", "ssm:SendCommand", "ssm:GetCommandInvocation"]
    volatile_capture = true
  }

  assert {
    condition = length([for s in output.statements : s if s.Effect == "Allow" && contains(s.Action, "ssm:SendCommand")]) == 2 && anytrue([
      for s in output.statements : s.Effect == "Allow" && contains(s.Action, "ssm:SendCommand") && s.Resource == ["arn:aws:ssm:us-east-1::document/AWS-RunShellScript"] && try(s.Condition, null) == null
      ]) && anytrue([
      for s in output.statements : s.Effect == "Allow" && contains(s.Action, "ssm:SendCommand") && s.Resource == ["arn:aws:ec2:us-east-1:111122223333:instance/*"] && try(s.Condition, null) == { Null = { "ssm:resourceTag/guardduty-responder:prior" = ["false"] } }
    ])
    error_message = "ssm:SendCommand must be limited to AWS-RunShellScript and to instances carrying the responder's prior-state record."
  }
}
