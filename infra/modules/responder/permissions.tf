# IAM actions granted to each function. This file is the single place to edit them.
#
# A Rust test parses this file (hcl-rs) and compares it with what the code declares:
#
#   local.permissions["<surface>"]  the executor's actions (ec2, ecs, eks) or, for
#                                    coverage, the audit's actions. Also granted in
#                                    member accounts by ../member-role.
#   local.common_permissions        the shared handler's actions (notify, secrets,
#                                    KMS, DLQ, cross-account, rate-limit table),
#                                    granted to every function.
#   local.runtime_permissions       what the Lambda service itself needs (logs, X-Ray);
#                                    no code calls them, so the test ignores them.
#
# A function's policy grants exactly permissions[name] + common_permissions, except that
# sts:AssumeRole is left out while cross_account_role_name is "" (and for coverage),
# securityhub:BatchUpdateFindings while securityhub_write_back is false (and for coverage), and
# iam:PutRolePolicy and iam:GetRole while revocable_role_arns is empty, and the forensic
# snapshot copies (ec2:CopySnapshot, ec2:ModifySnapshotAttribute,
# ec2:DescribeSnapshotAttribute) while responder_config.ec2.forensic_snapshots is unset,
# and the volatile capture (ssm:SendCommand, ssm:GetCommandInvocation) while
# responder_config.ec2.volatile_capture.enabled is not true.
# Keep every value a plain string literal: no expressions, so the file parses without
# evaluation.
#
# Resource ARNs and conditions for each action live in ../surface-policy (surface
# actions) and iam.tf (common actions). An action without an entry there may only be a
# Describe/List/Get call (granted on "*"): plan fails for any other unscoped action. The
# conditions there are checked against the code's declared ones (CONDITIONS) by the test.

locals {
  permissions = {
    ec2 = [
      "ec2:DescribeInstances",
      "ec2:DescribeInstanceAttribute",
      "ec2:DescribeSecurityGroups",
      "ec2:CreateSecurityGroup",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:ModifyNetworkInterfaceAttribute",
      "ec2:ModifyInstanceAttribute",
      "ec2:CreateTags",
      "ec2:DeleteTags",
      "ec2:CreateSnapshot",
      "ec2:DescribeSnapshots",
      "ec2:CopySnapshot",
      "ec2:DescribeSnapshotAttribute",
      "ec2:ModifySnapshotAttribute",
      "ec2:DescribeAddresses",
      "ec2:DisassociateAddress",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DetachInstances",
      "autoscaling:EnterStandby",
      "kms:GenerateMac",
      "kms:VerifyMac",
      "ec2:DescribeVpcEndpoints",
      "ec2:DescribeNetworkInterfaces",
      "guardduty:ListDetectors",
      "guardduty:ListCoverage",
      "iam:GetInstanceProfile",
      "iam:PutRolePolicy",
      "ssm:SendCommand",
      "ssm:GetCommandInvocation",
    ]

    ecs = [
      "ecs:DescribeTasks",
      "ecs:DescribeTaskDefinition",
      "ecs:DescribeServices",
      "ec2:DescribeNetworkInterfaces",
      "ecs:TagResource",
      "ec2:DescribeNetworkAcls",
      "ec2:CreateNetworkAclEntry",
      "ec2:DescribeSecurityGroups",
      "ec2:CreateSecurityGroup",
      "ec2:CreateTags",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:ModifyNetworkInterfaceAttribute",
      "elasticloadbalancing:DescribeTargetHealth",
      "elasticloadbalancing:DeregisterTargets",
      "iam:PutRolePolicy",
      "ecs:StopTask",
      "ecs:DescribeContainerInstances",
      "ecs:UpdateContainerInstancesState",
      "ec2:DescribeInstances",
      "ec2:DescribeInstanceAttribute",
      "ec2:DescribeAddresses",
      "ec2:ModifyInstanceAttribute",
      "ec2:DeleteTags",
      "kms:GenerateMac",
      "kms:VerifyMac",
      "ec2:DescribeVpcEndpoints",
      "guardduty:ListDetectors",
      "guardduty:ListCoverage",
      "logs:GetLogEvents",
    ]

    eks = [
      "eks:DescribeCluster",
      "ec2:DescribeInstanceAttribute",
      "ec2:ModifyInstanceAttribute",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:SetInstanceProtection",
      "iam:GetRole",
      "iam:PutRolePolicy",
      "eks:ListPodIdentityAssociations",
      "eks:DescribePodIdentityAssociation",
    ]

    coverage = [
      "guardduty:ListDetectors",
      "guardduty:GetCoverageStatistics",
      "guardduty:ListCoverage",
      # Only used with RESPONDER_COVERAGE_REQUIRE_TAG (Get: granted on "*").
      "tag:GetResources",
      # The last unhealthy set, kept as metrics (namespace GuardDutyResponder).
      "cloudwatch:PutMetricData",
      "cloudwatch:GetMetricStatistics",
    ]

    # The quarantine reminder (reminder.tf, not a finding function): reads the records
    # only (shared/src/inventory/read_aws.rs, PERMISSIONS). It publishes with the
    # statements reminder.tf writes itself, not with common_permissions.
    reminder = [
      "ec2:DescribeInstances",
      "ec2:DescribeNetworkAcls",
      "ecs:ListClusters",
      "ecs:ListTasks",
      "ecs:DescribeTasks",
      "kms:VerifyMac",
      "eks:DescribeCluster",
    ]
  }

  # The interactions function (interactions.tf), on top of permissions ec2, ecs and eks:
  # the clicked finding from GuardDuty, and its own asynchronous invocation; the member
  # roles of the three surfaces (only with cross_account_role_name); the rate-limit alert.
  interactions_permissions = [
    "guardduty:GetFindings",
    "lambda:InvokeFunction",
    "guardduty:ArchiveFindings",
    "securityhub:BatchUpdateFindings",
    "sts:AssumeRole",
    "sns:Publish",
  ]

  # Release from a Release click: the surfaces' release-only actions (RELEASE_PERMISSIONS
  # of actions/ec2 and actions/ecs), scoped in interactions.tf.
  interactions_release_permissions = [
    "autoscaling:DescribeAutoScalingGroups",
    "ec2:AssociateAddress",
    "autoscaling:AttachInstances",
    "autoscaling:ExitStandby",
    "ec2:DeleteNetworkAclEntry",
    "elasticloadbalancing:RegisterTargets",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "ecs:UntagResource",
  ]

  common_permissions = [
    "sns:Publish",
    "secretsmanager:GetSecretValue",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "sqs:SendMessage",
    "sts:AssumeRole",
    "dynamodb:UpdateItem",
    "dynamodb:PutItem",
    "dynamodb:GetItem",
    "dynamodb:DeleteItem",
    "securityhub:BatchUpdateFindings",
  ]

  runtime_permissions = [
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    # Only with eks_vpc_config, only for the eks function: the Lambda service manages its
    # ENIs in the subnets (what AWSLambdaVPCAccessExecutionRole grants).
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
  ]
}
