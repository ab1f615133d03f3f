//! The Folio side of the sync benchmark: a `folio serve` child process (so
//! its own peak memory can be read), an integration pointing at cloudsim,
//! and a Google Drive library connected through the real OAuth flow, as a
//! user would (authorize, provider approval, callback).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::process::{self, Running, Target};
use crate::sim::Sim;

const CLIENT_ID: &str = "folio-bench";
const CLIENT_SECRET: &str = "folio-bench-secret";
/// The benchmark library's natural id.
const LIBRARY: &str = "bench";

/// A running Folio with one library connected to cloudsim's account.
pub struct Folio {
    process: Running,
    http: reqwest::Client,
    token: String,
}

/// What one `POST /api/libraries/{id}/_sync` took and answered.
pub struct SyncReport {
    pub elapsed: Duration,
    pub result: Value,
}

impl Folio {
    /// Starts `folio serve` on an empty data directory and connects the
    /// library `bench` to `sim`'s account.
    /// Over HTTPS, Folio trusts cloudsim's CA through `SSL_CERT_FILE`, as
    /// an operator adds a CA.
    pub async fn start_connected(sim: &Sim) -> anyhow::Result<Folio> {
        let env: Vec<(&str, &std::ffi::OsStr)> = sim
            .ca()
            .map(|ca| ("SSL_CERT_FILE", ca.as_os_str()))
            .into_iter()
            .collect();
        let process = process::start_with_env(Target::Folio, &env).await?;
        let token = std::fs::read_to_string(process.data_dir.path().join("admin.token"))
            .context("reading admin.token")?
            .trim()
            .to_owned();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the HTTP client")?;
        let folio = Folio {
            process,
            http,
            token,
        };
        let callback = format!("{}/api/oauth/callback", folio.process.base_url);
        sim.register_client(CLIENT_ID, CLIENT_SECRET, &callback)
            .await?;
        folio.connect(sim).await?;
        Ok(folio)
    }

    async fn connect(&self, sim: &Sim) -> anyhow::Result<()> {
        let base = sim.base_url();
        let integration = self
            .api(
                reqwest::Method::POST,
                "/api/integrations",
                Some(
                    json!({"type": "google-drive", "name": "cloudsim", "clientId": CLIENT_ID,
                    "clientSecret": CLIENT_SECRET, "authUri": format!("{base}/o/oauth2/v2/auth"),
                    "tokenUri": format!("{base}/token"), "apiUri": base}),
                ),
            )
            .await?;
        self.api(
            reqwest::Method::POST,
            "/api/libraries",
            Some(json!({"name": "Bench", "naturalId": LIBRARY, "type": "google-drive"})),
        )
        .await?;
        self.api(
            reqwest::Method::PUT,
            &format!("/api/libraries/{LIBRARY}/integration"),
            Some(json!({"integrationId": integration["id"]})),
        )
        .await?;
        let authorize = self
            .http
            .get(self.url(&format!("/api/libraries/{LIBRARY}/connection/authorize")))
            .bearer_auth(&self.token)
            .send()
            .await
            .context("connection/authorize")?;
        // The provider's page is cloudsim's: its client trusts cloudsim's CA.
        let approved = sim
            .http
            .get(location(&authorize)?)
            .send()
            .await
            .context("provider authorize")?;
        let callback = self
            .http
            .get(location(&approved)?)
            .send()
            .await
            .context("oauth callback")?;
        if !(callback.status().is_success() || callback.status().is_redirection()) {
            bail!("oauth callback answered {}", callback.status());
        }
        Ok(())
    }

    /// One sync of the library, timed from request to answer.
    pub async fn sync(&self) -> anyhow::Result<SyncReport> {
        let started = Instant::now();
        let result = self
            .api(
                reqwest::Method::POST,
                &format!("/api/libraries/{LIBRARY}/_sync"),
                Some(json!({})),
            )
            .await?;
        Ok(SyncReport {
            elapsed: started.elapsed(),
            result,
        })
    }

    /// Resets the process's peak resident set (`VmHWM`) to its current one.
    pub fn reset_peak_memory(&self) -> anyhow::Result<()> {
        let pid = self.pid()?;
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
            .with_context(|| format!("resetting the peak RSS of folio ({pid})"))
    }

    /// The process's peak resident set since start or the last reset, MiB.
    pub fn peak_memory_mib(&self) -> anyhow::Result<f64> {
        let pid = self.pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("reading /proc/{pid}/status"))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/<pid>/status")?;
        Ok(kib / 1024.0)
    }

    /// CPU seconds `folio serve` has used so far.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        self.process.cpu_seconds()
    }

    fn pid(&self) -> anyhow::Result<u32> {
        self.process.pid().context("folio serve has exited")
    }

    /// Where it serves.
    pub fn base_url(&self) -> &str {
        &self.process.base_url
    }

    /// The size of one `GET /metrics` answer, bytes.
    pub async fn metrics_size(&self) -> anyhow::Result<usize> {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .context("GET /metrics")?
            .error_for_status()?
            .text()
            .await?;
        Ok(text.len())
    }

    /// The admin's API token.
    pub fn token(&self) -> &str {
        &self.token
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.process.base_url)
    }

    /// One API call with the admin's token; its JSON answer.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("folio {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("folio {path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn location(response: &reqwest::Response) -> anyhow::Result<String> {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .with_context(|| format!("expected a redirect, got {}", response.status()))
}
