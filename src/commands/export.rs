//! `sx export`: every manifest entry resolved, in a format other tools read. Besides `get`,
//! the one command that prints values.

use std::io::Write;
use std::time::Duration;

use crate::cli::{ExportFormat, Global};
use crate::commands::{require_manifest, resolve_and_release};
use crate::error::Error;
use crate::plan::Planner;

pub fn run(g: &Global, format: ExportFormat, timeout: Duration) -> Result<u8, Error> {
    // Checked first: no secret is fetched for an export that has nowhere to go.
    let github_env = match format {
        ExportFormat::Github => {
            let path = std::env::var_os("GITHUB_ENV").ok_or_else(|| Error::Usage {
                message: "GITHUB_ENV is not set: --format github runs inside a GitHub Actions step"
                    .into(),
                hint: Some("elsewhere use --format dotenv or shell".into()),
            })?;
            // The runner makes this file for every step: opened now, before any fetch.
            let file = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| {
                    Error::io(
                        format!(
                            "cannot open $GITHUB_ENV (`{}`)",
                            crate::manifest::reference::escape(&path.to_string_lossy())
                        ),
                        e,
                    )
                })?;
            Some(file)
        }
        _ => None,
    };
    let manifest = require_manifest(g)?;
    let mut plan = Planner::new(Some(&manifest), g.profile.as_deref()).finish(Some(&manifest))?;
    // Files exist only while `sx exec` runs: not fetched, not printed.
    for name in plan.without_files() {
        tracing::warn!("files {name} skipped: files exist only while `sx exec` runs");
    }
    let outcome = resolve_and_release(&plan, timeout)?;
    for s in &outcome.skipped {
        tracing::warn!("optional {} left unset: {}", s.entry, s.error);
    }
    let mut vars = Vec::new();
    for e in &outcome.entries {
        if e.value.expose().contains(&0) {
            return Err(Error::Inject {
                message: format!(
                    "env {}: the value contains a NUL byte and cannot be exported",
                    e.name
                ),
                hint: Some(format!("use `sx exec` with a [files.{}] entry", e.name)),
            });
        }
        vars.push((e.name.as_str(), e.value.expose(), e.secret));
    }
    let mut out = Vec::new();
    match format {
        // Shell quoting carries any bytes but NUL; the other formats are text.
        ExportFormat::Shell => {
            for (k, v, _) in &vars {
                out.extend_from_slice(format!("export {k}='").as_bytes());
                for &b in *v {
                    if b == b'\'' {
                        out.extend_from_slice(b"'\\''");
                    } else {
                        out.push(b);
                    }
                }
                out.extend_from_slice(b"'\n");
            }
        }
        ExportFormat::Dotenv => {
            for (k, v, _) in texts(&vars)? {
                out.extend(format!("{k}='{}'\n", dotenv_escape(v)).bytes());
            }
        }
        ExportFormat::Json => {
            // One object, keys in manifest order like the other formats.
            let members: Vec<String> = texts(&vars)?
                .into_iter()
                .map(|(k, v, _)| {
                    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
                    format!("  {}: {}", quote(k), quote(v))
                })
                .collect();
            if members.is_empty() {
                out.extend(b"{}\n");
            } else {
                out.extend(format!("{{\n{}\n}}\n", members.join(",\n")).bytes());
            }
        }
        ExportFormat::Gitlab => {
            for (k, v, _) in texts(&vars)? {
                if v.contains(['\n', '\r']) {
                    return Err(Error::Inject {
                        message: format!(
                            "env {k}: GitLab dotenv reports cannot hold multi-line values"
                        ),
                        hint: Some("deliver it with `sx exec` or as a [files] entry".into()),
                    });
                }
                out.extend(format!("{k}={v}\n").bytes());
            }
        }
        ExportFormat::Github => {
            let Some(file) = github_env else {
                unreachable!("opened above for --format github");
            };
            return github(&texts(&vars)?, file);
        }
    }
    print(out)
}

/// The values as text, for the formats that hold only text.
fn texts<'a>(vars: &[(&'a str, &'a [u8], bool)]) -> Result<Vec<(&'a str, &'a str, bool)>, Error> {
    vars.iter()
        .map(|&(k, v, secret)| match std::str::from_utf8(v) {
            Ok(text) => Ok((k, text, secret)),
            Err(_) => Err(Error::Inject {
                message: format!("env {k}: the value is not UTF-8 and cannot be exported as text"),
                hint: Some(
                    "--format shell carries any bytes; so do `sx exec` and [files] entries".into(),
                ),
            }),
        })
        .collect()
}

/// Writes the export to stdout, then wipes it.
fn print(mut out: Vec<u8>) -> Result<u8, Error> {
    use zeroize::Zeroize;
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("cannot write to stdout", e));
    out.zeroize();
    written.map(|()| 0)
}

/// The inside of a single-quoted dotenv value: literal (no `$` expansion, newlines kept),
/// with `\\` and `\'` the only escapes, as python-dotenv reads single quotes.
fn dotenv_escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\'', "\\'")
}

/// Workflow-command data as the runner decodes it: `%25`, `%0D` and `%0A` stand for `%`,
/// CR and LF, so a literal `%` must be written `%25` or the mask would be another string.
fn command_data(v: &str) -> String {
    v.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Masks every line of every value in the job log, then appends the variables to the file
/// GitHub Actions names in `$GITHUB_ENV`, each with a delimiter that is not in the value.
fn github(vars: &[(&str, &str, bool)], mut f: std::fs::File) -> Result<u8, Error> {
    let mut stdout = std::io::stdout().lock();
    let mut block = String::new();
    for (k, v, secret) in vars {
        // Plain values are not secrets; masking "info" would hide every "info" in the log.
        for line in v.lines().filter(|l| *secret && !l.trim().is_empty()) {
            writeln!(stdout, "::add-mask::{}", command_data(line))
                .map_err(|e| Error::io("cannot write to stdout", e))?;
        }
        let mut n = 0u32;
        let delim = loop {
            let d = format!("SX_EOF_{n}");
            if !v.contains(&d) {
                break d;
            }
            n += 1;
        };
        block.push_str(&format!("{k}<<{delim}\n{v}\n{delim}\n"));
    }
    f.write_all(block.as_bytes())
        .map_err(|e| Error::io("cannot write $GITHUB_ENV", e))?;
    use zeroize::Zeroize;
    block.zeroize();
    Ok(0)
}
