# The member roles' trust policies, computed offline (`terraform test` in infra/check.sh;
# no AWS call: the account lookups are overridden, the policy documents are local).

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
  values = { account_id = "210987654321" }
}

override_data {
  target = data.aws_partition.current
  values = { partition = "aws" }
}

variables {
  role_name = "guardduty-responder-member"
  responder_role_arns = {
    ec2 = "arn:aws:iam::111122223333:role/guardduty-responder-ec2"
    ecs = "arn:aws:iam::111122223333:role/guardduty-responder-ecs"
  }
  organization_id = "o-a1b2c3d4e5"
  external_id     = "0123456789abcdef0123"
  permissions = {
    ec2 = ["ec2:DescribeInstances", "ec2:ModifyNetworkInterfaceAttribute"]
    ecs = ["ecs:DescribeTasks", "iam:PutRolePolicy"]
  }
  surfaces = ["ec2", "ecs", "eks"]
}

run "one_role_per_surface_trusted_by_its_function_only" {
  command = plan

  assert {
    condition     = keys(aws_iam_role.member) == ["ec2", "ecs"]
    error_message = "One role per surface with a function (eks has none here)."
  }

  assert {
    condition = alltrue([
      for s, role in aws_iam_role.member : jsondecode(role.assume_role_policy).Statement[0].Principal.AWS == var.responder_role_arns[s]
    ])
    error_message = "A member role trusts another surface's function."
  }

  assert {
    condition = alltrue([
      for s, role in aws_iam_role.member : jsondecode(role.assume_role_policy).Statement[0].Condition.StringEquals["aws:PrincipalOrgID"] == "o-a1b2c3d4e5" && jsondecode(role.assume_role_policy).Statement[0].Condition.StringEquals["sts:ExternalId"] == "0123456789abcdef0123"
    ])
    error_message = "The trust must require the organisation and the ExternalId."
  }

  assert {
    condition     = aws_iam_role.member["ecs"].name == "guardduty-responder-member-ecs"
    error_message = "Member roles are named <role_name>-<surface> (the functions assume that name)."
  }

  # No role_name/* pattern: revocation is off, so the ecs role gets no iam:PutRolePolicy.
  assert {
    condition     = !strcontains(aws_iam_role_policy.member["ecs"].policy, "iam:PutRolePolicy")
    error_message = "iam:PutRolePolicy granted without revocable role patterns."
  }
}

run "the_interactions_function_is_trusted_only_when_opted_in" {
  command = plan

  assert {
    condition = alltrue([
      for s, role in aws_iam_role.member : length(jsondecode(role.assume_role_policy).Statement) == 1
    ])
    error_message = "The interactions function is trusted without interactions_role_arn."
  }
}

run "the_interactions_function_is_trusted_under_the_same_conditions" {
  command = plan

  variables {
    interactions_role_arn = "arn:aws:iam::111122223333:role/guardduty-responder-interactions"
  }

  assert {
    condition = alltrue([
      for s, role in aws_iam_role.member : length([
        for st in jsondecode(role.assume_role_policy).Statement : st
        if st.Principal.AWS == "arn:aws:iam::111122223333:role/guardduty-responder-interactions"
        && st.Action == "sts:AssumeRole"
        && st.Condition.StringEquals["aws:PrincipalOrgID"] == "o-a1b2c3d4e5"
        && st.Condition.StringEquals["sts:ExternalId"] == "0123456789abcdef0123"
      ]) == 1
    ])
    error_message = "Every surface's role must trust the interactions function, with the organisation and ExternalId conditions."
  }

  assert {
    condition = alltrue([
      for s, role in aws_iam_role.member : jsondecode(role.assume_role_policy).Statement[0].Principal.AWS == var.responder_role_arns[s]
    ])
    error_message = "The surface function's own trust changed."
  }
}

run "the_interactions_role_must_be_a_role_arn" {
  command = plan

  variables {
    interactions_role_arn = "*"
  }

  expect_failures = [var.interactions_role_arn]
}

run "an_organisation_is_required" {
  command = plan

  variables {
    organization_id = "not-an-org"
  }

  expect_failures = [var.organization_id]
}

# No evidence bucket given: no evidence grant at all.
run "no_evidence_grant_by_default" {
  command = plan

  assert {
    condition     = length(aws_iam_role_policy.evidence) == 0
    error_message = "An evidence grant without evidence_bucket_arn."
  }
}

# With the bucket: put only, only under this account's prefix, and the key through S3 only.
run "evidence_grant_is_put_only_under_this_accounts_prefix" {
  command = plan

  variables {
    evidence_bucket_arn  = "arn:aws:s3:::guardduty-responder-evidence-111122223333"
    evidence_kms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/0b4e2c1a-1111-2222-3333-444455556666"
  }

  assert {
    condition     = keys(aws_iam_role_policy.evidence) == ["ec2", "ecs"]
    error_message = "Every member role writes its surface's bundles."
  }

  assert {
    condition = alltrue([
      for p in aws_iam_role_policy.evidence : jsondecode(p.policy).Statement == [
        {
          Sid      = "EvidencePutOnly"
          Effect   = "Allow"
          Action   = ["s3:PutObject"]
          Resource = ["arn:aws:s3:::guardduty-responder-evidence-111122223333/evidence/210987654321/*"]
        },
        {
          Sid       = "EvidenceEncryptThroughS3"
          Effect    = "Allow"
          Action    = ["kms:GenerateDataKey"]
          Resource  = ["arn:aws:kms:us-east-1:111122223333:key/0b4e2c1a-1111-2222-3333-444455556666"]
          Condition = { StringLike = { "kms:ViaService" = "s3.*.amazonaws.com" } }
        },
      ]
    ])
    error_message = "The evidence grant must be s3:PutObject under evidence/<this account>/ and kms:GenerateDataKey through S3, nothing else."
  }

  assert {
    condition     = alltrue([for p in aws_iam_role_policy.member : !strcontains(p.policy, "s3:")])
    error_message = "S3 access belongs in the evidence policy only."
  }
}

run "evidence_bucket_must_be_a_bucket_arn" {
  command = plan

  variables {
    evidence_bucket_arn = "arn:aws:s3:::bucket/evidence/*"
  }

  expect_failures = [var.evidence_bucket_arn]
}

run "the_reader_role_is_trusted_by_the_reminder_only_and_reads_only" {
  command = plan

  variables {
    reader_principal_arn = "arn:aws:iam::111122223333:role/guardduty-responder-reminder"
  }

  assert {
    condition     = jsondecode(aws_iam_role.reader[0].assume_role_policy).Statement[0].Principal.AWS == var.reader_principal_arn
    error_message = "The reader role must trust the reminder only."
  }

  assert {
    condition     = jsondecode(aws_iam_role.reader[0].assume_role_policy).Statement[0].Condition.StringEquals["aws:PrincipalOrgID"] == "o-a1b2c3d4e5" && jsondecode(aws_iam_role.reader[0].assume_role_policy).Statement[0].Condition.StringEquals["sts:ExternalId"] == "0123456789abcdef0123"
    error_message = "The reader's trust must require the organisation and the ExternalId."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.reader[0].policy).Statement : alltrue([
        for a in s.Action : can(regex("^(ec2|ecs|eks):(Describe|List)", a))
      ])
    ])
    error_message = "The reader role may only describe and list."
  }
}

run "no_reader_role_unless_asked" {
  command = plan

  assert {
    condition     = length(aws_iam_role.reader) == 0
    error_message = "The reader role is opt-in."
  }
}
