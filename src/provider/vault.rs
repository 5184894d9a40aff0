//! `vault://MOUNT/PATH`: HashiCorp Vault and OpenBao, over their `/v1` HTTP API.
//!
//! KV version 1 and 2 are told apart from the mount's options (`sys/internal/ui/mounts`), so
//! references never spell `data/`. Other engines are read as they are; their leases are
//! renewed while the command runs and revoked when it exits. Auth methods: token, AppRole,
//! Kubernetes and JWT/OIDC; a token sx obtained by logging in is revoked at exit, unless
//! leases kept past the run depend on it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::reference::escape;
use crate::manifest::{Setting, SettingValue};
use crate::provider::{Request, SettingsReader, credential, credential_variables};
use crate::secret::SecretValue;

type Answer = Result<SecretValue, ProviderError>;

/// How sx logs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `VAULT_TOKEN`, else `token` (a reference), else `token_file`, else `~/.vault-token`.
    Token {
        token: Option<String>,
        token_file: Option<PathBuf>,
    },
    AppRole {
        mount: String,
        role_id: String,
        secret_id: Option<String>,
    },
    Kubernetes {
        mount: String,
        role: String,
        token_file: PathBuf,
    },
    Jwt {
        mount: String,
        role: Option<String>,
        /// A file holding the JWT; without it, the GitHub Actions OIDC endpoint is asked.
        token_file: Option<PathBuf>,
        audience: Option<String>,
    },
}

impl Auth {
    fn method(&self) -> &'static str {
        match self {
            Self::Token { .. } => "token",
            Self::AppRole { .. } => "approle",
            Self::Kubernetes { .. } => "kubernetes",
            Self::Jwt { .. } => "jwt",
        }
    }
}

/// `[providers.vault]` settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub address: Option<String>,
    pub namespace: Option<String>,
    pub ca_cert: Option<PathBuf>,
    pub skip_verify: bool,
    pub auth: Auth,
    /// Revoke the leases of dynamic secrets when the command exits.
    pub revoke_on_exit: bool,
    /// Revoke a token sx obtained by logging in when the command exits; `None` when not
    /// set, which means yes unless leases are kept (revoking the token would revoke them).
    pub revoke_token: Option<bool>,
    pub max_attempts: u32,
    pub timeout: Duration,
}

const KEYS: &[&str] = &[
    "address",
    "namespace",
    "ca_cert",
    "skip_verify",
    "auth",
    "revoke_on_exit",
    "revoke_token",
    "max_attempts",
    "timeout",
];

impl Config {
    pub fn read(r: &mut SettingsReader<'_>, base_dir: &std::path::Path) -> Self {
        let mut c = Self {
            address: r.string("address").map(|(v, _)| v),
            namespace: r.string("namespace").map(|(v, _)| v),
            ca_cert: r.string("ca_cert").map(|(v, _)| base_dir.join(v)),
            skip_verify: r.boolean("skip_verify").unwrap_or(false),
            auth: Auth::Token {
                token: None,
                token_file: None,
            },
            revoke_on_exit: r.boolean("revoke_on_exit").unwrap_or(true),
            revoke_token: r.boolean("revoke_token"),
            max_attempts: 4,
            timeout: Duration::from_secs(10),
        };
        if let Some(n) = r.number("max_attempts", 1..=20) {
            c.max_attempts = u32::try_from(n).unwrap_or(4);
        }
        if let Some(d) = r.duration("timeout") {
            c.timeout = d;
        }
        if let Some((table, span)) = r.table("auth")
            && let Some(a) = read_auth(r, &table, span, base_dir)
        {
            c.auth = a;
        }
        r.finish(KEYS);
        c
    }
}

fn read_auth(
    r: &mut SettingsReader<'_>,
    table: &[Setting],
    span: std::ops::Range<usize>,
    base_dir: &std::path::Path,
) -> Option<Auth> {
    let get = |k: &str| {
        table
            .iter()
            .find(|s| s.key == k)
            .and_then(|s| match &s.value {
                SettingValue::String(v) => Some(v.clone()),
                _ => None,
            })
    };
    let method = get("method").unwrap_or_else(|| "token".into());
    // `auth/approle/` as written in `vault auth list` names the mount `approle`.
    let mount = |default: &str| get("mount").map_or_else(|| default.to_owned(), |m| auth_mount(&m));
    let (auth, known): (Option<Auth>, &[&str]) = match method.as_str() {
        "token" => (
            Some(Auth::Token {
                token: get("token"),
                token_file: get("token_file").map(|p| base_dir.join(p)),
            }),
            &["method", "token", "token_file"],
        ),
        "approle" => (
            get("role_id").map(|role_id| Auth::AppRole {
                mount: mount("approle"),
                role_id,
                secret_id: get("secret_id"),
            }),
            &["method", "mount", "role_id", "secret_id"],
        ),
        "kubernetes" => (
            get("role").map(|role| Auth::Kubernetes {
                mount: mount("kubernetes"),
                role,
                token_file: get("token_file").map_or_else(
                    || PathBuf::from("/var/run/secrets/kubernetes.io/serviceaccount/token"),
                    |p| base_dir.join(p),
                ),
            }),
            &["method", "mount", "role", "token_file"],
        ),
        "jwt" | "oidc" => (
            Some(Auth::Jwt {
                mount: mount("jwt"),
                role: get("role"),
                token_file: get("token_file").map(|p| base_dir.join(p)),
                audience: get("audience"),
            }),
            &["method", "mount", "role", "token_file", "audience"],
        ),
        other => {
            r.invalid(
                format!("unknown vault auth method `{}`", escape(other)),
                span,
                Some("methods: token, approle, kubernetes, jwt"),
            );
            return None;
        }
    };
    for s in table {
        if !known.contains(&s.key.as_str()) {
            r.invalid(
                format!(
                    "unknown key `{}` in vault auth method `{method}`",
                    escape(&s.key)
                ),
                s.key_span.clone(),
                Some(&format!("expected one of {}", known.join(", "))),
            );
        } else if !matches!(s.value, SettingValue::String(_)) {
            r.invalid(
                format!("`auth.{}` must be a string", s.key),
                s.value_span.clone(),
                None,
            );
        }
    }
    if let Some(m) = table.iter().find(|s| s.key == "mount")
        && matches!(&m.value, SettingValue::String(v) if auth_mount(v).is_empty())
    {
        r.invalid(
            "`auth.mount` names no mount".to_owned(),
            m.value_span.clone(),
            Some("the path the auth method is enabled at, e.g. `approle` (or `auth/approle/`)"),
        );
        return None;
    }
    if auth.is_none() {
        let need = if method == "approle" {
            "role_id"
        } else {
            "role"
        };
        r.invalid(
            format!("vault auth method `{method}` needs `{need}`"),
            span,
            None,
        );
    }
    auth
}

/// An auth mount path without `auth/` and the slashes around it.
fn auth_mount(m: &str) -> String {
    let m = m.trim_matches('/');
    m.strip_prefix("auth/")
        .unwrap_or(m)
        .trim_matches('/')
        .to_owned()
}

/// The first of `names` set to something non-empty in sx's environment, and its name: the
/// `VAULT_*` variable before OpenBao's `BAO_*` one.
fn env_var(names: &[&'static str]) -> Option<(&'static str, std::ffi::OsString)> {
    names.iter().find_map(|n| {
        std::env::var_os(n)
            .filter(|v| !v.is_empty())
            .map(|v| (*n, v))
    })
}

/// Why a login token stops being renewed, and what that costs.
const TOKEN_ENDS: &str = "can no longer be renewed (its max TTL is reached, or it was revoked); the leases it created end with it";

/// The variables read for each setting, in order.
const ADDR_VARS: &[&str] = &["VAULT_ADDR", "BAO_ADDR"];
const TOKEN_VARS: &[&str] = &["VAULT_TOKEN", "BAO_TOKEN"];
const NAMESPACE_VARS: &[&str] = &["VAULT_NAMESPACE", "BAO_NAMESPACE"];
const CACERT_VARS: &[&str] = &["VAULT_CACERT", "BAO_CACERT"];
const SKIP_VERIFY_VARS: &[&str] = &["VAULT_SKIP_VERIFY", "BAO_SKIP_VERIFY"];

pub fn check_path(path: &str) -> Result<(), (String, Option<String>)> {
    if path.starts_with('/') || !path.contains('/') || path.contains("//") {
        return Err((
            format!("`{}` is not MOUNT/PATH", escape(path)),
            Some("write vault://MOUNT/PATH, e.g. vault://secret/app#token".into()),
        ));
    }
    if path.ends_with('/') {
        return Err((
            format!("`{}` names a folder, not a secret", escape(path)),
            Some(format!(
                "drop the trailing `/`; `sx ls vault://{}` lists what is in it",
                escape(path)
            )),
        ));
    }
    Ok(())
}

/// For a read that found nothing: where to look.
fn not_found_hint(mount: &str, rel: &str) -> String {
    let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
    let folder = if parent.is_empty() {
        mount.to_owned()
    } else {
        format!("{mount}{parent}/")
    };
    format!(
        "`sx ls vault://{}` lists the secrets there",
        escape(&folder)
    )
}

/// What a mount is, from `sys/internal/ui/mounts/PATH`.
#[derive(Clone, Debug)]
struct Mount {
    /// With a trailing slash, e.g. `secret/`.
    path: String,
    kv: Option<u8>,
}

/// A lease to renew while the command runs and revoke when it exits.
#[derive(Clone, Debug)]
struct Lease {
    id: String,
    duration: Duration,
    renewable: bool,
}

pub struct Vault {
    http: reqwest::Client,
    addr: String,
    namespace: Option<String>,
    token: SecretValue,
    /// The token came from a login by sx (and is sx's to revoke).
    logged_in: bool,
    /// The variable the token was read from (VAULT_TOKEN, BAO_TOKEN): kept from the command.
    token_variable: Option<&'static str>,
    token_ttl: Option<(Duration, bool)>,
    /// The server refused to renew the token: it is gone, nothing is left to revoke.
    token_gone: std::sync::atomic::AtomicBool,
    config: Config,
    mounts: Mutex<HashMap<String, Mount>>,
    leases: Mutex<Vec<Lease>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("addr", &self.addr)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Vault {
    pub async fn connect(config: &Config) -> Result<Self, ProviderError> {
        let (addr, source) = match &config.address {
            Some(a) => (a.clone(), "`address`"),
            None => env_var(ADDR_VARS)
                .map(|(name, v)| (v.to_string_lossy().into_owned(), name))
                .ok_or_else(|| {
                    ProviderError::new(ErrorKind::Other, "no vault address")
                        .hint("set `address` in [providers.vault], or VAULT_ADDR (or BAO_ADDR)")
                })?,
        };
        let addr = addr.trim_end_matches('/').to_owned();
        if !addr.starts_with("http://") && !addr.starts_with("https://") {
            // reqwest would say only "relative URL without a base".
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                format!(
                    "vault address `{}` (from {source}) has no scheme",
                    escape(&addr)
                ),
            )
            .hint(format!(
                "write the scheme too: http://{0} or https://{0}",
                escape(&addr)
            )));
        }
        let namespace = config
            .namespace
            .clone()
            .or_else(|| env_var(NAMESPACE_VARS).map(|(_, v)| v.to_string_lossy().into_owned()));
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(config.timeout)
            .user_agent(concat!("sx/", env!("CARGO_PKG_VERSION")));
        let ca = config
            .ca_cert
            .clone()
            .or_else(|| env_var(CACERT_VARS).map(|(_, v)| PathBuf::from(v)));
        if let Some(ca) = &ca {
            let pem = std::fs::read(ca).map_err(|e| {
                ProviderError::new(
                    ErrorKind::Other,
                    format!("cannot read CA bundle `{}`: {e}", ca.display()),
                )
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    ProviderError::new(ErrorKind::Malformed, format!("CA bundle `{}` holds no PEM certificate", ca.display()))
                        .hint("point ca_cert / VAULT_CACERT at the CA's certificate file (BEGIN CERTIFICATE)")
                });
            let certs = certs?;
            builder = builder.tls_certs_merge(certs);
        }
        let skip = config.skip_verify
            || env_var(SKIP_VERIFY_VARS)
                .is_some_and(|(_, v)| matches!(v.to_str(), Some("1" | "true" | "TRUE" | "yes")));
        if skip {
            tracing::warn!(
                "TLS certificate verification for {addr} is OFF (VAULT_SKIP_VERIFY / skip_verify): anyone on the path can read your secrets"
            );
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| {
            ProviderError::new(ErrorKind::Other, format!("cannot set up HTTP: {e}"))
        })?;
        let mut v = Self {
            http,
            addr,
            namespace,
            token: SecretValue::from_slice(b""),
            logged_in: false,
            token_variable: None,
            token_ttl: None,
            token_gone: std::sync::atomic::AtomicBool::new(false),
            config: config.clone(),
            mounts: Mutex::new(HashMap::new()),
            leases: Mutex::new(Vec::new()),
        };
        v.login().await?;
        Ok(v)
    }

    /// One HTTP call with the token and namespace, retried on 5xx and 429 with backoff and
    /// jitter. Returns the status and the JSON body (Null when empty).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
        auth: bool,
    ) -> Result<(StatusCode, Json), ProviderError> {
        let url = format!("{}/v1/{}", self.addr, path.trim_start_matches('/'));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.http.request(method.clone(), &url);
            if auth {
                let token = std::str::from_utf8(self.token.expose()).unwrap_or("");
                req = req.header("X-Vault-Token", token);
            }
            if let Some(ns) = &self.namespace {
                req = req.header("X-Vault-Namespace", ns);
            }
            req = req.header("X-Vault-Request", "true");
            if let Some(b) = body {
                req = req.json(b);
            }
            let result = req.send().await;
            let retry_wait = Duration::from_millis(100 * (1 << attempt.min(6)) + jitter_ms());
            match result {
                Ok(resp) => {
                    let status = resp.status();
                    if (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
                        && attempt < self.config.max_attempts
                    {
                        tracing::debug!("vault answered {status}; retrying");
                        tokio::time::sleep(retry_wait).await;
                        continue;
                    }
                    let bytes = resp.bytes().await.map_err(|e| {
                        ProviderError::new(
                            ErrorKind::Unreachable,
                            format!("vault {}: {}", self.addr, crate::error::error_chain(&e)),
                        )
                    })?;
                    let json = if bytes.is_empty() {
                        Json::Null
                    } else {
                        serde_json::from_slice(&bytes).unwrap_or(Json::Null)
                    };
                    return Ok((status, json));
                }
                Err(e) if attempt < self.config.max_attempts && !e.is_builder() && !is_tls(&e) => {
                    tracing::debug!("vault request failed ({e}); retrying");
                    tokio::time::sleep(retry_wait).await;
                }
                Err(e) => {
                    let text = crate::error::error_chain(&e);
                    let err = ProviderError::new(
                        ErrorKind::Unreachable,
                        format!("cannot reach vault at {}: {}", self.addr, escape(&text)),
                    );
                    return Err(if is_tls(&e) {
                        err.hint("the server's certificate is not trusted: set `ca_cert` in [providers.vault] or VAULT_CACERT to the CA bundle")
                    } else {
                        err.hint("check VAULT_ADDR / `address` and that the server is up")
                    });
                }
            }
        }
    }

    fn status_error(&self, status: StatusCode, body: &Json, what: &str) -> ProviderError {
        // Vault wraps messages as "1 error occurred:\n\t* permission denied\n\n".
        let errors: Vec<String> = body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str())
                    .flat_map(|e| {
                        let items: Vec<String> = e
                            .lines()
                            .filter_map(|l| l.trim().strip_prefix("* "))
                            .map(str::to_owned)
                            .collect();
                        if items.is_empty() {
                            vec![e.trim().to_owned()]
                        } else {
                            items
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let detail = if errors.is_empty() {
            status.to_string()
        } else {
            errors.join("; ")
        };
        match status {
            StatusCode::NOT_FOUND => ProviderError::new(ErrorKind::NotFound, format!("{what}: not found at {}", self.addr)),
            StatusCode::FORBIDDEN => ProviderError::new(ErrorKind::Denied, format!("{what}: {detail}")).hint(
                "the token's policy must allow this operation on the path (KV v2 reads and writes: MOUNT/data/PATH, lists: MOUNT/metadata/PATH); an expired token also gives this",
            ),
            StatusCode::UNAUTHORIZED => ProviderError::new(ErrorKind::Auth, format!("{what}: {detail}")),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                // The server often says which ("Vault is sealed"); guess only when it does not.
                let lower = detail.to_ascii_lowercase();
                let said = ["seal", "standby", "rate limit"].iter().any(|w| lower.contains(w));
                let guess = if said { "" } else { " (vault sealed, standby or rate limited)" };
                ProviderError::new(ErrorKind::Unreachable, format!("{what}: {detail}{guess}"))
            }
            _ => ProviderError::new(ErrorKind::Other, format!("{what}: {detail}")),
        }
    }

    /// Why `auth/token/lookup-self` failed, and what to do about it.
    async fn lookup_self_error(&self, status: StatusCode, body: &Json) -> ProviderError {
        if status == StatusCode::NOT_FOUND
            && let Some(e) = self.namespace_error("vault token")
        {
            return e;
        }
        let hint = if status == StatusCode::BAD_REQUEST && body.is_null() {
            "the server did not answer as Vault: is VAULT_ADDR http:// for an https:// server?"
        } else if body.is_null() {
            "the server did not answer as Vault (no JSON body): check VAULT_ADDR and the proxy variables"
        } else if status.is_server_error() {
            "the Vault server failed; try again, or check its logs and `vault status`"
        } else if status == StatusCode::FORBIDDEN && self.token_is_known().await {
            // A valid token without the `default` policy: the same 403 as a bad token.
            return self
                .status_error(status, body, "vault token: auth/token/lookup-self")
                .hint("the token was refused auth/token/lookup-self, which the `default` policy grants: create it with the default policy, or grant lookup-self, renew-self and revoke-self under auth/token/ in one of its policies");
        } else {
            "the token is invalid or expired: get a new one (VAULT_TOKEN, `vault login`)"
        };
        self.status_error(status, body, "vault token").hint(hint)
    }

    /// Whether the server knows the token: `sys/internal/ui/mounts` answers any valid token,
    /// whatever its policies, and refuses an unknown one.
    async fn token_is_known(&self) -> bool {
        self.call(Method::GET, "sys/internal/ui/mounts", None, true)
            .await
            .is_ok_and(|(s, _)| s.is_success())
    }

    /// For a 404 where a namespace is set: the namespace itself is the likely culprit.
    fn namespace_error(&self, what: &str) -> Option<ProviderError> {
        let ns = self.namespace.as_deref()?;
        Some(
            ProviderError::new(
                ErrorKind::NotFound,
                format!(
                    "{what}: not found at {}: the namespace `{}` may not exist",
                    self.addr,
                    escape(ns)
                ),
            )
            .hint("`vault namespace list` (without a namespace) lists the namespaces; set `namespace` in [providers.vault] or VAULT_NAMESPACE to one of them"),
        )
    }

    async fn login(&mut self) -> Result<(), ProviderError> {
        let auth = self.config.auth.clone();
        let method = auth.method();
        let (mount, body) = match &auth {
            Auth::Token { token, token_file } => {
                let value = if let Some((name, t)) = env_var(TOKEN_VARS) {
                    self.token_variable = Some(name);
                    SecretValue::new(t.into_encoded_bytes())
                } else if let Some(t) = token {
                    credential(t, "vault token")?
                } else if let Some(path) = token_file {
                    token_from_file(path)?
                } else {
                    let home = std::env::var_os("HOME")
                        .map(|h| PathBuf::from(h).join(".vault-token"))
                        .filter(|p| p.exists());
                    let Some(path) = home else {
                        return Err(ProviderError::new(ErrorKind::Auth, "no vault token: VAULT_TOKEN is not set and there is no ~/.vault-token")
                            .hint("set VAULT_TOKEN, run `vault login`, or configure `auth` in [providers.vault] (approle, kubernetes, jwt)"));
                    };
                    token_from_file(&path)?
                };
                self.token = value;
                // Learn the token's TTL to renew it during long runs; a bad token fails here.
                let (status, body) = self
                    .call(Method::GET, "auth/token/lookup-self", None, true)
                    .await?;
                if !status.is_success() {
                    return Err(self.lookup_self_error(status, &body).await);
                }
                let ttl = body["data"]["ttl"].as_u64().unwrap_or(0);
                let renewable = body["data"]["renewable"].as_bool().unwrap_or(false);
                if ttl > 0 {
                    self.token_ttl = Some((Duration::from_secs(ttl), renewable));
                }
                return Ok(());
            }
            Auth::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                let role_id = credential(role_id, "approle role_id")?;
                let mut body = json!({ "role_id": String::from_utf8_lossy(role_id.expose()) });
                if let Some(s) = secret_id {
                    let s = credential(s, "approle secret_id")?;
                    body["secret_id"] =
                        Json::String(String::from_utf8_lossy(s.expose()).into_owned());
                }
                (mount.clone(), body)
            }
            Auth::Kubernetes {
                mount,
                role,
                token_file,
            } => {
                let jwt = credential(
                    &format!("file://{}", token_file.display()),
                    "kubernetes service account token",
                )?;
                (
                    mount.clone(),
                    json!({ "role": role, "jwt": String::from_utf8_lossy(jwt.expose()) }),
                )
            }
            Auth::Jwt {
                mount,
                role,
                token_file,
                audience,
            } => {
                let jwt = match token_file {
                    Some(p) => credential(&format!("file://{}", p.display()), "jwt token file")?,
                    None => self.github_oidc_token(audience.as_deref()).await?,
                };
                let mut body = json!({ "jwt": String::from_utf8_lossy(jwt.expose()) });
                if let Some(r) = role {
                    body["role"] = Json::String(r.clone());
                }
                (mount.clone(), body)
            }
        };
        let (status, resp) = self
            .call(
                Method::POST,
                &format!("auth/{mount}/login"),
                Some(&body),
                false,
            )
            .await?;
        if status == StatusCode::NOT_FOUND
            && let Some(e) =
                self.namespace_error(&format!("vault login with auth method `{method}`"))
        {
            return Err(e);
        }
        if !status.is_success() {
            // The server's message names the failure (e.g. "invalid secret id"), never the
            // credential itself.
            return Err(self
                .status_error(status, &resp, &format!("vault login with auth method `{method}` (mount `{mount}`)"))
                .kind_to(ErrorKind::Auth)
                .hint(format!("check the credentials and the role of auth method `{method}`; `auth.mount` if it is not mounted at {mount}/")));
        }
        let token = resp["auth"]["client_token"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if token.is_empty() {
            return Err(ProviderError::new(
                ErrorKind::Auth,
                format!("vault login with `{method}` returned no token"),
            ));
        }
        self.token = SecretValue::new(token.into_bytes());
        self.logged_in = true;
        let ttl = resp["auth"]["lease_duration"].as_u64().unwrap_or(0);
        let renewable = resp["auth"]["renewable"].as_bool().unwrap_or(false);
        if ttl > 0 {
            self.token_ttl = Some((Duration::from_secs(ttl), renewable));
        }
        tracing::info!("logged in to vault with auth method `{method}`");
        Ok(())
    }

    /// Asks the GitHub Actions OIDC endpoint for a token (the job needs `id-token: write`).
    async fn github_oidc_token(
        &self,
        audience: Option<&str>,
    ) -> Result<SecretValue, ProviderError> {
        let (Ok(url), Ok(bearer)) = (
            std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL"),
            std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) else {
            return Err(ProviderError::new(ErrorKind::Auth, "vault jwt auth: no `token_file` and no GitHub Actions OIDC endpoint")
                .hint("set `token_file` in the auth table, or give the GitHub job `permissions: id-token: write`"));
        };
        let mut url = url;
        if let Some(a) = audience {
            url.push_str(if url.contains('?') { "&" } else { "?" });
            url.push_str("audience=");
            url.push_str(
                &percent_encoding::utf8_percent_encode(a, percent_encoding::NON_ALPHANUMERIC)
                    .to_string(),
            );
        }
        let resp = self
            .http
            .get(&url)
            .bearer_auth(bearer)
            .send()
            .await
            .map_err(|e| {
                ProviderError::new(ErrorKind::Unreachable, format!("GitHub OIDC endpoint: {e}"))
            })?;
        let status = resp.status();
        let body: Json = resp.json().await.unwrap_or(Json::Null);
        match body["value"].as_str().filter(|_| status.is_success()) {
            Some(v) => Ok(SecretValue::from_slice(v.as_bytes())),
            None => Err(ProviderError::new(
                ErrorKind::Auth,
                format!("GitHub OIDC endpoint returned no token (HTTP {status})"),
            )
            .hint("the job needs `permissions: id-token: write`; the request token (ACTIONS_ID_TOKEN_REQUEST_TOKEN) is valid only inside its own job")),
        }
    }

    async fn mount_of(&self, path: &str) -> Result<Mount, ProviderError> {
        let first = path.split('/').next().unwrap_or("");
        if let Some(m) = self.mounts.lock().ok().and_then(|m| m.get(first).cloned())
            && path.starts_with(&m.path)
        {
            return Ok(m);
        }
        let (status, body) = self
            .call(
                Method::GET,
                &format!("sys/internal/ui/mounts/{path}"),
                None,
                true,
            )
            .await?;
        if !status.is_success() {
            return Err(match status {
                StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => ProviderError::new(
                    ErrorKind::NotFound,
                    format!(
                        "no secrets engine is mounted at `{}` (or the token cannot see it)",
                        escape(first)
                    ),
                )
                .hint("`vault secrets list` shows the mounts; the reference is vault://MOUNT/PATH"),
                _ => self.status_error(status, &body, &format!("mount of `{}`", escape(path))),
            });
        }
        let data = &body["data"];
        let mount_path = data["path"].as_str().unwrap_or("").to_owned();
        let kv = match data["type"].as_str() {
            Some("kv" | "generic") => Some(if data["options"]["version"].as_str() == Some("2") {
                2
            } else {
                1
            }),
            _ => None,
        };
        let m = Mount {
            path: mount_path,
            kv,
        };
        if let Ok(mut cache) = self.mounts.lock() {
            cache.insert(first.to_owned(), m.clone());
        }
        Ok(m)
    }

    pub async fn fetch_batch(&self, requests: &[Request]) -> Vec<Answer> {
        // Learn each mount once before the reads, rather than once per concurrent read.
        let mut seen = std::collections::HashSet::new();
        let probes = requests
            .iter()
            .filter(|r| seen.insert(r.path.split('/').next().unwrap_or("")))
            .map(|r| self.mount_of(&r.path));
        futures_util::future::join_all(probes).await;
        futures_util::future::join_all(requests.iter().map(|r| self.fetch(r))).await
    }

    async fn fetch(&self, r: &Request) -> Answer {
        let what = format!("vault `{}`", escape(&r.path));
        let mount = self.mount_of(&r.path).await?;
        let rel = r.path.strip_prefix(&mount.path).unwrap_or(&r.path);
        let version = r.query_value("version");
        match mount.kv {
            Some(2) => {
                let rel = match rel.strip_prefix("data/") {
                    Some(stripped) => {
                        tracing::info!(
                            "vault://{}: `data/` is added by sx for KV v2 mounts; it can be left out",
                            r.path
                        );
                        stripped
                    }
                    None => rel,
                };
                let mut path = format!("{}data/{rel}", mount.path);
                if let Some(v) = version {
                    if v.parse::<u64>().is_err() {
                        return Err(ProviderError::new(
                            ErrorKind::Malformed,
                            format!("{what}: version `{}` is not a number", escape(v)),
                        ));
                    }
                    path.push_str(&format!("?version={v}"));
                }
                let (status, body) = self.call(Method::GET, &path, None, true).await?;
                let meta = &body["data"]["metadata"];
                if meta["destroyed"].as_bool() == Some(true) {
                    return Err(ProviderError::new(
                        ErrorKind::NotFound,
                        format!("{what}: version {} is destroyed", meta["version"]),
                    )
                    .hint("a destroyed version cannot be read again; pin another ?version="));
                }
                if meta["deletion_time"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty())
                {
                    return Err(ProviderError::new(
                        ErrorKind::NotFound,
                        format!("{what}: version {} is deleted", meta["version"]),
                    )
                    .hint("`vault kv undelete` brings a deleted version back"));
                }
                if !status.is_success() {
                    let e = self.status_error(status, &body, &what);
                    return Err(match status {
                        StatusCode::NOT_FOUND if version.is_some() => {
                            e.hint("no such version of this secret")
                        }
                        StatusCode::NOT_FOUND => e.hint(not_found_hint(&mount.path, rel)),
                        _ => e,
                    });
                }
                json_value(&body["data"]["data"], &what)
            }
            Some(_) => {
                if version.is_some() {
                    return Err(ProviderError::new(
                        ErrorKind::Malformed,
                        format!(
                            "{what}: `{}` is a KV version 1 mount, which has no versions",
                            mount.path
                        ),
                    ));
                }
                let (status, body) = self.call(Method::GET, &r.path, None, true).await?;
                if !status.is_success() {
                    let e = self.status_error(status, &body, &what);
                    return Err(if status == StatusCode::NOT_FOUND {
                        e.hint(not_found_hint(&mount.path, rel))
                    } else {
                        e
                    });
                }
                json_value(&body["data"], &what)
            }
            None => {
                if version.is_some() {
                    return Err(ProviderError::new(
                        ErrorKind::Malformed,
                        format!("{what}: ?version= applies to KV mounts only"),
                    ));
                }
                let (status, body) = self.call(Method::GET, &r.path, None, true).await?;
                if !status.is_success() {
                    return Err(self.status_error(status, &body, &what));
                }
                if let Some(id) = body["lease_id"].as_str().filter(|id| !id.is_empty()) {
                    let lease = Lease {
                        id: id.to_owned(),
                        duration: Duration::from_secs(body["lease_duration"].as_u64().unwrap_or(0)),
                        renewable: body["renewable"].as_bool().unwrap_or(false),
                    };
                    tracing::info!(
                        "vault lease for `{}`: {}s, renewable: {}",
                        r.path,
                        lease.duration.as_secs(),
                        lease.renewable
                    );
                    if let Ok(mut l) = self.leases.lock() {
                        l.push(lease);
                    }
                }
                json_value(&body["data"], &what)
            }
        }
    }

    pub fn has_leases(&self) -> bool {
        self.leases.lock().map(|l| !l.is_empty()).unwrap_or(false)
    }

    /// Variables sx consumed for its own login (`env://` credentials in `auth`, and
    /// VAULT_TOKEN or BAO_TOKEN when the token came from there).
    pub fn consumed_variables(&self) -> Vec<String> {
        let mut names = match &self.config.auth {
            Auth::Token { token, .. } => credential_variables(&[token.as_deref()]),
            Auth::AppRole {
                role_id, secret_id, ..
            } => credential_variables(&[Some(role_id.as_str()), secret_id.as_deref()]),
            Auth::Kubernetes { .. } | Auth::Jwt { .. } => Vec::new(),
        };
        names.extend(self.token_variable.map(str::to_owned));
        names
    }

    /// Whether anything needs doing while the command runs or after it exits.
    pub fn has_upkeep(&self) -> bool {
        self.logged_in
            || self.token_ttl.is_some_and(|(_, renewable)| renewable)
            || self.leases.lock().map(|l| !l.is_empty()).unwrap_or(false)
    }

    /// Renews the token and leases before they expire, until dropped.
    pub async fn keep_alive(&self) {
        let leases = self.leases.lock().map(|l| l.clone()).unwrap_or_default();
        let mut timers: Vec<(Option<String>, Duration)> = leases
            .iter()
            .filter(|l| l.renewable && !l.duration.is_zero())
            .map(|l| (Some(l.id.clone()), l.duration))
            .collect();
        if let Some((ttl, true)) = self.token_ttl {
            timers.push((None, ttl));
        }
        if timers.is_empty() {
            std::future::pending::<()>().await;
        }
        let jobs = timers.into_iter().map(|(lease, mut ttl)| async move {
            // Ask for the original duration each time; the server caps it at the max TTL.
            let base = ttl;
            loop {
                // Renew at two thirds of the remaining time.
                tokio::time::sleep(ttl.mul_f64(2.0 / 3.0).max(Duration::from_millis(500))).await;
                let increment = format!("{}s", base.as_secs().max(1));
                let result = match &lease {
                    Some(id) => {
                        let body = json!({ "lease_id": id, "increment": increment });
                        self.call(Method::PUT, "sys/leases/renew", Some(&body), true)
                            .await
                    }
                    None => {
                        let body = json!({ "increment": increment });
                        self.call(Method::POST, "auth/token/renew-self", Some(&body), true)
                            .await
                    }
                };
                let what = lease.as_deref().unwrap_or("the vault token");
                match result {
                    Ok((s, body)) if s.is_success() => {
                        // A token renewal answers in `auth`; a lease renewal at the top.
                        let secs = match lease {
                            Some(_) => body["lease_duration"].as_u64(),
                            None => body["auth"]["lease_duration"].as_u64(),
                        }
                        .unwrap_or(0);
                        tracing::info!("renewed {what} for {secs}s");
                        if secs == 0 {
                            if lease.is_none() {
                                tracing::warn!("the vault token {TOKEN_ENDS}");
                                self.token_gone
                                    .store(true, std::sync::atomic::Ordering::Relaxed);
                            }
                            return;
                        }
                        ttl = Duration::from_secs(secs);
                    }
                    Ok((s, _)) if lease.is_none() && s == StatusCode::FORBIDDEN => {
                        tracing::warn!(
                            "cannot renew the vault token (vault answered {s}): it {TOKEN_ENDS}"
                        );
                        self.token_gone
                            .store(true, std::sync::atomic::Ordering::Relaxed);
                        return;
                    }
                    Ok((s, _)) => {
                        tracing::warn!("cannot renew {what}: vault answered {s}");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!("cannot renew {what}: {e}");
                        return;
                    }
                }
            }
        });
        futures_util::future::join_all(jobs).await;
        std::future::pending::<()>().await;
    }

    /// Revokes leases (when `leases` and configured so) and a token sx logged in with.
    pub async fn shutdown(&self, leases: bool) {
        let revoke_leases = leases && self.config.revoke_on_exit;
        let held = self.leases.lock().map(|l| l.clone()).unwrap_or_default();
        if revoke_leases {
            for l in &held {
                match self
                    .call(
                        Method::PUT,
                        "sys/leases/revoke",
                        Some(&json!({ "lease_id": l.id })),
                        true,
                    )
                    .await
                {
                    Ok((s, _)) if s.is_success() => tracing::info!("revoked lease {}", l.id),
                    Ok((s, _)) => {
                        tracing::warn!("cannot revoke lease {}: vault answered {s}", l.id)
                    }
                    Err(e) => tracing::warn!("cannot revoke lease {}: {e}", l.id),
                }
            }
        }
        if !self.logged_in {
            return;
        }
        // A renewal refused with 403 means the token ended, or only that its policy lacks
        // renew-self: revoking is still tried, and its failure then is no news.
        let ended = self.token_gone.load(std::sync::atomic::Ordering::Relaxed);
        // Vault revokes a token's leases with it: kept leases need the token kept too.
        let kept = if held.is_empty() || revoke_leases {
            None
        } else if leases {
            Some("revoke_on_exit = false")
        } else {
            Some("the values handed out must stay valid")
        };
        match (self.config.revoke_token, kept) {
            (Some(false), _) => return,
            (None, Some(why)) => {
                tracing::info!(
                    "not revoking the vault token sx logged in with: that would revoke the {} lease(s) kept ({why}); it expires with its TTL",
                    held.len()
                );
                return;
            }
            (Some(true), Some(why)) => tracing::warn!(
                "revoke_token = true: revoking the vault token sx logged in with also revokes the {} lease(s) it created, though they are kept ({why})",
                held.len()
            ),
            (_, None) => {}
        }
        let body = json!({});
        match self
            .call(Method::POST, "auth/token/revoke-self", Some(&body), true)
            .await
        {
            Ok((s, _)) if s.is_success() => {
                tracing::info!("revoked the vault token sx logged in with")
            }
            Ok((s, _)) if ended => {
                tracing::debug!(
                    "the vault token could not be revoked (vault answered {s}); it had ended"
                );
            }
            Ok((s, _)) => tracing::warn!("cannot revoke the vault token: vault answered {s}"),
            Err(e) => tracing::warn!("cannot revoke the vault token: {e}"),
        }
    }

    /// Key names under a KV path.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, ProviderError> {
        if prefix.trim_matches('/').is_empty() {
            return Err(
                ProviderError::new(ErrorKind::Malformed, "name a mount to list")
                    .hint("e.g. sx ls vault://secret/ or sx ls vault://secret/team/"),
            );
        }
        let mount = self.mount_of(prefix).await?;
        let rel = kv2_relative(&mount, prefix.strip_prefix(&mount.path).unwrap_or(""));
        let path = match mount.kv {
            Some(2) => format!("{}metadata/{rel}", mount.path),
            Some(_) => prefix.to_owned(),
            None => {
                return Err(ProviderError::new(
                    ErrorKind::Unsupported,
                    format!("`{}` is not a KV mount", mount.path),
                ));
            }
        };
        let (status, body) = self
            .call(
                Method::from_bytes(b"LIST").unwrap_or(Method::GET),
                &path,
                None,
                true,
            )
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !status.is_success() {
            return Err(self.status_error(status, &body, &format!("vault `{}`", escape(prefix))));
        }
        let base = if prefix.ends_with('/') || prefix.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}/")
        };
        Ok(body["data"]["keys"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|k| k.as_str())
                    .map(|k| format!("{base}{k}"))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Writes a KV secret; the value must be a JSON object of fields.
    pub async fn set(&self, path: &str, value: SecretValue) -> Result<(), ProviderError> {
        let data: Json = serde_json::from_slice(value.expose())
            .ok()
            .filter(Json::is_object)
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Malformed,
                    format!(
                        "vault `{}`: the value must be a JSON object of fields",
                        escape(path)
                    ),
                )
                .hint("e.g. printf '{\"token\":\"...\"}' | sx set vault://secret/app")
            })?;
        let mount = self.mount_of(path).await?;
        let rel = kv2_relative(&mount, path.strip_prefix(&mount.path).unwrap_or(path));
        let (target, body) = match mount.kv {
            Some(2) => (format!("{}data/{rel}", mount.path), json!({ "data": data })),
            Some(_) => (path.to_owned(), data),
            None => {
                return Err(ProviderError::new(
                    ErrorKind::Unsupported,
                    format!("`{}` is not a KV mount", mount.path),
                ));
            }
        };
        let (status, body) = self.call(Method::POST, &target, Some(&body), true).await?;
        if !status.is_success() {
            return Err(self.status_error(status, &body, &format!("vault `{}`", escape(path))));
        }
        Ok(())
    }

    /// Deletes a KV secret: the latest version (KV v2), or with `force` every version and
    /// the metadata.
    pub async fn remove(&self, path: &str, force: bool) -> Result<(), ProviderError> {
        let mount = self.mount_of(path).await?;
        let rel = kv2_relative(&mount, path.strip_prefix(&mount.path).unwrap_or(path));
        // DELETE succeeds on a missing path too: look first, so a typo is not "removed".
        let probe = match mount.kv {
            Some(2) => format!("{}metadata/{rel}", mount.path),
            _ => path.to_owned(),
        };
        let (status, body) = self.call(Method::GET, &probe, None, true).await?;
        if status == StatusCode::NOT_FOUND && body["data"].is_null() {
            return Err(ProviderError::new(
                ErrorKind::NotFound,
                format!("vault `{}`: no such secret", escape(path)),
            ));
        }
        let target = match (mount.kv, force) {
            (Some(2), true) => format!("{}metadata/{rel}", mount.path),
            (Some(2), false) => format!("{}data/{rel}", mount.path),
            (Some(_), _) => path.to_owned(),
            (None, _) => {
                return Err(ProviderError::new(
                    ErrorKind::Unsupported,
                    format!("`{}` is not a KV mount", mount.path),
                ));
            }
        };
        let (status, body) = self.call(Method::DELETE, &target, None, true).await?;
        if !status.is_success() {
            return Err(self.status_error(status, &body, &format!("vault `{}`", escape(path))));
        }
        Ok(())
    }
}

/// A token from a file the user named (or `~/.vault-token`): missing and empty are errors
/// that name the file, not a token refused later.
fn token_from_file(path: &std::path::Path) -> Answer {
    let shown = escape(&path.display().to_string());
    let raw = std::fs::read(path).map(SecretValue::new).map_err(|e| {
        let e = if e.kind() == std::io::ErrorKind::NotFound {
            ProviderError::new(
                ErrorKind::NotFound,
                format!("vault token file `{shown}` does not exist"),
            )
        } else {
            ProviderError::new(
                ErrorKind::Denied,
                format!("vault token file `{shown}`: {e}"),
            )
        };
        e.hint("point `token_file` in the auth table at the file that holds the token")
    })?;
    let token = SecretValue::from_slice(raw.expose().trim_ascii());
    if token.expose().is_empty() {
        return Err(ProviderError::new(
            ErrorKind::Auth,
            format!("vault token file `{shown}` is empty"),
        )
        .hint("write the token into it, or run `vault login`"));
    }
    Ok(token)
}

/// A KV v2 path relative to its mount, without a `data/` written out of habit.
fn kv2_relative<'p>(mount: &Mount, rel: &'p str) -> &'p str {
    if mount.kv == Some(2) {
        rel.strip_prefix("data/").unwrap_or(rel)
    } else {
        rel
    }
}

fn json_value(v: &Json, what: &str) -> Answer {
    if v.is_null() {
        return Err(ProviderError::new(
            ErrorKind::NotFound,
            format!("{what}: no data"),
        ));
    }
    serde_json::to_vec(v)
        .map(SecretValue::new)
        .map_err(|e| ProviderError::new(ErrorKind::Malformed, format!("{what}: {e}")))
}

fn is_tls(e: &reqwest::Error) -> bool {
    let text = crate::error::error_chain(e).to_ascii_lowercase();
    text.contains("certificate") || text.contains("tls") || text.contains("handshake")
}

fn jitter_ms() -> u64 {
    u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            % 100,
    )
}
