//! A loopback fake of Google Cloud Secret Manager's REST API (v1), faithful to the published
//! surface sx uses: access, get, list with page tokens, create (which must name a
//! replication policy), add version, delete, destroy, enable and disable, with the service's
//! error bodies (`{"error":{"code":404,"status":"NOT_FOUND",...}}`, 403 PERMISSION_DENIED
//! with its `ErrorInfo`), base64 payloads with `dataCrc32c`, and bearer tokens checked: a
//! service-account JWT signed with the key the test made, or an access token the fake issued
//! itself from one of Google's two token endpoints, `POST /token` (OAuth 2.0 refresh, for
//! gcloud user credentials) and `POST /v1/token` (STS token exchange, for workload identity
//! federation).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use serde_json::{Value as Json, json};

use crate::support::{HttpRequest, openssl, serve_http};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Enabled,
    Disabled,
    Destroyed,
}

#[derive(Debug)]
struct Version {
    data: Vec<u8>,
    state: State,
    /// A checksum to send instead of the right one (to test verification).
    wrong_crc: bool,
}

#[derive(Debug, Default)]
struct SecretRec {
    versions: Vec<Version>,
    aliases: BTreeMap<String, usize>,
}

#[derive(Default)]
struct Store {
    secrets: BTreeMap<(String, String), SecretRec>,
    verified: HashSet<String>,
    log: Vec<String>,
    /// Answers to give instead of serving: (status, grpc status) for the next requests.
    faults: Vec<(u16, &'static str)>,
    /// (permission, resource) pairs the caller lacks; a resource covers what is under it.
    denied: Vec<(String, String)>,
    /// Bodies of the create calls, as sent.
    created: Vec<Json>,
    /// Access tokens handed out by the token endpoints.
    issued: usize,
    /// How long each access call takes, and how many were in progress at once at most.
    access_delay: Duration,
    in_flight: usize,
    max_in_flight: usize,
}

/// The OAuth client and refresh token of the gcloud user the fake knows
/// (`gcloud auth application-default login` writes them to an `authorized_user` file).
pub const USER_CLIENT_ID: &str = "764086051850-sxtest.apps.googleusercontent.com";
pub const USER_CLIENT_SECRET: &str = "d-FL95Q19q7MQmFpd7hHD0Ty";
pub const USER_REFRESH_TOKEN: &str = "1//0sx-refresh-token-canary-7Hq";

/// The workload identity pool provider the fake's STS accepts tokens for, and the one
/// subject token (as a CI system's OIDC token file holds it) it accepts.
pub const WIF_AUDIENCE: &str = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci/providers/gitlab";
pub const WIF_SUBJECT_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.sx-oidc-subject-canary-3Kd.c2ln";

pub struct GcpFake {
    pub port: u16,
    pub client_email: String,
    pub key_file: PathBuf,
    public_key: PathBuf,
    store: Arc<Mutex<Store>>,
    dir: tempfile::TempDir,
}

impl GcpFake {
    /// Starts the fake with a fresh service-account key; `key_file` is a key file in the
    /// format GOOGLE_APPLICATION_CREDENTIALS expects.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let private = dir.path().join("sa.pem");
        let public = dir.path().join("sa.pub.pem");
        let p = private.to_str().expect("utf8");
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            p,
        ]);
        openssl(&[
            "pkey",
            "-in",
            p,
            "-pubout",
            "-out",
            public.to_str().expect("utf8"),
        ]);
        let client_email = "sx-test@acme-test.iam.gserviceaccount.com".to_owned();
        let store = Arc::new(Mutex::new(Store::default()));
        let (email, key, state) = (client_email.clone(), public.clone(), Arc::clone(&store));
        let port = serve_http(move |req| {
            let access = req.method == "GET" && req.target.contains(":access");
            if !access {
                return route(req, &email, &key, &state);
            }
            let delay = {
                let mut s = state.lock().expect("lock");
                s.in_flight += 1;
                s.max_in_flight = s.max_in_flight.max(s.in_flight);
                s.access_delay
            };
            std::thread::sleep(delay);
            let answer = route(req, &email, &key, &state);
            state.lock().expect("lock").in_flight -= 1;
            answer
        });
        let key = json!({
            "type": "service_account",
            "project_id": "acme-test",
            "private_key_id": "key-1",
            "private_key": std::fs::read_to_string(&private).expect("read"),
            "client_email": client_email,
            "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": format!("http://127.0.0.1:{port}/token"),
        });
        let key_file = dir.path().join("key.json");
        std::fs::write(&key_file, serde_json::to_vec_pretty(&key).expect("json")).expect("write");
        Self {
            port,
            client_email,
            key_file,
            public_key: public,
            store: Arc::clone(&store),
            dir,
        }
    }

    /// Writes an `authorized_user` file, as `gcloud auth application-default login` does,
    /// for the fake's OAuth client with this refresh token, its `token_uri` the fake's.
    pub fn authorized_user_file(&self, refresh_token: &str) -> PathBuf {
        let file = json!({
            "type": "authorized_user",
            "client_id": USER_CLIENT_ID,
            "client_secret": USER_CLIENT_SECRET,
            "refresh_token": refresh_token,
            "token_uri": format!("http://127.0.0.1:{}/token", self.port),
        });
        let path = self.dir.path().join("application_default_credentials.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&file).expect("json")).expect("write");
        path
    }

    /// Writes an `external_account` file for workload identity federation, as
    /// `gcloud iam workload-identity-pools create-cred-config --credential-source-file`
    /// does: the subject token is read from `token_file`, exchanged at the fake's STS.
    pub fn external_account_file(&self, token_file: &Path) -> PathBuf {
        let file = json!({
            "type": "external_account",
            "audience": WIF_AUDIENCE,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": format!("http://127.0.0.1:{}/v1/token", self.port),
            "credential_source": {"file": token_file.to_str().expect("utf8")},
        });
        let path = self.dir.path().join("external-account.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&file).expect("json")).expect("write");
        path
    }

    /// The caller lacks `permission` on `resource` and everything under it, e.g.
    /// `secretmanager.versions.access` on `projects/P/secrets/S`.
    pub fn deny(&self, permission: &str, resource: &str) {
        self.store
            .lock()
            .expect("lock")
            .denied
            .push((permission.into(), resource.into()));
    }

    /// Every access call takes this long (to see how many run at once).
    pub fn delay_access(&self, d: Duration) {
        self.store.lock().expect("lock").access_delay = d;
    }

    /// The most access calls that were in progress at one time.
    pub fn max_access_in_flight(&self) -> usize {
        self.store.lock().expect("lock").max_in_flight
    }

    /// The bodies of the create calls, as sent.
    pub fn created(&self) -> Vec<Json> {
        self.store.lock().expect("lock").created.clone()
    }

    /// How many access tokens the token endpoints handed out.
    pub fn issued(&self) -> usize {
        self.store.lock().expect("lock").issued
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Adds a version (creating the secret); returns its number.
    pub fn add(&self, project: &str, secret: &str, data: &[u8]) -> usize {
        let mut s = self.store.lock().expect("lock");
        let rec = s
            .secrets
            .entry((project.into(), secret.into()))
            .or_default();
        rec.versions.push(Version {
            data: data.to_vec(),
            state: State::Enabled,
            wrong_crc: false,
        });
        rec.versions.len()
    }

    pub fn set_state(&self, project: &str, secret: &str, version: usize, state: State) {
        let mut s = self.store.lock().expect("lock");
        s.secrets
            .get_mut(&(project.into(), secret.into()))
            .expect("secret")
            .versions[version - 1]
            .state = state;
    }

    pub fn corrupt_checksum(&self, project: &str, secret: &str, version: usize) {
        let mut s = self.store.lock().expect("lock");
        s.secrets
            .get_mut(&(project.into(), secret.into()))
            .expect("secret")
            .versions[version - 1]
            .wrong_crc = true;
    }

    pub fn alias(&self, project: &str, secret: &str, alias: &str, version: usize) {
        let mut s = self.store.lock().expect("lock");
        s.secrets
            .get_mut(&(project.into(), secret.into()))
            .expect("secret")
            .aliases
            .insert(alias.into(), version);
    }

    /// Makes the next requests fail with these HTTP statuses (429, 503...).
    pub fn fail_next(&self, faults: &[(u16, &'static str)]) {
        self.store.lock().expect("lock").faults = faults.to_vec();
    }

    pub fn data(&self, project: &str, secret: &str) -> Option<Vec<(Vec<u8>, State)>> {
        let s = self.store.lock().expect("lock");
        s.secrets.get(&(project.into(), secret.into())).map(|r| {
            r.versions
                .iter()
                .map(|v| (v.data.clone(), v.state))
                .collect()
        })
    }

    /// Requests seen, as `METHOD path`.
    pub fn log(&self) -> Vec<String> {
        self.store.lock().expect("lock").log.clone()
    }
}

/// A metadata server that accepts connections and never answers (a firewall that drops
/// packets after the handshake, a hung proxy); returns its `host:port` and how many
/// connections it took.
pub fn mute_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let taken = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&taken);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(conn);
        }
    });
    (addr, taken)
}

fn error(code: u16, status: &str, message: &str) -> (u16, Json) {
    (
        code,
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

fn verify_jwt(jwt: &str, email: &str, public: &Path) -> bool {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return false;
    };
    let claims: Json = match B64URL
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(c) => c,
        None => return false,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if claims["iss"] != email || claims["exp"].as_u64().unwrap_or(0) < now {
        return false;
    }
    let Ok(sig) = B64URL.decode(s) else {
        return false;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("in");
    let sigf = dir.path().join("sig");
    std::fs::write(&input, format!("{h}.{p}")).expect("write");
    std::fs::write(&sigf, sig).expect("write");
    std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(public)
        .arg("-signature")
        .arg(&sigf)
        .arg(&input)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn state_json(s: State, ints: bool) -> Json {
    match (s, ints) {
        (State::Enabled, false) => json!("ENABLED"),
        (State::Disabled, false) => json!("DISABLED"),
        (State::Destroyed, false) => json!("DESTROYED"),
        (State::Enabled, true) => json!(1),
        (State::Disabled, true) => json!(2),
        (State::Destroyed, true) => json!(3),
    }
}

/// Google's answer when the caller lacks `permission` on `resource` (or on something above
/// it): 403 with the IAM `ErrorInfo` detail.
fn denied(s: &Store, permission: &str, resource: &str) -> Option<(u16, Json)> {
    let lacks = s
        .denied
        .iter()
        .any(|(p, r)| p == permission && (resource == r || resource.starts_with(&format!("{r}/"))));
    lacks.then(|| {
        (
            403,
            json!({"error": {
                "code": 403,
                "message": format!("Permission '{permission}' denied for resource '{resource}' (or it may not exist)."),
                "status": "PERMISSION_DENIED",
                "details": [{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "IAM_PERMISSION_DENIED",
                    "domain": "iam.googleapis.com",
                    "metadata": {"permission": permission, "resource": resource},
                }],
            }}),
        )
    })
}

/// The fields of a token request: google-cloud-auth sends the OAuth refresh as JSON and the
/// STS exchange form-encoded; Google's endpoints take either.
fn token_params(req: &HttpRequest) -> BTreeMap<String, String> {
    let json = req
        .headers
        .get("content-type")
        .is_some_and(|t| t.starts_with("application/json"));
    if json {
        let value: Json = serde_json::from_slice(&req.body).unwrap_or(Json::Null);
        return value
            .as_object()
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(&req.body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn oauth_error(code: u16, error: &str, description: &str) -> (u16, Json) {
    (
        code,
        json!({"error": error, "error_description": description}),
    )
}

/// A fresh access token, accepted by the API from now on.
fn issue(store: &Mutex<Store>) -> String {
    let mut random = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))
        .expect("urandom");
    let token = format!("ya29.{}", B64URL.encode(random));
    let mut s = store.lock().expect("lock");
    s.issued += 1;
    s.verified.insert(token.clone());
    token
}

/// `POST /token`, the OAuth 2.0 refresh-token grant behind gcloud user credentials
/// (`oauth2.googleapis.com/token`).
fn refresh_token_grant(req: &HttpRequest, store: &Mutex<Store>) -> (u16, Json) {
    let f = token_params(req);
    let field = |k: &str| f.get(k).map_or("", String::as_str);
    if field("grant_type") != "refresh_token" {
        return oauth_error(
            400,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {}", field("grant_type")),
        );
    }
    if field("client_id") != USER_CLIENT_ID || field("client_secret") != USER_CLIENT_SECRET {
        return oauth_error(401, "invalid_client", "Unauthorized");
    }
    if field("refresh_token") != USER_REFRESH_TOKEN {
        return oauth_error(400, "invalid_grant", "Bad Request");
    }
    let scope = f.get("scope").map_or(
        "https://www.googleapis.com/auth/cloud-platform openid https://www.googleapis.com/auth/userinfo.email",
        String::as_str,
    );
    (
        200,
        json!({
            "access_token": issue(store),
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": scope,
        }),
    )
}

/// `POST /v1/token`, the STS token exchange behind workload identity federation
/// (`sts.googleapis.com/v1/token`): the subject token for a federated access token.
fn sts_exchange(req: &HttpRequest, store: &Mutex<Store>) -> (u16, Json) {
    let f = token_params(req);
    let field = |k: &str| f.get(k).map_or("", String::as_str);
    if field("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" {
        return oauth_error(
            400,
            "unsupported_grant_type",
            &format!("Unsupported grant_type: {}", field("grant_type")),
        );
    }
    if field("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token" {
        return oauth_error(
            400,
            "invalid_request",
            "Invalid value for \"requested_token_type\".",
        );
    }
    if field("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt" {
        return oauth_error(
            400,
            "invalid_request",
            "Invalid value for \"subject_token_type\".",
        );
    }
    if field("audience") != WIF_AUDIENCE {
        return oauth_error(
            400,
            "invalid_target",
            "The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.",
        );
    }
    if field("subject_token") != WIF_SUBJECT_TOKEN {
        return oauth_error(
            400,
            "invalid_grant",
            "The provided subject token is invalid or its signature could not be verified.",
        );
    }
    (
        200,
        json!({
            "access_token": issue(store),
            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "token_type": "Bearer",
            "expires_in": 3600,
        }),
    )
}

fn route(req: &HttpRequest, email: &str, public: &Path, store: &Mutex<Store>) -> (u16, Json) {
    let method = req.method.as_str();
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned();
    let query = percent_encoding::percent_decode_str(query)
        .decode_utf8_lossy()
        .into_owned();
    let ints = query.contains("enum-encoding=int");
    store
        .lock()
        .expect("lock")
        .log
        .push(format!("{method} {path}"));
    // Google's two token endpoints, at the URLs the credential files name.
    match (method, path.as_str()) {
        ("POST", "/token") => return refresh_token_grant(req, store),
        ("POST", "/v1/token") => return sts_exchange(req, store),
        _ => {}
    }
    {
        let mut s = store.lock().expect("lock");
        if !s.faults.is_empty() {
            let (code, status) = s.faults.remove(0);
            return error(code, status, "the service is busy; try again");
        }
    }
    // Bearer check: an access token the fake issued, or a self-signed service-account JWT,
    // verified with the key's public half.
    let auth = req.headers.get("authorization").map_or("", String::as_str);
    let Some(token) = auth.strip_prefix("Bearer ") else {
        return error(
            401,
            "UNAUTHENTICATED",
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        );
    };
    let known = store.lock().expect("lock").verified.contains(token);
    if !known {
        if !verify_jwt(token, email, public) {
            return error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            );
        }
        store
            .lock()
            .expect("lock")
            .verified
            .insert(token.to_owned());
    }
    let body = req.body.as_slice();

    let segs: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    let q = |k: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .map(str::to_owned)
    };
    let mut s = store.lock().expect("lock");
    match (method, segs.as_slice()) {
        // GET projects/P/secrets/S/versions/V:access
        ("GET", ["projects", p, "secrets", sname, "versions", v]) if v.ends_with(":access") => {
            let v = v.trim_end_matches(":access");
            let name = format!("projects/{p}/secrets/{sname}");
            if let Some(no) = denied(
                &s,
                "secretmanager.versions.access",
                &format!("{name}/versions/{v}"),
            ) {
                return no;
            }
            let Some(rec) = s.secrets.get(&((*p).to_owned(), (*sname).to_owned())) else {
                return error(
                    404,
                    "NOT_FOUND",
                    &format!("Secret [{name}] not found or has no versions."),
                );
            };
            let n = match v {
                // "an alias to the most recently created SecretVersion", whatever its state.
                "latest" => Some(rec.versions.len()),
                num if num.parse::<usize>().is_ok() => num.parse().ok(),
                alias => rec.aliases.get(alias).copied(),
            };
            let Some(n) = n.filter(|n| *n >= 1 && *n <= rec.versions.len()) else {
                return error(
                    404,
                    "NOT_FOUND",
                    &format!("Secret Version [{name}/versions/{v}] not found."),
                );
            };
            let ver = &rec.versions[n - 1];
            match ver.state {
                State::Disabled => {
                    return error(
                        400,
                        "FAILED_PRECONDITION",
                        &format!("Secret Version [{name}/versions/{n}] is in DISABLED state."),
                    );
                }
                State::Destroyed => {
                    return error(
                        400,
                        "FAILED_PRECONDITION",
                        &format!("Secret Version [{name}/versions/{n}] is in DESTROYED state."),
                    );
                }
                State::Enabled => {}
            }
            let mut crc = crc32c::crc32c(&ver.data);
            if ver.wrong_crc {
                crc ^= 0xdead_beef;
            }
            (
                200,
                json!({
                    "name": format!("{name}/versions/{n}"),
                    "payload": {"data": B64.encode(&ver.data), "dataCrc32c": crc.to_string()},
                }),
            )
        }
        // GET projects/P/secrets (list, paged by 25)
        ("GET", ["projects", p, "secrets"]) => {
            if let Some(no) = denied(&s, "secretmanager.secrets.list", &format!("projects/{p}")) {
                return no;
            }
            let size: usize = q("pageSize")
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(25);
            let start: usize = q("pageToken")
                .and_then(|t| t.strip_prefix("page-").and_then(|n| n.parse().ok()))
                .unwrap_or(0);
            let names: Vec<String> = s
                .secrets
                .keys()
                .filter(|(pp, _)| pp == p)
                .map(|(_, n)| n.clone())
                .collect();
            let page: Vec<Json> = names
                .iter()
                .skip(start)
                .take(size)
                .map(|n| json!({"name": format!("projects/{p}/secrets/{n}"), "replication": {"automatic": {}}, "createTime": "2026-01-01T00:00:00Z"}))
                .collect();
            let mut out = json!({"secrets": page, "totalSize": names.len()});
            if start + size < names.len() {
                out["nextPageToken"] = json!(format!("page-{}", start + size));
            }
            (200, out)
        }
        // POST projects/P/secrets?secretId=S (create)
        ("POST", ["projects", p, "secrets"]) => {
            if let Some(no) = denied(&s, "secretmanager.secrets.create", &format!("projects/{p}")) {
                return no;
            }
            let secret: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
            s.created.push(secret.clone());
            let Some(id) = q("secretId") else {
                return error(400, "INVALID_ARGUMENT", "secret_id is required");
            };
            // The real service refuses a secret without a replication policy.
            let replication = &secret["replication"];
            if !(replication["automatic"].is_object() || replication["userManaged"].is_object()) {
                return error(
                    400,
                    "INVALID_ARGUMENT",
                    "Secret.replication must be specified.",
                );
            }
            let key = ((*p).to_owned(), id.clone());
            if s.secrets.contains_key(&key) {
                return error(
                    409,
                    "ALREADY_EXISTS",
                    &format!("Secret [projects/{p}/secrets/{id}] already exists."),
                );
            }
            s.secrets.insert(key, SecretRec::default());
            (
                200,
                json!({"name": format!("projects/{p}/secrets/{id}"), "replication": replication, "createTime": "2026-01-01T00:00:00Z"}),
            )
        }
        // POST projects/P/secrets/S:addVersion
        ("POST", ["projects", p, "secrets", sname]) if sname.ends_with(":addVersion") => {
            let id = sname.trim_end_matches(":addVersion");
            if let Some(no) = denied(
                &s,
                "secretmanager.versions.add",
                &format!("projects/{p}/secrets/{id}"),
            ) {
                return no;
            }
            let req: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
            let data = B64
                .decode(req["payload"]["data"].as_str().unwrap_or(""))
                .unwrap_or_default();
            if let Some(given) = req["payload"]["dataCrc32c"]
                .as_str()
                .and_then(|c| c.parse::<u32>().ok())
                && given != crc32c::crc32c(&data)
            {
                return error(
                    400,
                    "INVALID_ARGUMENT",
                    "Checksum mismatch: data_crc32c does not match the payload.",
                );
            }
            let Some(rec) = s.secrets.get_mut(&((*p).to_owned(), id.to_owned())) else {
                return error(
                    404,
                    "NOT_FOUND",
                    &format!("Secret [projects/{p}/secrets/{id}] not found."),
                );
            };
            rec.versions.push(Version {
                data,
                state: State::Enabled,
                wrong_crc: false,
            });
            let n = rec.versions.len();
            (
                200,
                json!({"name": format!("projects/{p}/secrets/{id}/versions/{n}"), "state": state_json(State::Enabled, ints), "createTime": "2026-01-01T00:00:00Z"}),
            )
        }
        // POST projects/P/secrets/S/versions/V:destroy|:enable|:disable
        ("POST", ["projects", p, "secrets", sname, "versions", v]) if v.contains(':') => {
            let (num, action) = v.split_once(':').unwrap_or((v, ""));
            let name = format!("projects/{p}/secrets/{sname}/versions/{num}");
            if let Some(no) = denied(&s, &format!("secretmanager.versions.{action}"), &name) {
                return no;
            }
            let Some(ver) = s
                .secrets
                .get_mut(&((*p).to_owned(), (*sname).to_owned()))
                .and_then(|r| {
                    num.parse::<usize>()
                        .ok()
                        .and_then(|n| r.versions.get_mut(n.wrapping_sub(1)))
                })
            else {
                return error(
                    404,
                    "NOT_FOUND",
                    &format!("Secret Version [{name}] not found."),
                );
            };
            match action {
                "destroy" => {
                    ver.state = State::Destroyed;
                    ver.data.clear();
                }
                "disable" if ver.state != State::Destroyed => ver.state = State::Disabled,
                "enable" if ver.state != State::Destroyed => ver.state = State::Enabled,
                "disable" | "enable" => {
                    return error(
                        400,
                        "FAILED_PRECONDITION",
                        &format!("Secret Version [{name}] is in DESTROYED state."),
                    );
                }
                _ => return error(404, "NOT_FOUND", "Method not found."),
            }
            (
                200,
                json!({"name": name, "state": state_json(ver.state, ints)}),
            )
        }
        // DELETE projects/P/secrets/S
        ("DELETE", ["projects", p, "secrets", sname]) => {
            if let Some(no) = denied(
                &s,
                "secretmanager.secrets.delete",
                &format!("projects/{p}/secrets/{sname}"),
            ) {
                return no;
            }
            if s.secrets
                .remove(&((*p).to_owned(), (*sname).to_owned()))
                .is_none()
            {
                return error(
                    404,
                    "NOT_FOUND",
                    &format!("Secret [projects/{p}/secrets/{sname}] not found."),
                );
            }
            (200, json!({}))
        }
        // GET projects/P/secrets/S
        ("GET", ["projects", p, "secrets", sname]) => {
            if let Some(no) = denied(
                &s,
                "secretmanager.secrets.get",
                &format!("projects/{p}/secrets/{sname}"),
            ) {
                return no;
            }
            match s.secrets.get(&((*p).to_owned(), (*sname).to_owned())) {
                Some(rec) => (
                    200,
                    json!({
                        "name": format!("projects/{p}/secrets/{sname}"),
                        "replication": {"automatic": {}},
                        "versionAliases": rec.aliases.iter().map(|(k, v)| (k.clone(), json!(v.to_string()))).collect::<serde_json::Map<_, _>>(),
                    }),
                ),
                None => error(
                    404,
                    "NOT_FOUND",
                    &format!("Secret [projects/{p}/secrets/{sname}] not found."),
                ),
            }
        }
        _ => error(
            404,
            "NOT_FOUND",
            &format!("Method not found: {method} {path}"),
        ),
    }
}
