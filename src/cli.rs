//! The command line, in one place: flags, environment variables and help text.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The examples of `sx -h`, which `sx --help` shows too.
macro_rules! examples {
    () => {
        "\
Examples:
  sx init                                  create the local store and a starter sx.toml
  printf %s 'tok-123' | sx set local://api-token
  sx check                                 resolve every reference; a table, never a value
  sx exec -- ./job.sh --daily              run a job with the manifest's secrets
  sx -p staging -f deploy/sx.toml exec -- ./deploy.sh
  DB_PASSWORD=aws-sm://prod/db#password sx exec --env-refs -- ./job.sh"
    };
}

const EXAMPLES: &str = examples!();

const AFTER_HELP: &str = concat!(
    examples!(),
    "

Environment:
  SX_MANIFEST           manifest path (same as -f)
  SX_PROFILE            profile name (same as -p)
  SX_LOG                log level: error, warn, info, debug, trace
  SX_AGE_IDENTITY       age identity text for the local store
  SX_AGE_IDENTITY_FILE  age identity file for the local store
  NO_COLOR              disable colour in log lines

Exit codes (sx exec): the command's own code; 128+N when it died of signal N; 125 when sx
failed (manifest, resolution, auth, timeout); 126 command not executable; 127 not found.
Other commands: 0 success, 1 failure, 2 usage error."
);

/// Fetch the secrets a job needs and run it with them.
///
/// sx reads the references in sx.toml, resolves them all (concurrently, each once) from
/// AWS Secrets Manager and Parameter Store, Google Secret Manager, Vault, Azure Key Vault,
/// 1Password Connect, a local age-encrypted store, files or the environment, and starts the command with the values as
/// environment variables or as files on tmpfs. If anything fails, the command is not started.
#[derive(Debug, Parser)]
#[command(
    name = "sx",
    version,
    after_help = EXAMPLES,
    after_long_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Manifest to read [default: the nearest sx.toml from the working directory upward]
    #[arg(
        short = 'f',
        long = "manifest",
        env = "SX_MANIFEST",
        global = true,
        value_name = "PATH"
    )]
    pub manifest: Option<PathBuf>,

    /// Profile whose [profiles.NAME.*] tables overlay the base ones
    #[arg(
        short = 'p',
        long,
        env = "SX_PROFILE",
        global = true,
        value_name = "NAME"
    )]
    pub profile: Option<String>,

    /// More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr (with --log-format json, the audit lines too: they are its point)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log line format; json gives one audit line per resolved reference
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true, value_name = "FORMAT")]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve the manifest and run a command with the secrets injected
    #[command(after_help = "\
Examples:
  sx exec -- ./job.sh --daily
  sx exec -p staging -- python manage.py migrate
  sx exec --clean-env --timeout 10s -- /usr/local/bin/backup
  sx exec --mask -- ./deploy.sh        # secrets in its output become ***
  sx exec --refresh 5m --on-change signal:HUP -- nginx -g 'daemon off;'
  DB_PASSWORD=aws-sm://prod/db#password sx exec --env-refs -- ./job.sh")]
    Exec(ExecArgs),

    /// Print one resolved value (exact bytes; a newline is added only on a terminal)
    #[command(after_help = "\
Examples:
  sx get local://stripe-key
  sx get 'aws-sm://prod/app/db#password'
  sx get file:///run/secrets/db > db.pass")]
    Get {
        /// The reference to read, e.g. local://api-token
        #[arg(value_name = "REF")]
        reference: String,
        #[command(flatten)]
        timeout: TimeoutArg,
    },

    /// Print every manifest entry resolved, for tools that read a file of variables
    #[command(after_help = "\
Examples:
  sx export > .env.local
  sx export --format json | jq .
  sx export --format github   # masks values, appends to $GITHUB_ENV")]
    Export {
        /// Output format
        #[arg(long, value_enum, default_value_t = ExportFormat::Dotenv)]
        format: ExportFormat,
        #[command(flatten)]
        timeout: TimeoutArg,
    },

    /// Check the manifest and resolve every reference; prints a table, never a value
    #[command(after_help = "\
Examples:
  sx check
  sx check -p staging -f deploy/sx.toml")]
    Check {
        #[command(flatten)]
        timeout: TimeoutArg,
    },

    /// List secret names under a location (names only)
    #[command(after_help = "\
Examples:
  sx ls local://
  sx ls aws-sm://prod/")]
    Ls {
        /// Where to list, e.g. local:// or aws-sm://prod/
        #[arg(value_name = "REF-PREFIX")]
        prefix: String,
    },

    /// Write a secret; the value comes from stdin (byte for byte) or --from-file
    #[command(after_help = "\
Examples:
  printf %s \"$TOKEN\" | sx set local://api-token
  sx set local://tls-key --from-file ./key.pem
  sx set aws-sm://prod/app/db < db.json")]
    Set {
        /// The secret to write, e.g. local://api-token
        #[arg(value_name = "REF")]
        reference: String,
        /// Read the value from this file instead of stdin
        #[arg(long, value_name = "PATH")]
        from_file: Option<PathBuf>,
    },

    /// Delete a secret
    #[command(after_help = "\
Examples:
  sx rm local://old-token
  sx rm aws-sm://prod/old-key            # recoverable for 30 days
  sx rm --force aws-sm://prod/old-key    # gone at once
  sx rm aws-ssm:///prod/app/old-param")]
    Rm {
        /// The secret to delete, e.g. local://old-token
        #[arg(value_name = "REF")]
        reference: String,
        /// Delete at once, without the provider's recovery window (Secrets Manager)
        #[arg(long)]
        force: bool,
    },

    /// Create the local store's identity and store, and a starter sx.toml
    #[command(after_help = "\
Creates (each only if missing):
  $XDG_CONFIG_HOME/sx/identity.txt  an age X25519 identity, mode 0600
  $XDG_CONFIG_HOME/sx/store.age     an empty store encrypted to it
  ./sx.toml                         a starter manifest

Example:
  sx init && printf %s hunter2 | sx set local://db-password")]
    Init {
        /// Do not write a starter sx.toml in the working directory
        #[arg(long)]
        no_manifest: bool,
    },

    /// Print a shell completion script
    #[command(after_help = "\
Examples:
  sx completions bash > /etc/bash_completion.d/sx
  sx completions zsh > \"${fpath[1]}/_sx\"
  sx completions fish > ~/.config/fish/completions/sx.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct TimeoutArg {
    /// Deadline for resolving every reference (e.g. 30s, 500ms, 2m)
    #[arg(long, value_parser = parse_duration, default_value = "30s", value_name = "DUR")]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Also resolve references found in the values of the current environment
    /// (NAME=aws-sm://... becomes NAME=VALUE); works without a manifest
    #[arg(long)]
    pub env_refs: bool,

    /// Give the command only the manifest's variables plus PATH, HOME, USER, LANG, TZ, TERM
    #[arg(long)]
    pub clean_env: bool,

    #[command(flatten)]
    pub timeout: TimeoutArg,

    /// Replace sx by the command (execve) instead of supervising it; refused when the manifest has file entries
    #[arg(long = "exec")]
    pub replace: bool,

    /// Accept a disk-backed folder ($XDG_RUNTIME_DIR, else /dev/shm) for secret files instead of refusing it (warns)
    #[arg(long)]
    pub allow_disk: bool,

    /// Re-read every reference this often while the command runs (at least 100ms, e.g. 5m);
    /// changes are handled as --on-change says, a failed round keeps the current values;
    /// refused with dynamic (leased) Vault secrets
    #[arg(long, value_parser = parse_duration, value_name = "DUR", conflicts_with = "replace")]
    pub refresh: Option<Duration>,

    /// What a change does. Secret files are replaced atomically either way. `restart`: the
    /// command gets SIGTERM (SIGKILL after 10s) and starts again with the new values.
    /// `signal:NAME` (e.g. signal:HUP): NAME is sent when a file changed; a changed
    /// environment variable cannot reach a running process and is only reported
    #[arg(long, value_parser = parse_on_change, default_value = "restart", value_name = "ACTION", requires = "refresh")]
    pub on_change: OnChange,

    /// Replace secret values in the command's stdout and stderr with *** (values under 4
    /// bytes and plain `value` entries are left alone; the output goes through sx, so the
    /// command no longer writes to the terminal directly)
    #[arg(long, conflicts_with = "replace")]
    pub mask: bool,

    /// The command and its arguments, passed verbatim (no shell)
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// NAME='value' lines for .env files: literal, with \' and \\ the only escapes
    Dotenv,
    /// export NAME='value' lines for `eval`
    Shell,
    /// one JSON object
    Json,
    /// GitHub Actions: ::add-mask:: lines on stdout, then NAME<<EOF blocks for $GITHUB_ENV
    Github,
    /// GitLab dotenv report (single-line values)
    Gitlab,
}

/// What `--refresh` does when a value changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnChange {
    Restart,
    Signal(nix::sys::signal::Signal),
}

/// Parses `restart` or `signal:NAME` (`HUP`, `SIGHUP`, `usr1`...).
pub fn parse_on_change(s: &str) -> Result<OnChange, String> {
    if s == "restart" {
        return Ok(OnChange::Restart);
    }
    let Some(name) = s.strip_prefix("signal:") else {
        return Err(format!("`{s}` is not `restart` or `signal:NAME`"));
    };
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    full.parse::<nix::sys::signal::Signal>()
        .map(OnChange::Signal)
        .map_err(|_| format!("unknown signal `{name}` (try HUP, USR1, USR2, TERM)"))
}

/// Parses `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (try 30s, 500ms, 2m)"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{s}` (use ms, s, m or h)"
            ));
        }
    };
    if !(0.0..=86_400.0 * 365.0).contains(&secs) || secs == 0.0 {
        return Err(format!(
            "`{s}` is out of range: give more than 0 and at most 365 days (8760h)"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("0").is_err());
    }

    #[test]
    fn on_change_actions() {
        use nix::sys::signal::Signal;
        assert_eq!(parse_on_change("restart"), Ok(OnChange::Restart));
        assert_eq!(
            parse_on_change("signal:HUP"),
            Ok(OnChange::Signal(Signal::SIGHUP))
        );
        assert_eq!(
            parse_on_change("signal:sigusr1"),
            Ok(OnChange::Signal(Signal::SIGUSR1))
        );
        assert!(parse_on_change("signal:NOPE").is_err());
        assert!(parse_on_change("reload").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
