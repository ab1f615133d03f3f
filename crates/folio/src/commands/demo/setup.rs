//! Wiring Folio to the emulator: an OAuth client per integration in
//! cloudsim (redirecting to Folio's callback), the four integrations in
//! Folio pointing at cloudsim, and the four demo libraries, each with its
//! integration and no connection. Done through Folio's own HTTP API, as an
//! admin would; on a reused `--data-dir` what exists is updated (cloudsim
//! has a new address every run).

use anyhow::{Context, bail};
use cloudsim::Provider;
use cloudsim::oauth::Client;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::world::DemoWorld;

/// One integration and the library that uses it.
pub struct Wiring {
    pub kind: &'static str,
    pub provider: Provider,
    pub name: &'static str,
    pub library: &'static str,
}

/// The four integrations and their libraries.
pub const WIRING: [Wiring; 4] = [
    Wiring {
        kind: "google-drive",
        provider: Provider::Google,
        name: "Demo Google Drive",
        library: "demo-google-drive",
    },
    Wiring {
        kind: "onedrive",
        provider: Provider::Microsoft,
        name: "Demo OneDrive",
        library: "demo-onedrive",
    },
    Wiring {
        kind: "sharepoint",
        provider: Provider::Microsoft,
        name: "Demo SharePoint",
        library: "demo-sharepoint",
    },
    Wiring {
        kind: "dropbox",
        provider: Provider::Dropbox,
        name: "Demo Dropbox",
        library: "demo-dropbox",
    },
];

impl Wiring {
    fn client_id(&self) -> String {
        format!("folio-{}", self.library)
    }

    fn client_secret(&self) -> String {
        format!("{}-secret", self.library)
    }

    /// authUri, tokenUri, apiUri on cloudsim at `sim`.
    fn uris(&self, sim: &str) -> (String, String, String) {
        match self.provider {
            Provider::Google => (
                format!("{sim}/o/oauth2/v2/auth"),
                format!("{sim}/token"),
                sim.to_owned(),
            ),
            Provider::Microsoft => (
                format!("{sim}/common/oauth2/v2.0/authorize"),
                format!("{sim}/common/oauth2/v2.0/token"),
                sim.to_owned(),
            ),
            Provider::Dropbox => (
                format!("{sim}/oauth2/authorize"),
                format!("{sim}/oauth2/token"),
                sim.to_owned(),
            ),
        }
    }
}

/// Registers the OAuth clients in cloudsim, redirecting to `callback`.
pub fn register_clients(sim: &cloudsim::AppState, callback: &str) {
    let mut oauth = sim.shared().oauth.lock();
    for wiring in &WIRING {
        oauth.add_client(Client {
            provider: wiring.provider,
            client_id: wiring.client_id(),
            client_secret: wiring.client_secret(),
            redirect_uris: vec![callback.to_owned()],
        });
    }
    drop(oauth);
    sim.mark_dirty();
}

/// Folio's API at `base`, as the admin.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let value = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, value))
    }

    async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (status, value) = self.call(method.clone(), path, body).await?;
        if !status.is_success() {
            bail!("{method} {path}: {status} {}", value["message"]);
        }
        Ok(value)
    }
}

/// Creates (or updates) the integrations and the libraries.
pub async fn wire(api: &Api, sim_base: &str, demo: &DemoWorld) -> anyhow::Result<()> {
    let existing = api
        .ok(reqwest::Method::GET, "/api/integrations", None)
        .await?;
    for wiring in &WIRING {
        let (auth, token, api_uri) = wiring.uris(sim_base);
        let fields = json!({
            "name": wiring.name,
            "clientId": wiring.client_id(),
            "clientSecret": wiring.client_secret(),
            "authUri": auth,
            "tokenUri": token,
            "apiUri": api_uri,
        });
        let found = existing["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|i| {
                    i["name"] == wiring.name && i["type"] == wiring.kind && i["embedded"] != true
                })
                .and_then(|i| i["id"].as_str().map(str::to_owned))
        });
        let integration = match found {
            Some(id) => {
                api.ok(
                    reqwest::Method::PATCH,
                    &format!("/api/integrations/{id}"),
                    Some(fields),
                )
                .await?;
                id
            }
            None => {
                let mut body = fields;
                body["type"] = json!(wiring.kind);
                let created = api
                    .ok(reqwest::Method::POST, "/api/integrations", Some(body))
                    .await?;
                created["id"]
                    .as_str()
                    .context("the new integration has no id")?
                    .to_owned()
            }
        };
        library(api, wiring, &integration, demo).await?;
    }
    Ok(())
}

/// The library of `wiring`, made if missing, with `integration` set.
async fn library(
    api: &Api,
    wiring: &Wiring,
    integration: &str,
    demo: &DemoWorld,
) -> anyhow::Result<()> {
    let path = format!("/api/libraries/{}", wiring.library);
    let (status, _) = api.call(reqwest::Method::GET, &path, None).await?;
    if status == StatusCode::NOT_FOUND {
        // SharePoint needs a site: the demo's, whose default library it
        // syncs until another is picked.
        let source = if wiring.kind == "sharepoint" {
            json!({ "siteId": demo.site })
        } else {
            json!({})
        };
        api.ok(
            reqwest::Method::POST,
            "/api/libraries",
            Some(json!({
                "name": wiring.name,
                "naturalId": wiring.library,
                "type": wiring.kind,
                "description": "A demo library on the emulated provider (folio demo).",
                "source": source,
            })),
        )
        .await?;
    } else if !status.is_success() {
        bail!("GET {path}: {status}");
    }
    let current = api
        .call(reqwest::Method::GET, &format!("{path}/integration"), None)
        .await?;
    if current.1["id"].as_str() != Some(integration) {
        api.ok(
            reqwest::Method::PUT,
            &format!("{path}/integration"),
            Some(json!({ "integrationId": integration })),
        )
        .await?;
    }
    Ok(())
}
