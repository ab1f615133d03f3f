//! Test kit: cloudsim in-process, a real OAuth code flow (PKCE S256) per
//! provider, an [`AccessTokenSource`] over the tokens it gave, and one
//! [`Fixture`] per provider kind for the conformance suite.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use cloudsim::{Sim, SimHandle, SimOptions};
use folio_connectors::layers::RetryPolicy;
use folio_connectors::{
    AccessTokenSource, ChangePage, Connector, ConnectorConfig, ConnectorError, Cursor, HashKindExt,
    PageState, ProviderKind, RemoteChange, RemoteItem, Source, connector_for,
};
use futures::StreamExt;
use reqwest::{Client, redirect};
use serde_json::{Value, json};
use sha2::Digest as _;
use tokio::sync::Mutex;

pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// A running cloudsim and a control client that does not follow redirects.
pub struct Env {
    pub sim: SimHandle,
    pub http: Client,
}

impl Env {
    pub async fn start() -> Env {
        let sim = Sim::start(SimOptions::default())
            .await
            .expect("cloudsim starts");
        let http = Client::builder()
            .redirect(redirect::Policy::none())
            .build()
            .expect("client");
        Env { sim, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    async fn call(&self, req: reqwest::RequestBuilder, what: &str) -> Value {
        let resp = req.send().await.expect("control request");
        let status = resp.status();
        let text = resp.text().await.expect("control body");
        assert!(status.is_success(), "{what} -> {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// POST to the control API; panics unless 2xx.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        self.call(
            self.http
                .post(self.url(&format!("/_sim{path}")))
                .json(&body),
            path,
        )
        .await
    }

    pub async fn patch_settings(&self, body: Value) {
        self.call(
            self.http.patch(self.url("/_sim/settings")).json(&body),
            "settings",
        )
        .await;
    }

    /// PUT a file (extra query like `?mimeType=...`); returns its id.
    pub async fn put(&self, provider: &str, drive: &str, path: &str, bytes: &[u8]) -> String {
        let v = self
            .call(
                self.http
                    .put(self.url(&format!("/_sim/{provider}/{drive}/files/{path}")))
                    .body(bytes.to_vec()),
                path,
            )
            .await;
        v["id"].as_str().expect("id").to_owned()
    }

    pub async fn remove(&self, provider: &str, drive: &str, path: &str) -> String {
        let v = self
            .call(
                self.http
                    .delete(self.url(&format!("/_sim/{provider}/{drive}/files/{path}"))),
                path,
            )
            .await;
        v["id"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn mv(&self, provider: &str, drive: &str, from: &str, to: &str) {
        self.control(
            &format!("/{provider}/{drive}/move"),
            json!({"from": from, "to": to}),
        )
        .await;
    }

    pub async fn counts(&self) -> Value {
        self.call(self.http.get(self.url("/_sim/requests")), "requests")
            .await["counts"]
            .clone()
    }

    pub async fn clear_faults(&self) {
        self.call(self.http.delete(self.url("/_sim/faults")), "faults")
            .await;
    }
}

/// cloudsim's provider name for a kind: the label of its OAuth server in
/// the registry.
pub fn sim_provider(kind: ProviderKind) -> &'static str {
    folio_connectors::profile(kind).oauth.label
}

/// Tokens from a real code flow, refreshed through cloudsim's token
/// endpoint when a connector asks.
pub struct SimTokens {
    http: Client,
    token_url: String,
    client_id: String,
    client_secret: String,
    current: Mutex<(String, String)>,
    pub refreshes: AtomicUsize,
}

#[async_trait]
impl AccessTokenSource for SimTokens {
    async fn access_token(&self) -> Result<String, ConnectorError> {
        Ok(self.current.lock().await.0.clone())
    }

    async fn refresh_after_unauthorized(&self, rejected: &str) -> Result<String, ConnectorError> {
        let mut cur = self.current.lock().await;
        if cur.0 != rejected {
            return Ok(cur.0.clone());
        }
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", cur.1.as_str()),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
        ];
        let resp = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(ConnectorError::from)?;
        let status = resp.status();
        let v: Value = resp.json().await.map_err(ConnectorError::from)?;
        if !status.is_success() {
            return Err(ConnectorError::NeedsReauthorization(v.to_string()));
        }
        cur.0 = v["access_token"].as_str().unwrap_or_default().to_owned();
        if let Some(r) = v["refresh_token"].as_str() {
            cur.1 = r.to_owned();
        }
        Ok(cur.0.clone())
    }
}

/// A connected account: its cloudsim ids and tokens.
pub struct Account {
    pub account_id: String,
    pub drive_id: String,
    pub tokens: Arc<SimTokens>,
}

/// Registers a client and an account, then runs the authorization code
/// flow with PKCE S256 through cloudsim's real OAuth endpoints.
pub async fn connect(env: &Env, provider: &str, email: &str) -> Account {
    let client_id = format!("folio-{provider}");
    let secret = "s3cret";
    env.control(
        "/clients",
        json!({"provider": provider, "clientId": client_id, "clientSecret": secret, "redirectUris": [REDIRECT_URI]}),
    )
    .await;
    let acct = env
        .control(
            "/accounts",
            json!({"provider": provider, "email": email, "displayName": "Test User"}),
        )
        .await;
    let verifier = "a-verifier-of-at-least-forty-three-characters-for-pkce-0123456789";
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
    let (auth, token, scope) = match provider {
        "google" => (
            "/o/oauth2/v2/auth",
            "/token",
            "https://www.googleapis.com/auth/drive.readonly",
        ),
        "microsoft" => (
            "/common/oauth2/v2.0/authorize",
            "/common/oauth2/v2.0/token",
            "offline_access Files.Read.All Sites.Read.All User.Read",
        ),
        _ => (
            "/oauth2/authorize",
            "/oauth2/token",
            "files.metadata.read files.content.read account_info.read",
        ),
    };
    let resp = env
        .http
        .get(env.url(auth))
        .query(&[
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("scope", scope),
            ("state", "st4te"),
            ("access_type", "offline"),
            ("token_access_type", "offline"),
            ("login_hint", email),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(resp.status(), 302, "authorize answers a redirect");
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let url = url::Url::parse(&location).expect("redirect URL");
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("code")
        .1
        .into_owned();
    let token_url = env.url(token);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", client_id.as_str()),
        ("client_secret", secret),
        ("code_verifier", verifier),
    ];
    let v: Value = env
        .http
        .post(&token_url)
        .form(&form)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let access = v["access_token"].as_str().expect("access_token").to_owned();
    let refresh = v["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned();
    Account {
        account_id: acct["accountId"].as_str().expect("accountId").to_owned(),
        drive_id: acct["driveId"].as_str().unwrap_or_default().to_owned(),
        tokens: Arc::new(SimTokens {
            http: env.http.clone(),
            token_url,
            client_id,
            client_secret: secret.to_owned(),
            current: Mutex::new((access, refresh)),
            refreshes: AtomicUsize::new(0),
        }),
    }
}

/// One provider kind set up for the conformance suite.
pub struct Fixture {
    pub env: Env,
    pub kind: ProviderKind,
    /// cloudsim's provider name.
    pub provider: &'static str,
    /// The `{drive}` for control calls.
    pub drive: String,
    pub account: Account,
    pub source: Source,
}

/// A quick retry policy for tests.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        max_throttled_retries: 4,
        min_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(5),
    }
}

impl Fixture {
    /// A fresh cloudsim, a connected account, and for SharePoint a site.
    pub async fn new(kind: ProviderKind) -> Fixture {
        let env = Env::start().await;
        let provider = sim_provider(kind);
        let account = connect(&env, provider, "alice@example.com").await;
        let (drive, source) = match kind {
            ProviderKind::SharePoint => {
                let site = env
                    .control(
                        "/microsoft/sites",
                        json!({"name": "Marketing", "members": [account.account_id]}),
                    )
                    .await;
                let source = Source {
                    site_id: Some(site["siteId"].as_str().expect("siteId").to_owned()),
                    ..Source::default()
                };
                (
                    site["driveId"].as_str().expect("driveId").to_owned(),
                    source,
                )
            }
            _ => (account.account_id.clone(), Source::default()),
        };
        Fixture {
            env,
            kind,
            provider,
            drive,
            account,
            source,
        }
    }

    pub fn config(&self) -> ConnectorConfig {
        let mut c = ConnectorConfig::new(self.source.clone());
        c.api_base = Some(url::Url::parse(self.env.sim.base_url()).expect("base"));
        c.retry = Some(fast_retry());
        c
    }

    /// The layered connector with `page_size`.
    pub fn connector_with(&self, page_size: u32) -> Box<dyn Connector> {
        let mut c = self.config();
        c.page_size = page_size;
        connector_for(self.kind, c, self.account.tokens.clone()).expect("connector")
    }

    pub fn connector(&self) -> Box<dyn Connector> {
        self.connector_with(1000)
    }

    pub async fn put(&self, path: &str, bytes: &[u8]) -> String {
        self.env.put(self.provider, &self.drive, path, bytes).await
    }

    pub async fn remove(&self, path: &str) -> String {
        self.env.remove(self.provider, &self.drive, path).await
    }

    pub async fn mv(&self, from: &str, to: &str) {
        self.env.mv(self.provider, &self.drive, from, to).await
    }

    pub async fn reset_cursors(&self) {
        self.env
            .control(
                &format!("/{}/{}/reset-cursors", self.provider, self.drive),
                json!({}),
            )
            .await;
    }

    pub async fn fault(&self, body: Value) {
        let mut body = body;
        body["provider"] = json!(self.provider);
        self.env.control("/faults", body).await;
    }
}

/// Follows `More` cursors to the end; returns every change and the final
/// cursor, and how many pages it took.
pub async fn drain(c: &dyn Connector, start: Option<Cursor>) -> (Vec<RemoteChange>, Cursor, usize) {
    let mut changes = Vec::new();
    let mut cursor = start;
    let mut pages = 0;
    loop {
        let ChangePage {
            changes: page,
            next,
        } = c.list_changes(cursor.clone()).await.expect("list_changes");
        pages += 1;
        changes.extend(page);
        match next {
            PageState::More(c) => cursor = Some(c),
            PageState::Done(c) => return (changes, c, pages),
        }
    }
}

/// The last upsert of each id, in order (a feed may repeat an id).
pub fn upserts(changes: &[RemoteChange]) -> Vec<RemoteItem> {
    let mut out: Vec<RemoteItem> = Vec::new();
    for c in changes {
        if let RemoteChange::Upsert(i) = c {
            out.retain(|o| o.id != i.id);
            out.push(i.clone());
        }
    }
    out
}

pub fn find<'a>(items: &'a [RemoteItem], name: &str) -> Option<&'a RemoteItem> {
    items.iter().find(|i| i.name == name)
}

/// Whether `changes` removes the item: a `Delete` of its id, or for
/// path-addressed providers a `DeletePath` of its (lowercase) path.
pub fn removes(changes: &[RemoteChange], id: &str, lower_path: &str) -> bool {
    changes.iter().any(|c| match c {
        RemoteChange::Delete { id: d } => d == id,
        RemoteChange::DeletePath { path } => path == lower_path,
        RemoteChange::Upsert(_) => false,
    })
}

/// Downloads and hashes while streaming; returns (bytes kept if `keep`,
/// total length, computed hash).
pub async fn fetch(
    c: &dyn Connector,
    item: &RemoteItem,
    keep: bool,
) -> Result<(Vec<u8>, u64, String), ConnectorError> {
    let kind = item
        .hash
        .as_ref()
        .map(|h| h.kind)
        .unwrap_or(folio_connectors::HashKind::None);
    let mut v = kind.verifier();
    let mut stream = c.download(item).await?;
    let mut kept = Vec::new();
    let mut len = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        v.update(&chunk);
        len += chunk.len() as u64;
        if keep {
            kept.extend_from_slice(&chunk);
        }
    }
    Ok((kept, len, v.finish()))
}
