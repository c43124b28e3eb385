output "plan_role_arn" {
  description = "Assume this role for cis-fix plan and snapshot."
  value       = aws_iam_role.cis_fix["plan"].arn
}

output "apply_role_arn" {
  description = "Assume this role for cis-fix apply."
  value       = aws_iam_role.cis_fix["apply"].arn
}

output "plan_policy_arn" {
  description = "The read-only policy, to attach to another principal (a task or instance role)."
  value       = aws_iam_policy.cis_fix["plan"].arn
}

output "apply_policy_arn" {
  description = "The apply policy, to attach to another principal (a task or instance role)."
  value       = aws_iam_policy.cis_fix["apply"].arn
}
