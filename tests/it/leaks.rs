//! Canary values must never reach sx's own output, logs, argv or environment.

use crate::support::*;

const CANARY: &str = "CANARY-7f3a9c-do-not-print";

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(!text.contains(CANARY), "canary leaked in {what}:\n{text}");
    assert!(
        !text.contains("7f3a9c"),
        "part of the canary leaked in {what}:\n{text}"
    );
}

fn local_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.init_local();
    sb.set_local("canary", CANARY.as_bytes());
    sb.set_local(
        "canary-json",
        format!(r#"{{"inner":"{CANARY}"}}"#).as_bytes(),
    );
    sb.set_local("canary-nul", format!("{CANARY}\0tail").as_bytes());
    sb
}

/// One manifest and command, and what sx must do with them, so that a clean stderr cannot
/// come from a run that did nothing.
struct Scenario {
    manifest: &'static str,
    cmd: &'static [&'static str],
    /// sx's exit code for `exec`, and the error it prints ("" when the run succeeds).
    exec_code: i32,
    exec_error: &'static str,
    /// `sx check`'s exit code.
    check_code: i32,
    /// Whether the manifest is valid, so that C is resolved and audited.
    resolved: bool,
}

/// The child records the value it was given, so the success case proves it ran with it.
const RECORD_C: &[&str] = &["sh", "-c", "printf %s \"$C\" > \"$OUT/c\""];

/// The JSON lines of a `--log-format json` stderr (every line must be one).
fn json_lines(what: &str, stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn the_canary_stays_out_of_stderr_at_every_verbosity_and_on_failure_paths() {
    let sb = local_sandbox();
    let scenarios = [
        Scenario {
            manifest: "[env]\nC = \"local://canary\"\n",
            cmd: RECORD_C,
            exec_code: 0,
            exec_error: "",
            check_code: 0,
            resolved: true,
        },
        Scenario {
            manifest: "[env]\nC = \"local://canary-json#missing\"\n",
            cmd: RECORD_C,
            exec_code: 125,
            exec_error: "field `missing` not found in the value of `local://canary-json`",
            check_code: 1,
            resolved: true,
        },
        Scenario {
            manifest: "[env]\nC = \"local://canary\"\n",
            cmd: &["no-such-command-sx-test"],
            exec_code: 127,
            exec_error: "command `no-such-command-sx-test` not found",
            check_code: 0,
            resolved: true,
        },
        Scenario {
            manifest: "[env]\nC = \"local://canary-nul\"\n",
            cmd: RECORD_C,
            exec_code: 125,
            exec_error: "env C: the value contains a NUL byte",
            check_code: 1,
            resolved: true,
        },
        Scenario {
            manifest: "[env]\nC = \"local://canary\"\n[files.F]\nref = \"local://canary-json#inner\"\nmode = \"7777\"\n",
            cmd: RECORD_C,
            exec_code: 125,
            exec_error: "[files.F].mode 7777 has setuid, setgid or sticky bits",
            check_code: 1,
            resolved: false,
        },
    ];
    let recorded = sb.out().join("c");
    for s in &scenarios {
        sb.manifest(s.manifest);
        for flags in [
            &["-vvv"][..],
            &["-vvv", "--log-format", "json"][..],
            &[][..],
        ] {
            let _ = std::fs::remove_file(&recorded);
            let mut args: Vec<&str> = flags.to_vec();
            args.extend(["exec", "--"]);
            args.extend(s.cmd);
            let o = sb.run(&args);
            let what = format!("{args:?} with {:?}", s.manifest);
            assert_clean(&format!("stderr of {what}"), &o.stderr);
            assert_clean(&format!("stdout of {what}"), &o.stdout);
            let err = stderr(&o);
            assert_eq!(code(&o), s.exec_code, "exit code of {what}\n{err}");
            if s.exec_code == 0 {
                assert_eq!(
                    std::fs::read(&recorded).expect("the child recorded C"),
                    CANARY.as_bytes(),
                    "the child of {what} got the value"
                );
            } else {
                assert!(
                    !recorded.exists(),
                    "the child of {what} must not have started"
                );
                assert!(err.contains(s.exec_error), "{what}\n{err}");
            }
            let json = flags.contains(&"json");
            let verbose = flags.contains(&"-vvv");
            if json {
                let lines = json_lines(&what, &err);
                let audited = lines.iter().any(|l| {
                    l["level"] == "INFO" && l["message"] == "resolved" && l["entry"] == "C"
                });
                assert_eq!(audited, s.resolved, "audit line of {what}\n{err}");
                if s.exec_code != 0 {
                    assert!(
                        lines.iter().any(|l| l["level"] == "ERROR"
                            && l["message"]
                                .as_str()
                                .is_some_and(|m| m.contains(s.exec_error))),
                        "JSON error line of {what}\n{err}"
                    );
                }
            } else {
                let audited = err.contains(" INFO resolved entry=\"C\" reference=");
                assert_eq!(audited, verbose && s.resolved, "log lines of {what}\n{err}");
            }
            if !verbose {
                assert!(!err.contains("INFO"), "no info lines by default: {err}");
            }
        }
        let o = sb.run(["-vvv", "check"]);
        assert_clean("check stdout", &o.stdout);
        assert_clean("check stderr", &o.stderr);
        assert_eq!(
            code(&o),
            s.check_code,
            "check of {:?}\n{}",
            s.manifest,
            stderr(&o)
        );
        if s.resolved {
            let reference = s.manifest.lines().nth(1).and_then(|l| l.split('"').nth(1));
            let reference = reference.expect("C's reference");
            let row = stdout(&o)
                .lines()
                .find(|l| l.starts_with("C "))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_owned());
            assert_eq!(row.as_deref(), Some(reference), "{}", stdout(&o));
            assert!(
                stderr(&o).contains(" INFO resolved entry=\"C\""),
                "{}",
                stderr(&o)
            );
        } else {
            assert_eq!(stdout(&o), "");
            assert!(stderr(&o).contains(s.exec_error), "{}", stderr(&o));
        }
    }
}

#[test]
fn the_canary_stays_out_of_aws_logs_at_trace_level() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("leaks/aws", &format!(r#"{{"k":"{CANARY}"}}"#));
    let sb = moto.sandbox(&moto.endpoint());
    // (manifest, exit code, the error printed, the entries audited)
    let cases: [(&str, i32, &str, &[&str]); 3] = [
        ("[env]\nC = \"aws-sm://leaks/aws#k\"\n", 0, "", &["C"]),
        (
            "[env]\nC = \"aws-sm://leaks/aws#nope\"\n",
            125,
            "field `nope` not found in the value of `aws-sm://leaks/aws`",
            &["C"],
        ),
        (
            "[env]\nC = \"aws-sm://leaks/aws\"\nD = \"aws-sm://leaks/missing\"\n",
            125,
            "env D: aws-sm://leaks/missing\n    not found: secret `leaks/missing`",
            &["C", "D"],
        ),
    ];
    let recorded = sb.out().join("c");
    for (manifest, want, error, entries) in cases {
        sb.manifest(manifest);
        for json in [false, true] {
            let _ = std::fs::remove_file(&recorded);
            let mut args = vec!["-vvv"];
            if json {
                args.extend(["--log-format", "json"]);
            }
            args.extend(["exec", "--"]);
            args.extend(RECORD_C);
            let o = sb.run(&args);
            let what = format!("{args:?} with {manifest:?}");
            let err = stderr(&o);
            assert_clean(&format!("stderr of {what}"), &o.stderr);
            assert_clean(&format!("stdout of {what}"), &o.stdout);
            assert_eq!(code(&o), want, "{what}\n{err}");
            if want == 0 {
                assert_eq!(
                    std::fs::read(&recorded).expect("the child recorded C"),
                    CANARY.as_bytes()
                );
            } else {
                assert!(!recorded.exists(), "{what}: the child must not start");
            }
            // -vvv shows the SDK's debug lines about the very calls that carried the canary.
            if json {
                let lines = json_lines(&what, &err);
                let sdk = lines
                    .iter()
                    .filter(|l| {
                        l["level"] == "DEBUG"
                            && l["target"].as_str().is_some_and(|t| t.starts_with("aws_"))
                    })
                    .count();
                assert!(sdk >= 10, "{what}: {sdk} SDK debug lines\n{err}");
                for e in entries {
                    assert!(
                        lines
                            .iter()
                            .any(|l| l["message"] == "resolved" && l["entry"] == *e),
                        "{what}: audit line for {e}\n{err}"
                    );
                }
                if want != 0 {
                    assert!(
                        lines.iter().any(|l| l["level"] == "ERROR"
                            && l["message"].as_str().is_some_and(|m| m.contains(error))),
                        "{what}\n{err}"
                    );
                }
            } else {
                let sdk = err
                    .lines()
                    .filter(|l| {
                        l.starts_with("DEBUG ") && l.contains("rpc.service=\"Secrets Manager\"")
                    })
                    .count();
                assert!(sdk >= 10, "{what}: {sdk} SDK debug lines\n{err}");
                for e in entries {
                    assert!(
                        err.contains(&format!(" INFO resolved entry=\"{e}\" reference=")),
                        "{what}: audit line for {e}\n{err}"
                    );
                }
                assert!(err.contains(error), "{what}\n{err}");
            }
        }
    }
}

#[test]
fn the_canary_is_not_in_sx_argv_or_environment_while_the_child_runs() {
    let sb = local_sandbox();
    sb.manifest("[env]\nC = \"local://canary\"\n");
    sb.write("out/expected", CANARY);
    // The child reads its parent's (sx's) /proc entries. As root they stay readable even
    // though sx is not dumpable; as another user they are closed, which is also fine.
    let o = sb.run([
        "exec",
        "--",
        "sh",
        "-c",
        "cat /proc/$PPID/environ > \"$OUT/environ\" 2>/dev/null; cat /proc/$PPID/cmdline > \"$OUT/cmdline\"; test \"$C\" = \"$(cat \"$OUT/expected\")\" && echo seen > \"$OUT/seen\"",
    ]);
    assert_success(&o);
    assert_eq!(
        sb.read_out("seen"),
        b"seen\n",
        "the child did get the value"
    );
    assert_clean("sx environ", &sb.read_out("environ"));
    assert_clean("sx cmdline", &sb.read_out("cmdline"));
}

#[test]
fn audit_lines_name_entries_never_values() {
    let sb = local_sandbox();
    sb.manifest("[env]\nC = \"local://canary\"\nJ = \"local://canary-json#inner\"\n");
    let o = sb.run(["--log-format", "json", "exec", "--", "true"]);
    assert_success(&o);
    assert_clean("audit", &o.stderr);
    let lines: Vec<serde_json::Value> = stderr(&o)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["message"] == "resolved")
        .collect();
    assert_eq!(lines.len(), 2, "{}", stderr(&o));
    let c = lines.iter().find(|l| l["entry"] == "C").expect("C audited");
    assert_eq!(c["scheme"], "local");
    assert_eq!(c["path"], "canary");
    assert_eq!(c["outcome"], "ok");
    assert!(c["duration_ms"].is_u64());

    // A failure is one JSON line too, formatted like the others, its hint a field of its own.
    sb.manifest("[env]\nC = \"local://canary#missing\"\n");
    let o = sb.run(["--log-format", "json", "exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert_clean("error line", &o.stderr);
    let error: serde_json::Value = stderr(&o)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["level"] == "ERROR")
        .expect("an ERROR line");
    assert!(
        error["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{error}"
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m
                .starts_with("could not resolve 1 of 1 entry\n  env C: local://canary#missing\n")),
        "{error}"
    );
    // A resolve error's hints are inside its message; only a top-level hint is a field.
    assert!(error.get("hint").is_none(), "{error}");
    // Even with logging turned off, the error is told.
    let mut quiet = local_sandbox();
    quiet.env("SX_LOG", "off");
    let o = quiet.run(["--log-format", "json", "get", "canary"]);
    assert_eq!(code(&o), 2);
    let line: serde_json::Value = serde_json::from_str(stderr(&o).trim()).expect("one JSON line");
    assert_eq!(
        line["hint"],
        "a reference looks like SCHEME://PATH, e.g. `local://api-token`"
    );
}
