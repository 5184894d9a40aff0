//! `aws-sm://NAME-OR-ARN`: AWS Secrets Manager, through the official SDK and the standard
//! credential chain (environment, shared profiles, SSO, web identity, ECS and IMDS).
//!
//! Endpoint resolution honours `endpoint` in the provider config, then `AWS_ENDPOINT_URL_SECRETS_MANAGER`
//! and `AWS_ENDPOINT_URL` (read by aws-config itself).

use aws_config::{BehaviorVersion, Region};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use futures_util::StreamExt as _;
use futures_util::stream;

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::reference::escape;
use crate::provider::{Request, SettingsReader};
use crate::secret::SecretValue;

/// Reads in flight at once against one instance.
const CONCURRENCY: usize = 16;

/// `[providers.aws-sm]` settings.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint: Option<String>,
}

impl Config {
    pub fn read(r: &mut SettingsReader<'_>) -> Self {
        let c = Self {
            region: r.string("region").map(|(v, _)| v),
            profile: r.string("profile").map(|(v, _)| v),
            endpoint: r.string("endpoint").map(|(v, _)| v),
        };
        r.finish(&["region", "profile", "endpoint"]);
        c
    }
}

#[derive(Debug)]
pub struct AwsSm {
    client: Client,
    region: Option<String>,
}

impl AwsSm {
    pub async fn connect(config: &Config) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(r) = &config.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(p) = &config.profile {
            loader = loader.profile_name(p);
        }
        if let Some(e) = &config.endpoint {
            loader = loader.endpoint_url(e);
        }
        let shared = loader.load().await;
        let region = shared.region().map(ToString::to_string);
        Self {
            client: Client::new(&shared),
            region,
        }
    }

    pub async fn fetch_batch(
        &self,
        requests: &[Request],
    ) -> Vec<Result<SecretValue, ProviderError>> {
        stream::iter(requests)
            .map(|r| self.fetch(r))
            .buffered(CONCURRENCY)
            .collect()
            .await
    }

    async fn fetch(&self, r: &Request) -> Result<SecretValue, ProviderError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&r.path)
            .set_version_id(r.query_value("version_id").map(str::to_owned))
            .set_version_stage(r.query_value("stage").map(str::to_owned))
            .send()
            .await
            .map_err(|e| self.error(e, &r.path))?;
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

    /// Turns an SDK error into a kind the user can act on. Service messages name the secret,
    /// never its value.
    fn error<E, R>(&self, e: SdkError<E, R>, name: &str) -> ProviderError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let name = escape(name);
        let region = self.region.as_deref().unwrap_or("none");
        match &e {
            SdkError::ServiceError(se) => {
                let code = se.err().code().unwrap_or("Unknown");
                let msg = se.err().message().unwrap_or("").to_owned();
                let kind = match code {
                    "ResourceNotFoundException" => ErrorKind::NotFound,
                    "AccessDeniedException" | "AccessDenied" => ErrorKind::Denied,
                    "DecryptionFailure" => ErrorKind::Denied,
                    "UnrecognizedClientException"
                    | "InvalidSignatureException"
                    | "ExpiredTokenException" => ErrorKind::Auth,
                    "InvalidRequestException" | "InvalidParameterException" => ErrorKind::Malformed,
                    "ThrottlingException" | "InternalServiceError" => ErrorKind::Unreachable,
                    _ => ErrorKind::Other,
                };
                let err = ProviderError::new(
                    kind,
                    format!(
                        "secret `{name}` (region {region}): {code}: {}",
                        escape(&msg)
                    ),
                );
                match kind {
                    ErrorKind::Denied => err.hint("the role needs secretsmanager:GetSecretValue on this secret (and kms:Decrypt on its key)"),
                    ErrorKind::Auth => err.hint("check the AWS credentials in use (AWS_PROFILE, AWS_ACCESS_KEY_ID, `aws sts get-caller-identity`)"),
                    ErrorKind::NotFound => err.hint("check the name and the region (`region` in [providers.aws-sm] or AWS_REGION)"),
                    _ => err,
                }
            }
            SdkError::TimeoutError(_) => ProviderError::new(
                ErrorKind::Timeout,
                format!("secret `{name}`: request timed out (region {region})"),
            ),
            SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => ProviderError::new(
                ErrorKind::Unreachable,
                format!(
                    "secret `{name}`: cannot reach Secrets Manager (region {region}): {}",
                    DisplayErrorContext(&e)
                ),
            ),
            _ => {
                let text = DisplayErrorContext(&e).to_string();
                let (kind, hint) = if text.contains("credential") {
                    (
                        ErrorKind::Auth,
                        "no AWS credentials were found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is attached",
                    )
                } else if text.contains("region") {
                    (
                        ErrorKind::Other,
                        "set `region` in [providers.aws-sm], or AWS_REGION",
                    )
                } else {
                    (ErrorKind::Other, "")
                };
                let err = ProviderError::new(kind, format!("secret `{name}`: {}", escape(&text)));
                if hint.is_empty() { err } else { err.hint(hint) }
            }
        }
    }

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
            let page = page.map_err(|e| self.error(e, prefix))?;
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
        use aws_sdk_secretsmanager::primitives::Blob;
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
                    .map_err(|e| self.error(e, name))
            }
            Err(e) => Err(self.error(e, name)),
        }
    }

    pub async fn remove(&self, name: &str) -> Result<(), ProviderError> {
        self.client
            .delete_secret()
            .secret_id(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(e, name))
    }
}
