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

    // A live run whose PID this sx cannot see (an sx in another PID namespace, sharing the
    // folder) holds its directory's lock: it is left alone, however dead its PID looks.
    let user_dir = file.parent().expect("dir").parent().expect("user dir");
    let other = user_dir.join("run-4194999-1-c0ffee");
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::write(other.join("F"), "in use elsewhere").expect("write");
    let lock = std::fs::File::open(&other).expect("open dir");
    lock.lock().expect("lock");
    let o = sb.run(["exec", "--", "true"]);
    assert_success(&o);
    assert_eq!(
        std::fs::read(other.join("F")).expect("still there"),
        b"in use elsewhere"
    );
    drop(lock);
    let o = sb.run(["exec", "--", "true"]);
    assert_success(&o);
    assert!(!other.exists(), "swept once nobody holds it");
}

/// A fresh private (0700) folder on a disk-backed file system: under the build's own temp
/// folder, else the system temp folder, else the crate. `None` only if all are in memory.
fn disk_backed_dir() -> Option<tempfile::TempDir> {
    let candidates = [
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
        std::env::temp_dir(),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    ];
    candidates.iter().find_map(|base| {
        std::fs::create_dir_all(base).ok()?;
        let dir = tempfile::Builder::new()
            .prefix("sx-disk-runtime-")
            .tempdir_in(base)
            .ok()?;
        if is_memory_backed(dir.path()) {
            return None;
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).ok()?;
        Some(dir)
    })
}

#[test]
fn a_disk_backed_runtime_dir_is_refused_unless_allowed() {
    let Some(disk) = disk_backed_dir() else {
        if std::env::var_os("CI").is_some() {
            panic!("no disk-backed folder found to test the tmpfs check with");
        }
        eprintln!("skipped: every candidate folder is on tmpfs or ramfs");
        return;
    };
    assert!(!is_memory_backed(disk.path()));
    let disk_str = disk.path().to_str().expect("utf8");
    let mut sb = Sandbox::new();
    sb.env("XDG_RUNTIME_DIR", disk_str).env("SRC", "v");
    sb.manifest("[files.F]\nref = \"env://SRC\"\n");
    let o = sb.run(["exec", "--", "sh", "-c", "touch \"$OUT/started\""]);
    assert_eq!(code(&o), 125);
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "refusing to write secret files to `{disk_str}`: it is not a tmpfs"
        )),
        "{err}"
    );
    assert!(err.contains("--allow-disk"), "{err}");
    assert!(!sb.out().join("started").exists());
    assert_eq!(
        std::fs::read_dir(disk.path()).expect("list").count(),
        0,
        "nothing written to the refused folder"
    );

    let o = sb.run([
        "exec",
        "--allow-disk",
        "--",
        "sh",
        "-c",
        "cat \"$F\" > \"$OUT/v\"; printf %s \"$F\" > \"$OUT/path\"",
    ]);
    assert_success(&o);
    assert_eq!(sb.read_out("v"), b"v");
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "`{disk_str}` is not tmpfs: secret files will be written to disk (--allow-disk)"
        )),
        "{err}"
    );
    let path = PathBuf::from(String::from_utf8(sb.read_out("path")).expect("utf8"));
    assert!(path.starts_with(disk.path()), "{}", path.display());
    assert!(!path.exists(), "removed after the command exits");
}

/// Whether `p` is on tmpfs or ramfs, the file systems sx accepts for secret files.
fn is_memory_backed(p: &std::path::Path) -> bool {
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    is_tmpfs_dir(p)
        || nix::sys::statfs::statfs(p).is_ok_and(|s| {
            #[allow(clippy::unnecessary_cast)]
            let m = s.filesystem_type().0 as i64;
            m == RAMFS_MAGIC
        })
}

pub fn is_tmpfs_dir(p: &std::path::Path) -> bool {
    nix::sys::statfs::statfs(p).is_ok_and(|s| {
        #[allow(clippy::unnecessary_cast)]
        let m = s.filesystem_type().0 as i64;
        m == TMPFS_MAGIC
    })
}
