//! Secret files: tmpfs, exact modes, a private directory, cleanup, and the sweep after a kill.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::*;

const TMPFS_MAGIC: i64 = 0x0102_1994;

#[test]
fn files_have_exact_modes_on_tmpfs_and_are_gone_after_exit() {
    let mut sb = Sandbox::new();
    sb.env("SRC", "file-secret");
    sb.manifest(
        "[files.READ_ONLY]\nref = \"env://SRC\"\n\n[files.GROUP]\nref = \"env://SRC\"\nmode = \"0440\"\nname = \"group.pem\"\n\n[files.RW]\nref = \"env://SRC\"\nmode = \"0600\"\n",
    );
    let job = sb.script(
        "stat.sh",
        "for f in \"$READ_ONLY\" \"$GROUP\" \"$RW\"; do echo \"$f\"; done > \"$OUT/paths\"",
    );
    let mut cmd = sb.sx([std::ffi::OsStr::new("exec"), "--".as_ref(), job.as_os_str()]);
    // SAFETY: umask is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    // Keep the files alive long enough to inspect them: stat them from inside the child.
    let stat_job = sb.script(
        "inspect.sh",
        "stat -c '%a %s' \"$READ_ONLY\" \"$GROUP\" \"$RW\" > \"$OUT/stat\"; stat -c '%a' \"$(dirname \"$RW\")\" >> \"$OUT/stat\"; stat -f -c %T \"$RW\" > \"$OUT/fstype\"; basename \"$GROUP\" > \"$OUT/name\"",
    );
    let mut inspect = sb.sx([
        std::ffi::OsStr::new("exec"),
        "--".as_ref(),
        stat_job.as_os_str(),
    ]);
    // SAFETY: as above.
    unsafe {
        inspect.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    assert_success(&inspect.output().expect("run"));
    assert_eq!(
        String::from_utf8(sb.read_out("stat")).expect("utf8"),
        "400 11\n440 11\n600 11\n700\n",
    );
    assert_eq!(sb.read_out("name"), b"group.pem\n");
    assert_eq!(sb.read_out("fstype"), b"tmpfs\n");

    assert_success(&cmd.output().expect("run"));
    let paths = String::from_utf8(sb.read_out("paths")).expect("utf8");
    for p in paths.lines() {
        let p = PathBuf::from(p);
        assert!(!p.exists(), "{} left behind", p.display());
        assert!(!p.parent().expect("dir").exists());
    }
    // And the folder it lived in is on tmpfs, per statfs.
    let first = PathBuf::from(paths.lines().next().expect("a path"));
    let user_dir = first.parent().and_then(|p| p.parent()).expect("user dir");
    let fs = nix::sys::statfs::statfs(user_dir).expect("statfs");
    #[allow(clippy::unnecessary_cast)]
    let magic = fs.filesystem_type().0 as i64;
    assert_eq!(magic, TMPFS_MAGIC);
    assert_eq!(
        std::fs::metadata(user_dir)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
}

#[test]
fn a_killed_sx_leaves_files_that_the_next_run_sweeps() {
    let mut sb = Sandbox::new();
    sb.env("SRC", "swept-secret");
    sb.manifest("[files.F]\nref = \"env://SRC\"\n");
    let mut sx = sb
        .sx([
            "exec",
            "--",
            "sh",
            "-c",
            "echo $$ > \"$OUT/pid\"; echo \"$F\" > \"$OUT/path\"; exec sleep 30",
        ])
        .spawn()
        .expect("spawn");
    assert!(wait_for(Duration::from_secs(10), || sb
        .out()
        .join("path")
        .exists()));
    std::thread::sleep(Duration::from_millis(100));
    let file = PathBuf::from(String::from_utf8(sb.read_out("path")).expect("utf8").trim());
    assert!(file.exists());

    kill(Pid::from_raw(sx.id() as i32), Signal::SIGKILL).expect("kill -9");
    let _ = sx.wait();
    assert!(file.exists(), "a killed sx cannot clean up");
    // The orphaned child is still sleeping; end it too.
    let orphan: i32 = String::from_utf8(sb.read_out("pid"))
        .expect("utf8")
        .trim()
        .parse()
        .expect("pid");
    let _ = kill(Pid::from_raw(orphan), Signal::SIGKILL);

    let o = sb.run(["-v", "exec", "--", "true"]);
    assert_success(&o);
    assert!(!file.exists(), "swept by the next run");
    assert!(!file.parent().expect("dir").exists());
    assert!(
        stderr(&o).contains("removed secret files left by an earlier sx"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_disk_backed_runtime_dir_is_refused_unless_allowed() {
    let mut sb = Sandbox::new();
    let disk = sb.path().join("disk-runtime");
    std::fs::create_dir(&disk).expect("mkdir");
    std::fs::set_permissions(&disk, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    if crate::files::is_tmpfs_dir(&disk) {
        eprintln!("skipped: the temp folder is itself on tmpfs");
        return;
    }
    sb.env("XDG_RUNTIME_DIR", disk.to_str().expect("utf8"))
        .env("SRC", "v");
    sb.manifest("[files.F]\nref = \"env://SRC\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(err.contains("it is not a tmpfs"), "{err}");
    assert!(err.contains("--allow-disk"), "{err}");
    assert!(!sb.out().join("started").exists());

    let o = sb.run([
        "exec",
        "--allow-disk",
        "--",
        "sh",
        "-c",
        "cat \"$F\" > \"$OUT/v\"",
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"v");
}

pub fn is_tmpfs_dir(p: &std::path::Path) -> bool {
    nix::sys::statfs::statfs(p).is_ok_and(|s| {
        #[allow(clippy::unnecessary_cast)]
        let m = s.filesystem_type().0 as i64;
        m == TMPFS_MAGIC
    })
}
