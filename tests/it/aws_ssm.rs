//! AWS Systems Manager Parameter Store against a real moto server.

use crate::support::*;

#[test]
fn every_parameter_under_a_path_is_imported_with_mapped_names() {
    let Some(moto) = Moto::get() else { return };
    let mut want = Vec::new();
    for i in 0..250 {
        // Flat, nested, and names with `-` and `.`.
        let (rel, var) = match i % 4 {
            0 => (format!("key{i}"), format!("APP_KEY{i}")),
            1 => (format!("db/nested/v{i}"), format!("APP_DB_NESTED_V{i}")),
            2 => (format!("with-dash-{i}"), format!("APP_WITH_DASH_{i}")),
            _ => (format!("with.dot.{i}"), format!("APP_WITH_DOT_{i}")),
        };
        moto.put_parameter(&format!("/app/prod/{rel}"), &format!("value {i}\nline two"));
        want.push((var, format!("value {i}\nline two")));
    }
    let proxy = RecordingProxy::start(moto.port);
    let sb = moto.sandbox(&proxy.endpoint());
    sb.manifest("[[import]]\nref = \"aws-ssm:///app/prod/\"\nprefix = \"APP_\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    let imported: Vec<_> = env.keys().filter(|k| k.starts_with("APP_")).collect();
    assert_eq!(imported.len(), 250, "{imported:?}");
    for (var, value) in &want {
        assert_eq!(
            env.get(var).map(Vec::as_slice),
            Some(value.as_bytes()),
            "{var}"
        );
    }
    // Every page was followed (moto pages GetParametersByPath by 10).
    assert!(
        proxy.count("GetParametersByPath") >= 25,
        "{}",
        proxy.count("GetParametersByPath")
    );
}

#[test]
fn import_collisions_and_bad_names_are_errors_naming_both_sources() {
    let Some(moto) = Moto::get() else { return };
    moto.put_parameter("/coll/a/db-host", "one");
    moto.put_parameter("/coll/a/db.host", "two");
    moto.put_parameter("/coll/b/token", "from-ssm");
    moto.put_parameter("/coll/c/1st", "digit");
    let sb = moto.sandbox(&moto.endpoint());

    sb.manifest("[[import]]\nref = \"aws-ssm:///coll/a/\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o)
            .contains("`db-host` and `db.host` in `aws-ssm:///coll/a/` both map to `DB_HOST`"),
        "{}",
        stderr(&o)
    );

    sb.manifest(
        "[env]\nTOKEN = { value = \"manifest\" }\n\n[[import]]\nref = \"aws-ssm:///coll/b/\"\n",
    );
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains(
            "`TOKEN` is produced twice: by [env] and by [[import]] #1 (aws-ssm:///coll/b/)"
        ),
        "{err}"
    );

    sb.manifest("[[import]]\nref = \"aws-ssm:///coll/c/\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("key `1st` gives the name `1ST`"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("give the import a `prefix`"),
        "{}",
        stderr(&o)
    );

    // Every bad key of one import is reported at once.
    moto.put_parameter("/coll/d/9lives", "x");
    moto.put_parameter("/coll/d/a-b", "x");
    moto.put_parameter("/coll/d/a_b", "x");
    sb.manifest("[[import]]\nref = \"aws-ssm:///coll/d/\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains(
            "    malformed: key `9lives` gives the name `9LIVES`, which is not a valid variable name; \
             `a-b` and `a_b` in `aws-ssm:///coll/d/` both map to `A_B`\n    \
             hint: give the import a `prefix`, e.g. prefix = \"APP_\"; rename one of them at the source\n"
        ),
        "{}",
        stderr(&o)
    );

    sb.manifest("[[import]]\nref = \"aws-ssm:///coll/c/\"\nprefix = \"P_\"\n");
    let o = sb.run([
        "exec",
        "--",
        "sh",
        "-c",
        "printf %s \"$P_1ST\" > \"$OUT/v\"",
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"digit");
}

#[test]
fn two_imports_producing_one_name_are_an_error_naming_both_imports() {
    let Some(moto) = Moto::get() else { return };
    moto.put_parameter("/twice/a/db_host", "ssm-a-value");
    moto.put_parameter("/twice/b/db-host", "ssm-b-value");
    moto.put_parameter("/twice/b/other", "ssm-b-other");
    moto.create_secret_string("twice/json", r#"{"DB_HOST":"sm-value","port":"5432"}"#);
    let sb = moto.sandbox(&moto.endpoint());
    let started = sb.out().join("started");
    let cases = [
        (
            "[[import]]\nref = \"aws-ssm:///twice/a/\"\n\n[[import]]\nref = \"aws-sm://twice/json\"\n",
            "`DB_HOST` is produced twice: by [[import]] #1 (aws-ssm:///twice/a/) and by [[import]] #2 (aws-sm://twice/json)",
        ),
        (
            "[[import]]\nref = \"aws-ssm:///twice/a/\"\n\n[[import]]\nref = \"aws-ssm:///twice/b/\"\n",
            "`DB_HOST` is produced twice: by [[import]] #1 (aws-ssm:///twice/a/) and by [[import]] #2 (aws-ssm:///twice/b/)",
        ),
    ];
    for (manifest, message) in cases {
        sb.manifest(manifest);
        let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
        let err = stderr(&o);
        assert_eq!(code(&o), 125, "{err}");
        assert!(err.contains(message), "{err}");
        assert!(err.contains("give one of the imports a `prefix`"), "{err}");
        assert!(!err.contains("-value"), "no value in the error: {err}");
        assert!(!started.exists(), "the command must not start");
        let o = sb.run(["check"]);
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        assert!(stderr(&o).contains(message), "{}", stderr(&o));
    }

    // A prefix on each later import separates the names again.
    sb.manifest(
        "[[import]]\nref = \"aws-ssm:///twice/a/\"\n\n[[import]]\nref = \"aws-ssm:///twice/b/\"\nprefix = \"B_\"\n\n[[import]]\nref = \"aws-sm://twice/json\"\nprefix = \"J_\"\n",
    );
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    assert_eq!(env["DB_HOST"], b"ssm-a-value");
    assert_eq!(env["B_DB_HOST"], b"ssm-b-value");
    assert_eq!(env["B_OTHER"], b"ssm-b-other");
    assert_eq!(env["J_DB_HOST"], b"sm-value");
    assert_eq!(env["J_PORT"], b"5432");
}

#[test]
fn plain_references_are_read_ten_per_call_and_versions_pin() {
    let Some(moto) = Moto::get() else { return };
    let mut manifest = String::from("[env]\n");
    for i in 0..25 {
        moto.put_parameter(&format!("/batch/p{i}"), &format!("v{i}"));
        manifest.push_str(&format!("P{i} = \"aws-ssm:///batch/p{i}\"\n"));
    }
    moto.put_parameter("/batch/versioned", "first");
    moto.put_parameter("/batch/versioned", "second");
    manifest.push_str(
        "V1 = \"aws-ssm:///batch/versioned?version=1\"\nV2 = \"aws-ssm:///batch/versioned\"\n",
    );
    let proxy = RecordingProxy::start(moto.port);
    let sb = moto.sandbox(&proxy.endpoint());
    sb.manifest(&manifest);
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    for i in 0..25 {
        assert_eq!(env[&format!("P{i}")], format!("v{i}").as_bytes());
    }
    assert_eq!(env["V1"], b"first");
    assert_eq!(env["V2"], b"second");
    assert_eq!(proxy.count("GetParameters"), 3, "26 names in calls of 10");
    assert_eq!(proxy.count("GetParameter"), 1, "one pinned read");

    sb.manifest("[env]\nGONE = \"aws-ssm:///batch/missing\"\nOLD = \"aws-ssm:///batch/versioned?version=9\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("not found: parameter `/batch/missing`"),
        "{err}"
    );
    assert!(err.contains("parameter `/batch/versioned:9`"), "{err}");

    // Two slashes name `batch/p1`, not `/batch/p1`: the hint shows the three-slash form.
    let o = sb.run(["get", "aws-ssm://batch/p1"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        "error: could not resolve 1 of 1 entry\n  get: aws-ssm://batch/p1\n    \
         not found: parameter `batch/p1` (region us-east-1): ParameterNotFound\n    \
         hint: a name that starts with `/` takes three slashes: aws-ssm:///batch/p1\n"
    );

    // Nothing listening at the endpoint: unreachable, with where to look.
    let unused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = unused.local_addr().expect("addr").port();
    drop(unused);
    let closed = moto.sandbox(&format!("http://127.0.0.1:{port}"));
    let o = closed.run(["get", "aws-ssm:///batch/p1"]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("unreachable: parameter `/batch/p1`: cannot reach the aws-ssm endpoint (region us-east-1): "),
        "{err}"
    );
    assert!(
        err.ends_with("hint: check the network, `endpoint` in [providers.aws-ssm] or AWS_ENDPOINT_URL, and the proxy variables (HTTPS_PROXY, NO_PROXY)\n"),
        "{err}"
    );
}

#[test]
fn set_get_ls_rm_round_trip() {
    let Some(moto) = Moto::get() else { return };
    let sb = moto.sandbox(&moto.endpoint());
    let value = "multi\nline \"quoted\" $(id) é\n";
    assert_success(&sb.run_with_stdin(["set", "aws-ssm:///rt/app/secret"], value.as_bytes()));
    assert_success(&sb.run_with_stdin(["set", "aws-ssm:///rt/app/other"], b"x"));
    let o = sb.run(["get", "aws-ssm:///rt/app/secret"]);
    assert_success(&o);
    assert_eq!(o.stdout, value.as_bytes());
    // Overwrite makes a new version; the old one stays readable.
    assert_success(&sb.run_with_stdin(["set", "aws-ssm:///rt/app/secret"], b"v2"));
    assert_eq!(sb.run(["get", "aws-ssm:///rt/app/secret"]).stdout, b"v2");
    assert_eq!(
        sb.run(["get", "aws-ssm:///rt/app/secret?version=1"]).stdout,
        value.as_bytes()
    );
    let o = sb.run(["ls", "aws-ssm:///rt/"]);
    assert_eq!(stdout(&o), "/rt/app/other\n/rt/app/secret\n");
    assert_success(&sb.run(["rm", "aws-ssm:///rt/app/secret"]));
    let o = sb.run(["get", "aws-ssm:///rt/app/secret"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("not found"), "{}", stderr(&o));
    // Parameter Store holds text only.
    let o = sb.run_with_stdin(["set", "aws-ssm:///rt/app/bin"], b"\xff\xfe");
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("the value is not UTF-8"),
        "{}",
        stderr(&o)
    );
}
