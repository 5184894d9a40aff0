//! `file:///PATH`: a file's bytes, e.g. a mounted Kubernetes or Docker secret.

use std::io::ErrorKind as IoKind;

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::reference::escape;
use crate::provider::Request;
use crate::secret::SecretValue;

/// Larger files are refused: a secret this big is a mistake, and would be held in memory.
const MAX_LEN: u64 = 64 << 20;

#[derive(Debug)]
pub struct FileProvider;

pub fn check_path(path: &str) -> Result<(), (String, Option<String>)> {
    if path.starts_with('/') {
        Ok(())
    } else {
        Err((
            format!("file path `{}` is not absolute", escape(path)),
            Some("write three slashes: file:///run/secrets/db".into()),
        ))
    }
}

impl FileProvider {
    /// Reads every file on one thread of its own, so that a file that blocks (a FIFO with
    /// no writer, a hung network mount) is bounded by the run's deadline instead of stalling
    /// sx.
    pub async fn fetch_batch(
        &self,
        requests: &[Request],
    ) -> Vec<Result<SecretValue, ProviderError>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let owned = requests.to_vec();
        let spawned = std::thread::Builder::new()
            .name("sx-file-read".into())
            .spawn(move || {
                let _ = tx.send(
                    owned
                        .iter()
                        .map(|r| FileProvider.fetch(r))
                        .collect::<Vec<_>>(),
                );
            });
        if spawned.is_err() {
            return requests.iter().map(|r| self.fetch(r)).collect();
        }
        rx.await.unwrap_or_else(|_| {
            requests
                .iter()
                .map(|_| {
                    Err(ProviderError::new(
                        ErrorKind::Other,
                        "the read was interrupted",
                    ))
                })
                .collect()
        })
    }

    pub fn fetch(&self, r: &Request) -> Result<SecretValue, ProviderError> {
        use std::io::Read;
        let shown = escape(&r.path);
        let fail = |e: std::io::Error| {
            let kind = match e.kind() {
                IoKind::NotFound => ErrorKind::NotFound,
                IoKind::PermissionDenied => ErrorKind::Denied,
                _ => ErrorKind::Other,
            };
            ProviderError::new(kind, format!("cannot read `{shown}`: {e}"))
        };
        let file = std::fs::File::open(&r.path).map_err(fail)?;
        let meta = file.metadata().map_err(fail)?;
        if meta.is_dir() {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("`{shown}` is a directory"),
            ));
        }
        let mut buf = Vec::with_capacity(usize::try_from(meta.len().min(MAX_LEN)).unwrap_or(0));
        file.take(MAX_LEN + 1).read_to_end(&mut buf).map_err(fail)?;
        let value = SecretValue::new(buf);
        if value.len() as u64 > MAX_LEN {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("`{shown}` is larger than 64 MiB"),
            ));
        }
        Ok(value)
    }
}
