//! cloudsim as the sync benchmark's provider: a `cloudsim serve` child
//! (over HTTPS with a CA of its own, as providers are reached in
//! production, or over plain HTTP), its control API (`/_sim/...`: clients,
//! accounts, generated trees, request counters) and, for the baselines, a
//! grant taken through Google's own authorize and token endpoints.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::process::{self, Running, Target};

/// The OAuth client the baseline uses (Folio registers its own).
const BASELINE_CLIENT: &str = "bench-baseline";
const BASELINE_SECRET: &str = "bench-baseline-secret";
/// Never contacted: cloudsim answers the authorize request with a 302 to
/// it, and the code is read from that redirect.
const BASELINE_REDIRECT: &str = "http://127.0.0.1:9/callback";

/// How the benchmark reaches cloudsim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// HTTPS with cloudsim's generated CA (`--tls-generate`), trusted by
    /// Folio through `SSL_CERT_FILE`: how providers are reached in production.
    Https,
    /// Plain HTTP.
    Http,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Https => "https",
            Transport::Http => "http",
        })
    }
}

/// A running cloudsim with one Google account.
pub struct Sim {
    pub process: Running,
    pub http: reqwest::Client,
    /// The account's drive id (its My Drive).
    pub drive: String,
}

impl Sim {
    /// Starts cloudsim on a free port and creates the account every
    /// scenario syncs from.
    pub async fn start(transport: Transport) -> anyhow::Result<Sim> {
        Sim::start_on(transport, 0).await
    }

    /// [`Sim::start`] on `port`.
    pub async fn start_on(transport: Transport, port: u16) -> anyhow::Result<Sim> {
        let tls = transport == Transport::Https;
        let process = process::start(Target::Cloudsim { tls, port }).await?;
        let http = client_trusting(process.ca.as_deref())?;
        let mut sim = Sim {
            process,
            http,
            drive: String::new(),
        };
        let account = sim
            .control(
                reqwest::Method::POST,
                "/_sim/accounts",
                json!({"provider": "google", "email": "bench@example.com", "displayName": "Bench"}),
            )
            .await?;
        sim.drive = account["driveId"]
            .as_str()
            .context("cloudsim account without driveId")?
            .to_owned();
        Ok(sim)
    }

    pub fn base_url(&self) -> &str {
        &self.process.base_url
    }

    /// The CA to trust when cloudsim serves HTTPS.
    pub fn ca(&self) -> Option<&std::path::Path> {
        self.process.ca.as_deref()
    }

    /// A new client (its own connection pool) that trusts cloudsim.
    pub fn new_client(&self) -> anyhow::Result<reqwest::Client> {
        client_trusting(self.ca())
    }

    /// One control API call; its JSON answer (`null` when empty).
    pub async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base_url()))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("cloudsim {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("cloudsim {path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Registers an OAuth client allowed to redirect to `redirect_uri`.
    pub async fn register_client(
        &self,
        client_id: &str,
        secret: &str,
        redirect_uri: &str,
    ) -> anyhow::Result<()> {
        self.control(
            reqwest::Method::POST,
            "/_sim/clients",
            json!({"provider": "google", "clientId": client_id, "clientSecret": secret,
                   "redirectUris": [redirect_uri]}),
        )
        .await?;
        Ok(())
    }

    /// Makes `files` files of `bytes` bytes under folder `root`, `depth`
    /// folders deep (bytes generated on demand by cloudsim).
    pub async fn generate(
        &self,
        root: &str,
        files: u64,
        bytes: u64,
        depth: u32,
    ) -> anyhow::Result<()> {
        let path = format!("/_sim/google/{}/generate", self.drive);
        self.control(
            reqwest::Method::POST,
            &path,
            json!({"root": root, "files": files, "bytes": bytes, "depth": depth}),
        )
        .await?;
        Ok(())
    }

    /// Has cloudsim compute the md5 of every file now, through one
    /// `files.list` over the drive asking for `md5Checksum`. Drive keeps a
    /// file's md5 from its upload; cloudsim computes it over the generated
    /// bytes on first request and caches it. Unwarmed, the first listing of
    /// the measured sync would pay for hashing the whole drive in cloudsim,
    /// a cost the real provider does not have (and the bare client, which
    /// never asks for md5, would not see).
    pub async fn warm_md5s(&self, token: &str) -> anyhow::Result<()> {
        crate::bare::list_files(&self.http, self.base_url(), token, "id,md5Checksum")
            .await
            .context("warming cloudsim's md5s")?;
        Ok(())
    }

    /// Resets cloudsim's request counters.
    pub async fn reset_requests(&self) -> anyhow::Result<()> {
        self.control(reqwest::Method::DELETE, "/_sim/requests", json!({}))
            .await?;
        Ok(())
    }

    /// The provider requests counted since the last reset, by endpoint.
    pub async fn requests(&self) -> anyhow::Result<BTreeMap<String, u64>> {
        let body = self
            .control(reqwest::Method::GET, "/_sim/requests", json!({}))
            .await?;
        let counts = body["counts"]
            .as_object()
            .context("cloudsim /_sim/requests without counts")?;
        Ok(counts
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
            .collect())
    }

    /// An access token for the account, through the authorization code
    /// flow of a client of the baseline's own.
    pub async fn baseline_access_token(&self) -> anyhow::Result<String> {
        let grant = self
            .grant(BASELINE_CLIENT, BASELINE_SECRET, BASELINE_REDIRECT)
            .await?;
        Ok(grant["access_token"]
            .as_str()
            .context("token answer without access_token")?
            .to_owned())
    }

    /// The token endpoint's answer to an offline authorization-code grant
    /// for a client registered here (access and refresh tokens).
    pub async fn grant(
        &self,
        client_id: &str,
        secret: &str,
        redirect_uri: &str,
    ) -> anyhow::Result<Value> {
        self.register_client(client_id, secret, redirect_uri)
            .await?;
        let authorize = self
            .http
            .get(format!("{}/o/oauth2/v2/auth", self.base_url()))
            .query(&[
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("scope", "https://www.googleapis.com/auth/drive"),
                ("access_type", "offline"),
                ("state", "bench"),
            ])
            .send()
            .await
            .context("cloudsim authorize")?;
        let location = authorize
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .with_context(|| {
                format!(
                    "authorize answered {} without a redirect",
                    authorize.status()
                )
            })?;
        let url = reqwest::Url::parse(location).context("authorize redirect")?;
        let code = url
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .context("authorize redirect without a code")?;
        let token: Value = self
            .http
            .post(format!("{}/token", self.base_url()))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect_uri),
                ("client_id", client_id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .context("cloudsim token")?
            .error_for_status()
            .context("cloudsim token")?
            .json()
            .await?;
        Ok(token)
    }
}

/// A client that follows no redirect and trusts `ca` when given (only it:
/// the benchmark must not depend on the machine's roots).
fn client_trusting(ca: Option<&std::path::Path>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem).context("cloudsim's CA")?;
        builder = builder.tls_certs_only([cert]);
    }
    builder.build().context("building the HTTP client")
}

/// The sum of the counters, all endpoints together.
pub fn total(counts: &BTreeMap<String, u64>) -> u64 {
    counts.values().sum()
}
