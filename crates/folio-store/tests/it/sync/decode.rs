//! A stored value this version does not know is an error naming the table,
//! the column and the value: never dropped, never a panic.

use folio_store::sync::NewSyncRun;

use super::raw::{Raw, Target};
use super::*;

async fn migrated(dir: &TempDir) -> (Store, Raw) {
    let target = Target::new(dir);
    let raw = target.raw().await;
    let store = target.store().await;
    store.migrate().await.unwrap();
    (store, raw)
}

fn assert_decode_error<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    table: &str,
    column: &str,
    value: &str,
) {
    match result {
        Err(StoreError::Decode {
            table: t,
            column: c,
            value: v,
            ..
        }) => assert_eq!((t, c.as_str(), v.as_str()), (table, column, value)),
        other => panic!("expected a decode error of {table}.{column}, got {other:?}"),
    }
}

#[tokio::test]
async fn unknown_stored_values_are_decode_errors_naming_the_column() {
    let dir = TempDir::new().unwrap();
    let (store, raw) = migrated(&dir).await;
    let lib = library(&store).await;
    let id = raw.uuid(lib);

    raw.exec(&format!(
        "UPDATE libraries SET type = 'gdrive' WHERE id = {id}"
    ))
    .await;
    let err = store.library_by_id(lib).await;
    assert_decode_error(err, "libraries", "type", "gdrive");
    let message = store.library_by_id(lib).await.unwrap_err().to_string();
    assert!(
        message.contains("libraries.type") && message.contains("'gdrive'"),
        "{message}"
    );
    raw.exec(&format!(
        "UPDATE libraries SET type = 'dropbox' WHERE id = {id}"
    ))
    .await;

    let started = store
        .begin_sync_run(
            &NewSyncRun {
                library_id: lib,
                progress_id: "p".into(),
                trigger_kind: folio_domain::RunTrigger::Manual,
                lease_owner: "o".into(),
                lease_until_ms: 1,
            },
            0,
        )
        .await
        .unwrap();
    assert!(matches!(started, BeginRun::Started(_)));
    raw.exec("UPDATE sync_runs SET phase = 'paused'").await;
    assert_decode_error(
        store.sync_run_by_progress("p").await,
        "sync_runs",
        "phase",
        "paused",
    );
    raw.exec("UPDATE sync_runs SET phase = 'listing', trigger_kind = 'Manual'")
        .await;
    assert_decode_error(
        store.list_sync_runs(lib, 5).await,
        "sync_runs",
        "trigger_kind",
        "Manual",
    );

    store
        .apply_sync_batch(
            SyncBatch {
                library_id: lib,
                item_upserts: vec![item(lib, "x", None, Some("x.txt"), false)],
                ..SyncBatch::default()
            },
            |_| async { Ok(true) },
        )
        .await
        .unwrap();
    raw.exec("UPDATE remote_items SET remote_hash = 'Md5:abc'")
        .await;
    assert_decode_error(
        store.get_remote_item(lib, "x").await,
        "remote_items",
        "remote_hash",
        "Md5:abc",
    );
    raw.exec("UPDATE remote_items SET remote_hash = NULL, content_state = 'downloading'")
        .await;
    assert_decode_error(
        store.list_remote_items(lib).await,
        "remote_items",
        "content_state",
        "downloading",
    );
    raw.exec("UPDATE remote_items SET content_state = 'missing', fetch_failure = 'flaky'")
        .await;
    assert_decode_error(
        store.unfetched_remote_files(lib, 5).await,
        "remote_items",
        "fetch_failure",
        "flaky",
    );
    raw.exec("UPDATE remote_items SET fetch_failure = NULL, content_kind = 'export:'")
        .await;
    assert_decode_error(
        store.get_remote_item(lib, "x").await,
        "remote_items",
        "content_kind",
        "export:",
    );

    let other = store
        .create_user(NewUser {
            username: "reader".into(),
            display_name: None,
            password_hash: None,
            is_admin: false,
        })
        .await
        .unwrap()
        .id;
    store
        .put_share(lib, other, folio_domain::ShareLevel::Read)
        .await
        .unwrap();
    raw.exec("UPDATE library_shares SET level = 'admin'").await;
    assert_decode_error(
        store.share_level(lib, other).await,
        "library_shares",
        "level",
        "admin",
    );
    assert_decode_error(
        store.list_shares(lib).await,
        "library_shares",
        "level",
        "admin",
    );
    raw.close().await;
}
