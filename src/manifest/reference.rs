//! The reference grammar: `SCHEME://PATH[?QUERY][#FRAGMENT]`.
//!
//! One parser serves the manifest, `sx get`, `sx ls`, `sx set` and `--env-refs`. It knows the
//! shape of a reference only; which schemes and query keys exist is the plan's business.

use std::fmt;
use std::ops::Range;

use percent_encoding::percent_decode_str;

/// A parsed reference. The original text is kept for messages; it names a secret, it is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    raw: String,
    /// Provider type or declared instance name.
    pub scheme: String,
    /// Percent-decoded path, handed to the provider as it is.
    pub path: String,
    /// Percent-decoded query pairs, in the order written.
    pub query: Vec<(String, String)>,
    /// Field selector applied to a JSON value after the read.
    pub fragment: Option<Fragment>,
    /// Where the path is written: byte range into the text.
    path_at: Range<usize>,
    /// Where each query key is written, parallel to `query`.
    query_at: Vec<Range<usize>>,
}

/// Selects a field of a JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fragment {
    /// `#a.b.0`: object keys (or array indexes) separated by dots.
    Dotted(Vec<String>),
    /// `#/a/b`: an RFC 6901 JSON Pointer, for keys that contain dots.
    Pointer(String),
}

/// Why a string is not a reference; `at` is a byte offset into the string, and `len` the
/// length in bytes of the faulty part (0: from `at` to the end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferenceError {
    pub message: String,
    pub at: usize,
    pub len: usize,
    pub hint: Option<String>,
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Whether `s` can name a provider type or instance: `[a-z][a-z0-9_-]*`.
pub fn is_scheme_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-' | '_'))
}

/// Whether `s` looks like a reference at all (`word://`), used by `--env-refs` and to give a
/// better message for a plain value written where a reference belongs.
pub fn looks_like_reference(s: &str) -> bool {
    s.split_once("://")
        .is_some_and(|(scheme, _)| is_scheme_name(scheme))
}

impl Reference {
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let err = |message: String, at: usize, hint: Option<&str>| ReferenceError {
            message,
            at,
            len: 0,
            hint: hint.map(str::to_owned),
        };
        let Some((scheme, rest)) = input.split_once("://") else {
            return Err(err(
                format!("`{}` is not a reference", escape(input)),
                0,
                Some("a reference looks like SCHEME://PATH, e.g. `local://api-token`"),
            ));
        };
        if !is_scheme_name(scheme) {
            return Err(err(
                format!("invalid scheme `{}`", escape(scheme)),
                0,
                Some("schemes are lowercase letters, digits, `-` and `_`, starting with a letter"),
            ));
        }
        let rest_at = scheme.len() + 3;
        let (before_fragment, fragment) = match rest.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (rest, None),
        };
        let (raw_path, raw_query) = match before_fragment.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (before_fragment, None),
        };
        if raw_path.is_empty() {
            return Err(err(
                format!("reference `{}` has an empty path", escape(input)),
                rest_at,
                None,
            ));
        }
        let path = decode(raw_path, rest_at, "the path")?;

        let mut query = Vec::new();
        let mut query_at = Vec::new();
        if let Some(q) = raw_query {
            let q_at = rest_at + raw_path.len() + 1;
            let mut pair_at = q_at;
            for pair in q.split('&') {
                let at = pair_at;
                pair_at += pair.len() + 1;
                if pair.is_empty() {
                    continue;
                }
                let (raw_k, raw_v) = pair.split_once('=').unwrap_or((pair, ""));
                let k = decode(raw_k, at, "a query key")?;
                let v = decode(raw_v, at + raw_k.len() + 1, "a query value")?;
                if query.iter().any(|(seen, _)| *seen == k) {
                    return Err(err(
                        format!("query key `{}` is given twice", escape(&k)),
                        q_at,
                        None,
                    ));
                }
                query.push((k, v));
                query_at.push(at..at + raw_k.len());
            }
        }

        let fragment = match fragment {
            None => None,
            Some(f) => {
                let f_at = rest_at + before_fragment.len() + 1;
                Some(parse_fragment(f).map_err(|m| {
                    err(
                        m,
                        f_at,
                        Some("select a field with #key, #a.b, or a JSON Pointer #/a/b"),
                    )
                })?)
            }
        };

        Ok(Self {
            raw: input.to_owned(),
            scheme: scheme.to_owned(),
            path,
            query,
            fragment,
            path_at: rest_at..rest_at + raw_path.len(),
            query_at,
        })
    }

    /// A problem with a part of a parsed reference, located where that part is written.
    pub fn path_error(&self, message: String, hint: Option<String>) -> ReferenceError {
        ReferenceError {
            message,
            at: self.path_at.start,
            len: self.path_at.len(),
            hint,
        }
    }

    /// A problem with query key `i` (in written order); `whole` covers the `key=value` pair.
    pub fn query_error(
        &self,
        i: usize,
        whole: bool,
        message: String,
        hint: Option<String>,
    ) -> ReferenceError {
        let at = &self.query_at[i];
        let len = if whole {
            self.raw[at.start..]
                .find(['&', '#'])
                .unwrap_or(self.raw.len() - at.start)
        } else {
            at.len()
        };
        ReferenceError {
            message,
            at: at.start,
            len,
            hint,
        }
    }

    /// A problem with the scheme.
    pub fn scheme_error(&self, message: String, hint: Option<String>) -> ReferenceError {
        ReferenceError {
            message,
            at: 0,
            len: self.scheme.len(),
            hint,
        }
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The value of query key `key`, if given.
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The same reference without its fragment: what one read fetches.
    pub fn without_fragment(&self) -> String {
        match self.raw.split_once('#') {
            Some((before, _)) => before.to_owned(),
            None => self.raw.clone(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.raw))
    }
}

fn parse_fragment(f: &str) -> Result<Fragment, String> {
    if f.is_empty() {
        return Err("empty fragment after `#`".into());
    }
    if f.starts_with('/') {
        // Validate the escapes now so a typo fails at plan time, not after a network read.
        let mut chars = f.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return Err(format!(
                    "invalid JSON Pointer `{}`: `~` must be followed by 0 or 1",
                    escape(f)
                ));
            }
        }
        return Ok(Fragment::Pointer(f.to_owned()));
    }
    let parts: Vec<String> = f.split('.').map(str::to_owned).collect();
    if parts.iter().any(String::is_empty) {
        return Err(format!(
            "invalid field path `{}`: empty segment between dots",
            escape(f)
        ));
    }
    Ok(Fragment::Dotted(parts))
}

/// Percent-decodes one part of a reference that starts at byte `at` of it. A `%` that is
/// not followed by two hex digits is an error rather than a literal `%`: it is almost always
/// a typo, and reading it as written would fetch a different secret.
pub fn decode(s: &str, at: usize, part: &str) -> Result<String, ReferenceError> {
    if let Some(i) = s.find('%') {
        let mut i = i;
        loop {
            let digits = s
                .get(i + 1..i + 3)
                .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
            if digits.is_none() {
                // The `%` and up to two characters after it, as written.
                let bad: String = s[i..].chars().take(3).collect();
                return Err(ReferenceError {
                    message: format!("invalid percent-encoding `{}` in {part}", escape(&bad)),
                    at: at + i,
                    len: bad.len(),
                    hint: Some(
                        "a `%` starts an escape of two hex digits, like %23 for `#`; write `%25` for a literal `%`"
                            .into(),
                    ),
                });
            }
            match s[i + 3..].find('%') {
                Some(next) => i += 3 + next,
                None => break,
            }
        }
    }
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| ReferenceError {
            message: format!("`{}` does not percent-decode to UTF-8", escape(s)),
            at,
            len: s.len(),
            hint: None,
        })
}

/// Escapes what could move the cursor, fake a line or reorder text on a terminal, so that
/// untrusted text is shown safely: control characters, line and paragraph separators and
/// bidirectional controls become `\n`, `\u{1b}`, `\u{202e}`. A backslash is doubled so an
/// escape cannot be faked; every other character, accented letters and symbols included, is
/// shown as it is.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match escape_char(c) {
            Some(e) => out.push_str(&e),
            None if c == '\\' => out.push_str("\\\\"),
            None => out.push(c),
        }
    }
    out
}

/// [`escape`], cut to its first 80 characters (`…` marks the cut): for values quoted in a
/// message, which can be as long as a pasted blob.
pub fn escape_short(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", escape(&s[..cut])),
        None => escape(s),
    }
}

/// How `c` is shown when it is not safe to print as it is; `None` when it is.
pub fn escape_char(c: char) -> Option<String> {
    let unsafe_char = c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        );
    unsafe_char.then(|| match c {
        '\t' => "\\t".to_owned(),
        '\n' => "\\n".to_owned(),
        '\r' => "\\r".to_owned(),
        _ => c.escape_unicode().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_part() {
        let r = Reference::parse("aws-sm://prod/app%23x?version_id=abc&stage=AWSCURRENT#db.host")
            .unwrap();
        assert_eq!(r.scheme, "aws-sm");
        assert_eq!(r.path, "prod/app#x");
        assert_eq!(r.query_value("version_id"), Some("abc"));
        assert_eq!(r.query_value("stage"), Some("AWSCURRENT"));
        assert_eq!(
            r.fragment,
            Some(Fragment::Dotted(vec!["db".into(), "host".into()]))
        );
        assert_eq!(
            r.without_fragment(),
            "aws-sm://prod/app%23x?version_id=abc&stage=AWSCURRENT"
        );
    }

    #[test]
    fn triple_slash_keeps_the_leading_slash() {
        let r = Reference::parse("file:///run/secrets/db#/a.b/c").unwrap();
        assert_eq!(r.path, "/run/secrets/db");
        assert_eq!(r.fragment, Some(Fragment::Pointer("/a.b/c".into())));
    }

    #[test]
    fn rejects_bad_input_with_a_reason() {
        for (input, needle) in [
            ("no-scheme", "is not a reference"),
            ("Bad://x", "invalid scheme"),
            ("local://", "empty path"),
            ("local://x#", "empty fragment"),
            ("local://x#a..b", "empty segment"),
            ("local://x#/a~2", "JSON Pointer"),
            ("local://x?a=1&a=2", "given twice"),
            ("local://%ff", "percent-decode"),
            (
                "file:///tmp/a%zz",
                "invalid percent-encoding `%zz` in the path",
            ),
            ("file:///tmp/a%", "invalid percent-encoding `%` in the path"),
            ("aws-sm://a%zz", "invalid percent-encoding `%zz`"),
            (
                "aws-sm://a?stage=x%4",
                "invalid percent-encoding `%4` in a query value",
            ),
            (
                "aws-sm://a?%g=1",
                "invalid percent-encoding `%g` in a query key",
            ),
        ] {
            let e = Reference::parse(input).unwrap_err();
            assert!(e.message.contains(needle), "{input}: {}", e.message);
        }
    }

    #[test]
    fn a_bad_percent_escape_is_located() {
        let e = Reference::parse("aws-sm://a%41%zz").unwrap_err();
        assert_eq!((e.at, e.len), (13, 3));
        let e = Reference::parse("aws-sm://a?stage=%e9%").unwrap_err();
        assert_eq!((e.at, e.len), (20, 1));
        // A valid escape after a bad one is not what is reported.
        let e = Reference::parse("local://x?a=1&b=%Z1").unwrap_err();
        assert_eq!(&"local://x?a=1&b=%Z1"[e.at..e.at + e.len], "%Z1");
    }

    #[test]
    fn escape_neutralises_control_characters() {
        assert_eq!(escape("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
        assert_eq!(escape("x\u{202e}y\tz\\"), "x\\u{202e}y\\tz\\\\");
        // Printable text is left alone, whatever its script.
        assert_eq!(escape("café ☃ 'q' \"q\""), "café ☃ 'q' \"q\"");
    }
}
