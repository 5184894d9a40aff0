//! The plan: the validated, typed intent of a run, with no I/O.
//!
//! Every reference is parsed and checked against its provider's schema, every provider
//! config is read, every name collision is found, and equal reads are merged so that each
//! `SCHEME://PATH?QUERY` is fetched once. `sx check`, `sx get` and `sx exec` all start here.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::manifest::diag::{Diagnostic, ManifestErrors};
use crate::manifest::reference::{Fragment, Reference, escape};
use crate::manifest::{EnvSource, Layer, Manifest, ProviderDecl, RefAt, SettingValue};
use crate::provider::{ProviderConfig, ProviderType, Request};

/// A provider instance the plan uses.
#[derive(Debug)]
pub struct Instance {
    pub name: String,
    pub ty: ProviderType,
    pub config: ProviderConfig,
}

/// One unique read.
#[derive(Debug)]
pub struct Fetch {
    pub instance: usize,
    pub request: Request,
    /// The reference without its fragment, for messages.
    pub shown: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Env,
    File {
        mode: u32,
        file_name: Option<String>,
    },
}

#[derive(Debug)]
pub enum Source {
    Fetch {
        fetch: usize,
        fragment: Option<Fragment>,
        reference: String,
    },
    /// A plain, non-secret value written in the manifest.
    Value(String),
}

/// A variable the child will get.
#[derive(Debug)]
pub struct Entry {
    pub name: String,
    pub target: Target,
    pub source: Source,
    pub optional: bool,
    /// Where the entry was defined, for collision messages (`[env]`, `[profiles.x.files.Y]`).
    pub origin: String,
    /// How failures name the entry: `env NAME`, `files NAME`, or `get` for the command line.
    pub label: String,
}

/// `[[import]]`: every top-level key of a JSON value becomes a variable.
#[derive(Debug)]
pub struct Import {
    pub fetch: usize,
    pub fragment: Option<Fragment>,
    pub reference: String,
    pub prefix: String,
    pub optional: bool,
    pub origin: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub manifest: Option<PathBuf>,
    pub instances: Vec<Instance>,
    pub fetches: Vec<Fetch>,
    pub entries: Vec<Entry>,
    pub imports: Vec<Import>,
}

impl Plan {
    /// Drops the `[files]` entries, and the reads only they needed, so that nothing is
    /// fetched for them; returns their names.
    pub fn without_files(&mut self) -> Vec<String> {
        let (files, kept): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| matches!(e.target, Target::File { .. }));
        self.entries = kept;
        let mut used = vec![false; self.fetches.len()];
        for e in &self.entries {
            if let Source::Fetch { fetch, .. } = e.source {
                used[fetch] = true;
            }
        }
        for i in &self.imports {
            used[i.fetch] = true;
        }
        // Keep the reads still used, and renumber them.
        let mut new_index = vec![usize::MAX; used.len()];
        let fetches = std::mem::take(&mut self.fetches);
        for (old, f) in fetches.into_iter().enumerate().filter(|(i, _)| used[*i]) {
            new_index[old] = self.fetches.len();
            self.fetches.push(f);
        }
        for e in &mut self.entries {
            if let Source::Fetch { fetch, .. } = &mut e.source {
                *fetch = new_index[*fetch];
            }
        }
        for i in &mut self.imports {
            i.fetch = new_index[i.fetch];
        }
        files.into_iter().map(|e| e.name).collect()
    }
}

/// Builds plans; collects every problem instead of stopping at the first.
#[derive(Debug)]
pub struct Planner<'m> {
    decls: Vec<&'m ProviderDecl>,
    base_dir: PathBuf,
    plan: Plan,
    instance_index: HashMap<String, usize>,
    fetch_index: HashMap<(usize, Request), usize>,
    diags: Vec<Diagnostic>,
    /// Problems with references given outside the manifest.
    cli_diags: Vec<Diagnostic>,
    /// Schemes whose instance failed, so each problem is reported once, with the type when
    /// it is known (its references are still checked against it).
    failed: HashMap<String, Option<ProviderType>>,
}

impl<'m> Planner<'m> {
    /// A planner over `manifest` with `profile` applied; without a manifest, only provider
    /// defaults exist.
    pub fn new(manifest: Option<&'m Manifest>, profile: Option<&str>) -> Self {
        Self::build(manifest, profile, true)
    }

    /// A planner that takes only the manifest's provider settings, for commands that read a
    /// reference given on the command line.
    pub fn providers_only(manifest: Option<&'m Manifest>, profile: Option<&str>) -> Self {
        Self::build(manifest, profile, false)
    }

    fn build(manifest: Option<&'m Manifest>, profile: Option<&str>, entries: bool) -> Self {
        let mut p = Self {
            decls: Vec::new(),
            base_dir: manifest
                .and_then(|m| m.path.parent())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            plan: Plan {
                manifest: manifest.map(|m| m.path.clone()),
                ..Plan::default()
            },
            instance_index: HashMap::new(),
            fetch_index: HashMap::new(),
            diags: Vec::new(),
            cli_diags: Vec::new(),
            failed: HashMap::new(),
        };
        if let Some(m) = manifest {
            p.diags.extend(m.problems.iter().cloned());
        }
        let Some(m) = manifest else {
            if let Some(name) = profile {
                p.diags.push(Diagnostic {
                    message: format!("profile `{}` given but there is no manifest", escape(name)),
                    span: None,
                    hint: None,
                });
            }
            return p;
        };
        if let Some(name) = profile.filter(|n| !m.profiles.iter().any(|pr| pr.name == *n)) {
            let known: Vec<_> = m.profiles.iter().map(|pr| pr.name.as_str()).collect();
            // -p / SX_PROFILE is command-line input: a usage error, as without a manifest.
            p.cli_diags.push(Diagnostic {
                message: format!("no profile `{}` in the manifest", escape(name)),
                span: None,
                hint: Some(
                    match crate::manifest::diag::did_you_mean(name, known.iter().copied()) {
                        _ if known.is_empty() => {
                            "the manifest defines no [profiles.NAME] tables".into()
                        }
                        Some(near) => format!(
                            "did you mean `{near}`? defined profiles: {}",
                            known.join(", ")
                        ),
                        None => format!("defined profiles: {}", known.join(", ")),
                    },
                ),
            });
        }
        p.plan_layers(m, profile, entries);
        p.check_other_layers(m, profile, entries);
        p
    }

    /// Plans the manifest as every other profile (and as no profile) would, and keeps the
    /// problems this plan does not have: a problem in a profile is reported whether or not
    /// the profile is selected, and so is one in a base entry the selected profile replaces.
    fn check_other_layers(&mut self, m: &'m Manifest, selected: Option<&str>, entries: bool) {
        let others = std::iter::once(None)
            .chain(m.profiles.iter().map(|pr| Some(pr.name.as_str())))
            .filter(|name| *name != selected);
        for name in others {
            let mut other = Self::build(None, None, entries);
            other.base_dir.clone_from(&self.base_dir);
            other.plan_layers(m, name, entries);
            for d in other.diags {
                // The hint may differ (it can list the providers in force): the same message
                // at the same place is the same problem.
                let seen = self
                    .diags
                    .iter()
                    .any(|e| e.span == d.span && e.message == d.message);
                if !seen {
                    self.diags.push(d);
                }
            }
        }
    }

    /// Plans the manifest's tables with `profile` overlaid on the base.
    fn plan_layers(&mut self, m: &'m Manifest, profile: Option<&str>, entries: bool) {
        let overlay = profile
            .and_then(|name| m.profiles.iter().find(|pr| pr.name == name))
            .map(|pr| &pr.layer);
        let prefix = profile.map(|n| format!("profiles.{n}."));
        self.decls = merge_providers(&m.base, overlay);
        self.check_declarations();
        if entries {
            self.add_layer(&m.base, overlay, prefix.as_deref().unwrap_or(""));
        }
    }

    fn check_declarations(&mut self) {
        for decl in self.decls.clone() {
            let _ = self.instance_for(&decl.name, None);
        }
    }

    /// Finds or creates the instance a scheme names. On failure, gives the instance's type
    /// when it is known. `at` is the reference naming an undeclared scheme, to point at.
    fn instance_for(
        &mut self,
        scheme: &str,
        at: Option<&RefAt>,
    ) -> Result<usize, Option<ProviderType>> {
        if let Some(&i) = self.instance_index.get(scheme) {
            return Ok(i);
        }
        if let Some(&ty) = self.failed.get(scheme) {
            return Err(ty);
        }
        let found = self.new_instance(scheme, at);
        match found {
            // An unknown scheme is a problem of each reference that uses it.
            Err(None) if !self.decls.iter().any(|d| d.name == scheme) => {}
            Err(ty) => {
                self.failed.insert(scheme.to_owned(), ty);
            }
            Ok(_) => {}
        }
        found
    }

    fn new_instance(
        &mut self,
        scheme: &str,
        at: Option<&RefAt>,
    ) -> Result<usize, Option<ProviderType>> {
        let span = at.map(|a| a.span.clone());
        let decl = self.decls.iter().find(|d| d.name == scheme).copied();
        let declared_type = decl.and_then(|d| d.settings.iter().find(|s| s.key == "type"));
        let ty = match (declared_type, ProviderType::from_name(scheme)) {
            (Some(s), _) => match &s.value {
                SettingValue::String(t) => match ProviderType::from_name(t) {
                    Some(t) => t,
                    None => {
                        self.diags.push(
                            Diagnostic::new(
                                format!("unknown provider type `{}`", escape(t)),
                                s.value_span.clone(),
                            )
                            .hint(format!("types: {}", type_names())),
                        );
                        return Err(None);
                    }
                },
                _ => {
                    self.diags.push(Diagnostic::new(
                        "`type` must be a string",
                        s.value_span.clone(),
                    ));
                    return Err(None);
                }
            },
            (None, Some(t)) => t,
            (None, None) => {
                let message = match decl {
                    Some(_) => format!("provider `{}` has no `type`", escape(scheme)),
                    None => format!("unknown scheme `{}`", escape(scheme)),
                };
                let declared: Vec<_> = self.decls.iter().map(|d| d.name.as_str()).collect();
                let near = decl.is_none().then(|| {
                    crate::manifest::diag::did_you_mean(
                        scheme,
                        ProviderType::ALL
                            .map(ProviderType::name)
                            .into_iter()
                            .chain(declared.iter().copied()),
                    )
                });
                let hint = if let Some(Some(near)) = near {
                    format!("did you mean `{near}://`?")
                } else if declared.is_empty() {
                    format!(
                        "use a provider type ({}) or declare [providers.{scheme}] with a `type`",
                        type_names()
                    )
                } else {
                    format!(
                        "use a provider type ({}) or a declared provider ({})",
                        type_names(),
                        declared.join(", ")
                    )
                };
                let d = match (decl, at) {
                    (None, Some(at)) => {
                        at.diagnostic(at.reference.scheme_error(message, Some(hint)))
                    }
                    _ => Diagnostic {
                        message,
                        span: decl.map(|d| d.name_span.clone()),
                        hint: Some(hint),
                    },
                };
                self.diags.push(d);
                return Err(None);
            }
        };
        if !ty.is_available() {
            self.diags.push(Diagnostic {
                message: format!(
                    "the `{}` provider is not available in this version of sx",
                    ty.name()
                ),
                span: decl.map(|d| d.name_span.clone()).or(span),
                hint: Some(format!(
                    "available now: {}",
                    ProviderType::available_names()
                )),
            });
            return Err(None);
        }
        let settings = decl.map_or(&[][..], |d| &d.settings[..]);
        let config = ProviderConfig::from_settings(ty, settings, &self.base_dir, &mut self.diags)
            .ok_or(Some(ty))?;
        let i = self.plan.instances.len();
        self.plan.instances.push(Instance {
            name: scheme.to_owned(),
            ty,
            config,
        });
        self.instance_index.insert(scheme.to_owned(), i);
        Ok(i)
    }

    /// Adds the read behind `r`, merged with an equal one; returns the fetch's index. `at`
    /// is where the manifest gives `r`, and `None` for a reference from the command line.
    pub fn add_reference(&mut self, r: &Reference, at: Option<&RefAt>) -> Option<usize> {
        self.add_read(r, at, false)
    }

    /// The instance `r` reads from, once `r` passed its provider type's checks. A reference
    /// whose instance has bad settings is still checked against the instance's type.
    fn checked_instance(&mut self, r: &Reference, at: Option<&RefAt>) -> Option<usize> {
        let found = self.instance_for(&r.scheme, at);
        let ty = match found {
            Ok(i) => self.plan.instances[i].ty,
            Err(Some(ty)) => ty,
            Err(None) => return None,
        };
        if let Err(e) = ty.check_reference(r) {
            let d = match at {
                Some(at) => at.diagnostic(e),
                None => Diagnostic {
                    message: format!("bad reference `{r}`: {}", e.message),
                    span: None,
                    hint: e.hint,
                },
            };
            self.diags.push(d);
            return None;
        }
        found.ok()
    }

    /// Adds a read; `tree` reads everything under a path (Parameter Store imports).
    fn add_read(&mut self, r: &Reference, at: Option<&RefAt>, tree: bool) -> Option<usize> {
        let instance = self.checked_instance(r, at)?;
        let mut query = r.query.clone();
        query.sort();
        let request = Request {
            path: r.path.clone(),
            query,
            tree,
        };
        let key = (instance, request);
        if let Some(&f) = self.fetch_index.get(&key) {
            return Some(f);
        }
        let f = self.plan.fetches.len();
        self.plan.fetches.push(Fetch {
            instance,
            request: key.1.clone(),
            shown: r.without_fragment(),
        });
        self.fetch_index.insert(key, f);
        Some(f)
    }

    /// Adds an entry fed by a reference (used by the manifest, `sx get` and `--env-refs`).
    pub fn add_entry(
        &mut self,
        name: &str,
        target: Target,
        r: &RefAt,
        optional: bool,
        origin: String,
    ) {
        if let Some(fetch) = self.add_reference(&r.reference, Some(r)) {
            let label = format!("{} {name}", target_label(&target));
            self.plan.entries.push(Entry {
                name: name.to_owned(),
                target,
                source: Source::Fetch {
                    fetch,
                    fragment: r.reference.fragment.clone(),
                    reference: r.reference.as_str().to_owned(),
                },
                optional,
                label,
                origin,
            });
        }
    }

    /// A problem with input from outside the manifest (the environment, the command line),
    /// reported with the others when the plan is finished.
    pub fn add_cli_problem(&mut self, message: String, hint: Option<String>) {
        self.cli_diags.push(Diagnostic {
            message,
            span: None,
            hint,
        });
    }

    /// Adds a reference given on the command line or found in the environment. Its
    /// problems are usage errors, not manifest errors: there is no manifest line to show.
    pub fn add_cli_entry(
        &mut self,
        name: &str,
        target: Target,
        r: &Reference,
        label: String,
        origin: String,
    ) {
        let before = self.diags.len();
        let fetch = self.add_reference(r, None);
        // Name the entry (e.g. the environment variable) the reference came from.
        self.cli_diags
            .extend(self.diags.drain(before..).map(|mut d| {
                d.message = format!("{label}: {}", d.message);
                d
            }));
        if let Some(fetch) = fetch {
            self.plan.entries.push(Entry {
                name: name.to_owned(),
                target,
                source: Source::Fetch {
                    fetch,
                    fragment: r.fragment.clone(),
                    reference: r.as_str().to_owned(),
                },
                optional: false,
                label,
                origin,
            });
        }
    }

    fn add_layer(&mut self, base: &Layer, overlay: Option<&Layer>, prefix: &str) {
        for r in base
            .check_only
            .iter()
            .chain(overlay.iter().flat_map(|o| &o.check_only))
        {
            self.checked_instance(&r.reference, Some(r));
        }
        // A profile's entry replaces the base entry of the same name in the same table.
        let overlay_env: Vec<_> = overlay.map(|o| o.env.iter().collect()).unwrap_or_default();
        let overlay_files: Vec<_> = overlay
            .map(|o| o.files.iter().collect())
            .unwrap_or_default();
        let env = base
            .env
            .iter()
            .filter(|e| !overlay_env.iter().any(|o| o.name == e.name))
            .map(|e| (e, "[env]".to_owned()))
            .chain(overlay_env.iter().map(|e| (*e, format!("[{prefix}env]"))));
        let mut names: HashMap<String, (String, Range<usize>)> = HashMap::new();
        for (e, origin) in env {
            names.insert(e.name.clone(), (origin.clone(), e.name_span.clone()));
            match &e.source {
                EnvSource::Ref(r) => self.add_entry(&e.name, Target::Env, r, e.optional, origin),
                EnvSource::Value(v) => self.plan.entries.push(Entry {
                    name: e.name.clone(),
                    target: Target::Env,
                    source: Source::Value(v.clone()),
                    optional: e.optional,
                    label: format!("env {}", e.name),
                    origin,
                }),
            }
        }
        let files = base
            .files
            .iter()
            .filter(|f| !overlay_files.iter().any(|o| o.name == f.name))
            .map(|f| (f, format!("[files.{}]", f.name)))
            .chain(
                overlay_files
                    .iter()
                    .map(|f| (*f, format!("[{prefix}files.{}]", f.name))),
            );
        let mut file_names: HashMap<String, String> = HashMap::new();
        for (f, origin) in files {
            if let Some((other, _)) = names.get(&f.name) {
                self.diags.push(
                    Diagnostic::new(
                        format!("`{}` is defined twice: in {other} and in {origin}", f.name),
                        f.name_span.clone(),
                    )
                    .hint("a variable is either an env value or a file path; rename one"),
                );
                self.checked_instance(&f.source.reference, Some(&f.source));
                continue;
            }
            let file_name = f.file_name.clone().unwrap_or_else(|| f.name.clone());
            if let Some(other) = file_names.insert(file_name.clone(), origin.clone()) {
                self.diags.push(
                    Diagnostic::new(
                        format!(
                            "file name `{}` is used by {other} and {origin}",
                            escape(&file_name)
                        ),
                        f.name_span.clone(),
                    )
                    .hint("give one of them another `name`"),
                );
                self.checked_instance(&f.source.reference, Some(&f.source));
                continue;
            }
            self.add_entry(
                &f.name,
                Target::File {
                    mode: f.mode,
                    file_name: f.file_name.clone(),
                },
                &f.source,
                f.optional,
                origin,
            );
        }
        let imports = base
            .imports
            .iter()
            .enumerate()
            .map(|(i, d)| (d, format!("[[import]] #{}", i + 1)))
            .chain(
                overlay
                    .map(|o| o.imports.iter().collect::<Vec<_>>())
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| (d, format!("[[{prefix}import]] #{}", i + 1))),
            );
        for (d, origin) in imports {
            let r = &d.source.reference;
            let ty = match self.instance_for(&r.scheme, Some(&d.source)) {
                Ok(i) => self.plan.instances[i].ty,
                Err(Some(ty)) => ty,
                Err(None) => continue,
            };
            // A Parameter Store import reads a path; every other import reads a JSON object.
            let tree = ty == ProviderType::AwsSsm;
            if tree && (!r.path.starts_with('/') || r.fragment.is_some() || !r.query.is_empty()) {
                self.diags.push(
                    Diagnostic::new(
                        format!("{origin}: a Parameter Store import names a path, like aws-ssm:///app/prod/"),
                        d.source.span.clone(),
                    )
                    .hint("the path starts with `/` (three slashes after the scheme) and takes no #field or ?query"),
                );
                continue;
            }
            if let Some(fetch) = self.add_read(r, Some(&d.source), tree) {
                self.plan.imports.push(Import {
                    fetch,
                    fragment: d.source.reference.fragment.clone(),
                    reference: d.source.reference.as_str().to_owned(),
                    prefix: d.prefix.clone(),
                    optional: d.optional,
                    origin,
                });
            }
        }
    }

    /// The plan, or every problem found, rendered against the manifest.
    pub fn finish(mut self, manifest: Option<&Manifest>) -> Result<Plan, Error> {
        if self.diags.is_empty() && self.cli_diags.is_empty() {
            return Ok(self.plan);
        }
        if self.diags.is_empty() || manifest.is_none() {
            self.diags.append(&mut self.cli_diags);
            return Err(usage_error(self.diags));
        }
        // In file order, as a reader goes through the manifest; command-line problems last.
        self.diags
            .sort_by_key(|d| d.span.as_ref().map_or(usize::MAX, |s| s.start));
        self.diags.append(&mut self.cli_diags);
        match manifest {
            Some(m) => Err(Error::Manifest(Box::new(ManifestErrors {
                path: m.path.clone(),
                source: m.source.clone(),
                diagnostics: self.diags,
            }))),
            None => Err(usage_error(self.diags)),
        }
    }
}

/// Problems without a manifest line to point at, as one usage error.
fn usage_error(diags: Vec<Diagnostic>) -> Error {
    // Each problem with its own hint under it; the last hint is the error's own, which the
    // caller prints after the message.
    let mut message = String::new();
    let mut hint: Option<String> = None;
    for (i, d) in diags.into_iter().enumerate() {
        if i > 0 {
            if let Some(h) = hint.take() {
                message.push_str(&format!("\nhint: {h}"));
            }
            message.push_str("\nerror: ");
        }
        message.push_str(&d.message);
        hint = d.hint;
    }
    Error::Usage { message, hint }
}

fn target_label(t: &Target) -> &'static str {
    match t {
        Target::Env => "env",
        Target::File { .. } => "files",
    }
}

fn type_names() -> String {
    ProviderType::ALL.map(ProviderType::name).join(", ")
}

/// The provider declarations in force: the base's, with the profile's replacing same names.
fn merge_providers<'m>(base: &'m Layer, overlay: Option<&'m Layer>) -> Vec<&'m ProviderDecl> {
    let mut out: Vec<&ProviderDecl> = base.providers.iter().collect();
    if let Some(o) = overlay {
        for d in &o.providers {
            out.retain(|b| b.name != d.name);
            out.push(d);
        }
    }
    out
}

impl Planner<'_> {
    /// The checked settings of the instance `scheme` names, for `ls`, `set` and `rm`.
    ///
    /// The scheme comes from the command line, and so does `reference` when given (it is
    /// checked against the provider's type): their problems are usage errors, and the
    /// manifest's own problems are reported as such.
    pub fn instance_config(
        manifest: Option<&Manifest>,
        profile: Option<&str>,
        scheme: &str,
        reference: Option<&Reference>,
    ) -> Result<ProviderConfig, Error> {
        let mut p = Planner::providers_only(manifest, profile);
        let before = p.diags.len();
        let found = match reference {
            Some(r) => p.checked_instance(r, None).ok_or(None),
            None => p.instance_for(scheme, None),
        };
        let cli: Vec<_> = p.diags.drain(before..).collect();
        p.cli_diags.extend(cli);
        let config = found.map(|i| p.plan.instances[i].config.clone());
        let plan = p.finish(manifest);
        plan.and_then(|_| {
            config.map_err(|_| Error::usage(format!("unknown scheme `{}`", escape(scheme))))
        })
    }
}
