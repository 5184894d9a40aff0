//! Manifest handling as users meet it: discovery, profiles, and the errors for bad input.

use crate::support::*;

#[test]
fn a_crlf_manifest_works_like_an_lf_one() {
    let mut sb = Sandbox::new();
    sb.env("SRC", "crlf-ok");
    let text = "# comment\r\n[env]\r\nA = \"env://SRC\"\r\nB = { value = \"plain\" }\r\n";
    sb.manifest(text);
    let o = sb.run(["exec", "--", "sh", "-c", "printf %s \"$A|$B\" > \"$OUT/v\""]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"crlf-ok|plain");

    // Errors in a CRLF file point at the same line and column as in an LF file.
    sb.manifest("[env]\r\nA = { ref = \"env://SRC\", typo = true }\r\n");
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    let crlf = stderr(&o);
    sb.manifest("[env]\nA = { ref = \"env://SRC\", typo = true }\n");
    let lf = stderr(&sb.run(["check"]));
    assert!(lf.contains("sx.toml:2:26"), "{lf}");
    assert_eq!(crlf, lf);
}

#[test]
fn an_unknown_key_is_reported_with_line_column_and_source() {
    let sb = Sandbox::new();
    sb.manifest(
        "[env]\nA = { value = \"x\" }\n\n[files.KEY]\nref = \"env://HOME\"\nmdoe = \"0400\"\n",
    );
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    let want = "error: unknown key `mdoe` in [files.KEY]\n --> ";
    assert!(err.contains(want), "{err}");
    assert!(err.contains("sx.toml:6:1\n  |\n6 | mdoe = \"0400\"\n  | ^^^^\n  = hint: expected one of `ref`, `mode`, `name`, `optional`"), "{err}");
    // Other commands report the same problem with exit code 1.
    assert_eq!(code(&sb.run(["check"])), 1);
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let sb = Sandbox::new();
    sb.manifest(
        "[env]\nA = \"nope\"\nB = \"aws-sm://x?versoin=1\"\nC = \"vault-prod://secret/app\"\nD = \"local://ok#a..b\"\n\"1BAD\" = { value = \"x\" }\n",
    );
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("sx.toml:2:5"), "{err}");
    assert!(err.contains("`nope` is not a reference"), "{err}");
    assert!(err.contains("unknown query key `versoin`"), "{err}");
    assert!(err.contains("unknown scheme `vault-prod`"), "{err}");
    assert!(err.contains("empty segment between dots"), "{err}");
    assert!(
        err.contains("`1BAD` is not a valid environment variable name"),
        "{err}"
    );
    assert!(err.contains("5 problems in"), "{err}");
    assert_eq!(err.matches("error: ").count(), 5, "{err}");
}

#[test]
fn three_bad_references_give_three_errors() {
    let sb = Sandbox::new();
    sb.manifest("[env]\nA = \"Bad://x\"\nB = \"local://\"\nC = \"env://not a name\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert_eq!(err.matches("error: ").count(), 3, "{err}");
    for (line, what) in [
        (2, "invalid scheme `Bad`"),
        (3, "has an empty path"),
        (4, "is not a variable name"),
    ] {
        assert!(err.contains(what), "{what}: {err}");
        assert!(
            err.contains(&format!("sx.toml:{line}:")),
            "line {line}: {err}"
        );
    }
}

#[test]
fn every_provider_checks_its_reference_shape_at_plan_time() {
    let sb = Sandbox::new();
    sb.manifest(
        "[env]\nA = \"azure-kv://only-a-vault\"\nB = \"op://Vault/Item\"\nC = \"gcp-sm://just-a-project\"\nD = \"vault://no-path\"\nE = \"azur-kv://acme/x\"\n",
    );
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("`only-a-vault` is not VAULT-NAME/SECRET[/VERSION]"),
        "{err}"
    );
    assert!(
        err.contains("`Vault/Item` is not VAULT/ITEM[/SECTION]/FIELD"),
        "{err}"
    );
    assert!(
        err.contains("`just-a-project` is not PROJECT/SECRET[/VERSION]"),
        "{err}"
    );
    assert!(err.contains("`no-path` is not MOUNT/PATH"), "{err}");
    assert!(err.contains("unknown scheme `azur-kv`"), "{err}");
    assert!(err.contains("sx.toml:2:17"), "{err}");
    assert!(err.contains("5 problems in"), "{err}");
}

#[test]
fn a_name_in_both_env_and_files_is_an_error_naming_both() {
    let sb = Sandbox::new();
    sb.manifest("[env]\nKEY = \"env://HOME\"\n\n[files.KEY]\nref = \"env://HOME\"\n");
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("`KEY` is defined twice: in [env] and in [files.KEY]\n --> "),
        "{err}"
    );
    assert!(err.contains("sx.toml:4:8"), "{err}");
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    assert_eq!(stderr(&o), err, "exec reports the same problem");
    assert!(!sb.out().join("started").exists());
}

#[test]
fn a_duplicate_key_is_reported_by_position() {
    let sb = Sandbox::new();
    sb.manifest("[env]\nA = \"env://HOME\"\nA = \"env://PATH\"\n");
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("error: `A` is defined twice\n"), "{err}");
    assert!(
        err.contains("sx.toml:3:1\n  |\n3 | A = \"env://PATH\"\n"),
        "{err}"
    );
}

#[test]
fn profiles_overlay_the_base_tables() {
    let mut sb = Sandbox::new();
    sb.env("PROD_DB", "prod").env("STAGING_DB", "staging");
    sb.manifest(
        "[env]\nDB = \"env://PROD_DB\"\nLEVEL = { value = \"info\" }\n\n[profiles.staging.env]\nDB = \"env://STAGING_DB\"\n",
    );
    let job = "printf %s \"$DB|$LEVEL\" > \"$OUT/v\"";
    assert_success(&sb.run(["exec", "--", "sh", "-c", job]));
    assert_eq!(sb.read_out("v"), b"prod|info");
    assert_success(&sb.run(["-p", "staging", "exec", "--", "sh", "-c", job]));
    assert_eq!(sb.read_out("v"), b"staging|info");
    sb.env("SX_PROFILE", "staging");
    assert_success(&sb.run(["exec", "--", "sh", "-c", job]));
    assert_eq!(sb.read_out("v"), b"staging|info");

    let o = sb.run(["-p", "nope", "exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(stderr(&o).contains("no profile `nope`"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("defined profiles: staging"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_manifest_is_found_upward_or_named_explicitly() {
    let mut sb = Sandbox::new();
    sb.env("SRC", "found");
    sb.manifest("[env]\nV = \"env://SRC\"\n");
    let deep = sb.path().join("a/b/c");
    std::fs::create_dir_all(&deep).expect("mkdir");
    let o = sb
        .sx(["exec", "--", "sh", "-c", "printf %s \"$V\" > \"$OUT/v\""])
        .current_dir(&deep)
        .output()
        .expect("run");
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"found");

    let other = sb.write(
        "elsewhere/custom.toml",
        "[env]\nV = { value = \"explicit\" }\n",
    );
    let o = sb.run([
        std::ffi::OsStr::new("-f"),
        other.as_os_str(),
        "exec".as_ref(),
        "--".as_ref(),
        "sh".as_ref(),
        "-c".as_ref(),
        "printf %s \"$V\" > \"$OUT/v\"".as_ref(),
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"explicit");
}

#[test]
fn no_manifest_is_a_clear_error() {
    let sb = Sandbox::new();
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(err.contains("no sx.toml found"), "{err}");
    assert!(err.contains("hint: create one with `sx init`"), "{err}");
}

#[test]
fn usage_errors_exit_2_but_125_for_exec() {
    let sb = Sandbox::new();
    // A valid manifest, so that the usage error is the only thing that can fail.
    sb.manifest("[env]\nA = { value = \"1\" }\n");
    let o = sb.run(["get"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("the following required arguments were not provided:\n  <REF>"),
        "{}",
        stderr(&o)
    );
    let o = sb.run([
        "exec",
        "--timeout",
        "soon",
        "--",
        "sh",
        "-c",
        "touch \"$OUT/started\"",
    ]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("invalid value 'soon' for '--timeout <DUR>': `soon` is not a duration"),
        "{}",
        stderr(&o)
    );
    assert!(!sb.out().join("started").exists());
    let o = sb.run(["get", "not-a-reference"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("bad reference: `not-a-reference` is not a reference"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn odd_files_and_values_are_reported_precisely() {
    let sb = Sandbox::new();
    // A byte-order mark does not shift columns.
    sb.write("sx.toml", "\u{feff}bogus = 1\n");
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("error: unknown key `bogus` at the top level"),
        "{err}"
    );
    assert!(
        err.contains("sx.toml:1:1\n  |\n1 | bogus = 1\n  | ^^^^^\n"),
        "{err}"
    );
    assert!(!err.contains('\u{feff}'), "{err}");

    // Not UTF-8: a manifest error with the position of the first bad byte.
    sb.write("sx.toml", b"[env]\nA = \"\xff\"\n".as_slice());
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("the manifest is not valid UTF-8"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("sx.toml:2:6"), "{}", stderr(&o));

    sb.manifest("[env]\nA = \"aws-sm://x?version_id=\"\n\n[[import]]\nref = \"local://x\"\nprefix = \"9\"\n\n[files.F]\nref = \"env://HOME\"\nmode = \"4755\"\n");
    let err = stderr(&sb.run(["check"]));
    assert!(err.contains("`?version_id=` has no value"), "{err}");
    assert!(
        err.contains("prefix must be letters, digits and `_`, not starting with a digit"),
        "{err}"
    );
    assert!(
        err.contains("mode 4755 has setuid, setgid or sticky bits"),
        "{err}"
    );
    assert!(err.contains("3 problems in"), "{err}");
}

#[test]
fn a_file_that_never_answers_is_bounded_by_the_deadline() {
    let sb = Sandbox::new();
    let fifo = sb.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    sb.manifest(&format!("[env]\nF = \"file://{}\"\n", fifo.display()));
    let started = std::time::Instant::now();
    let o = sb.run(["exec", "--timeout", "1s", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("timed out: no answer from provider `file` within 1s"),
        "{}",
        stderr(&o)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_bad_percent_escape_is_a_bad_reference() {
    let sb = Sandbox::new();
    sb.manifest("[env]\nA = \"file:///tmp/a%zz\"\nB = \"aws-sm://x?stage=%\"\n");
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    let hint = "  = hint: a `%` starts an escape of two hex digits, like %23 for `#`; write `%25` for a literal `%`\n";
    assert!(
        stderr(&o).contains(&format!(
            "error: bad reference in [env].A: invalid percent-encoding `%zz` in the path\n --> sx.toml:2:19\n  |\n2 | A = \"file:///tmp/a%zz\"\n  |                   ^^^\n{hint}"
        )),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(&format!(
            "error: bad reference in [env].B: invalid percent-encoding `%` in a query value\n --> sx.toml:3:23\n  |\n3 | B = \"aws-sm://x?stage=%\"\n  |                       ^\n{hint}"
        )),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).ends_with("2 problems in sx.toml\n"),
        "{}",
        stderr(&o)
    );

    // On the command line it is a usage error, like any malformed reference.
    let empty = Sandbox::new();
    for (reference, bad) in [
        ("file:///tmp/a%zz", "%zz"),
        ("file:///tmp/a%", "%"),
        ("aws-sm://a%zz", "%zz"),
    ] {
        let o = empty.run(["get", reference]);
        assert_eq!(code(&o), 2, "{reference}");
        assert_eq!(
            stderr(&o),
            format!(
                "error: bad reference: invalid percent-encoding `{bad}` in the path\nhint: a `%` starts an escape of two hex digits, like %23 for `#`; write `%25` for a literal `%`\n"
            ),
            "{reference}"
        );
    }
}
