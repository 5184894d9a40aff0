//! Command-line behaviour outside `exec`'s core: check, get, export, and usage errors.

use crate::support::*;

#[test]
fn check_finds_what_exec_would_refuse() {
    let sb = Sandbox::new();
    sb.init_local();
    sb.set_local("prod/db", br#"{"user":"u","password":"p"}"#);
    sb.manifest(
        "[env]\nDB_USER = { value = \"x\" }\n\n[[import]]\nref = \"local://prod/db\"\nprefix = \"DB_\"\n",
    );
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains(
            "`DB_USER` is produced twice: by [env] and by [[import]] #1 (local://prod/db)"
        ),
        "{err}"
    );
    assert!(
        !err.contains("env DB_USER: \n"),
        "no empty reference: {err}"
    );
    // The table lists every entry and never a value.
    assert!(
        stdout(&o).contains("[[import]] #1  local://prod/db  local     latest   ok"),
        "{}",
        stdout(&o)
    );
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains(
            "`DB_USER` is produced twice: by [env] and by [[import]] #1 (local://prod/db)"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!sb.out().join("started").exists());
}

#[test]
fn a_provider_setting_problem_is_reported_once() {
    let sb = Sandbox::new();
    sb.manifest(
        "[providers.aws-sm]\nretries = 3\n\n[env]\nA = \"aws-sm://a\"\nB = \"aws-sm://b\"\n",
    );
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert_eq!(
        err.matches("unknown key `retries` for provider type `aws-sm`")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("sx.toml:2:1"), "{err}");
    assert!(err.contains("1 problem in"), "{err}");
}

#[test]
fn exec_options_are_checked_and_the_command_may_follow_without_a_separator() {
    let sb = Sandbox::new();
    sb.manifest("[env]\nA = { value = \"1\" }\n");
    let o = sb.run(["exec", "--bogus", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("unexpected argument '--bogus'"),
        "{}",
        stderr(&o)
    );
    assert_eq!(code(&sb.run(["exec", "sh", "-c", "exit 3"])), 3);
    // Options of the command are the command's.
    let o = sb.run([
        "exec",
        "sh",
        "-c",
        "printf %s \"$1\" > \"$OUT/a\"",
        "sh",
        "--bogus",
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("a"), b"--bogus");
}

#[test]
fn a_bad_command_line_reference_is_a_usage_error_even_under_a_manifest() {
    let sb = Sandbox::new();
    sb.manifest("[env]\nA = { value = \"1\" }\n");
    let o = sb.run(["get", "local://x?version=2"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("unknown query key `version`"), "{err}");
    assert!(!err.contains("sx.toml"), "{err}");

    // set, rm and ls check the reference or location the same way, before any provider.
    let unknown = "error: unknown scheme `foo`\nhint: use a provider type (local, env, file, aws-sm, aws-ssm, gcp-sm, vault, azure-kv, op) or declare [providers.foo] with a `type`\n";
    let bad_name = "error: bad reference `local://bad%20name`: `bad name` is not a valid local secret name\nhint: names use letters, digits, `-`, `_`, `.` and `/`\n";
    for (args, want) in [
        (&["rm", "foo://bar"][..], unknown),
        (&["ls", "foo://"][..], unknown),
        (&["set", "foo://bar"][..], unknown),
        (&["rm", "local://bad%20name"][..], bad_name),
        (&["set", "local://bad%20name"][..], bad_name),
        (
            &["ls", "local://prod/db#user"][..],
            "error: `local://prod/db#user`: a location takes no ?query or #field\nhint: list a prefix, e.g. local://prod/\n",
        ),
    ] {
        let o = sb.run_with_stdin(args.iter().copied(), b"value");
        assert_eq!((code(&o), stderr(&o).as_str()), (2, want), "{args:?}");
    }

    // A bare name: the hint shows a reference, not manifest syntax.
    let o = sb.run(["get", "api-token"]);
    assert_eq!(
        (code(&o), stderr(&o).as_str()),
        (
            2,
            "error: bad reference: `api-token` is not a reference\nhint: a reference looks like SCHEME://PATH, e.g. `local://api-token`\n"
        )
    );
    // A provider that only reads says which one it is and where writes go.
    let o = sb.run(["ls", "env://"]);
    assert_eq!(
        (code(&o), stderr(&o).as_str()),
        (
            1,
            "error: not supported: the env provider does not support listing\nhint: sx reads these; local, aws-sm, aws-ssm, vault and gcp-sm can also be listed, written and deleted\n"
        )
    );
    let o = sb.run(["exec", "--timeout", "0s", "--", "true"]);
    assert_eq!(code(&o), 125, "exec's own usage errors are 125");
    assert!(
        stderr(&o).contains("`0s` is out of range: give more than 0 and at most 365 days (8760h)"),
        "{}",
        stderr(&o)
    );

    sb.init_local();
    let o = sb.run(["get", "local://missing"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("  get: local://missing\n    not found"),
        "{}",
        stderr(&o)
    );
}

/// The Python of the test peers, which has python-dotenv (scripts/test installs both).
fn peers_python() -> Option<std::path::PathBuf> {
    let p = std::env::var_os("SX_TEST_PYTHON").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".peers/venv/bin/python"),
        std::path::PathBuf::from,
    );
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "python-dotenv is required in CI; run scripts/test, which installs it"
    );
    eprintln!("skipped: python-dotenv not installed (scripts/test installs it)");
    None
}

#[test]
fn export_formats_quote_exactly_and_github_masks_only_secrets() {
    let sb = Sandbox::new();
    sb.init_local();
    sb.set_local("tok", b"it's \"$x\"\nline2");
    sb.set_local("pct", b"p%25w \\n ${HOME} `id`");
    sb.manifest(
        "[env]\nTOK = \"local://tok\"\nPCT = \"local://pct\"\nLEVEL = { value = \"info\" }\n",
    );

    let o = sb.run(["export"]);
    assert_success(&o);
    assert_eq!(
        stdout(&o),
        "TOK='it\\'s \"$x\"\nline2'\nPCT='p%25w \\\\n ${HOME} `id`'\nLEVEL='info'\n"
    );
    // python-dotenv, the usual reader of .env files, reads every value back exactly (with
    // interpolation off: it expands `${NAME}` even inside single quotes).
    if let Some(python) = peers_python() {
        let file = sb.write("exported.env", &o.stdout);
        let read = std::process::Command::new(python)
            .args([
                "-c",
                "import json, sys, dotenv; sys.stdout.write(json.dumps(dotenv.dotenv_values(sys.argv[1], interpolate=False)))",
            ])
            .arg(&file)
            .output()
            .expect("python");
        assert!(read.status.success(), "{}", stderr(&read));
        let v: serde_json::Value = serde_json::from_slice(&read.stdout).expect("json");
        assert_eq!(
            v,
            serde_json::json!({
                "TOK": "it's \"$x\"\nline2",
                "PCT": "p%25w \\n ${HOME} `id`",
                "LEVEL": "info",
            })
        );
    }

    // A [files] entry is left out, not even read: a missing one does not fail the export.
    sb.manifest(
        "[env]\nLEVEL = { value = \"info\" }\nSHARED = \"local://tok\"\n[files.CERT]\nref = \"local://no-such-cert\"\n[files.TOKF]\nref = \"local://tok\"\n",
    );
    let o = sb.run(["export"]);
    assert_success(&o);
    assert_eq!(stdout(&o), "LEVEL='info'\nSHARED='it\\'s \"$x\"\nline2'\n");
    assert_eq!(
        stderr(&o),
        " WARN files CERT skipped: files exist only while `sx exec` runs\n WARN files TOKF skipped: files exist only while `sx exec` runs\n"
    );
    sb.manifest(
        "[env]\nTOK = \"local://tok\"\nPCT = \"local://pct\"\nLEVEL = { value = \"info\" }\n",
    );

    let o = sb.run(["export", "--format", "shell"]);
    assert_success(&o);
    // The shell itself reads the value back byte for byte.
    let script = format!("{}printf %s \"$TOK\" > \"$OUT/tok\"", stdout(&o));
    let back = std::process::Command::new("sh")
        .args(["-c", &script])
        .env("OUT", sb.out())
        .status()
        .expect("sh");
    assert!(back.success());
    assert_eq!(sb.read_out("tok"), b"it's \"$x\"\nline2");

    let o = sb.run(["export", "--format", "json"]);
    assert_success(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["TOK"], "it's \"$x\"\nline2");
    assert_eq!(v["LEVEL"], "info");
    // In manifest order, as the other formats.
    assert_eq!(
        stdout(&o),
        "{\n  \"TOK\": \"it's \\\"$x\\\"\\nline2\",\n  \"PCT\": \"p%25w \\\\n ${HOME} `id`\",\n  \"LEVEL\": \"info\"\n}\n"
    );

    let o = sb.run(["export", "--format", "gitlab"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("cannot hold multi-line values"),
        "{}",
        stderr(&o)
    );

    let github_env = sb.write("github_env", "");
    let mut sb = sb;
    sb.env("GITHUB_ENV", github_env.to_str().expect("utf8"));
    let o = sb.run(["export", "--format", "github"]);
    assert_success(&o);
    // The runner decodes %25 in command data: the mask must be the value, not `p%w`.
    assert_eq!(
        stdout(&o),
        "::add-mask::it's \"$x\"\n::add-mask::line2\n::add-mask::p%2525w \\n ${HOME} `id`\n"
    );
    assert_eq!(
        std::fs::read_to_string(&github_env).expect("read"),
        "TOK<<SX_EOF_0\nit's \"$x\"\nline2\nSX_EOF_0\nPCT<<SX_EOF_0\np%25w \\n ${HOME} `id`\nSX_EOF_0\nLEVEL<<SX_EOF_0\ninfo\nSX_EOF_0\n"
    );
}

#[test]
fn export_github_outside_actions_is_a_usage_error_before_any_fetch() {
    let sb = Sandbox::new();
    // The reference cannot resolve: had it been fetched, sx would exit 125.
    sb.manifest("[env]\nT = \"env://SX_TEST_NOT_SET_ANYWHERE\"\n");
    let o = sb.run(["export", "--format", "github"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("GITHUB_ENV is not set"),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("SX_TEST_NOT_SET_ANYWHERE"),
        "{}",
        stderr(&o)
    );

    // A $GITHUB_ENV that cannot be opened fails before any fetch too, naming the path.
    let mut sb = sb;
    let missing = sb.path().join("no-such-dir/github_env");
    sb.env("GITHUB_ENV", missing.to_str().expect("utf8"));
    let o = sb.run(["export", "--format", "github"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "error: cannot open $GITHUB_ENV (`{}`): No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    assert_eq!(stdout(&o), "", "no ::add-mask:: lines either");
}

#[test]
fn a_store_named_in_the_manifest_is_created_by_the_first_set() {
    let sb = Sandbox::new();
    sb.init_local();
    sb.manifest("[providers.local]\npath = \"team/secrets.age\"\n\n[env]\nT = \"local://t\"\n");
    std::fs::create_dir_all(sb.path().join("team")).expect("mkdir");
    let o = sb.run(["get", "local://t"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("`sx set` creates a store named by `path`"),
        "{}",
        stderr(&o)
    );
    sb.set_local("t", b"team value");
    assert_eq!(sb.run(["get", "local://t"]).stdout, b"team value");
    let mut names: Vec<_> = std::fs::read_dir(sb.path().join("team"))
        .expect("ls")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
        .collect();
    names.sort();
    assert_eq!(names, [".secrets.age.lock", "secrets.age"]);
}

#[test]
fn check_fails_on_values_exec_could_not_pass() {
    let sb = Sandbox::new();
    sb.init_local();
    sb.set_local("nul", b"a\0b");
    sb.manifest("[env]\nWITH_NUL = \"local://nul\"\n");
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("FAILED: malformed: the value contains a NUL byte"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("[files.WITH_NUL]"), "{}", stderr(&o));

    // exec lists it with the failures of the other entries: every problem in one run.
    sb.manifest("[env]\nWITH_NUL = \"local://nul\"\nMISSING = \"local://missing\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    assert_eq!(
        stderr(&o),
        "error: could not resolve 2 of 2 entries\n  \
         env MISSING: local://missing\n    \
         not found: no secret `missing` in the local store\n    \
         hint: `sx ls local://` lists the names; `sx set local://NAME` adds one\n  \
         env WITH_NUL\n    \
         malformed: the value contains a NUL byte, which an environment variable cannot hold\n    \
         hint: deliver it as a file: move the entry to [files.WITH_NUL] and read the path from $WITH_NUL\n"
    );
    assert!(!sb.out().join("started").exists());
}

#[test]
fn env_refs_errors_name_the_variable() {
    let mut sb = Sandbox::new();
    sb.env("BROKEN", "local://bad name");
    let o = sb.run(["exec", "--env-refs", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("env BROKEN: bad reference"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn export_shell_carries_bytes_that_are_not_utf8_and_text_formats_refuse_them() {
    let sb = Sandbox::new();
    sb.init_local();
    let value = b"\xff\xfe it's\n\x80";
    sb.set_local("bin", value);
    sb.manifest("[env]\nBIN = \"local://bin\"\n");
    let o = sb.run(["export", "--format", "shell"]);
    assert_success(&o);
    let mut script = o.stdout.clone();
    script.extend_from_slice(b"printf %s \"$BIN\" > \"$OUT/bin\"");
    let script = sb.write("read-back.sh", &script);
    let back = std::process::Command::new("sh")
        .arg(&script)
        .env("OUT", sb.out())
        .status()
        .expect("sh");
    assert!(back.success());
    assert_eq!(hex(&sb.read_out("bin")), hex(value));

    for format in ["dotenv", "json", "gitlab"] {
        let o = sb.run(["export", "--format", format]);
        assert_eq!(code(&o), 1, "{format}");
        let err = stderr(&o);
        assert!(
            err.contains("env BIN: the value is not UTF-8 and cannot be exported as text"),
            "{format}: {err}"
        );
        assert!(err.contains("--format shell carries any bytes"), "{err}");
        assert!(o.stdout.is_empty(), "{format}: nothing printed");
    }
}
