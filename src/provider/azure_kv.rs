//! `azure-kv://VAULT-NAME/SECRET[/VERSION]`: Azure Key Vault secrets, over its REST API
//! (api-version 7.4) with Microsoft Entra ID tokens.
//!
//! Credentials, in the order of Azure's default chain: a client secret
//! (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_CLIENT_SECRET`), workload identity
//! (`AZURE_FEDERATED_TOKEN_FILE`, as AKS and GitHub OIDC set it), then managed identity
//! (the instance metadata endpoint, with a short deadline off Azure).

use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream;
use serde_json::Value as Json;

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::reference::escape;
use crate::provider::{Request, SettingsReader};
use crate::secret::SecretValue;

const API_VERSION: &str = "7.4";
const SCOPE: &str = "https://vault.azure.net/.default";

/// `[providers.azure-kv]` settings.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Vault URL template; `{vault}` is replaced by the vault name. Default
    /// `https://{vault}.vault.azure.net` (sovereign clouds and tests change it).
    pub endpoint: Option<String>,
    /// Microsoft Entra authority; default `AZURE_AUTHORITY_HOST`, else
    /// `https://login.microsoftonline.com`.
    pub authority: Option<String>,
}

impl Config {
    pub fn read(r: &mut SettingsReader<'_>) -> Self {
        let c = Self {
            endpoint: r.string("endpoint").map(|(v, _)| v),
            authority: r.string("authority").map(|(v, _)| v),
        };
        r.finish(&["endpoint", "authority"]);
        c
    }
}

fn parts(path: &str) -> Option<(&str, &str, Option<&str>)> {
    let p: Vec<&str> = path.split('/').collect();
    match p.as_slice() {
        [v, s] if !v.is_empty() && !s.is_empty() => Some((v, s, None)),
        [v, s, ver] if !v.is_empty() && !s.is_empty() && !ver.is_empty() => Some((v, s, Some(ver))),
        _ => None,
    }
}

pub fn check_path(path: &str) -> Result<(), (String, Option<String>)> {
    match parts(path) {
        Some(_) => Ok(()),
        None => Err((
            format!("`{}` is not VAULT-NAME/SECRET[/VERSION]", escape(path)),
            Some("write azure-kv://acme-kv/db-password".into()),
        )),
    }
}

#[derive(Debug)]
pub struct AzureKv {
    http: reqwest::Client,
    endpoint: String,
    token: SecretValue,
}

const SOURCES: &str = "a client secret (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET), \
workload identity (AZURE_FEDERATED_TOKEN_FILE) and managed identity (the instance metadata endpoint)";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl AzureKv {
    pub async fn connect(config: &Config) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| {
                ProviderError::new(ErrorKind::Other, format!("cannot set up HTTP: {e}"))
            })?;
        let authority = config
            .authority
            .clone()
            .or_else(|| env("AZURE_AUTHORITY_HOST"))
            .unwrap_or_else(|| "https://login.microsoftonline.com".into())
            .trim_end_matches('/')
            .to_owned();
        let token = Self::token(&http, &authority).await?;
        Ok(Self {
            http,
            endpoint: config
                .endpoint
                .clone()
                .unwrap_or_else(|| "https://{vault}.vault.azure.net".into()),
            token,
        })
    }

    /// An access token for Key Vault from the first credential source that is configured.
    async fn token(http: &reqwest::Client, authority: &str) -> Result<SecretValue, ProviderError> {
        let (client, tenant) = (env("AZURE_CLIENT_ID"), env("AZURE_TENANT_ID"));
        let form: Vec<(&str, String)> = match (
            &client,
            &tenant,
            env("AZURE_CLIENT_SECRET"),
            env("AZURE_FEDERATED_TOKEN_FILE"),
        ) {
            (Some(c), Some(_), Some(secret), _) => vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", c.clone()),
                ("client_secret", secret),
                ("scope", SCOPE.into()),
            ],
            (Some(c), Some(_), None, Some(file)) => {
                let assertion = std::fs::read_to_string(&file).map_err(|e| {
                    ProviderError::new(
                        ErrorKind::Auth,
                        format!(
                            "cannot read AZURE_FEDERATED_TOKEN_FILE `{}`: {e}",
                            escape(&file)
                        ),
                    )
                })?;
                vec![
                    ("grant_type", "client_credentials".into()),
                    ("client_id", c.clone()),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                    ),
                    ("client_assertion", assertion.trim().to_owned()),
                    ("scope", SCOPE.into()),
                ]
            }
            _ => return Self::managed_identity(http).await,
        };
        let tenant = tenant.unwrap_or_default();
        let url = format!("{authority}/{tenant}/oauth2/v2.0/token");
        let resp = http.post(&url).form(&form).send().await.map_err(|e| {
            ProviderError::new(
                ErrorKind::Unreachable,
                format!(
                    "cannot reach Microsoft Entra ID at {authority}: {}",
                    escape(&crate::error::error_chain(&e))
                ),
            )
        })?;
        let status = resp.status();
        let body: Json = resp.json().await.unwrap_or(Json::Null);
        match body["access_token"].as_str() {
            Some(t) if status.is_success() => Ok(SecretValue::from_slice(t.as_bytes())),
            _ => Err(ProviderError::new(
                ErrorKind::Auth,
                format!(
                    "Microsoft Entra ID refused the credentials: {}",
                    escape(body["error_description"].as_str().or(body["error"].as_str()).unwrap_or(status.as_str()))
                ),
            )
            .hint("check AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET (or the federated token)")),
        }
    }

    async fn managed_identity(http: &reqwest::Client) -> Result<SecretValue, ProviderError> {
        let base = env("AZURE_IMDS_ENDPOINT").unwrap_or_else(|| "http://169.254.169.254".into());
        let url = format!(
            "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net",
            base.trim_end_matches('/')
        );
        let request = http.get(&url).header("Metadata", "true").send();
        let failed = || {
            ProviderError::new(ErrorKind::Auth, format!("no Azure credentials found; tried {SOURCES}"))
                .hint("set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET, or run with a managed identity")
        };
        let resp = match tokio::time::timeout(Duration::from_millis(1500), request).await {
            Ok(Ok(r)) if r.status().is_success() => r,
            _ => return Err(failed()),
        };
        let body: Json = resp.json().await.unwrap_or(Json::Null);
        body["access_token"]
            .as_str()
            .map(|t| SecretValue::from_slice(t.as_bytes()))
            .ok_or_else(failed)
    }

    pub async fn fetch_batch(
        &self,
        requests: &[Request],
    ) -> Vec<Result<SecretValue, ProviderError>> {
        stream::iter(requests)
            .map(|r| self.fetch(r))
            .buffered(16)
            .collect()
            .await
    }

    async fn fetch(&self, r: &Request) -> Result<SecretValue, ProviderError> {
        let (vault, secret, version) = parts(&r.path).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Malformed,
                format!("`{}` is not VAULT/SECRET", escape(&r.path)),
            )
        })?;
        let version = version.or(r.query_value("version")).unwrap_or("");
        let base = self.endpoint.replace("{vault}", vault);
        let url = format!(
            "{}/secrets/{secret}/{version}?api-version={API_VERSION}",
            base.trim_end_matches('/')
        );
        let what = format!("secret `{}` in vault `{}`", escape(secret), escape(vault));
        let token = std::str::from_utf8(self.token.expose()).unwrap_or("");
        let resp = self
            .http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| {
                ProviderError::new(
                    ErrorKind::Unreachable,
                    format!(
                        "{what}: cannot reach {base}: {}",
                        escape(&crate::error::error_chain(&e))
                    ),
                )
            })?;
        let status = resp.status();
        let body: Json = resp.json().await.unwrap_or(Json::Null);
        if status.is_success() {
            if body["attributes"]["enabled"] == false {
                return Err(ProviderError::new(
                    ErrorKind::NotFound,
                    format!("{what}: the secret is disabled"),
                ));
            }
            return body["value"]
                .as_str()
                .map(|v| SecretValue::from_slice(v.as_bytes()))
                .ok_or_else(|| {
                    ProviderError::new(
                        ErrorKind::Malformed,
                        format!("{what}: the answer has no value"),
                    )
                });
        }
        let code = body["error"]["code"].as_str().unwrap_or("");
        let msg = escape(body["error"]["message"].as_str().unwrap_or(status.as_str()));
        Err(match status.as_u16() {
            404 => ProviderError::new(ErrorKind::NotFound, format!("{what}: {code}: {msg}"))
                .hint("check the vault name, the secret name and the version"),
            403 if code == "Forbidden" && msg.contains("disabled") => ProviderError::new(
                ErrorKind::NotFound,
                format!("{what}: the secret is disabled"),
            ),
            403 => ProviderError::new(ErrorKind::Denied, format!("{what}: {code}: {msg}")).hint(
                "the identity needs the \"Key Vault Secrets User\" role (or a `get` access policy)",
            ),
            401 => ProviderError::new(ErrorKind::Auth, format!("{what}: {code}: {msg}")),
            _ => ProviderError::new(ErrorKind::Other, format!("{what}: {status}: {msg}")),
        })
    }
}
