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

use std::ffi::OsString;
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

fn phase() -> std::sync::MutexGuard<'static, Phase> {
    // A panic while holding the lock cannot leave the phase half-written; carry on.
    PHASE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Blocks the forwarded signals and SIGCHLD and starts the thread that receives them.
/// Must run before any other thread is started, so that every thread inherits the mask.
pub fn install_signal_handling() -> Result<(), Error> {
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    set.add(Signal::SIGCHLD);
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
                eprintln!("sx: stopped by {sig} before the command started");
                // SAFETY: _exit ends the process without running destructors of other
                // threads' state, which is what we want from a signal path.
                unsafe { libc::_exit(128 + signo) };
            }
            Phase::Running { pid } => {
                let pid = *pid;
                if sig == Signal::SIGCHLD {
                    if std::process::id() == 1 {
                        reap_orphans(pid);
                    }
                } else if from_terminal {
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
}

impl ChildSpec<'_> {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..]);
        cmd.env_clear();
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        // The standard library resets SIGPIPE but not the signal mask, and exec keeps the
        // mask: without this the child would start with sx's forwarded signals blocked.
        // SAFETY: sigemptyset and pthread_sigmask are async-signal-safe and touch only the
        // new process's state.
        unsafe {
            cmd.pre_exec(|| {
                let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
                libc::sigemptyset(set.as_mut_ptr());
                if libc::pthread_sigmask(libc::SIG_SETMASK, set.as_ptr(), std::ptr::null_mut()) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd
    }

    fn name(&self) -> String {
        escape(&self.argv[0].to_string_lossy())
    }
}

fn spawn_error(name: String, e: std::io::Error) -> Error {
    let code = e.raw_os_error();
    Error::Spawn(match e.kind() {
        std::io::ErrorKind::NotFound => SpawnError::NotFound(name),
        std::io::ErrorKind::PermissionDenied => SpawnError::NotExecutable(name),
        _ if code == Some(libc::ENOEXEC) || code == Some(libc::EISDIR) => {
            SpawnError::NotExecutable(name)
        }
        _ => SpawnError::Other {
            command: name,
            source: e,
        },
    })
}

/// Starts the child, forwards signals until it exits, and returns its status as sx's exit
/// code: the child's code, or 128+N when it died of signal N.
pub fn run(spec: &ChildSpec<'_>) -> Result<u8, Error> {
    let mut cmd = spec.command();
    let child = {
        // Hold the phase lock across spawn so that a signal arriving meanwhile is forwarded
        // to the new child rather than ending sx.
        let mut state = phase();
        let child = cmd.spawn().map_err(|e| spawn_error(spec.name(), e))?;
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
        *state = Phase::Running { pid };
        child
    };
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    // Wait without reaping, so the pid cannot be reused while the signal thread may still
    // forward to it; then stop forwarding; then reap.
    while let Err(nix::errno::Errno::EINTR) =
        waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT)
    {}
    *phase() = Phase::Finished;
    let mut child = child;
    let status = child
        .wait()
        .map_err(|e| Error::io("cannot wait for the command", e))?;
    Ok(exit_code(status))
}

/// Replaces sx by the child (`--exec`); returns only on failure.
pub fn replace(spec: &ChildSpec<'_>) -> Error {
    // Unblock so the new program starts with an empty mask (exec keeps the mask).
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    let e = spec.command().exec();
    spawn_error(spec.name(), e)
}

pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(1),
        (None, Some(s)) => u8::try_from(128 + s).unwrap_or(255),
        _ => 1,
    }
}
