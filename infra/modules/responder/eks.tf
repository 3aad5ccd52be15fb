# The eks function reaches each cluster's API with its IAM role, mapped by an access
# entry to the Kubernetes group that infra/kubernetes/rbac.yaml binds to the
# guardduty-responder ClusterRole (pods get/list/patch, networkpolicies get/create/patch,
# nodes get/patch, events create; read-only for the evidence bundle: pods/log get, events
# list, the owner workloads get). No EKS access policy is associated: RBAC alone decides
# what the role may do.

locals {
  eks_kubernetes_group = "guardduty-responder"
  eks_clusters         = contains(keys(local.functions), "eks") && var.create_eks_access_entries ? toset(var.eks_cluster_names) : toset([])
}

resource "aws_eks_access_entry" "responder" {
  for_each = local.eks_clusters

  cluster_name      = each.value
  principal_arn     = aws_iam_role.function["eks"].arn
  type              = "STANDARD"
  kubernetes_groups = [local.eks_kubernetes_group]
  tags              = var.tags
}
