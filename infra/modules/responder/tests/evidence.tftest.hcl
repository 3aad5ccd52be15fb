# The evidence bucket's and key's policies as rendered, computed offline (`terraform test`
# in infra/check.sh; no AWS call: the account lookups are overridden, the policy documents
# are local; tests/zips holds empty stand-ins for the functions' zips).

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
  name_prefix               = "guardduty-responder"
  lambda_zip_dir            = "tests/zips"
  functions                 = { ec2 = { enabled = true } }
  cross_account_role_name   = "guardduty-responder-member"
  cross_account_external_id = "0123456789abcdef0123"
  organization_id           = "o-a1b2c3d4e5"
}

# Without member accounts the bucket policy allows nothing (the functions' put is in
# their own IAM policies) and the key policy is the account's only.
run "no_member_writes_by_default" {
  command = plan

  assert {
    condition     = [for st in jsondecode(data.aws_iam_policy_document.evidence_bucket[0].json).Statement : st if st.Effect == "Allow"] == []
    error_message = "The bucket policy allows something without member accounts."
  }

  assert {
    condition     = [for st in jsondecode(data.aws_iam_policy_document.evidence_key[0].json).Statement : st.Sid] == ["AccountAdministersKeyThroughIAM"]
    error_message = "The key policy grants something beyond the account's administration."
  }
}

# A member account's roles: PutObject under evidence/<their own account>/* and nothing
# else on the bucket (denied outright, whatever else is ever allowed); GenerateDataKey on
# the key through S3 for this bucket only. The protections still apply to them.
run "member_roles_may_only_put_their_own_accounts_evidence" {
  command = plan

  variables {
    evidence_member_account_ids = ["210987654321"]
  }

  assert {
    condition = [for st in jsondecode(data.aws_iam_policy_document.evidence_bucket[0].json).Statement : st if st.Effect == "Allow"] == [{
      Sid       = "MemberRolesPutOwnAccountEvidence"
      Effect    = "Allow"
      Action    = "s3:PutObject"
      Resource  = "arn:aws:s3:::guardduty-responder-evidence-111122223333/evidence/$${aws:PrincipalAccount}/*"
      Principal = { AWS = "*" }
      Condition = {
        StringEquals = { "aws:PrincipalOrgID" = "o-a1b2c3d4e5" }
        ArnLike      = { "aws:PrincipalArn" = "arn:aws:iam::210987654321:role/guardduty-responder-member-*" }
      }
    }]
    error_message = "The bucket policy must allow the member roles exactly s3:PutObject under their own account's prefix."
  }

  assert {
    condition = [for st in jsondecode(data.aws_iam_policy_document.evidence_bucket[0].json).Statement : st if st.Sid == "DenyMemberRolesAllButPut"] == [{
      Sid       = "DenyMemberRolesAllButPut"
      Effect    = "Deny"
      NotAction = "s3:PutObject"
      Resource = [
        "arn:aws:s3:::guardduty-responder-evidence-111122223333/*",
        "arn:aws:s3:::guardduty-responder-evidence-111122223333",
      ]
      Principal = "*"
      Condition = { ArnLike = { "aws:PrincipalArn" = "arn:aws:iam::210987654321:role/guardduty-responder-member-*" } }
    }]
    error_message = "Everything but s3:PutObject must be denied to the member roles."
  }

  # The write-once and anti-destruction denials name every principal, members included.
  assert {
    condition = alltrue([
      for st in jsondecode(data.aws_iam_policy_document.evidence_bucket[0].json).Statement : st.Principal == "*"
      if contains(["DenyDestroyingOrUnlockingEvidence", "DenyOverwritingEvidence", "DenyInsecureTransport"], st.Sid)
    ]) && length([for st in jsondecode(data.aws_iam_policy_document.evidence_bucket[0].json).Statement : st if st.Effect == "Deny"]) == 4
    error_message = "The denials must still apply to everyone."
  }

  assert {
    condition = [for st in jsondecode(data.aws_iam_policy_document.evidence_key[0].json).Statement : st if st.Sid != "AccountAdministersKeyThroughIAM"] == [{
      Sid       = "MemberRolesEncryptEvidenceThroughS3"
      Effect    = "Allow"
      Action    = "kms:GenerateDataKey"
      Resource  = "*"
      Principal = { AWS = "*" }
      Condition = {
        StringEquals = {
          "aws:PrincipalOrgID" = "o-a1b2c3d4e5"
          "kms:ViaService"     = "s3.us-east-1.amazonaws.com"
        }
        ArnLike = { "aws:PrincipalArn" = "arn:aws:iam::210987654321:role/guardduty-responder-member-*" }
        StringLike = { "kms:EncryptionContext:aws:s3:arn" = [
          "arn:aws:s3:::guardduty-responder-evidence-111122223333",
          "arn:aws:s3:::guardduty-responder-evidence-111122223333/evidence/*",
        ] }
      }
    }]
    error_message = "The key policy must allow the member roles exactly kms:GenerateDataKey through S3 for this bucket."
  }
}

# Every account of the organisation: the same statements, any account's member roles.
run "member_roles_of_the_organisation" {
  command = plan

  variables {
    evidence_member_organization = true
  }

  assert {
    condition = [
      for st in jsondecode(data.aws_iam_policy_document.evidence_bucket[0].json).Statement : st.Condition.ArnLike["aws:PrincipalArn"]
      if st.Sid == "MemberRolesPutOwnAccountEvidence" || st.Sid == "DenyMemberRolesAllButPut"
    ] == ["arn:aws:iam::*:role/guardduty-responder-member-*", "arn:aws:iam::*:role/guardduty-responder-member-*"]
    error_message = "Organisation mode admits any account's member roles, by name."
  }
}

# Member accounts without cross-account containment (no member roles) are refused.
run "member_accounts_need_cross_account_roles" {
  command = plan

  variables {
    cross_account_role_name     = ""
    evidence_member_account_ids = ["210987654321"]
  }

  expect_failures = [aws_iam_role_policy.function]
}

run "member_account_ids_are_account_ids" {
  command = plan

  variables {
    evidence_member_account_ids = ["arn:aws:iam::210987654321:root"]
  }

  expect_failures = [var.evidence_member_account_ids]
}
