//! Starting and supervising the child.
//!
//! sx blocks the signals it forwards before any thread exists, so every thread inherits the
//! mask and one dedicated thread receives them with `sigwaitinfo`. What that thread does
//! depends on the phase of the run:
//! - before the child exists, a stop signal removes any secret files and ends sx;
//! - while the child runs, each signal is forwarded exactly once (a signal the terminal sent
//!   to the whole foreground process group already reached the child, so it is not sent
//!   again), and as PID 1 sx reaps orphans;
//! - after the child exits, signals are ignored while sx cleans up.
//!
//! The child gets an empty signal mask (set between fork and exec), default dispositions,
//! its argv verbatim as `OsString`s, and no shell.

use std::ffi::CString;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::Mutex;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, pthread_sigmask};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::Pid;

use crate::error::{Error, SpawnError};
use crate::manifest::reference::escape;

/// Signals passed on to the child.
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

#[derive(Debug)]
enum Phase {
    /// No child yet; a stop signal removes `cleanup` and ends sx.
    Preparing {
        cleanup: Option<PathBuf>,
    },
    Running {
        pid: Pid,
    },
    Finished,
}

static PHASE: Mutex<Phase> = Mutex::new(Phase::Preparing { cleanup: None });

/// A new environment for the command, set by `--refresh` before it stops the command.
/// The new environment, and the new secret values (for `--mask`).
type RestartWith = (Vec<(OsString, OsString)>, Vec<crate::secret::SecretValue>);

static RESTART: Mutex<Option<RestartWith>> = Mutex::new(None);

/// The running command's pid, if it runs.
pub fn child_pid() -> Option<Pid> {
    match &*phase() {
        Phase::Running { pid } => Some(*pid),
        _ => None,
    }
}

/// Sends `sig` to the running command, if any.
pub fn signal_child(sig: Signal) {
    if let Phase::Running { pid } = &*phase() {
        let _ = kill(*pid, sig);
    }
}

/// Whether the command runs in a process group of its own (see `on_terminal`).
static CHILD_OWN_GROUP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Set once a stop signal (INT, TERM, QUIT) reached sx: a stop wins over a pending restart.
static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Asks for the running command to be started again with `env` once it exits, and stops
/// it. Does nothing when the command already exited or sx is being stopped.
pub fn request_restart(env: Vec<(OsString, OsString)>, secrets: Vec<crate::secret::SecretValue>) {
    let state = phase();
    if let Phase::Running { pid } = &*state
        && !STOPPING.load(std::sync::atomic::Ordering::SeqCst)
    {
        *RESTART
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((env, secrets));
        let _ = kill(*pid, Signal::SIGTERM);
    }
}

/// Whether a restart is waiting for the command to exit.
pub fn restart_pending() -> bool {
    RESTART
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .is_some()
}

/// The environment of a requested restart, if one was requested and sx is not stopping.
pub fn take_restart() -> Option<RestartWith> {
    let env = RESTART
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    env.filter(|_| !STOPPING.load(std::sync::atomic::Ordering::SeqCst))
}

fn phase() -> std::sync::MutexGuard<'static, Phase> {
    // A panic while holding the lock cannot leave the phase half-written; carry on.
    PHASE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Blocks the forwarded signals and SIGCHLD and starts the thread that receives them.
/// Must run before any other thread is started, so that every thread inherits the mask.
fn blocked_set() -> SigSet {
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    set.add(Signal::SIGCHLD);
    set
}

pub fn install_signal_handling() -> Result<(), Error> {
    let set = blocked_set();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .map_err(|e| Error::io("cannot block signals", e.into()))?;
    std::thread::Builder::new()
        .name("sx-signals".into())
        .spawn(move || signal_loop(&set))
        .map_err(|e| Error::io("cannot start the signal thread", e))?;
    Ok(())
}

/// Records the secret-file directory to remove if sx is stopped before the child starts.
pub fn register_cleanup(path: Option<PathBuf>) {
    if let Phase::Preparing { cleanup } = &mut *phase() {
        *cleanup = path;
    }
}

fn signal_loop(set: &SigSet) {
    loop {
        // SAFETY: siginfo_t is plain data; zeroed is a valid value for it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid sigset and `info` a valid out-pointer.
        let signo = unsafe { libc::sigwaitinfo(set.as_ref(), &mut info) };
        let Ok(sig) = Signal::try_from(signo) else {
            continue; // EINTR or a signal we did not ask for
        };
        let from_terminal = info.si_code == libc::SI_KERNEL;
        let mut state = phase();
        match &mut *state {
            Phase::Preparing { cleanup } => {
                if matches!(sig, Signal::SIGCHLD | Signal::SIGWINCH) {
                    continue;
                }
                if let Some(dir) = cleanup.take() {
                    let _ = std::fs::remove_dir_all(dir);
                }
                say!("sx: stopped by {sig} before the command started");
                // SAFETY: _exit ends the process without running destructors of other
                // threads' state, which is what we want from a signal path.
                unsafe { libc::_exit(128 + signo) };
            }
            Phase::Running { pid } => {
                let pid = *pid;
                if matches!(sig, Signal::SIGINT | Signal::SIGTERM | Signal::SIGQUIT) {
                    // The user stops the run: no restart may follow.
                    STOPPING.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                if sig == Signal::SIGCHLD {
                    if std::process::id() == 1 {
                        reap_orphans(pid);
                    }
                } else if from_terminal
                    && !CHILD_OWN_GROUP.load(std::sync::atomic::Ordering::SeqCst)
                {
                    // The terminal signalled the whole foreground process group: the child,
                    // which shares sx's group, already has it.
                    tracing::debug!("{sig} came from the terminal; the child already received it");
                } else {
                    tracing::debug!("forwarding {sig} to the child");
                    let _ = kill(pid, sig);
                }
            }
            Phase::Finished => {}
        }
    }
}

/// As PID 1: reaps exited processes that are not the child (orphans re-parented to sx),
/// leaving the child's own status for the main thread.
fn reap_orphans(child: Pid) {
    loop {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::All, flags) {
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(status) => match status.pid() {
                Some(p) if p != child => {
                    let _ = waitpid(p, Some(WaitPidFlag::WNOHANG));
                }
                _ => return,
            },
        }
    }
}

/// How to start the child.
#[derive(Debug)]
pub struct ChildSpec<'a> {
    pub argv: &'a [OsString],
    pub env: &'a [(OsString, OsString)],
    /// With `--mask`: the command's stdout and stderr pass through this filter.
    pub mask: Option<std::sync::Arc<crate::mask::Masker>>,
}

/// What execve needs, built before fork: after fork a threaded process may not allocate.
struct Image {
    candidates: Vec<CString>,
    argv: Vec<CString>,
    envp: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
}

// SAFETY: the raw pointers point into the CStrings owned by the same struct, whose heap
// buffers never move; the image is only read, in the child after fork or before exec.
unsafe impl Send for Image {}
// SAFETY: as above; nothing mutates the image after it is built.
unsafe impl Sync for Image {}

fn cstring(b: &[u8]) -> Option<CString> {
    CString::new(b).ok()
}

impl Image {
    fn new(spec: &ChildSpec<'_>) -> Option<Self> {
        let argv: Vec<CString> = spec
            .argv
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Option<_>>()?;
        let envp: Vec<CString> = spec
            .env
            .iter()
            .map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                cstring(&kv)
            })
            .collect::<Option<_>>()?;
        let program = spec.argv[0].as_bytes();
        // The PATH lookup execvp would do, from the child's PATH, without its fallback of
        // running a file that is not a program through /bin/sh.
        let candidates = if program.is_empty() {
            // No file has an empty name; "DIR/" would name the directory instead.
            Vec::new()
        } else if program.contains(&b'/') {
            vec![cstring(program)?]
        } else {
            let path = spec.env.iter().find(|(k, _)| k == "PATH").map_or_else(
                || b"/usr/local/bin:/usr/bin:/bin".to_vec(),
                |(_, v)| v.as_bytes().to_vec(),
            );
            path.split(|b| *b == b':')
                .map(|dir| {
                    let mut full = if dir.is_empty() {
                        b".".to_vec()
                    } else {
                        dir.to_vec()
                    };
                    full.push(b'/');
                    full.extend_from_slice(program);
                    cstring(&full)
                })
                .collect::<Option<_>>()?
        };
        let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|c| c.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let mut envp_ptrs: Vec<*const libc::c_char> = envp.iter().map(|c| c.as_ptr()).collect();
        envp_ptrs.push(std::ptr::null());
        Some(Self {
            candidates,
            argv,
            envp,
            argv_ptrs,
            envp_ptrs,
        })
    }

    /// Tries each candidate with execve; returns only on failure. Async-signal-safe.
    fn exec(&self) -> std::io::Error {
        let _ = (&self.argv, &self.envp);
        let mut denied = false;
        for c in &self.candidates {
            // SAFETY: all pointers are valid NUL-terminated strings and NULL-terminated arrays.
            unsafe { libc::execve(c.as_ptr(), self.argv_ptrs.as_ptr(), self.envp_ptrs.as_ptr()) };
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::ENOENT | libc::ENOTDIR) => {}
                Some(libc::EACCES) => denied = true,
                _ => return e,
            }
        }
        std::io::Error::from_raw_os_error(if denied { libc::EACCES } else { libc::ENOENT })
    }

    /// The first candidate that exists as a file, to tell "not found" from "its
    /// interpreter was not found".
    fn existing(&self) -> Option<String> {
        self.candidates.iter().find_map(|c| {
            let p = std::path::Path::new(std::ffi::OsStr::from_bytes(c.as_bytes()));
            p.is_file().then(|| escape(&p.display().to_string()))
        })
    }
}

impl ChildSpec<'_> {
    fn image(&self) -> Result<Image, Error> {
        Image::new(self).ok_or_else(|| {
            Error::Spawn(SpawnError::Other {
                command: self.name(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "an argument or variable contains a NUL byte",
                ),
            })
        })
    }

    fn name(&self) -> String {
        escape(&self.argv[0].to_string_lossy())
    }
}

fn spawn_error(name: String, image: &Image, e: std::io::Error) -> Error {
    let code = e.raw_os_error();
    Error::Spawn(match e.kind() {
        std::io::ErrorKind::NotFound => match image.existing() {
            Some(path) => SpawnError::BadInterpreter(path),
            None => SpawnError::NotFound(name),
        },
        std::io::ErrorKind::PermissionDenied => SpawnError::NotExecutable(name),
        _ if code == Some(libc::ENOEXEC) => SpawnError::NotAProgram(name),
        _ if code == Some(libc::EISDIR) => SpawnError::NotExecutable(name),
        _ => SpawnError::Other {
            command: name,
            source: e,
        },
    })
}

/// Whether sx runs in the foreground of a terminal. There the command shares sx's process
/// group, so that the terminal's keys (Ctrl-C, Ctrl-Z) and job control work as usual, and a
/// signal the terminal sends to the group is not sent again. Elsewhere (cron, systemd, CI,
/// containers) the command gets a process group of its own, so that a signal another
/// program sends to sx's whole group reaches the command once, through sx, not twice.
fn on_terminal() -> bool {
    // SAFETY: open/tcgetpgrp/getpgrp/close take plain arguments; the fd is closed here.
    unsafe {
        let fd = libc::open(
            c"/dev/tty".as_ptr(),
            libc::O_RDONLY | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return false;
        }
        let foreground = libc::tcgetpgrp(fd);
        libc::close(fd);
        foreground >= 0 && foreground == libc::getpgrp()
    }
}

/// Starts the child, forwards signals until it exits, and returns its status as sx's exit
/// code: the child's code, or 128+N when it died of signal N.
pub fn run(spec: &ChildSpec<'_>) -> Result<u8, Error> {
    let image = std::sync::Arc::new(spec.image()?);
    let in_child = std::sync::Arc::clone(&image);
    let own_group = !on_terminal();
    CHILD_OWN_GROUP.store(own_group, std::sync::atomic::Ordering::SeqCst);
    let mut cmd = Command::new(&spec.argv[0]);
    // SAFETY: only async-signal-safe calls happen between fork and exec: the signal mask is
    // emptied (the standard library resets SIGPIPE but not the mask, and exec keeps it),
    // then execve runs on the prepared image. On failure the error goes back to the parent
    // through the standard library's pipe.
    unsafe {
        cmd.pre_exec(move || {
            if own_group {
                libc::setpgid(0, 0);
            }
            let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
            libc::sigemptyset(set.as_mut_ptr());
            libc::pthread_sigmask(libc::SIG_SETMASK, set.as_ptr(), std::ptr::null_mut());
            Err(in_child.exec())
        });
    }
    if spec.mask.is_some() {
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
    }
    let mut child = {
        // Hold the phase lock across spawn so that a signal arriving meanwhile is forwarded
        // to the new child rather than ending sx.
        let mut state = phase();
        let child = cmd
            .spawn()
            .map_err(|e| spawn_error(spec.name(), &image, e))?;
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
        *state = Phase::Running { pid };
        child
    };
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let mut copiers = Vec::new();
    if let Some(mask) = &spec.mask {
        if let Some(out) = child.stdout.take() {
            let m = std::sync::Arc::clone(mask);
            copiers.push(std::thread::spawn(move || m.copy(out, std::io::stdout())));
        }
        if let Some(err) = child.stderr.take() {
            let m = std::sync::Arc::clone(mask);
            copiers.push(std::thread::spawn(move || m.copy(err, std::io::stderr())));
        }
    }
    // Wait without reaping, so the pid cannot be reused while the signal thread may still
    // forward to it; then stop forwarding; then reap.
    while let Err(nix::errno::Errno::EINTR) =
        waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT)
    {}
    *phase() = Phase::Finished;
    // The output the command wrote before exiting is still in the pipes: copy it, but do
    // not wait without end for a background process that keeps the pipes open.
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut held = false;
    for c in copiers {
        while !c.is_finished() && std::time::Instant::now() < give_up {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        if c.is_finished() {
            let _ = c.join();
        } else {
            held = true;
        }
    }
    if held {
        // Once for stdout and stderr together.
        tracing::warn!(
            "--mask: a background process still holds the command's output; not waiting for it"
        );
    }
    let status = child
        .wait()
        .map_err(|e| Error::io("cannot wait for the command", e))?;
    Ok(exit_code(status))
}

/// Replaces sx by the child (`--exec`); returns only on failure.
pub fn replace(spec: &ChildSpec<'_>) -> Error {
    // Unblock so the new program starts with an empty mask (exec keeps the mask).
    let image = match spec.image() {
        Ok(i) => i,
        Err(e) => return e,
    };
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    let e = image.exec();
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&blocked_set()), None);
    spawn_error(spec.name(), &image, e)
}

pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(1),
        (None, Some(s)) => u8::try_from(128 + s).unwrap_or(255),
        _ => 1,
    }
}
