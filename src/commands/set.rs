//! `sx set REF` and `sx rm REF`: write and delete, on providers that allow it.

use std::io::{IsTerminal, Read};
use std::path::Path;

use crate::cli::Global;
use crate::commands::{parse_reference, provider_for};
use crate::error::Error;
use crate::manifest::reference::Reference;
use crate::secret::SecretValue;

fn plain_name(r: &Reference) -> Result<(), Error> {
    if r.fragment.is_some() || !r.query.is_empty() {
        return Err(Error::Usage {
            message: format!("`{r}`: a reference to write or delete takes no #field or ?query"),
            hint: Some("name the whole secret, e.g. local://api-token".into()),
        });
    }
    Ok(())
}

pub fn set(g: &Global, reference: &str, from_file: Option<&Path>) -> Result<u8, Error> {
    let r = parse_reference(reference)?;
    plain_name(&r)?;
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
                eprintln!(
                    "sx: reading the value from stdin; end it with Ctrl-D (the bytes are stored as typed)"
                );
            }
            stdin
                .read_to_end(&mut buf)
                .map_err(|e| Error::io("cannot read the value from stdin", e))?;
        }
    }
    let value = SecretValue::new(buf);
    let (provider, rt) = provider_for(g, &r.scheme)?;
    let done = rt.block_on(provider.set(&r.path, value));
    rt.block_on(provider.release());
    done.map_err(Error::Provider)?;
    eprintln!("sx: stored {r}");
    Ok(0)
}

pub fn rm(g: &Global, reference: &str, force: bool) -> Result<u8, Error> {
    let r = parse_reference(reference)?;
    plain_name(&r)?;
    let (provider, rt) = provider_for(g, &r.scheme)?;
    let done = rt.block_on(provider.remove(&r.path, force));
    rt.block_on(provider.release());
    done.map_err(Error::Provider)?;
    eprintln!("sx: removed {r}");
    Ok(0)
}
