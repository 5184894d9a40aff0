//! `aws-ssm://NAME`: AWS Systems Manager Parameter Store. SecureString values are decrypted.
//!
//! Plain references are read with GetParameters, 10 names per call; `?version=N` with
//! GetParameter on `NAME:N`. `[[import]]` of a path reads every parameter under it with
//! GetParametersByPath (recursive, every page). Parameter values are text: a value that is
//! not UTF-8 cannot be stored.

use std::collections::HashMap;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::ParameterType;
use futures_util::StreamExt as _;
use futures_util::stream;

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::reference::escape;
use crate::provider::Request;
use crate::provider::aws::{self, Config};
use crate::secret::SecretValue;

const SERVICE: &str = "aws-ssm";
/// GetParameters takes at most 10 names.
const BATCH: usize = 10;

type Answer = Result<SecretValue, ProviderError>;

pub fn check_path(path: &str) -> Result<(), (String, Option<String>)> {
    if path.contains("//") || path.ends_with('/') && path.len() > 1 && !path.starts_with('/') {
        return Err((
            format!("`{}` is not a parameter name", escape(path)),
            Some("write aws-ssm:///path/to/name (three slashes for a path starting with /)".into()),
        ));
    }
    Ok(())
}

#[derive(Debug)]
pub struct AwsSsm {
    client: Client,
    region: String,
    config: Config,
}

impl AwsSsm {
    pub async fn connect(config: &Config) -> Result<Self, ProviderError> {
        let (client, region) = aws::connect(config, SERVICE, Client::new).await?;
        Ok(Self {
            client,
            region,
            config: config.clone(),
        })
    }

    fn err<E>(&self, e: &aws_sdk_ssm::error::SdkError<E>, what: &str) -> ProviderError
    where
        E: aws_sdk_ssm::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        aws::error(e, what, &self.region, SERVICE)
    }

    fn not_found(&self, name: &str) -> ProviderError {
        let e = aws::service_error(
            "ParameterNotFound",
            "",
            &format!("parameter `{}`", escape(name)),
            &self.region,
            SERVICE,
        );
        if name.starts_with('/') {
            return e;
        }
        // `aws-ssm://app/db` names `app/db`; most parameters are `/app/db`.
        e.hint(format!(
            "a name that starts with `/` takes three slashes: aws-ssm:///{}",
            escape(name)
        ))
    }

    pub async fn fetch_batch(&self, requests: &[Request]) -> Vec<Answer> {
        let mut answers: Vec<Option<Answer>> = (0..requests.len()).map(|_| None).collect();
        let plain: Vec<usize> = (0..requests.len())
            .filter(|&i| requests[i].query.is_empty() && !requests[i].tree)
            .collect();
        let size = if self.config.batch { BATCH } else { 1 };
        let results: Vec<Vec<(usize, Answer)>> = stream::iter(plain.chunks(size))
            .map(|chunk| self.get_parameters(requests, chunk))
            .buffered(self.config.concurrency)
            .collect()
            .await;
        for (i, a) in results.into_iter().flatten() {
            answers[i] = Some(a);
        }
        let rest: Vec<usize> = (0..requests.len())
            .filter(|&i| answers[i].is_none())
            .collect();
        let singles: Vec<(usize, Answer)> = stream::iter(rest)
            .map(|i| async move {
                let r = &requests[i];
                let a = if r.tree {
                    self.tree_json(&r.path).await
                } else {
                    self.get_versioned(r).await
                };
                (i, a)
            })
            .buffered(self.config.concurrency)
            .collect()
            .await;
        for (i, a) in singles {
            answers[i] = Some(a);
        }
        answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(ProviderError::new(ErrorKind::Other, "not read"))))
            .collect()
    }

    async fn get_parameters(&self, requests: &[Request], chunk: &[usize]) -> Vec<(usize, Answer)> {
        let names: Vec<String> = chunk.iter().map(|&i| requests[i].path.clone()).collect();
        let out = match self
            .client
            .get_parameters()
            .set_names(Some(names.clone()))
            .with_decryption(true)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                let what = if names.len() == 1 {
                    format!("parameter `{}`", escape(&names[0]))
                } else {
                    format!(
                        "parameters {}",
                        names
                            .iter()
                            .map(|n| format!("`{}`", escape(n)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let err = self.err(&e, &what);
                return chunk.iter().map(|&i| (i, Err(err.clone()))).collect();
            }
        };
        let mut found: HashMap<&str, &str> = HashMap::new();
        for p in out.parameters() {
            if let (Some(n), Some(v)) = (p.name(), p.value()) {
                found.insert(n, v);
            }
        }
        chunk
            .iter()
            .map(|&i| {
                let name = requests[i].path.as_str();
                let a = found
                    .get(name)
                    .map(|v| SecretValue::from_slice(v.as_bytes()))
                    .ok_or_else(|| self.not_found(name));
                (i, a)
            })
            .collect()
    }

    async fn get_versioned(&self, r: &Request) -> Answer {
        let selector = match r.query_value("version") {
            Some(v) => format!("{}:{v}", r.path),
            None => r.path.clone(),
        };
        let out = self
            .client
            .get_parameter()
            .name(&selector)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| self.err(&e, &format!("parameter `{}`", escape(&selector))))?;
        out.parameter
            .and_then(|p| p.value)
            .map(|v| SecretValue::new(v.into_bytes()))
            .ok_or_else(|| self.not_found(&selector))
    }

    /// Every parameter under `path`, recursively, as `(name, value)`.
    pub async fn tree(
        &self,
        path: &str,
        decrypt: bool,
    ) -> Result<Vec<(String, SecretValue)>, ProviderError> {
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(path)
            .recursive(true)
            .with_decryption(decrypt)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err(&e, &format!("path `{}`", escape(path))))?;
            for p in page.parameters.unwrap_or_default() {
                if let (Some(n), Some(v)) = (p.name, p.value) {
                    out.push((n, SecretValue::new(v.into_bytes())));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// The tree under `path` as one JSON object `{"name": "value"}`, the form every import
    /// expands.
    async fn tree_json(&self, path: &str) -> Answer {
        let tree = self.tree(path, true).await?;
        if tree.is_empty() {
            return Err(ProviderError::new(
                ErrorKind::NotFound,
                format!(
                    "no parameters under `{}` (region {})",
                    escape(path),
                    self.region
                ),
            )
            .hint(if path.starts_with('/') {
                "check the path, and that it names a folder of parameters (an import reads every parameter under it, not one)".to_owned()
            } else {
                format!("a path that starts with `/` takes three slashes: aws-ssm:///{}", escape(path))
            }));
        }
        // Keys are names relative to the path (`db/password` under `/app/prod/`), which the
        // import turns into variable names.
        let mut map = serde_json::Map::new();
        for (name, value) in &tree {
            let relative = name
                .strip_prefix(path)
                .unwrap_or(name)
                .trim_start_matches('/');
            let text = String::from_utf8_lossy(value.expose()).into_owned();
            map.insert(relative.to_owned(), serde_json::Value::String(text));
        }
        Ok(SecretValue::new(
            serde_json::to_vec(&serde_json::Value::Object(map)).unwrap_or_default(),
        ))
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, ProviderError> {
        let path = if prefix.is_empty() { "/" } else { prefix };
        Ok(self
            .tree(path, false)
            .await?
            .into_iter()
            .map(|(n, _)| n)
            .collect())
    }

    /// Writes a SecureString, replacing the current value (a new version).
    pub async fn set(&self, name: &str, value: SecretValue) -> Result<(), ProviderError> {
        let Ok(text) = std::str::from_utf8(value.expose()) else {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                format!(
                    "parameter `{}`: Parameter Store holds text, and the value is not UTF-8",
                    escape(name)
                ),
            )
            .hint("store it base64-encoded, or use aws-sm, which holds binary values"));
        };
        self.client
            .put_parameter()
            .name(name)
            .value(text)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err(&e, &format!("parameter `{}`", escape(name))))
    }

    pub async fn remove(&self, name: &str) -> Result<(), ProviderError> {
        self.client
            .delete_parameter()
            .name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err(&e, &format!("parameter `{}`", escape(name))))
    }
}
