//! The pipeline's bookkeeping on its own: which pages are gathered into
//! which commit, in which order, and what a failed commit leaves.

use std::sync::{Arc, Mutex};

use folio_connectors::ConnectorError;
use folio_store::FileRecord;
use folio_store::sync::SyncBatch;
use uuid::Uuid;

use super::SyncError;
use super::pipeline::{Commit, Pipeline};

fn put(name: &str) -> FileRecord {
    let now = chrono::Utc::now();
    FileRecord {
        library_id: Uuid::nil(),
        path: name.into(),
        size: 1,
        content_type: "text/plain".into(),
        hash: name.into(),
        modified_at: now,
        remote_id: None,
        synced_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// A page putting files named (and hashed) as `names`.
fn adding(names: &[&str]) -> SyncBatch {
    SyncBatch {
        library_id: Uuid::nil(),
        file_puts: names.iter().map(|n| put(n)).collect(),
        ..SyncBatch::default()
    }
}

/// A page deleting `path` and putting `names`.
fn deleting(path: &str, names: &[&str]) -> SyncBatch {
    SyncBatch {
        file_deletes: vec![path.into()],
        ..adding(names)
    }
}

type Log = Arc<Mutex<Vec<Vec<String>>>>;

/// A commit function that records the files of each batch it commits
/// (when the commit runs) and then succeeds, or fails when `fail`.
fn committer(log: &Log, fail: bool) -> impl Fn(SyncBatch) -> Commit<'static> + use<> {
    let log = log.clone();
    move |batch| {
        let log = log.clone();
        Box::pin(async move {
            let files = batch.file_puts.iter().map(|f| f.path.clone()).collect();
            log.lock().map_err(|_| fail_with("log"))?.push(files);
            if fail {
                Err(fail_with("the store is gone"))
            } else {
                Ok(vec![format!("released by {}", batch.file_puts.len())])
            }
        })
    }
}

fn fail_with(message: &str) -> SyncError {
    SyncError::Provider(ConnectorError::temporary(message.to_owned()))
}

fn logged(log: &Log) -> Vec<Vec<String>> {
    log.lock().expect("log").clone()
}

#[tokio::test]
async fn pages_that_only_add_are_gathered_into_one_commit() {
    let log = Log::default();
    let commit = committer(&log, false);
    let mut pipeline = Pipeline::new(5);
    pipeline
        .enqueue(adding(&["a", "b"]), &commit)
        .await
        .unwrap();
    pipeline
        .enqueue(adding(&["c", "d"]), &commit)
        .await
        .unwrap();
    assert!(pipeline.committing.is_none(), "4 rows: still gathering");
    pipeline.enqueue(adding(&["e"]), &commit).await.unwrap();
    assert!(pipeline.committing.is_some(), "5 rows: committing");
    assert!(pipeline.gathered.is_none());
    pipeline.enqueue(adding(&["f"]), &commit).await.unwrap();
    pipeline.commit_all(&commit).await.unwrap();
    assert_eq!(logged(&log), [vec!["a", "b", "c", "d", "e"], vec!["f"]]);
    assert_eq!(pipeline.released, ["released by 5", "released by 1"]);
}

#[tokio::test]
async fn a_page_that_deletes_commits_the_pages_before_it_first() {
    let log = Log::default();
    let commit = committer(&log, false);
    let mut pipeline = Pipeline::new(100);
    pipeline.enqueue(adding(&["a"]), &commit).await.unwrap();
    pipeline
        .enqueue(deleting("a", &["b"]), &commit)
        .await
        .unwrap();
    pipeline.enqueue(adding(&["c"]), &commit).await.unwrap();
    pipeline.commit_all(&commit).await.unwrap();
    assert_eq!(logged(&log), [vec!["a"], vec!["b", "c"]]);
}

#[tokio::test]
async fn no_page_commits_after_a_failed_commit_and_its_bytes_are_released() {
    let log = Log::default();
    let failing = committer(&log, true);
    let mut pipeline = Pipeline::new(1);
    pipeline.enqueue(adding(&["a"]), &failing).await.unwrap();
    let err = pipeline.enqueue(adding(&["b"]), &failing).await;
    assert!(err.is_err(), "the commit of a surfaces");
    assert_eq!(logged(&log), [vec!["a"]], "b is never committed");
    assert!(pipeline.committing.is_none() && pipeline.gathered.is_none());
    assert_eq!(pipeline.released, ["b"]);

    // Failing while later pages are gathered: they are dropped too.
    let log = Log::default();
    let failing = committer(&log, true);
    let mut pipeline = Pipeline::new(2);
    pipeline
        .enqueue(adding(&["a", "b"]), &failing)
        .await
        .unwrap();
    pipeline.enqueue(adding(&["c"]), &failing).await.unwrap();
    assert!(pipeline.commit_all(&failing).await.is_err());
    assert_eq!(logged(&log), [vec!["a", "b"]]);
    assert_eq!(pipeline.released, ["c"]);
    assert!(
        pipeline.commit_all(&failing).await.is_ok(),
        "nothing is left"
    );
    assert_eq!(logged(&log).len(), 1);
}

#[tokio::test]
async fn a_commit_outlasting_the_downloads_stays_in_flight() {
    let (done, wait) = tokio::sync::oneshot::channel::<()>();
    let mut pipeline = Pipeline::new(1);
    pipeline.committing = Some(Box::pin(async move {
        wait.await.map_err(|_| fail_with("dropped"))?;
        Ok(vec!["old bytes".to_owned()])
    }));
    let (settled, out) = pipeline.alongside(async { 42 }).await;
    assert!(settled.is_ok());
    assert_eq!(out, 42);
    assert!(pipeline.committing.is_some(), "still committing");
    assert!(pipeline.released.is_empty());

    done.send(()).unwrap();
    let (settled, ()) = pipeline
        .alongside(tokio::time::sleep(std::time::Duration::from_millis(50)))
        .await;
    assert!(settled.is_ok());
    assert!(pipeline.committing.is_none(), "ended while the work ran");
    assert_eq!(pipeline.released, ["old bytes"]);
}
