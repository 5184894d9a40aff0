//! Providers: the closed set of places secrets are read from.
//!
//! Each provider type has a typed configuration checked at plan time (unknown keys are
//! errors), and a client built at resolve time. Every client answers a batch of reads at
//! once, so a provider with a batch API (or one file to decrypt) does one round trip per run.

pub mod aws;
pub mod aws_sm;
pub mod aws_ssm;
pub mod azure_kv;
pub mod env;
pub mod file;
pub mod gcp_sm;
pub mod local;
pub mod op;
pub mod vault;

use std::ops::Range;
use std::path::Path;

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::diag::Diagnostic;
use crate::manifest::reference::{Reference, ReferenceError, escape, looks_like_reference};
use crate::manifest::{Setting, SettingValue};
use crate::secret::SecretValue;

/// Every provider type the reference grammar knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderType {
    Local,
    Env,
    File,
    AwsSm,
    AwsSsm,
    GcpSm,
    Vault,
    AzureKv,
    Op,
}

impl ProviderType {
    pub const ALL: [Self; 9] = [
        Self::Local,
        Self::Env,
        Self::File,
        Self::AwsSm,
        Self::AwsSsm,
        Self::GcpSm,
        Self::Vault,
        Self::AzureKv,
        Self::Op,
    ];

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Env => "env",
            Self::File => "file",
            Self::AwsSm => "aws-sm",
            Self::AwsSsm => "aws-ssm",
            Self::GcpSm => "gcp-sm",
            Self::Vault => "vault",
            Self::AzureKv => "azure-kv",
            Self::Op => "op",
        }
    }

    /// Whether this build can read from the type.
    pub fn is_available(self) -> bool {
        matches!(
            self,
            Self::Local
                | Self::Env
                | Self::File
                | Self::AwsSm
                | Self::AwsSsm
                | Self::GcpSm
                | Self::Vault
                | Self::Op
                | Self::AzureKv
        )
    }

    pub fn available_names() -> String {
        Self::ALL
            .into_iter()
            .filter(|t| t.is_available())
            .map(Self::name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The version a request pins, as `(key, value)`: a query key, or the path's version
    /// segment for the types that take one there (`gcp-sm://P/S/3`, `azure-kv://V/S/ID`).
    pub fn pinned(self, request: &Request) -> Option<(&str, &str)> {
        let from_path = match self {
            Self::GcpSm if gcp_sm::names_version(&request.path) => request.path.rsplit('/').next(),
            Self::AzureKv if request.path.split('/').count() == 3 => {
                request.path.rsplit('/').next()
            }
            _ => None,
        };
        from_path
            .map(|v| ("version", v))
            .or_else(|| request.pinned())
    }

    /// Checks the reference `sx set` writes, before the value is read or anything is sent:
    /// the whole secret, and for Secret Manager no version (versions are added, not written).
    pub fn check_write(self, r: &Reference) -> Result<(), crate::error::Error> {
        whole_secret(r, None)?;
        if self == Self::GcpSm && gcp_sm::names_version(&r.path) {
            return Err(crate::error::Error::Usage {
                message: format!("`{r}`: a version cannot be written, only added"),
                hint: Some(
                    "name the secret without a version; `sx set` adds a new version to it".into(),
                ),
            });
        }
        Ok(())
    }

    /// Checks the reference `sx rm` deletes, before any login, and returns the one version
    /// to destroy for the type that deletes single versions (Secret Manager: in the path or,
    /// as in reads, `?version=`); other types delete whole secrets.
    pub fn check_removal(self, r: &Reference) -> Result<Option<String>, crate::error::Error> {
        let version = match r.query.as_slice() {
            [(key, v)] if key == "version" && r.fragment.is_none() => Some(v.as_str()),
            _ => None,
        };
        if self != Self::GcpSm || version.is_none() {
            whole_secret(
                r,
                version.map(|_| {
                    "only gcp-sm deletes one version (`?version=N`); other providers delete the whole secret"
                }),
            )?;
        }
        if self == Self::GcpSm {
            gcp_sm::check_removal(&r.path, version).map_err(|e| crate::error::Error::Usage {
                message: e.message,
                hint: e.hint,
            })?;
        }
        Ok(version.map(str::to_owned))
    }

    /// Query keys a reference of this type may carry.
    pub fn query_keys(self) -> &'static [&'static str] {
        match self {
            Self::AwsSm => &["version_id", "stage"],
            Self::AwsSsm | Self::GcpSm | Self::Vault | Self::AzureKv => &["version"],
            Self::Local | Self::Env | Self::File | Self::Op => &[],
        }
    }

    /// Checks a reference's path and query for this type; the problem, if any, is located
    /// in the reference's text.
    pub fn check_reference(self, r: &Reference) -> Result<(), ReferenceError> {
        for (i, (k, v)) in r.query.iter().enumerate() {
            if v.is_empty() && self.query_keys().contains(&k.as_str()) {
                return Err(r.query_error(
                    i,
                    true,
                    format!("`?{}=` has no value", escape(k)),
                    Some("give a value, or leave the key out to read the current version".into()),
                ));
            }
            if self == Self::Vault && k == "version" && !v.parse::<u64>().is_ok_and(|n| n > 0) {
                return Err(r.query_error(
                    i,
                    true,
                    format!("`?version={}` is not a version number", escape(v)),
                    Some("KV v2 versions are numbers from 1, e.g. ?version=3".into()),
                ));
            }
            if !self.query_keys().contains(&k.as_str()) {
                let allowed = self.query_keys();
                let hint = if allowed.is_empty() {
                    format!("`{}` references take no query", self.name())
                } else {
                    format!("`{}` accepts: {}", self.name(), allowed.join(", "))
                };
                return Err(r.query_error(
                    i,
                    false,
                    format!("unknown query key `{}`", escape(k)),
                    Some(hint),
                ));
            }
        }
        let path = match self {
            Self::Env => env::check_path(&r.path),
            Self::File => file::check_path(&r.path),
            Self::Local => local::check_name(&r.path),
            Self::AwsSsm => aws_ssm::check_path(&r.path),
            Self::Vault => vault::check_path(&r.path),
            Self::GcpSm => gcp_sm::check_path(&r.path),
            Self::Op => op::check_path(&r.path),
            Self::AzureKv => azure_kv::check_path(&r.path),
            Self::AwsSm => Ok(()),
        };
        path.map_err(|(message, hint)| r.path_error(message, hint))
    }
}

/// A reference to write or delete names a whole secret: no `#field`, no `?query`.
fn whole_secret(r: &Reference, hint: Option<&str>) -> Result<(), crate::error::Error> {
    if r.fragment.is_some() || !r.query.is_empty() {
        return Err(crate::error::Error::Usage {
            message: format!("`{r}`: a reference to write or delete takes no #field or ?query"),
            hint: Some(
                hint.unwrap_or("name the whole secret, e.g. local://api-token")
                    .to_owned(),
            ),
        });
    }
    Ok(())
}

/// A provider instance's settings, checked against its type's schema.
#[derive(Clone, Debug)]
pub enum ProviderConfig {
    Local(local::Config),
    Env,
    File,
    AwsSm(aws::Config),
    AwsSsm(aws::Config),
    Vault(vault::Config),
    GcpSm(gcp_sm::Config),
    Op(op::Config),
    AzureKv(azure_kv::Config),
}

impl ProviderConfig {
    pub fn ty(&self) -> ProviderType {
        match self {
            Self::Local(_) => ProviderType::Local,
            Self::Env => ProviderType::Env,
            Self::File => ProviderType::File,
            Self::AwsSm(_) => ProviderType::AwsSm,
            Self::AwsSsm(_) => ProviderType::AwsSsm,
            Self::Vault(_) => ProviderType::Vault,
            Self::GcpSm(_) => ProviderType::GcpSm,
            Self::Op(_) => ProviderType::Op,
            Self::AzureKv(_) => ProviderType::AzureKv,
        }
    }

    /// Reads the settings of an instance of type `ty` (the `type` key already removed).
    /// Relative paths are taken from `base_dir`, the manifest's folder.
    pub fn from_settings(
        ty: ProviderType,
        settings: &[Setting],
        base_dir: &Path,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Self> {
        let mut r = SettingsReader {
            settings,
            diags,
            context: ty.name(),
            ok: true,
        };
        let config = match ty {
            ProviderType::Local => Self::Local(local::Config::read(&mut r, base_dir)),
            ProviderType::Env => {
                r.finish(&[]);
                Self::Env
            }
            ProviderType::File => {
                r.finish(&[]);
                Self::File
            }
            ProviderType::AwsSm => Self::AwsSm(aws::Config::read(&mut r)),
            ProviderType::AwsSsm => Self::AwsSsm(aws::Config::read(&mut r)),
            ProviderType::Vault => Self::Vault(vault::Config::read(&mut r, base_dir)),
            ProviderType::GcpSm => Self::GcpSm(gcp_sm::Config::read(&mut r, base_dir)),
            ProviderType::Op => Self::Op(op::Config::read(&mut r)),
            ProviderType::AzureKv => Self::AzureKv(azure_kv::Config::read(&mut r)),
        };
        r.ok.then_some(config)
    }
}

/// Typed access to a provider table, reporting wrong types and unknown keys.
#[derive(Debug)]
pub struct SettingsReader<'a> {
    settings: &'a [Setting],
    diags: &'a mut Vec<Diagnostic>,
    context: &'static str,
    ok: bool,
}

impl SettingsReader<'_> {
    fn find(&self, key: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.key == key)
    }

    fn wrong(&mut self, s: &Setting, expected: &str) {
        self.ok = false;
        self.diags.push(Diagnostic::new(
            format!(
                "`{}` for provider type `{}` must be {expected}, not {}",
                s.key,
                self.context,
                s.value.kind()
            ),
            s.value_span.clone(),
        ));
    }

    pub fn string(&mut self, key: &str) -> Option<(String, Range<usize>)> {
        let s = self.find(key)?.clone();
        match &s.value {
            SettingValue::String(v) => Some((v.clone(), s.value_span.clone())),
            _ => {
                self.wrong(&s, "a string");
                None
            }
        }
    }

    pub fn table(&mut self, key: &str) -> Option<(Vec<Setting>, Range<usize>)> {
        let s = self.find(key)?.clone();
        match &s.value {
            SettingValue::Table(v) => Some((v.clone(), s.value_span.clone())),
            _ => {
                self.wrong(&s, "a table");
                None
            }
        }
    }

    pub fn integer(&mut self, key: &str) -> Option<(i64, Range<usize>)> {
        let s = self.find(key)?.clone();
        match &s.value {
            SettingValue::Integer(v) => Some((*v, s.value_span.clone())),
            _ => {
                self.wrong(&s, "an integer");
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        let s = self.find(key)?.clone();
        match &s.value {
            SettingValue::Bool(v) => Some(*v),
            _ => {
                self.wrong(&s, "true or false");
                None
            }
        }
    }

    pub fn strings(&mut self, key: &str) -> Option<(Vec<String>, Range<usize>)> {
        let s = self.find(key)?.clone();
        match &s.value {
            SettingValue::Strings(v) => Some((v.clone(), s.value_span.clone())),
            _ => {
                self.wrong(&s, "an array of strings");
                None
            }
        }
    }

    /// A whole number within `range`; out of range is reported.
    pub fn number(&mut self, key: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        let (n, span) = self.integer(key)?;
        if range.contains(&n) {
            return Some(n);
        }
        self.invalid(
            format!(
                "`{key}` must be between {} and {}",
                range.start(),
                range.end()
            ),
            span,
            None,
        );
        None
    }

    /// A duration such as `"10s"` or `"500ms"`.
    pub fn duration(&mut self, key: &str) -> Option<std::time::Duration> {
        let (v, span) = self.string(key)?;
        match crate::cli::parse_duration(&v) {
            Ok(d) => Some(d),
            Err(e) => {
                self.invalid(
                    format!("`{key}`: {e}"),
                    span,
                    Some("e.g. \"10s\" or \"500ms\""),
                );
                None
            }
        }
    }

    /// Reports a problem with a value that has the right type but a bad content.
    pub fn invalid(&mut self, message: String, span: Range<usize>, hint: Option<&str>) {
        self.ok = false;
        let mut d = Diagnostic::new(message, span);
        d.hint = hint.map(str::to_owned);
        self.diags.push(d);
    }

    /// Reports every key not in `known`.
    pub fn finish(&mut self, known: &[&str]) {
        for s in self.settings {
            if s.key == "type" || known.contains(&s.key.as_str()) {
                continue;
            }
            self.ok = false;
            let hint = if known.is_empty() {
                format!("the `{}` provider takes no settings", self.context)
            } else {
                match crate::manifest::diag::did_you_mean(&s.key, known.iter().copied()) {
                    Some(near) => {
                        format!(
                            "did you mean `{near}`? expected one of {}",
                            known.join(", ")
                        )
                    }
                    None => format!("expected one of {}", known.join(", ")),
                }
            };
            self.diags.push(
                Diagnostic::new(
                    format!(
                        "unknown key `{}` for provider type `{}`",
                        escape(&s.key),
                        self.context
                    ),
                    s.key_span.clone(),
                )
                .hint(hint),
            );
        }
    }
}

/// One read: a path and its query, without a fragment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Read every value under `path` (an `[[import]]` of a Parameter Store path) as one JSON
    /// object of relative names to values.
    pub tree: bool,
}

impl Request {
    /// The query key that pins a version (`version`, `version_id` or `stage`) and its value.
    pub fn pinned(&self) -> Option<(&str, &str)> {
        self.query
            .iter()
            .find(|(k, _)| matches!(k.as_str(), "version" | "version_id" | "stage"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A connected provider client.
#[derive(Debug)]
pub enum Provider {
    Local(local::LocalStore),
    Env(env::EnvProvider),
    File(file::FileProvider),
    AwsSm(aws_sm::AwsSm),
    AwsSsm(aws_ssm::AwsSsm),
    Vault(Box<vault::Vault>),
    GcpSm(gcp_sm::GcpSm),
    Op(op::OnePassword),
    AzureKv(azure_kv::AzureKv),
}

impl Provider {
    /// Builds the client for an instance. Cheap for local providers; loads credentials
    /// configuration for cloud ones (no network call is made here).
    pub async fn connect(config: &ProviderConfig) -> Result<Self, ProviderError> {
        Ok(match config {
            ProviderConfig::Local(c) => Self::Local(local::LocalStore::open(c)?),
            ProviderConfig::Env => Self::Env(env::EnvProvider),
            ProviderConfig::File => Self::File(file::FileProvider),
            ProviderConfig::AwsSm(c) => Self::AwsSm(aws_sm::AwsSm::connect(c).await?),
            ProviderConfig::AwsSsm(c) => Self::AwsSsm(aws_ssm::AwsSsm::connect(c).await?),
            ProviderConfig::Vault(c) => Self::Vault(Box::new(vault::Vault::connect(c).await?)),
            ProviderConfig::GcpSm(c) => Self::GcpSm(gcp_sm::GcpSm::connect(c).await?),
            ProviderConfig::Op(c) => Self::Op(op::OnePassword::connect(c).await?),
            ProviderConfig::AzureKv(c) => Self::AzureKv(azure_kv::AzureKv::connect(c).await?),
        })
    }

    /// Reads every request, in order; one result per request.
    pub async fn fetch_batch(
        &self,
        requests: &[Request],
    ) -> Vec<Result<SecretValue, ProviderError>> {
        match self {
            Self::Local(p) => p.fetch_batch(requests),
            Self::Env(p) => requests.iter().map(|r| p.fetch(r)).collect(),
            Self::File(p) => p.fetch_batch(requests).await,
            Self::AwsSm(p) => p.fetch_batch(requests).await,
            Self::AwsSsm(p) => p.fetch_batch(requests).await,
            Self::Vault(p) => p.fetch_batch(requests).await,
            Self::GcpSm(p) => p.fetch_batch(requests).await,
            Self::Op(p) => p.fetch_batch(requests).await,
            Self::AzureKv(p) => p.fetch_batch(requests).await,
        }
    }

    /// Names under `prefix`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, ProviderError> {
        match self {
            Self::Local(p) => p.list(prefix),
            Self::AwsSm(p) => p.list(prefix).await,
            Self::AwsSsm(p) => p.list(prefix).await,
            Self::Vault(p) => p.list(prefix).await,
            Self::GcpSm(p) => p.list(prefix).await,
            Self::Env(_) | Self::File(_) | Self::Op(_) | Self::AzureKv(_) => {
                Err(self.unsupported("listing"))
            }
        }
    }

    pub async fn set(&self, path: &str, value: SecretValue) -> Result<(), ProviderError> {
        match self {
            Self::Local(p) => p.set(path, value),
            Self::AwsSm(p) => p.set(path, value).await,
            Self::AwsSsm(p) => p.set(path, value).await,
            Self::Vault(p) => p.set(path, value).await,
            Self::GcpSm(p) => p.set(path, value).await,
            Self::Env(_) | Self::File(_) | Self::Op(_) | Self::AzureKv(_) => {
                Err(self.unsupported("writing"))
            }
        }
    }

    /// Deletes `path`; `force` skips a recovery window where the provider has one.
    /// `version`: the one version to destroy, from [`ProviderType::check_removal`].
    pub async fn remove(
        &self,
        path: &str,
        version: Option<&str>,
        force: bool,
    ) -> Result<(), ProviderError> {
        match self {
            Self::Local(p) => p.remove(path),
            Self::AwsSm(p) => p.remove(path, force).await,
            Self::AwsSsm(p) => p.remove(path).await,
            Self::Vault(p) => p.remove(path, force).await,
            Self::GcpSm(p) => p.remove(path, version).await,
            Self::Env(_) | Self::File(_) | Self::Op(_) | Self::AzureKv(_) => {
                Err(self.unsupported("deleting"))
            }
        }
    }
}

impl Provider {
    /// Whether the provider holds leases or tokens to renew while the command runs, or to
    /// revoke after it exits.
    pub fn has_upkeep(&self) -> bool {
        match self {
            Self::Vault(p) => p.has_upkeep(),
            _ => false,
        }
    }

    /// Variables sx read its own credentials from (`env://` in the provider's settings):
    /// they are not passed on to the command.
    pub fn consumed_variables(&self) -> Vec<String> {
        match self {
            Self::Vault(p) => p.consumed_variables(),
            Self::Op(p) => p.consumed.clone(),
            _ => Vec::new(),
        }
    }

    /// Whether values were leased (dynamic secrets), which a re-read would issue anew.
    pub fn has_leases(&self) -> bool {
        match self {
            Self::Vault(p) => p.has_leases(),
            _ => false,
        }
    }

    /// Renews what needs renewing; runs until dropped.
    pub async fn keep_alive(&self) {
        match self {
            Self::Vault(p) => p.keep_alive().await,
            _ => std::future::pending().await,
        }
    }

    /// Revokes leases and login tokens as configured, once the values are no longer needed.
    pub async fn shutdown(&self) {
        if let Self::Vault(p) = self {
            p.shutdown(true).await;
        }
    }

    /// Revokes only what sx holds for itself (a login token): the values handed out (`get`,
    /// `export`) must stay valid after sx exits.
    pub async fn release(&self) {
        if let Self::Vault(p) = self {
            p.shutdown(false).await;
        }
    }
}

/// The variables named by `env://` credentials in a provider's settings: sx reads them for
/// itself, so they are taken out of the command's environment.
pub fn credential_variables(values: &[Option<&str>]) -> Vec<String> {
    values
        .iter()
        .flatten()
        .filter_map(|v| v.strip_prefix("env://"))
        .map(str::to_owned)
        .collect()
}

/// Reads a credential given as a reference (`env://`, `file://`) or, for non-secret values
/// such as a role id, as plain text.
pub fn credential(value: &str, what: &str) -> Result<SecretValue, ProviderError> {
    if !looks_like_reference(value) {
        return Ok(SecretValue::from_slice(value.as_bytes()));
    }
    let r = Reference::parse(value)
        .map_err(|e| ProviderError::new(ErrorKind::Malformed, format!("{what}: {}", e.message)))?;
    let req = Request {
        path: r.path.clone(),
        query: Vec::new(),
        tree: false,
    };
    let v = match r.scheme.as_str() {
        "env" => env::EnvProvider.fetch(&req),
        "file" => file::FileProvider.fetch(&req),
        other => {
            return Err(ProviderError::new(
                ErrorKind::Unsupported,
                format!("{what}: `{other}://` cannot hold a vault credential"),
            )
            .hint("use env://NAME or file:///path"));
        }
    }
    .map_err(|e| ProviderError::new(e.kind, format!("{what}: {}", e.message)))?;
    // Files and variables often end with a newline that is not part of the credential.
    let trimmed = v.expose().trim_ascii_end();
    Ok(SecretValue::from_slice(trimmed))
}

impl Provider {
    fn ty(&self) -> ProviderType {
        match self {
            Self::Local(_) => ProviderType::Local,
            Self::Env(_) => ProviderType::Env,
            Self::File(_) => ProviderType::File,
            Self::AwsSm(_) => ProviderType::AwsSm,
            Self::AwsSsm(_) => ProviderType::AwsSsm,
            Self::Vault(_) => ProviderType::Vault,
            Self::GcpSm(_) => ProviderType::GcpSm,
            Self::Op(_) => ProviderType::Op,
            Self::AzureKv(_) => ProviderType::AzureKv,
        }
    }

    fn unsupported(&self, what: &str) -> ProviderError {
        let ty = self.ty().name();
        let hint = match self {
            Self::Op(_) => {
                "manage 1Password items with 1Password itself (the app or `op`); sx reads them"
            }
            Self::AzureKv(_) => "manage Key Vault secrets with `az keyvault secret`; sx reads them",
            _ => {
                "sx reads these; local, aws-sm, aws-ssm, vault and gcp-sm can also be listed, written and deleted"
            }
        };
        ProviderError::new(
            ErrorKind::Unsupported,
            format!("the {ty} provider does not support {what}"),
        )
        .hint(hint)
    }
}
