//! `--mask`: secret values in the command's stdout and stderr replaced by `***`.
//!
//! Output is streamed, not buffered by line: bytes are held back only while they could be
//! the start of a secret, so prompts and progress output still appear at once, and a secret
//! split across two writes is still caught.

use std::io::{Read, Write};

use zeroize::Zeroize;

/// Values shorter than this are not masked: masking "1" or "on" would garble the output
/// without protecting anything.
pub const MIN_LEN: usize = 4;

const MARK: &[u8] = b"***";

/// The values to hide, longest first so that a longer secret wins over one it contains.
#[derive(Default)]
pub struct Masker {
    patterns: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Masker({} values)", self.patterns.len())
    }
}

impl Drop for Masker {
    fn drop(&mut self) {
        for p in &mut self.patterns {
            p.zeroize();
        }
    }
}

impl Masker {
    /// Masks each value, and each line of a multi-line value on its own (programs often
    /// print a PEM key or a JSON secret line by line).
    pub fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        for v in values {
            let lines = v
                .split(|b| *b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
            for p in std::iter::once(v).chain(lines) {
                if p.len() >= MIN_LEN && !patterns.iter().any(|q| q == p) {
                    patterns.push(p.to_vec());
                }
            }
        }
        patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
        Self { patterns }
    }

    /// This masker with more values (new secrets after a `--refresh` restart).
    pub fn extended<'a>(&self, values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let added: Vec<&[u8]> = values.into_iter().collect();
        Self::new(self.patterns.iter().map(Vec::as_slice).chain(added))
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Masks `buf` in place as far as it can be decided; returns how many bytes of the
    /// result are final. The rest could still become a secret with more input.
    fn process(&self, buf: &mut Vec<u8>, at_end: bool) -> usize {
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        'scan: while i < buf.len() {
            // A secret may be starting here, or a longer one may extend a shorter match:
            // hold it back and decide when more bytes arrive.
            if !at_end
                && self
                    .patterns
                    .iter()
                    .any(|p| p.len() > buf.len() - i && p.starts_with(&buf[i..]))
            {
                break;
            }
            for p in &self.patterns {
                if buf[i..].starts_with(p) {
                    out.extend_from_slice(MARK);
                    i += p.len();
                    continue 'scan;
                }
            }
            out.push(buf[i]);
            i += 1;
        }
        let done = out.len();
        out.extend_from_slice(&buf[i..]);
        buf.zeroize();
        *buf = out;
        done
    }

    /// Copies `from` to `to`, masking, until `from` ends.
    pub fn copy(&self, mut from: impl Read, mut to: impl Write) -> std::io::Result<()> {
        let mut pending: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = match from.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            pending.extend_from_slice(&chunk[..n]);
            let done = self.process(&mut pending, n == 0);
            to.write_all(&pending[..done])?;
            to.flush()?;
            pending.drain(..done);
            if n == 0 {
                chunk.zeroize();
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(m: &Masker, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut pending = Vec::new();
        for c in chunks {
            pending.extend_from_slice(c);
            let done = m.process(&mut pending, false);
            out.extend_from_slice(&pending[..done]);
            pending.drain(..done);
        }
        let done = m.process(&mut pending, true);
        out.extend_from_slice(&pending[..done]);
        out
    }

    #[test]
    fn masks_across_chunk_boundaries_and_lines() {
        let m = Masker::new([&b"hunter22"[..], b"line-one\nline-two", b"ab"]);
        assert_eq!(run(&m, &[b"pw=hun", b"ter22!"]), b"pw=***!");
        assert_eq!(run(&m, &[b"line-two and line-one"]), b"*** and ***");
        assert_eq!(run(&m, &[b"ab stays: too short"]), b"ab stays: too short");
        assert_eq!(
            run(&m, &[b"hunt"]),
            b"hunt",
            "a prefix alone is flushed at the end"
        );
        let m = Masker::new([&b"pass-pw"[..], b"pass-pw-extended"]);
        assert_eq!(run(&m, &[b"pass-pw", b"-extended\n"]), b"***\n");
        assert_eq!(run(&m, &[b"pass-pw", b" then\n"]), b"*** then\n");
    }
}
