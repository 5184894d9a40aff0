//! Azure Key Vault against a loopback fake of its REST API (7.4) and of Microsoft Entra ID's
//! token endpoint, with their real error bodies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::support::*;

const TENANT: &str = "00000000-0000-0000-0000-00000000cafe";
const CLIENT: &str = "sx-test-client";
const SECRET: &str = "client-secret-value";
const TOKEN: &str = "aad-access-token-for-vault";

/// (vault, secret) → versions in order: (version id, value, enabled).
type Vaults = Arc<Mutex<HashMap<(String, String), Vec<(String, String, bool)>>>>;

fn fake() -> (u16, Vaults) {
    let vaults: Vaults = Arc::default();
    let state = Arc::clone(&vaults);
    let port = serve_http(move |req| {
        let path = req.target.split('?').next().unwrap_or("");
        if req.method == "POST" && path == format!("/{TENANT}/oauth2/v2.0/token") {
            let form: HashMap<String, String> = String::from_utf8_lossy(&req.body)
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| {
                    (
                        k.to_owned(),
                        percent_encoding::percent_decode_str(&v.replace('+', " "))
                            .decode_utf8_lossy()
                            .into_owned(),
                    )
                })
                .collect();
            if form.get("client_id").map(String::as_str) != Some(CLIENT)
                || form.get("client_secret").map(String::as_str) != Some(SECRET)
            {
                return (
                    401,
                    json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
                );
            }
            assert_eq!(
                form.get("scope").map(String::as_str),
                Some("https://vault.azure.net/.default")
            );
            return (
                200,
                json!({"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN}),
            );
        }
        if req.headers.get("authorization").map(String::as_str) != Some(&format!("Bearer {TOKEN}"))
        {
            return (
                401,
                json!({"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}}),
            );
        }
        // /{vault}/secrets/{name}[/{version}]
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (vault, name, version) = match segs.as_slice() {
            [v, "secrets", n] | [v, "secrets", n, ""] => (*v, *n, None),
            [v, "secrets", n, ver] => (*v, *n, Some(*ver)),
            _ => {
                return (
                    404,
                    json!({"error": {"code": "NotFound", "message": "unknown path"}}),
                );
            }
        };
        let store = state.lock().expect("lock");
        let not_found = || {
            (
                404,
                json!({"error": {"code": "SecretNotFound", "message": format!("A secret with (name/id) {name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.")}}),
            )
        };
        let Some(versions) = store.get(&(vault.to_owned(), name.to_owned())) else {
            return not_found();
        };
        let found = match version {
            None => versions.last(),
            Some(v) => versions.iter().find(|(id, _, _)| id == v),
        };
        let Some((id, value, enabled)) = found else {
            return not_found();
        };
        if !enabled {
            return (
                403,
                json!({"error": {"code": "Forbidden", "message": "Operation get is not allowed on a disabled secret.", "innererror": {"code": "SecretDisabled"}}}),
            );
        }
        (
            200,
            json!({"value": value, "id": format!("https://{vault}.vault.azure.net/secrets/{name}/{id}"), "attributes": {"enabled": true}}),
        )
    });
    (port, vaults)
}

fn sandbox(port: u16) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env("AZURE_AUTHORITY_HOST", &format!("http://127.0.0.1:{port}"));
    sb.manifest(&format!(
        "[providers.azure-kv]\nendpoint = \"http://127.0.0.1:{port}/{{vault}}\"\n"
    ));
    sb
}

#[test]
fn secrets_latest_and_pinned_with_a_client_secret() {
    let (port, vaults) = fake();
    vaults.lock().expect("lock").insert(
        ("acme-kv".into(), "db-password".into()),
        vec![
            ("v1aaaa".into(), "old".into(), true),
            ("v2bbbb".into(), "new\nline".into(), true),
        ],
    );
    let sb = sandbox(port);
    let manifest = std::fs::read_to_string(sb.path().join("sx.toml")).expect("read");
    sb.manifest(&format!(
        "{manifest}\n[env]\nLATEST = \"azure-kv://acme-kv/db-password\"\nPINNED = \"azure-kv://acme-kv/db-password/v1aaaa\"\nQUERY = \"azure-kv://acme-kv/db-password?version=v1aaaa\"\n"
    ));
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    assert_eq!(env["LATEST"], b"new\nline");
    assert_eq!(env["PINNED"], b"old");
    assert_eq!(env["QUERY"], b"old");
    assert!(!env.contains_key("AZURE_ACCESS_TOKEN"));
}

#[test]
fn missing_disabled_and_refused_credentials_are_clear() {
    let (port, vaults) = fake();
    vaults.lock().expect("lock").insert(
        ("acme-kv".into(), "off".into()),
        vec![("v1".into(), "x".into(), false)],
    );
    let mut sb = sandbox(port);
    let manifest = std::fs::read_to_string(sb.path().join("sx.toml")).expect("read");
    sb.manifest(&format!("{manifest}\n[env]\nMISSING = \"azure-kv://acme-kv/nope\"\nOFF = \"azure-kv://acme-kv/off\"\n"));
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("not found: secret `nope` in vault `acme-kv`: SecretNotFound"),
        "{err}"
    );
    assert!(
        err.contains("secret `off` in vault `acme-kv`: the secret is disabled"),
        "{err}"
    );

    sb.env("AZURE_CLIENT_SECRET", "wrong");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("Microsoft Entra ID refused the credentials: AADSTS7000215"),
        "{err}"
    );
    assert!(!err.contains("wrong"), "{err}");
}

#[test]
fn without_credentials_it_fails_fast_naming_the_sources() {
    let mut sb = Sandbox::new();
    sb.env("AZURE_IMDS_ENDPOINT", "http://127.0.0.1:9");
    sb.manifest("[env]\nX = \"azure-kv://acme-kv/x\"\n");
    let started = std::time::Instant::now();
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(
        stderr(&o).contains("no Azure credentials found; tried a client secret"),
        "{}",
        stderr(&o)
    );
}
