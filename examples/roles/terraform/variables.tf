variable "tooling_account_id" {
  description = "The AWS account cis-fix runs in (management or security tooling account); its principals may assume both roles. null to trust only GitHub Actions."
  type        = string
  default     = null

  validation {
    condition     = var.tooling_account_id == null || can(regex("^[0-9]{12}$", var.tooling_account_id))
    error_message = "tooling_account_id must be a 12-digit AWS account ID."
  }
}

variable "tooling_principal_arns" {
  description = "Trust only these principals (role or user ARNs, which must exist) instead of the whole tooling account."
  type        = list(string)
  default     = []
}

variable "external_id" {
  description = "An external ID the tooling account must pass to sts:AssumeRole (null for none)."
  type        = string
  default     = null
  sensitive   = true
}

variable "github_repository" {
  description = "OWNER/REPO whose GitHub Actions workflow may assume the roles through OIDC: cis-fix-plan from pull requests, cis-fix-apply from jobs in github_environment. The account needs the token.actions.githubusercontent.com identity provider. null for none."
  type        = string
  default     = null

  validation {
    condition     = var.github_repository == null || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be OWNER/REPO."
  }
}

variable "github_environment" {
  description = "The GitHub environment whose jobs may assume the apply role."
  type        = string
  default     = "cis-fix"
}

variable "plan_role_name" {
  description = "Name of the read-only role and its policy (cis-fix's default for organization runs is cis-fix-plan)."
  type        = string
  default     = "cis-fix-plan"
}

variable "apply_role_name" {
  description = "Name of the apply role and its policy (cis-fix's default for organization runs is cis-fix-apply)."
  type        = string
  default     = "cis-fix-apply"
}

variable "tags" {
  description = "Tags for the roles and policies."
  type        = map(string)
  default     = {}
}
