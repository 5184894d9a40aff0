//! `sx set REF` and `sx rm REF`: write and delete, on providers that allow it.

use std::io::{IsTerminal, Read};
use std::path::Path;

use crate::cli::Global;
use crate::commands::{connect, parse_reference, provider_config};
use crate::error::Error;
use crate::secret::SecretValue;

pub fn set(g: &Global, reference: &str, from_file: Option<&Path>) -> Result<u8, Error> {
    let r = parse_reference(reference)?;
    let config = provider_config(g, &r.scheme, Some(&r))?;
    config.ty().check_write(&r)?;
    let mut buf = Vec::new();
    match from_file {
        Some(p) => {
            std::fs::File::open(p)
                .and_then(|mut f| f.read_to_end(&mut buf))
                .map_err(|e| Error::io(format!("cannot read `{}`", p.display()), e))?;
        }
        None => {
            let mut stdin = std::io::stdin().lock();
            if stdin.is_terminal() {
                note!(
                    "sx: reading the value from stdin; end it with Ctrl-D (the bytes are stored as typed)"
                );
            }
            stdin
                .read_to_end(&mut buf)
                .map_err(|e| Error::io("cannot read the value from stdin", e))?;
        }
    }
    let value = SecretValue::new(buf);
    let (provider, rt) = connect(&config)?;
    let done = rt.block_on(provider.set(&r.path, value));
    rt.block_on(provider.release());
    done.map_err(Error::Provider)?;
    note!("sx: stored {r}");
    Ok(0)
}

pub fn rm(g: &Global, reference: &str, force: bool) -> Result<u8, Error> {
    let r = parse_reference(reference)?;
    let config = provider_config(g, &r.scheme, Some(&r))?;
    let version = config.ty().check_removal(&r)?;
    let (provider, rt) = connect(&config)?;
    let done = rt.block_on(provider.remove(&r.path, version.as_deref(), force));
    rt.block_on(provider.release());
    done.map_err(Error::Provider)?;
    note!("sx: removed {r}");
    Ok(0)
}
