//! sx: fetch the secrets a job needs and run it with them.
//!
//! Data flows one way: [`cli`] → [`manifest`] → [`plan`] → [`resolve`] → [`inject`] →
//! [`exec`]. Only `resolve` talks to providers; only `inject` and `exec` open secret values.

/// `eprintln!` that cannot panic: when stderr is closed or full (`2>&-`, `2>/dev/full`, a
/// reader that went away), the message is lost but the exit code still tells.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Whether `-q` asked for errors only: status lines ("sx: stored ...") are left out.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A status line on stderr, unless `-q`.
macro_rules! note {
    ($($arg:tt)*) => {{
        if !$crate::QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            say!($($arg)*);
        }
    }};
}

pub mod cli;
pub mod commands;
pub mod error;
pub mod exec;
pub mod inject;
mod logging;
pub mod manifest;
pub mod mask;
pub mod plan;
pub mod provider;
pub mod refresh;
pub mod resolve;
pub mod secret;

use std::ffi::OsString;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::error::Error;

/// Runs sx with `args` (program name first) and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> u8 {
    let args: Vec<OsString> = args.into_iter().collect();
    // An empty SX_MANIFEST or SX_PROFILE means "not set", as for most tools' variables.
    for var in ["SX_MANIFEST", "SX_PROFILE"] {
        if std::env::var_os(var).is_some_and(|v| v.is_empty()) {
            // SAFETY: no other thread exists yet; nothing reads the environment concurrently.
            unsafe { std::env::remove_var(var) };
        }
    }
    let mut cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ if is_exec(&args) => 125,
                _ => 2,
            };
        }
    };
    // `-p ''` means no profile, as an empty SX_PROFILE does.
    cli.global.profile = cli.global.profile.filter(|p| !p.is_empty());
    harden();
    QUIET.store(cli.global.quiet, std::sync::atomic::Ordering::Relaxed);
    logging::init(&cli.global);
    let exec = matches!(cli.command, Command::Exec(_));
    let json = cli.global.log_format == cli::LogFormat::Json;
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            report(&e, json);
            e.exit_code(exec)
        }
    }
}

/// Whether the arguments name the `exec` subcommand (for the exit code of a usage error).
fn is_exec(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "exec")
}

/// Makes sx's own memory unreadable to other processes of the same user (no core dumps,
/// no ptrace attach, /proc/PID/mem closed). The child is not affected: exec resets it.
fn harden() {
    // SAFETY: prctl with PR_SET_DUMPABLE takes plain integer arguments.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

fn report(e: &Error, json: bool) {
    if json {
        // One JSON line through the same formatter as the log lines (a timestamp, the
        // level), for collectors that parse stderr; `hint` only when there is one.
        match e.hint() {
            Some(hint) => tracing::error!(target: "sx::error", hint, "{e}"),
            None => tracing::error!(target: "sx::error", "{e}"),
        }
        return;
    }
    match e {
        Error::Manifest(m) => say!("{m}"),
        _ => {
            say!("error: {e}");
            if let Some(h) = e.hint() {
                say!("hint: {h}");
            }
        }
    }
}
