//! Helpers for the Google and core tests: an in-process cloudsim, its
//! control API, and a connected Google account.
#![allow(dead_code)]

use base64::Engine;
use cloudsim::{Sim, SimHandle, SimOptions};
use reqwest::{Certificate, Client, Response, redirect};
use serde_json::{Value, json};
use sha2::Digest;

pub const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";
pub const CLIENT_ID: &str = "folio-test.apps.googleusercontent.com";
pub const SECRET: &str = "s3cret";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// The S256 challenge of `verifier`.
pub fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// A running cloudsim and an HTTP client that does not follow redirects.
pub struct Sim2 {
    pub sim: SimHandle,
    pub http: Client,
}

impl Sim2 {
    pub async fn start() -> Sim2 {
        Sim2::with(SimOptions::default()).await
    }

    pub async fn with(options: SimOptions) -> Sim2 {
        let sim = Sim::start(options).await.expect("cloudsim starts");
        let mut http = Client::builder().redirect(redirect::Policy::none());
        if let Some(ca) = sim.ca_file() {
            let pem = std::fs::read(ca).expect("read the generated CA");
            http = http.tls_certs_only([Certificate::from_pem(&pem).expect("CA pem")]);
        }
        let http = http.build().expect("client");
        Sim2 { sim, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// A control call with a JSON body; panics unless 2xx.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method.clone(), self.url(&format!("/_sim{path}")))
            .json(&body)
            .send()
            .await
            .expect("control request");
        let status = resp.status();
        let text = resp.text().await.expect("control body");
        assert!(
            status.is_success(),
            "{method} /_sim{path} -> {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.control(reqwest::Method::POST, path, body).await
    }

    /// Writes a file through the control API; returns its id.
    pub async fn put(&self, drive: &str, path: &str, bytes: impl Into<Vec<u8>>) -> String {
        self.put_with(drive, path, bytes, "").await
    }

    /// Like `put`, with a raw query string (`mimeType=...&duplicate=true`).
    pub async fn put_with(
        &self,
        drive: &str,
        path: &str,
        bytes: impl Into<Vec<u8>>,
        query: &str,
    ) -> String {
        let resp = self
            .http
            .put(self.url(&format!("/_sim/google/{drive}/files/{path}?{query}")))
            .body(bytes.into())
            .send()
            .await
            .expect("put");
        let status = resp.status();
        let v: Value = resp.json().await.expect("put json");
        assert!(status.is_success(), "put {path}: {status} {v}");
        v["id"].as_str().expect("id").to_string()
    }

    /// Registers the test client and an account; returns (accountId, driveId).
    pub async fn google_account(&self, email: &str) -> (String, String) {
        self.post(
            "/clients",
            json!({"provider": "google", "clientId": CLIENT_ID, "clientSecret": SECRET,
                   "redirectUris": [REDIRECT]}),
        )
        .await;
        let v = self
            .post(
                "/accounts",
                json!({"provider": "google", "email": email, "displayName": "Test User"}),
            )
            .await;
        (
            v["accountId"].as_str().expect("accountId").to_string(),
            v["driveId"].as_str().expect("driveId").to_string(),
        )
    }

    /// Runs the authorize endpoint with PKCE S256; returns the redirect URL.
    pub async fn authorize(&self, extra: &[(&str, &str)]) -> reqwest::Url {
        let challenge = challenge(VERIFIER);
        let mut query = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "https://www.googleapis.com/auth/drive.readonly"),
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("state", "st-123"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        query.extend_from_slice(extra);
        let resp = self
            .http
            .get(self.url("/o/oauth2/v2/auth"))
            .query(&query)
            .send()
            .await
            .expect("authorize");
        assert_eq!(resp.status(), 302, "authorize redirects");
        let location = resp.headers()["location"].to_str().expect("location");
        reqwest::Url::parse(location).expect("redirect URL")
    }

    /// A fresh authorization code.
    pub async fn code(&self) -> String {
        let url = self.authorize(&[]).await;
        param(&url, "code").expect("code")
    }

    /// POSTs a form to `path`; returns (status, JSON).
    pub async fn form(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("form");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Exchanges a code; returns the token JSON (panics unless 200).
    pub async fn exchange(&self, code: &str) -> Value {
        let (status, v) = self
            .form(
                "/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("client_id", CLIENT_ID),
                    ("client_secret", SECRET),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }

    /// Registers, connects and returns (access token, My Drive id).
    pub async fn connect(&self) -> (String, String) {
        let (_, drive) = self.google_account("alice@example.test").await;
        let code = self.code().await;
        let tok = self.exchange(&code).await;
        (
            tok["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
            drive,
        )
    }

    /// GET with a bearer token.
    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("get")
    }

    /// GET returning (status, JSON).
    pub async fn get_json(&self, token: &str, path: &str) -> (u16, Value) {
        let resp = self.get(token, path).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn counts(&self) -> Value {
        let v: Value = self
            .http
            .get(self.url("/_sim/requests"))
            .send()
            .await
            .expect("counts")
            .json()
            .await
            .expect("counts json");
        v["counts"].clone()
    }
}

/// A query parameter of `url`.
pub fn param(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Percent-encodes a Drive `q` or other query value.
pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The md5 hex of bytes.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(bytes))
}
