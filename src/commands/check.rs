//! `sx check`: validate the manifest and resolve every reference, printing a table of
//! name, reference, provider, version and status. Never a value.

use std::io::Write;
use std::time::Duration;

use crate::cli::Global;
use crate::commands::{require_manifest, runtime};
use crate::error::Error;
use crate::manifest::reference::escape;
use crate::plan::{Planner, Source};
use crate::resolve;

pub fn run(g: &Global, timeout: Duration) -> Result<u8, Error> {
    let manifest = require_manifest(g)?;
    let plan = Planner::new(Some(&manifest), g.profile.as_deref()).finish(Some(&manifest))?;
    let rt = runtime()?;
    let (fetched, providers) = rt.block_on(resolve::fetch_all(&plan, timeout));
    // check only looks: leases it took are returned at once.
    rt.block_on(futures_util::future::join_all(
        providers.iter().map(|(_, p)| p.shutdown()),
    ));

    // The same assembly exec does, so that check fails where exec would: fragments, import
    // problems, name collisions, and values that cannot be environment variables.
    let resolve::Assembly {
        outcome,
        mut failures,
        total,
    } = resolve::assemble_all(&plan, &fetched);
    failures.extend(resolve::env_problems(&outcome));
    let skipped = outcome.skipped;
    let problem_of = |label: &str| {
        failures
            .iter()
            .chain(&skipped)
            .find(|f| f.entry == label)
            .map(|f| f.error.to_string())
    };

    let mut rows = vec![[
        "NAME".to_owned(),
        "REFERENCE".to_owned(),
        "PROVIDER".to_owned(),
        "VERSION".to_owned(),
        "STATUS".to_owned(),
    ]];
    let mut push = |name: &str,
                    reference: &str,
                    fetch: Option<usize>,
                    status: Result<String, String>,
                    optional: bool| {
        let (provider, version) = fetch.map_or_else(
            || ("-".to_owned(), "-".to_owned()),
            |f| {
                let f = &plan.fetches[f];
                let inst = &plan.instances[f.instance];
                let version = inst
                    .ty
                    .pinned(&f.request)
                    .map_or_else(|| "latest".to_owned(), |(k, v)| format!("{k}={v}"));
                (inst.name.clone(), version)
            },
        );
        let status = match status {
            Ok(s) => s,
            Err(e) if optional => format!("optional, unset: {e}"),
            Err(e) => format!("FAILED: {e}"),
        };
        rows.push([
            name.to_owned(),
            escape(reference),
            provider,
            version,
            status,
        ]);
    };
    for e in &plan.entries {
        match &e.source {
            Source::Value(_) => push(&e.name, "(plain value)", None, Ok("ok".into()), e.optional),
            Source::Fetch {
                fetch, reference, ..
            } => {
                let status = problem_of(&e.label).map_or_else(|| Ok("ok".to_owned()), Err);
                push(&e.name, reference, Some(*fetch), status, e.optional);
            }
        }
    }
    for i in &plan.imports {
        let status = problem_of(&i.origin).map_or_else(|| Ok("ok".to_owned()), Err);
        push(&i.origin, &i.reference, Some(i.fetch), status, i.optional);
    }

    let widths: Vec<usize> = (0..4)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = std::io::stdout().lock();
    for r in &rows {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
        writeln!(out, "{}", line.trim_end()).map_err(|e| Error::io("cannot write to stdout", e))?;
    }
    if !failures.is_empty() {
        return Err(Error::Resolve(crate::error::ResolveErrors {
            failures,
            total,
        }));
    }
    Ok(0)
}
