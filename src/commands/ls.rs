//! `sx ls SCHEME://PREFIX`: names under a location, one per line. Never values.

use std::io::Write;

use crate::cli::Global;
use crate::commands::{provider_for, split_location};
use crate::error::Error;
use crate::manifest::reference::escape;

pub fn run(g: &Global, location: &str) -> Result<u8, Error> {
    let (scheme, prefix) = split_location(location)?;
    let (provider, rt) = provider_for(g, &scheme, None)?;
    let names = rt.block_on(provider.list(&prefix));
    // A login token sx obtained for this command is revoked, success or not.
    rt.block_on(provider.release());
    let names = names.map_err(|e| match e.kind {
        // A location the provider cannot list is a mistake on the command line.
        crate::error::ErrorKind::Malformed => Error::Usage {
            message: format!("bad location `{}`: {}", escape(location), e.message),
            hint: e.hint,
        },
        _ => Error::Provider(e),
    })?;
    let mut out = std::io::stdout().lock();
    for n in names {
        writeln!(out, "{}", escape(&n)).map_err(|e| Error::io("cannot write to stdout", e))?;
    }
    Ok(0)
}
