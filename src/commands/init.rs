//! `sx init`: the local store's identity and store, and a starter manifest. Nothing that
//! exists is overwritten.

use std::fs;
use std::os::unix::fs::DirBuilderExt;

use std::path::Path;

use crate::error::Error;
use crate::error::{ErrorKind, ProviderError};
use crate::manifest::{self, FILE_NAME};
use crate::provider::local;

const STARTER: &str = r#"# sx manifest: the secrets this job needs, by reference. See `sx --help`.
#
# [env] entries become environment variables of the command started by `sx exec`:
#   NAME = "SCHEME://PATH[?QUERY][#FIELD]"
# [files.NAME] entries become files on tmpfs; NAME holds the file's path.

[env]
# Add a value first:  printf %s 'the-value' | sx set local://example-token
# EXAMPLE_TOKEN = "local://example-token"
LOG_LEVEL = { value = "info" }   # a plain value, not a secret

# [files.TLS_KEY]
# ref  = "local://tls-key"
# mode = "0400"
"#;

/// `manifest`: where to write the starter manifest (`-f` / `SX_MANIFEST`), else `./sx.toml`.
pub fn run(no_manifest: bool, manifest: Option<&Path>) -> Result<u8, Error> {
    let provider_err = Error::Provider;
    let dir = local::config_dir().map_err(provider_err)?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| Error::io(format!("cannot create `{}`", dir.display()), e))?;

    let identity = local::default_identity_path().map_err(Error::Provider)?;
    let store = local::default_store_path().map_err(Error::Provider)?;
    let from_env = std::env::var_os(local::IDENTITY_VAR).is_some_and(|v| !v.is_empty())
        || std::env::var_os(local::IDENTITY_FILE_VAR).is_some_and(|v| !v.is_empty());
    if from_env {
        note!(
            "sx: using the identity from {} / {}",
            local::IDENTITY_VAR,
            local::IDENTITY_FILE_VAR
        );
    } else if identity.exists() {
        note!("sx: identity exists: {}", identity.display());
    } else if store.exists() {
        // A new identity could never open a store made for another one.
        return Err(Error::Provider(
            ProviderError::new(
                ErrorKind::Auth,
                format!(
                    "the local store `{}` exists but its identity `{}` does not; a new identity could not open it",
                    store.display(),
                    identity.display()
                ),
            )
            .hint(format!(
                "point {} at the identity that made the store, or move the store away to start a new one",
                local::IDENTITY_FILE_VAR
            )),
        ));
    } else {
        let public = local::create_identity(&identity)
            .map_err(|e| Error::io(format!("cannot create `{}`", identity.display()), e))?;
        note!(
            "sx: created identity {} (public key {public})",
            identity.display()
        );
    }

    if store.exists() {
        note!("sx: store exists: {}", store.display());
    } else {
        local::create_store(&store, &identity, &[]).map_err(Error::Provider)?;
        note!("sx: created empty store {}", store.display());
    }

    if !no_manifest {
        write_starter(manifest)?;
    }
    Ok(0)
}

fn write_starter(named: Option<&Path>) -> Result<(), Error> {
    let path = named.unwrap_or(Path::new(FILE_NAME));
    let shown = path.display();
    if path.exists() {
        note!("sx: {shown} exists; left as it is");
        return Ok(());
    }
    // A new manifest here would hide the one a folder above holds.
    let cwd =
        std::env::current_dir().map_err(|e| Error::io("cannot read the working folder", e))?;
    let above = match named {
        None => manifest::discover(None, &cwd)?,
        Some(_) => None,
    };
    fs::write(path, STARTER).map_err(|e| Error::io(format!("cannot write `{shown}`"), e))?;
    note!("sx: wrote a starter manifest {shown}");
    if let Some(above) = above {
        note!(
            "sx: note: commands run here now use it instead of `{}`; remove it to go back",
            above.display()
        );
    }
    Ok(())
}
