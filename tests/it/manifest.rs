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
    assert!(err.contains("sx.toml:6:1\n  |\n6 | mdoe = \"0400\"\n  | ^^^^\n  = hint: did you mean `mode`? expected one of `ref`, `mode`, `name`, `optional`"), "{err}");
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
        "[env]\nA = \"azure-kv://only-a-vault\"\nB = \"op://Vault/Item\"\nC = \"gcp-sm://just-a-project\"\nD = \"vault://no-path\"\nE = \"azur-kv://acme/x\"\nF = \"vault://secret/app?version=abc\"\n",
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
    assert!(
        err.contains("error: bad reference in [env].F: `?version=abc` is not a version number\n --> sx.toml:7:"),
        "{err}"
    );
    assert!(
        err.contains("hint: KV v2 versions are numbers from 1, e.g. ?version=3"),
        "{err}"
    );
    assert!(err.contains("6 problems in"), "{err}");
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
    // A usage error (2) for the other commands, with a manifest or without one.
    let o = sb.run(["-p", "nope", "check"]);
    assert_eq!(
        (code(&o), stderr(&o).as_str()),
        (
            2,
            "error: no profile `nope` in the manifest\nhint: defined profiles: staging\n"
        )
    );
    let o = sb.run(["-p", "stagng", "check"]);
    assert_eq!(
        stderr(&o),
        "error: no profile `stagng` in the manifest\nhint: did you mean `staging`? defined profiles: staging\n"
    );
    // An empty -p is no profile, as an empty SX_PROFILE is.
    sb.env("SX_PROFILE", "");
    assert_success(&sb.run(["-p", "", "exec", "--", "sh", "-c", job]));
    assert_eq!(sb.read_out("v"), b"prod|info");
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
        stderr(&o).contains("timed out: no answer from provider `file` within 1s\n    hint: raise the deadline with --timeout, or check the file: a FIFO or a hung mount blocks a read\n"),
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

#[test]
fn bad_provider_settings_do_not_hide_the_reference_problems() {
    let sb = Sandbox::new();
    sb.manifest(
        "[providers.aws-sm]\nregoin = \"eu-west-1\"\nmax_attempts = \"three\"\n\n[env]\nA = \"aws-sm://x?bogus=1\"\nB = { ref = \"vault://no-path\" }\nC = \"local://ok#a..b\"\n\n[files.F]\nref = \"aws-sm://y?stage=\"\n",
    );
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        r#"error: unknown key `regoin` for provider type `aws-sm`
 --> sx.toml:2:1
  |
2 | regoin = "eu-west-1"
  | ^^^^^^
  = hint: did you mean `region`? expected one of region, profile, endpoint, role_arn, max_attempts, connect_timeout, timeout, concurrency, batch

error: `max_attempts` for provider type `aws-sm` must be an integer, not a string
 --> sx.toml:3:16
  |
3 | max_attempts = "three"
  |                ^^^^^^^

error: bad reference in [env].A: unknown query key `bogus`
 --> sx.toml:6:17
  |
6 | A = "aws-sm://x?bogus=1"
  |                 ^^^^^
  = hint: `aws-sm` accepts: version_id, stage

error: bad reference in [env].B: `no-path` is not MOUNT/PATH
 --> sx.toml:7:22
  |
7 | B = { ref = "vault://no-path" }
  |                      ^^^^^^^
  = hint: write vault://MOUNT/PATH, e.g. vault://secret/app#token

error: bad reference in [env].C: invalid field path `a..b`: empty segment between dots
 --> sx.toml:8:17
  |
8 | C = "local://ok#a..b"
  |                 ^^^^
  = hint: select a field with #key, #a.b, or a JSON Pointer #/a/b

error: bad reference in [files.F]: `?stage=` has no value
  --> sx.toml:11:19
   |
11 | ref = "aws-sm://y?stage="
   |                   ^^^^^^
   = hint: give a value, or leave the key out to read the current version

6 problems in sx.toml
"#
    );
}

#[test]
fn entries_with_a_bad_name_or_a_wrong_type_are_still_checked() {
    let sb = Sandbox::new();
    sb.manifest(
        "[env]\n1BAD = \"nope\"\nA-B = \"aws-sm://x?bogus=1\"\nC = { value = 5 }\nD = { ref = 5 }\n\n[files.3F]\nref = \"env://not a name\"\n",
    );
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        r#"error: `1BAD` is not a valid environment variable name
 --> sx.toml:2:1
  |
2 | 1BAD = "nope"
  | ^^^^
  = hint: names match [A-Za-z_][A-Za-z0-9_]*

error: [env].1BAD: `nope` is not a reference
 --> sx.toml:2:8
  |
2 | 1BAD = "nope"
  |        ^^^^^^
  = hint: a reference looks like SCHEME://PATH; for a plain value write 1BAD = { value = "..." }

error: `A-B` is not a valid environment variable name
 --> sx.toml:3:1
  |
3 | A-B = "aws-sm://x?bogus=1"
  | ^^^
  = hint: names match [A-Za-z_][A-Za-z0-9_]*

error: bad reference in [env].A-B: unknown query key `bogus`
 --> sx.toml:3:19
  |
3 | A-B = "aws-sm://x?bogus=1"
  |                   ^^^^^
  = hint: `aws-sm` accepts: version_id, stage

error: [env].C.value must be a string
 --> sx.toml:4:15
  |
4 | C = { value = 5 }
  |               ^

error: [env].D.ref must be a string
 --> sx.toml:5:13
  |
5 | D = { ref = 5 }
  |             ^

error: `3F` is not a valid environment variable name
 --> sx.toml:7:8
  |
7 | [files.3F]
  |        ^^
  = hint: names match [A-Za-z_][A-Za-z0-9_]*

error: bad reference in [files.3F]: `not a name` is not a variable name
 --> sx.toml:8:14
  |
8 | ref = "env://not a name"
  |              ^^^^^^^^^^
  = hint: write env://NAME, e.g. env://CI_JOB_TOKEN

8 problems in sx.toml
"#
    );
}

#[test]
fn problems_in_every_profile_are_reported_whichever_is_selected() {
    let sb = Sandbox::new();
    sb.manifest(
        "[env]\nA = \"aws-sm://x?stage=\"\nB = \"azur-kv://acme/b\"\n\n[profiles.staging.env]\nA = \"local://bad name\"\n9A = \"local://x\"\n\n[profiles.dev.files.K]\nref = \"op://Vault/Item\"\n",
    );
    let want = r#"error: bad reference in [env].A: `?stage=` has no value
 --> sx.toml:2:17
  |
2 | A = "aws-sm://x?stage="
  |                 ^^^^^^
  = hint: give a value, or leave the key out to read the current version

error: bad reference in [env].B: unknown scheme `azur-kv`
 --> sx.toml:3:6
  |
3 | B = "azur-kv://acme/b"
  |      ^^^^^^^
  = hint: did you mean `azure-kv://`?

error: bad reference in [profiles.staging.env].A: `bad name` is not a valid local secret name
 --> sx.toml:6:14
  |
6 | A = "local://bad name"
  |              ^^^^^^^^
  = hint: names use letters, digits, `-`, `_`, `.` and `/`

error: `9A` is not a valid environment variable name
 --> sx.toml:7:1
  |
7 | 9A = "local://x"
  | ^^
  = hint: names match [A-Za-z_][A-Za-z0-9_]*

error: bad reference in [profiles.dev.files.K]: `Vault/Item` is not VAULT/ITEM[/SECTION]/FIELD
  --> sx.toml:10:13
   |
10 | ref = "op://Vault/Item"
   |             ^^^^^^^^^^
   = hint: write op://VAULT/ITEM/FIELD or op://VAULT/ITEM/SECTION/FIELD, e.g. op://Prod/Postgres/password

5 problems in sx.toml
"#;
    // The same problems, once each, with no profile, with the profile that replaces the bad
    // base entry, and with another one.
    for profile in [None, Some("staging"), Some("dev")] {
        let mut args = Vec::new();
        if let Some(p) = profile {
            args.extend(["-p", p]);
        }
        args.push("check");
        let o = sb.run(&args);
        assert_eq!(code(&o), 1, "{profile:?}");
        assert_eq!(stderr(&o), want, "{profile:?}");
    }
    let o = sb.run([
        "-p",
        "dev",
        "exec",
        "--",
        "sh",
        "-c",
        "touch \"$OUT/started\"",
    ]);
    assert_eq!(code(&o), 125);
    assert_eq!(stderr(&o), want);
    assert!(!sb.out().join("started").exists());
}

#[test]
fn a_problem_far_along_a_huge_line_shows_the_part_around_it() {
    let sb = Sandbox::new();
    sb.manifest(&format!(
        "[env]\nX = {{ value = \"{}\", bogus = 1 }}\nY = \"{}\"\n",
        "a".repeat(70_000),
        "\u{1}".repeat(5_000)
    ));
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "error: unknown key `bogus` in [env].X\n --> sx.toml:2:70019\n  |\n2 | …{}\", bogus = 1 }}\n  | {}^^^^^\n",
            "a".repeat(57),
            " ".repeat(61)
        )),
        "{}",
        &err[..err.len().min(2000)]
    );
    // A value quoted in a message is cut too, and each line stays short.
    assert!(
        err.contains(&format!(
            "error: [env].Y: `{}…` is not a reference\n",
            "\\u{1}".repeat(80)
        )),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(
        err.lines().all(|l| l.chars().count() < 500),
        "{}",
        &err[..err.len().min(2000)]
    );
}

#[test]
fn keys_under_a_broken_header_are_not_reported_again_at_the_top_level() {
    let sb = Sandbox::new();
    sb.manifest("bogus = 1\n[env\nA = \"env://HOME\"\n\n[files]\nB = 1\n");
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        "error: unknown key `bogus` at the top level\n --> sx.toml:1:1\n  |\n1 | bogus = 1\n  | ^^^^^\n  \
         = hint: expected one of `providers`, `env`, `files`, `import`, `profiles`\n\n\
         error: invalid TOML: unclosed table, expected `]`\n --> sx.toml:2:5\n  |\n2 | [env\n  |     ^\n\n\
         error: [files.B] must be a table\n --> sx.toml:6:5\n  |\n6 | B = 1\n  |     ^\n\n\
         3 problems in sx.toml\n"
    );
}
