//! 1Password Connect against the loopback fake in `op_fake.rs`.

use crate::op_fake::OpFake;
use crate::support::*;

fn sandbox(fake: &OpFake) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("OP_CONNECT_HOST", &fake.host())
        .env("OP_CONNECT_TOKEN", &fake.token);
    sb
}

#[test]
fn fields_by_name_section_and_id_with_one_read_per_item() {
    let fake = OpFake::start("connect-token-1");
    let prod = fake.vault("Prod");
    let pg = fake.item(
        &prod,
        "Postgres",
        &[
            ("", "username", "app"),
            ("", "password", "pg-pass\nline2"),
            ("replica", "password", "replica-pass"),
        ],
    );
    let sb = sandbox(&fake);
    sb.manifest(&format!(
        "[env]\nDB_USER = \"op://Prod/Postgres/username\"\nDB_PASSWORD = \"op://Prod/Postgres/password\"\nREPLICA = \"op://Prod/Postgres/replica/password\"\nBY_ID = \"op://{prod}/{pg}/username\"\n"
    ));
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert!(
        !o.status.success(),
        "a label used in two sections is ambiguous without a section"
    );
    assert!(
        stderr(&o).contains("2 fields are labelled `password`"),
        "{}",
        stderr(&o)
    );

    sb.manifest(&format!(
        "[env]\nDB_USER = \"op://Prod/Postgres/username\"\nREPLICA = \"op://Prod/Postgres/replica/password\"\nBY_ID = \"op://{prod}/{pg}/username\"\n"
    ));
    let before = fake.item_reads();
    let o = sb.run(["exec", "--", "sh", "-c", "env -0 > \"$OUT/env\""]);
    assert_success(&o);
    let env = parse_env0(&sb.read_out("env"));
    assert_eq!(env["DB_USER"], b"app");
    assert_eq!(env["REPLICA"], b"replica-pass");
    assert_eq!(env["BY_ID"], b"app");
    // Names and IDs name the same item; each distinct item path is read once.
    assert_eq!(
        fake.item_reads() - before,
        2,
        "{:?}",
        fake.log.lock().map(|l| l.clone())
    );
}

#[test]
fn missing_things_and_a_bad_token_say_what_is_wrong() {
    let fake = OpFake::start("right-token");
    let prod = fake.vault("Prod");
    fake.item(&prod, "Stripe", &[("", "key", "sk_live_canary")]);
    fake.item(&prod, "Twin", &[("", "x", "1")]);
    fake.item(&prod, "Twin", &[("", "x", "2")]);
    let sb = sandbox(&fake);
    sb.manifest("[env]\nA = \"op://Nope/Stripe/key\"\nB = \"op://Prod/Nope/key\"\nC = \"op://Prod/Stripe/nope\"\nD = \"op://Prod/Twin/x\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains("not found: no vault `Nope` in 1Password"),
        "{err}"
    );
    assert!(
        err.contains("not found: no item `Nope` in 1Password"),
        "{err}"
    );
    assert!(
        err.contains("not found: no field `nope` in `op://Prod/Stripe/nope`"),
        "{err}"
    );
    assert!(err.contains("2 items are called `Twin`"), "{err}");
    assert!(!err.contains("sk_live_canary"), "{err}");

    let mut sb = sandbox(&fake);
    sb.env("OP_CONNECT_TOKEN", "wrong-token");
    sb.manifest("[env]\nA = \"op://Prod/Stripe/key\"\n");
    let o = sb.run(["exec", "--", "true"]);
    assert_eq!(code(&o), 125);
    assert!(
        stderr(&o).contains("authentication failed: vault `Prod`: Invalid bearer token"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("OP_CONNECT_TOKEN"), "{}", stderr(&o));
}
