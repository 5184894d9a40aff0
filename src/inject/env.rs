//! The child's environment: inherited variables (or a clean set), minus sx's own settings,
//! plus the manifest's entries, byte for byte.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::error::Error;

/// sx's own settings: never passed on unless the manifest names them.
pub const OWN_VARIABLES: &[&str] = &[
    "SX_MANIFEST",
    "SX_PROFILE",
    "SX_LOG",
    "SX_AGE_IDENTITY",
    "SX_AGE_IDENTITY_FILE",
];

/// What `--clean-env` keeps from sx's environment.
pub const CLEAN_KEEP: &[&str] = &["PATH", "HOME", "USER", "LANG", "TZ", "TERM"];

/// Why `value` cannot be the environment variable `name`, and what to do instead: a NUL
/// byte, or more than the kernel takes in one variable.
pub fn check_value(name: &str, value: &[u8]) -> Result<(), (String, String)> {
    if value.contains(&0) {
        return Err((
            "the value contains a NUL byte, which an environment variable cannot hold".into(),
            format!(
                "deliver it as a file: move the entry to [files.{name}] and read the path from ${name}"
            ),
        ));
    }
    if name.len() + 1 + value.len() + 1 > MAX_ONE {
        return Err((
            format!(
                "the value is {} bytes, more than the kernel allows in one variable ({} bytes)",
                value.len(),
                MAX_ONE - name.len() - 2
            ),
            format!("deliver it as a file under [files.{name}]"),
        ));
    }
    Ok(())
}

/// Linux refuses one `NAME=value` string longer than this (MAX_ARG_STRLEN) with E2BIG.
const MAX_ONE: usize = 32 * 4096;

/// The child's environment under construction.
#[derive(Debug, Default)]
pub struct ChildEnv {
    vars: Vec<(OsString, OsString)>,
}

impl ChildEnv {
    /// Starts from sx's own environment (or only [`CLEAN_KEEP`] with `clean`).
    pub fn inherit(clean: bool) -> Self {
        let vars = std::env::vars_os()
            .filter(|(k, _)| !OWN_VARIABLES.iter().any(|o| OsStr::new(o) == k))
            .filter(|(k, _)| !clean || CLEAN_KEEP.iter().any(|o| OsStr::new(o) == k))
            .collect();
        Self { vars }
    }

    /// An environment built elsewhere (a restart by `--refresh`).
    pub fn from_vars(vars: Vec<(OsString, OsString)>) -> Self {
        Self { vars }
    }

    /// Sets `name` to `value`, replacing an inherited value. Values with a NUL byte or too
    /// large for the kernel are refused here, before anything is started.
    pub fn set(&mut self, name: &str, value: &[u8]) -> Result<(), Error> {
        check_value(name, value).map_err(|(message, hint)| Error::Inject {
            message: format!("env {name}: {message}"),
            hint: Some(hint),
        })?;
        self.vars.retain(|(k, _)| k.as_bytes() != name.as_bytes());
        self.vars
            .push((OsString::from(name), OsString::from_vec(value.to_vec())));
        Ok(())
    }

    /// Removes `name` (a variable sx consumed for itself).
    pub fn remove(&mut self, name: &str) {
        self.vars.retain(|(k, _)| k.as_bytes() != name.as_bytes());
    }

    /// Checks the whole environment plus `argv` against the kernel's total limit.
    pub fn check_total(&self, argv: &[OsString]) -> Result<(), Error> {
        // SAFETY: sysconf has no preconditions.
        let limit = unsafe { libc::sysconf(libc::_SC_ARG_MAX) };
        let Ok(limit) = usize::try_from(limit) else {
            return Ok(());
        };
        let pointer = std::mem::size_of::<usize>();
        let env: usize = self
            .vars
            .iter()
            .map(|(k, v)| k.len() + v.len() + 2 + pointer)
            .sum();
        // The kernel also copies the path of the program it runs (found as the PATH search
        // will find it) and the two NULL pointers ending argv and envp.
        let filename = argv.first().map_or(0, |p| self.program_path_len(p)) + 1;
        let args: usize =
            argv.iter().map(|a| a.len() + 1 + pointer).sum::<usize>() + filename + 2 * pointer;
        if env + args > limit {
            return Err(Error::Inject {
                message: format!(
                    "the environment and arguments take {} bytes, more than the kernel's limit of {limit}",
                    env + args
                ),
                hint: Some("deliver large values as files under [files.NAME]".into()),
            });
        }
        Ok(())
    }

    /// The length of the path execve will be given for `program`: itself when it names a
    /// path, else the first file of that name in the command's PATH (the search sx does).
    fn program_path_len(&self, program: &OsStr) -> usize {
        let bytes = program.as_bytes();
        if bytes.contains(&b'/') || bytes.is_empty() {
            return bytes.len();
        }
        let path = self
            .vars
            .iter()
            .find(|(k, _)| k == "PATH")
            .map_or(&b"/usr/local/bin:/usr/bin:/bin"[..], |(_, v)| v.as_bytes());
        path.split(|b| *b == b':')
            .map(|dir| if dir.is_empty() { &b"."[..] } else { dir })
            .map(|dir| std::path::Path::new(OsStr::from_bytes(dir)).join(program))
            .find(|candidate| candidate.is_file())
            .map_or(bytes.len(), |found| found.as_os_str().len())
    }

    pub fn vars(&self) -> &[(OsString, OsString)] {
        &self.vars
    }
}

impl Drop for ChildEnv {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (_, v) in &mut self.vars {
            // Values may be secrets: wipe the buffers, not just free them.
            let mut bytes = std::mem::take(v).into_vec();
            bytes.zeroize();
        }
    }
}
