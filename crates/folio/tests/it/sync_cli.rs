//! `folio sync LIBRARY` against a running server: Folio (in-process, on
//! SQLite or with FOLIO_TEST_DATABASE_URL PostgreSQL) and cloudsim, a
//! library connected through the real OAuth flow, the built binary run as
//! an operator runs it.

use std::process::Output;

use folio_testkit::TestApp;
use folio_testkit::sim::{Provider, SimWorld};
use reqwest::Method;
use serde_json::Value;

/// Runs `folio sync ARGS --url <the app>` with a data directory of its own
/// (holding `admin_token` as admin.token when given); stdout and stderr are
/// pipes, not terminals.
async fn folio_sync(app: &TestApp, args: &[&str], admin_token: Option<&str>) -> Output {
    let data_dir = tempfile::tempdir().expect("data dir");
    if let Some(token) = admin_token {
        std::fs::write(data_dir.path().join("admin.token"), format!("{token}\n"))
            .expect("admin.token");
    }
    tokio::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg("sync")
        .args(args)
        .args(["--url", &app.base_url])
        .env_remove("FOLIO_TOKEN")
        .env_remove("FOLIO_URL")
        .env("FOLIO_DATA_DIR", data_dir.path())
        .env("FOLIO_LOG", "warn")
        .output()
        .await
        .expect("run folio sync")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn folio_sync_prints_the_counts_and_exits_0() {
    let world = SimWorld::start(Provider::Google).await;
    let drive = world.connect_library("docs").await.account_id;
    world.put_file(&drive, "a.txt", b"alpha").await;
    world.put_file(&drive, "sub/b.txt", b"bravo").await;
    world.put_file(&drive, "sub/c.txt", b"charlie").await;
    // Slow downloads, so the bar would have something to draw.
    world.slow_downloads(200).await;

    let token = world.app.admin_token.clone();
    let output = folio_sync(&world.app, &["docs", "--token", &token], None).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.contains(
            "synced library 'docs': 3 files (3 added, 0 updated, 0 deleted, 0 moved, 0 errors)"
        ),
        "{stdout}"
    );
    assert!(
        !stderr.contains("downloading") && !stderr.contains("listing"),
        "no progress bar when stderr is not a terminal: {stderr}"
    );

    // The token from <data dir>/admin.token; nothing changed remotely.
    world.put_file(&drive, "a.txt", b"alpha, edited").await;
    let output = folio_sync(&world.app, &["docs"], Some(&token)).await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout} {}", text(&output.stderr));
    assert!(
        stdout.contains("3 files (0 added, 1 updated, 0 deleted, 0 moved, 0 errors)"),
        "{stdout}"
    );

    let (status, history) = world
        .app
        .call(Method::GET, "/api/libraries/docs/syncs", None)
        .await;
    assert_eq!(status, 200);
    let progress_ids: Vec<&str> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|run| run["progressId"].as_str())
        .collect();
    assert_eq!(progress_ids.len(), 2, "{history}");
    assert_ne!(
        progress_ids[0], progress_ids[1],
        "a fresh progress id per run"
    );
}

#[tokio::test]
async fn folio_sync_reports_the_servers_error_and_exits_non_zero() {
    let world = SimWorld::start(Provider::Google).await;
    let token = world.app.admin_token.clone();

    let output = folio_sync(&world.app, &["nope", "--token", &token], None).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("library 'nope' not found"), "{stderr}");
    assert!(stderr.contains("404"), "{stderr}");

    let output = folio_sync(&world.app, &["nope", "--token", "folio_not-a-token"], None).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("invalid API token"), "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");

    let output = folio_sync(&world.app, &["docs"], None).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--token") && stderr.contains("admin.token"),
        "says where a token comes from: {stderr}"
    );
}

/// The newest run of `docs`, polled until `done` says it is what we wait
/// for (at most 10 s).
async fn newest_run_until(world: &SimWorld, done: impl Fn(&Value) -> bool) -> Value {
    let mut run = Value::Null;
    for _ in 0..100 {
        let (_, history) = world
            .app
            .call(Method::GET, "/api/libraries/docs/syncs", None)
            .await;
        run = history["items"][0].clone();
        if done(&run) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    run
}

#[tokio::test]
async fn stopping_folio_sync_with_ctrl_c_cancels_the_sync() {
    let world = SimWorld::start(Provider::Google).await;
    world.connect_slow_library("docs", 40, 300).await;
    let data_dir = tempfile::tempdir().expect("data dir");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["sync", "docs", "--url", &world.app.base_url])
        .args(["--token", &world.app.admin_token])
        .env("FOLIO_DATA_DIR", data_dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn folio sync");
    let running = newest_run_until(&world, |run| run["status"] == "running").await;
    assert_eq!(running["status"], "running", "{running}");
    let pid = child.id().expect("pid").to_string();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(interrupted.success());
    let status = child.wait().await.expect("wait");
    assert_eq!(status.code(), Some(130), "{status}");

    let run = newest_run_until(&world, |run| run["status"] != "running").await;
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("cancelled")),
        "{run}"
    );
}

#[tokio::test]
async fn folio_sync_dry_run_prints_json_and_per_file_errors_exit_3() {
    let world = SimWorld::start(Provider::Google).await;
    let drive = world.connect_library("docs").await.account_id;
    world.put_file(&drive, "a.txt", b"alpha").await;
    let refused = world.put_file(&drive, "b.txt", b"bravo").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let token = world.app.admin_token.clone();

    let output = folio_sync(
        &world.app,
        &["docs", "--token", &token, "--dry-run", "--json"],
        None,
    )
    .await;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout} {}",
        text(&output.stderr)
    );
    let result: Value = serde_json::from_str(&stdout).expect("--json prints the result");
    assert_eq!(result["dryRun"], true, "{result}");
    assert_eq!(result["addedFiles"], 2, "{result}");
    assert!(
        world.app.files("docs").await.is_empty(),
        "a dry run changes nothing"
    );

    world
        .sim
        .post(
            "/_sim/faults",
            serde_json::json!({"provider": "google", "kind": "file_error",
                "endpoint": "GET /drive/v3/files/{fileId}?alt=media", "itemId": refused}),
        )
        .await;
    let output = folio_sync(&world.app, &["docs", "--token", &token], None).await;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(3),
        "synced with a per-file error: {stdout} {}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("1 added") && stdout.contains("error: b.txt"),
        "{stdout}"
    );

    let help = tokio::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["sync", "--help"])
        .output()
        .await
        .expect("folio sync --help");
    let help = text(&help.stdout);
    assert!(
        help.contains("Exit codes:") && help.contains("3  the sync ended"),
        "{help}"
    );
}
