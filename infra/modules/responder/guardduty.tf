# Optional: Runtime Monitoring itself, with automated agent management per resource type.
# Off by default, since the detector is usually managed by the organization's delegated
# administrator.

data "aws_guardduty_detector" "this" {
  count = var.enable_runtime_monitoring && var.detector_id == null ? 1 : 0
}

resource "aws_guardduty_detector_feature" "runtime_monitoring" {
  count = var.enable_runtime_monitoring ? 1 : 0

  detector_id = coalesce(var.detector_id, one(data.aws_guardduty_detector.this[*].id))
  name        = "RUNTIME_MONITORING"
  status      = "ENABLED"

  additional_configuration {
    name   = "EKS_ADDON_MANAGEMENT"
    status = var.runtime_monitoring_agent_management.eks ? "ENABLED" : "DISABLED"
  }

  additional_configuration {
    name   = "ECS_FARGATE_AGENT_MANAGEMENT"
    status = var.runtime_monitoring_agent_management.ecs_fargate ? "ENABLED" : "DISABLED"
  }

  additional_configuration {
    name   = "EC2_AGENT_MANAGEMENT"
    status = var.runtime_monitoring_agent_management.ec2 ? "ENABLED" : "DISABLED"
  }
}
