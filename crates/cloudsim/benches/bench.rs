//! How fast cloudsim serves listings and bytes, so Folio's figures can be
//! read against it. Starts cloudsim in-process on loopback (plain HTTP),
//! generates trees through the control API, connects through each
//! provider's OAuth endpoints, then measures with concurrent reqwest clients:
//!
//! - listing: Drive `files.list` (pageSize 1000), Graph root delta
//!   ($top 2000) and Dropbox `list_folder` recursive (limit 2000), each a
//!   full enumeration of `--files` files, `--concurrency` at once; hashes
//!   are computed on a first, unmeasured pass and cached;
//! - download: one `--large-mib` MiB generated file by one client (MiB/s),
//!   and `--small` files of 16 KiB with `--concurrency` clients (files/s).
//!
//! Run: `cargo bench -p cloudsim --bench bench [-- --files 20000 --large-mib 512 --small 2000 --concurrency 8]`

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cloudsim::{Sim, SimOptions};
use futures::StreamExt;
use reqwest::{Client, redirect};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:1/callback";

#[derive(Debug, Clone)]
struct Config {
    files: u64,
    large_mib: u64,
    small: u64,
    concurrency: usize,
}

fn parse_args() -> Result<Config> {
    let mut config = Config {
        files: 20_000,
        large_mib: 512,
        small: 2_000,
        concurrency: 8,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--bench" {
            continue;
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--files" => config.files = value.parse()?,
            "--large-mib" => config.large_mib = value.parse()?,
            "--small" => config.small = value.parse()?,
            "--concurrency" => config.concurrency = value.parse()?,
            other => bail!("unknown flag {other} (--files, --large-mib, --small, --concurrency)"),
        }
    }
    Ok(config)
}

/// One provider under test: its drive and an access token.
struct Target {
    provider: &'static str,
    drive: String,
    token: String,
}

struct Bench {
    base: String,
    http: Client,
}

impl Bench {
    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("POST {path} -> {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Registers a client and an account, connects through OAuth.
    async fn target(&self, provider: &'static str) -> Result<Target> {
        let client = format!("bench-{provider}");
        let email = format!("bench@{provider}.test");
        self.post(
            "/_sim/clients",
            json!({"provider": provider, "clientId": client, "clientSecret": "s", "redirectUris": [REDIRECT]}),
        )
        .await?;
        let account = self
            .post(
                "/_sim/accounts",
                json!({"provider": provider, "email": email, "displayName": "Bench"}),
            )
            .await?;
        let drive = account["driveId"].as_str().context("driveId")?.to_string();
        let (authorize, token_path, scope) = match provider {
            "google" => (
                "/o/oauth2/v2/auth",
                "/token",
                "https://www.googleapis.com/auth/drive.readonly",
            ),
            "microsoft" => (
                "/common/oauth2/v2.0/authorize",
                "/common/oauth2/v2.0/token",
                "offline_access Files.Read.All",
            ),
            _ => ("/oauth2/authorize", "/oauth2/token", ""),
        };
        let query = serde_urlencoded::to_string([
            ("client_id", client.as_str()),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "s"),
            ("login_hint", email.as_str()),
        ])?;
        let resp = self
            .http
            .get(format!("{}{authorize}?{query}", self.base))
            .send()
            .await?;
        let location = resp
            .headers()
            .get("location")
            .context("authorize redirect")?
            .to_str()?
            .to_string();
        let url = reqwest::Url::parse(&location)?;
        let code = url
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .context("code")?;
        let form = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", client.as_str()),
            ("client_secret", "s"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
        ])?;
        let tok: Value = self
            .http
            .post(format!("{}{token_path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await?
            .json()
            .await?;
        let token = tok["access_token"]
            .as_str()
            .context("access_token")?
            .to_string();
        Ok(Target {
            provider,
            drive,
            token,
        })
    }

    async fn generate(
        &self,
        t: &Target,
        root: &str,
        files: u64,
        bytes: u64,
        depth: u32,
    ) -> Result<String> {
        let v = self
            .post(
                &format!("/_sim/{}/{}/generate", t.provider, t.drive),
                json!({"root": root, "files": files, "bytes": bytes, "depth": depth}),
            )
            .await?;
        Ok(v["rootId"].as_str().context("rootId")?.to_string())
    }

    async fn get_json(&self, t: &Target, url: &str) -> Result<Value> {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        };
        let resp = self.http.get(&url).bearer_auth(&t.token).send().await?;
        let status = resp.status();
        if !status.is_success() {
            bail!("GET {url} -> {status}: {}", resp.text().await?);
        }
        Ok(resp.json().await?)
    }

    async fn dropbox(&self, t: &Target, route: &str, arg: Value) -> Result<Value> {
        let resp = self
            .http
            .post(format!("{}/2/{route}", self.base))
            .bearer_auth(&t.token)
            .header("Content-Type", "application/json")
            .body(arg.to_string())
            .send()
            .await?;
        let status = resp.status();
        if !status.is_success() {
            bail!("{route} -> {status}: {}", resp.text().await?);
        }
        Ok(resp.json().await?)
    }

    /// One full enumeration; returns (requests, entries).
    async fn list_once(&self, t: &Target) -> Result<(u64, u64)> {
        let (mut requests, mut entries) = (0u64, 0u64);
        match t.provider {
            "google" => {
                let mut token: Option<String> = None;
                loop {
                    let mut url = "/drive/v3/files?pageSize=1000&fields=nextPageToken,files(id,name,size,md5Checksum,parents)".to_string();
                    if let Some(tok) = &token {
                        url.push_str(&format!("&pageToken={tok}"));
                    }
                    let page = self.get_json(t, &url).await?;
                    requests += 1;
                    entries += page["files"].as_array().map_or(0, |a| a.len() as u64);
                    match page["nextPageToken"].as_str() {
                        Some(next) => token = Some(next.to_string()),
                        None => break,
                    }
                }
            }
            "microsoft" => {
                let mut url = "/v1.0/me/drive/root/delta?$top=2000".to_string();
                loop {
                    let page = self.get_json(t, &url).await?;
                    requests += 1;
                    entries += page["value"].as_array().map_or(0, |a| a.len() as u64);
                    match page["@odata.nextLink"].as_str() {
                        Some(next) => url = next.to_string(),
                        None => break,
                    }
                }
            }
            _ => {
                let mut page = self
                    .dropbox(
                        t,
                        "files/list_folder",
                        json!({"path": "", "recursive": true, "limit": 2000}),
                    )
                    .await?;
                loop {
                    requests += 1;
                    entries += page["entries"].as_array().map_or(0, |a| a.len() as u64);
                    if page["has_more"] != true {
                        break;
                    }
                    page = self
                        .dropbox(
                            t,
                            "files/list_folder/continue",
                            json!({"cursor": page["cursor"]}),
                        )
                        .await?;
                }
            }
        }
        Ok((requests, entries))
    }

    /// Ids (or Dropbox paths) of the files directly in folder `root_id`/`path`.
    async fn files_in(&self, t: &Target, root_id: &str, path: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        match t.provider {
            "google" => {
                let mut token: Option<String> = None;
                loop {
                    let mut url = format!(
                        "/drive/v3/files?pageSize=1000&q='{root_id}'+in+parents&fields=nextPageToken,files(id)"
                    );
                    if let Some(tok) = &token {
                        url.push_str(&format!("&pageToken={tok}"));
                    }
                    let page = self.get_json(t, &url).await?;
                    out.extend(
                        page["files"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|f| f["id"].as_str().map(String::from)),
                    );
                    match page["nextPageToken"].as_str() {
                        Some(next) => token = Some(next.to_string()),
                        None => break,
                    }
                }
            }
            "microsoft" => {
                let mut url = format!(
                    "/v1.0/drives/{}/items/{root_id}/children?$top=1000",
                    t.drive
                );
                loop {
                    let page = self.get_json(t, &url).await?;
                    out.extend(
                        page["value"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|f| f["id"].as_str().map(String::from)),
                    );
                    match page["@odata.nextLink"].as_str() {
                        Some(next) => url = next.to_string(),
                        None => break,
                    }
                }
            }
            _ => {
                let mut page = self
                    .dropbox(t, "files/list_folder", json!({"path": path, "limit": 2000}))
                    .await?;
                loop {
                    out.extend(
                        page["entries"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|f| f["path_lower"].as_str().map(String::from)),
                    );
                    if page["has_more"] != true {
                        break;
                    }
                    page = self
                        .dropbox(
                            t,
                            "files/list_folder/continue",
                            json!({"cursor": page["cursor"]}),
                        )
                        .await?;
                }
            }
        }
        Ok(out)
    }

    /// Downloads one file the way a client of the provider does; returns bytes read.
    async fn download(&self, t: &Target, file: &str) -> Result<u64> {
        let resp = match t.provider {
            "google" => {
                self.http
                    .get(format!("{}/drive/v3/files/{file}?alt=media", self.base))
                    .bearer_auth(&t.token)
                    .send()
                    .await?
            }
            "microsoft" => {
                let redirect = self
                    .http
                    .get(format!(
                        "{}/v1.0/drives/{}/items/{file}/content",
                        self.base, t.drive
                    ))
                    .bearer_auth(&t.token)
                    .send()
                    .await?;
                let location = redirect
                    .headers()
                    .get("location")
                    .context("302 Location")?
                    .to_str()?
                    .to_string();
                self.http.get(location).send().await?
            }
            _ => {
                self.http
                    .post(format!("{}/2/files/download", self.base))
                    .bearer_auth(&t.token)
                    .header("Dropbox-API-Arg", json!({"path": file}).to_string())
                    .send()
                    .await?
            }
        };
        if !resp.status().is_success() {
            bail!("download {file} -> {}", resp.status());
        }
        let mut stream = resp.bytes_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            n += chunk?.len() as u64;
        }
        Ok(n)
    }
}

struct Row {
    provider: &'static str,
    metric: &'static str,
    value: String,
    detail: String,
}

async fn listing(bench: &Bench, t: &Target, concurrency: usize) -> Result<Row> {
    bench.list_once(t).await?; // warm-up: computes and caches hashes
    let start = Instant::now();
    let runs = futures::future::join_all((0..concurrency).map(|_| bench.list_once(t))).await;
    let elapsed = start.elapsed();
    let (mut requests, mut entries) = (0, 0);
    for run in runs {
        let (r, e) = run?;
        requests += r;
        entries += e;
    }
    let (metric, value) = match t.provider {
        "google" => (
            "files.list pages/s",
            requests as f64 / elapsed.as_secs_f64(),
        ),
        "microsoft" => ("delta items/s", entries as f64 / elapsed.as_secs_f64()),
        _ => (
            "list_folder entries/s",
            entries as f64 / elapsed.as_secs_f64(),
        ),
    };
    Ok(Row {
        provider: t.provider,
        metric,
        value: format!("{value:.0}"),
        detail: format!(
            "{concurrency} x {} entries in {} requests each, {:.0} entries/s, {:.2} s",
            entries / concurrency as u64,
            requests / concurrency as u64,
            entries as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64()
        ),
    })
}

async fn large_download(bench: &Bench, t: &Target, root: &str, mib: u64) -> Result<Row> {
    let files = bench.files_in(t, root, "/bench-large").await?;
    let file = files.first().context("the large file")?;
    bench.download(t, file).await?; // warm-up (hash caches are not involved; TCP and page cache are)
    let start = Instant::now();
    let n = bench.download(t, file).await?;
    let elapsed = start.elapsed();
    if n != mib * 1024 * 1024 {
        bail!("large download read {n} bytes");
    }
    Ok(Row {
        provider: t.provider,
        metric: "large download MiB/s",
        value: format!("{:.0}", n as f64 / 1_048_576.0 / elapsed.as_secs_f64()),
        detail: format!(
            "1 client, {mib} MiB generated, {:.2} s",
            elapsed.as_secs_f64()
        ),
    })
}

async fn small_downloads(bench: &Bench, t: &Target, root: &str, concurrency: usize) -> Result<Row> {
    let files = bench.files_in(t, root, "/bench-small").await?;
    let start = Instant::now();
    let results: Vec<Result<u64>> =
        futures::stream::iter(files.iter().map(|f| bench.download(t, f)))
            .buffer_unordered(concurrency)
            .collect()
            .await;
    let elapsed = start.elapsed();
    let mut bytes = 0;
    for r in results {
        bytes += r?;
    }
    Ok(Row {
        provider: t.provider,
        metric: "small downloads files/s",
        value: format!("{:.0}", files.len() as f64 / elapsed.as_secs_f64()),
        detail: format!(
            "{} files of 16 KiB, {concurrency} clients, {:.1} MiB/s, {:.2} s",
            files.len(),
            bytes as f64 / 1_048_576.0 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64()
        ),
    })
}

async fn run_provider(bench: &Bench, provider: &'static str, config: &Config) -> Result<Vec<Row>> {
    let t = bench.target(provider).await?;
    let setup = Instant::now();
    bench.generate(&t, "tree", config.files, 1024, 2).await?;
    let large = bench
        .generate(&t, "bench-large", 1, config.large_mib * 1024 * 1024, 0)
        .await?;
    let small = bench
        .generate(&t, "bench-small", config.small, 16 * 1024, 0)
        .await?;
    eprintln!(
        "{provider}: generated in {:.2} s",
        setup.elapsed().as_secs_f64()
    );
    Ok(vec![
        listing(bench, &t, config.concurrency).await?,
        large_download(bench, &t, &large, config.large_mib).await?,
        small_downloads(bench, &t, &small, config.concurrency).await?,
    ])
}

#[tokio::main]
async fn main() -> Result<()> {
    let config = parse_args()?;
    let sim = Sim::start(SimOptions::default()).await?;
    let bench = Bench {
        base: sim.base_url().to_string(),
        http: Client::builder()
            .redirect(redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .timeout(Duration::from_secs(600))
            .build()?,
    };
    println!(
        "cloudsim benchmark: {} listed files (+{} small, 1 large) per provider, {} concurrent clients, loopback HTTP",
        config.files, config.small, config.concurrency
    );
    let mut rows = Vec::new();
    for provider in ["google", "microsoft", "dropbox"] {
        match run_provider(&bench, provider, &config).await {
            Ok(r) => rows.extend(r),
            Err(err) => rows.push(Row {
                provider,
                metric: "error",
                value: "n/a".into(),
                detail: format!("{err:#}"),
            }),
        }
    }
    println!(
        "{:<10} {:<26} {:>10}  detail",
        "provider", "metric", "value"
    );
    for r in &rows {
        println!(
            "{:<10} {:<26} {:>10}  {}",
            r.provider, r.metric, r.value, r.detail
        );
    }
    sim.shutdown().await?;
    if rows.iter().any(|r| r.metric == "error") {
        bail!("some measurements failed");
    }
    Ok(())
}
