# The roles cis-fix runs as, in the account this module's provider points at:
# cis-fix-plan (read-only) and cis-fix-apply. Each carries one customer
# managed policy of the same name whose document is read from
# examples/iam/*.json at plan time, so this module and the shipped policies
# cannot drift. examples/roles/README.md shows it used once per account.

terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The account's GitHub OIDC provider (one per account; see the README).
  github_oidc_provider_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/token.actions.githubusercontent.com"

  tooling_principals = (
    length(var.tooling_principal_arns) > 0
    ? var.tooling_principal_arns
    : (var.tooling_account_id == null ? [] : ["arn:${data.aws_partition.current.partition}:iam::${var.tooling_account_id}:root"])
  )

  roles = {
    plan = {
      name        = var.plan_role_name
      description = "cis-fix plan and snapshot (read-only)"
      policy      = jsondecode(file("${path.module}/../../iam/cis-fix-plan.json"))
      # Pull requests may plan, never apply.
      github_subject = "repo:${coalesce(var.github_repository, "-")}:pull_request"
    }
    apply = {
      name        = var.apply_role_name
      description = "cis-fix apply (CIS remediation writes)"
      policy      = jsondecode(file("${path.module}/../../iam/cis-fix-apply.json"))
      # Only jobs of one GitHub environment (which can require reviewers and
      # be limited to the default branch) may apply.
      github_subject = "repo:${coalesce(var.github_repository, "-")}:environment:${var.github_environment}"
    }
  }
}

data "aws_iam_policy_document" "trust" {
  for_each = local.roles

  dynamic "statement" {
    for_each = length(local.tooling_principals) > 0 ? [1] : []
    content {
      sid     = "ToolingAccount"
      effect  = "Allow"
      actions = ["sts:AssumeRole"]
      principals {
        type        = "AWS"
        identifiers = local.tooling_principals
      }
      dynamic "condition" {
        for_each = var.external_id == null ? [] : [var.external_id]
        content {
          test     = "StringEquals"
          variable = "sts:ExternalId"
          values   = [condition.value]
        }
      }
    }
  }

  dynamic "statement" {
    for_each = var.github_repository == null ? [] : [each.value.github_subject]
    content {
      sid     = "GitHubActions"
      effect  = "Allow"
      actions = ["sts:AssumeRoleWithWebIdentity"]
      principals {
        type        = "Federated"
        identifiers = [local.github_oidc_provider_arn]
      }
      condition {
        test     = "StringEquals"
        variable = "token.actions.githubusercontent.com:aud"
        values   = ["sts.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "token.actions.githubusercontent.com:sub"
        values   = [statement.value]
      }
    }
  }
}

resource "aws_iam_policy" "cis_fix" {
  for_each = local.roles

  name        = each.value.name
  description = each.value.description
  policy      = jsonencode(each.value.policy)
  tags        = var.tags
}

resource "aws_iam_role" "cis_fix" {
  for_each = local.roles

  name                 = each.value.name
  description          = each.value.description
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = 3600
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = length(local.tooling_principals) > 0 || var.github_repository != null
      error_message = "Set tooling_account_id, tooling_principal_arns or github_repository: otherwise nobody may assume the cis-fix roles."
    }
  }
}

resource "aws_iam_role_policy_attachment" "cis_fix" {
  for_each = local.roles

  role       = aws_iam_role.cis_fix[each.key].name
  policy_arn = aws_iam_policy.cis_fix[each.key].arn
}
