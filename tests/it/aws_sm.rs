//! AWS Secrets Manager against a real moto server.

use crate::support::*;

#[test]
fn values_reach_the_child_byte_exact_in_env_and_files() {
    let Some(moto) = Moto::get() else { return };
    let cases: [(&str, &[u8]); 6] = [
        ("NL", b"line one\nline two"),
        ("QUOTES", b"it's \"q\" `id` $(id) 'x'"),
        ("HOME", b"$HOME"),
        ("TRAILING", b"ends with a newline\n"),
        ("BAD", b"f\xff\xfe\x80g"),
        ("NUL", b"a\0b"),
    ];
    let mut manifest = String::from("[env]\n");
    for (name, value) in &cases {
        let secret = format!("bytes-exact/{name}");
        match std::str::from_utf8(value) {
            Ok(s) if !s.contains('\0') => moto.create_secret_string(&secret, s),
            _ => moto.create_secret_binary(&secret, value),
        }
        if *name != "NUL" {
            manifest.push_str(&format!("E_{name} = \"aws-sm://{secret}\"\n"));
        }
    }
    for (name, _) in &cases {
        manifest.push_str(&format!(
            "[files.F_{name}]\nref = \"aws-sm://bytes-exact/{name}\"\n"
        ));
    }
    let sb = moto.sandbox(&moto.endpoint());
    sb.manifest(&manifest);
    let mut job = String::from("env -0 > \"$OUT/env\"\n");
    for (name, _) in &cases {
        job.push_str(&format!("cp \"$F_{name}\" \"$OUT/F_{name}\"\n"));
    }
    let job = sb.script("job.sh", &job);
    let o = sb.run([std::ffi::OsStr::new("exec"), "--".as_ref(), job.as_os_str()]);
    assert_success(&o);

    let env = parse_env0(&sb.read_out("env"));
    for (name, value) in &cases {
        if *name != "NUL" {
            assert_eq!(hex(&env[&format!("E_{name}")]), hex(value), "env E_{name}");
        }
        assert_eq!(
            hex(&sb.read_out(&format!("F_{name}"))),
            hex(value),
            "file F_{name}"
        );
    }
}

#[test]
fn a_nul_byte_in_an_env_value_is_refused_with_a_hint_to_use_files() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_binary("nul-in-env/v", b"a\0b");
    let sb = moto.sandbox(&moto.endpoint());
    sb.manifest("[env]\nWITH_NUL = \"aws-sm://nul-in-env/v\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("env WITH_NUL: the value contains a NUL byte"),
        "{err}"
    );
    assert!(err.contains("[files.WITH_NUL]"), "{err}");
    assert!(!sb.out().join("started").exists());
}

#[test]
fn json_fragments_come_from_one_read() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("fragments/app", r#"{"db":{"host":"h","port":5432}}"#);
    let proxy = RecordingProxy::start(moto.port);
    let sb = moto.sandbox(&proxy.endpoint());
    sb.manifest(
        "[env]\nDB_HOST = \"aws-sm://fragments/app#db.host\"\nDB_PORT = \"aws-sm://fragments/app#db.port\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    assert_eq!(env["DB_HOST"], b"h");
    assert_eq!(env["DB_PORT"], b"5432");
    assert_eq!(
        proxy.count("GetSecretValue"),
        1,
        "{:?}",
        proxy.seen.lock().map(|s| s.clone())
    );
}

#[test]
fn a_missing_field_fails_closed_naming_entry_and_reference_not_the_value() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("fragments/missing", r#"{"db":{"host":"h","port":5432}}"#);
    let sb = moto.sandbox(&moto.endpoint());
    sb.manifest(
        "[env]\nDB_HOST = \"aws-sm://fragments/missing#db.host\"\nDB_USER = \"aws-sm://fragments/missing#db.user\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    assert!(
        !sb.out().join("started").exists(),
        "the child must not start"
    );
    let err = stderr(&o);
    assert!(err.contains("could not resolve 1 of 2 entries"), "{err}");
    assert!(
        err.contains("env DB_USER: aws-sm://fragments/missing#db.user"),
        "{err}"
    );
    assert!(err.contains("field `db.user` not found"), "{err}");
    assert!(
        !err.contains("5432") && !err.contains("\"host\""),
        "value leaked: {err}"
    );
}

#[test]
fn a_missing_secret_is_reported_as_not_found() {
    let Some(moto) = Moto::get() else { return };
    let sb = moto.sandbox(&moto.endpoint());
    sb.manifest("[env]\nGONE = \"aws-sm://does/not/exist\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(err.contains("env GONE: aws-sm://does/not/exist"), "{err}");
    assert!(err.contains("not found: secret `does/not/exist`"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn optional_entries_that_fail_are_left_unset_with_a_warning() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("optional/present", "here");
    let sb = moto.sandbox(&moto.endpoint());
    sb.manifest(
        "[env]\nPRESENT = \"aws-sm://optional/present\"\nABSENT = { ref = \"aws-sm://optional/absent\", optional = true }\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    assert_eq!(env["PRESENT"], b"here");
    assert!(!env.contains_key("ABSENT"));
    assert!(
        stderr(&o).contains("optional env ABSENT left unset"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn get_prints_exact_bytes_and_set_rm_round_trip() {
    let Some(moto) = Moto::get() else { return };
    let sb = moto.sandbox(&moto.endpoint());
    let value = b"bin\xff\x00ary\n";
    let o = sb.run_with_stdin(["set", "aws-sm://roundtrip/bin"], value);
    assert_success(&o);
    let o = sb.run(["get", "aws-sm://roundtrip/bin"]);
    assert_success(&o);
    assert_eq!(hex(&o.stdout), hex(value));
    // A second set puts a new version.
    assert_success(&sb.run_with_stdin(["set", "aws-sm://roundtrip/bin"], b"v2"));
    assert_eq!(sb.run(["get", "aws-sm://roundtrip/bin"]).stdout, b"v2");
    let o = sb.run(["ls", "aws-sm://roundtrip/"]);
    assert_success(&o);
    assert_eq!(stdout(&o), "roundtrip/bin\n");
    assert_success(&sb.run(["rm", "aws-sm://roundtrip/bin"]));
    let o = sb.run(["get", "aws-sm://roundtrip/bin"]);
    assert_eq!(code(&o), 1);
}

#[test]
fn ls_follows_every_page_of_list_secrets_and_prints_the_names_sorted() {
    let Some(moto) = Moto::get() else { return };
    // moto answers ListSecrets 100 names a page (sx asks for no page size), so 130 names
    // take two pages. Created in reverse, unpadded, so that neither creation order nor
    // numeric order is the byte order sx must print.
    let mut want: Vec<String> = (0..130).rev().map(|i| format!("pages/n{i}")).collect();
    for name in &want {
        moto.create_secret_string(name, "v");
    }
    for outside in ["pagesx/n1", "other/pages/n1", "Pages/n1", "pages"] {
        moto.create_secret_string(outside, "v");
    }
    want.sort();
    let proxy = RecordingProxy::start(moto.port);
    let sb = moto.sandbox(&proxy.endpoint());
    let o = sb.run(["ls", "aws-sm://pages/"]);
    assert_success(&o);
    let expected: String = want.iter().map(|n| format!("{n}\n")).collect();
    assert_eq!(stdout(&o), expected);
    assert!(expected.starts_with("pages/n0\npages/n1\npages/n10\npages/n100\n"));
    assert_eq!(
        proxy.count("ListSecrets"),
        2,
        "{:?}",
        proxy.seen.lock().map(|s| s.clone())
    );
}

#[test]
fn provider_settings_select_the_endpoint_and_region() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("settings/x", "from-settings");
    let mut sb = Sandbox::new();
    sb.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    sb.manifest(&format!(
        "[providers.aws-sm]\nregion = \"us-east-1\"\nendpoint = \"{}\"\n\n[providers.other]\ntype = \"aws-sm\"\nregion = \"us-east-1\"\nendpoint = \"{}\"\n\n[env]\nA = \"aws-sm://settings/x\"\nB = \"other://settings/x\"\n",
        moto.endpoint(),
        moto.endpoint()
    ));
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$A|$B\" > \"$OUT/v\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"from-settings|from-settings");
}

#[test]
fn forty_five_references_take_at_most_three_batch_calls() {
    let Some(moto) = Moto::get() else { return };
    let mut manifest = String::from("[env]\n");
    for i in 0..45 {
        moto.create_secret_string(&format!("batch45/s{i}"), &format!("value-{i}"));
        manifest.push_str(&format!("S{i} = \"aws-sm://batch45/s{i}\"\n"));
    }
    let proxy = RecordingProxy::start(moto.port);
    let sb = moto.sandbox(&proxy.endpoint());
    sb.manifest(&manifest);
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    for i in 0..45 {
        assert_eq!(env[&format!("S{i}")], format!("value-{i}").as_bytes());
    }
    assert_eq!(proxy.count("BatchGetSecretValue"), 3);
    assert_eq!(
        proxy.count("GetSecretValue") - proxy.count("BatchGetSecretValue"),
        0
    );
}

#[test]
fn batch_errors_are_per_secret_and_a_missing_batch_api_falls_back() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("fallback/a", "A");
    moto.create_secret_string("fallback/b", "B");
    let manifest = "[env]\nA = \"aws-sm://fallback/a\"\nB = \"aws-sm://fallback/b\"\n";

    // Per-secret errors inside a batch answer name the secret.
    let sb = moto.sandbox(&moto.endpoint());
    sb.manifest(&format!("{manifest}C = \"aws-sm://fallback/missing\"\n"));
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o)
            .contains("env C: aws-sm://fallback/missing\n    not found: secret `fallback/missing`"),
        "{}",
        stderr(&o)
    );

    // An endpoint without BatchGetSecretValue: the same run succeeds with single reads.
    let proxy = RecordingProxy::start_with(
        moto.port,
        std::sync::Arc::new(|_, target: &str| {
            target
                .ends_with("BatchGetSecretValue")
                .then_some(Fault::UnknownOperation)
        }),
    );
    let sb = moto.sandbox(&proxy.endpoint());
    sb.manifest(manifest);
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$A$B\" > \"$OUT/v\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"AB");
    assert_eq!(proxy.count(".GetSecretValue"), 2);
}

#[test]
fn versions_stages_and_deleted_secrets() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("versions/app", "old");
    let (s, v) = moto.call(
        "secretsmanager.PutSecretValue",
        &serde_json::json!({"SecretId": "versions/app", "SecretString": "new"}),
    );
    assert_eq!(s, 200, "{v}");
    let new_id = v["VersionId"].as_str().expect("VersionId").to_owned();
    let sb = moto.sandbox(&moto.endpoint());
    sb.manifest(&format!(
        "[env]\nCUR = \"aws-sm://versions/app\"\nPREV = \"aws-sm://versions/app?stage=AWSPREVIOUS\"\nPINNED = \"aws-sm://versions/app?version_id={new_id}\"\n"
    ));
    let o = sb.run([
        "exec",
        "--",
        "sh",
        "-c",
        "printf %s \"$CUR|$PREV|$PINNED\" > \"$OUT/v\"",
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"new|old|new");

    sb.manifest(
        "[env]\nX = \"aws-sm://versions/app?version_id=00000000-0000-0000-0000-000000000000\"\n",
    );
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("not found: secret `versions/app`"),
        "{}",
        stderr(&o)
    );

    // Deleted with a recovery window: a clear error that says so.
    moto.create_secret_string("versions/deleted", "bye");
    assert_success(&sb.run(["rm", "aws-sm://versions/deleted"]));
    sb.manifest("[env]\nD = \"aws-sm://versions/deleted\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(err.contains("secret `versions/deleted`"), "{err}");
    assert!(err.contains("deletion"), "{err}");
    assert!(err.contains("restore-secret"), "{err}");

    // --force deletes at once: then it is simply not found.
    moto.create_secret_string("versions/forced", "bye");
    assert_success(&sb.run(["rm", "--force", "aws-sm://versions/forced"]));
    let o = sb.run(["get", "aws-sm://versions/forced"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("not found: secret `versions/forced`"),
        "{}",
        stderr(&o)
    );
    // A forced delete of a name that is not there (a typo) is not reported as done.
    let o = sb.run(["rm", "--force", "aws-sm://versions/forcde"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("not found: secret `versions/forcde`"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("removed"), "{}", stderr(&o));
}

#[test]
fn throttling_and_server_errors_are_retried_within_a_budget() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("retry/x", "eventually");
    let proxy = RecordingProxy::start_with(
        moto.port,
        std::sync::Arc::new(|n, _: &str| match n {
            0 | 1 => Some(Fault::Throttle),
            2 => Some(Fault::ServerError),
            _ => None,
        }),
    );
    let sb = moto.sandbox(&proxy.endpoint());
    sb.manifest("[env]\nX = \"aws-sm://retry/x\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$X\" > \"$OUT/v\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"eventually");
    assert_eq!(proxy.count("GetSecretValue"), 4);

    let always = RecordingProxy::start_with(
        moto.port,
        std::sync::Arc::new(|_, _: &str| Some(Fault::Throttle)),
    );
    let sb = moto.sandbox(&always.endpoint());
    sb.manifest("[providers.aws-sm]\nmax_attempts = 3\n\n[env]\nX = \"aws-sm://retry/x\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(err.contains("ThrottlingException: Rate exceeded"), "{err}");
    assert!(
        err.contains("hint: still failing after the retry budget"),
        "{err}"
    );
    assert_eq!(always.count("GetSecretValue"), 3, "max_attempts = 3");
    assert!(!sb.out().join("started").exists());
}

#[test]
fn without_credentials_sx_fails_fast_and_says_what_it_tried() {
    let Some(moto) = Moto::get() else { return };
    // Nothing listens here: the metadata service is absent, as off AWS.
    let unused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let imds = format!(
        "http://127.0.0.1:{}",
        unused.local_addr().expect("addr").port()
    );
    drop(unused);
    let mut sb = Sandbox::new();
    sb.env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &moto.endpoint())
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds);
    sb.manifest("[env]\nX = \"aws-sm://anything\"\n");
    let started = std::time::Instant::now();
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    let took = started.elapsed();
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains(
            "authentication failed: no AWS credentials found; tried environment variables"
        ),
        "{err}"
    );
    assert!(err.contains("EC2 instance metadata"), "{err}");
    assert!(took < std::time::Duration::from_secs(2), "took {took:?}");
    assert!(!sb.out().join("started").exists());
}

#[test]
fn a_profile_named_in_the_manifest_wins_over_keys_in_the_environment() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("profiled/x", "via-profile");
    let proxy = RecordingProxy::start(moto.port);
    // Keys in the environment, as a CI runner or a shell might have them.
    let sb = moto.sandbox(&proxy.endpoint());
    sb.write(
        "home/.aws/credentials",
        "[prod]\naws_access_key_id = AKIAPRODPROFILE00001\naws_secret_access_key = prod-secret-canary\n",
    );
    sb.manifest("[providers.aws-sm]\nprofile = \"prod\"\n\n[env]\nX = \"aws-sm://profiled/x\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$X\" > \"$OUT/v\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"via-profile");
    // The request was signed with the profile's key, not the environment's.
    let auth = proxy.authorizations();
    assert_eq!(auth.len(), 1, "{auth:?}");
    assert!(
        auth[0].contains("Credential=AKIAPRODPROFILE00001/"),
        "{auth:?}"
    );

    // A profile that does not exist is an error, not a quiet switch to the keys at hand.
    sb.manifest("[providers.aws-sm]\nprofile = \"prdo\"\n\n[env]\nX = \"aws-sm://profiled/x\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("authentication failed: no AWS credentials from profile `prdo` (`profile` in the manifest): "),
        "{err}"
    );
    assert!(
        err.contains("hint: check that ~/.aws/config or ~/.aws/credentials has the profile `prdo`"),
        "{err}"
    );
    assert!(!err.contains("prod-secret-canary"), "{err}");
    assert!(!sb.out().join("started").exists());
    assert_eq!(
        proxy.authorizations().len(),
        1,
        "no request without credentials"
    );

    // AWS_PROFILE naming a missing profile, with no keys: the profile is named as the cause.
    let mut bare = Sandbox::new();
    bare.env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &proxy.endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PROFILE", "prdo");
    bare.write(
        "home/.aws/credentials",
        "[prod]\naws_access_key_id = AKIAPRODPROFILE00001\naws_secret_access_key = prod-secret-canary\n",
    );
    bare.manifest("[env]\nX = \"aws-sm://profiled/x\"\n");
    let o = bare.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("; no AWS credentials from profile `prdo` (AWS_PROFILE): "),
        "{err}"
    );
    assert!(
        err.contains("hint: check that ~/.aws/config or ~/.aws/credentials has the profile `prdo` (AWS_PROFILE)"),
        "{err}"
    );
    assert!(!err.contains("prod-secret-canary"), "{err}");
}

#[test]
fn the_childs_own_aws_variables_pass_through_untouched() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("passthrough/x", "v");
    let mut sb = moto.sandbox(&moto.endpoint());
    sb.env("AWS_DEFAULT_OUTPUT", "json")
        .env("AWS_SESSION_NAME_FOR_JOB", "job-1");
    sb.manifest("[env]\nX = \"aws-sm://passthrough/x\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    for (k, v) in moto.aws_env(&moto.endpoint()) {
        assert_eq!(env[k], v.as_bytes(), "{k}");
    }
    assert_eq!(env["AWS_DEFAULT_OUTPUT"], b"json");
    assert_eq!(env["AWS_SESSION_NAME_FOR_JOB"], b"job-1");
}

#[test]
fn role_arn_assumes_a_role_before_reading() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("assume/x", "via-role");
    let proxy = RecordingProxy::start(moto.port);
    let sb = moto.sandbox(&proxy.endpoint());
    sb.manifest(
        "[providers.aws-sm]\nrole_arn = \"arn:aws:iam::123456789012:role/sx-reader\"\n\n[env]\nX = \"aws-sm://assume/x\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$X\" > \"$OUT/v\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"via-role");
    // STS speaks the query protocol (no X-Amz-Target): one AssumeRole call, then the read.
    let seen = proxy.seen.lock().expect("lock").clone();
    assert_eq!(
        seen.first().map(String::as_str),
        Some("query.AssumeRole"),
        "{seen:?}"
    );
    assert_eq!(proxy.count("GetSecretValue"), 1, "{seen:?}");
}

#[test]
fn an_answer_that_is_not_from_aws_names_the_status_and_the_endpoint() {
    let Some(moto) = Moto::get() else { return };
    let (port, count) = html_error_server("502 Bad Gateway");
    let sb = moto.sandbox(&format!("http://127.0.0.1:{port}"));
    sb.manifest(
        "[providers.aws-sm]\nmax_attempts = 2\n\n[providers.aws-ssm]\nmax_attempts = 2\n\n[env]\nA = \"aws-sm://behind/proxy\"\nB = \"aws-ssm:///behind/proxy\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let hint = |service: &str| {
        format!(
            "    hint: something other than AWS answered: check `endpoint` in [providers.{service}], AWS_ENDPOINT_URL and the proxy variables (HTTPS_PROXY, NO_PROXY)\n"
        )
    };
    assert_eq!(
        stderr(&o),
        format!(
            "error: could not resolve 2 of 2 entries\n  \
             env A: aws-sm://behind/proxy\n    \
             unreachable: secret `behind/proxy` (region us-east-1): the endpoint answered HTTP 502 without an AWS error\n{}  \
             env B: aws-ssm:///behind/proxy\n    \
             unreachable: parameter `/behind/proxy` (region us-east-1): the endpoint answered HTTP 502 without an AWS error\n{}",
            hint("aws-sm"),
            hint("aws-ssm")
        )
    );
    // A 5xx is retried like AWS's own, within the budget: two attempts each.
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 4);
    assert!(!sb.out().join("started").exists());
}
