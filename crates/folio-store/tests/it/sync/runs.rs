//! Runs and their leases, and schedule claims.

use super::*;

fn new_run(lib: Uuid, owner: &str, until: i64) -> NewSyncRun {
    NewSyncRun {
        library_id: lib,
        progress_id: format!("p-{owner}"),
        trigger_kind: RunTrigger::Manual,
        lease_owner: owner.into(),
        lease_until_ms: until,
    }
}

#[tokio::test]
async fn one_running_sync_per_library_and_lapsed_leases_are_taken_over() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let lib = library(&store).await;
    let BeginRun::Started(first) = store
        .begin_sync_run(&new_run(lib, "a", 1_000), 0)
        .await
        .unwrap()
    else {
        panic!("the first run must start");
    };
    match store
        .begin_sync_run(&new_run(lib, "b", 2_000), 500)
        .await
        .unwrap()
    {
        BeginRun::Busy(run) => assert_eq!(run.progress_id, "p-a"),
        other => panic!("expected busy, got {other:?}"),
    }
    let progress = RunProgress {
        phase: RunPhase::Downloading,
        done: 1,
        total: 4,
        bytes: 10,
        current_file: Some("x.txt".into()),
        ..RunProgress::default()
    };
    assert!(
        store
            .renew_sync_run(first.id, "a", &progress, 3_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew_sync_run(first.id, "b", &progress, 3_000)
            .await
            .unwrap()
    );
    let by_progress = store.sync_run_by_progress("p-a").await.unwrap().unwrap();
    assert_eq!(
        (by_progress.phase, by_progress.done, by_progress.total),
        (RunPhase::Downloading, 1, 4)
    );

    // Process "a" dies: after its lease lapses, "b" takes over.
    let BeginRun::Started(second) = store
        .begin_sync_run(&new_run(lib, "b", 9_000), 3_001)
        .await
        .unwrap()
    else {
        panic!("a lapsed lease must be taken over");
    };
    let abandoned = store.sync_run_by_progress("p-a").await.unwrap().unwrap();
    assert_eq!(abandoned.status, RunStatus::Failed);
    assert!(abandoned.message.unwrap().contains("lease"));
    assert!(
        !store
            .renew_sync_run(first.id, "a", &progress, 10_000)
            .await
            .unwrap()
    );

    let outcome = RunOutcome {
        status: RunStatus::Done,
        synced_files: 4,
        added_files: 4,
        ..RunOutcome::failed(String::new())
    };
    store.finish_sync_run(second.id, &outcome).await.unwrap();
    assert!(store.running_sync_run(lib).await.unwrap().is_none());
    let failed = store
        .record_sync_run(
            lib,
            RunTrigger::Schedule,
            RunStatus::Failed,
            "no connection: reconnect the library",
        )
        .await
        .unwrap();
    let runs = store.list_sync_runs(lib, 10).await.unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].id, failed.id);
    assert_eq!(runs[1].synced_files, 4);
    assert!(matches!(
        store
            .begin_sync_run(&new_run(lib, "c", 20_000), 10_000)
            .await
            .unwrap(),
        BeginRun::Started(_)
    ));
}

#[tokio::test]
async fn schedule_ticks_are_claimed_once() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let lib = library(&store).await;
    let row = ScheduleRow {
        library_id: lib,
        next_run_ms: 1_000,
        next_reconcile_ms: 86_400_000,
    };
    store.put_sync_schedule(&row).await.unwrap();
    assert!(store.due_sync_schedules(999, 10).await.unwrap().is_empty());
    assert_eq!(
        store.due_sync_schedules(1_000, 10).await.unwrap(),
        std::slice::from_ref(&row)
    );
    assert!(store.claim_sync_schedule(lib, 1_000, 61_000).await.unwrap());
    assert!(!store.claim_sync_schedule(lib, 1_000, 61_000).await.unwrap());
    assert_eq!(
        store
            .get_sync_schedule(lib)
            .await
            .unwrap()
            .unwrap()
            .next_run_ms,
        61_000
    );
    store.delete_sync_schedule(lib).await.unwrap();
    assert!(store.get_sync_schedule(lib).await.unwrap().is_none());
}

/// Sets or clears a library's `sync_schedule` column only (as another
/// replica, or an older version, might), leaving `sync_schedules` alone.
async fn set_schedule_column(store: &Store, lib: Uuid, minutes: Option<u32>) {
    store
        .update_library(
            lib,
            folio_store::LibraryPatch {
                sync_schedule: Some(minutes.map(|m| folio_domain::SyncSchedule {
                    interval_minutes: m,
                })),
                ..folio_store::LibraryPatch::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn schedule_rows_follow_the_libraries_schedule_column() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let scheduled = library(&store).await;
    let unscheduled = library(&store).await;
    let kept = library(&store).await;
    set_schedule_column(&store, scheduled, Some(5)).await;
    set_schedule_column(&store, kept, Some(5)).await;
    let existing = ScheduleRow {
        library_id: kept,
        next_run_ms: 7,
        next_reconcile_ms: 8,
    };
    store.put_sync_schedule(&existing).await.unwrap();

    assert_eq!(
        store
            .insert_missing_sync_schedules(1_000, 2_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.get_sync_schedule(scheduled).await.unwrap(),
        Some(ScheduleRow {
            library_id: scheduled,
            next_run_ms: 1_000,
            next_reconcile_ms: 2_000
        })
    );
    assert_eq!(store.get_sync_schedule(unscheduled).await.unwrap(), None);
    assert_eq!(store.get_sync_schedule(kept).await.unwrap(), Some(existing));
    assert_eq!(
        store
            .insert_missing_sync_schedules(1_000, 2_000)
            .await
            .unwrap(),
        0
    );

    assert_eq!(store.delete_unscheduled_sync_schedules().await.unwrap(), 0);
    set_schedule_column(&store, scheduled, None).await;
    assert_eq!(store.delete_unscheduled_sync_schedules().await.unwrap(), 1);
    assert_eq!(store.get_sync_schedule(scheduled).await.unwrap(), None);
    assert!(store.get_sync_schedule(kept).await.unwrap().is_some());

    assert!(store.set_next_reconcile(kept, 99_000).await.unwrap());
    assert_eq!(
        store
            .get_sync_schedule(kept)
            .await
            .unwrap()
            .unwrap()
            .next_reconcile_ms,
        99_000
    );
    assert!(!store.set_next_reconcile(scheduled, 1).await.unwrap());

    store.delete_library(kept).await.unwrap();
    assert_eq!(
        store.get_sync_schedule(kept).await.unwrap(),
        None,
        "deleting a library drops its schedule row (ON DELETE CASCADE)"
    );
}
