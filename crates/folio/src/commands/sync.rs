//! `folio sync LIBRARY`: syncs a library on a running server and shows a
//! live progress bar.
//!
//! It picks a fresh progress id, sends `POST /api/libraries/{id}/_sync`
//! with it and, at the same time, follows `GET /api/progress/{id}/events`
//! (which waits for the run to appear, so the order of the two requests
//! does not matter). The bar goes to stderr and hides itself when stderr
//! is not a terminal; the result (counts and per-file errors) goes to
//! stdout once the POST returns (`--json`: the server's JSON as it came).
//! An error answer ends the command with the server's message; the exit
//! codes are in [`crate::cli::EXIT_CODES`].

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use reqwest::Url;
use serde::Deserialize;
use serde_json::json;

use crate::cli::{GlobalArgs, SyncArgs};
use crate::commands::serve::ADMIN_TOKEN_FILE;

/// The exit code after Ctrl-C, as shells report a SIGINT.
const EXIT_INTERRUPTED: i32 = 130;

/// The exit code of a sync that ended with per-file errors.
const EXIT_FILE_ERRORS: i32 = 3;

/// What `POST /_sync` answers (docs/api.md, "Syncs").
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SyncResult {
    synced_files: i64,
    added_files: i64,
    updated_files: i64,
    deleted_files: i64,
    #[serde(default)]
    moved_files: i64,
    errors: Vec<FileError>,
    deletions_held: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    changes: Vec<PlannedChange>,
    #[serde(default)]
    changes_total: usize,
}

/// One change a dry run plans.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlannedChange {
    action: String,
    path: String,
    previous_path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileError {
    path: String,
    remote_id: String,
    message: String,
}

/// One `event: progress` (the `GET /api/progress/{id}` JSON).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    phase: String,
    done: u64,
    total: u64,
    /// False while the listing still counts the downloads.
    #[serde(default)]
    total_known: bool,
    bytes: u64,
    /// The library path of the file that ended last.
    current: Option<String>,
}

pub async fn run(global: &GlobalArgs, args: &SyncArgs) -> anyhow::Result<()> {
    let token = api_token(args.token.as_deref(), &global.data_dir)?;
    let base = Url::parse(&args.url).with_context(|| format!("--url '{}'", args.url))?;
    let progress_id = format!("cli-{}", uuid::Uuid::new_v4());
    let client = reqwest::Client::new();
    let bar = new_bar();
    let follower = tokio::spawn(follow_progress(
        client.clone(),
        api_url(&base, &["progress", &progress_id, "events"])?,
        token.clone(),
        bar.clone(),
    ));
    let request = client
        .post(api_url(&base, &["libraries", &args.library, "_sync"])?)
        .bearer_auth(&token)
        .json(&json!({
            "progress": progress_id,
            "purge": args.purge,
            "confirmDeletes": args.confirm_deletes,
            "dryRun": args.dry_run,
        }))
        .send();
    // Handled here rather than left to the default action, which a parent
    // may have set to "ignore" (a background job of a script): dropping the
    // request closes the connection, and the server cancels the run.
    let answer = tokio::select! {
        answer = request => answer.with_context(|| format!("could not reach Folio at {base}")),
        _ = tokio::signal::ctrl_c() => {
            follower.abort();
            bar.finish_and_clear();
            eprintln!("interrupted: the sync of '{}' is cancelled; what it had committed stays", args.library);
            std::process::exit(EXIT_INTERRUPTED);
        }
    };
    follower.abort();
    bar.finish_and_clear();
    let (result, raw) = read_result(answer?).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&raw)?);
    } else {
        print_result(&args.library, &result);
    }
    if !result.errors.is_empty() {
        std::io::stdout().flush()?;
        std::process::exit(EXIT_FILE_ERRORS);
    }
    Ok(())
}

/// `--token`/`FOLIO_TOKEN`, else the admin token `folio serve` wrote into
/// the data directory.
fn api_token(given: Option<&str>, data_dir: &Path) -> anyhow::Result<String> {
    if let Some(token) = given.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(token.to_owned());
    }
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
        Ok(_) => bail!(
            "no API token: {} is empty; pass --token or set FOLIO_TOKEN",
            path.display()
        ),
        Err(err) => bail!(
            "no API token: pass --token or set FOLIO_TOKEN (could not read {}: {err})",
            path.display()
        ),
    }
}

/// `BASE/api/SEGMENTS...`, each segment percent-encoded.
fn api_url(base: &Url, segments: &[&str]) -> anyhow::Result<Url> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("--url '{base}' cannot be a base URL"))?
        .pop_if_empty()
        .push("api")
        .extend(segments);
    Ok(url)
}

/// The result of a 2xx answer (read, and as the server sent it), or the
/// server's error message.
async fn read_result(
    response: reqwest::Response,
) -> anyhow::Result<(SyncResult, serde_json::Value)> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .context("reading the server's answer")?;
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        bail!("{message} (HTTP {status})");
    }
    let raw: serde_json::Value =
        serde_json::from_slice(&body).context("the server's sync result is not JSON")?;
    let result = serde_json::from_value(raw.clone())
        .context("the server's sync result is not the expected JSON")?;
    Ok((result, raw))
}

fn print_result(library: &str, result: &SyncResult) {
    let what = if result.dry_run {
        "dry run of library"
    } else {
        "synced library"
    };
    println!(
        "{what} '{library}': {} files ({} added, {} updated, {} deleted, {} moved, {} errors)",
        result.synced_files,
        result.added_files,
        result.updated_files,
        result.deleted_files,
        result.moved_files,
        result.errors.len()
    );
    for change in &result.changes {
        match &change.previous_path {
            Some(from) => println!("would {} {from} -> {}", change.action, change.path),
            None => println!("would {} {}", change.action, change.path),
        }
    }
    if result.changes_total > result.changes.len() {
        println!(
            "... and {} more changes",
            result.changes_total - result.changes.len()
        );
    }
    for error in &result.errors {
        println!(
            "error: {} ({}): {}",
            error.path, error.remote_id, error.message
        );
    }
    if let Some(held) = &result.deletions_held {
        println!("deletions held: {held}");
    }
}

/// A spinner until the total is known; draws on stderr only when it is a
/// terminal.
fn new_bar() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(spinner_style());
    bar.set_message("starting");
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix:<11} [{bar:30}] {pos}/{len} {per_sec} {eta} left {wide_msg}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Shows one progress snapshot.
fn show(bar: &ProgressBar, progress: &Progress) {
    let current = progress.current.as_deref().unwrap_or_default();
    bar.set_prefix(progress.phase.clone());
    if !progress.total_known {
        // The listing still finds files to download: count, no bar yet.
        bar.set_style(spinner_style());
        bar.set_message(format!(
            "{}/{} so far (counting) {current}",
            progress.done, progress.total
        ));
        return;
    }
    bar.set_style(bar_style());
    bar.set_length(progress.total);
    bar.set_position(progress.done.min(progress.total));
    bar.set_message(format!("{} {current}", HumanBytes(progress.bytes)));
}

/// Follows the progress events until the stream ends. Best effort: the
/// POST's answer is what counts, so a failure here only stops the bar.
async fn follow_progress(client: reqwest::Client, url: Url, token: String, bar: ProgressBar) {
    let response = match client.get(url).bearer_auth(token).send().await {
        Ok(response) if response.status().is_success() => response,
        Ok(_) | Err(_) => return,
    };
    let mut events = std::pin::pin!(progress_events(response.bytes_stream()));
    while let Some(progress) = events.next().await {
        show(&bar, &progress);
    }
}

/// The `progress` events of a Server-Sent Events body, decoded, until the
/// body ends or fails; other events, comments (keep-alives) and data that
/// is not a progress snapshot are skipped.
fn progress_events<B, E>(
    body: impl futures::Stream<Item = Result<B, E>>,
) -> impl futures::Stream<Item = Progress>
where
    B: AsRef<[u8]>,
{
    body.eventsource()
        .take_while(|event| std::future::ready(event.is_ok()))
        .filter_map(|event| {
            std::future::ready(
                event
                    .ok()
                    .filter(|event| event.event == "progress")
                    .and_then(|event| serde_json::from_str::<Progress>(&event.data).ok()),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn progress_events_split_across_chunks_and_keep_alives_are_skipped() {
        let progress =
            r#"{"phase":"download","done":1,"total":2,"totalKnown":true,"bytes":5,"current":"a"}"#;
        let (head, tail) = progress.split_at(10);
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
            Ok(b": keep-alive\n\nevent: progress\nda".to_vec()),
            Ok(format!("ta: {head}").into_bytes()),
            Ok(format!(
                "{tail}\r\n\r\nevent: other\ndata: x\n\nevent: progress\ndata: not json\n\n"
            )
            .into_bytes()),
        ];
        let events: Vec<Progress> = progress_events(futures::stream::iter(chunks))
            .collect()
            .await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            (events[0].done, events[0].total, events[0].bytes),
            (1, 2, 5)
        );
        assert_eq!(events[0].current.as_deref(), Some("a"));
    }

    #[test]
    fn api_urls_keep_a_base_path_and_encode_segments() {
        let base = Url::parse("http://h:1/folio/").expect("url");
        let url = api_url(&base, &["libraries", "a b/c", "_sync"]).expect("api url");
        assert_eq!(
            url.as_str(),
            "http://h:1/folio/api/libraries/a%20b%2Fc/_sync"
        );
    }

    #[test]
    fn the_token_comes_from_the_flag_else_the_data_dir() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(api_token(Some("t1"), dir.path()).expect("flag"), "t1");
        let missing = api_token(None, dir.path()).expect_err("no token");
        assert!(missing.to_string().contains("--token"), "{missing}");
        std::fs::write(dir.path().join(ADMIN_TOKEN_FILE), "t2\n").expect("write");
        assert_eq!(api_token(None, dir.path()).expect("file"), "t2");
    }
}
