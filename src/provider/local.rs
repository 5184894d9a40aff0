//! `local://NAME`: the embedded default, an age-encrypted store on this machine.
//!
//! The store is one ordinary age file (X25519 recipients) whose plaintext is JSON:
//! `{"sx_store":1,"secrets":{"NAME":"<base64>"}}`. The `age` command-line tool decrypts it
//! with the same identity. Every write re-encrypts the whole file to the configured
//! recipients plus the writer's own, under a lock, and replaces it atomically.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::x25519;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::reference::escape;
use crate::provider::{Request, SettingsReader};
use crate::secret::SecretValue;

/// Variable holding identity text itself (for CI, where a file is awkward).
pub const IDENTITY_VAR: &str = "SX_AGE_IDENTITY";
/// Variable holding the path of an identity file.
pub const IDENTITY_FILE_VAR: &str = "SX_AGE_IDENTITY_FILE";

/// `[providers.local]` settings.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Store file; default `$XDG_CONFIG_HOME/sx/store.age`.
    pub path: Option<PathBuf>,
    /// Identity file; default `$XDG_CONFIG_HOME/sx/identity.txt`.
    pub identity: Option<PathBuf>,
    /// Extra recipients every write encrypts to, so a team can share one store.
    pub recipients: Vec<String>,
}

impl Config {
    pub fn read(r: &mut SettingsReader<'_>, base_dir: &Path) -> Self {
        let mut c = Self::default();
        if let Some((p, _)) = r.string("path") {
            c.path = Some(base_dir.join(p));
        }
        if let Some((p, _)) = r.string("identity") {
            c.identity = Some(base_dir.join(p));
        }
        if let Some((list, span)) = r.strings("recipients") {
            for rec in &list {
                if x25519::Recipient::from_str(rec).is_err() {
                    r.invalid(
                        format!("`{}` is not an age X25519 recipient", escape(rec)),
                        span.clone(),
                        Some("recipients look like age1...; `age-keygen -y IDENTITY` prints one"),
                    );
                }
            }
            c.recipients = list;
        }
        r.finish(&["path", "identity", "recipients"]);
        c
    }
}

pub fn check_name(name: &str) -> Result<(), (String, Option<String>)> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(())
    } else {
        Err((
            format!("`{}` is not a valid local secret name", escape(name)),
            Some("names use letters, digits, `-`, `_`, `.` and `/`".into()),
        ))
    }
}

/// The folder of sx's own configuration: `$XDG_CONFIG_HOME/sx`, else `~/.config/sx`.
pub fn config_dir() -> Result<PathBuf, ProviderError> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Ok(PathBuf::from(x).join("sx"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".config").join("sx"))
        .ok_or_else(|| {
            ProviderError::new(ErrorKind::Other, "neither XDG_CONFIG_HOME nor HOME is set")
                .hint("set XDG_CONFIG_HOME, or give `path` and `identity` in [providers.local]")
        })
}

pub fn default_store_path() -> Result<PathBuf, ProviderError> {
    Ok(config_dir()?.join("store.age"))
}

pub fn default_identity_path() -> Result<PathBuf, ProviderError> {
    Ok(config_dir()?.join("identity.txt"))
}

/// An open store: its path, the identities that decrypt it and the recipients writes use.
pub struct LocalStore {
    path: PathBuf,
    identities: Vec<x25519::Identity>,
    /// Where the identities came from, for messages: `SX_AGE_IDENTITY`, or a file and who named it.
    identity_origin: String,
    recipients: Vec<x25519::Recipient>,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore")
            .field("path", &self.path)
            .field("identities", &self.identities.len())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize, Default)]
struct StoreDoc {
    sx_store: u32,
    secrets: BTreeMap<String, String>,
}

impl Drop for StoreDoc {
    fn drop(&mut self) {
        for v in self.secrets.values_mut() {
            v.zeroize();
        }
    }
}

impl LocalStore {
    pub fn open(config: &Config) -> Result<Self, ProviderError> {
        let path = match &config.path {
            Some(p) => p.clone(),
            None => default_store_path()?,
        };
        let (identities, identity_origin) = load_identities(config)?;
        let mut recipients: Vec<x25519::Recipient> =
            identities.iter().map(x25519::Identity::to_public).collect();
        for r in &config.recipients {
            // Checked at plan time; skip quietly if one slipped through.
            if let Ok(r) = x25519::Recipient::from_str(r)
                && !recipients
                    .iter()
                    .any(|have| have.to_string() == r.to_string())
            {
                recipients.push(r);
            }
        }
        Ok(Self {
            path,
            identities,
            identity_origin,
            recipients,
        })
    }

    fn read_doc(&self) -> Result<StoreDoc, ProviderError> {
        let shown = escape(&self.path.display().to_string());
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ProviderError::new(
                    ErrorKind::NotFound,
                    format!("local store `{shown}` does not exist"),
                )
                .hint("`sx init` creates the default store; `sx set` creates a store named by `path` in [providers.local]"));
            }
            Err(e) => {
                return Err(ProviderError::new(
                    ErrorKind::Denied,
                    format!("cannot open local store `{shown}`: {e}"),
                ));
            }
        };
        let mut cipher = Vec::new();
        file.read_to_end(&mut cipher).map_err(|e| {
            ProviderError::new(ErrorKind::Other, format!("cannot read `{shown}`: {e}"))
        })?;
        let decryptor = age::Decryptor::new(&cipher[..]).map_err(|e| {
            ProviderError::new(
                ErrorKind::Malformed,
                format!("`{shown}` is not an age file: {e}"),
            )
        })?;
        let mut reader = decryptor
            .decrypt(self.identities.iter().map(|i| i as &dyn age::Identity))
            .map_err(|e| {
                let public: Vec<String> = self
                    .identities
                    .iter()
                    .map(|i| i.to_public().to_string())
                    .collect();
                ProviderError::new(
                    ErrorKind::Auth,
                    format!(
                        "cannot decrypt local store `{shown}` with the identity {} (public key {}): {e}",
                        self.identity_origin,
                        public.join(", ")
                    ),
                )
                .hint(
                    "that identity is not a recipient of this store: use the one that made it, or have a recipient add this public key to `recipients` in [providers.local] and run `sx set` once",
                )
            })?;
        let mut plain = Zeroizing::new(Vec::new());
        reader.read_to_end(&mut plain).map_err(|e| {
            ProviderError::new(
                ErrorKind::Malformed,
                format!("cannot decrypt `{shown}`: {e}"),
            )
        })?;
        let doc: StoreDoc = serde_json::from_slice(&plain).map_err(|e| {
            // serde_json's message names a position and an expectation, never the content.
            ProviderError::new(
                ErrorKind::Malformed,
                format!("local store `{shown}` is not an sx store: {e}"),
            )
        })?;
        if doc.sx_store != 1 {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                format!(
                    "local store `{shown}` has format {}, this sx reads 1",
                    doc.sx_store
                ),
            ));
        }
        Ok(doc)
    }

    fn write_doc(&self, doc: &StoreDoc) -> Result<(), ProviderError> {
        let shown = escape(&self.path.display().to_string());
        let fail = |what: &str, e: std::io::Error| {
            ProviderError::new(ErrorKind::Other, format!("cannot {what} `{shown}`: {e}"))
        };
        let plain = Zeroizing::new(
            serde_json::to_vec(doc)
                .map_err(|e| ProviderError::new(ErrorKind::Other, e.to_string()))?,
        );
        let encryptor = age::Encryptor::with_recipients(
            self.recipients.iter().map(|r| r as &dyn age::Recipient),
        )
        .map_err(|e| ProviderError::new(ErrorKind::Other, format!("cannot encrypt: {e}")))?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            self.path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("store"),
            std::process::id()
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(|e| fail("write", e))?;
        let result = (|| {
            let mut w = encryptor.wrap_output(&file)?;
            w.write_all(&plain)?;
            w.finish()?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(fail("write", e));
        }
        Ok(())
    }

    /// Holds the store's lock for a read-modify-write.
    fn lock(&self) -> Result<nix::fcntl::Flock<File>, ProviderError> {
        let lock_path = self.path.with_file_name(format!(
            ".{}.lock",
            self.path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("store")
        ));
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| {
                ProviderError::new(ErrorKind::Other, format!("cannot lock the store: {e}"))
            })?;
        nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, e)| {
            ProviderError::new(ErrorKind::Other, format!("cannot lock the store: {e}"))
        })
    }

    /// Decrypts the store once and answers every request from it.
    pub fn fetch_batch(&self, requests: &[Request]) -> Vec<Result<SecretValue, ProviderError>> {
        let doc = match self.read_doc() {
            Ok(d) => d,
            Err(e) => return requests.iter().map(|_| Err(e.clone())).collect(),
        };
        requests
            .iter()
            .map(|r| {
                let Some(b64) = doc.secrets.get(&r.path) else {
                    return Err(ProviderError::new(
                        ErrorKind::NotFound,
                        format!("no secret `{}` in the local store", escape(&r.path)),
                    )
                    .hint("`sx ls local://` lists the names; `sx set local://NAME` adds one"));
                };
                B64.decode(b64).map(SecretValue::new).map_err(|_| {
                    ProviderError::new(
                        ErrorKind::Malformed,
                        format!(
                            "secret `{}` in the local store is not valid base64",
                            escape(&r.path)
                        ),
                    )
                })
            })
            .collect()
    }

    pub fn list(&self, prefix: &str) -> Result<Vec<String>, ProviderError> {
        let doc = self.read_doc()?;
        Ok(doc
            .secrets
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    pub fn set(&self, name: &str, value: SecretValue) -> Result<(), ProviderError> {
        check_name(name).map_err(|(m, h)| {
            let e = ProviderError::new(ErrorKind::Malformed, m);
            match h {
                Some(h) => e.hint(h),
                None => e,
            }
        })?;
        let _lock = self.lock()?;
        // The first write to a store named in the manifest creates it.
        let mut doc = if self.path.exists() {
            self.read_doc()?
        } else {
            StoreDoc {
                sx_store: 1,
                secrets: BTreeMap::new(),
            }
        };
        if let Some(mut old) = doc
            .secrets
            .insert(name.to_owned(), B64.encode(value.expose()))
        {
            old.zeroize();
        }
        self.write_doc(&doc)
    }

    pub fn remove(&self, name: &str) -> Result<(), ProviderError> {
        let _lock = self.lock()?;
        let mut doc = self.read_doc()?;
        match doc.secrets.remove(name) {
            Some(mut old) => {
                old.zeroize();
                self.write_doc(&doc)
            }
            None => Err(ProviderError::new(
                ErrorKind::NotFound,
                format!("no secret `{}` in the local store", escape(name)),
            )
            .hint("`sx ls local://` lists the names")),
        }
    }
}

/// Where the identity comes from, in order: `SX_AGE_IDENTITY`, `SX_AGE_IDENTITY_FILE`, the
/// `identity` setting, the default file.
fn load_identities(config: &Config) -> Result<(Vec<x25519::Identity>, String), ProviderError> {
    if let Some(text) = std::env::var_os(IDENTITY_VAR).filter(|v| !v.is_empty()) {
        let text = Zeroizing::new(text.to_string_lossy().into_owned());
        return parse_identities(&text, IDENTITY_VAR).map(|i| (i, IDENTITY_VAR.to_owned()));
    }
    let (path, origin) =
        if let Some(p) = std::env::var_os(IDENTITY_FILE_VAR).filter(|v| !v.is_empty()) {
            (PathBuf::from(p), IDENTITY_FILE_VAR.to_owned())
        } else if let Some(p) = &config.identity {
            (p.clone(), "`identity` in [providers.local]".to_owned())
        } else {
            (default_identity_path()?, "the default location".to_owned())
        };
    let shown = escape(&path.display().to_string());
    let mut text = Zeroizing::new(String::new());
    match File::open(&path) {
        Ok(mut f) => {
            if let Ok(meta) = f.metadata()
                && meta.permissions().mode() & 0o077 != 0
            {
                // Git checkouts (like the demo's) lose the mode, so this is not a warning.
                tracing::info!(
                    "identity file `{shown}` is readable by other users; consider chmod 600"
                );
            }
            f.read_to_string(&mut text)
                .map_err(|e| unreadable(&shown, &origin, &e))?;
        }
        Err(e) => return Err(unreadable(&shown, &origin, &e)),
    }
    parse_identities(&text, &format!("`{shown}`"))
        .map(|i| (i, format!("`{shown}` (from {origin})")))
}

/// The identity file cannot be read; the hint depends on who named it.
fn unreadable(shown: &str, origin: &str, e: &std::io::Error) -> ProviderError {
    let hint = if origin == IDENTITY_FILE_VAR {
        format!("fix or unset {IDENTITY_FILE_VAR}")
    } else if origin.starts_with('`') {
        "fix `identity` in [providers.local]".to_owned()
    } else {
        format!("run `sx init` to create one, or set {IDENTITY_FILE_VAR} / {IDENTITY_VAR}")
    };
    ProviderError::new(
        ErrorKind::Auth,
        format!("cannot read age identity `{shown}` (from {origin}): {e}"),
    )
    .hint(hint)
}

/// Reads `AGE-SECRET-KEY-1...` lines; `#` comments and blank lines are skipped, as age does.
pub fn parse_identities(text: &str, origin: &str) -> Result<Vec<x25519::Identity>, ProviderError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match x25519::Identity::from_str(line) {
            Ok(i) => out.push(i),
            Err(_) => {
                // The line may be key material: name its number, never its text.
                return Err(ProviderError::new(
                    ErrorKind::Auth,
                    format!("line {} of {origin} is not an age X25519 identity", n + 1),
                )
                .hint(
                    "identities look like AGE-SECRET-KEY-1...; `sx init` or `age-keygen` makes one",
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(ProviderError::new(
            ErrorKind::Auth,
            format!("{origin} holds no age identity"),
        ));
    }
    Ok(out)
}

/// Writes a new identity file (0600) and returns its public recipient.
pub fn create_identity(path: &Path) -> std::io::Result<String> {
    let identity = x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    // Mode on create is masked by the umask; set it exactly.
    f.set_permissions(fs::Permissions::from_mode(0o600))?;
    let secret = identity.to_string();
    writeln!(f, "# sx local store identity")?;
    writeln!(f, "# public key: {public}")?;
    writeln!(f, "{}", secret.expose_secret())?;
    f.sync_all()?;
    Ok(public)
}

/// Creates an empty store at `path` encrypted to `identity_path`'s key plus `recipients`.
pub fn create_store(
    path: &Path,
    identity_path: &Path,
    recipients: &[String],
) -> Result<(), ProviderError> {
    let store = LocalStore::open(&Config {
        path: Some(path.to_path_buf()),
        identity: Some(identity_path.to_path_buf()),
        recipients: recipients.to_vec(),
    })?;
    store.write_doc(&StoreDoc {
        sx_store: 1,
        secrets: BTreeMap::new(),
    })
}
