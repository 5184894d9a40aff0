//! Errors, one enum per area, and how each maps to an exit code.
//!
//! Messages are lowercase, carry the facts (entry, reference, provider) and never a secret
//! value; a `hint:` line names the flag, variable or permission that fixes the problem.

use std::fmt;

use crate::manifest::diag::ManifestErrors;
use crate::manifest::reference::escape;

/// What kind of failure a provider reported. Users act differently on each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Denied,
    Auth,
    Unreachable,
    Malformed,
    Timeout,
    Unsupported,
    Other,
}

impl ErrorKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::NotFound => "not found",
            Self::Denied => "permission denied",
            Self::Auth => "authentication failed",
            Self::Unreachable => "unreachable",
            Self::Malformed => "malformed",
            Self::Timeout => "timed out",
            Self::Unsupported => "not supported",
            Self::Other => "failed",
        }
    }
}

/// A provider's reason for not delivering a value. Never holds the value.
#[derive(Clone, Debug)]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same error with another kind.
    pub fn kind_to(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), escape(&self.message))
    }
}

impl std::error::Error for ProviderError {}

/// One entry that could not be given a value.
#[derive(Debug)]
pub struct EntryFailure {
    /// `env NAME`, `files NAME`, `import #N` or `get`.
    pub entry: String,
    /// The reference as written (never a value).
    pub reference: String,
    pub error: ProviderError,
}

/// Every entry that failed in one run.
#[derive(Debug)]
pub struct ResolveErrors {
    pub failures: Vec<EntryFailure>,
    pub total: usize,
}

impl fmt::Display for ResolveErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        write!(
            f,
            "could not resolve {n} of {} entr{}",
            self.total,
            if self.total == 1 { "y" } else { "ies" }
        )?;
        // Entries that failed the same way (one provider that cannot log in, say) are listed
        // together above the one error, in the order they first appear.
        let mut groups: Vec<(String, Option<&str>, Vec<&EntryFailure>)> = Vec::new();
        for fail in &self.failures {
            let error = fail.error.to_string();
            let hint = fail.error.hint.as_deref();
            match groups
                .iter_mut()
                .find(|(e, h, _)| *e == error && *h == hint)
            {
                Some((_, _, entries)) => entries.push(fail),
                None => groups.push((error, hint, vec![fail])),
            }
        }
        for (error, hint, entries) in groups {
            for fail in entries {
                if fail.reference.is_empty() {
                    write!(f, "\n  {}", fail.entry)?;
                } else {
                    write!(f, "\n  {}: {}", fail.entry, escape(&fail.reference))?;
                }
            }
            write!(f, "\n    {error}")?;
            if let Some(h) = hint {
                write!(f, "\n    hint: {h}")?;
            }
        }
        Ok(())
    }
}

/// Why the command could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("command `{0}` not found")]
    NotFound(String),
    #[error("command `{0}` is not executable")]
    NotExecutable(String),
    #[error("command `{0}` is not a program: it has no #! line and is not a binary")]
    NotAProgram(String),
    #[error("cannot run `{0}`: the interpreter named on its #! line was not found")]
    BadInterpreter(String),
    #[error("cannot start `{command}`: {source}")]
    Other {
        command: String,
        source: std::io::Error,
    },
}

/// Everything that can make sx fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    #[error("{0}")]
    Manifest(Box<ManifestErrors>),
    #[error("{0}")]
    Resolve(ResolveErrors),
    #[error("{0}")]
    Provider(ProviderError),
    #[error("{message}")]
    Inject {
        message: String,
        hint: Option<String>,
    },
    #[error("{0}")]
    Spawn(SpawnError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage {
            message: message.into(),
            hint: None,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// The hint line printed after the message, if there is one.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Self::Usage { hint, .. } | Self::Inject { hint, .. } => hint.as_deref(),
            Self::Provider(p) => p.hint.as_deref(),
            _ => None,
        }
    }

    /// The exit code: `sx exec` reports its own failures as 125 so they cannot be mistaken
    /// for the child's; other commands use 1 for failure and 2 for usage errors.
    pub fn exit_code(&self, exec: bool) -> u8 {
        match self {
            Self::Spawn(SpawnError::NotFound(_) | SpawnError::BadInterpreter(_)) => 127,
            Self::Spawn(SpawnError::NotExecutable(_) | SpawnError::NotAProgram(_)) => 126,
            _ if exec => 125,
            Self::Usage { .. } => 2,
            _ => 1,
        }
    }
}

/// An error and its causes as one line of their messages (the SDK's own rendering adds a
/// Debug dump of the request machinery).
/// The innermost error of a chain: the cause itself (a refused connection, a DNS failure),
/// under the layers that each say "could not" in their own words.
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = c.source();
    }
    out
}
