//! The baseline of the full-sync figure: a bare concurrent HTTP client that
//! does the provider side of a sync and nothing else. It lists the drive
//! through `files.list` (as Folio's first sync does), then downloads every
//! file's bytes with `alt=media`, `concurrency` at once, either reading
//! each body to its end and keeping nothing, or writing each to a file of
//! its own (plain create and write, no fsync), as `curl -o` would.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::sim::Sim;

const FOLDER_MIME: &str = "application/vnd.google-apps.folder";

/// What the bare client did.
pub struct BareReport {
    pub elapsed: Duration,
    pub files: u64,
    pub bytes: u64,
}

/// Lists and downloads every file of `sim`'s drive.
/// `into`: a directory to write each file to, or `None` to discard bytes.
pub async fn download_everything(
    sim: &Sim,
    token: &str,
    concurrency: usize,
    into: Option<&Path>,
) -> anyhow::Result<BareReport> {
    let token = token.to_owned();
    let http = sim.new_client()?;
    let base = sim.base_url().to_owned();
    let started = Instant::now();
    let ids = list_file_ids(&http, &base, &token).await?;
    let files = ids.len() as u64;
    // `concurrency` workers taking the next id from one shared queue.
    let queue = Arc::new(Mutex::new(ids));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (http, base, token, queue) = (http.clone(), base.clone(), token.clone(), queue.clone());
        let into = into.map(Path::to_path_buf);
        workers.spawn(async move {
            let mut bytes = 0;
            while let Some(id) = next_id(&queue) {
                let url = format!("{base}/drive/v3/files/{id}");
                let file = into.as_ref().map(|dir| dir.join(&id));
                bytes += download(&http, &url, &token, file).await?;
            }
            anyhow::Ok(bytes)
        });
    }
    let mut bytes = 0;
    while let Some(worker) = workers.join_next().await {
        bytes += worker.context("a download worker panicked")??;
    }
    Ok(BareReport {
        elapsed: started.elapsed(),
        files,
        bytes,
    })
}

/// The next id to download, if any is left.
fn next_id(queue: &Mutex<Vec<String>>) -> Option<String> {
    match queue.lock() {
        Ok(mut ids) => ids.pop(),
        Err(poisoned) => poisoned.into_inner().pop(),
    }
}

/// Every non-folder item id, page by page (1,000 a page, as Folio asks).
async fn list_file_ids(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<Vec<String>> {
    let files = list_files(http, base, token, "id,mimeType").await?;
    Ok(files
        .iter()
        .filter(|file| file["mimeType"].as_str() != Some(FOLDER_MIME))
        .filter_map(|file| file["id"].as_str().map(str::to_owned))
        .collect())
}

/// Every untrashed item of the drive through `files.list`, 1,000 a page,
/// each with the File fields `fields`.
pub async fn list_files(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    fields: &str,
) -> anyhow::Result<Vec<Value>> {
    let mut files = Vec::new();
    let mut page_token: Option<String> = None;
    loop {
        let mut query = vec![
            ("q", "trashed = false".to_owned()),
            ("fields", format!("nextPageToken,files({fields})")),
            ("pageSize", "1000".to_owned()),
        ];
        if let Some(t) = page_token.take() {
            query.push(("pageToken", t));
        }
        let mut page: Value = http
            .get(format!("{base}/drive/v3/files"))
            .bearer_auth(token)
            .query(&query)
            .send()
            .await
            .context("files.list")?
            .error_for_status()
            .context("files.list")?
            .json()
            .await
            .context("files.list")?;
        if let Value::Array(listed) = page["files"].take() {
            files.extend(listed);
        }
        match page["nextPageToken"].as_str() {
            Some(next) => page_token = Some(next.to_owned()),
            None => return Ok(files),
        }
    }
}

/// Reads one file's bytes to the end, into `file` if given; their count.
async fn download(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    file: Option<std::path::PathBuf>,
) -> anyhow::Result<u64> {
    let response = http
        .get(url)
        .bearer_auth(token)
        .query(&[("alt", "media")])
        .send()
        .await
        .with_context(|| format!("downloading {url}"))?
        .error_for_status()
        .with_context(|| format!("downloading {url}"))?;
    let mut out = match &file {
        Some(path) => Some(
            tokio::fs::File::create(path)
                .await
                .with_context(|| format!("creating {}", path.display()))?,
        ),
        None => None,
    };
    let mut response = response;
    let mut size = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .with_context(|| format!("reading {url}"))?
    {
        if let Some(out) = out.as_mut() {
            out.write_all(&chunk).await.context("writing a download")?;
        }
        size += chunk.len() as u64;
    }
    if let Some(out) = out.as_mut() {
        out.flush().await.context("writing a download")?;
    }
    Ok(size)
}
