//! Command-line flags and subcommands (clap types only, no behaviour).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cis-fix",
    version,
    about = "Plan and apply the CIS AWS Foundations Benchmark to an AWS account, Terraform-style",
    long_about = None
)]
pub struct Cli {
    /// Log to stderr: -v each AWS call, -vv the SDK's detail too (credentials,
    /// endpoints, retries), -vvv everything. CIS_FIX_LOG takes a filter
    /// instead, e.g. debug or cis_fix=debug,aws_smithy_runtime=trace.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, display_order = 100)]
    pub verbose: u8,
    /// No progress display while reading, even on a terminal.
    #[arg(short, long, global = true, display_order = 101)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what apply would change to make the account match the benchmark.
    Plan(PlanArgs),
    /// Make the changes a fresh plan shows, after confirmation; or, given a
    /// plan saved with `plan -out FILE`, exactly those changes.
    Apply(ApplyArgs),
    /// List the controls of a benchmark version and what each needs.
    Controls(ControlsArgs),
    /// Render a plan saved with `plan -out FILE` or `plan --json`.
    Show(ShowArgs),
    /// Work with the JSON reports of `plan --organization`.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Remove an apply's lock left behind by a crash, given its ID.
    ForceUnlock(ForceUnlockArgs),
    /// Write the account state a plan is computed from, as JSON.
    Snapshot(SnapshotArgs),
    /// Write a starter cis-fix.yaml naming who receives the alarms.
    Init(InitArgs),
    /// Inspect CloudWatch Logs metric filter patterns.
    #[command(subcommand)]
    Pattern(PatternCommand),
    /// Print a shell completion script, e.g. `cis-fix completions bash`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `cis-fix man > cis-fix.1`.
    Man {
        /// Write cis-fix.1 and a page per subcommand (cis-fix-plan.1, ...)
        /// into this directory instead.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args, Clone)]
pub struct Target {
    /// Benchmark version, e.g. 3.0.0 (default: the config's, else 3.0.0).
    #[arg(long, value_name = "VERSION")]
    pub benchmark: Option<String>,
    /// Config file (default: ./cis-fix.yaml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Which accounts a run covers: the caller's (the default), one through a
/// role, or every account of the organization.
#[derive(Debug, Args, Clone, Default)]
pub struct Accounts {
    /// Every ACTIVE account of the AWS Organization, listed from the
    /// management account or a delegated administrator: the caller's own
    /// account with the caller's credentials, every other through a role
    /// (--role-name), planned concurrently and shown grouped by account.
    #[arg(long)]
    pub organization: bool,
    /// The role assumed in each member account (default: cis-fix.yaml's
    /// organization.role_name, else cis-fix-plan for plan and cis-fix-apply
    /// for apply).
    #[arg(long, value_name = "NAME", requires = "organization")]
    pub role_name: Option<String>,
    /// Only the accounts of shard K of N (1-based; fixed by each account's
    /// id), so N workers cover the organization, each account once; merge
    /// their --json reports with `cis-fix report merge`.
    #[arg(long, value_name = "K/N", requires = "organization")]
    pub shard: Option<String>,
    /// One account, through this role (sts:AssumeRole; session
    /// cis-fix-<account>, with organization.external_id if set).
    #[arg(long, value_name = "ARN", conflicts_with = "organization")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct Connection {
    /// Region(s) to plan, repeatable or comma-separated (default: the
    /// config's `regions:`, else every region enabled for the account). The
    /// first is the home region, where trails are listed and created
    /// (default: AWS_REGION or the profile's).
    #[arg(long, value_name = "REGION", value_delimiter = ',')]
    pub region: Vec<String>,
    /// Named profile from the AWS config files (default: AWS_PROFILE).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Attempts per AWS call, retries included (default: AWS_MAX_ATTEMPTS or 3).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,
    /// AWS calls in flight at once, across every service and region (1 to
    /// 64). Lower it when an account's API rate limits are shared with
    /// other tools; beyond about 16 a 2-core machine gains nothing.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// Calls in flight by default: enough to overlap the round trips of a
/// large account's reads without tripping AWS's per-API throttles.
pub const DEFAULT_CONCURRENCY: u16 = 8;

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub connection: Connection,
    #[command(flatten)]
    pub accounts: Accounts,
    /// Plan from a snapshot file instead of reading AWS.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["organization", "role_arn"])]
    pub from: Option<PathBuf>,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when every control is compliant and nothing is to change, 2
    /// when changes are planned or a control needs a person (blocked, or a
    /// subscription to confirm), 1 on error or when a control is unknown.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Allow the changes that can cut running workloads off (emptying
    /// default security groups, revoking rules open to the internet on
    /// administration ports); without it they are held back and shown with
    /// their evidence. cis-fix.yaml's `destructive:` opts in per kind.
    #[arg(long)]
    pub allow_destructive: bool,
    /// Save the plan to FILE (also `-out FILE`, as Terraform spells it), to
    /// apply exactly it later with `cis-fix apply FILE`.
    #[arg(long, value_name = "FILE", conflicts_with = "organization")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `cis-fix plan -out FILE`: make exactly its changes,
    /// without asking, if the account and the plan's inputs have not
    /// changed since (else nothing is changed).
    #[arg(value_name = "FILE", conflicts_with = "organization")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub connection: Connection,
    #[command(flatten)]
    pub accounts: Accounts,
    /// Apply without asking (for schedules and CI).
    #[arg(long)]
    pub auto_approve: bool,
    /// Exit 0 when every control is compliant afterwards, 2 when a control
    /// still needs a person (blocked, or a subscription to confirm), 1 on
    /// error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Allow the changes that can cut running workloads off (emptying
    /// default security groups, revoking rules open to the internet on
    /// administration ports); without it they are held back and shown with
    /// their evidence. cis-fix.yaml's `destructive:` opts in per kind.
    #[arg(long)]
    pub allow_destructive: bool,
    /// Print a JSON report of the run on stdout (docs/json-apply.md): what
    /// drifted, what was fixed, what failed; the plan and progress go to
    /// stderr.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The lock's ID, as the refused apply printed it.
    pub id: String,
    /// Remove it without asking.
    #[arg(long)]
    pub force: bool,
    /// Config file (default: ./cis-fix.yaml when present), for `lock:`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// E-mail address that receives the alarms (repeatable; asked for on a
    /// terminal when neither this nor --subscribe is given).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Vec<String>,
    /// Another subscriber, e.g. sqs:arn:aws:sqs:…, https://… (repeatable).
    #[arg(long, value_name = "PROTOCOL:ENDPOINT")]
    pub subscribe: Vec<String>,
    /// Benchmark version to pin in the file (default: none, so cis-fix's
    /// default applies).
    #[arg(long, value_name = "VERSION")]
    pub benchmark: Option<String>,
    /// Where to write (default: ./cis-fix.yaml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ControlsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved with `cis-fix plan -out FILE`, or with `cis-fix plan
    /// --json > plan.json`.
    pub file: PathBuf,
    /// Print it as JSON again (validated and normalised); the same as
    /// `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// How to print it: as `plan` does, as JSON, or as Markdown for a pull
    /// request comment.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ShowFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShowFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// Config file (default: ./cis-fix.yaml when present), for the topic name.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PatternCommand {
    /// Parse a pattern, print its canonical form, and judge it against a control.
    Check {
        pattern: String,
        /// Control id to judge against, e.g. 4.14.
        #[arg(long, value_name = "ID")]
        control: Option<String>,
        // Read only with --control.
        #[command(flatten)]
        target: Target,
    },
    /// Show which events of a file a pattern matches.
    Test {
        pattern: String,
        /// A CloudTrail log file as delivered to S3 (`{"Records": [...]}`,
        /// gzipped or not), JSON lines, or a JSON array; `-` reads stdin.
        #[arg(long, value_name = "FILE")]
        events: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Merge the JSON reports of parallel workers (`plan --organization
    /// --shard K/N --json`), and/or single accounts' `plan --json`, into
    /// one report with the summary. An account in two inputs, inputs of
    /// different benchmark versions, or a missing shard is an error.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The reports and plans to merge.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Print the merged report as JSON (docs/org-report.md).
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when every account is compliant, 2 when any has changes or is
    /// blocked, 1 when any is unknown (as `plan --detailed-exitcode`).
    #[arg(long)]
    pub detailed_exitcode: bool,
}
