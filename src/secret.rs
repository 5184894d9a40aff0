//! The one type that holds secret bytes.
//!
//! A [`SecretValue`] is zeroed when dropped and never prints its contents: `Debug` and
//! `Display` show a redaction marker, so a value cannot reach a log line, an error message or
//! a panic by accident. The bytes are opened only where the child's environment and files are
//! built, and by `sx get`.

use std::fmt;

use secrecy::{ExposeSecret, SecretBox};

/// Secret bytes, zeroed on drop, redacted when formatted.
pub struct SecretValue(SecretBox<[u8]>);

impl SecretValue {
    /// Takes ownership of `bytes`; the vector's buffer is the one that gets zeroed.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(SecretBox::new(bytes.into_boxed_slice()))
    }

    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// The secret bytes. Call only where the value is about to be handed on.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    pub fn len(&self) -> usize {
        self.expose().len()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl Clone for SecretValue {
    fn clone(&self) -> Self {
        Self::from_slice(self.expose())
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue([redacted])")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_bytes() {
        let v = SecretValue::from_slice(b"hunter2-canary");
        assert_eq!(format!("{v:?}"), "SecretValue([redacted])");
        assert_eq!(format!("{v}"), "[redacted]");
        assert_eq!(v.expose(), b"hunter2-canary");
    }
}
