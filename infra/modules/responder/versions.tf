terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x; logging_config, aws_eks_access_entry and the detector feature need >= 5.40,
      # aws_dynamodb_resource_policy >= 5.43.
      version = "~> 5.43"
    }
  }
}
