//! A loopback fake of Google Cloud Secret Manager's REST API (v1), faithful to the published
//! surface sx uses: access, get, list with page tokens, create, add version, delete,
//! destroy, enable and disable, with the service's error bodies
//! (`{"error":{"code":404,"status":"NOT_FOUND",...}}`), base64 payloads with `dataCrc32c`,
//! and bearer tokens checked: a service-account JWT signed with the key the test made.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use serde_json::{Value as Json, json};

use crate::support::{openssl, serve_http};

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
}

pub struct GcpFake {
    pub port: u16,
    pub client_email: String,
    pub key_file: PathBuf,
    public_key: PathBuf,
    store: Arc<Mutex<Store>>,
    _dir: tempfile::TempDir,
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
            let auth = req
                .headers
                .get("authorization")
                .cloned()
                .unwrap_or_default();
            route(
                &req.method,
                &req.target,
                &auth,
                &req.body,
                &email,
                &key,
                &state,
            )
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
            _dir: dir,
        }
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

fn error(code: u16, status: &str, message: &str) -> (u16, Json) {
    (
        code,
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

fn verify_jwt(jwt: &str, email: &str, public: &PathBuf) -> bool {
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

fn route(
    method: &str,
    target: &str,
    auth: &str,
    body: &[u8],
    email: &str,
    public: &PathBuf,
    store: &Mutex<Store>,
) -> (u16, Json) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned();
    let query = percent_encoding::percent_decode_str(query)
        .decode_utf8_lossy()
        .into_owned();
    let ints = query.contains("enum-encoding=int");
    {
        let mut s = store.lock().expect("lock");
        s.log.push(format!("{method} {path}"));
        if !s.faults.is_empty() {
            let (code, status) = s.faults.remove(0);
            return error(code, status, "the service is busy; try again");
        }
    }
    // Bearer check: a self-signed service-account JWT, verified with the key's public half.
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
            let Some(rec) = s.secrets.get(&((*p).to_owned(), (*sname).to_owned())) else {
                return error(
                    404,
                    "NOT_FOUND",
                    &format!("Secret [{name}] not found or has no versions."),
                );
            };
            let n = match v {
                "latest" => rec
                    .versions
                    .iter()
                    .rposition(|x| x.state == State::Enabled)
                    .map(|i| i + 1),
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
            let Some(id) = q("secretId") else {
                return error(400, "INVALID_ARGUMENT", "secret_id is required");
            };
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
                json!({"name": format!("projects/{p}/secrets/{id}"), "replication": {"automatic": {}}, "createTime": "2026-01-01T00:00:00Z"}),
            )
        }
        // POST projects/P/secrets/S:addVersion
        ("POST", ["projects", p, "secrets", sname]) if sname.ends_with(":addVersion") => {
            let id = sname.trim_end_matches(":addVersion");
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
