//! `op://VAULT/ITEM[/SECTION]/FIELD`: 1Password, through a 1Password Connect server's REST
//! API (`OP_CONNECT_HOST`, `OP_CONNECT_TOKEN`).
//!
//! Vaults and items are named by title or ID, sections and fields by label or ID, as in
//! 1Password's own secret references. Each item is read once per run, however many of its
//! fields the manifest uses.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value as Json;

use crate::error::{ErrorKind, ProviderError};
use crate::manifest::reference::escape;
use crate::provider::{Request, SettingsReader};
use crate::secret::SecretValue;

/// `[providers.op]` settings.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Connect server URL; default `OP_CONNECT_HOST`.
    pub host: Option<String>,
    /// A reference to the Connect token (`env://`, `file://`); default `OP_CONNECT_TOKEN`.
    pub token: Option<String>,
}

impl Config {
    pub fn read(r: &mut SettingsReader<'_>) -> Self {
        let c = Self {
            host: r.string("host").map(|(v, _)| v),
            token: r.string("token").map(|(v, _)| v),
        };
        r.finish(&["host", "token"]);
        c
    }
}

/// The parts of a reference path: vault, item, optional section, field.
fn parts(path: &str) -> Result<(&str, &str, Option<&str>, &str), String> {
    let p: Vec<&str> = path.split('/').collect();
    match p.as_slice() {
        [v, i, f] if !v.is_empty() && !i.is_empty() && !f.is_empty() => Ok((v, i, None, f)),
        [v, i, s, f] if p.iter().all(|x| !x.is_empty()) => Ok((v, i, Some(s), f)),
        _ => Err(format!(
            "`{}` is not VAULT/ITEM[/SECTION]/FIELD",
            escape(path)
        )),
    }
}

pub fn check_path(path: &str) -> Result<(), (String, Option<String>)> {
    parts(path).map(|_| ()).map_err(|m| {
        (m, Some("write op://VAULT/ITEM/FIELD or op://VAULT/ITEM/SECTION/FIELD, e.g. op://Prod/Postgres/password".into()))
    })
}

/// 1Password IDs are 26 lowercase letters and digits.
fn looks_like_id(s: &str) -> bool {
    s.len() == 26
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

#[derive(Debug)]
pub struct OnePassword {
    http: reqwest::Client,
    host: String,
    token: SecretValue,
    /// Variables sx read the token from, kept out of the command's environment.
    pub consumed: Vec<String>,
}

impl OnePassword {
    pub async fn connect(config: &Config) -> Result<Self, ProviderError> {
        let host = config
            .host
            .clone()
            .or_else(|| {
                std::env::var("OP_CONNECT_HOST")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .ok_or_else(|| {
                ProviderError::new(ErrorKind::Other, "no 1Password Connect server")
                    .hint("set OP_CONNECT_HOST, or `host` in [providers.op]")
            })?
            .trim_end_matches('/')
            .to_owned();
        let token = match &config.token {
            Some(r) => crate::provider::credential(r, "1Password Connect token")?,
            None => std::env::var_os("OP_CONNECT_TOKEN")
                .filter(|t| !t.is_empty())
                .map(|t| SecretValue::new(t.into_encoded_bytes()))
                .ok_or_else(|| {
                    ProviderError::new(ErrorKind::Auth, "no 1Password Connect token").hint(
                        "set OP_CONNECT_TOKEN, or `token = \"file:///...\"` in [providers.op]",
                    )
                })?,
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| {
                ProviderError::new(ErrorKind::Other, format!("cannot set up HTTP: {e}"))
            })?;
        let consumed = crate::provider::credential_variables(&[config.token.as_deref()]);
        Ok(Self {
            http,
            host,
            token,
            consumed,
        })
    }

    async fn get(&self, path: &str, what: &str) -> Result<Json, ProviderError> {
        let url = format!("{}/v1/{path}", self.host);
        let token = std::str::from_utf8(self.token.expose()).unwrap_or("");
        let resp = self
            .http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| {
                ProviderError::new(
                    ErrorKind::Unreachable,
                    format!(
                        "cannot reach 1Password Connect at {}: {}",
                        self.host,
                        escape(&crate::error::error_chain(&e))
                    ),
                )
                .hint("check OP_CONNECT_HOST and that the Connect server is running")
            })?;
        let status = resp.status();
        let body: Json = resp.json().await.unwrap_or(Json::Null);
        if status.is_success() {
            return Ok(body);
        }
        let msg = escape(body["message"].as_str().unwrap_or(status.as_str()));
        Err(match status.as_u16() {
            401 => ProviderError::new(ErrorKind::Auth, format!("{what}: {msg}"))
                .hint("the Connect token is invalid or expired: check OP_CONNECT_TOKEN"),
            403 => ProviderError::new(ErrorKind::Denied, format!("{what}: {msg}"))
                .hint("the Connect token has no access to this vault"),
            404 => ProviderError::new(ErrorKind::NotFound, format!("{what}: {msg}")),
            _ => ProviderError::new(ErrorKind::Other, format!("{what}: {status}: {msg}")),
        })
    }

    /// The ID of the vault or item named `name` (a title, or an ID as it is).
    async fn find(&self, list_path: &str, name: &str, kind: &str) -> Result<String, ProviderError> {
        if looks_like_id(name) {
            return Ok(name.to_owned());
        }
        // Connect filters vaults by `name` and items by `title` (SCIM-style filters).
        let attribute = if kind == "vault" { "name" } else { "title" };
        let filter = format!("{attribute} eq \"{}\"", name.replace('"', "\\\""));
        let path = format!(
            "{list_path}?filter={}",
            percent_encoding::utf8_percent_encode(&filter, percent_encoding::NON_ALPHANUMERIC)
        );
        let list = self
            .get(&path, &format!("{kind} `{}`", escape(name)))
            .await?;
        let found: Vec<&Json> = list
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|v| v["name"] == name || v["title"] == name)
                    .collect()
            })
            .unwrap_or_default();
        match found.as_slice() {
            [one] => Ok(one["id"].as_str().unwrap_or("").to_owned()),
            [] => Err(ProviderError::new(
                ErrorKind::NotFound,
                format!("no {kind} `{}` in 1Password", escape(name)),
            )
            .hint("names are case-sensitive; the Connect token must have access to the vault")),
            _ => Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("{} {kind}s are called `{}`", found.len(), escape(name)),
            )
            .hint(format!("use the {kind}'s ID instead of its name"))),
        }
    }

    async fn item(&self, vault: &str, item: &str) -> Result<Json, ProviderError> {
        let vault_id = self.find("vaults", vault, "vault").await?;
        let item_id = self
            .find(&format!("vaults/{vault_id}/items"), item, "item")
            .await?;
        self.get(
            &format!("vaults/{vault_id}/items/{item_id}"),
            &format!("item `{}` in vault `{}`", escape(item), escape(vault)),
        )
        .await
    }

    pub async fn fetch_batch(
        &self,
        requests: &[Request],
    ) -> Vec<Result<SecretValue, ProviderError>> {
        // One read per item, shared by every field asked of it.
        let mut items: Vec<(String, String)> = Vec::new();
        for r in requests {
            if let Ok((v, i, _, _)) = parts(&r.path)
                && !items.iter().any(|(a, b)| a == v && b == i)
            {
                items.push((v.to_owned(), i.to_owned()));
            }
        }
        let read: Vec<Result<Json, ProviderError>> =
            join_all(items.iter().map(|(v, i)| self.item(v, i))).await;
        let by_item: HashMap<(&str, &str), &Result<Json, ProviderError>> = items
            .iter()
            .map(|(v, i)| (v.as_str(), i.as_str()))
            .zip(read.iter())
            .collect();
        requests
            .iter()
            .map(|r| {
                let (v, i, section, field) =
                    parts(&r.path).map_err(|m| ProviderError::new(ErrorKind::Malformed, m))?;
                let item = by_item
                    .get(&(v, i))
                    .ok_or_else(|| ProviderError::new(ErrorKind::Other, "item not read"))?
                    .as_ref()
                    .map_err(Clone::clone)?;
                select(item, section, field, &r.path)
            })
            .collect()
    }
}

/// The value of `field` (by label or ID), within `section` when given.
fn select(
    item: &Json,
    section: Option<&str>,
    field: &str,
    path: &str,
) -> Result<SecretValue, ProviderError> {
    let section_id = match section {
        None => None,
        Some(s) => {
            let found = item["sections"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["label"] == s || x["id"] == s))
                .and_then(|x| x["id"].as_str());
            match found {
                Some(id) => Some(id.to_owned()),
                None => {
                    return Err(ProviderError::new(
                        ErrorKind::NotFound,
                        format!("no section `{}` in `op://{}`", escape(s), escape(path)),
                    ));
                }
            }
        }
    };
    let fields: Vec<&Json> = item["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["label"] == field || f["id"] == field)
                .filter(|f| {
                    section_id
                        .as_deref()
                        .is_none_or(|s| f["section"]["id"] == s)
                })
                .collect()
        })
        .unwrap_or_default();
    match fields.as_slice() {
        [one] => Ok(SecretValue::from_slice(
            one["value"].as_str().unwrap_or("").as_bytes(),
        )),
        [] => Err(ProviderError::new(
            ErrorKind::NotFound,
            format!("no field `{}` in `op://{}`", escape(field), escape(path)),
        )
        .hint("fields are named by their label; add the section when labels repeat")),
        _ => Err(ProviderError::new(
            ErrorKind::Malformed,
            format!(
                "{} fields are labelled `{}` in `op://{}`",
                fields.len(),
                escape(field),
                escape(path)
            ),
        )
        .hint("name the section too: op://VAULT/ITEM/SECTION/FIELD")),
    }
}
