//! `sx exec`: resolve, inject, start the command, supervise it, exit with its status.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use crate::cli::{ExecArgs, Global};
use crate::commands::{find_manifest, require_manifest, runtime};
use crate::error::Error;
use crate::exec::{self, ChildSpec};
use crate::inject::env::{ChildEnv, OWN_VARIABLES};
use crate::inject::files::RunDir;
use crate::manifest::reference::{Reference, escape, looks_like_reference};
use crate::manifest::{self, Manifest};
use crate::plan::{Plan, Planner, Target};
use crate::provider::ProviderType;
use crate::resolve;

pub fn run(g: &Global, args: &ExecArgs) -> Result<u8, Error> {
    // Before any thread exists (the runtime, the resolver's pools), so all inherit the mask.
    exec::install_signal_handling()?;

    let manifest = if args.env_refs {
        find_manifest(g)?
    } else {
        Some(require_manifest(g)?)
    };
    let plan = build_plan(g, manifest.as_ref(), args.env_refs)?;
    if args
        .refresh
        .is_some_and(|d| d < std::time::Duration::from_millis(100))
    {
        return Err(Error::Usage {
            message: "--refresh must be at least 100ms".into(),
            hint: Some(
                "every round reads every reference again; minutes are typical (--refresh 5m)"
                    .into(),
            ),
        });
    }
    if args.replace
        && plan
            .entries
            .iter()
            .any(|e| matches!(e.target, Target::File { .. }))
    {
        return Err(Error::Usage {
            message: "--exec cannot be used with secret files ([files] entries, or ?destination=tempfile): nothing would remain to remove them"
                .into(),
            hint: Some(
                "drop --exec (sx then supervises the command and removes the files when it exits)"
                    .into(),
            ),
        });
    }

    let rt = runtime()?;
    let mut outcome = rt
        .block_on(resolve::resolve(&plan, args.timeout.timeout))
        .map_err(Error::Resolve)?;
    let providers = std::mem::take(&mut outcome.providers);
    let upkeep = providers.iter().any(|(_, p)| p.has_upkeep());
    if args.refresh.is_some() && providers.iter().any(|(_, p)| p.has_leases()) {
        rt.block_on(futures_util::future::join_all(
            providers.iter().map(|(_, p)| p.shutdown()),
        ));
        return Err(Error::Usage {
            message: "--refresh cannot be used with dynamic secrets: every round would lease new credentials".into(),
            hint: Some("sx renews their leases while the command runs; drop --refresh, or read them from a KV mount".into()),
        });
    }
    for skipped in &outcome.skipped {
        tracing::warn!("optional {} left unset: {}", skipped.entry, skipped.error);
    }

    // Every secret value (not plain `{ value = ... }` entries), for --mask.
    let mut masker = args.mask.then(|| {
        std::sync::Arc::new(crate::mask::Masker::new(
            outcome
                .entries
                .iter()
                .filter(|e| e.secret)
                .map(|e| e.value.expose()),
        ))
    });
    let consumed: Vec<String> = providers
        .iter()
        .flat_map(|(_, p)| p.consumed_variables())
        .collect();
    let prepared = inject(args, &outcome).map(|(mut env, dir)| {
        for name in &consumed {
            // Unless the manifest itself gives the command this variable.
            if !outcome.entries.iter().any(|e| &e.name == name) {
                env.remove(name);
            }
        }
        (env, dir)
    });
    let current: Vec<resolve::Resolved> = outcome
        .entries
        .iter()
        .map(|e| resolve::Resolved {
            name: e.name.clone(),
            target: e.target.clone(),
            value: e.value.clone(),
            secret: e.secret,
            origin: e.origin.clone(),
        })
        .collect();
    drop(outcome);
    let (env, run_dir) = match prepared {
        Ok(p) => p,
        Err(e) => {
            // The command will not run: give back what was leased for it.
            rt.block_on(futures_util::future::join_all(
                providers.iter().map(|(_, p)| p.shutdown()),
            ));
            return Err(e);
        }
    };

    if args.replace {
        if upkeep {
            tracing::warn!(
                "--exec: vault leases and tokens will be neither renewed nor revoked, since sx is replaced"
            );
        }
        return Err(exec::replace(&ChildSpec {
            argv: &args.command,
            env: env.vars(),
            mask: None,
        }));
    }
    // Leases are renewed, and with --refresh values re-read, on a thread of their own while
    // the command runs; leases are revoked after.
    let refresh = args.refresh.map(|every| crate::refresh::RefreshJob {
        plan,
        every,
        timeout: args.timeout.timeout,
        on_change: args.on_change,
        clean_env: args.clean_env,
        run_dir: run_dir.as_ref().map(|d| d.path().to_path_buf()),
        current,
        consumed: consumed.clone(),
        command: args.command.clone(),
    });
    let keeper = (upkeep || refresh.is_some()).then(|| Keeper::start(rt, providers, refresh));
    let mut env = env;
    let result = loop {
        let spec = ChildSpec {
            argv: &args.command,
            env: env.vars(),
            mask: masker.clone(),
        };
        match exec::run(&spec) {
            Ok(code) => match exec::take_restart() {
                Some((vars, secrets)) => {
                    env = ChildEnv::from_vars(vars);
                    masker = masker.map(|m| {
                        std::sync::Arc::new(m.extended(secrets.iter().map(|s| s.expose())))
                    });
                }
                None => break Ok(code),
            },
            Err(e) => break Err(e),
        }
    };
    if let Some(k) = keeper {
        k.finish();
    }
    drop(env);
    drop(run_dir);
    result
}

/// The thread that keeps leases alive during the run and revokes them after it.
struct Keeper {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Keeper {
    fn start(
        rt: tokio::runtime::Runtime,
        providers: Vec<(usize, crate::provider::Provider)>,
        refresh: Option<crate::refresh::RefreshJob>,
    ) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let keep =
                    futures_util::future::join_all(providers.iter().map(|(_, p)| p.keep_alive()));
                // Refresh rounds reuse the connected providers: no new login each round.
                let rounds = async {
                    match refresh {
                        Some(job) => job.run(&providers).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = keep => {}
                    () = rounds => {}
                    _ = stopped => {}
                }
                futures_util::future::join_all(providers.iter().map(|(_, p)| p.shutdown())).await;
            });
        });
        Self { stop, thread }
    }

    fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// The child's environment and secret files, with every problem reported together.
fn inject(
    args: &ExecArgs,
    outcome: &resolve::Outcome,
) -> Result<(ChildEnv, Option<RunDir>), Error> {
    let mut env = ChildEnv::inherit(args.clean_env);
    let mut run_dir: Option<RunDir> = None;
    let mut problems = Vec::new();
    for entry in &outcome.entries {
        let result = match &entry.target {
            Target::Env => env.set(&entry.name, entry.value.expose()),
            Target::File { mode, file_name } => {
                if run_dir.is_none() {
                    let dir = RunDir::create(args.allow_disk)?;
                    exec::register_cleanup(Some(dir.path().to_path_buf()));
                    run_dir = Some(dir);
                }
                let dir = run_dir.as_ref().unwrap_or_else(|| unreachable!());
                let name = file_name.as_deref().unwrap_or(&entry.name);
                dir.write(name, *mode, entry.value.expose())
                    .and_then(|path| env.set(&entry.name, path.as_os_str().as_bytes()))
            }
        };
        if let Err(e) = result {
            problems.push(e);
        }
    }
    if let Some(first) = combine(problems) {
        return Err(first);
    }
    env.check_total(&args.command)?;
    Ok((env, run_dir))
}

/// The manifest's plan, plus references found in the environment with `--env-refs`.
fn build_plan(g: &Global, manifest: Option<&Manifest>, env_refs: bool) -> Result<Plan, Error> {
    let mut planner = Planner::new(manifest, g.profile.as_deref());
    if env_refs {
        let declared: Vec<&str> = manifest
            .map(|m| m.base.providers.iter().map(|p| p.name.as_str()).collect())
            .unwrap_or_default();
        let defined: Vec<&str> = manifest
            .map(|m| {
                m.base
                    .env
                    .iter()
                    .map(|e| e.name.as_str())
                    .chain(m.base.files.iter().map(|f| f.name.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        vars.sort();
        for (k, v) in vars {
            let (Some(k), Some(v)) = (k.to_str(), v.to_str()) else {
                continue;
            };
            // Only values whose scheme is a provider sx knows: a proxy URL is not a reference.
            if !manifest::is_env_name(k)
                || OWN_VARIABLES.contains(&k)
                || defined.contains(&k)
                || !looks_like_reference(v)
            {
                continue;
            }
            if v.starts_with("sm://") || v.starts_with("berglas://") {
                match berglas(k, v) {
                    // Named as written, so an error shows the user's reference too.
                    Ok((r, target)) => planner.add_cli_entry(
                        k,
                        target,
                        &r,
                        format!("env {k} ({})", escape(v)),
                        format!("environment variable {k}"),
                    ),
                    Err(Error::Usage { message, hint }) => planner.add_cli_problem(message, hint),
                    Err(e) => return Err(e),
                }
                continue;
            }
            let scheme = v.split("://").next().unwrap_or("");
            if ProviderType::from_name(scheme).is_none() && !declared.contains(&scheme) {
                continue;
            }
            match Reference::parse(v) {
                Ok(r) => planner.add_cli_entry(
                    k,
                    Target::Env,
                    &r,
                    format!("env {k}"),
                    format!("environment variable {k}"),
                ),
                Err(e) => planner.add_cli_problem(
                    format!(
                        "environment variable {k}: bad reference: {}",
                        escape(&e.message)
                    ),
                    e.hint,
                ),
            }
        }
    }
    planner.finish(manifest)
}

/// A berglas reference, `sm://PROJECT/SECRET[?destination=tempfile][#VERSION]`, as the
/// equivalent `gcp-sm://` reference; `tempfile` delivers it as a file (on tmpfs, by sx's
/// file rules) whose path the variable holds.
fn berglas(name: &str, value: &str) -> Result<(Reference, Target), Error> {
    let usage = |message: String, hint: &str| Error::Usage {
        message: format!("environment variable {name}: {message}"),
        hint: Some(hint.to_owned()),
    };
    let Some(rest) = value.strip_prefix("sm://") else {
        return Err(usage(
            "berglas:// references (Cloud Storage and KMS) are not supported".into(),
            "move the secret to Secret Manager (`berglas migrate`) and use sm://PROJECT/SECRET",
        ));
    };
    let (before, version) = match rest.split_once('#') {
        Some((b, v)) => (b, Some(v)),
        None => (rest, None),
    };
    let (path, query) = before.split_once('?').unwrap_or((before, ""));
    let mut target = Target::Env;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("destination", "tempfile" | "tmpfile")) => {
                target = Target::File {
                    mode: 0o400,
                    file_name: None,
                };
            }
            // berglas reads an empty destination as none: the value goes in the variable.
            Some(("destination", "")) => {}
            Some(("destination", _)) => {
                return Err(usage(
                    "`?destination=PATH` is not supported: sx writes secret files only into its own private tmpfs directory".into(),
                    "use ?destination=tempfile; the variable then holds the file's path",
                ));
            }
            _ => {
                return Err(usage(
                    format!("unknown option `{}` in a berglas reference", escape(pair)),
                    "berglas references take ?destination=tempfile and #VERSION",
                ));
            }
        }
    }
    let mut parts = path.split('/');
    let (Some(project), Some(secret), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(usage(
            format!("`{}` is not sm://PROJECT/SECRET", escape(value)),
            "write sm://PROJECT/SECRET or sm://PROJECT/SECRET#VERSION",
        ));
    };
    let translated = match version.filter(|v| !v.is_empty()) {
        Some(v) => format!("gcp-sm://{project}/{secret}/{v}"),
        None => format!("gcp-sm://{project}/{secret}"),
    };
    let r =
        Reference::parse(&translated).map_err(|e| usage(e.message, "write sm://PROJECT/SECRET"))?;
    Ok((r, target))
}

/// Merges several injection problems into one error that lists them all.
fn combine(problems: Vec<Error>) -> Option<Error> {
    if problems.len() <= 1 {
        return problems.into_iter().next();
    }
    // Each problem keeps its own hint; the last one is printed by the caller.
    let n = problems.len();
    let mut message = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            message.push_str("\nerror: ");
        }
        message.push_str(&p.to_string());
        if let (true, Some(h)) = (i + 1 < n, p.hint()) {
            message.push_str(&format!("\nhint: {h}"));
        }
    }
    let hint = problems.last().and_then(|p| p.hint()).map(str::to_owned);
    Some(Error::Inject { message, hint })
}
