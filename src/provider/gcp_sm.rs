//! `gcp-sm://PROJECT/SECRET[/VERSION]`: Google Cloud Secret Manager, through the official
//! `google-cloud-secretmanager-v1` client (REST/JSON) and Application Default Credentials.
//!
//! Payload checksums (CRC32C) are verified: the client library does not. Disabled and
//! destroyed versions, missing secrets and denied access each get their own message.

use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream;
use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::error::rpc::Code;
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::paginator::Paginator as _;
use google_cloud_gax::retry_policy::{RetryPolicy, RetryPolicyExt as _};
use google_cloud_gax::retry_result::RetryResult;
use google_cloud_gax::retry_state::RetryState;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model::{Replication, Secret, SecretPayload, replication};

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::reference::escape;
use crate::provider::{Request, SettingsReader};
use crate::secret::SecretValue;

type Answer = Result<SecretValue, ProviderError>;

/// `[providers.gcp-sm]` settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// API endpoint, e.g. a regional one; default `https://secretmanager.googleapis.com`.
    pub endpoint: Option<String>,
    /// A service-account key file; default: Application Default Credentials.
    pub credentials: Option<std::path::PathBuf>,
    pub max_attempts: u32,
    pub timeout: Duration,
    pub concurrency: usize,
}

impl Config {
    pub fn read(r: &mut SettingsReader<'_>, base_dir: &std::path::Path) -> Self {
        let mut c = Self {
            endpoint: r.string("endpoint").map(|(v, _)| v),
            credentials: r.string("credentials").map(|(v, _)| base_dir.join(v)),
            max_attempts: 5,
            timeout: Duration::from_secs(10),
            concurrency: 16,
        };
        if let Some(n) = r.number("max_attempts", 1..=20) {
            c.max_attempts = u32::try_from(n).unwrap_or(5);
        }
        if let Some(n) = r.number("concurrency", 1..=256) {
            c.concurrency = usize::try_from(n).unwrap_or(16);
        }
        if let Some(d) = r.duration("timeout") {
            c.timeout = d;
        }
        r.finish(&[
            "endpoint",
            "credentials",
            "max_attempts",
            "timeout",
            "concurrency",
        ]);
        c
    }
}

/// A secret version's full resource name from any of the accepted forms:
/// `P/S`, `P/S/V`, `projects/P/secrets/S[/versions/V]`, with `locations/L/` allowed.
pub fn version_name(path: &str, version: Option<&str>) -> Result<String, String> {
    let parts: Vec<&str> = path.split('/').collect();
    let (base, v) = match parts.as_slice() {
        // The start of a full resource name, cut short: not a project called "projects".
        ["projects", _]
        | ["projects", _, "secrets" | "locations"]
        | ["projects", _, "locations", _]
        | ["projects", _, "locations", _, "secrets"] => {
            return Err(format!("`{}` is a resource name cut short", escape(path)));
        }
        [p, s] => (format!("projects/{p}/secrets/{s}"), None),
        [p, s, v] => (format!("projects/{p}/secrets/{s}"), Some(*v)),
        ["projects", p, "secrets", s] => (format!("projects/{p}/secrets/{s}"), None),
        ["projects", p, "secrets", s, "versions", v] => {
            (format!("projects/{p}/secrets/{s}"), Some(*v))
        }
        ["projects", p, "locations", l, "secrets", s] => {
            (format!("projects/{p}/locations/{l}/secrets/{s}"), None)
        }
        ["projects", p, "locations", l, "secrets", s, "versions", v] => {
            (format!("projects/{p}/locations/{l}/secrets/{s}"), Some(*v))
        }
        _ => {
            return Err(format!(
                "`{}` is not PROJECT/SECRET[/VERSION] or projects/P/secrets/S[/versions/V]",
                escape(path)
            ));
        }
    };
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{}` has an empty segment", escape(path)));
    }
    let v = match (v, version) {
        (Some(_), Some(_)) => {
            return Err("give the version in the path or in ?version=, not both".into());
        }
        (Some(v), None) | (None, Some(v)) => v,
        (None, None) => "latest",
    };
    if v != "latest"
        && v.parse::<u64>().is_err()
        && !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "version `{}` is not a number or an alias",
            escape(v)
        ));
    }
    Ok(format!("{base}/versions/{v}"))
}

pub fn check_path(path: &str) -> Result<(), (String, Option<String>)> {
    version_name(path, None).map(|_| ()).map_err(|m| {
        (m, Some("write gcp-sm://PROJECT/SECRET, gcp-sm://PROJECT/SECRET/3 or gcp-sm://projects/P/secrets/S/versions/latest".into()))
    })
}

/// The version name an `sx rm` of `path` (and `?version=`) acts on; refuses `latest`, an
/// alias whose target would be a guess, and a path and query that both give a version.
pub fn check_removal(path: &str, version: Option<&str>) -> Result<String, ProviderError> {
    let name =
        version_name(path, version).map_err(|m| ProviderError::new(ErrorKind::Malformed, m))?;
    let v = name.rsplit_once("/versions/").map_or("latest", |(_, v)| v);
    if (version.is_some() || names_version(path)) && v == "latest" {
        // Destroying "whatever is latest" is a guess, and deleting the whole secret
        // instead would lose every version.
        return Err(ProviderError::new(
            ErrorKind::Malformed,
            format!(
                "`{}`: `latest` is an alias, not a version to destroy",
                escape(path)
            ),
        )
        .hint(
            "name the version number to destroy it, or leave the version out to delete the secret",
        ));
    }
    Ok(name)
}

/// Whether `path` names one version (`P/S/V`, `.../versions/V`), not only the secret.
pub fn names_version(path: &str) -> bool {
    let n = path.split('/').count();
    n == 3 || path.contains("/versions/")
}

/// Retries what the service says is worth retrying: UNAVAILABLE (503), RESOURCE_EXHAUSTED
/// (429), and failures before the request was sent; for calls that are safe to repeat
/// (reads, lists), any 5xx too (INTERNAL, DEADLINE_EXCEEDED, a proxy's 502/504) and a
/// connection lost mid-call, which on a write could add a version twice.
#[derive(Clone, Debug)]
struct RetryBusy;

impl RetryPolicy for RetryBusy {
    fn on_error(&self, state: &RetryState, error: GaxError) -> RetryResult {
        let server_error = matches!(
            error.status().map(|s| s.code),
            Some(Code::Internal | Code::DeadlineExceeded)
        ) || error
            .http_status_code()
            .is_some_and(|c| (500..600).contains(&c));
        let busy = matches!(
            error.status().map(|s| s.code),
            Some(Code::Unavailable | Code::ResourceExhausted)
        ) || matches!(error.http_status_code(), Some(429 | 503))
            || (state.idempotent && (server_error || error.is_io()))
            // Before the request left: safe for a write too.
            || error.is_transient_and_before_rpc();
        if busy {
            RetryResult::Continue(error)
        } else {
            RetryResult::Permanent(error)
        }
    }
}

#[derive(Debug)]
pub struct GcpSm {
    client: SecretManagerService,
    config: Config,
}

const SOURCES: &str = "GOOGLE_APPLICATION_CREDENTIALS, the gcloud application default credentials file \
(`gcloud auth application-default login`), and the GCE metadata server";

/// The file the credentials come from, in the order Application Default Credentials look
/// (the library falls back to the metadata server when there is none).
fn credentials_file(config: &Config) -> Option<String> {
    if let Some(p) = &config.credentials {
        return Some(format!(
            "`credentials` in [providers.gcp-sm] (`{}`)",
            escape(&p.display().to_string())
        ));
    }
    if let Some(p) = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS") {
        return Some(format!(
            "GOOGLE_APPLICATION_CREDENTIALS (`{}`)",
            escape(&std::path::Path::new(&p).display().to_string())
        ));
    }
    let gcloud = std::path::Path::new(&std::env::var_os("HOME")?)
        .join(".config/gcloud/application_default_credentials.json");
    gcloud.is_file().then(|| {
        format!(
            "the gcloud file (`{}`)",
            escape(&gcloud.display().to_string())
        )
    })
}

impl GcpSm {
    pub async fn connect(config: &Config) -> Result<Self, ProviderError> {
        let creds = match &config.credentials {
            Some(path) => {
                let text = std::fs::read(path).map_err(|e| {
                    ProviderError::new(
                        ErrorKind::Auth,
                        format!("cannot read credentials `{}`: {e}", path.display()),
                    )
                })?;
                let json: serde_json::Value = serde_json::from_slice(&text).map_err(|_| {
                    ProviderError::new(
                        ErrorKind::Auth,
                        format!("credentials `{}` are not a JSON key file", path.display()),
                    )
                })?;
                google_cloud_auth::credentials::service_account::Builder::new(json).build()
            }
            None => google_cloud_auth::credentials::Builder::default().build(),
        }
        .map_err(|e| {
            ProviderError::new(
                ErrorKind::Auth,
                format!(
                    "Google credentials: {}",
                    escape(&crate::error::error_chain(&e))
                ),
            )
            .hint("check GOOGLE_APPLICATION_CREDENTIALS or `credentials` in [providers.gcp-sm]")
        })?;
        // Fetch the first token now, under a short deadline: off GCP with no credentials the
        // library would otherwise wait on the metadata server.
        let first = tokio::time::timeout(
            Duration::from_millis(1500),
            creds.headers(http::Extensions::new()),
        )
        .await;
        match (first, credentials_file(config)) {
            (Ok(Ok(_)), _) => {}
            // A file was found: its token exchange failed (a revoked refresh token, a
            // subject token STS refused), which is not the same as having no credentials.
            (Ok(Err(e)), Some(from)) => {
                return Err(ProviderError::new(
                    ErrorKind::Auth,
                    format!(
                        "cannot get a token with the Google credentials from {from} ({})",
                        escape(&crate::error::error_chain(&e))
                    ),
                )
                .hint("renew them: `gcloud auth application-default login` for a user, a fresh OIDC token or key file for CI"));
            }
            (Err(_), Some(from)) => {
                return Err(ProviderError::new(
                    ErrorKind::Auth,
                    format!("no token within 1.5s with the Google credentials from {from}"),
                )
                .hint("check that the token endpoint the file names is reachable"));
            }
            (Ok(Err(e)), None) => {
                return Err(ProviderError::new(
                    ErrorKind::Auth,
                    // Without a file the last source tried is the metadata server; its own
                    // failure is what matters, not the library's layers of retry wording.
                    format!("no usable Google credentials (the metadata server: {}); tried {SOURCES}", escape(&crate::error::root_cause(&e))),
                )
                .hint("set GOOGLE_APPLICATION_CREDENTIALS to a key file, run `gcloud auth application-default login`, or run on GCP with a service account"));
            }
            (Err(_), None) => {
                return Err(ProviderError::new(
                    ErrorKind::Auth,
                    format!("no Google credentials found within 1.5s; tried {SOURCES}"),
                )
                .hint("set GOOGLE_APPLICATION_CREDENTIALS to a key file, or run `gcloud auth application-default login`"));
            }
        }
        let backoff = ExponentialBackoffBuilder::new()
            .with_initial_delay(Duration::from_millis(100))
            .with_maximum_delay(Duration::from_secs(2))
            .build()
            .map_err(|e| ProviderError::new(ErrorKind::Other, e.to_string()))?;
        let mut builder = SecretManagerService::builder()
            .with_credentials(creds)
            .with_retry_policy(RetryBusy.with_attempt_limit(config.max_attempts))
            .with_backoff_policy(backoff);
        if let Some(e) = &config.endpoint {
            builder = builder.with_endpoint(e);
        }
        let client = builder.build().await.map_err(|e| {
            ProviderError::new(
                ErrorKind::Other,
                format!("cannot set up Secret Manager: {e}"),
            )
        })?;
        Ok(Self {
            client,
            config: config.clone(),
        })
    }

    pub async fn fetch_batch(&self, requests: &[Request]) -> Vec<Answer> {
        stream::iter(requests)
            .map(|r| self.fetch(r))
            .buffered(self.config.concurrency)
            .collect()
            .await
    }

    async fn fetch(&self, r: &Request) -> Answer {
        let name = version_name(&r.path, r.query_value("version"))
            .map_err(|m| ProviderError::new(ErrorKind::Malformed, m))?;
        let out = tokio::time::timeout(
            self.config.timeout.saturating_mul(self.config.max_attempts),
            self.client.access_secret_version().set_name(&name).send(),
        )
        .await
        .map_err(|_| {
            ProviderError::new(
                ErrorKind::Timeout,
                format!("`{name}`: no answer from Secret Manager"),
            )
        })?
        .map_err(|e| error(&e, &name, READ))?;
        let Some(payload) = out.payload else {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("`{name}`: the answer has no payload"),
            ));
        };
        let data = payload.data.to_vec();
        if let Some(expected) = payload.data_crc32c {
            let actual = i64::from(crc32c::crc32c(&data));
            if actual != expected {
                return Err(ProviderError::new(
                    ErrorKind::Malformed,
                    format!("`{name}`: the payload's CRC32C checksum does not match (corrupted in transit?)"),
                )
                .hint("retry; if it persists, the stored data is damaged"));
            }
        }
        Ok(SecretValue::new(data))
    }

    /// Secret ids of a project, every page.
    /// The secret ids of a project (`PROJECT/`), or those starting with a name prefix
    /// (`PROJECT/db-`), as other providers list by prefix.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, ProviderError> {
        let rest = prefix.strip_prefix("projects/").unwrap_or(prefix);
        let (project, start) = rest.split_once('/').unwrap_or((rest, ""));
        if project.is_empty() || start.contains('/') {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("`{}` is not a project", escape(prefix)),
            )
            .hint("write sx ls gcp-sm://PROJECT/, or gcp-sm://PROJECT/PREFIX for the ids that start with PREFIX"));
        }
        let parent = format!("projects/{project}");
        let mut pages = self.client.list_secrets().set_parent(&parent).by_page();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| error(&e, &parent, LIST))?;
            names.extend(
                page.secrets
                    .into_iter()
                    .map(|s| s.name.rsplit('/').next().unwrap_or(&s.name).to_owned())
                    .filter(|id| id.starts_with(start)),
            );
        }
        names.sort();
        Ok(names)
    }

    /// Adds a version; creates the secret (automatic replication) when it does not exist.
    pub async fn set(&self, path: &str, value: SecretValue) -> Result<(), ProviderError> {
        let name =
            version_name(path, None).map_err(|m| ProviderError::new(ErrorKind::Malformed, m))?;
        let secret = name
            .rsplit_once("/versions/")
            .map_or(name.as_str(), |(s, _)| s)
            .to_owned();
        let payload = || {
            SecretPayload::new()
                .set_data(value.expose().to_vec())
                .set_data_crc32c(i64::from(crc32c::crc32c(value.expose())))
        };
        let add = self
            .client
            .add_secret_version()
            .set_parent(&secret)
            .set_payload(payload())
            .send()
            .await;
        match add {
            Ok(_) => Ok(()),
            Err(e) if e.status().map(|s| s.code) == Some(Code::NotFound) => {
                let (parent, id) = secret.rsplit_once("/secrets/").unwrap_or((&secret, ""));
                self.client
                    .create_secret()
                    .set_parent(parent)
                    .set_secret_id(id)
                    .set_secret(Secret::new().set_replication(
                        Replication::new().set_automatic(replication::Automatic::new()),
                    ))
                    .send()
                    .await
                    .map_err(|e| error(&e, &secret, CREATE))?;
                self.client
                    .add_secret_version()
                    .set_parent(&secret)
                    .set_payload(payload())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| error(&e, &secret, ADD))
            }
            Err(e) => Err(error(&e, &secret, ADD)),
        }
    }

    /// Deletes the secret, or destroys one version when the path or `version` names it.
    pub async fn remove(&self, path: &str, version: Option<&str>) -> Result<(), ProviderError> {
        let name = check_removal(path, version)?;
        let (secret, _) = name.rsplit_once("/versions/").unwrap_or((&name, "latest"));
        let explicit = version.is_some() || names_version(path);
        if explicit {
            self.client
                .destroy_secret_version()
                .set_name(&name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error(&e, &name, DELETE))
        } else {
            self.client
                .delete_secret()
                .set_name(secret)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error(&e, secret, DELETE))
        }
    }
}

/// What a call needs when the service says PERMISSION_DENIED, for the hint.
const READ: &str = "roles/secretmanager.secretAccessor on the secret";
const LIST: &str = "roles/secretmanager.viewer on the project";
const ADD: &str = "roles/secretmanager.secretVersionAdder on the secret";
const CREATE: &str = "roles/secretmanager.admin on the project to create a secret";
const DELETE: &str = "roles/secretmanager.admin on the secret";

/// Maps an API error to a kind users act on; the service's message names the resource.
fn error(e: &GaxError, name: &str, role: &str) -> ProviderError {
    let name = escape(name);
    let Some(status) = e.status() else {
        let text = escape(&crate::error::error_chain(e));
        return if e.is_authentication() {
            ProviderError::new(ErrorKind::Auth, format!("`{name}`: {text}"))
        } else if e.is_timeout() {
            ProviderError::new(ErrorKind::Timeout, format!("`{name}`: {text}"))
        } else {
            ProviderError::new(
                ErrorKind::Unreachable,
                format!("`{name}`: cannot reach Secret Manager: {text}"),
            )
        };
    };
    let msg = escape(&status.message);
    match status.code {
        Code::NotFound => ProviderError::new(ErrorKind::NotFound, format!("`{name}`: {msg}"))
            .hint("check the project, the secret name and the version; `sx ls gcp-sm://PROJECT/` lists the secrets"),
        Code::PermissionDenied => ProviderError::new(ErrorKind::Denied, format!("`{name}`: {msg}"))
            .hint(format!("the account needs {role}")),
        Code::Unauthenticated => ProviderError::new(ErrorKind::Auth, format!("`{name}`: {msg}"))
            .hint("the credentials were refused; check GOOGLE_APPLICATION_CREDENTIALS"),
        Code::FailedPrecondition if status.message.contains("DISABLED") => {
            ProviderError::new(ErrorKind::NotFound, format!("`{name}`: the version is disabled"))
                .hint("enable it (`gcloud secrets versions enable`) or pin another version")
        }
        Code::FailedPrecondition if status.message.contains("DESTROYED") => {
            ProviderError::new(ErrorKind::NotFound, format!("`{name}`: the version is destroyed"))
                .hint("a destroyed version cannot be read again; pin another version")
        }
        Code::Internal | Code::DeadlineExceeded => ProviderError::new(
            ErrorKind::Unreachable,
            format!("`{name}`: {msg} (a server error)"),
        )
        .hint("reads were retried up to `max_attempts`; a write is not repeated, since it may have been applied: look before trying again"),
        Code::Unavailable | Code::ResourceExhausted => ProviderError::new(
            ErrorKind::Unreachable,
            format!("`{name}`: {msg} (still failing after the retries)"),
        )
        .hint("raise `max_attempts` or lower `concurrency` in [providers.gcp-sm]"),
        other => ProviderError::new(ErrorKind::Other, format!("`{name}`: {other:?}: {msg}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_form_gives_a_version_name() {
        assert_eq!(
            version_name("p/s", None).unwrap(),
            "projects/p/secrets/s/versions/latest"
        );
        assert_eq!(
            version_name("p/s/3", None).unwrap(),
            "projects/p/secrets/s/versions/3"
        );
        assert_eq!(
            version_name("p/s", Some("4")).unwrap(),
            "projects/p/secrets/s/versions/4"
        );
        assert_eq!(
            version_name("projects/p/secrets/s/versions/prod", None).unwrap(),
            "projects/p/secrets/s/versions/prod"
        );
        assert_eq!(
            version_name("projects/p/locations/europe-west1/secrets/s", None).unwrap(),
            "projects/p/locations/europe-west1/secrets/s/versions/latest"
        );
        assert!(version_name("p", None).is_err());
        assert!(version_name("p/s/3", Some("4")).is_err());
        assert!(version_name("p//s", None).is_err());
    }
}
