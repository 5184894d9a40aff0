//! GCP Secret Manager against the loopback REST fake in `gcp_fake.rs`.

use crate::gcp_fake::{GcpFake, State};
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
    let started = std::time::Instant::now();
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let err = stderr(&o);
    assert!(err.contains("authentication failed"), "{err}");
    assert!(
        err.contains(
            "tried GOOGLE_APPLICATION_CREDENTIALS, the gcloud application default credentials file"
        ),
        "{err}"
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

    sb.env("BAD", "sm://acme/api-key?destination=/etc/passwd");
    let o = sb.run(["exec", "--env-refs", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("environment variable BAD: `?destination=PATH` is not supported"),
        "{}",
        stderr(&o)
    );
}
