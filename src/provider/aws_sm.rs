//! `aws-sm://NAME-OR-ARN`: AWS Secrets Manager.
//!
//! Several plain references of one run are read with BatchGetSecretValue, 20 per call; a
//! reference pinned with `?version_id=` or `?stage=` is read with GetSecretValue. When the
//! endpoint or the policy does not allow the batch call, sx falls back to single reads.
//! Endpoint: `endpoint` in the config, else `AWS_ENDPOINT_URL_SECRETS_MANAGER` or
//! `AWS_ENDPOINT_URL` (read by aws-config).

use std::collections::HashMap;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
use aws_sdk_secretsmanager::primitives::Blob;
use futures_util::StreamExt as _;
use futures_util::stream;

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::reference::escape;
use crate::provider::Request;
use crate::provider::aws::{self, Config};
use crate::secret::SecretValue;

const SERVICE: &str = "aws-sm";
/// BatchGetSecretValue takes at most 20 ids.
const BATCH: usize = 20;

type Answer = Result<SecretValue, ProviderError>;

#[derive(Debug)]
pub struct AwsSm {
    client: Client,
    region: String,
    config: Config,
}

impl AwsSm {
    pub async fn connect(config: &Config) -> Result<Self, ProviderError> {
        let (client, region) = aws::connect(config, SERVICE, Client::new).await?;
        Ok(Self {
            client,
            region,
            config: config.clone(),
        })
    }

    fn err<E>(&self, e: &aws_sdk_secretsmanager::error::SdkError<E>, name: &str) -> ProviderError
    where
        E: aws_sdk_secretsmanager::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        aws::error(
            e,
            &format!("secret `{}`", escape(name)),
            &self.region,
            SERVICE,
        )
    }

    pub async fn fetch_batch(&self, requests: &[Request]) -> Vec<Answer> {
        let mut answers: Vec<Option<Answer>> = (0..requests.len()).map(|_| None).collect();
        let plain: Vec<usize> = (0..requests.len())
            .filter(|&i| requests[i].query.is_empty())
            .collect();
        if self.config.batch && plain.len() > 1 {
            let chunks: Vec<&[usize]> = plain.chunks(BATCH).collect();
            let results: Vec<Vec<(usize, Option<Answer>)>> = stream::iter(chunks)
                .map(|chunk| self.batch(requests, chunk))
                .buffered(self.config.concurrency)
                .collect()
                .await;
            for (i, a) in results.into_iter().flatten() {
                answers[i] = a;
            }
        }
        // Everything not answered by a batch: pinned versions, fallbacks, single reads.
        let rest: Vec<usize> = (0..requests.len())
            .filter(|&i| answers[i].is_none())
            .collect();
        let singles: Vec<(usize, Answer)> = stream::iter(rest)
            .map(|i| async move { (i, self.fetch(&requests[i]).await) })
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

    /// One BatchGetSecretValue call; `None` answers are left for single reads.
    async fn batch(&self, requests: &[Request], chunk: &[usize]) -> Vec<(usize, Option<Answer>)> {
        let ids: Vec<String> = chunk.iter().map(|&i| requests[i].path.clone()).collect();
        let out = match self
            .client
            .batch_get_secret_value()
            .set_secret_id_list(Some(ids.clone()))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
                // No batch API here, or not allowed by the policy: read one by one.
                tracing::debug!(
                    "BatchGetSecretValue unavailable ({code}); reading secrets one by one"
                );
                return chunk.iter().map(|&i| (i, None)).collect();
            }
        };
        let mut by_id: HashMap<&str, Answer> = HashMap::new();
        for entry in out.secret_values() {
            let value = entry
                .secret_string()
                .map(|s| SecretValue::from_slice(s.as_bytes()))
                .or_else(|| {
                    entry
                        .secret_binary()
                        .map(|b| SecretValue::from_slice(b.as_ref()))
                });
            for id in [entry.name(), entry.arn()].into_iter().flatten() {
                let answer = value.clone().ok_or_else(|| {
                    ProviderError::new(
                        ErrorKind::Malformed,
                        format!(
                            "secret `{}` has neither a string nor a binary value",
                            escape(id)
                        ),
                    )
                });
                by_id.insert(id, answer);
            }
        }
        for e in out.errors() {
            if let Some(id) = e.secret_id() {
                let err = aws::service_error(
                    e.error_code().unwrap_or("Unknown"),
                    e.message().unwrap_or(""),
                    &format!("secret `{}`", escape(id)),
                    &self.region,
                    SERVICE,
                );
                by_id.insert(id, Err(err));
            }
        }
        chunk
            .iter()
            .map(|&i| (i, by_id.get(requests[i].path.as_str()).cloned()))
            .collect()
    }

    async fn fetch(&self, r: &Request) -> Answer {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&r.path)
            .set_version_id(r.query_value("version_id").map(str::to_owned))
            .set_version_stage(r.query_value("stage").map(str::to_owned))
            .send()
            .await
            .map_err(|e| self.err(&e, &r.path))?;
        if let Some(s) = out.secret_string {
            return Ok(SecretValue::new(s.into_bytes()));
        }
        if let Some(b) = out.secret_binary {
            return Ok(SecretValue::new(b.into_inner()));
        }
        Err(ProviderError::new(
            ErrorKind::Malformed,
            format!(
                "secret `{}` has neither a string nor a binary value",
                escape(&r.path)
            ),
        ))
    }

    /// Secret names starting with `prefix`, every page of ListSecrets.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, ProviderError> {
        use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
        let mut req = self.client.list_secrets();
        if !prefix.is_empty() {
            req = req.filters(
                Filter::builder()
                    .key(FilterNameStringType::Name)
                    .values(prefix)
                    .build(),
            );
        }
        let mut pages = req.into_paginator().send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err(&e, prefix))?;
            names.extend(
                page.secret_list
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|s| s.name)
                    .filter(|n| n.starts_with(prefix)),
            );
        }
        names.sort();
        Ok(names)
    }

    /// Puts a new version, creating the secret when it does not exist yet. UTF-8 values are
    /// stored as SecretString, anything else as SecretBinary.
    pub async fn set(&self, name: &str, value: SecretValue) -> Result<(), ProviderError> {
        let (string, binary) = match std::str::from_utf8(value.expose()) {
            Ok(s) => (Some(s.to_owned()), None),
            Err(_) => (None, Some(Blob::new(value.expose().to_vec()))),
        };
        let put = self
            .client
            .put_secret_value()
            .secret_id(name)
            .set_secret_string(string.clone())
            .set_secret_binary(binary.clone())
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().and_then(|s| s.code())
                    == Some("ResourceNotFoundException") =>
            {
                self.client
                    .create_secret()
                    .name(name)
                    .set_secret_string(string)
                    .set_secret_binary(binary)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| self.err(&e, name))
            }
            Err(e) => Err(self.err(&e, name)),
        }
    }

    /// Deletes with the default recovery window (30 days), or at once with `force`.
    pub async fn remove(&self, name: &str, force: bool) -> Result<(), ProviderError> {
        let mut req = self.client.delete_secret().secret_id(name);
        if force {
            // A forced delete of a secret that does not exist succeeds without a word, so a
            // typo would look like a delete: make sure there is something to delete.
            self.client
                .describe_secret()
                .secret_id(name)
                .send()
                .await
                .map_err(|e| self.err(&e, name))?;
            req = req.force_delete_without_recovery(true);
        }
        req.send().await.map(|_| ()).map_err(|e| self.err(&e, name))
    }
}
