//! `--refresh`: re-reading every reference while the command runs.
//!
//! Each round resolves the whole plan again. A failed round changes nothing (the command
//! keeps running on the values it has) and is logged. Changed file values are written in
//! place atomically; what happens next is the user's choice: restart the command with the
//! new values, or send it a signal so it reloads its files.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::OnChange;
use crate::exec;
use crate::inject::env::ChildEnv;
use crate::inject::files::RunDir;
use crate::plan::{Plan, Target};
use crate::resolve::{self, Resolved};
use crate::secret::SecretValue;

/// Everything a refresh round needs, moved to the background thread.
#[derive(Debug)]
pub struct RefreshJob {
    pub plan: Plan,
    pub every: Duration,
    pub timeout: Duration,
    pub on_change: OnChange,
    pub clean_env: bool,
    pub run_dir: Option<PathBuf>,
    /// The values the command was started with.
    pub current: Vec<Resolved>,
    /// Variables sx read its own credentials from: kept from the command on a restart too.
    pub consumed: Vec<String>,
    /// The command and its arguments, for the size check of a new environment.
    pub command: Vec<std::ffi::OsString>,
}

fn key(r: &Resolved) -> (String, bool) {
    (r.name.clone(), matches!(r.target, Target::File { .. }))
}

impl RefreshJob {
    /// Runs rounds until dropped.
    pub async fn run(mut self, connected: &[(usize, crate::provider::Provider)]) {
        loop {
            tokio::time::sleep(self.every).await;
            let outcome = match resolve::resolve_using(&self.plan, connected, self.timeout).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!("refresh failed; the command keeps its current values: {e}");
                    continue;
                }
            };
            for (_, p) in &outcome.providers {
                p.release().await;
            }
            if !outcome.skipped.is_empty() {
                // An optional entry that fails for a moment must not restart the command
                // without it: the round counts as failed.
                let names: Vec<&str> = outcome.skipped.iter().map(|s| s.entry.as_str()).collect();
                tracing::warn!(
                    "refresh failed for optional {}; the command keeps its current values",
                    names.join(", ")
                );
                continue;
            }
            self.apply(outcome.entries);
        }
    }

    fn apply(&mut self, fresh: Vec<Resolved>) {
        let old: HashMap<(String, bool), &SecretValue> =
            self.current.iter().map(|r| (key(r), &r.value)).collect();
        let mut changed_env = Vec::new();
        let mut changed_files = Vec::new();
        for r in &fresh {
            if old.get(&key(r)).map(|v| v.expose()) != Some(r.value.expose()) {
                match r.target {
                    Target::Env => changed_env.push(r.name.clone()),
                    Target::File { .. } => changed_files.push(r.name.clone()),
                }
            }
        }
        let removed = self
            .current
            .iter()
            .any(|r| !fresh.iter().any(|f| key(f) == key(r)));
        if changed_env.is_empty() && changed_files.is_empty() && !removed {
            tracing::debug!("refresh: nothing changed");
            return;
        }
        tracing::info!(
            "refresh: changed {}",
            changed_env
                .iter()
                .map(|n| format!("env {n}"))
                .chain(changed_files.iter().map(|n| format!("files {n}")))
                .collect::<Vec<_>>()
                .join(", ")
        );
        // Files first, so that a restarted or signalled command reads the new content.
        if let Some(dir) = &self.run_dir {
            for r in fresh.iter().filter(|r| changed_files.contains(&r.name)) {
                if let Target::File { mode, file_name } = &r.target {
                    let name = file_name.as_deref().unwrap_or(&r.name);
                    if let Err(e) = RunDir::rewrite(dir, name, *mode, r.value.expose()) {
                        tracing::warn!("refresh: cannot update files {}: {e}", r.name);
                    }
                }
            }
        }
        match self.on_change {
            OnChange::Restart => match self.environment(&fresh) {
                Ok(env) => {
                    tracing::info!("refresh: restarting the command with the new values");
                    let secrets = fresh
                        .iter()
                        .filter(|r| r.secret)
                        .map(|r| r.value.clone())
                        .collect();
                    exec::request_restart(env.vars().to_vec(), secrets);
                    // A command that ignores SIGTERM is stopped for good after a grace period.
                    let pid = exec::child_pid();
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_secs(10));
                        if pid.is_some() && exec::child_pid() == pid && exec::restart_pending() {
                            exec::signal_child(nix::sys::signal::Signal::SIGKILL);
                        }
                    });
                }
                Err(e) => tracing::warn!(
                    "refresh: the new values cannot be passed on, keeping the old ones: {e}"
                ),
            },
            OnChange::Signal(sig) => {
                if !changed_env.is_empty() {
                    tracing::warn!(
                        "refresh: env {} changed; a running command keeps its environment until it restarts (--on-change restart)",
                        changed_env.join(", ")
                    );
                }
                // Only a file change is something the command can reload.
                if !changed_files.is_empty() {
                    exec::signal_child(sig);
                }
            }
        }
        self.current = fresh;
    }

    /// The command's environment for the new values (file paths do not change).
    fn environment(&self, fresh: &[Resolved]) -> Result<ChildEnv, crate::error::Error> {
        let mut env = ChildEnv::inherit(self.clean_env);
        for r in fresh {
            match &r.target {
                Target::Env => env.set(&r.name, r.value.expose())?,
                Target::File { file_name, .. } => {
                    if let Some(dir) = &self.run_dir {
                        let path = dir.join(file_name.as_deref().unwrap_or(&r.name));
                        env.set(&r.name, path.as_os_str().as_encoded_bytes())?;
                    }
                }
            }
        }
        // As at the first start: sx's own credentials stay with sx unless the manifest
        // passes them on, and the whole must fit what the kernel takes.
        for name in &self.consumed {
            if !fresh.iter().any(|r| &r.name == name) {
                env.remove(name);
            }
        }
        env.check_total(&self.command)?;
        Ok(env)
    }
}
