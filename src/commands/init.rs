//! `sx init`: the local store's identity and store, and a starter manifest. Nothing that
//! exists is overwritten.

use std::fs;
use std::os::unix::fs::DirBuilderExt;

use crate::error::Error;
use crate::manifest::FILE_NAME;
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

pub fn run(no_manifest: bool) -> Result<u8, Error> {
    let provider_err = Error::Provider;
    let dir = local::config_dir().map_err(provider_err)?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| Error::io(format!("cannot create `{}`", dir.display()), e))?;

    let identity = local::default_identity_path().map_err(Error::Provider)?;
    let from_env = std::env::var_os(local::IDENTITY_VAR).is_some_and(|v| !v.is_empty())
        || std::env::var_os(local::IDENTITY_FILE_VAR).is_some_and(|v| !v.is_empty());
    if from_env {
        eprintln!(
            "sx: using the identity from {} / {}",
            local::IDENTITY_VAR,
            local::IDENTITY_FILE_VAR
        );
    } else if identity.exists() {
        eprintln!("sx: identity exists: {}", identity.display());
    } else {
        let public = local::create_identity(&identity)
            .map_err(|e| Error::io(format!("cannot create `{}`", identity.display()), e))?;
        eprintln!(
            "sx: created identity {} (public key {public})",
            identity.display()
        );
    }

    let store = local::default_store_path().map_err(Error::Provider)?;
    if store.exists() {
        eprintln!("sx: store exists: {}", store.display());
    } else {
        local::create_store(&store, &identity, &[]).map_err(Error::Provider)?;
        eprintln!("sx: created empty store {}", store.display());
    }

    if !no_manifest {
        let path = std::path::Path::new(FILE_NAME);
        if path.exists() {
            eprintln!("sx: {FILE_NAME} exists; left as it is");
        } else {
            fs::write(path, STARTER)
                .map_err(|e| Error::io(format!("cannot write `{FILE_NAME}`"), e))?;
            eprintln!("sx: wrote a starter {FILE_NAME}");
        }
    }
    Ok(0)
}
