//! `env://NAME`: a variable of sx's own environment, read byte for byte.

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::is_env_name;
use crate::manifest::reference::escape;
use crate::provider::Request;
use crate::secret::SecretValue;

#[derive(Debug)]
pub struct EnvProvider;

pub fn check_path(path: &str) -> Result<(), (String, Option<String>)> {
    if is_env_name(path) {
        Ok(())
    } else {
        Err((
            format!("`{}` is not a variable name", escape(path)),
            Some("write env://NAME, e.g. env://CI_JOB_TOKEN".into()),
        ))
    }
}

impl EnvProvider {
    pub fn fetch(&self, r: &Request) -> Result<SecretValue, ProviderError> {
        use std::os::unix::ffi::OsStringExt;
        std::env::var_os(&r.path)
            .map(|v| SecretValue::new(v.into_vec()))
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::NotFound,
                    format!("variable `{}` is not set in sx's environment", r.path),
                )
            })
    }
}
