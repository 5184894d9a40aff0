//! GCP Secret Manager against the loopback REST fake in `gcp_fake.rs`.

use std::time::{Duration, Instant};

use crate::gcp_fake::{
    GcpFake, State, USER_CLIENT_SECRET, USER_REFRESH_TOKEN, WIF_SUBJECT_TOKEN, mute_server,
};
use crate::support::*;

/// A sandbox whose Application Default Credentials are the fake's service-account key.
fn sandbox(fake: &GcpFake) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env(
        "GOOGLE_APPLICATION_CREDENTIALS",
        fake.key_file.to_str().expect("utf8"),
    );
    sb
}

fn provider(fake: &GcpFake) -> String {
    format!("[providers.gcp-sm]\nendpoint = \"{}\"\n\n", fake.endpoint())
}

#[test]
fn latest_pinned_alias_and_full_names_with_a_service_account_key() {
    let fake = GcpFake::start();
    fake.add("acme", "api-key", b"v1");
    fake.add("acme", "api-key", b"v2");
    fake.add("acme", "api-key", b"v3\nwith newline");
    fake.alias("acme", "api-key", "prod", 1);
    fake.add("acme", "db", br#"{"user":"u","password":"p"}"#);
    let sb = sandbox(&fake);
    sb.manifest(&format!(
        "{}[env]\nLATEST = \"gcp-sm://acme/api-key\"\nPINNED = \"gcp-sm://acme/api-key/2\"\nQUERY = \"gcp-sm://acme/api-key?version=1\"\nALIAS = \"gcp-sm://acme/api-key/prod\"\nFULL = \"gcp-sm://projects/acme/secrets/api-key/versions/2\"\nUSER = \"gcp-sm://acme/db#user\"\nPASSWORD = \"gcp-sm://acme/db#password\"\n",
        provider(&fake)
    ));
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    assert_eq!(env["LATEST"], b"v3\nwith newline");
    assert_eq!(env["PINNED"], b"v2");
    assert_eq!(env["QUERY"], b"v1");
    assert_eq!(env["ALIAS"], b"v1");
    assert_eq!(env["FULL"], b"v2");
    assert_eq!(env["USER"], b"u");
    assert_eq!(env["PASSWORD"], b"p");
    // Both fields of `db` came from one access call.
    let db_reads = fake
        .log()
        .iter()
        .filter(|l| l.contains("secrets/db/versions/latest:access"))
        .count();
    assert_eq!(db_reads, 1, "{:?}", fake.log());
}

#[test]
fn disabled_destroyed_missing_and_corrupted_versions_each_say_what_is_wrong() {
    let fake = GcpFake::start();
    fake.add("acme", "s", b"one");
    fake.add("acme", "s", b"two");
    fake.add("acme", "s", b"three");
    fake.set_state("acme", "s", 1, State::Disabled);
    fake.set_state("acme", "s", 2, State::Destroyed);
    fake.add("acme", "bad-crc", b"crc-canary-9z");
    fake.corrupt_checksum("acme", "bad-crc", 1);
    let sb = sandbox(&fake);
    sb.manifest(&format!(
        "{}[env]\nDISABLED = \"gcp-sm://acme/s/1\"\nDESTROYED = \"gcp-sm://acme/s/2\"\nMISSING = \"gcp-sm://acme/nope\"\nCRC = \"gcp-sm://acme/bad-crc\"\nOK = \"gcp-sm://acme/s\"\n",
        provider(&fake)
    ));
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(err.contains("could not resolve 4 of 5 entries"), "{err}");
    assert!(err.contains("env DISABLED: gcp-sm://acme/s/1\n    not found: `projects/acme/secrets/s/versions/1`: the version is disabled"), "{err}");
    assert!(
        err.contains("`projects/acme/secrets/s/versions/2`: the version is destroyed"),
        "{err}"
    );
    assert!(err.contains("not found: `projects/acme/secrets/nope/versions/latest`: Secret [projects/acme/secrets/nope] not found or has no versions."), "{err}");
    assert!(err.contains("CRC32C checksum does not match"), "{err}");
    assert!(!err.contains("crc-canary-9z"), "{err}");
    assert!(!sb.out().join("started").exists());
}

#[test]
fn a_wrong_key_is_unauthenticated_and_no_credentials_fail_fast() {
    let fake = GcpFake::start();
    fake.add("acme", "s", b"x");
    let other = GcpFake::start();
    // A key the fake does not know: its JWT is refused.
    let mut sb = Sandbox::new();
    sb.env(
        "GOOGLE_APPLICATION_CREDENTIALS",
        other.key_file.to_str().expect("utf8"),
    );
    sb.manifest(&format!(
        "{}[env]\nS = \"gcp-sm://acme/s\"\n",
        provider(&fake)
    ));
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(stderr(&o).contains("authentication failed: `projects/acme/secrets/s/versions/latest`: Request had invalid authentication credentials"), "{}", stderr(&o));

    // No credentials at all, and a metadata server that is not there.
    let mut sb = Sandbox::new();
    sb.env("GCE_METADATA_HOST", "127.0.0.1:9");
    sb.manifest(&format!(
        "{}[env]\nS = \"gcp-sm://acme/s\"\n",
        provider(&fake)
    ));
    let started = Instant::now();
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        stderr(&o),
        "error: could not resolve 1 of 1 entry\n  env S: gcp-sm://acme/s\n    \
         authentication failed: no usable Google credentials (the metadata server: Connection refused (os error 111)); \
         tried GOOGLE_APPLICATION_CREDENTIALS, the gcloud application default credentials file (`gcloud auth application-default login`), and the GCE metadata server\n    \
         hint: set GOOGLE_APPLICATION_CREDENTIALS to a key file, run `gcloud auth application-default login`, or run on GCP with a service account\n"
    );
}

#[test]
fn busy_answers_are_retried() {
    let fake = GcpFake::start();
    fake.add("acme", "s", b"eventually");
    fake.fail_next(&[(503, "UNAVAILABLE"), (429, "RESOURCE_EXHAUSTED")]);
    let sb = sandbox(&fake);
    sb.manifest(&format!(
        "{}[env]\nS = \"gcp-sm://acme/s\"\n",
        provider(&fake)
    ));
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$S\" > \"$OUT/s\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("s"), b"eventually");
    assert_eq!(fake.log().len(), 3, "{:?}", fake.log());

    // A read is safe to repeat: any 5xx is retried.
    fake.fail_next(&[(500, "INTERNAL"), (504, "DEADLINE_EXCEEDED")]);
    let before = fake.log().len();
    let o = sb.run(["get", "gcp-sm://acme/s"]);
    assert_success(&o);
    assert_eq!(o.stdout, b"eventually");
    assert_eq!(fake.log().len() - before, 3, "{:?}", fake.log());

    // Adding a version is not: a 500 there is reported, not repeated into two versions.
    fake.fail_next(&[(500, "INTERNAL")]);
    let before = fake.log().len();
    let o = sb.run_with_stdin(["set", "gcp-sm://acme/s"], b"once");
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        "error: unreachable: `projects/acme/secrets/s`: the service is busy; try again (a server error)\n\
         hint: reads were retried up to `max_attempts`; a write is not repeated, since it may have been applied: look before trying again\n"
    );
    assert_eq!(fake.log().len() - before, 1, "{:?}", fake.log());
    assert_eq!(fake.data("acme", "s").map(|v| v.len()), Some(1));
}

#[test]
fn a_hundred_and_twenty_secrets_are_listed_across_pages() {
    let fake = GcpFake::start();
    let mut want: Vec<String> = (0..120).map(|i| format!("secret-{i:03}")).collect();
    for n in &want {
        fake.add("acme", n, b"x");
    }
    fake.add("other", "not-listed", b"x");
    let sb = sandbox(&fake);
    sb.manifest(&provider(&fake));
    let o = sb.run(["ls", "gcp-sm://acme/"]);
    assert_success(&o);
    want.sort();
    assert_eq!(stdout(&o), want.join("\n") + "\n");
    let pages = fake
        .log()
        .iter()
        .filter(|l| l.starts_with("GET /v1/projects/acme/secrets"))
        .count();
    assert!(pages >= 5, "{:?}", fake.log());

    // A name prefix after the project, as other providers list by prefix.
    let o = sb.run(["ls", "gcp-sm://acme/secret-11"]);
    assert_success(&o);
    assert_eq!(
        stdout(&o),
        (110..120)
            .map(|i| format!("secret-{i:03}\n"))
            .collect::<String>()
    );
    // A location that is no project is a usage error.
    let o = sb.run(["ls", "gcp-sm://acme/a/b"]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        "error: bad location `gcp-sm://acme/a/b`: `acme/a/b` is not a project\n\
         hint: write sx ls gcp-sm://PROJECT/, or gcp-sm://PROJECT/PREFIX for the ids that start with PREFIX\n"
    );
}

#[test]
fn set_creates_then_adds_versions_and_rm_destroys_or_deletes() {
    let fake = GcpFake::start();
    let sb = sandbox(&fake);
    sb.manifest(&provider(&fake));
    let value = b"bin\x00\xffary";
    assert_success(&sb.run_with_stdin(["set", "gcp-sm://acme/new"], value));
    assert_success(&sb.run_with_stdin(["set", "gcp-sm://acme/new"], b"second"));
    let versions = fake.data("acme", "new").expect("created");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].0, value);
    assert_eq!(
        hex(&sb.run(["get", "gcp-sm://acme/new/1"]).stdout),
        hex(value)
    );
    assert_eq!(sb.run(["get", "gcp-sm://acme/new"]).stdout, b"second");
    // A version cannot be written, and a cut-short resource name is not a project "projects".
    let before = fake.log().len();
    for (reference, message) in [
        (
            "gcp-sm://acme/new/1",
            "error: `gcp-sm://acme/new/1`: a version cannot be written, only added\n\
             hint: name the secret without a version; `sx set` adds a new version to it\n",
        ),
        (
            "gcp-sm://projects/acme/secrets",
            "error: bad reference `gcp-sm://projects/acme/secrets`: `projects/acme/secrets` is a resource name cut short\n\
             hint: write gcp-sm://PROJECT/SECRET, gcp-sm://PROJECT/SECRET/3 or gcp-sm://projects/P/secrets/S/versions/latest\n",
        ),
    ] {
        let o = sb.run_with_stdin(["set", reference], b"third");
        assert_eq!((code(&o), stderr(&o).as_str()), (2, message), "{reference}");
    }
    assert_eq!(fake.log().len(), before, "nothing sent");

    assert_success(&sb.run(["rm", "gcp-sm://acme/new/1"]));
    assert_eq!(
        fake.data("acme", "new").expect("still there")[0].1,
        State::Destroyed
    );
    let o = sb.run(["get", "gcp-sm://acme/new/1"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("the version is destroyed"),
        "{}",
        stderr(&o)
    );

    assert_success(&sb.run(["rm", "gcp-sm://acme/new"]));
    assert!(fake.data("acme", "new").is_none());
}

#[test]
fn berglas_references_in_the_environment_run_unchanged() {
    let fake = GcpFake::start();
    fake.add("acme", "api-key", b"first");
    fake.add("acme", "api-key", b"latest-key");
    fake.add("acme", "tls", b"-----BEGIN KEY-----\n");
    let mut sb = sandbox(&fake);
    sb.env("API_KEY", "sm://acme/api-key")
        .env("OLD_KEY", "sm://acme/api-key#1")
        .env("TLS_FILE", "sm://acme/tls?destination=tempfile")
        .env("PLAIN", "not-a-reference");
    // Only the provider settings: the references come from the environment, as with berglas.
    sb.manifest(&provider(&fake));
    let job = sb.script(
        "berglas-job.sh",
        "printf %s \"$API_KEY|$OLD_KEY|$PLAIN\" > \"$OUT/env\"; cat \"$TLS_FILE\" > \"$OUT/tls\"; echo \"$TLS_FILE\" > \"$OUT/tls-path\"",
    );
    let o = sb.run([
        std::ffi::OsStr::new("exec"),
        "--env-refs".as_ref(),
        "--".as_ref(),
        job.as_os_str(),
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("env"), b"latest-key|first|not-a-reference");
    assert_eq!(sb.read_out("tls"), b"-----BEGIN KEY-----\n");
    let path = String::from_utf8(sb.read_out("tls-path")).expect("utf8");
    assert!(
        !std::path::Path::new(path.trim()).exists(),
        "the tempfile is removed after the run"
    );
    assert!(crate::files::is_tmpfs_dir(std::path::Path::new("/dev/shm")));

    // An empty destination is none, as in berglas: the value goes in the variable.
    sb.env("EMPTY_DEST", "sm://acme/api-key?destination=");
    let o = sb.run([
        "exec",
        "--env-refs",
        "--",
        "sh",
        "-c",
        "printf %s \"$EMPTY_DEST\" > \"$OUT/empty\"",
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("empty"), b"latest-key");

    // Every bad environment reference is reported in one run.
    sb.env("BAD", "sm://acme/api-key?destination=/etc/passwd")
        .env("WORSE", "sm://acme")
        .env("OURS", "gcp-sm://acme/a/b/c/d");
    let o = sb.run(["exec", "--env-refs", "--", "touch", "started"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("environment variable BAD: `?destination=PATH` is not supported: sx writes secret files only into its own private tmpfs directory\nhint: use ?destination=tempfile; the variable then holds the file's path\n"),
        "each problem keeps its own hint: {err}"
    );
    assert!(
        err.contains("environment variable WORSE: `sm://acme` is not sm://PROJECT/SECRET"),
        "{err}"
    );
    assert!(
        err.contains("env OURS: bad reference `gcp-sm://acme/a/b/c/d`"),
        "{err}"
    );
    assert!(!sb.path().join("started").exists());

    // A failure names the berglas reference as written, and what it reads.
    let mut sb = sandbox(&fake);
    sb.env("GONE", "sm://acme/gone#2");
    sb.manifest(&provider(&fake));
    let o = sb.run(["exec", "--env-refs", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("  env GONE (sm://acme/gone#2): gcp-sm://acme/gone/2\n    not found: "),
        "{}",
        stderr(&o)
    );
}

/// Requests the fake saw that are exactly `line` (`METHOD path`).
fn seen(fake: &GcpFake, line: &str) -> usize {
    fake.log().iter().filter(|l| *l == line).count()
}

/// The one failure line of a single-entry run whose credentials file was refused at the
/// token endpoint, checked up to the library's own text; the hint line after it, exactly.
fn auth_failure<'a>(err: &'a str, from: &str) -> &'a str {
    let head = format!(
        "    authentication failed: cannot get a token with the Google credentials from {from} ("
    );
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("no line starting {head:?} in {err}"));
    assert_eq!(
        lines.get(at + 1).copied(),
        Some(
            "    hint: renew them: `gcloud auth application-default login` for a user, a fresh OIDC token or key file for CI"
        ),
        "{err}"
    );
    lines[at]
}

#[test]
fn gcloud_user_credentials_are_refreshed_once_and_a_revoked_refresh_token_is_refused() {
    let fake = GcpFake::start();
    fake.add("acme", "api-key", b"from-a-user-login");
    fake.add("acme", "db", b"second-read");
    let adc = fake.authorized_user_file(USER_REFRESH_TOKEN);
    let mut sb = Sandbox::new();
    sb.env(
        "GOOGLE_APPLICATION_CREDENTIALS",
        adc.to_str().expect("utf8"),
    );
    sb.manifest(&format!(
        "{}[env]\nKEY = \"gcp-sm://acme/api-key\"\nDB = \"gcp-sm://acme/db\"\n",
        provider(&fake)
    ));
    let o = sb.run([
        "exec",
        "--",
        "sh",
        "-c",
        "printf %s \"$KEY|$DB\" > \"$OUT/v\"",
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"from-a-user-login|second-read");
    // One refresh serves both reads: the access token is cached.
    assert_eq!(seen(&fake, "POST /token"), 1, "{:?}", fake.log());
    assert_eq!(fake.issued(), 1);

    // The same file where `gcloud auth application-default login` puts it, no variable set.
    let plain = Sandbox::new();
    plain.write(
        "home/.config/gcloud/application_default_credentials.json",
        std::fs::read(&adc).expect("read"),
    );
    plain.manifest(&format!(
        "{}[env]\nKEY = \"gcp-sm://acme/api-key\"\n",
        provider(&fake)
    ));
    let o = plain.run(["exec", "--", "sh", "-c", "printf %s \"$KEY\" > \"$OUT/v\""]);
    assert_success(&o);
    assert_eq!(plain.read_out("v"), b"from-a-user-login");
    assert_eq!(seen(&fake, "POST /token"), 2, "{:?}", fake.log());

    // A revoked refresh token: Google answers 400 invalid_grant; sx stops before the job and
    // neither the refresh token nor the client secret reaches the terminal, even at -vvv.
    let revoked = "1//0sx-revoked-refresh-canary-Zq";
    fake.authorized_user_file(revoked);
    let o = sb.run(["-vvv", "exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    let line = auth_failure(
        &err,
        &format!("GOOGLE_APPLICATION_CREDENTIALS (`{}`)", adc.display()),
    );
    assert!(
        line.contains(
            r#"failed to refresh user access token, body=<{"error":"invalid_grant","error_description":"Bad Request"}>"#
        ),
        "{err}"
    );
    assert!(
        line.ends_with(&format!("for url (http://127.0.0.1:{}/token))", fake.port)),
        "{err}"
    );
    for leak in [revoked, USER_REFRESH_TOKEN, USER_CLIENT_SECRET] {
        assert!(!err.contains(leak), "{leak} in {err}");
    }
    assert!(!sb.out().join("started").exists());
    assert_eq!(seen(&fake, "POST /token"), 3, "{:?}", fake.log());
}

#[test]
fn workload_identity_federation_exchanges_the_ci_token_at_sts() {
    let fake = GcpFake::start();
    fake.add("acme", "deploy-key", b"federated-value");
    let mut sb = Sandbox::new();
    // As a CI system leaves its OIDC token, no trailing newline.
    let token_file = sb.write("ci-oidc-token", WIF_SUBJECT_TOKEN);
    let config = fake.external_account_file(&token_file);
    sb.env(
        "GOOGLE_APPLICATION_CREDENTIALS",
        config.to_str().expect("utf8"),
    );
    sb.manifest(&format!(
        "{}[env]\nKEY = \"gcp-sm://acme/deploy-key\"\nPINNED = \"gcp-sm://acme/deploy-key/1\"\n",
        provider(&fake)
    ));
    let o = sb.run([
        "-vvv",
        "exec",
        "--",
        "sh",
        "-c",
        "printf %s \"$KEY|$PINNED\" > \"$OUT/v\"",
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"federated-value|federated-value");
    assert_eq!(seen(&fake, "POST /v1/token"), 1, "{:?}", fake.log());
    assert_eq!(fake.issued(), 1);
    let err = stderr(&o);
    assert!(!err.contains(WIF_SUBJECT_TOKEN), "{err}");
    assert!(!err.contains("sx-oidc-subject-canary"), "{err}");

    // A token STS does not accept (expired, another repository's): refused before the job.
    let stale = "eyJhbGciOiJSUzI1NiJ9.sx-stale-subject-canary-8Lp.c2ln";
    std::fs::write(&token_file, stale).expect("write");
    let o = sb.run(["-vvv", "exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    let line = auth_failure(
        &err,
        &format!("GOOGLE_APPLICATION_CREDENTIALS (`{}`)", config.display()),
    );
    assert!(
        line.contains(
            r#"failed to exchange token, body=<{"error":"invalid_grant","error_description":"The provided subject token is invalid or its signature could not be verified."}>"#
        ),
        "{err}"
    );
    assert!(
        line.ends_with(&format!(
            "for url (http://127.0.0.1:{}/v1/token))",
            fake.port
        )),
        "{err}"
    );
    assert!(!err.contains("sx-stale-subject-canary"), "{err}");
    assert!(!sb.out().join("started").exists());
}

#[test]
fn permission_denied_names_the_entry_and_the_role_and_the_job_does_not_start() {
    let fake = GcpFake::start();
    fake.add("acme", "locked", b"locked-canary-4Rw");
    fake.add("acme", "open", b"open-value");
    fake.deny(
        "secretmanager.versions.access",
        "projects/acme/secrets/locked",
    );
    let sb = sandbox(&fake);
    sb.manifest(&format!(
        "{}[env]\nLOCKED = \"gcp-sm://acme/locked\"\nOPEN = \"gcp-sm://acme/open\"\n",
        provider(&fake)
    ));
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains(
            "could not resolve 1 of 2 entries\n  env LOCKED: gcp-sm://acme/locked\n    permission denied: `projects/acme/secrets/locked/versions/latest`: Permission 'secretmanager.versions.access' denied for resource 'projects/acme/secrets/locked/versions/latest' (or it may not exist).\n    hint: the account needs roles/secretmanager.secretAccessor on the secret\n"
        ),
        "{err}"
    );
    assert!(!err.contains("OPEN"), "{err}");
    assert!(!err.contains("locked-canary-4Rw"), "{err}");
    assert!(!sb.out().join("started").exists());
    // Denied is final: asked once, not retried.
    assert_eq!(
        seen(
            &fake,
            "GET /v1/projects/acme/secrets/locked/versions/latest:access"
        ),
        1,
        "{:?}",
        fake.log()
    );

    // Listing and writing need other roles, and the hint names the one that is missing.
    fake.deny("secretmanager.secrets.list", "projects/acme");
    let o = sb.run(["ls", "gcp-sm://acme/"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        "error: permission denied: `projects/acme`: Permission 'secretmanager.secrets.list' denied for resource 'projects/acme' (or it may not exist).\nhint: the account needs roles/secretmanager.viewer on the project\n"
    );
    fake.deny("secretmanager.versions.add", "projects/acme/secrets/open");
    let o = sb.run_with_stdin(["set", "gcp-sm://acme/open"], b"new-open-value");
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        "error: permission denied: `projects/acme/secrets/open`: Permission 'secretmanager.versions.add' denied for resource 'projects/acme/secrets/open' (or it may not exist).\nhint: the account needs roles/secretmanager.secretVersionAdder on the secret\n"
    );
    assert_eq!(
        fake.data("acme", "open"),
        Some(vec![(b"open-value".to_vec(), State::Enabled)])
    );
}

#[test]
fn concurrency_bounds_the_reads_in_flight() {
    let fake = GcpFake::start();
    let mut env = String::new();
    for i in 0..40 {
        fake.add(
            "acme",
            &format!("s-{i:02}"),
            format!("value-{i:02}").as_bytes(),
        );
        env.push_str(&format!("S_{i:02} = \"gcp-sm://acme/s-{i:02}\"\n"));
    }
    fake.delay_access(Duration::from_millis(100));
    let sb = sandbox(&fake);
    sb.manifest(&format!(
        "[providers.gcp-sm]\nendpoint = \"{}\"\nconcurrency = 4\n\n[env]\n{env}",
        fake.endpoint()
    ));
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let got = parse_env0(&sb.read_out("env"));
    for i in 0..40 {
        assert_eq!(
            got[&format!("S_{i:02}")],
            format!("value-{i:02}").as_bytes(),
            "S_{i:02}"
        );
    }
    // Exactly the bound: more would mean it is ignored, fewer that the reads are serialised.
    assert_eq!(fake.max_access_in_flight(), 4);
    let reads = fake.log().iter().filter(|l| l.ends_with(":access")).count();
    assert_eq!(reads, 40, "{:?}", fake.log());
}

#[test]
fn set_on_a_missing_secret_creates_it_with_automatic_replication() {
    let fake = GcpFake::start();
    let sb = sandbox(&fake);
    sb.manifest(&provider(&fake));
    let o = sb.run_with_stdin(["set", "gcp-sm://acme/brand-new"], b"first-value");
    assert_success(&o);
    assert_eq!(stderr(&o), "sx: stored gcp-sm://acme/brand-new\n");
    assert_eq!(
        fake.created(),
        vec![serde_json::json!({"replication": {"automatic": {}}})]
    );
    assert_eq!(
        fake.log(),
        [
            "POST /v1/projects/acme/secrets/brand-new:addVersion",
            "POST /v1/projects/acme/secrets",
            "POST /v1/projects/acme/secrets/brand-new:addVersion",
        ]
    );
    assert_eq!(
        fake.data("acme", "brand-new"),
        Some(vec![(b"first-value".to_vec(), State::Enabled)])
    );
}

#[test]
fn rm_of_a_pinned_version_destroys_only_that_version() {
    let fake = GcpFake::start();
    fake.add("acme", "s", b"one");
    fake.add("acme", "s", b"two");
    fake.add("acme", "s", b"three");
    let sb = sandbox(&fake);
    sb.manifest(&provider(&fake));

    // `latest` is an alias: neither a version to destroy nor a reason to delete the secret.
    for reference in ["gcp-sm://acme/s/latest", "gcp-sm://acme/s?version=latest"] {
        let o = sb.run(["rm", reference]);
        assert_eq!(code(&o), 2, "{reference}");
        let path = reference
            .trim_start_matches("gcp-sm://")
            .split('?')
            .next()
            .unwrap_or("");
        assert_eq!(
            stderr(&o),
            format!(
                "error: `{path}`: `latest` is an alias, not a version to destroy\n\
                 hint: name the version number to destroy it, or leave the version out to delete the secret\n"
            ),
            "{reference}"
        );
    }
    // A version in the path and in the query: refused before anything is sent.
    let o = sb.run(["rm", "gcp-sm://acme/s/3?version=4"]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        "error: give the version in the path or in ?version=, not both\n"
    );
    assert!(fake.log().is_empty(), "{:?}", fake.log());

    // As in reads, the version can be given in the path or as ?version=.
    let o = sb.run(["rm", "gcp-sm://acme/s/2"]);
    assert_success(&o);
    let o = sb.run(["rm", "gcp-sm://acme/s?version=3"]);
    assert_success(&o);
    assert_eq!(stderr(&o), "sx: removed gcp-sm://acme/s?version=3\n");
    assert_eq!(
        fake.data("acme", "s"),
        Some(vec![
            (b"one".to_vec(), State::Enabled),
            (Vec::new(), State::Destroyed),
            (Vec::new(), State::Destroyed),
        ])
    );
    assert_eq!(
        fake.log(),
        [
            "POST /v1/projects/acme/secrets/s/versions/2:destroy",
            "POST /v1/projects/acme/secrets/s/versions/3:destroy"
        ]
    );

    // Other providers delete whole secrets only: a version there is a usage error.
    let o = sb.run(["rm", "aws-ssm:///s?version=2"]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        "error: `aws-ssm:///s?version=2`: a reference to write or delete takes no #field or ?query\n\
         hint: only gcp-sm deletes one version (`?version=N`); other providers delete the whole secret\n"
    );
    assert_eq!(sb.run(["get", "gcp-sm://acme/s/1"]).stdout, b"one");
    // `latest` is the most recently created version, now destroyed.
    let o = sb.run(["get", "gcp-sm://acme/s"]);
    assert!(
        stderr(&o).contains("the version is destroyed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn env_refs_resolves_plain_gcp_sm_references_from_the_environment() {
    let fake = GcpFake::start();
    fake.add("acme", "api-key", b"old");
    fake.add("acme", "api-key", b"new");
    fake.add("acme", "db", br#"{"password":"pw-from-json"}"#);
    let mut sb = sandbox(&fake);
    sb.env("API_KEY", "gcp-sm://acme/api-key")
        .env("OLD_KEY", "gcp-sm://acme/api-key/1")
        .env("DB_PASSWORD", "gcp-sm://acme/db#password")
        .env("PLAIN", "gcp-sm-is-not-a-reference");
    sb.manifest(&provider(&fake));
    let o = sb.run([
        "exec",
        "--env-refs",
        "--",
        "sh",
        "-c",
        "printf %s \"$API_KEY|$OLD_KEY|$DB_PASSWORD|$PLAIN\" > \"$OUT/v\"",
    ]);
    assert_success(&o);
    assert_eq!(
        sb.read_out("v"),
        b"new|old|pw-from-json|gcp-sm-is-not-a-reference"
    );

    // A missing one fails closed, naming the variable.
    sb.env("GONE", "gcp-sm://acme/gone");
    let o = sb.run([
        "exec",
        "--env-refs",
        "--",
        "sh",
        "-c",
        "touch \"$OUT/started\"",
    ]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("gcp-sm://acme/gone\n    not found: `projects/acme/secrets/gone/versions/latest`: Secret [projects/acme/secrets/gone] not found or has no versions."),
        "{}",
        stderr(&o)
    );
    assert!(!sb.out().join("started").exists());
}

#[test]
fn a_metadata_server_that_never_answers_fails_within_the_bound() {
    let fake = GcpFake::start();
    fake.add("acme", "s", b"x");
    let (metadata, connections) = mute_server();
    // No credentials file anywhere: Application Default Credentials fall to the metadata
    // server, which takes the connection and never answers.
    let mut sb = Sandbox::new();
    sb.env("GCE_METADATA_HOST", &metadata);
    sb.manifest(&format!(
        "{}[env]\nS = \"gcp-sm://acme/s\"\n",
        provider(&fake)
    ));
    let started = Instant::now();
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    let took = started.elapsed();
    assert_eq!(code(&o), 125);
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        stderr(&o).contains("authentication failed: no Google credentials found within 1.5s; tried GOOGLE_APPLICATION_CREDENTIALS, the gcloud application default credentials file (`gcloud auth application-default login`), and the GCE metadata server\n"),
        "{}",
        stderr(&o)
    );
    assert!(
        connections.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "sx did not try the metadata server"
    );
    assert!(!sb.out().join("started").exists());
    assert!(fake.log().is_empty(), "{:?}", fake.log());
}
