//! The sync scheduler over real HTTP: Folio replicas and cloudsim
//! in-process, a library connected through the real OAuth flow, schedulers
//! ticking every 100 ms, on SQLite or (with FOLIO_TEST_DATABASE_URL)
//! PostgreSQL. Schedules are in minutes, so a test makes a tick due by
//! writing the schedule row's `next_run_ms` (as the clock would).

use std::time::Duration;

use folio_domain::SyncSchedule;
use folio_server::scheduler::{Scheduler, SchedulerConfig};
use folio_server::{AppState, ServerConfig};
use folio_store::sync::{ScheduleRow, SyncBatch};
use folio_testkit::sim::{Cloudsim, Provider, SimAccount, connect_library};
use folio_testkit::{SharedDatabase, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

const TICK: Duration = Duration::from_millis(100);

/// Folio replicas on one database, each with a scheduler, and cloudsim.
struct World {
    /// Replica 0 serves the API calls and the OAuth callback.
    apps: Vec<TestApp>,
    schedulers: Vec<Scheduler>,
    sim: Cloudsim,
    account: SimAccount,
    _db: SharedDatabase,
}

fn config(reconcile: Option<Duration>) -> ServerConfig {
    ServerConfig {
        allow_private_provider_urls: true,
        scheduler: SchedulerConfig {
            tick: TICK,
            max_concurrent: 2,
            reconcile_interval: reconcile,
            shutdown_grace: Duration::from_secs(2),
        },
        ..ServerConfig::default()
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl World {
    /// `replicas` servers on one fresh database (sharing one keyring, as a
    /// deployment shares FOLIO_SECRET_KEY), their schedulers started
    /// together so their ticks fall at the same moments.
    async fn start(replicas: usize, reconcile: Option<Duration>) -> World {
        let sim = Cloudsim::start().await;
        let db = SharedDatabase::new().expect("shared database");
        let config = config(reconcile);
        let mut apps = Vec::new();
        for _ in 0..replicas {
            apps.push(TestApp::spawn_replica(&db, config.clone()).await);
        }
        let schedulers = apps
            .iter()
            .map(|app| {
                Scheduler::start(AppState::new(
                    app.store.clone(),
                    app.blobs.clone(),
                    config.clone(),
                ))
            })
            .collect();
        let redirect = apps[0].url("/api/oauth/callback");
        sim.register_client(Provider::Google, &redirect).await;
        let account = sim
            .add_account(Provider::Google, "a@example.com", "A")
            .await;
        World {
            apps,
            schedulers,
            sim,
            account,
            _db: db,
        }
    }

    fn app(&self) -> &TestApp {
        &self.apps[0]
    }

    async fn put(&self, path: &str, bytes: &[u8]) {
        self.sim
            .put_file(Provider::Google, &self.account.drive_id, path, bytes)
            .await;
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.app().call(method, path, body).await
    }

    /// Creates the Google Drive library `key` (no schedule yet) and
    /// returns its id.
    async fn library(&self, key: &str, schedule: Value) -> Uuid {
        let (status, library) = self
            .call(
                Method::POST,
                "/api/libraries",
                Some(
                    json!({"name": key, "naturalId": key, "type": "google-drive",
                    "syncSchedule": schedule}),
                ),
            )
            .await;
        assert_eq!(status, 201, "{library}");
        library["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("library id")
    }

    /// Creates library `key` and connects it to cloudsim's account through
    /// the real OAuth flow; returns its id.
    async fn connected_library(&self, key: &str) -> Uuid {
        connect_library(self.app(), &self.sim, "google-drive", key)
            .await
            .id
    }

    /// Connects library `key`, gives it a schedule of `interval_minutes`
    /// and waits for the scheduler's first run of it; its id and that run.
    async fn scheduled_library(&self, key: &str, interval_minutes: u32) -> (Uuid, Value) {
        let id = self.connected_library(key).await;
        self.set_schedule(key, json!({ "intervalMinutes": interval_minutes }))
            .await;
        let mut runs = self.finished_runs(key, 1).await;
        (id, runs.remove(0))
    }

    async fn set_schedule(&self, key: &str, schedule: Value) {
        let (status, body) = self
            .call(
                Method::PATCH,
                &format!("/api/libraries/{key}"),
                Some(json!({ "syncSchedule": schedule })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["syncSchedule"], schedule);
    }

    async fn runs(&self, key: &str) -> Vec<Value> {
        self.app().runs(key).await
    }

    /// Waits (at most 20 s) until `key` has `count` finished runs, and
    /// returns them, newest first.
    async fn finished_runs(&self, key: &str, count: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let runs = self.runs(key).await;
            let finished = runs.iter().all(|r| r["status"] != "running");
            if finished && runs.len() >= count {
                return runs;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {count} finished runs of '{key}', have {runs:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn schedule_row(&self, library: Uuid) -> Option<ScheduleRow> {
        self.app()
            .store
            .get_sync_schedule(library)
            .await
            .expect("schedule row")
    }

    /// Makes the library's next tick due now, as the clock would; with
    /// `reconcile`, a reconcile too.
    async fn make_due(&self, library: Uuid, reconcile: bool) {
        let row = self.schedule_row(library).await.expect("a schedule row");
        let now = now_ms();
        let next_reconcile_ms = if reconcile {
            now
        } else {
            row.next_reconcile_ms
        };
        self.app()
            .store
            .put_sync_schedule(&ScheduleRow {
                library_id: library,
                next_run_ms: now,
                next_reconcile_ms,
            })
            .await
            .expect("make due");
    }

    /// Writes the library's schedule straight in the libraries table,
    /// behind the routes (which also keep the schedule rows in step).
    async fn write_schedule_column(&self, library: Uuid, schedule: Option<SyncSchedule>) {
        let patch = folio_store::LibraryPatch {
            sync_schedule: Some(schedule),
            ..folio_store::LibraryPatch::default()
        };
        self.app()
            .store
            .update_library(library, patch)
            .await
            .expect("write the schedule column");
    }

    /// `(path, remoteId)` of every file of the library.
    async fn files(&self, key: &str) -> Vec<(String, String)> {
        let field = |file: &Value, name: &str| file[name].as_str().unwrap_or_default().to_owned();
        self.app()
            .files(key)
            .await
            .iter()
            .map(|f| (field(f, "path"), field(f, "remoteId")))
            .collect()
    }
}

/// Several ticks of every scheduler.
async fn some_ticks() {
    tokio::time::sleep(TICK * 6).await;
}

fn message(run: &Value) -> &str {
    run["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_library_with_a_schedule_is_synced_by_the_scheduler_without_a_sync_call() {
    let world = World::start(1, None).await;
    world.put("a.txt", b"alpha").await;
    world.put("sub/b.txt", b"bravo").await;
    let lib = world.connected_library("docs").await;
    assert!(world.schedule_row(lib).await.is_none());
    let before = now_ms();
    world
        .set_schedule("docs", json!({"intervalMinutes": 60}))
        .await;

    let runs = world.finished_runs("docs", 1).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["trigger"], "schedule");
    assert_eq!(runs[0]["status"], "done", "{}", runs[0]);
    assert_eq!(runs[0]["addedFiles"], 2);
    let mut paths: Vec<String> = world.files("docs").await.into_iter().map(|f| f.0).collect();
    paths.sort();
    assert_eq!(paths, ["a.txt", "sub/b.txt"]);
    let (status, bytes) = world.app().file("docs", "sub/b.txt").await;
    assert_eq!((status, bytes), (200, Value::String("bravo".into())));

    let row = world.schedule_row(lib).await.expect("row");
    assert!(
        row.next_run_ms >= before + 60 * 60_000,
        "the next run is one interval after the claim: {row:?}"
    );
    some_ticks().await;
    assert_eq!(world.runs("docs").await.len(), 1, "nothing more is due");

    // A tick that finds the library busy (a manual sync running) is
    // skipped quietly: no second run, no failure recorded.
    world.put("c.txt", b"charlie").await;
    world
        .sim
        .add_latency(Provider::Google, None, 1500, Some(1))
        .await;
    let manual = world.call(Method::POST, "/api/libraries/docs/_sync", None);
    let tick_while_busy = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        world.make_due(lib, false).await;
        some_ticks().await;
    };
    let ((status, result), ()) = tokio::join!(manual, tick_while_busy);
    assert_eq!(status, 200, "{result}");
    some_ticks().await;
    let runs = world.finished_runs("docs", 2).await;
    assert_eq!(runs.len(), 2, "the busy tick left no run: {runs:?}");
    assert_eq!(runs[0]["trigger"], "manual");
    let row = world.schedule_row(lib).await.expect("row");
    assert!(
        row.next_run_ms > now_ms() + 59 * 60_000,
        "the busy tick was claimed and counts as this interval's: {row:?}"
    );
}

#[tokio::test]
async fn two_replicas_on_one_database_run_each_tick_exactly_once() {
    let world = World::start(2, None).await;
    world.put("a.txt", b"alpha").await;
    let (lib, _) = world.scheduled_library("docs", 60).await;
    for round in 2..=4_usize {
        world.put(&format!("more-{round}.txt"), b"more bytes").await;
        world.make_due(lib, false).await;
        let runs = world.finished_runs("docs", round).await;
        some_ticks().await;
        let runs_later = world.runs("docs").await;
        assert_eq!(
            runs_later.len(),
            round,
            "one run per tick across both replicas: {runs_later:?}"
        );
        assert_eq!(runs[0]["trigger"], "schedule");
        assert_eq!(runs[0]["status"], "done", "{}", runs[0]);
        assert_eq!(runs[0]["addedFiles"], 1, "{}", runs[0]);
    }
    // A tick that fails before any sync starts (no connection, so no lease
    // to lose) is still recorded once, not once per replica.
    let mut lone = Vec::new();
    for n in 0..4 {
        let key = format!("lone-{n}");
        let id = world.library(&key, json!({"intervalMinutes": 60})).await;
        lone.push((key, id));
    }
    for round in 1..=4_usize {
        if round > 1 {
            for (_, id) in &lone {
                world.make_due(*id, false).await;
            }
        }
        for (key, _) in &lone {
            world.finished_runs(key, round).await;
        }
        some_ticks().await;
        for (key, _) in &lone {
            let runs = world.runs(key).await;
            assert_eq!(runs.len(), round, "one failed run per tick: {runs:?}");
            assert!(runs.iter().all(|r| r["status"] == "failed"), "{runs:?}");
        }
    }
    // Replica 1 sees the same history.
    let other = &world.apps[1];
    let history: Value = other
        .admin(Method::GET, "/api/libraries/docs/syncs")
        .send()
        .await
        .expect("syncs on replica 1")
        .json()
        .await
        .expect("json");
    assert_eq!(history["items"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn a_scheduled_library_without_a_usable_connection_gets_failed_runs_saying_to_reconnect() {
    let world = World::start(1, None).await;
    // No connection at all.
    world.library("lone", json!({"intervalMinutes": 30})).await;
    let runs = world.finished_runs("lone", 1).await;
    assert_eq!(runs[0]["trigger"], "schedule");
    assert_eq!(runs[0]["status"], "failed");
    assert!(
        message(&runs[0]).contains("connect it with GET /api/libraries/lone/connection/authorize"),
        "{}",
        runs[0]
    );

    // A local library's schedule has nothing to sync: no run, no failure.
    let (status, local) = world
        .call(
            Method::POST,
            "/api/libraries",
            Some(
                json!({"name": "notes", "type": "local", "syncSchedule": {"intervalMinutes": 30}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{local}");
    some_ticks().await;
    assert_eq!(world.runs("notes").await.len(), 0);

    // A connection whose grant the provider revoked.
    world.put("a.txt", b"alpha").await;
    let (lib, first) = world.scheduled_library("docs", 30).await;
    assert_eq!(first["status"], "done", "{first}");
    world
        .sim
        .post("/_sim/google/tokens/revoke", json!({}))
        .await;
    world.put("b.txt", b"bravo").await;
    for count in 2..=3 {
        world.make_due(lib, false).await;
        let runs = world.finished_runs("docs", count).await;
        assert_eq!(runs.len(), count, "{runs:?}");
        assert_eq!(runs[0]["trigger"], "schedule");
        assert_eq!(runs[0]["status"], "failed", "{}", runs[0]);
        let text = message(&runs[0]);
        assert!(
            text.contains("reconnect") && text.contains("/api/libraries/docs/connection/authorize"),
            "{}",
            runs[0]
        );
    }
    assert_eq!(
        world.files("docs").await.len(),
        1,
        "nothing was half-synced"
    );
}

#[tokio::test]
async fn a_reconcile_run_repairs_what_the_change_feed_missed_downloading_only_what_differs() {
    let world = World::start(1, Some(Duration::from_secs(3600))).await;
    for name in ["a", "b", "c", "d", "e"] {
        world
            .put(
                &format!("{name}.txt"),
                format!("bytes of {name}").as_bytes(),
            )
            .await;
    }
    let (lib, first) = world.scheduled_library("docs", 60).await;
    assert_eq!(
        (first["trigger"].as_str(), first["addedFiles"].as_i64()),
        (Some("schedule"), Some(5)),
        "a new schedule's first run is incremental: {first}"
    );

    // What a feed can miss: a file row lost, a stored hash gone stale.
    let files = world.files("docs").await;
    let remote_id = |path: &str| {
        files
            .iter()
            .find(|f| f.0 == path)
            .map(|f| f.1.clone())
            .expect("remote id")
    };
    let store = &world.app().store;
    let mut stale = store
        .get_remote_item(lib, &remote_id("a.txt"))
        .await
        .expect("read item")
        .expect("item a");
    stale.remote_hash = Some(folio_domain::RemoteHash::new(
        folio_domain::HashKind::Md5,
        "00000000000000000000000000000000",
    ));
    let tamper = SyncBatch {
        library_id: lib,
        file_deletes: vec!["b.txt".to_owned()],
        item_deletes: vec![remote_id("b.txt")],
        item_upserts: vec![stale],
        ..SyncBatch::default()
    };
    store
        .apply_sync_batch(tamper.clone(), |_| async { Ok::<bool, String>(true) })
        .await
        .expect("tamper");

    // An incremental run sees no change and repairs nothing.
    world.sim.reset_request_counts().await;
    world.make_due(lib, false).await;
    let runs = world.finished_runs("docs", 2).await;
    assert_eq!(runs[0]["trigger"], "schedule");
    assert_eq!(world.sim.downloads(Provider::Google).await, 0);
    assert_eq!(world.files("docs").await.len(), 4);

    // The reconcile downloads exactly the two that differ.
    world.make_due(lib, true).await;
    let runs = world.finished_runs("docs", 3).await;
    assert_eq!(runs[0]["trigger"], "reconcile");
    assert_eq!(runs[0]["status"], "done", "{}", runs[0]);
    assert_eq!(runs[0]["syncedFiles"], 5, "{}", runs[0]);
    assert_eq!(world.sim.downloads(Provider::Google).await, 2);
    let (status, bytes) = world.app().file("docs", "b.txt").await;
    assert_eq!((status, bytes), (200, Value::String("bytes of b".into())));

    // The reconcile clock moved on: the next scheduled run is incremental.
    let row = world.schedule_row(lib).await.expect("row");
    assert!(
        row.next_reconcile_ms > now_ms() + 3_000_000,
        "next reconcile one interval out: {row:?}"
    );
    world.make_due(lib, false).await;
    let runs = world.finished_runs("docs", 4).await;
    assert_eq!(runs[0]["trigger"], "schedule");
    assert_eq!(world.sim.downloads(Provider::Google).await, 2);
}

#[tokio::test]
async fn removing_a_schedule_stops_the_runs_even_when_done_behind_the_routes_back() {
    let world = World::start(1, None).await;
    world.put("a.txt", b"alpha").await;
    let (lib, _) = world.scheduled_library("docs", 5).await;

    // Through the API: the row goes at once, no run follows.
    world.set_schedule("docs", Value::Null).await;
    assert_eq!(world.schedule_row(lib).await, None);
    some_ticks().await;
    assert_eq!(world.runs("docs").await.len(), 1);

    // Turned on again: due at the next tick.
    world
        .set_schedule("docs", json!({"intervalMinutes": 5}))
        .await;
    world.finished_runs("docs", 2).await;

    // Removed straight in the libraries table (as an older replica might)
    // while its row is due: the scheduler drops the row and runs nothing.
    world.write_schedule_column(lib, None).await;
    world.make_due(lib, false).await;
    some_ticks().await;
    assert_eq!(world.runs("docs").await.len(), 2);
    assert_eq!(world.schedule_row(lib).await, None);

    // And a schedule written only in the libraries table gets its row.
    world
        .write_schedule_column(
            lib,
            Some(SyncSchedule {
                interval_minutes: 5,
            }),
        )
        .await;
    world.finished_runs("docs", 3).await;
    assert!(world.schedule_row(lib).await.is_some());

    // Deleting the library drops its schedule.
    let (status, _) = world
        .call(Method::DELETE, "/api/libraries/docs", None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(world.schedule_row(lib).await, None);
}

#[tokio::test]
async fn shutdown_lets_a_running_scheduled_sync_finish_then_runs_nothing_more() {
    let mut world = World::start(1, None).await;
    world.put("a.txt", b"alpha").await;
    let (lib, _) = world.scheduled_library("docs", 60).await;

    world.put("slow.txt", b"slow bytes").await;
    world
        .sim
        .add_latency(Provider::Google, None, 800, Some(1))
        .await;
    world.make_due(lib, false).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while world.runs("docs").await.len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no second run");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(world.runs("docs").await[0]["status"], "running");
    for scheduler in std::mem::take(&mut world.schedulers) {
        tokio::time::timeout(Duration::from_secs(10), scheduler.shutdown())
            .await
            .expect("the scheduler stops within its grace");
    }
    let runs = world.runs("docs").await;
    assert_eq!(
        runs[0]["status"], "done",
        "finished within the grace: {}",
        runs[0]
    );
    assert_eq!(runs[0]["addedFiles"], 1);

    world.make_due(lib, false).await;
    some_ticks().await;
    assert_eq!(
        world.runs("docs").await.len(),
        2,
        "a stopped scheduler runs nothing"
    );
}
