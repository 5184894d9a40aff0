//! One module per subcommand. Each returns the exit code on success or an [`Error`].

mod check;
mod completions;
mod exec;
mod export;
mod get;
mod init;
mod ls;
mod set;

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Cli, Command, Global};
use crate::error::Error;
use crate::manifest::reference::{Reference, is_scheme_name};
use crate::manifest::{self, Manifest};
use crate::plan::{Plan, Planner};
use crate::provider::{Provider, ProviderConfig};
use crate::resolve;

pub fn dispatch(cli: Cli) -> Result<u8, Error> {
    let g = &cli.global;
    match cli.command {
        Command::Exec(args) => exec::run(g, &args),
        Command::Get { reference, timeout } => get::run(g, &reference, timeout.timeout),
        Command::Export { format, timeout } => export::run(g, format, timeout.timeout),
        Command::Check { timeout } => check::run(g, timeout.timeout),
        Command::Ls { prefix } => ls::run(g, &prefix),
        Command::Set {
            reference,
            from_file,
        } => set::set(g, &reference, from_file.as_deref()),
        Command::Rm { reference, force } => set::rm(g, &reference, force),
        Command::Init { no_manifest } => init::run(no_manifest, g.manifest.as_deref()),
        Command::Completions { shell } => completions::run(shell),
    }
}

fn cwd() -> Result<PathBuf, Error> {
    std::env::current_dir().map_err(|e| Error::io("cannot read the working directory", e))
}

/// The manifest, if there is one (`-f`, `SX_MANIFEST`, or the nearest `sx.toml`).
fn find_manifest(g: &Global) -> Result<Option<Manifest>, Error> {
    let found = manifest::discover(g.manifest.as_deref(), &cwd()?)?;
    if let Some(p) = &found {
        tracing::debug!(
            "manifest: {}",
            manifest::reference::escape(&p.display().to_string())
        );
    }
    found.map(|p| manifest::load(&p)).transpose()
}

/// The manifest, which this command cannot do without.
fn require_manifest(g: &Global) -> Result<Manifest, Error> {
    find_manifest(g)?.ok_or_else(|| Error::Usage {
        message: format!(
            "no {} found in `{}` or any folder above it",
            manifest::FILE_NAME,
            cwd().map(|p| p.display().to_string()).unwrap_or_default()
        ),
        hint: Some("create one with `sx init`, or name one with -f PATH / SX_MANIFEST".into()),
    })
}

/// A current-thread runtime: resolution is I/O-bound and needs no worker threads.
fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))
}

/// Resolves a plan for a command that prints values and is done with the providers: they are
/// released (login tokens and leases revoked) before anything is printed.
fn resolve_and_release(plan: &Plan, timeout: Duration) -> Result<resolve::Outcome, Error> {
    runtime()?.block_on(async {
        let outcome = resolve::resolve(plan, timeout)
            .await
            .map_err(Error::Resolve)?;
        futures_util::future::join_all(outcome.providers.iter().map(|(_, p)| p.release())).await;
        Ok(outcome)
    })
}

/// Splits `SCHEME://PATH` for commands that take a location rather than a full reference.
fn split_location(s: &str) -> Result<(String, String), Error> {
    match s.split_once("://") {
        Some((scheme, path)) if is_scheme_name(scheme) && path.contains(['?', '#']) => {
            Err(Error::Usage {
                message: format!(
                    "`{}`: a location takes no ?query or #field",
                    manifest::reference::escape(s)
                ),
                hint: Some(format!("list a prefix, e.g. {scheme}://prod/")),
            })
        }
        Some((scheme, path)) if is_scheme_name(scheme) => {
            let path =
                manifest::reference::decode(path, scheme.len() + 3, "the path").map_err(|e| {
                    Error::Usage {
                        message: format!("bad location: {}", e.message),
                        hint: e.hint,
                    }
                })?;
            Ok((scheme.to_owned(), path))
        }
        _ => Err(Error::Usage {
            message: format!("`{}` is not a location", manifest::reference::escape(s)),
            hint: Some("write SCHEME://PREFIX, e.g. local:// or aws-sm://prod/".into()),
        }),
    }
}

/// Parses a reference given on the command line.
fn parse_reference(s: &str) -> Result<Reference, Error> {
    Reference::parse(s).map_err(|e| Error::Usage {
        message: format!("bad reference: {}", e.message),
        hint: e.hint,
    })
}

/// Connects the provider a scheme names, with settings from the manifest when there is one.
/// `reference`, when given, is checked against the provider's type first.
fn provider_for(
    g: &Global,
    scheme: &str,
    reference: Option<&Reference>,
) -> Result<(Provider, tokio::runtime::Runtime), Error> {
    connect(&provider_config(g, scheme, reference)?)
}

/// The settings of the instance `scheme` names, from the manifest if there is one.
fn provider_config(
    g: &Global,
    scheme: &str,
    reference: Option<&Reference>,
) -> Result<ProviderConfig, Error> {
    let manifest = find_manifest(g)?;
    Planner::instance_config(manifest.as_ref(), g.profile.as_deref(), scheme, reference)
}

fn connect(config: &ProviderConfig) -> Result<(Provider, tokio::runtime::Runtime), Error> {
    let rt = runtime()?;
    let provider = rt
        .block_on(Provider::connect(config))
        .map_err(Error::Provider)?;
    Ok((provider, rt))
}
