//! Process semantics of `sx exec`: exit codes, argv, environment, signals, the terminal.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::*;

fn plain_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.manifest("[env]\nGREETING = { value = \"hello\" }\n");
    sb
}

#[test]
fn exit_codes_pass_through() {
    let sb = plain_sandbox();
    assert_eq!(code(&sb.run(["exec", "--", "sh", "-c", "exit 42"])), 42);
    assert_eq!(
        code(&sb.run(["exec", "--", "sh", "-c", "kill -KILL $$"])),
        137
    );
    assert_eq!(
        code(&sb.run(["exec", "--", "sh", "-c", "kill -TERM $$"])),
        143
    );

    let o = sb.run(["exec", "--", "no-such-command-sx-test"]);
    assert_eq!(code(&o), 127);
    assert!(
        stderr(&o).contains("command `no-such-command-sx-test` not found"),
        "{}",
        stderr(&o)
    );

    let not_exec = sb.write("data.txt", "not a program");
    let o = sb.run([
        std::ffi::OsStr::new("exec"),
        "--".as_ref(),
        not_exec.as_os_str(),
    ]);
    assert_eq!(code(&o), 126);
    assert!(stderr(&o).contains("is not executable"), "{}", stderr(&o));

    // An executable file without #! is not handed to a shell (execvp would): 126.
    let no_shebang = sb.script("no-shebang", "");
    std::fs::write(&no_shebang, "touch \"$OUT/ran-by-a-shell\"\n").expect("write");
    let o = sb.run([
        std::ffi::OsStr::new("exec"),
        "--".as_ref(),
        no_shebang.as_os_str(),
    ]);
    assert_eq!(code(&o), 126);
    assert!(
        stderr(&o).contains("is not a program: it has no #! line"),
        "{}",
        stderr(&o)
    );
    assert!(!sb.out().join("ran-by-a-shell").exists());

    // An empty command name is not found, as in a shell, not the directory "DIR/".
    let o = sb.run(["exec", "--", ""]);
    assert_eq!(code(&o), 127, "{}", stderr(&o));

    let bad_interpreter = sb.script("bad-interp", "");
    std::fs::write(&bad_interpreter, "#!/nonexistent/interpreter\n").expect("write");
    let o = sb.run([
        std::ffi::OsStr::new("exec"),
        "--".as_ref(),
        bad_interpreter.as_os_str(),
    ]);
    assert_eq!(code(&o), 127);
    assert!(
        stderr(&o).contains("the interpreter named on its #! line was not found"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn arguments_reach_the_child_verbatim() {
    let sb = plain_sandbox();
    let job = sb.script(
        "args.sh",
        "for a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$OUT/args\"",
    );
    let args = [
        "two words",
        "\"double\" 'single'",
        "*",
        "$(id)",
        "",
        "--flag=x y",
    ];
    let mut cmd = vec![
        std::ffi::OsString::from("exec"),
        "--".into(),
        job.into_os_string(),
    ];
    cmd.extend(args.iter().map(Into::into));
    assert_success(&sb.run(&cmd));
    let got = sb.read_out("args");
    let got: Vec<&[u8]> = got.split(|b| *b == 0).collect();
    let want: Vec<&[u8]> = args
        .iter()
        .map(|a| a.as_bytes())
        .chain([&b""[..]])
        .collect();
    assert_eq!(got, want);
}

#[test]
fn environment_precedence_and_sx_settings_are_not_passed_on() {
    let mut sb = Sandbox::new();
    sb.env("GREETING", "inherited")
        .env("KEEP_ME", "kept")
        .env("SX_LOG", "warn")
        .env("SX_AGE_IDENTITY_FILE", "/nonexistent");
    sb.manifest("[env]\nGREETING = { value = \"from-manifest\" }\n");
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    assert_eq!(env["GREETING"], b"from-manifest");
    assert_eq!(env["KEEP_ME"], b"kept");
    assert!(!env.contains_key("SX_LOG"));
    assert!(!env.contains_key("SX_AGE_IDENTITY_FILE"));

    let o = sb.run(["exec", "--clean-env", "--", "/usr/bin/env", "-0"]);
    assert_success(&o);
    let env = parse_env0(&o.stdout);
    let mut names: Vec<_> = env.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["GREETING", "HOME", "LANG", "PATH"]);
}

#[test]
fn env_refs_resolve_references_found_in_the_environment() {
    let mut sb = Sandbox::new();
    sb.env("SOURCE_VALUE", "resolved!")
        .env("WANTS_SECRET", "env://SOURCE_VALUE")
        .env("A_PROXY", "http://proxy.invalid:3128");
    // No manifest at all: --env-refs works alone.
    let o = sb.run([
        "exec",
        "--env-refs",
        "--",
        "sh",
        "-c",
        "env -0 > \"$OUT/env\"",
    ]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    assert_eq!(env["WANTS_SECRET"], b"resolved!");
    assert_eq!(env["A_PROXY"], b"http://proxy.invalid:3128");
}

#[test]
fn exec_flag_replaces_sx_with_the_child() {
    let sb = plain_sandbox();
    let child = sb
        .sx([
            "exec",
            "--exec",
            "--",
            "sh",
            "-c",
            "echo $$ > \"$OUT/pid\"; exit 3",
        ])
        .spawn()
        .expect("spawn");
    let sx_pid = child.id();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(code(&out), 3);
    let pid = String::from_utf8(sb.read_out("pid")).expect("utf8");
    assert_eq!(pid.trim(), sx_pid.to_string());

    let sb = Sandbox::new();
    sb.manifest("[files.F]\nref = \"env://HOME\"\n");
    let o = sb.run(["exec", "--exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains(
            "--exec cannot be used with secret files ([files] entries, or ?destination=tempfile)"
        ),
        "{}",
        stderr(&o)
    );
}

/// Starts `sx exec` with a child that counts signals into $OUT/count and exits 7 once
/// $OUT/stop exists; returns the running sx.
fn counting_child(sb: &Sandbox) -> std::process::Child {
    let job = sb.script(
        "count.sh",
        r#"for s in INT TERM HUP USR1 USR2 QUIT; do trap "echo $s >> \"\$OUT/count\"" $s; done
echo "$F" > "$OUT/file-path"
touch "$OUT/ready"
while [ ! -e "$OUT/stop" ]; do sleep 0.02; done
exit 7"#,
    );
    sb.sx([std::ffi::OsStr::new("exec"), "--".as_ref(), job.as_os_str()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sx")
}

#[test]
fn signals_sent_to_sx_reach_the_child_exactly_once() {
    for sig in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGUSR1,
    ] {
        let sb = Sandbox::new();
        sb.manifest("[files.F]\nref = \"env://HOME\"\n");
        let sx = counting_child(&sb);
        assert!(wait_for(Duration::from_secs(10), || sb
            .out()
            .join("ready")
            .exists()));
        let file = String::from_utf8(sb.read_out("file-path")).expect("utf8");
        let file = std::path::PathBuf::from(file.trim());
        assert!(file.exists());

        kill(Pid::from_raw(sx.id() as i32), sig).expect("kill");
        let name = sig.as_str().trim_start_matches("SIG").to_owned();
        assert!(wait_for(Duration::from_secs(5), || sb
            .out()
            .join("count")
            .exists()));
        // Give a duplicate time to arrive before stopping the child.
        std::thread::sleep(Duration::from_millis(300));
        sb.write("out/stop", "");
        let out = sx.wait_with_output().expect("wait");
        assert_eq!(code(&out), 7, "sx exits with the child's status");
        assert_eq!(
            String::from_utf8(sb.read_out("count")).expect("utf8"),
            format!("{name}\n")
        );
        assert!(!file.exists(), "secret file removed");
        assert!(
            !file.parent().expect("dir").exists(),
            "run directory removed"
        );
    }
}

#[test]
fn a_signal_that_kills_the_child_gives_128_plus_n_and_removes_files() {
    let sb = Sandbox::new();
    sb.manifest("[files.F]\nref = \"env://HOME\"\n");
    let sx = sb
        .sx([
            "exec",
            "--",
            "sh",
            "-c",
            "echo \"$F\" > \"$OUT/file-path\"; exec sleep 30",
        ])
        .spawn()
        .expect("spawn");
    assert!(wait_for(Duration::from_secs(10), || sb
        .out()
        .join("file-path")
        .exists()));
    std::thread::sleep(Duration::from_millis(100));
    let file = String::from_utf8(sb.read_out("file-path")).expect("utf8");
    let file = std::path::PathBuf::from(file.trim());
    // The file is there, holding the value, while the child runs.
    let home = sb.path().join("home");
    assert_eq!(
        std::fs::read(&file).expect("the secret file"),
        home.as_os_str().as_encoded_bytes()
    );
    kill(Pid::from_raw(sx.id() as i32), Signal::SIGTERM).expect("kill");
    let out = sx.wait_with_output().expect("wait");
    assert_eq!(code(&out), 143);
    assert!(!file.exists(), "secret file removed");
    assert!(
        !file.parent().expect("dir").exists(),
        "run directory removed"
    );
}

/// Not a test on its own: run as the child of `sx exec` by the terminal test below (with
/// `SX_TEST_SIGNAL_COUNTER` set), it counts every SIGINT delivery with a C-level handler, so
/// two signals are two counts (a shell trap would fold them into one). Ignored, so that a
/// normal run does not report this helper as a test that passed.
#[test]
#[ignore = "a helper that the signal tests run as sx's child"]
fn helper_signal_counter() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    extern "C" fn on_int(_: libc::c_int) {
        COUNT.fetch_add(1, Ordering::SeqCst);
    }
    let Some(out) = std::env::var_os("SX_TEST_SIGNAL_COUNTER") else {
        return;
    };
    let out = std::path::PathBuf::from(out);
    // SAFETY: the handler only touches an atomic, which is async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_int as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
    }
    std::fs::write(out.join("ready"), "").expect("ready");
    while !out.join("stop").exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::write(out.join("count"), COUNT.load(Ordering::SeqCst).to_string()).expect("count");
    std::process::exit(5);
}

/// `sx exec` whose command is `helper_signal_counter` (this test binary).
fn counting_sx(sb: &Sandbox) -> std::process::Command {
    let me = std::env::current_exe().expect("test binary");
    sb.sx([
        std::ffi::OsStr::new("exec"),
        "--".as_ref(),
        me.as_os_str(),
        "--exact".as_ref(),
        "exec_process::helper_signal_counter".as_ref(),
        "--ignored".as_ref(),
        "--test-threads=1".as_ref(),
        "--quiet".as_ref(),
    ])
}

#[test]
fn ctrl_c_in_a_terminal_reaches_the_child_once() {
    use nix::pty::openpty;
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;

    let mut sb = plain_sandbox();
    sb.env("SX_TEST_SIGNAL_COUNTER", sb.out().to_str().expect("utf8"));
    let pty = openpty(None, None).expect("openpty");
    let slave = pty.slave.as_raw_fd();
    let mut cmd = counting_sx(&sb);
    let stdio = || Stdio::from(pty.slave.try_clone().expect("dup"));
    cmd.stdin(stdio()).stdout(stdio()).stderr(stdio());
    // SAFETY: setsid and ioctl are async-signal-safe; they make the pty sx's controlling
    // terminal with sx's group in the foreground, as a shell would.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(slave, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut sx = cmd.spawn().expect("spawn");
    assert!(wait_for(Duration::from_secs(20), || sb
        .out()
        .join("ready")
        .exists()));
    // ^C typed at the terminal: the line discipline signals the whole foreground group.
    nix::unistd::write(&pty.master, b"\x03").expect("write ^C");
    std::thread::sleep(Duration::from_millis(300));
    sb.write("out/stop", "");
    let status = sx.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(5),
        "{status:?} signal {:?}",
        status.signal()
    );
    assert_eq!(String::from_utf8(sb.read_out("count")).expect("utf8"), "1");
}

#[test]
fn stdin_passes_through_to_the_child() {
    let sb = plain_sandbox();
    let o = sb.run_with_stdin(
        ["exec", "--", "sh", "-c", "cat > \"$OUT/stdin\""],
        b"piped\x00input\n",
    );
    assert_success(&o);
    assert_eq!(sb.read_out("stdin"), b"piped\x00input\n");
}

#[test]
fn a_value_too_large_for_the_environment_is_an_sx_error_not_e2big() {
    let sb = Sandbox::new();
    let big = sb.write("big.txt", vec![b'x'; 200 * 1024]);
    sb.manifest(&format!("[env]\nBIG = \"file://{}\"\n", big.display()));
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("env BIG: the value is 204800 bytes, more than the kernel allows"),
        "{err}"
    );
    assert!(err.contains("[files.BIG]"), "{err}");
    assert!(!sb.out().join("started").exists());

    // The same value as a file is fine.
    sb.manifest(&format!(
        "[files.BIG]\nref = \"file://{}\"\n",
        big.display()
    ));
    let o = sb.run(["exec", "--", "sh", "-c", "wc -c < \"$BIG\" > \"$OUT/size\""]);
    assert_success(&o);
    assert_eq!(
        String::from_utf8(sb.read_out("size")).expect("utf8").trim(),
        "204800"
    );
}

#[test]
fn as_pid_1_sx_reaps_orphans() {
    let unshare_ok = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !unshare_ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and needs unshare for this test"
        );
        eprintln!("skipped: cannot create a PID namespace here");
        return;
    }
    let sb = plain_sandbox();
    // The child starts a grandchild in the background and exits at once without waiting:
    // the grandchild is re-parented to PID 1 (sx) and must be reaped when it exits.
    let job = sb.script(
        "orphans.sh",
        r#"(sleep 0.2 & echo $! > "$OUT/orphan")
sleep 0.6
for p in $(cat "$OUT/orphan"); do
  if [ -e /proc/$p ]; then cut -d' ' -f3 /proc/$p/stat > "$OUT/state"; else echo gone > "$OUT/state"; fi
done
echo "$PPID" > "$OUT/parent-pid""#,
    );
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", SX, "exec", "--"])
        .arg(&job)
        .current_dir(sb.path())
        .env("OUT", sb.out())
        .env("HOME", sb.path().join("home"))
        .env("XDG_CONFIG_HOME", sb.path().join("config"));
    let o = cmd.output().expect("run");
    assert_success(&o);
    // The orphan (reparented to sx as PID 1) was reaped: not a zombie ("Z").
    assert_eq!(
        String::from_utf8(sb.read_out("state"))
            .expect("utf8")
            .trim(),
        "gone"
    );
    assert_eq!(
        String::from_utf8(sb.read_out("parent-pid"))
            .expect("utf8")
            .trim(),
        "1",
        "sx is PID 1"
    );
}

#[test]
fn a_provider_that_never_answers_hits_the_deadline() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // Accept and hold connections without ever answering.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    let mut sb = Sandbox::new();
    sb.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", &format!("http://127.0.0.1:{port}"));
    sb.manifest("[env]\nSLOW = \"aws-sm://never/answers\"\n");
    let started = std::time::Instant::now();
    let o = sb.run([
        "exec",
        "--timeout",
        "1s",
        "--",
        "sh",
        "-c",
        "touch \"$OUT/started\"",
    ]);
    let took = started.elapsed();
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("timed out: no answer from provider `aws-sm` within 1s"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--timeout"), "{}", stderr(&o));
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(!sb.out().join("started").exists());
}

#[test]
fn mask_hides_secret_values_in_the_commands_output() {
    let mut sb = Sandbox::new();
    sb.env("SRC", "s3cr3t-value-42").env(
        "PEM",
        "-----BEGIN KEY-----\nline-of-key-material\n-----END KEY-----",
    );
    sb.manifest(
        "[env]\nTOKEN = \"env://SRC\"\nKEY = \"env://PEM\"\nLEVEL = { value = \"info-level\" }\n",
    );
    // The token is written in two pieces with a pause between: still masked.
    let job = sb.script(
        "talk.sh",
        "printf 'token=%s\\n' \"$TOKEN\"\nprintf 's3cr3t-'; sleep 0.2; printf 'value-42 again\\n'\necho \"level $LEVEL\"\necho line-of-key-material >&2\nexit 9",
    );
    let o = sb.run([
        std::ffi::OsStr::new("exec"),
        "--mask".as_ref(),
        "--".as_ref(),
        job.as_os_str(),
    ]);
    assert_eq!(code(&o), 9);
    assert_eq!(stdout(&o), "token=***\n*** again\nlevel info-level\n");
    assert_eq!(stderr(&o), "***\n");

    let o = sb.run(["exec", "--mask", "--exec", "--", "true"]);
    assert_eq!(code(&o), 125, "--mask needs sx in the middle");

    // A background process keeping the output open: sx stops waiting, and says so once.
    let o = sb.run([
        "exec",
        "--mask",
        "--",
        "sh",
        "-c",
        "sleep 3 & echo \"$TOKEN\"",
    ]);
    assert_success(&o);
    assert_eq!(stdout(&o), "***\n");
    assert_eq!(
        stderr(&o)
            .matches("--mask: a background process still holds the command's output")
            .count(),
        1,
        "{}",
        stderr(&o)
    );
}

/// Starts `sx exec --refresh 200ms ...` on a job that logs what it sees to $OUT/log.
fn refreshing(sb: &Sandbox, extra: &[&str], job: &str) -> std::process::Child {
    let job = sb.script("refresh-job.sh", job);
    let mut args: Vec<std::ffi::OsString> = vec!["exec".into(), "--refresh".into(), "200ms".into()];
    args.extend(extra.iter().map(Into::into));
    args.push("--".into());
    args.push(job.into_os_string());
    sb.sx(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

fn log_of(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.out().join("log")).unwrap_or_default()
}

#[test]
fn refresh_restarts_the_command_when_a_value_changes() {
    let sb = Sandbox::new();
    sb.init_local();
    sb.set_local("rotating", b"first");
    sb.manifest("[env]\nTOKEN = \"local://rotating\"\n");
    let sx = refreshing(
        &sb,
        &[],
        "echo \"started with $TOKEN\" >> \"$OUT/log\"\ntrap 'exit 0' TERM\nwhile :; do sleep 0.05; done",
    );
    assert!(wait_for(Duration::from_secs(10), || log_of(&sb)
        .contains("started with first")));
    sb.set_local("rotating", b"second");
    assert!(
        wait_for(Duration::from_secs(10), || log_of(&sb)
            .contains("started with second")),
        "{}",
        log_of(&sb)
    );
    kill(Pid::from_raw(sx.id() as i32), Signal::SIGTERM).expect("kill");
    let out = sx.wait_with_output().expect("wait");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(log_of(&sb), "started with first\nstarted with second\n");
}

#[test]
fn refresh_rewrites_files_in_place_and_signals() {
    let sb = Sandbox::new();
    sb.init_local();
    sb.set_local("cert", b"old-cert");
    sb.manifest("[files.CERT]\nref = \"local://cert\"\n");
    let sx = refreshing(
        &sb,
        &["--on-change", "signal:HUP"],
        "echo \"$$ $(cat \"$CERT\")\" >> \"$OUT/log\"\ntrap 'echo \"$$ reloaded $(cat \"$CERT\")\" >> \"$OUT/log\"' HUP\ntrap 'exit 0' TERM\nwhile :; do sleep 0.05; done",
    );
    assert!(wait_for(Duration::from_secs(10), || log_of(&sb).contains("old-cert")));
    sb.set_local("cert", b"new-cert");
    assert!(
        wait_for(Duration::from_secs(10), || log_of(&sb)
            .contains("reloaded new-cert")),
        "{}",
        log_of(&sb)
    );
    kill(Pid::from_raw(sx.id() as i32), Signal::SIGTERM).expect("kill");
    let out = sx.wait_with_output().expect("wait");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // One process throughout: the file changed under it, it was not restarted.
    let log = log_of(&sb);
    let pids: std::collections::HashSet<&str> =
        log.lines().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(pids.len(), 1, "{log}");
}

#[test]
fn a_stop_signal_wins_over_a_pending_refresh_restart() {
    let sb = Sandbox::new();
    sb.init_local();
    sb.set_local("rotating", b"first");
    sb.manifest("[env]\nTOKEN = \"local://rotating\"\n");
    // A job that takes its time to stop: TERM starts a 1-second shutdown.
    let sx = refreshing(
        &sb,
        &[],
        "echo \"started with $TOKEN\" >> \"$OUT/log\"\ntrap 'sleep 1; exit 4' TERM\nwhile :; do sleep 0.05; done",
    );
    assert!(wait_for(Duration::from_secs(10), || log_of(&sb)
        .contains("started with first")));
    // The user stops sx, then a rotation happens while the job shuts down.
    kill(Pid::from_raw(sx.id() as i32), Signal::SIGTERM).expect("kill");
    sb.set_local("rotating", b"second");
    let out = sx.wait_with_output().expect("wait");
    assert_eq!(code(&out), 4, "the job's own code: {}", stderr(&out));
    assert_eq!(
        log_of(&sb),
        "started with first\n",
        "no restart after a stop"
    );
}

#[test]
fn a_job_that_finished_is_not_started_again_by_a_refresh() {
    let sb = Sandbox::new();
    sb.init_local();
    sb.set_local("rotating", b"first");
    sb.manifest("[env]\nTOKEN = \"local://rotating\"\n");
    let sx = refreshing(&sb, &[], "echo \"ran with $TOKEN\" >> \"$OUT/log\"\nexit 3");
    assert!(wait_for(Duration::from_secs(10), || log_of(&sb)
        .contains("ran with first")));
    sb.set_local("rotating", b"second");
    let out = sx.wait_with_output().expect("wait");
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert_eq!(log_of(&sb), "ran with first\n");
}

#[test]
fn off_a_terminal_a_signal_to_sxs_whole_group_reaches_the_command_once() {
    use std::os::unix::process::CommandExt;
    let mut sb = plain_sandbox();
    sb.env("SX_TEST_SIGNAL_COUNTER", sb.out().to_str().expect("utf8"));
    let mut cmd = counting_sx(&sb);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe: sx leads a new session and group, with no terminal,
    // as under a service manager.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut sx = cmd.spawn().expect("spawn");
    assert!(wait_for(Duration::from_secs(20), || sb
        .out()
        .join("ready")
        .exists()));
    // What `kill -INT -- -PGID` does: every process of sx's group.
    kill(Pid::from_raw(-(sx.id() as i32)), Signal::SIGINT).expect("kill group");
    std::thread::sleep(Duration::from_millis(300));
    sb.write("out/stop", "");
    let status = sx.wait().expect("wait");
    assert_eq!(status.code(), Some(5));
    assert_eq!(String::from_utf8(sb.read_out("count")).expect("utf8"), "1");
}

#[test]
fn an_environment_near_the_kernel_limit_is_refused_by_sx_or_runs_never_e2big() {
    let sb = Sandbox::new();
    let limit: usize = String::from_utf8(
        std::process::Command::new("getconf")
            .arg("ARG_MAX")
            .output()
            .expect("getconf")
            .stdout,
    )
    .expect("utf8")
    .trim()
    .parse()
    .expect("ARG_MAX");
    // Values of 120000 bytes (each under the kernel's 128 KiB string limit), from files,
    // filling the limit to within 10 kB, and a pad whose size walks across what is left.
    let chunk = "x".repeat(120_000);
    let mut manifest = String::from("[env]\n");
    for i in 0..(limit - 10_000) / 120_000 {
        sb.write(&format!("v{i}"), &chunk);
        manifest.push_str(&format!(
            "V{i} = \"file://{}\"\n",
            sb.path().join(format!("v{i}")).display()
        ));
    }
    manifest.push_str(&format!(
        "PAD = \"file://{}\"\n",
        sb.path().join("pad").display()
    ));
    sb.manifest(&manifest);
    let run_with = |sb: &Sandbox, pad: usize| {
        sb.write("pad", "p".repeat(pad));
        sb.run(["exec", "--", "true"])
    };
    let run = |pad: usize| run_with(&sb, pad);
    let refused = |o: &std::process::Output| {
        code(o) == 125 && stderr(o).contains("more than the kernel's limit")
    };
    // The smallest pad sx refuses, by bisection (sx's own check is monotonic in the size).
    let threshold = |sb: &Sandbox| {
        let (mut ok, mut bad) = (0usize, 120_000usize);
        assert!(
            refused(&run_with(sb, bad)),
            "{}",
            stderr(&run_with(sb, bad))
        );
        while bad - ok > 1 {
            let mid = (ok + bad) / 2;
            if refused(&run_with(sb, mid)) {
                bad = mid
            } else {
                ok = mid
            }
        }
        ok
    };
    let ok = threshold(&sb);
    // Just under it the command runs: the kernel accepts what sx lets through.
    for pad in ok.saturating_sub(40)..=ok {
        let o = run(pad);
        assert!(
            !stderr(&o).contains("Argument list too long"),
            "pad {pad}: {}",
            stderr(&o)
        );
        assert_success(&o);
    }

    // A long PATH directory that does not hold the program costs only its place in PATH:
    // the kernel copies the path it runs, not the longest one tried.
    let mut long = sb;
    let dir = format!("/nonexistent/{}", "d".repeat(3000));
    let path = std::env::var("PATH").unwrap_or_default();
    long.env("PATH", &format!("{dir}:{path}"));
    assert_eq!(threshold(&long), ok - (dir.len() + 1));
}
