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

#[test]
fn the_canary_stays_out_of_stderr_at_every_verbosity_and_on_failure_paths() {
    let sb = local_sandbox();
    let scenarios: [(&str, &[&str]); 5] = [
        ("[env]\nC = \"local://canary\"\n", &["true"]),
        ("[env]\nC = \"local://canary-json#missing\"\n", &["true"]),
        (
            "[env]\nC = \"local://canary\"\n",
            &["no-such-command-sx-test"],
        ),
        ("[env]\nC = \"local://canary-nul\"\n", &["true"]),
        (
            "[env]\nC = \"local://canary\"\n[files.F]\nref = \"local://canary-json#inner\"\nmode = \"7777\"\n",
            &["true"],
        ),
    ];
    for (manifest, cmd) in scenarios {
        sb.manifest(manifest);
        for flags in [
            &["-vvv"][..],
            &["-vvv", "--log-format", "json"][..],
            &[][..],
        ] {
            let mut args: Vec<&str> = flags.to_vec();
            args.extend(["exec", "--"]);
            args.extend(cmd);
            let o = sb.run(&args);
            assert_clean(&format!("stderr of {args:?} with {manifest:?}"), &o.stderr);
            assert_clean(&format!("stdout of {args:?}"), &o.stdout);
        }
        let o = sb.run(["-vvv", "check"]);
        assert_clean("check stdout", &o.stdout);
        assert_clean("check stderr", &o.stderr);
    }
}

#[test]
fn the_canary_stays_out_of_aws_logs_at_trace_level() {
    let Some(moto) = Moto::get() else { return };
    moto.create_secret_string("leaks/aws", &format!(r#"{{"k":"{CANARY}"}}"#));
    let mut sb = Sandbox::new();
    for (k, v) in moto.aws_env(&moto.endpoint()) {
        sb.env(k, &v);
    }
    for manifest in [
        "[env]\nC = \"aws-sm://leaks/aws#k\"\n",
        "[env]\nC = \"aws-sm://leaks/aws#nope\"\n",
        "[env]\nC = \"aws-sm://leaks/aws\"\nD = \"aws-sm://leaks/missing\"\n",
    ] {
        sb.manifest(manifest);
        let o = sb.run(["-vvv", "exec", "--", "true"]);
        assert_clean("aws -vvv stderr", &o.stderr);
        let o = sb.run(["-vvv", "--log-format", "json", "exec", "--", "true"]);
        assert_clean("aws json stderr", &o.stderr);
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
}
