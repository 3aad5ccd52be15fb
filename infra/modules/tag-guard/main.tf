# A service control policy that keeps the workload being contained from granting itself an
# exemption or forging the responder's records. Both live in resource tags, and the
# workload's own role often may tag its resource: an instance role with ec2:CreateTags, a
# task role with ecs:TagResource. The SCP denies creating, changing or deleting any tag
# whose key matches protected_tag_keys to every principal but the responder's roles and
# the security-admin roles, on EC2, ECS and EKS, on the Auto Scaling tags that propagate
# to instances, and through the Resource Groups Tagging API. Kubernetes labels and
# annotations are not AWS tags: the admission policy in infra/kubernetes protects those.

locals {
  allowed_principals = concat(var.responder_role_arns, var.security_admin_role_arns)

  unless_allowed = {
    ArnNotLike = { "aws:PrincipalArn" = local.allowed_principals }
  }

  protected_keys = {
    "ForAnyValue:StringLike" = { "aws:TagKeys" = var.protected_tag_keys }
  }

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Tagging and untagging existing resources. EC2 tag-on-create (RunInstances,
        # CreateVolume, launch templates) is authorised as ec2:CreateTags as well.
        Sid    = "DenyProtectedTagChanges"
        Effect = "Deny"
        Action = [
          "ec2:CreateTags",
          "ec2:DeleteTags",
          "ecs:TagResource",
          "ecs:UntagResource",
          "eks:TagResource",
          "eks:UntagResource",
          "autoscaling:CreateOrUpdateTags",
          "autoscaling:DeleteTags",
          "tag:TagResources",
          "tag:UntagResources",
        ]
        Resource  = "*"
        Condition = merge(local.protected_keys, local.unless_allowed)
      },
      {
        # Resources created with a protected tag (ECS propagates task-definition and
        # service tags to tasks; Auto Scaling propagates group tags to instances).
        Sid    = "DenyCreatingWithProtectedTags"
        Effect = "Deny"
        Action = [
          "ec2:RunInstances",
          "ecs:CreateCluster",
          "ecs:CreateService",
          "ecs:CreateTaskSet",
          "ecs:RegisterTaskDefinition",
          "ecs:RunTask",
          "ecs:StartTask",
          "eks:CreateCluster",
          "eks:CreateNodegroup",
          "eks:CreateFargateProfile",
          "autoscaling:CreateAutoScalingGroup",
        ]
        Resource  = "*"
        Condition = merge(local.protected_keys, local.unless_allowed)
      },
      {
        # ec2:DeleteTags without a key list deletes every tag, and then carries no
        # aws:TagKeys for the statement above to match.
        Sid       = "DenyDeletingAllEc2Tags"
        Effect    = "Deny"
        Action    = ["ec2:DeleteTags"]
        Resource  = "*"
        Condition = merge({ Null = { "aws:TagKeys" = "true" } }, local.unless_allowed)
      },
    ]
  })
}

resource "aws_organizations_policy" "tag_guard" {
  name        = var.name
  description = "GuardDuty responder: only the responder and security admins may change guardduty-responder tags (exemptions, prior-state records)."
  type        = "SERVICE_CONTROL_POLICY"
  content     = local.policy
  tags        = var.tags

  lifecycle {
    precondition {
      condition     = length(local.policy) <= 5120
      error_message = "The SCP exceeds the 5120-character limit of AWS Organizations: shorten protected_tag_keys or the role lists (ARN patterns may use * for the account)."
    }
  }
}

# count, not for_each: the targets are often created in the same apply (an OU, the
# organisation's root), and for_each needs its keys known at plan time.
resource "aws_organizations_policy_attachment" "tag_guard" {
  count = length(var.target_ids)

  policy_id = aws_organizations_policy.tag_guard.id
  target_id = var.target_ids[count.index]
}
