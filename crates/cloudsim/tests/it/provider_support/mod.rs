//! Helpers for the Microsoft and Dropbox end-to-end tests: start cloudsim
//! in-process, drive its control API, connect through its OAuth endpoints.
#![allow(dead_code)]

use cloudsim::{Sim, SimHandle, SimOptions};
use reqwest::{Client, redirect};
use serde_json::{Value, json};

pub const REDIRECT_URI: &str = "http://127.0.0.1:1/callback";

/// A running cloudsim and a client that does not follow redirects.
pub struct Env {
    pub sim: SimHandle,
    pub http: Client,
}

impl Env {
    pub async fn start() -> Env {
        Env::start_with(SimOptions::default()).await
    }

    /// Starts with `options` (e.g. a state directory).
    pub async fn start_with(options: SimOptions) -> Env {
        let sim = Sim::start(options).await.expect("cloudsim starts");
        let http = Client::builder()
            .redirect(redirect::Policy::none())
            .build()
            .expect("client");
        Env { sim, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// POST to the control API; panics unless 2xx.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(self.url(&format!("/_sim{path}")))
            .json(&body)
            .send()
            .await
            .expect("control request");
        let status = resp.status();
        let text = resp.text().await.expect("control body");
        assert!(status.is_success(), "POST /_sim{path} -> {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn put(&self, provider: &str, drive: &str, path: &str, bytes: &[u8]) -> String {
        let resp = self
            .http
            .put(self.url(&format!("/_sim/{provider}/{drive}/files/{path}")))
            .body(bytes.to_vec())
            .send()
            .await
            .expect("put");
        assert!(resp.status().is_success(), "put {path}: {}", resp.status());
        let v: Value = resp.json().await.expect("put json");
        v["id"].as_str().expect("id").to_string()
    }

    pub async fn remove(&self, provider: &str, drive: &str, path: &str) {
        let resp = self
            .http
            .delete(self.url(&format!("/_sim/{provider}/{drive}/files/{path}")))
            .send()
            .await
            .expect("delete");
        assert!(
            resp.status().is_success(),
            "delete {path}: {}",
            resp.status()
        );
    }

    pub async fn mv(&self, provider: &str, drive: &str, from: &str, to: &str) {
        self.control(
            &format!("/{provider}/{drive}/move"),
            json!({"from": from, "to": to}),
        )
        .await;
    }

    /// Registers a client and an account; returns (accountId, driveId).
    pub async fn account(
        &self,
        provider: &str,
        client: &str,
        email: &str,
        name: &str,
    ) -> (String, String) {
        self.control(
            "/clients",
            json!({"provider": provider, "clientId": client, "clientSecret": "secret",
                   "redirectUris": [REDIRECT_URI]}),
        )
        .await;
        let v = self
            .control(
                "/accounts",
                json!({"provider": provider, "email": email, "displayName": name}),
            )
            .await;
        (
            v["accountId"].as_str().expect("accountId").to_string(),
            v["driveId"].as_str().expect("driveId").to_string(),
        )
    }

    /// Follows an auto-approving authorize URL; returns the code.
    pub async fn authorize(&self, path: &str, query: &[(&str, &str)]) -> String {
        let query = serde_urlencoded::to_string(query).expect("query");
        let resp = self
            .http
            .get(format!("{}?{query}", self.url(path)))
            .send()
            .await
            .expect("authorize");
        let status = resp.status().as_u16();
        if status != 302 && status != 303 {
            panic!(
                "authorize -> {status}: {}",
                resp.text().await.unwrap_or_default()
            );
        }
        let location = resp.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        let url = reqwest::Url::parse(&location).expect("redirect url");
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned());
        assert_eq!(state.as_deref(), Some("xyz"));
        url.query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("code")
    }

    /// POSTs a token request; returns (status, json).
    pub async fn token(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let body = serde_urlencoded::to_string(form).expect("form");
        let resp = self
            .http
            .post(self.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("token");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Request counts by key.
    pub async fn counts(&self) -> Value {
        let resp = self
            .http
            .get(self.url("/_sim/requests"))
            .send()
            .await
            .expect("counts");
        let v: Value = resp.json().await.expect("counts json");
        v["counts"].clone()
    }
}
