//! Integrations and OAuth connections, over real HTTP, against cloudsim
//! started in-process on a random port, on SQLite or (with
//! FOLIO_TEST_DATABASE_URL) PostgreSQL.
//!
//! Every test's responses and the process's log lines (kept while a test
//! runs, see [`crate::support::logs`]) are scanned for the secrets and
//! tokens the test handled ([`World::assert_no_leaks`]).

mod flow;
mod integrations;
mod missing;
mod permissions;
mod tokens;

use std::sync::Mutex;

use folio_oauth::{Aad, ExposeSecret, Keyring};
use folio_server::ServerConfig;
use folio_testkit::TestApp;
pub use folio_testkit::sim::{CLIENT_SECRET, location};
use folio_testkit::sim::{Cloudsim, Provider};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

pub use crate::support::{DELETE, GET, PATCH, POST, PUT};

/// Every log line kept while a connections test ran.
pub fn logs() -> String {
    crate::support::logs::lines()
}

/// Folio and cloudsim, with OAuth clients and one account per provider.
pub struct World {
    pub app: TestApp,
    pub sim: Cloudsim,
    pub keys: Keyring,
    /// Every response body this test read.
    pub bodies: Mutex<Vec<String>>,
    /// A client that does not follow redirects.
    pub browser: reqwest::Client,
    /// Keeps the process's log lines while this test runs.
    _logs: crate::support::logs::Capture,
}

impl World {
    pub async fn start() -> Self {
        Self::start_with(ServerConfig::default()).await
    }

    /// # Panics
    /// When cloudsim or Folio cannot start.
    pub async fn start_with(config: ServerConfig) -> Self {
        Self::start_with_keys(config, Keyring::ephemeral()).await
    }

    /// # Panics
    /// When cloudsim or Folio cannot start.
    pub async fn start_with_keys(config: ServerConfig, keys: Keyring) -> Self {
        let logs = crate::support::logs::capture();
        let config = ServerConfig {
            allow_private_provider_urls: true,
            secret_keys: keys.clone(),
            ..config
        };
        let sim = Cloudsim::start().await;
        let app = TestApp::spawn_with(config).await;
        let world = Self {
            app,
            browser: sim.http().clone(),
            sim,
            keys,
            bodies: Mutex::new(Vec::new()),
            _logs: logs,
        };
        let redirect = world.app.url("/api/oauth/callback");
        for provider in [Provider::Google, Provider::Microsoft, Provider::Dropbox] {
            world.sim.register_client(provider, &redirect).await;
            world
                .sim
                .add_account(provider, "alice@example.com", "Alice Example")
                .await;
        }
        world
    }

    /// A token manager over the app's store and keys (what connectors use).
    pub fn app_tokens(&self) -> folio_oauth::TokenManager {
        folio_oauth::TokenManager::new(
            self.app.store.clone(),
            self.keys.clone(),
            folio_oauth::UrlPolicy {
                allow_private: true,
            },
        )
        .expect("token manager")
    }

    /// How often the provider's token endpoint was called (POST).
    pub async fn token_calls(&self, provider: &str) -> u64 {
        count_of(
            &self.sim.request_counts().await,
            &format!("{provider} POST "),
            |route| route.ends_with("/token"),
        )
    }

    /// Sends a request and records its body for the leak scan.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        self.bodies.lock().expect("bodies").push(text.clone());
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value, headers)
    }

    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let request = self.app.request_with(token, method, path, body);
        let (status, value, _) = self.send(request).await;
        (status, value)
    }

    /// Creates an integration of `library_type`'s provider pointing at cloudsim.
    pub async fn integration(&self, library_type: &str, extra: Value) -> Value {
        let name = format!("{library_type} on cloudsim");
        let mut body = self.sim.integration_body(library_type, &name);
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let (status, integration) = self
            .call(&self.app.admin_token, POST, "/api/integrations", Some(body))
            .await;
        assert_eq!(status, 201, "create integration: {integration}");
        integration
    }

    /// A library of `library_type` owned by `token`'s user, with an
    /// integration set.
    pub async fn library_with_integration(
        &self,
        token: &str,
        natural_id: &str,
        library_type: &str,
    ) -> (Value, Value) {
        let library = self
            .app
            .create_library(
                token,
                json!({"name": natural_id, "naturalId": natural_id, "type": library_type}),
            )
            .await;
        let integration = self.integration(library_type, json!({})).await;
        let (status, body) = self
            .call(
                token,
                PUT,
                &format!("/api/libraries/{natural_id}/integration"),
                Some(json!({"integrationId": integration["id"]})),
            )
            .await;
        assert_eq!(status, 200, "put integration: {body}");
        (library, integration)
    }

    /// `GET .../connection/authorize` as `token`: the 302's Location.
    pub async fn authorize(&self, token: &str, natural_id: &str, query: &str) -> String {
        let path = format!("/api/libraries/{natural_id}/connection/authorize{query}");
        let response = self
            .browser
            .get(self.app.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .expect("authorize");
        assert_eq!(
            response.status(),
            302,
            "authorize: {:?}",
            response.text().await
        );
        location(&response)
    }

    /// Follows the provider's authorize URL (cloudsim approves at once):
    /// the callback URL it redirects to, with `code` and `state`.
    pub async fn approve(&self, provider_url: &str) -> String {
        let response = self
            .browser
            .get(provider_url)
            .send()
            .await
            .expect("provider authorize");
        assert_eq!(
            response.status(),
            302,
            "provider authorize: {:?}",
            response.text().await
        );
        location(&response)
    }

    /// Calls the callback URL (no credentials).
    pub async fn callback(&self, callback_url: &str) -> (u16, Value, reqwest::header::HeaderMap) {
        self.send(self.browser.get(callback_url)).await
    }

    /// The whole connect flow; returns the callback's status.
    pub async fn connect(&self, token: &str, natural_id: &str) -> u16 {
        let provider_url = self.authorize(token, natural_id, "").await;
        let callback = self.approve(&provider_url).await;
        self.callback(&callback).await.0
    }

    /// The stored tokens of a library's connection, opened.
    pub async fn stored_tokens(&self, library_id: Uuid) -> Vec<String> {
        let Some(c) = self
            .app
            .store
            .connection_for_library(library_id)
            .await
            .expect("store")
        else {
            return Vec::new();
        };
        let row = c.id.to_string();
        let mut out = vec![self.open(&row, "access_token", &c.access_token_sealed)];
        if let Some(r) = &c.refresh_token_sealed {
            out.push(self.open(&row, "refresh_token", r));
        }
        out
    }

    fn open(&self, row: &str, column: &str, sealed: &str) -> String {
        let aad = Aad {
            table: "connections",
            row,
            column,
        };
        self.keys
            .open(aad, sealed)
            .expect("open")
            .expose_secret()
            .to_owned()
    }

    /// No response body and no log line holds any of `secrets` (or the
    /// client secret).
    pub fn assert_no_leaks(&self, secrets: &[String]) {
        let logs = logs();
        let bodies = self.bodies.lock().expect("bodies").join("\n");
        for secret in secrets.iter().map(String::as_str).chain([CLIENT_SECRET]) {
            assert!(
                secret.len() >= 8,
                "a secret to scan for is too short: {secret:?}"
            );
            assert!(!bodies.contains(secret), "a response body holds a secret");
            assert!(!logs.contains(secret), "a log line holds a secret");
        }
    }
}

/// Sum of counters whose key starts with `prefix` and whose route passes `route`.
pub fn count_of(counts: &Value, prefix: &str, route: impl Fn(&str) -> bool) -> u64 {
    counts
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with(prefix) && route(&k[prefix.len()..]))
                .filter_map(|(_, v)| v.as_u64())
                .sum()
        })
        .unwrap_or(0)
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
