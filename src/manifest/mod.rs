//! The manifest, `sx.toml`: where it is found, and its strict schema.
//!
//! Parsing keeps every span so that later stages (the plan) can point at the exact place of a
//! problem. Nothing here does I/O beyond reading the file, and nothing stops at the first
//! problem: every diagnostic is collected and reported together.

pub mod diag;
pub mod reference;

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use self::diag::{Diagnostic, ManifestErrors};
use self::reference::{Reference, ReferenceError};
use crate::error::Error;

/// The file name searched for from the working directory upward.
pub const FILE_NAME: &str = "sx.toml";

/// A manifest as written: base tables and profiles, not yet merged or checked against
/// providers.
#[derive(Debug, Default)]
pub struct Manifest {
    pub path: PathBuf,
    pub source: String,
    pub base: Layer,
    pub profiles: Vec<Profile>,
    /// Problems found while parsing; the plan adds its own and reports them all together.
    pub problems: Vec<Diagnostic>,
}

/// The tables a profile may overlay.
#[derive(Debug, Default)]
pub struct Layer {
    pub providers: Vec<ProviderDecl>,
    pub env: Vec<EnvDecl>,
    pub files: Vec<FileDecl>,
    pub imports: Vec<ImportDecl>,
    /// References of entries that cannot be planned (their name is invalid): the plan still
    /// checks them against their provider, so that every problem is reported in one run.
    pub check_only: Vec<RefAt>,
}

#[derive(Debug)]
pub struct Profile {
    pub name: String,
    pub span: Range<usize>,
    pub layer: Layer,
}

/// `[providers.NAME]`: a named instance, or the settings of a type's default instance.
#[derive(Debug)]
pub struct ProviderDecl {
    pub name: String,
    pub name_span: Range<usize>,
    pub settings: Vec<Setting>,
}

/// One key of a provider table, checked later by the provider's own schema.
#[derive(Debug, Clone)]
pub struct Setting {
    pub key: String,
    pub key_span: Range<usize>,
    pub value: SettingValue,
    pub value_span: Range<usize>,
}

#[derive(Debug, Clone)]
pub enum SettingValue {
    String(String),
    Bool(bool),
    Integer(i64),
    Strings(Vec<String>),
    Table(Vec<Setting>),
    Other,
}

impl SettingValue {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::String(_) => "a string",
            Self::Bool(_) => "a boolean",
            Self::Integer(_) => "an integer",
            Self::Strings(_) => "an array of strings",
            Self::Table(_) => "a table",
            Self::Other => "another kind of value",
        }
    }
}

/// A reference together with where it was written.
#[derive(Debug, Clone)]
pub struct RefAt {
    pub reference: Reference,
    /// The whole TOML value, quotes included.
    pub span: Range<usize>,
    /// The entry it belongs to, for messages: `[env].NAME`, `[files.NAME]`, `[[import]]`.
    pub what: String,
    /// Where the reference's text starts in the manifest when the string is written as it
    /// reads (one quote each side, no escapes); then problems point into it.
    text_at: Option<usize>,
}

impl RefAt {
    /// A diagnostic for a problem with this reference, naming the entry and pointed at the
    /// part of the reference it is about.
    pub fn diagnostic(&self, e: ReferenceError) -> Diagnostic {
        diagnostic(&self.what, &self.span, self.text_at, e)
    }
}

fn diagnostic(
    what: &str,
    value: &Range<usize>,
    text_at: Option<usize>,
    e: ReferenceError,
) -> Diagnostic {
    Diagnostic {
        message: format!("bad reference in {what}: {}", e.message),
        span: Some(locate(value, text_at, &e)),
        hint: e.hint,
    }
}

/// Where the part of a reference that `e` is about is written: inside the string when
/// `text_at` says where its text starts, else the whole value.
fn locate(value: &Range<usize>, text_at: Option<usize>, e: &ReferenceError) -> Range<usize> {
    let Some(start) = text_at else {
        return value.clone();
    };
    // The closing quote.
    let text_end = value.end - 1;
    if start + e.at >= text_end {
        return value.clone();
    }
    let from = start + e.at;
    let to = if e.len == 0 { text_end } else { from + e.len };
    from..to.min(text_end)
}

#[derive(Debug)]
pub struct EnvDecl {
    pub name: String,
    pub name_span: Range<usize>,
    pub source: EnvSource,
    pub optional: bool,
}

#[derive(Debug)]
pub enum EnvSource {
    Ref(RefAt),
    /// A plain value from `{ value = "..." }`: not a secret, written in the manifest.
    Value(String),
}

#[derive(Debug)]
pub struct FileDecl {
    pub name: String,
    pub name_span: Range<usize>,
    pub source: RefAt,
    pub mode: u32,
    pub file_name: Option<String>,
    pub optional: bool,
}

#[derive(Debug)]
pub struct ImportDecl {
    pub source: RefAt,
    pub prefix: String,
    pub optional: bool,
}

/// Whether `name` can be an environment variable: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('A'..='Z' | 'a'..='z' | '_'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Finds the manifest: an explicit path, else the nearest `sx.toml` from `start` upward.
pub fn discover(explicit: Option<&Path>, start: &Path) -> Result<Option<PathBuf>, Error> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(Some(p.to_path_buf()))
        } else {
            Err(Error::Usage {
                message: format!("manifest `{}` does not exist or is not a file", p.display()),
                hint: Some("check -f / SX_MANIFEST".into()),
            })
        };
    }
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(Some(candidate));
        }
        dir = d.parent();
    }
    Ok(None)
}

/// Reads and parses the manifest at `path`. Problems in its content are kept in
/// [`Manifest::problems`] for the plan to report with its own.
pub fn load(path: &Path) -> Result<Manifest, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        context: format!("cannot read manifest `{}`", path.display()),
        source: e,
    })?;
    let source = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let source = String::from_utf8_lossy(e.as_bytes()).into_owned();
            return Err(Error::Manifest(Box::new(ManifestErrors {
                path: path.to_path_buf(),
                diagnostics: vec![
                    Diagnostic::new("the manifest is not valid UTF-8", at..at + 1)
                        .hint("save it as UTF-8"),
                ],
                source,
            })));
        }
    };
    // A byte-order mark is not part of the TOML; drop it so columns count from the text.
    let source = match source.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => source,
    };
    let (mut manifest, problems) = parse(path, source);
    manifest.problems = problems;
    Ok(manifest)
}

/// After a table header that does not parse (`[env` with no `]`), the keys under it land at
/// the top level; an "unknown key" for each would only repeat the header's error.
fn drop_keys_under_broken_headers(source: &str, diags: &mut Vec<Diagnostic>) {
    let line_start = |at: usize| {
        source[..at.min(source.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1)
    };
    let is_header = |start: usize| source[start..].trim_start().starts_with('[');
    let broken: Vec<usize> = diags
        .iter()
        .filter(|d| d.message.starts_with("invalid TOML"))
        .filter_map(|d| d.span.as_ref().map(|s| line_start(s.start)))
        .filter(|&start| is_header(start))
        .collect();
    if broken.is_empty() {
        return;
    }
    // The header lines, in order, to find the section a key is in.
    let headers: Vec<usize> = std::iter::once(0)
        .chain(source.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&start| start < source.len() && is_header(start))
        .collect();
    diags.retain(|d| {
        let top_level_key =
            d.message.starts_with("unknown key") && d.message.ends_with("at the top level");
        let Some(span) = d.span.as_ref().filter(|_| top_level_key) else {
            return true;
        };
        let section = headers.iter().rev().find(|&&h| h <= span.start);
        !section.is_some_and(|h| broken.contains(h))
    });
}

/// Parses manifest text, returning what could be read and every problem found.
pub fn parse(path: &Path, source: String) -> (Manifest, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let (base, profiles) = {
        let (root, errors) = DeTable::parse_recoverable(&source);
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim_end();
            let d = if message.contains("duplicate key") {
                let key = source.get(span.clone()).unwrap_or("").trim();
                Diagnostic::new(
                    format!("`{}` is defined twice", reference::escape(key)),
                    span,
                )
                .hint(
                    "a key, and a [table] header, may appear only once; merge the two definitions",
                )
            } else {
                Diagnostic::new(format!("invalid TOML: {message}"), span)
            };
            diags.push(d);
        }
        let root = root.into_inner();
        let mut p = Parser {
            diags: &mut diags,
            source: &source,
        };
        let base = p.layer(
            &root,
            "",
            &["providers", "env", "files", "import", "profiles"],
        );
        let profiles = p.profiles(&root);
        drop_keys_under_broken_headers(&source, &mut diags);
        (base, profiles)
    };
    (
        Manifest {
            path: path.to_path_buf(),
            source,
            base,
            profiles,
            problems: Vec::new(),
        },
        diags,
    )
}

struct Parser<'d> {
    diags: &'d mut Vec<Diagnostic>,
    /// The manifest text, to tell whether a string is written as it reads.
    source: &'d str,
}

type Entry<'a, 'i> = (
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
);

impl Parser<'_> {
    fn err(&mut self, message: impl Into<String>, span: Range<usize>) {
        self.diags.push(Diagnostic::new(message, span));
    }

    fn err_hint(
        &mut self,
        message: impl Into<String>,
        span: Range<usize>,
        hint: impl Into<String>,
    ) {
        self.diags.push(Diagnostic::new(message, span).hint(hint));
    }

    fn unknown_key(
        &mut self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        context: &str,
        allowed: &[&str],
    ) {
        let list = allowed
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        self.err_hint(
            format!(
                "unknown key `{}`{}",
                reference::escape(key.get_ref()),
                if context.is_empty() {
                    " at the top level".to_owned()
                } else {
                    format!(" in {context}")
                }
            ),
            key.span(),
            match diag::did_you_mean(key.get_ref(), allowed.iter().copied()) {
                Some(near) => format!("did you mean `{near}`? expected one of {list}"),
                None => format!("expected one of {list}"),
            },
        );
    }

    fn table<'a, 'i>(
        &mut self,
        value: &'a Spanned<DeValue<'i>>,
        what: &str,
    ) -> Option<&'a DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.err(format!("{what} must be a table"), value.span());
                None
            }
        }
    }

    /// Reads the tables a layer may hold from `table`; `context` is `""` for the top level or
    /// `profiles.NAME` for a profile.
    fn layer(&mut self, table: &DeTable<'_>, context: &str, allowed: &[&str]) -> Layer {
        let mut layer = Layer::default();
        let prefix = if context.is_empty() {
            String::new()
        } else {
            format!("{context}.")
        };
        for (key, value) in table.iter() {
            match key.get_ref().as_ref() {
                "providers" => {
                    if let Some(t) = self.table(value, &format!("[{prefix}providers]")) {
                        layer.providers = self.providers(t, &prefix);
                    }
                }
                "env" => {
                    if let Some(t) = self.table(value, &format!("[{prefix}env]")) {
                        for e in t.iter() {
                            self.env_entry(e, &prefix, &mut layer);
                        }
                    }
                }
                "files" => {
                    if let Some(t) = self.table(value, &format!("[{prefix}files]")) {
                        for e in t.iter() {
                            self.file_entry(e, &prefix, &mut layer);
                        }
                    }
                }
                "import" => layer.imports = self.imports(value, &prefix),
                "profiles" if context.is_empty() => {} // read by `profiles`
                _ => self.unknown_key(
                    key,
                    &if context.is_empty() {
                        String::new()
                    } else {
                        format!("[{context}]")
                    },
                    allowed,
                ),
            }
        }
        layer
    }

    fn profiles(&mut self, root: &DeTable<'_>) -> Vec<Profile> {
        let Some((_, value)) = root.iter().find(|(k, _)| k.get_ref() == "profiles") else {
            return Vec::new();
        };
        let Some(t) = self.table(value, "[profiles]") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, body) in t.iter() {
            if !reference::is_scheme_name(name.get_ref()) && !is_env_name(name.get_ref()) {
                self.err_hint(
                    format!(
                        "invalid profile name `{}`",
                        reference::escape(name.get_ref())
                    ),
                    name.span(),
                    "profile names are letters, digits, `-` and `_`",
                );
                continue;
            }
            let ctx = format!("profiles.{}", name.get_ref());
            if let Some(bt) = self.table(body, &format!("[{ctx}]")) {
                let layer = self.layer(bt, &ctx, &["providers", "env", "files", "import"]);
                out.push(Profile {
                    name: name.get_ref().to_string(),
                    span: name.span(),
                    layer,
                });
            }
        }
        out
    }

    fn providers(&mut self, t: &DeTable<'_>, prefix: &str) -> Vec<ProviderDecl> {
        let mut out = Vec::new();
        for (name, body) in t.iter() {
            if !reference::is_scheme_name(name.get_ref()) {
                self.err_hint(
                    format!("invalid provider name `{}`", reference::escape(name.get_ref())),
                    name.span(),
                    "provider names are used as reference schemes: lowercase letters, digits, `-` and `_`, starting with a letter",
                );
                continue;
            }
            let Some(bt) = self.table(body, &format!("[{prefix}providers.{}]", name.get_ref()))
            else {
                continue;
            };
            out.push(ProviderDecl {
                name: name.get_ref().to_string(),
                name_span: name.span(),
                settings: settings(bt),
            });
        }
        out
    }

    fn check_name(&mut self, name: &Spanned<std::borrow::Cow<'_, str>>) -> bool {
        if is_env_name(name.get_ref()) {
            return true;
        }
        self.err_hint(
            format!(
                "`{}` is not a valid environment variable name",
                reference::escape(name.get_ref())
            ),
            name.span(),
            "names match [A-Za-z_][A-Za-z0-9_]*",
        );
        false
    }

    /// Reads the reference of entry `what`; `key` is how the value is written (`what` itself,
    /// or `what.ref` in a table), for a value of the wrong type.
    fn reference(&mut self, value: &Spanned<DeValue<'_>>, what: &str, key: &str) -> Option<RefAt> {
        let DeValue::String(s) = value.get_ref() else {
            self.err(format!("{key} must be a string"), value.span());
            return None;
        };
        let span = value.span();
        let written = self
            .source
            .get(span.start.saturating_add(1)..span.end.saturating_sub(1));
        let text_at = (written == Some(s.as_ref())).then_some(span.start + 1);
        let at = |reference| RefAt {
            reference,
            span: span.clone(),
            what: what.to_owned(),
            text_at,
        };
        match Reference::parse(s) {
            Ok(reference) => Some(at(reference)),
            Err(e) => {
                self.diags.push(diagnostic(what, &span, text_at, e));
                None
            }
        }
    }

    fn bool(&mut self, value: &Spanned<DeValue<'_>>, what: &str) -> bool {
        match value.get_ref() {
            DeValue::Boolean(b) => *b,
            _ => {
                self.err(format!("{what} must be true or false"), value.span());
                false
            }
        }
    }

    /// Reads one `[env]` entry into `layer`; an entry with a bad name keeps only its
    /// reference, to be checked.
    fn env_entry(&mut self, entry: Entry<'_, '_>, prefix: &str, layer: &mut Layer) {
        let ok = self.check_name(entry.0);
        let Some(decl) = self.env_decl(entry, prefix) else {
            return;
        };
        match decl.source {
            _ if ok => layer.env.push(decl),
            EnvSource::Ref(r) => layer.check_only.push(r),
            EnvSource::Value(_) => {}
        }
    }

    fn env_decl(&mut self, (name, value): Entry<'_, '_>, prefix: &str) -> Option<EnvDecl> {
        let what = format!("[{prefix}env].{}", reference::escape(name.get_ref()));
        let (source, optional) = match value.get_ref() {
            DeValue::String(s) => {
                if !s.contains("://") {
                    self.err_hint(
                        format!("{what}: `{}` is not a reference", reference::escape_short(s)),
                        value.span(),
                        format!(
                            "a reference looks like SCHEME://PATH; for a plain value write {} = {{ value = \"...\" }}",
                            name.get_ref()
                        ),
                    );
                    return None;
                }
                (EnvSource::Ref(self.reference(value, &what, &what)?), false)
            }
            DeValue::Table(t) => {
                let mut r = None;
                let mut plain = None;
                let mut optional = false;
                let mut seen_ref = None;
                let mut seen_value = None;
                for (k, v) in t.iter() {
                    match k.get_ref().as_ref() {
                        "ref" => {
                            seen_ref = Some(k.span());
                            r = self.reference(v, &what, &format!("{what}.ref"));
                        }
                        "value" => {
                            seen_value = Some(k.span());
                            match v.get_ref() {
                                DeValue::String(s) => plain = Some(s.to_string()),
                                _ => self.err(format!("{what}.value must be a string"), v.span()),
                            }
                        }
                        "optional" => optional = self.bool(v, &format!("{what}.optional")),
                        _ => self.unknown_key(k, &what, &["ref", "optional", "value"]),
                    }
                }
                match (seen_ref, seen_value) {
                    (Some(_), Some(span)) => {
                        self.err(
                            format!("{what}: give either `ref` or `value`, not both"),
                            span,
                        );
                        return None;
                    }
                    // A `value` of the wrong type is already reported.
                    (None, Some(_)) => (EnvSource::Value(plain?), optional),
                    (Some(_), None) => (EnvSource::Ref(r?), optional),
                    (None, None) => {
                        self.err_hint(
                            format!("{what} has neither `ref` nor `value`"),
                            value.span(),
                            "write { ref = \"SCHEME://PATH\" } or { value = \"...\" }",
                        );
                        return None;
                    }
                }
            }
            _ => {
                self.err_hint(
                    format!("{what} must be a reference string or a table"),
                    value.span(),
                    "write \"SCHEME://PATH\", { ref = \"...\", optional = true } or { value = \"...\" }",
                );
                return None;
            }
        };
        Some(EnvDecl {
            name: name.get_ref().to_string(),
            name_span: name.span(),
            source,
            optional,
        })
    }

    /// Reads one `[files.NAME]` table into `layer`, like [`Self::env_entry`].
    fn file_entry(&mut self, entry: Entry<'_, '_>, prefix: &str, layer: &mut Layer) {
        let ok = self.check_name(entry.0);
        if let Some(decl) = self.file_decl(entry, prefix) {
            if ok {
                layer.files.push(decl);
            } else {
                layer.check_only.push(decl.source);
            }
        }
    }

    fn file_decl(&mut self, (name, value): Entry<'_, '_>, prefix: &str) -> Option<FileDecl> {
        let what = format!("[{prefix}files.{}]", reference::escape(name.get_ref()));
        let t = self.table(value, &what)?;
        let mut source = None;
        let mut saw_ref = false;
        let mut mode = 0o400;
        let mut file_name = None;
        let mut optional = false;
        for (k, v) in t.iter() {
            match k.get_ref().as_ref() {
                "ref" => {
                    saw_ref = true;
                    source = self.reference(v, &what, &format!("{what}.ref"));
                }
                "mode" => {
                    if let Some(m) = self.mode(v, &what) {
                        mode = m;
                    }
                }
                "name" => match v.get_ref() {
                    DeValue::String(s) if valid_file_name(s) => file_name = Some(s.to_string()),
                    DeValue::String(s) => self.err_hint(
                        format!("{what}: `{}` is not a plain file name", reference::escape_short(s)),
                        v.span(),
                        "a name without `/`, not `.` or `..`; the file always lives in sx's private directory",
                    ),
                    _ => self.err(format!("{what}.name must be a string"), v.span()),
                },
                "optional" => optional = self.bool(v, &format!("{what}.optional")),
                _ => self.unknown_key(k, &what, &["ref", "mode", "name", "optional"]),
            }
        }
        if !saw_ref {
            self.err_hint(
                format!("{what} has no `ref`"),
                name.span(),
                "add ref = \"SCHEME://PATH\"",
            );
        }
        Some(FileDecl {
            name: name.get_ref().to_string(),
            name_span: name.span(),
            source: source?,
            mode,
            file_name,
            optional,
        })
    }

    fn mode(&mut self, v: &Spanned<DeValue<'_>>, what: &str) -> Option<u32> {
        let parsed = match v.get_ref() {
            DeValue::String(s) if (3..=4).contains(&s.len()) => u32::from_str_radix(s, 8).ok(),
            _ => None,
        };
        match parsed {
            Some(m) if m <= 0o777 && m & 0o400 != 0 => Some(m),
            Some(m) if m > 0o777 => {
                self.err_hint(
                    format!("{what}.mode {m:o} has setuid, setgid or sticky bits"),
                    v.span(),
                    "secret files take permission bits only, at most \"0777\"",
                );
                None
            }
            Some(_) => {
                self.err_hint(
                    format!("{what}.mode must let the owner read the file"),
                    v.span(),
                    "use an octal string such as \"0400\" or \"0440\"",
                );
                None
            }
            None => {
                self.err_hint(
                    format!("{what}.mode must be an octal string"),
                    v.span(),
                    "write mode = \"0400\" (the default) or \"0440\", \"0600\"...",
                );
                None
            }
        }
    }

    fn imports(&mut self, value: &Spanned<DeValue<'_>>, prefix: &str) -> Vec<ImportDecl> {
        let DeValue::Array(items) = value.get_ref() else {
            self.err_hint(
                format!("`{prefix}import` must be an array of tables"),
                value.span(),
                format!("write [[{prefix}import]] sections"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let what = format!("[[{prefix}import]]");
            let Some(t) = self.table(item, &what) else {
                continue;
            };
            let mut source = None;
            let mut saw_ref = false;
            let mut import_prefix = String::new();
            let mut optional = false;
            for (k, v) in t.iter() {
                match k.get_ref().as_ref() {
                    "ref" => {
                        saw_ref = true;
                        source = self.reference(v, &what, &format!("{what}.ref"));
                    }
                    "prefix" => match v.get_ref() {
                        DeValue::String(s)
                            if s.is_empty()
                                || (!s.starts_with(|c: char| c.is_ascii_digit())
                                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) =>
                        {
                            import_prefix = s.to_string();
                        }
                        _ => self.err_hint(
                            format!("{what}.prefix must be letters, digits and `_`, not starting with a digit"),
                            v.span(),
                            "e.g. prefix = \"APP_\"",
                        ),
                    },
                    "optional" => optional = self.bool(v, &format!("{what}.optional")),
                    _ => self.unknown_key(k, &what, &["ref", "prefix", "optional"]),
                }
            }
            if !saw_ref {
                self.err(format!("{what} has no `ref`"), item.span());
            }
            if let Some(source) = source {
                out.push(ImportDecl {
                    source,
                    prefix: import_prefix,
                    optional,
                });
            }
        }
        out
    }
}

fn settings(t: &DeTable<'_>) -> Vec<Setting> {
    t.iter()
        .map(|(k, v)| Setting {
            key: k.get_ref().to_string(),
            key_span: k.span(),
            value: setting_value(v),
            value_span: v.span(),
        })
        .collect()
}

fn setting_value(v: &Spanned<DeValue<'_>>) -> SettingValue {
    match v.get_ref() {
        DeValue::String(s) => SettingValue::String(s.to_string()),
        DeValue::Boolean(b) => SettingValue::Bool(*b),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map_or(SettingValue::Other, SettingValue::Integer),
        DeValue::Array(a) => {
            let strings: Option<Vec<String>> = a
                .iter()
                .map(|x| match x.get_ref() {
                    DeValue::String(s) => Some(s.to_string()),
                    _ => None,
                })
                .collect();
            strings.map_or(SettingValue::Other, SettingValue::Strings)
        }
        DeValue::Table(t) => SettingValue::Table(settings(t)),
        _ => SettingValue::Other,
    }
}

fn valid_file_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\0']) && s.len() <= 255
}
