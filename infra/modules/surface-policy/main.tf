# Turns one surface's action list into least-privilege IAM statements: each action gets
# the resource ARNs (and conditions) AWS lets it be scoped to, in one account and region.
# Used by ../responder (its own account) and ../member-role (member accounts), so the
# scoping is written once. Pure: no resources, no provider calls.

locals {
  p = var.partition
  r = var.region
  a = var.account_id

  ec2 = "arn:${local.p}:ec2:${local.r}:${local.a}"
  arn = {
    instance           = "${local.ec2}:instance/*"
    network_interface  = "${local.ec2}:network-interface/*"
    security_group     = "${local.ec2}:security-group/*"
    sg_rule            = "${local.ec2}:security-group-rule/*"
    vpc                = "${local.ec2}:vpc/*"
    volume             = "${local.ec2}:volume/*"
    snapshot           = "arn:${local.p}:ec2:${local.r}::snapshot/*" # snapshot ARNs carry no account
    elastic_ip         = "${local.ec2}:elastic-ip/*"
    network_acl        = "${local.ec2}:network-acl/*"
    auto_scaling_group = "arn:${local.p}:autoscaling:${local.r}:${local.a}:autoScalingGroup:*:autoScalingGroupName/*"
    task               = "arn:${local.p}:ecs:${local.r}:${local.a}:task/*"
    service            = "arn:${local.p}:ecs:${local.r}:${local.a}:service/*"
    container_instance = "arn:${local.p}:ecs:${local.r}:${local.a}:container-instance/*"
    target_group       = "arn:${local.p}:elasticloadbalancing:${local.r}:${local.a}:targetgroup/*/*"
    detector           = "arn:${local.p}:guardduty:${local.r}:${local.a}:detector/*"
    # AWS's own document: no account in its ARN.
    run_shell_script = "arn:${local.p}:ssm:${local.r}::document/AWS-RunShellScript"
  }

  eks_clusters = length(var.eks_cluster_names) > 0 ? [
    for n in var.eks_cluster_names : "arn:${local.p}:eks:${local.r}:${local.a}:cluster/${n}"
  ] : ["arn:${local.p}:eks:${local.r}:${local.a}:cluster/*"]

  record_mac_keys = coalesce(var.record_mac_keys, ["arn:${local.p}:kms:${local.r}:${local.a}:key/*"])

  # Tag keys the responder writes: its own prefix; "Name" only on what it creates.
  # (Plain literals and local.<name> references only: a Rust test reads these without
  # evaluating Terraform.)
  own_tag_keys = { "ForAllValues:StringLike" = { "aws:TagKeys" = ["guardduty-responder:*"] } }
  created_group_tags = {
    StringEquals              = { "ec2:CreateAction" = ["CreateSecurityGroup"] }
    "ForAllValues:StringLike" = { "aws:TagKeys" = ["guardduty-responder:*", "Name"] }
  }
  created_snapshot_tags = {
    StringEquals              = { "ec2:CreateAction" = ["CreateSnapshot", "CopySnapshot"] }
    "ForAllValues:StringLike" = { "aws:TagKeys" = ["guardduty-responder:*", "Name"] }
  }

  share_with_forensic_account = {
    StringEquals = { "ec2:Add/userId" = ["${try(var.forensic_snapshots.account_id, "")}"] }
    Null         = { "aws:ResourceTag/guardduty-responder:copy-of" = ["false"] }
  }
  forensic_snapshot_actions = ["ec2:CopySnapshot", "ec2:ModifySnapshotAttribute", "ec2:DescribeSnapshotAttribute"]

  # The volatile capture: a shell on the instance, so only AWS-RunShellScript, and only
  # on instances carrying the responder's prior-state record (written before isolation).
  volatile_capture_actions = ["ssm:SendCommand", "ssm:GetCommandInvocation"]
  recorded_instance        = { Null = { "ssm:resourceTag/guardduty-responder:prior" = ["false"] } }

  termination_protection_on = { StringEqualsIgnoreCase = { "ec2:Attribute/DisableApiTermination" = ["true"] } }
  # Every ModifyInstanceAttribute key but the block device mapping's must be absent.
  no_attribute_keys = {
    "ec2:Attribute"                                   = ["true"]
    "ec2:Attribute/DisableApiTermination"             = ["true"]
    "ec2:Attribute/DisableApiStop"                    = ["true"]
    "ec2:Attribute/InstanceInitiatedShutdownBehavior" = ["true"]
    "ec2:Attribute/InstanceType"                      = ["true"]
    "ec2:Attribute/UserData"                          = ["true"]
    "ec2:Attribute/Kernel"                            = ["true"]
    "ec2:Attribute/Ramdisk"                           = ["true"]
    "ec2:Attribute/SourceDestCheck"                   = ["true"]
    "ec2:Attribute/EbsOptimized"                      = ["true"]
    "ec2:Attribute/SriovNetSupport"                   = ["true"]
    "ec2:Attribute/EnaSupport"                        = ["true"]
  }

  # Scope of each action: a list of { resources, condition } (one statement each).
  # "<surface>/<action>" overrides "<action>" for one surface. Actions with no entry
  # must be Describe/List/Get calls; they are granted on "*" (see the output check).
  scope = {
    "ec2:CreateSecurityGroup" = [
      { resources = [local.arn.security_group, local.arn.vpc], condition = {} },
    ]
    "ec2:AuthorizeSecurityGroupIngress" = [
      { resources = [local.arn.security_group, local.arn.sg_rule], condition = {} },
    ]
    "ec2:AuthorizeSecurityGroupEgress" = [
      { resources = [local.arn.security_group, local.arn.sg_rule], condition = {} },
    ]
    "ec2:RevokeSecurityGroupIngress" = [
      { resources = [local.arn.security_group, local.arn.sg_rule], condition = {} },
    ]
    "ec2:RevokeSecurityGroupEgress" = [
      { resources = [local.arn.security_group, local.arn.sg_rule], condition = {} },
    ]
    "ec2:ModifyNetworkInterfaceAttribute" = [
      { resources = [local.arn.network_interface, local.arn.security_group, local.arn.instance, local.arn.vpc], condition = {} },
    ]
    # Only the attributes quarantine changes (ec2:Attribute condition keys): termination
    # protection on, shutdown behaviour, and DeleteOnTermination (a block device mapping,
    # which no key can filter: that statement requires every other attribute key absent,
    # and the security-group ARN is never granted, so groupSet cannot be changed).
    "ec2:ModifyInstanceAttribute" = [
      { resources = [local.arn.instance], condition = local.termination_protection_on },
      { resources = [local.arn.instance], condition = { StringEqualsIgnoreCase = { "ec2:Attribute" = ["instanceInitiatedShutdownBehavior"] } } },
      { resources = [local.arn.instance, local.arn.volume], condition = { Null = local.no_attribute_keys } },
    ]
    "eks/ec2:ModifyInstanceAttribute" = [
      { resources = [local.arn.instance], condition = local.termination_protection_on },
    ]
    "ec2:CreateSnapshot" = [
      { resources = [local.arn.volume, local.arn.snapshot], condition = {} },
    ]
    # The forensic copies (only with forensic_snapshots, see local.actions): copy any of
    # the account's snapshots, but share only the responder's copies, only with the
    # forensic account (an absent ec2:Add/userId, as when adding the group "all", fails
    # StringEquals; local.deny refuses any group outright).
    "ec2:CopySnapshot" = [
      { resources = [local.arn.snapshot], condition = {} },
    ]
    "ec2:ModifySnapshotAttribute" = [
      { resources = [local.arn.snapshot], condition = local.share_with_forensic_account },
    ]
    # The volatile capture (only with volatile_capture, see local.actions): AWS's shell
    # document, on instances the responder has recorded (its prior-state tag).
    "ssm:SendCommand" = [
      { resources = [local.arn.run_shell_script], condition = {} },
      { resources = [local.arn.instance], condition = local.recorded_instance },
    ]
    "ec2:DisassociateAddress" = [
      { resources = [local.arn.elastic_ip, local.arn.network_interface, local.arn.instance], condition = {} },
    ]
    "ec2:CreateNetworkAclEntry" = [
      { resources = [local.arn.network_acl], condition = {} },
    ]
    # Only the responder's own tag keys on the instance; security groups and snapshots only
    # as they are created (TagSpecifications), so it cannot re-tag anyone else's.
    "ec2:CreateTags" = [
      { resources = [local.arn.instance], condition = local.own_tag_keys },
      { resources = [local.arn.security_group], condition = local.created_group_tags },
      { resources = [local.arn.snapshot], condition = local.created_snapshot_tags },
    ]
    # Only prior-state keys, when quarantine replaces a record it did not write.
    "ec2:DeleteTags" = [
      { resources = [local.arn.instance], condition = { "ForAllValues:StringLike" = { "aws:TagKeys" = ["guardduty-responder:prior*"] } } },
    ]
    # ECS also records the ACL entries added for a task on the network ACL itself.
    "ecs/ec2:CreateTags" = [
      { resources = [local.arn.instance, local.arn.network_acl], condition = local.own_tag_keys },
      { resources = [local.arn.security_group], condition = local.created_group_tags },
    ]
    "autoscaling:DetachInstances" = [
      { resources = [local.arn.auto_scaling_group], condition = {} },
    ]
    "autoscaling:EnterStandby" = [
      { resources = [local.arn.auto_scaling_group], condition = {} },
    ]
    "autoscaling:SetInstanceProtection" = [
      { resources = [local.arn.auto_scaling_group], condition = {} },
    ]
    "ecs:DescribeTasks" = [
      { resources = [local.arn.task], condition = {} },
    ]
    "ecs:DescribeServices" = [
      { resources = [local.arn.service], condition = {} },
    ]
    "ecs:DescribeContainerInstances" = [
      { resources = [local.arn.container_instance], condition = {} },
    ]
    "ecs:UpdateContainerInstancesState" = [
      { resources = [local.arn.container_instance], condition = {} },
    ]
    "ecs:StopTask" = [
      { resources = [local.arn.task], condition = {} },
    ]
    "ecs:TagResource" = [
      { resources = [local.arn.task, local.arn.container_instance], condition = local.own_tag_keys },
    ]
    "elasticloadbalancing:DeregisterTargets" = [
      { resources = [local.arn.target_group], condition = {} },
    ]
    # Session revocation writes one inline deny policy on the workload's role (ECS task
    # role, EC2 instance profile role, EKS pod role) and, on EKS, reads the IRSA role's
    # trust policy first: only on the configured roles (without any, neither action is
    # granted at all, see local.actions).
    "iam:PutRolePolicy" = [
      { resources = var.revocable_role_arns, condition = {} },
    ]
    "iam:GetRole" = [
      { resources = var.revocable_role_arns, condition = {} },
    ]
    "eks:ListPodIdentityAssociations" = [
      { resources = local.eks_clusters, condition = {} },
    ]
    # The prior-state record MAC (its key policy admits only the responder roles).
    "kms:GenerateMac" = [
      { resources = local.record_mac_keys, condition = {} },
    ]
    "kms:VerifyMac" = [
      { resources = local.record_mac_keys, condition = {} },
    ]
    "eks:DescribeCluster" = [
      { resources = local.eks_clusters, condition = {} },
    ]
    "guardduty:GetCoverageStatistics" = [
      { resources = [local.arn.detector], condition = {} },
    ]
    "guardduty:ListCoverage" = [
      { resources = [local.arn.detector], condition = {} },
    ]
    # No resource type; the namespace condition scopes it.
    "cloudwatch:PutMetricData" = [
      { resources = ["*"], condition = { StringEquals = { "cloudwatch:namespace" = ["GuardDutyResponder"] } } },
    ]
  }

  unscoped_entry = { resources = ["*"], condition = {} }

  # Session revocation is off unless role patterns are configured; the forensic copies
  # and the volatile capture unless configured.
  actions = [
    for a in distinct(var.actions) : a
    if(!contains(["iam:PutRolePolicy", "iam:GetRole"], a) || length(var.revocable_role_arns) > 0)
    && (!contains(local.forensic_snapshot_actions, a) || var.forensic_snapshots != null)
    && (!contains(local.volatile_capture_actions, a) || var.volatile_capture)
  ]

  # One row per (action, scope entry); the entry's JSON is the grouping key, so actions
  # sharing resources and condition share a statement.
  rows = flatten([
    for act in local.actions : [
      for entry in try(local.scope["${var.surface}/${act}"], local.scope[act], [local.unscoped_entry]) : {
        action = act
        key    = jsonencode(entry)
      }
    ]
  ])
  groups = { for row in local.rows : row.key => row.action... }

  unscoped = [
    for act in local.actions : act
    if !can(local.scope["${var.surface}/${act}"]) && !can(local.scope[act])
  ]
  unscoped_writes = [
    for act in local.unscoped : act
    if length(regexall("^[a-z0-9-]+:(Describe|List|Get)[A-Za-z0-9]*$", act)) == 0
  ]

  allow = [
    for i, key in sort(keys(local.groups)) : merge(
      {
        Sid      = format("%s%02d", var.sid_prefix, i)
        Effect   = "Allow"
        Action   = sort(distinct(local.groups[key]))
        Resource = jsondecode(key).resources
      },
      { for k, v in { Condition = jsondecode(key).condition } : k => v if length(v) > 0 },
    )
  ]

  # The role that may write inline policies must not be able to write them on itself or
  # on other protected roles (privilege escalation).
  deny = contains(local.actions, "iam:PutRolePolicy") && length(var.protected_role_arns) > 0 ? [
    {
      Sid      = "${var.sid_prefix}DenySelfPolicy"
      Effect   = "Deny"
      Action   = ["iam:PutRolePolicy"]
      Resource = var.protected_role_arns
    },
  ] : []

  # Never public, never to a group: only the forensic account, by id (above).
  deny_snapshot_groups = contains(local.actions, "ec2:ModifySnapshotAttribute") ? [
    {
      Sid       = "${var.sid_prefix}DenySnapshotGroups"
      Effect    = "Deny"
      Action    = ["ec2:ModifySnapshotAttribute"]
      Resource  = ["*"]
      Condition = { Null = { "ec2:Add/group" = "false" } }
    },
  ] : []

  # CopySnapshot with KmsKeyId: EC2 uses the keys on the caller's behalf (decrypt the
  # source, encrypt the copy with the forensic key), through EC2 only. No code calls
  # these, so they are not in the executor's list (ec2::permissions::FORENSIC_KMS_PERMISSIONS).
  # A grant only for EC2 itself (kms:GrantIsForAWSResource): the role cannot grant the
  # keys to a principal of its choosing.
  forensic_keys = contains(local.actions, "ec2:CopySnapshot") ? distinct([
    var.forensic_snapshots.kms_key_arn,
    "arn:${local.p}:kms:${local.r}:${local.a}:key/*",
  ]) : []
  forensic_kms = contains(local.actions, "ec2:CopySnapshot") ? [
    {
      Sid       = "${var.sid_prefix}ForensicSnapshotKeys"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
      Resource  = local.forensic_keys
      Condition = { StringLike = { "kms:ViaService" = "ec2.*.amazonaws.com" } }
    },
  ] : []
  # (A separate list: one conditional of two differently shaped statements would unify
  # their conditions.)
  forensic_grants = contains(local.actions, "ec2:CopySnapshot") ? [
    {
      Sid      = "${var.sid_prefix}ForensicSnapshotGrants"
      Effect   = "Allow"
      Action   = ["kms:CreateGrant"]
      Resource = local.forensic_keys
      Condition = {
        StringLike = { "kms:ViaService" = "ec2.*.amazonaws.com" }
        Bool       = { "kms:GrantIsForAWSResource" = "true" }
      }
    },
  ] : []

  statements = concat(local.allow, local.deny, local.deny_snapshot_groups, local.forensic_kms, local.forensic_grants)
}
