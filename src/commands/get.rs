//! `sx get REF`: one value, exact bytes, on stdout.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use crate::cli::Global;
use crate::commands::{find_manifest, parse_reference, resolve_and_release};
use crate::error::Error;
use crate::plan::{Planner, Target};

pub fn run(g: &Global, reference: &str, timeout: Duration) -> Result<u8, Error> {
    let r = parse_reference(reference)?;
    let manifest = find_manifest(g)?;
    let mut planner = Planner::providers_only(manifest.as_ref(), g.profile.as_deref());
    planner.add_cli_entry(
        "value",
        Target::Env,
        &r,
        "get".into(),
        "the command line".into(),
    );
    let plan = planner.finish(manifest.as_ref())?;
    let outcome = resolve_and_release(&plan, timeout)?;
    let Some(entry) = outcome.entries.first() else {
        return Ok(1);
    };
    let mut out = std::io::stdout().lock();
    let terminal = out.is_terminal();
    out.write_all(entry.value.expose())
        .and_then(|()| {
            if terminal {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("cannot write to stdout", e))?;
    Ok(0)
}
