//! The local age-encrypted store: init, set, get, ls, rm, exec, and the age CLI.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::*;

fn age_cli() -> Option<&'static str> {
    let ok = Command::new("age")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some("age");
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the age CLI is required in CI; scripts/test installs it"
    );
    eprintln!("skipped: the age CLI is not installed");
    None
}

#[test]
fn init_set_get_exec_rm_round_trip_binary_safe() {
    let sb = Sandbox::new();
    let o = sb.run(["init"]);
    assert_success(&o);
    let cfg = sb.path().join("config/sx");
    let mode = |p: &str| {
        std::fs::metadata(cfg.join(p))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("identity.txt"), 0o600);
    assert_eq!(mode("store.age"), 0o600);
    assert!(
        sb.path().join("sx.toml").exists(),
        "starter manifest written"
    );
    // The starter manifest is valid as written.
    assert_success(&sb.run(["check"]));
    // A second init changes nothing.
    let before = std::fs::read(cfg.join("identity.txt")).expect("read");
    assert_success(&sb.run(["init"]));
    assert_eq!(
        std::fs::read(cfg.join("identity.txt")).expect("read"),
        before
    );

    let value = b"\x00\xffbinary\r\nvalue\n";
    sb.set_local("app/token", value);
    sb.set_local("other", b"x");
    let o = sb.run(["get", "local://app/token"]);
    assert_success(&o);
    assert_eq!(hex(&o.stdout), hex(value));

    let o = sb.run(["ls", "local://"]);
    assert_eq!(stdout(&o), "app/token\nother\n");
    let o = sb.run(["ls", "local://app/"]);
    assert_eq!(stdout(&o), "app/token\n");

    sb.manifest("[files.TOKEN]\nref = \"local://app/token\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "cat \"$TOKEN\" > \"$OUT/token\""]);
    assert_success(&o);
    assert_eq!(hex(&sb.read_out("token")), hex(value));

    assert_success(&sb.run(["rm", "local://app/token"]));
    let o = sb.run(["get", "local://app/token"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("no secret `app/token` in the local store"),
        "{}",
        stderr(&o)
    );
    let o = sb.run(["rm", "local://app/token"]);
    assert_eq!(
        (code(&o), stderr(&o).as_str()),
        (
            1,
            "error: not found: no secret `app/token` in the local store\nhint: `sx ls local://` lists the names\n"
        )
    );
}

#[test]
fn the_age_cli_decrypts_the_store_with_the_same_identity() {
    let Some(age) = age_cli() else { return };
    let sb = Sandbox::new();
    sb.init_local();
    sb.set_local("greeting", b"hello, age");
    let cfg = sb.path().join("config/sx");
    let o = Command::new(age)
        .arg("-d")
        .arg("-i")
        .arg(cfg.join("identity.txt"))
        .arg(cfg.join("store.age"))
        .output()
        .expect("run age");
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(doc["sx_store"], 1);
    // "hello, age" in base64.
    assert_eq!(doc["secrets"]["greeting"], "aGVsbG8sIGFnZQ==");
}

#[test]
fn identities_come_from_the_environment_and_a_wrong_one_is_a_clear_error() {
    let mut sb = Sandbox::new();
    sb.init_local();
    sb.set_local("k", b"v");
    let identity = sb.path().join("config/sx/identity.txt");
    let text = std::fs::read_to_string(&identity).expect("read");

    // SX_AGE_IDENTITY_FILE pointing elsewhere.
    let moved = sb.path().join("moved-identity.txt");
    std::fs::rename(&identity, &moved).expect("move");
    let o = sb.run(["get", "local://k"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("cannot read age identity"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("hint: run `sx init`"), "{}", stderr(&o));

    // sx init will not make a new identity that could never open the existing store.
    let o = sb.run(["init", "--no-manifest"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        format!(
            "error: authentication failed: the local store `{}` exists but its identity `{}` does not; a new identity could not open it\n\
             hint: point SX_AGE_IDENTITY_FILE at the identity that made the store, or move the store away to start a new one\n",
            sb.path().join("config/sx/store.age").display(),
            identity.display()
        )
    );
    assert!(!identity.exists());

    // A wrong SX_AGE_IDENTITY_FILE is the variable's fault, not a missing `sx init`.
    let mut wrong = Sandbox::new();
    wrong.env("SX_AGE_IDENTITY_FILE", "/nonexistent/identity.txt");
    let o = wrong.run(["get", "local://k"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o),
        "error: could not resolve 1 of 1 entry\n  get: local://k\n    \
         authentication failed: cannot read age identity `/nonexistent/identity.txt` (from SX_AGE_IDENTITY_FILE): No such file or directory (os error 2)\n    \
         hint: fix or unset SX_AGE_IDENTITY_FILE\n"
    );
    // Entries failing the same way share one error, not one copy each.
    wrong.manifest("[env]\nA = \"local://a\"\nB = \"local://b\"\n[files.C]\nref = \"local://c\"\n");
    let o = wrong.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert_eq!(
        stderr(&o),
        "error: could not resolve 3 of 3 entries\n  env A: local://a\n  env B: local://b\n  files C: local://c\n    \
         authentication failed: cannot read age identity `/nonexistent/identity.txt` (from SX_AGE_IDENTITY_FILE): No such file or directory (os error 2)\n    \
         hint: fix or unset SX_AGE_IDENTITY_FILE\n"
    );

    sb.env("SX_AGE_IDENTITY_FILE", moved.to_str().expect("utf8"));
    assert_eq!(sb.run(["get", "local://k"]).stdout, b"v");

    // SX_AGE_IDENTITY holding the key text wins over the file.
    let mut sb2 = Sandbox::new();
    sb2.init_local();
    let store = sb2.path().join("config/sx/store.age");
    std::fs::copy(sb.path().join("config/sx/store.age"), &store).expect("copy");
    let o = sb2.run(["get", "local://k"]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    // It names the identity used and its public key (never the secret key), and what to do.
    let own = std::fs::read_to_string(sb2.path().join("config/sx/identity.txt")).expect("read");
    let public = own
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("public key line");
    assert!(
        err.contains(&format!(
            "authentication failed: cannot decrypt local store `{}` with the identity `{}` (from the default location) (public key {public}): No matching keys found\n    \
             hint: that identity is not a recipient of this store: use the one that made it, or have a recipient add this public key to `recipients` in [providers.local] and run `sx set` once\n",
            store.display(),
            sb2.path().join("config/sx/identity.txt").display()
        )),
        "{err}"
    );
    assert!(!err.contains("AGE-SECRET-KEY"), "{err}");
    sb2.env("SX_AGE_IDENTITY", &text);
    assert_eq!(sb2.run(["get", "local://k"]).stdout, b"v");
}

#[test]
fn a_shared_store_is_readable_by_every_recipient() {
    let alice = Sandbox::new();
    alice.init_local();
    let bob = Sandbox::new();
    bob.init_local();
    let bob_public = std::fs::read_to_string(bob.path().join("config/sx/identity.txt"))
        .expect("read")
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
        .expect("public key line");
    let store = alice.path().join("team.age");
    std::fs::copy(alice.path().join("config/sx/store.age"), &store).expect("copy");
    let manifest = format!(
        "[providers.local]\npath = \"{}\"\nrecipients = [\"{bob_public}\"]\n\n[env]\nT = \"local://team-token\"\n",
        store.display()
    );
    alice.manifest(&manifest);
    alice.set_local("team-token", b"shared");
    bob.manifest(&manifest);
    let o = bob.run(["exec", "--", "sh", "-c", "printf %s \"$T\" > \"$OUT/t\""]);
    assert_success(&o);
    assert_eq!(bob.read_out("t"), b"shared");

    alice.manifest("[providers.local]\nrecipients = [\"age1notakey\"]\n");
    let o = alice.run(["check"]);
    assert!(
        stderr(&o).contains("`age1notakey` is not an age X25519 recipient"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn init_writes_the_manifest_named_by_f_and_says_when_it_hides_one_above() {
    let sb = Sandbox::new();
    sb.manifest("[env]\nA = { value = \"from-above\" }\n");
    let sub = sb.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");

    let o = sb.sx(["init"]).current_dir(&sub).output().expect("run");
    assert_success(&o);
    let err = stderr(&o);
    assert!(
        err.ends_with(&format!(
            "sx: wrote a starter manifest sx.toml\nsx: note: commands run here now use it instead of `{}`; remove it to go back\n",
            sb.path().join("sx.toml").display()
        )),
        "{err}"
    );
    assert!(sub.join("sx.toml").exists());

    // -f names where the starter goes; nothing else is written.
    let o = sb.run(["-f", "conf/jobs.toml", "init"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    std::fs::create_dir(sb.path().join("conf")).expect("mkdir");
    let o = sb.run(["-f", "conf/jobs.toml", "init"]);
    assert_success(&o);
    assert!(
        stderr(&o).ends_with("sx: wrote a starter manifest conf/jobs.toml\n"),
        "{}",
        stderr(&o)
    );
    let starter = std::fs::read_to_string(sb.path().join("conf/jobs.toml")).expect("read");
    assert!(starter.starts_with("# sx manifest"), "{starter}");
    assert_eq!(
        std::fs::read_to_string(sb.path().join("sx.toml")).expect("read"),
        "[env]\nA = { value = \"from-above\" }\n"
    );
    let o = sb.run(["-f", "conf/jobs.toml", "check"]);
    assert_success(&o);

    // -q: errors only, no status lines.
    for args in [
        &["-q", "init", "--no-manifest"][..],
        &["-q", "set", "local://quiet"],
        &["-q", "rm", "local://quiet"],
    ] {
        let o = sb.run_with_stdin(args.iter().copied(), b"v");
        assert_success(&o);
        assert_eq!(stderr(&o), "", "{args:?}");
    }
}
