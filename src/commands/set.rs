//! `sx set REF` and `sx rm REF`: write and delete, on providers that allow it.

use std::io::{IsTerminal, Read};
use std::path::Path;

use crate::cli::Global;
use crate::commands::{connect, parse_reference, provider_config, provider_for};
use crate::error::Error;
use crate::manifest::reference::Reference;
use crate::provider::{Provider, ProviderConfig};
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
    // Secret Manager versions cannot be rewritten: a write adds one.
    if matches!(
        provider_config(g, &r.scheme, Some(&r))?,
        ProviderConfig::GcpSm(_)
    ) && crate::provider::gcp_sm::names_version(&r.path)
    {
        return Err(Error::Usage {
            message: format!("`{r}`: a version cannot be written, only added"),
            hint: Some(
                "name the secret without a version; `sx set` adds a new version to it".into(),
            ),
        });
    }
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
    let (provider, rt) = provider_for(g, &r.scheme, Some(&r))?;
    let done = rt.block_on(provider.set(&r.path, value));
    rt.block_on(provider.release());
    done.map_err(Error::Provider)?;
    note!("sx: stored {r}");
    Ok(0)
}

pub fn rm(g: &Global, reference: &str, force: bool) -> Result<u8, Error> {
    let r = parse_reference(reference)?;
    let config = provider_config(g, &r.scheme, Some(&r))?;
    // Secret Manager names one version to destroy in the path or, as in reads, `?version=`.
    let version = match r.query.as_slice() {
        [(key, v)] if key == "version" && r.fragment.is_none() => Some(v.clone()),
        _ => None,
    };
    if version.is_none() || !matches!(config, ProviderConfig::GcpSm(_)) {
        plain_name(&r).map_err(|e| match (e, &version) {
            (Error::Usage { message, .. }, Some(_)) => Error::Usage {
                message,
                hint: Some(
                    "only gcp-sm deletes one version (`?version=N`); other providers delete the whole secret"
                        .into(),
                ),
            },
            (e, _) => e,
        })?;
    }
    if matches!(config, ProviderConfig::GcpSm(_)) {
        // What would be destroyed is known now: refuse a bad one before any login.
        crate::provider::gcp_sm::check_removal(&r.path, version.as_deref()).map_err(|e| {
            Error::Usage {
                message: e.message,
                hint: e.hint,
            }
        })?;
    }
    let (provider, rt) = connect(&config)?;
    let done = match &provider {
        Provider::GcpSm(p) => rt.block_on(p.remove(&r.path, version.as_deref())),
        _ => rt.block_on(provider.remove(&r.path, force)),
    };
    rt.block_on(provider.release());
    done.map_err(Error::Provider)?;
    note!("sx: removed {r}");
    Ok(0)
}
