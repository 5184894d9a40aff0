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
    assert_eq!(code(&o), 1);
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
    assert!(
        err.contains("authentication failed: cannot decrypt local store"),
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
