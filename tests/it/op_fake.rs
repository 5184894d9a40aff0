//! A loopback fake of the 1Password Connect REST API (v1): vaults and items listed with
//! SCIM-style filters, full items with sections and fields, bearer tokens checked, and the
//! server's error bodies (`{"status":401,"message":"Invalid bearer token"}`).

use std::sync::{Arc, Mutex};

use serde_json::{Value as Json, json};

use crate::support::serve_http;

pub struct OpFake {
    pub port: u16,
    pub token: String,
    vaults: Arc<Mutex<Vec<Json>>>,
    items: Arc<Mutex<Vec<Json>>>,
    pub log: Arc<Mutex<Vec<String>>>,
}

/// A 26-character ID of the kind 1Password uses.
pub fn id(seed: &str) -> String {
    let mut s: String = seed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    while s.len() < 26 {
        s.push('q');
    }
    s.truncate(26);
    s
}

impl OpFake {
    pub fn start(token: &str) -> Self {
        let vaults: Arc<Mutex<Vec<Json>>> = Arc::default();
        let items: Arc<Mutex<Vec<Json>>> = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (v, i, l, expected) = (
            Arc::clone(&vaults),
            Arc::clone(&items),
            Arc::clone(&log),
            format!("Bearer {token}"),
        );
        let port = serve_http(move |req| {
            let target = percent_encoding::percent_decode_str(&req.target)
                .decode_utf8_lossy()
                .into_owned();
            l.lock().expect("lock").push(target.clone());
            if req.headers.get("authorization") != Some(&expected) {
                return (
                    401,
                    json!({"status": 401, "message": "Invalid bearer token"}),
                );
            }
            route(&target, &v.lock().expect("lock"), &i.lock().expect("lock"))
        });
        Self {
            port,
            token: token.to_owned(),
            vaults,
            items,
            log,
        }
    }

    pub fn host(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn vault(&self, name: &str) -> String {
        let vid = id(&format!("v{name}"));
        self.vaults
            .lock()
            .expect("lock")
            .push(json!({"id": vid, "name": name, "type": "USER_CREATED"}));
        vid
    }

    /// Adds an item; `fields` are (section label or "", field label, value).
    pub fn item(&self, vault_id: &str, title: &str, fields: &[(&str, &str, &str)]) -> String {
        let iid = id(&format!(
            "i{title}{}",
            self.items.lock().expect("lock").len()
        ));
        let mut sections: Vec<Json> = Vec::new();
        let mut out = Vec::new();
        for (n, (section, label, value)) in fields.iter().enumerate() {
            let mut f =
                json!({"id": format!("f{n}"), "label": label, "value": value, "type": "CONCEALED"});
            if !section.is_empty() {
                let sid = format!("s-{section}");
                if !sections.iter().any(|s| s["id"] == sid.as_str()) {
                    sections.push(json!({"id": sid, "label": section}));
                }
                f["section"] = json!({"id": sid});
            }
            out.push(f);
        }
        self.items.lock().expect("lock").push(json!({
            "id": iid, "title": title, "vault": {"id": vault_id}, "category": "LOGIN",
            "sections": sections, "fields": out,
        }));
        iid
    }

    /// Requests for full items (not list calls).
    pub fn item_reads(&self) -> usize {
        self.log
            .lock()
            .expect("lock")
            .iter()
            .filter(|t| t.contains("/items/"))
            .count()
    }
}

fn filter_value(query: &str, attribute: &str) -> Option<String> {
    let rest = query
        .strip_prefix("filter=")?
        .strip_prefix(attribute)?
        .strip_prefix(" eq ")?;
    Some(rest.trim_matches('"').to_owned())
}

fn route(target: &str, vaults: &[Json], items: &[Json]) -> (u16, Json) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let segs: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    match segs.as_slice() {
        ["vaults"] => {
            let name = filter_value(query, "name");
            let list: Vec<&Json> = vaults
                .iter()
                .filter(|v| name.as_deref().is_none_or(|n| v["name"] == n))
                .collect();
            (200, json!(list))
        }
        ["vaults", vid, "items"] => {
            if !vaults.iter().any(|v| v["id"] == *vid) {
                return (
                    404,
                    json!({"status": 404, "message": format!("vault {vid} not found")}),
                );
            }
            let title = filter_value(query, "title");
            let list: Vec<Json> = items
                .iter()
                .filter(|i| i["vault"]["id"] == *vid && title.as_deref().is_none_or(|t| i["title"] == t))
                .map(|i| json!({"id": i["id"], "title": i["title"], "vault": i["vault"], "category": i["category"]}))
                .collect();
            (200, json!(list))
        }
        ["vaults", vid, "items", iid] => match items
            .iter()
            .find(|i| i["vault"]["id"] == *vid && i["id"] == *iid)
        {
            Some(i) => (200, i.clone()),
            None => (
                404,
                json!({"status": 404, "message": format!("item {iid} not found")}),
            ),
        },
        _ => (404, json!({"status": 404, "message": "not found"})),
    }
}
