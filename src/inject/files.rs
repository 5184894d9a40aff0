//! Secret files: one private directory per run on tmpfs, removed when the run ends.
//!
//! Layout: `BASE/sx-UID/run-PID-START-NONCE/FILE`, where BASE is `$XDG_RUNTIME_DIR` or else
//! `/dev/shm`. A disk-backed BASE is refused unless the user allows it. The running sx holds
//! an exclusive `flock` on its directory; a directory nobody holds a lock on was left by a
//! killed sx and is swept by the next run. The lock, unlike the PID and START (the process
//! start time) in the name, means the same thing from every PID namespace, so an sx in a
//! container sharing the folder is never mistaken for a dead one.

use std::ffi::CString;
use std::fs;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::manifest::reference::escape;

const TMPFS_MAGIC: i64 = 0x0102_1994;
const RAMFS_MAGIC: i64 = 0x8584_58f6;

/// A run's private directory. Dropping it removes it and everything in it.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    removed: bool,
    /// The directory, opened and locked while this run lasts (closed on exec: the command
    /// does not inherit it).
    _lock: Option<fs::File>,
}

/// Renames `from` to `to`, failing if `to` exists (rename would replace an empty directory).
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD makes them relative to the cwd.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Opens the run directory `path` itself, never through a symlink.
fn open_dir(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(path)
}

fn shown(p: &Path) -> String {
    escape(&p.display().to_string())
}

fn inject_err(message: String, hint: Option<&str>) -> Error {
    Error::Inject {
        message,
        hint: hint.map(str::to_owned),
    }
}

/// Whether `path` lives on a memory-backed file system.
pub fn is_tmpfs(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .map(|s| {
            #[allow(clippy::unnecessary_cast)]
            let t = s.filesystem_type().0 as i64;
            t == TMPFS_MAGIC || t == RAMFS_MAGIC
        })
        .unwrap_or(false)
}

/// The folder the per-user directory goes in.
fn base_dir(allow_disk: bool) -> Result<PathBuf, Error> {
    // XDG_RUNTIME_DIR when it exists (a disk-backed one is refused below), else /dev/shm.
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| PathBuf::from("/dev/shm"));
    if !base.is_dir() {
        return Err(inject_err(
            format!(
                "cannot hold secret files: `{}` is not a directory",
                shown(&base)
            ),
            Some("set XDG_RUNTIME_DIR to a tmpfs directory, or mount /dev/shm"),
        ));
    }
    if !is_tmpfs(&base) {
        if allow_disk {
            tracing::warn!(
                "`{}` is not tmpfs: secret files will be written to disk (--allow-disk)",
                shown(&base)
            );
        } else {
            return Err(inject_err(
                format!(
                    "refusing to write secret files to `{}`: it is not a tmpfs",
                    shown(&base)
                ),
                Some(
                    "point XDG_RUNTIME_DIR at a tmpfs (e.g. /dev/shm), or pass --allow-disk to accept a disk",
                ),
            ));
        }
    }
    Ok(base)
}

/// The per-user directory under the base: created 0700, or checked to be ours and private.
fn user_dir(allow_disk: bool) -> Result<PathBuf, Error> {
    let uid = nix::unistd::getuid();
    let dir = base_dir(allow_disk)?.join(format!("sx-{uid}"));
    match fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(format!("cannot set the mode of `{}`", shown(&dir)), e))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io(format!("cannot create `{}`", shown(&dir)), e)),
    }
    let meta = fs::symlink_metadata(&dir)
        .map_err(|e| Error::io(format!("cannot inspect `{}`", shown(&dir)), e))?;
    if !meta.file_type().is_dir() || meta.uid() != uid.as_raw() || meta.mode() & 0o077 != 0 {
        return Err(inject_err(
            format!(
                "refusing to use `{}`: it must be a directory owned by you with mode 0700",
                shown(&dir)
            ),
            Some("remove it; sx creates it again"),
        ));
    }
    Ok(dir)
}

/// Start time of process `pid` in clock ticks since boot, from /proc.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22; the command name (field 2) may hold spaces and parentheses, so skip past it.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(19)?.parse().ok()
}

/// Removes run directories whose owning sx is gone. Failures are warnings, never fatal.
fn sweep(user_dir: &Path) {
    let Ok(entries) = fs::read_dir(user_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("run-")) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        // A lock we can take is one nobody holds: its sx is gone. We hold it while removing.
        let held = match open_dir(&entry.path()) {
            Ok(dir) => match dir.try_lock() {
                Ok(()) => Some(dir),
                Err(fs::TryLockError::WouldBlock) => continue, // its sx is still running
                Err(fs::TryLockError::Error(e)) => {
                    tracing::warn!("cannot lock `{}`: {e}", shown(&entry.path()));
                    continue;
                }
            },
            Err(e) => {
                tracing::warn!("cannot open `{}`: {e}", shown(&entry.path()));
                continue;
            }
        };
        let removed = fs::remove_dir_all(entry.path());
        drop(held);
        match removed {
            Ok(()) => tracing::info!("removed secret files left by an earlier sx (pid {pid})"),
            Err(e) => tracing::warn!("cannot remove stale `{}`: {e}", shown(&entry.path())),
        }
    }
}

impl RunDir {
    /// Sweeps stale runs, then creates this run's directory (0700, whatever the umask).
    pub fn create(allow_disk: bool) -> Result<Self, Error> {
        let user = user_dir(allow_disk)?;
        sweep(&user);
        let pid = std::process::id();
        let start = start_time(pid).unwrap_or(0);
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // Made under a name the sweep skips, locked, then renamed: no other sx can see it
        // unlocked. A failure on the way leaves nothing behind.
        let name = format!("run-{pid}-{start}-{nonce:x}");
        let staging = user.join(format!(".{name}"));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&staging)
            .map_err(|e| Error::io(format!("cannot create `{}`", shown(&staging)), e))?;
        let mut dir = Self {
            path: staging,
            removed: false,
            _lock: None,
        };
        fs::set_permissions(&dir.path, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(format!("cannot set the mode of `{}`", shown(&dir.path)), e))?;
        let lock = open_dir(&dir.path)
            .and_then(|f| f.try_lock().map(|()| f).map_err(std::io::Error::from))
            .map_err(|e| Error::io(format!("cannot lock `{}`", shown(&dir.path)), e))?;
        dir._lock = Some(lock);
        let path = user.join(name);
        rename_noreplace(&dir.path, &path)
            .map_err(|e| Error::io(format!("cannot create `{}`", shown(&path)), e))?;
        dir.path = path;
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one file with exactly `mode`; never follows a symlink, never replaces a file.
    pub fn write(&self, file_name: &str, mode: u32, value: &[u8]) -> Result<PathBuf, Error> {
        let path = self.path.join(file_name);
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| inject_err(format!("bad file name `{}`", escape(file_name)), None))?;
        // SAFETY: `c` is a valid NUL-terminated path; the flags and mode are plain integers.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o600 as libc::c_uint,
            )
        };
        if fd < 0 {
            return Err(Error::io(
                format!("cannot create `{}`", shown(&path)),
                std::io::Error::last_os_error(),
            ));
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut file = fs::File::from(fd);
        file.write_all(value)
            .and_then(|()| file.set_permissions(fs::Permissions::from_mode(mode)))
            .map_err(|e| Error::io(format!("cannot write `{}`", shown(&path)), e))?;
        Ok(path)
    }

    /// Replaces a file's content atomically (a new file renamed over the old one), for
    /// `--refresh`: a reader sees the old value or the new one, never half of each.
    pub fn rewrite(dir: &Path, file_name: &str, mode: u32, value: &[u8]) -> Result<(), Error> {
        let tmp_name = format!(".{file_name}.sx-new");
        let staging = RunDir {
            path: dir.to_path_buf(),
            removed: true, // a borrowed view: dropping it must not remove the directory
            _lock: None,
        };
        let _ = fs::remove_file(dir.join(&tmp_name));
        let tmp = staging.write(&tmp_name, mode, value)?;
        fs::rename(&tmp, dir.join(file_name)).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io(
                format!("cannot replace `{}`", shown(&dir.join(file_name))),
                e,
            )
        })
    }

    /// Removes the directory now; also done on drop.
    pub fn remove(&mut self) {
        if self.removed {
            return;
        }
        self.removed = true;
        if let Err(e) = fs::remove_dir_all(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove `{}`: {e}", shown(&self.path));
        }
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        self.remove();
    }
}
