# The evidence bucket (issue #19, docs/evidence.md): where each containment's bundle goes,
# under evidence/<account>/<finding-id>/<resource>/. Evidence must outlive the attacker and
# the responder itself, so the bucket is write-only for the functions (s3:PutObject under
# evidence/*, write-once through If-None-Match), every version is kept under Object Lock,
# and the bucket policy denies deleting, unlocking or reconfiguring to everyone but the
# break-glass principals. With var.evidence_bucket_arn (a bucket in a forensic account)
# nothing is created here and only the functions' write grant is made (iam.tf).

locals {
  # No bucket for a deployment that contains nothing.
  create_evidence_bucket = var.evidence_bucket_arn == null && length(local.evidence_writers) > 0
  # 40 (name_prefix) + 10 + 12 = 62 characters at most, under S3's 63.
  evidence_bucket_name = var.evidence_bucket_arn == null ? "${lower(var.name_prefix)}-evidence-${local.account_id}" : split(":::", var.evidence_bucket_arn)[1]
  # Known at plan (the created bucket's from its name), so member roles can be granted on
  # it in the same apply (../member-role keys its grant on whether it is set).
  evidence_bucket_arn = var.evidence_bucket_arn != null ? var.evidence_bucket_arn : (
    local.create_evidence_bucket ? local.evidence_bucket_arn_created : null
  )
  evidence_kms_key_arn = var.evidence_bucket_arn == null ? one(aws_kms_key.evidence[*].arn) : var.evidence_kms_key_arn
  # The created bucket's ARN, known before the bucket (the key's policy names it).
  evidence_bucket_arn_created = "arn:${local.partition}:s3:::${local.evidence_bucket_name}"

  # The functions that contain, and so will write bundles (coverage contains nothing).
  evidence_writers = [for name in ["ec2", "ecs", "eks"] : name if contains(keys(local.functions), name)]

  # What the bucket policy denies to all but the break-glass principals: destroying or
  # unlocking evidence, and changing the rules that protect it.
  evidence_protected_actions = [
    "s3:DeleteObject*",
    "s3:BypassGovernanceRetention",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
  ]

  # Member roles that may put bundles of their own account's containments (opt-in): by
  # account, or every account of the organisation. Always with aws:PrincipalOrgID.
  evidence_member_role_arns = !local.cross_account || var.organization_id == null ? [] : (
    var.evidence_member_organization
    ? ["arn:${local.partition}:iam::*:role/${var.cross_account_role_name}-*"]
    : [for a in var.evidence_member_account_ids : "arn:${local.partition}:iam::${a}:role/${var.cross_account_role_name}-*"]
  )
  evidence_members = local.create_evidence_bucket && length(local.evidence_member_role_arns) > 0
}

resource "aws_kms_key" "evidence" {
  count = local.create_evidence_bucket ? 1 : 0

  description             = "${var.name_prefix}: evidence bucket"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  # The functions get GenerateDataKey in IAM, through S3 only (iam.tf); member roles in
  # the key policy (below), as the key is not in their account.
  policy = data.aws_iam_policy_document.evidence_key[0].json
  tags   = var.tags
}

data "aws_iam_policy_document" "evidence_key" {
  #checkov:skip=CKV_AWS_109:Key policies must name the key itself as "*".
  #checkov:skip=CKV_AWS_111:Same: "*" in a key policy means this key only; member roles get GenerateDataKey through S3 only.
  #checkov:skip=CKV_AWS_356:Same: "*" in a key policy means this key only.
  count = local.create_evidence_bucket ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.account_administers_key.json]

  # Member roles encrypt what they put (opt-in, evidence_member_*): GenerateDataKey only,
  # only for S3 and only for this bucket. Their own IAM policy (../member-role) grants it too.
  dynamic "statement" {
    for_each = local.evidence_members ? [1] : []
    content {
      sid       = "MemberRolesEncryptEvidenceThroughS3"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [var.organization_id]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:PrincipalArn"
        values   = local.evidence_member_role_arns
      }

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }

      condition {
        test     = "StringLike"
        variable = "kms:EncryptionContext:aws:s3:arn"
        values   = [local.evidence_bucket_arn_created, "${local.evidence_bucket_arn_created}/evidence/*"]
      }
    }
  }
}

resource "aws_kms_alias" "evidence" {
  count = local.create_evidence_bucket ? 1 : 0

  name          = "alias/${var.name_prefix}-evidence"
  target_key_id = aws_kms_key.evidence[0].key_id
}

resource "aws_s3_bucket" "evidence" {
  #checkov:skip=CKV_AWS_18:Access logs would need a second bucket per deployment; CloudTrail data events on this bucket are the audit trail (docs/evidence.md).
  #checkov:skip=CKV_AWS_144:Cross-region replication is the forensic account's choice: point evidence_bucket_arn at a replicated bucket.
  #checkov:skip=CKV2_AWS_62:Nothing consumes bucket events; the manifest hash is in the notification.
  count = local.create_evidence_bucket ? 1 : 0

  bucket              = local.evidence_bucket_name
  object_lock_enabled = true
  tags                = var.tags
}

resource "aws_s3_bucket_versioning" "evidence" {
  count = local.create_evidence_bucket ? 1 : 0

  bucket = aws_s3_bucket.evidence[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "evidence" {
  count = local.create_evidence_bucket ? 1 : 0

  bucket = aws_s3_bucket.evidence[0].id
  rule {
    default_retention {
      mode = var.evidence_object_lock_mode
      days = var.evidence_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.evidence]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "evidence" {
  count = local.create_evidence_bucket ? 1 : 0

  bucket = aws_s3_bucket.evidence[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.evidence[0].arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "evidence" {
  count = local.create_evidence_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.evidence[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "evidence" {
  count = local.create_evidence_bucket ? 1 : 0

  bucket = aws_s3_bucket.evidence[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# No expiry: retention is Object Lock's. Only abandoned multipart uploads are cleaned.
resource "aws_s3_bucket_lifecycle_configuration" "evidence" {
  count = local.create_evidence_bucket ? 1 : 0

  bucket = aws_s3_bucket.evidence[0].id
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.evidence]
}

# Denials, and the member roles' put. The functions' put comes from their IAM policies
# (iam.tf), so this policy does not change when functions are enabled or disabled: it
# denies its own update to all but the break-glass principals. Member roles (another
# account) need the bucket to allow them: PutObject under evidence/<their account>/*
# only, and everything else is denied to them outright.
data "aws_iam_policy_document" "evidence_bucket" {
  count = local.create_evidence_bucket ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.evidence_bucket_arn_created, "${local.evidence_bucket_arn_created}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyDestroyingOrUnlockingEvidence"
    effect    = "Deny"
    actions   = local.evidence_protected_actions
    resources = [local.evidence_bucket_arn_created, "${local.evidence_bucket_arn_created}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    dynamic "condition" {
      for_each = length(var.evidence_admin_principal_arns) > 0 ? [1] : []
      content {
        test     = "ArnNotLike"
        variable = "aws:PrincipalArn"
        values   = var.evidence_admin_principal_arns
      }
    }
  }

  dynamic "statement" {
    for_each = local.evidence_members ? [1] : []
    content {
      sid     = "MemberRolesPutOwnAccountEvidence"
      effect  = "Allow"
      actions = ["s3:PutObject"]
      # A member role writes only its own account's bundles.
      resources = ["${local.evidence_bucket_arn_created}/evidence/$${aws:PrincipalAccount}/*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [var.organization_id]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:PrincipalArn"
        values   = local.evidence_member_role_arns
      }
    }
  }

  # Whatever else is ever allowed, a member role may do nothing here but that put.
  dynamic "statement" {
    for_each = local.evidence_members ? [1] : []
    content {
      sid         = "DenyMemberRolesAllButPut"
      effect      = "Deny"
      not_actions = ["s3:PutObject"]
      resources   = [local.evidence_bucket_arn_created, "${local.evidence_bucket_arn_created}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:PrincipalArn"
        values   = local.evidence_member_role_arns
      }
    }
  }

  # Write-once: a put must carry If-None-Match: *, so S3 refuses it when the key exists.
  statement {
    sid       = "DenyOverwritingEvidence"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.evidence_bucket_arn_created}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:if-none-match"
      values   = ["true"]
    }
  }
}

resource "aws_s3_bucket_policy" "evidence" {
  count = local.create_evidence_bucket ? 1 : 0

  bucket = aws_s3_bucket.evidence[0].id
  policy = data.aws_iam_policy_document.evidence_bucket[0].json

  depends_on = [aws_s3_bucket_public_access_block.evidence]
}
