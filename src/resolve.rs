//! Resolution: the only stage that talks to providers.
//!
//! Instances are connected and asked for their reads concurrently, one batch per instance,
//! under one deadline. Fragments are then cut from the values (each read once), imports are
//! expanded, and every failure is collected so the user sees them all at once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::Value as Json;

use crate::error::{EntryFailure, ErrorKind, ProviderError, ResolveErrors};
use crate::manifest::reference::{Fragment, escape};
use crate::plan::{Plan, Source, Target};
use crate::provider::Provider;
use crate::secret::SecretValue;

/// A variable with its value, ready to inject.
#[derive(Debug)]
pub struct Resolved {
    pub name: String,
    pub target: Target,
    pub value: SecretValue,
    /// False for plain `{ value = ... }` entries, which are not secrets.
    pub secret: bool,
    pub origin: String,
}

/// What a run produced: the values, and warnings for optional entries left out.
#[derive(Debug, Default)]
pub struct Outcome {
    pub entries: Vec<Resolved>,
    pub skipped: Vec<EntryFailure>,
    /// The connected providers by instance index, kept for lease renewal and revocation.
    pub providers: Vec<(usize, Provider)>,
}

type FetchResult = Result<SecretValue, ProviderError>;

/// What `fetch_all` read, and the providers it connected, by instance index (they may hold
/// leases and login tokens to renew and revoke).
pub type Fetched = (Vec<(FetchResult, Duration)>, Vec<(usize, Provider)>);

fn timed_out(name: &str, ty: crate::provider::ProviderType, timeout: Duration) -> ProviderError {
    use crate::provider::ProviderType;
    let hint = match ty {
        // Local reads that hang are a file that never ends (a FIFO, a stuck mount).
        ProviderType::File | ProviderType::Local => {
            "raise the deadline with --timeout, or check the file: a FIFO or a hung mount blocks a read"
        }
        _ => "raise the deadline with --timeout, or check the network path to the provider",
    };
    ProviderError::new(
        ErrorKind::Timeout,
        format!("no answer from provider `{name}` within {}", human(timeout)),
    )
    .hint(hint)
}

/// Fetches every read of the plan, each once, concurrently, within `timeout`.
pub async fn fetch_all(plan: &Plan, timeout: Duration) -> Fetched {
    fetch_using(plan, &[], timeout).await
}

/// Like [`fetch_all`], reusing providers already connected (by instance index) instead of
/// connecting (and logging in) again. Returns only the providers it connected itself.
///
/// A provider that connected is returned even when its reads time out, so that whatever it
/// obtained (a login token, a lease) can still be revoked.
pub async fn fetch_using(
    plan: &Plan,
    existing: &[(usize, Provider)],
    timeout: Duration,
) -> Fetched {
    let mut by_instance: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, f) in plan.fetches.iter().enumerate() {
        by_instance.entry(f.instance).or_default().push(i);
    }
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let jobs = by_instance
        .into_iter()
        .map(|(instance, fetches)| async move {
            let inst = &plan.instances[instance];
            let requests: Vec<_> = fetches
                .iter()
                .map(|&f| plan.fetches[f].request.clone())
                .collect();
            let reused = existing
                .iter()
                .find(|(i, _)| *i == instance)
                .map(|(_, p)| p);
            let mut own = None;
            let mut failure = None;
            if reused.is_none() {
                match tokio::time::timeout_at(deadline, Provider::connect(&inst.config)).await {
                    Ok(Ok(p)) => own = Some(p),
                    Ok(Err(e)) => failure = Some(e),
                    Err(_) => failure = Some(timed_out(&inst.name, inst.ty, timeout)),
                }
            }
            let results: Vec<FetchResult> = match (reused.or(own.as_ref()), failure) {
                (Some(p), None) => {
                    match tokio::time::timeout_at(deadline, p.fetch_batch(&requests)).await {
                        Ok(r) => r,
                        Err(_) => requests
                            .iter()
                            .map(|_| Err(timed_out(&inst.name, inst.ty, timeout)))
                            .collect(),
                    }
                }
                (_, failure) => {
                    let e = failure
                        .unwrap_or_else(|| ProviderError::new(ErrorKind::Other, "not connected"));
                    requests.iter().map(|_| Err(e.clone())).collect()
                }
            };
            let took = started.elapsed();
            let rows: Vec<_> = fetches
                .into_iter()
                .zip(results)
                .map(move |(f, r)| (f, r, took))
                .collect();
            (own.map(|p| (instance, p)), rows)
        });
    let mut out: Vec<Option<(FetchResult, Duration)>> =
        (0..plan.fetches.len()).map(|_| None).collect();
    let mut providers = Vec::new();
    for (provider, batch) in join_all(jobs).await {
        providers.extend(provider);
        for (f, r, took) in batch {
            out[f] = Some((r, took));
        }
    }
    let results = out
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                (
                    Err(ProviderError::new(
                        ErrorKind::Other,
                        "read was not attempted",
                    )),
                    Duration::ZERO,
                )
            })
        })
        .collect();
    (results, providers)
}

/// Resolves the whole plan. Required failures make it an error; optional ones are skipped.
pub async fn resolve(plan: &Plan, timeout: Duration) -> Result<Outcome, ResolveErrors> {
    resolve_using(plan, &[], timeout).await
}

/// [`resolve`] with providers already connected (see [`fetch_using`]).
pub async fn resolve_using(
    plan: &Plan,
    existing: &[(usize, Provider)],
    timeout: Duration,
) -> Result<Outcome, ResolveErrors> {
    let (fetched, providers) = fetch_using(plan, existing, timeout).await;
    match assemble(plan, &fetched) {
        Ok(mut outcome) => {
            outcome.providers = providers;
            Ok(outcome)
        }
        Err(e) => {
            // Fail closed all the way: leases taken for a run that will not happen go back.
            join_all(providers.iter().map(|(_, p)| p.shutdown())).await;
            Err(e)
        }
    }
}

/// Builds the variables from fetched values: fragments, imports, and name collisions.
pub fn assemble(
    plan: &Plan,
    fetched: &[(FetchResult, Duration)],
) -> Result<Outcome, ResolveErrors> {
    let Assembly {
        outcome,
        failures,
        total,
    } = assemble_all(plan, fetched);
    if failures.is_empty() {
        Ok(outcome)
    } else {
        // The run fails anyway: list the values that could not have been passed either.
        let mut failures = failures;
        failures.extend(env_problems(&outcome));
        Err(ResolveErrors { failures, total })
    }
}

/// Resolved values that cannot be environment variables (a NUL byte, more than the kernel
/// takes in one variable), as entry failures.
pub fn env_problems(outcome: &Outcome) -> Vec<EntryFailure> {
    outcome
        .entries
        .iter()
        .filter(|e| e.target == Target::Env)
        .filter_map(|e| {
            let (message, hint) =
                crate::inject::env::check_value(&e.name, e.value.expose()).err()?;
            Some(EntryFailure {
                entry: format!("env {}", e.name),
                reference: String::new(),
                error: ProviderError::new(ErrorKind::Malformed, message).hint(hint),
            })
        })
        .collect()
}

/// Everything [`assemble`] found, failed or not: `sx check` reports it all.
#[derive(Debug)]
pub struct Assembly {
    /// The variables that could be built, and the optional entries left out.
    pub outcome: Outcome,
    /// The required entries that failed, and name collisions.
    pub failures: Vec<EntryFailure>,
    /// How many entries and imports the plan has.
    pub total: usize,
}

/// [`assemble`] without the verdict.
pub fn assemble_all(plan: &Plan, fetched: &[(FetchResult, Duration)]) -> Assembly {
    let mut docs: HashMap<usize, Result<Json, ProviderError>> = HashMap::new();
    let mut outcome = Outcome::default();
    let mut failures = Vec::new();
    let mut total = 0;

    for entry in &plan.entries {
        total += 1;
        let (result, reference, took) = match &entry.source {
            Source::Value(v) => (
                Ok(SecretValue::from_slice(v.as_bytes())),
                None,
                Duration::ZERO,
            ),
            Source::Fetch {
                fetch,
                fragment,
                reference,
            } => {
                let (r, took) = &fetched[*fetch];
                let r = match (r, fragment) {
                    (Err(e), _) => Err(e.clone()),
                    (Ok(v), None) => Ok(v.clone()),
                    // Several fields of one value: its JSON is parsed once.
                    (Ok(v), Some(fragment)) => docs
                        .entry(*fetch)
                        .or_insert_with(|| parse_json(v, reference))
                        .as_ref()
                        .map_err(Clone::clone)
                        .and_then(|doc| select_in(doc, fragment, reference)),
                };
                (r, Some((reference.as_str(), *fetch)), *took)
            }
        };
        if let Some((reference, fetch)) = reference {
            audit(plan, &entry.name, reference, fetch, took, &result);
        }
        match result {
            Ok(value) => outcome.entries.push(Resolved {
                name: entry.name.clone(),
                target: entry.target.clone(),
                value,
                secret: matches!(entry.source, Source::Fetch { .. }),
                origin: entry.origin.clone(),
            }),
            Err(error) => {
                let fail = EntryFailure {
                    entry: entry.label.clone(),
                    reference: reference.map_or_else(String::new, |(r, _)| r.to_owned()),
                    error,
                };
                if entry.optional {
                    outcome.skipped.push(fail);
                } else {
                    failures.push(fail);
                }
            }
        }
    }

    for import in &plan.imports {
        total += 1;
        let (r, took) = &fetched[import.fetch];
        let expanded = r
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|v| select(v, import.fragment.as_ref(), &import.reference))
            .and_then(|v| expand_import(&v, &import.prefix, &import.reference));
        audit(
            plan,
            &import.origin,
            &import.reference,
            import.fetch,
            *took,
            &expanded,
        );
        match expanded {
            Ok(vars) => {
                for (name, value) in vars {
                    outcome.entries.push(Resolved {
                        name,
                        target: Target::Env,
                        value,
                        secret: true,
                        origin: format!("{} ({})", import.origin, escape(&import.reference)),
                    });
                }
            }
            Err(error) => {
                let fail = EntryFailure {
                    entry: import.origin.clone(),
                    reference: import.reference.clone(),
                    error,
                };
                if import.optional {
                    outcome.skipped.push(fail);
                } else {
                    failures.push(fail);
                }
            }
        }
    }

    // Names produced twice (an import colliding with an entry or another import).
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for e in &outcome.entries {
        if let Some(first) = seen.insert(&e.name, &e.origin) {
            failures.push(EntryFailure {
                entry: match e.target {
                    Target::Env => format!("env {}", e.name),
                    Target::File { .. } => format!("files {}", e.name),
                },
                reference: String::new(),
                error: ProviderError::new(
                    ErrorKind::Malformed,
                    format!(
                        "`{}` is produced twice: by {first} and by {}",
                        e.name, e.origin
                    ),
                )
                .hint(
                    if first.starts_with("[[import]]") && e.origin.starts_with("[[import]]") {
                        "give one of the imports a `prefix`"
                    } else {
                        "rename the entry, or give the import a `prefix`"
                    },
                ),
            });
        }
    }

    Assembly {
        outcome,
        failures,
        total,
    }
}

/// One audit line per resolved reference; never the value.
fn audit(
    plan: &Plan,
    entry: &str,
    reference: &str,
    fetch: usize,
    took: Duration,
    result: &Result<impl Sized, ProviderError>,
) {
    let f = &plan.fetches[fetch];
    let inst = &plan.instances[f.instance];
    let version = inst.ty.pinned(&f.request).map_or("", |(_, v)| v);
    let outcome = match result {
        Ok(_) => "ok",
        Err(e) => e.kind.label(),
    };
    tracing::info!(
        target: "sx::audit",
        entry,
        reference,
        provider = inst.name.as_str(),
        scheme = inst.ty.name(),
        path = f.request.path.as_str(),
        version,
        duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        outcome,
        "resolved"
    );
}

/// Applies a fragment: the selected JSON field as bytes (strings raw, others as JSON text).
pub fn select(
    value: &SecretValue,
    fragment: Option<&Fragment>,
    reference: &str,
) -> Result<SecretValue, ProviderError> {
    let Some(fragment) = fragment else {
        return Ok(value.clone());
    };
    select_in(&parse_json(value, reference)?, fragment, reference)
}

/// The field `fragment` selects in an already parsed JSON value.
fn select_in(
    doc: &Json,
    fragment: &Fragment,
    reference: &str,
) -> Result<SecretValue, ProviderError> {
    let (found, shown) = match fragment {
        Fragment::Pointer(p) => (doc.pointer(p), p.clone()),
        Fragment::Dotted(parts) => {
            let mut cur = Some(doc);
            for part in parts {
                cur = cur.and_then(|c| match c {
                    Json::Object(m) => m.get(part),
                    Json::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
                    _ => None,
                });
            }
            (cur, parts.join("."))
        }
    };
    let found = found.ok_or_else(|| {
        ProviderError::new(
            ErrorKind::NotFound,
            format!(
                "field `{}` not found in the value of `{}`",
                escape(&shown),
                escape(without_fragment(reference))
            ),
        )
        .hint("check the field path; `#a.b` walks objects, `#/a/b` is a JSON Pointer")
    })?;
    Ok(json_bytes(found))
}

fn without_fragment(r: &str) -> &str {
    r.split_once('#').map_or(r, |(b, _)| b)
}

fn parse_json(value: &SecretValue, reference: &str) -> Result<Json, ProviderError> {
    serde_json::from_slice(value.expose()).map_err(|e| {
        // serde_json's message gives a position and what it expected, never the input.
        ProviderError::new(
            ErrorKind::Malformed,
            format!(
                "the value of `{}` is not JSON ({}), so a field cannot be selected",
                escape(without_fragment(reference)),
                e
            ),
        )
    })
}

fn json_bytes(v: &Json) -> SecretValue {
    /// Counts what would be written, to size the buffer once.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    match v {
        Json::String(s) => SecretValue::from_slice(s.as_bytes()),
        other => {
            // Written into a buffer of the exact size: a growing one would leave copies of
            // the secret in the freed, unwiped blocks it outgrew.
            let mut count = Count(0);
            let _ = serde_json::to_writer(&mut count, other);
            let mut out = Vec::with_capacity(count.0);
            let _ = serde_json::to_writer(&mut out, other);
            SecretValue::new(out)
        }
    }
}

/// Maps a JSON object's top-level keys to variable names: upper-cased, characters outside
/// `[A-Z0-9_]` replaced by `_`, `prefix` put in front.
pub fn import_name(prefix: &str, key: &str) -> String {
    let mapped: String = key
        .chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}{mapped}")
}

fn expand_import(
    value: &SecretValue,
    prefix: &str,
    reference: &str,
) -> Result<Vec<(String, SecretValue)>, ProviderError> {
    let doc = serde_json::from_slice::<Json>(value.expose()).ok();
    let Some(Json::Object(map)) = doc else {
        return Err(ProviderError::new(
            ErrorKind::Malformed,
            format!(
                "the value of `{}` is not a JSON object, so it cannot be imported",
                escape(reference)
            ),
        )
        .hint("an import turns every top-level key of a JSON object into a variable; use [env] for a single value"));
    };
    let mut out = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    // Every bad key, not only the first: the run fails once for all of them.
    let mut problems: Vec<String> = Vec::new();
    let mut hints: Vec<&str> = Vec::new();
    for (k, v) in &map {
        let name = import_name(prefix, k);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            problems.push(format!(
                "key `{}` gives the name `{}`, which is not a valid variable name",
                escape(k),
                name
            ));
            hints.push("give the import a `prefix`, e.g. prefix = \"APP_\"");
            continue;
        }
        if let Some(first) = seen.get(&name) {
            problems.push(format!(
                "`{}` and `{}` in `{}` both map to `{name}`",
                escape(first),
                escape(k),
                escape(reference)
            ));
            hints.push("rename one of them at the source");
            continue;
        }
        seen.insert(name.clone(), k.clone());
        out.push((name, json_bytes(v)));
    }
    if !problems.is_empty() {
        let mut unique: Vec<&str> = Vec::new();
        for h in hints {
            if !unique.contains(&h) {
                unique.push(h);
            }
        }
        return Err(
            ProviderError::new(ErrorKind::Malformed, problems.join("; ")).hint(unique.join("; ")),
        );
    }
    Ok(out)
}

pub fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_select_fields() {
        let v = SecretValue::from_slice(br#"{"db":{"host":"h","port":5432,"a.b":[1,"x"]}}"#);
        let d = |s: &str| Fragment::Dotted(s.split('.').map(str::to_owned).collect());
        assert_eq!(select(&v, Some(&d("db.host")), "r").unwrap().expose(), b"h");
        assert_eq!(
            select(&v, Some(&d("db.port")), "r").unwrap().expose(),
            b"5432"
        );
        let p = Fragment::Pointer("/db/a.b/1".into());
        assert_eq!(select(&v, Some(&p), "r").unwrap().expose(), b"x");
        let e = select(&v, Some(&d("db.user")), "aws-sm://x#db.user").unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.contains("`db.user`"));
    }

    #[test]
    fn import_names_are_mapped() {
        assert_eq!(import_name("APP_", "db-host.name"), "APP_DB_HOST_NAME");
        assert_eq!(import_name("", "x/y"), "X_Y");
    }
}
