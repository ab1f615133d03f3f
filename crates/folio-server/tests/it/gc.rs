//! The storage sweep (`folio_server::gc`) over real storage (a temporary
//! directory) and a real store (SQLite, or PostgreSQL with
//! `FOLIO_TEST_DATABASE_URL`). Blob files are made old by setting their
//! modification time back, as time would. The S3 side of what the sweep
//! relies on (listing with modification times, `stat`, staging ages) is in
//! `folio-blobs`' behaviour suite.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use chrono::Utc;
use folio_blobs::{BlobStore, ByteStream};
use folio_domain::LibrarySource;
use folio_server::gc::{self, SweepReport};
use folio_store::{FileRecord, NewLibrary, NewUser, Store, StoreError};
use folio_testkit::{fresh_blobs, fresh_store};
use futures::StreamExt;
use tempfile::TempDir;
use uuid::Uuid;

const GRACE: Duration = Duration::from_secs(3600);
/// How long a test lets a task run to show that it is waiting for a lock.
const BLOCKED_FOR: Duration = Duration::from_millis(300);

struct World {
    dir: TempDir,
    store: Store,
    blobs: BlobStore,
    library: Uuid,
}

impl World {
    async fn new() -> World {
        let dir = TempDir::new().expect("temp dir");
        let store = fresh_store(&dir).await.expect("store");
        let blobs = fresh_blobs(&dir).await.expect("blobs");
        let library = library(&store).await;
        World {
            dir,
            store,
            blobs,
            library,
        }
    }

    /// Where `fresh_blobs` keeps its files.
    fn root(&self) -> PathBuf {
        self.dir.path().join("blobs")
    }

    /// A blob's file in a local store (`blobs/ab/<hash>`).
    fn blob_path(&self, hash: &str) -> PathBuf {
        self.root().join("blobs").join(&hash[0..2]).join(hash)
    }

    async fn put(&self, bytes: &'static [u8]) -> String {
        let body: ByteStream =
            futures::stream::once(async move { Ok(Bytes::from_static(bytes)) }).boxed();
        self.blobs.put(body, None).await.expect("put").hash
    }

    /// Puts `bytes` and commits a file `path` that uses them.
    async fn put_used(&self, path: &str, bytes: &'static [u8]) -> String {
        let hash = self.put(bytes).await;
        self.store
            .put_file(&file(self.library, path, &hash), || async { Ok(true) })
            .await
            .expect("put_file");
        hash
    }

    /// A staging object as a killed upload leaves it.
    fn staging(&self, name: &str) -> PathBuf {
        let path = self.root().join("staging").join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("staging dir");
        std::fs::write(&path, b"cut off").expect("write staging");
        path
    }

    async fn stored_hashes(&self) -> Vec<String> {
        self.blobs.list_hashes().await.expect("list hashes")
    }

    async fn sweep(&self) -> SweepReport {
        gc::sweep(&self.store, &self.blobs, GRACE)
            .await
            .expect("sweep")
    }
}

async fn library(store: &Store) -> Uuid {
    let owner = store
        .create_user(NewUser {
            username: "owner".into(),
            display_name: None,
            password_hash: None,
            is_admin: false,
        })
        .await
        .expect("user")
        .id;
    store
        .create_library(NewLibrary {
            natural_id: "lib".into(),
            name: "lib".into(),
            description: None,
            library_type: folio_domain::LibraryType::Local,
            owner_id: owner,
            source: LibrarySource::default(),
            sync_schedule: None,
        })
        .await
        .expect("library")
        .id
}

fn file(library_id: Uuid, path: &str, hash: &str) -> FileRecord {
    let now = Utc::now();
    FileRecord {
        library_id,
        path: path.into(),
        size: 3,
        content_type: "text/plain".into(),
        hash: hash.into(),
        modified_at: now,
        remote_id: None,
        synced_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// Sets a file's modification time a day back.
fn age(path: &Path) {
    let a_day_ago = SystemTime::now() - Duration::from_secs(24 * 3600);
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open to age")
        .set_modified(a_day_ago)
        .expect("age");
}

fn sorted(mut hashes: Vec<String>) -> Vec<String> {
    hashes.sort();
    hashes
}

#[tokio::test]
async fn a_sweep_removes_old_orphans_and_stale_staging_and_keeps_the_rest() {
    let w = World::new().await;
    let used_old = w.put_used("used.txt", b"used and old").await;
    let orphan_old = w.put(b"never committed, old").await;
    let orphan_young = w.put(b"never committed, young").await;
    let unused_row = w.put_used("deleted.txt", b"its file was deleted").await;
    w.store
        .delete_file(w.library, "deleted.txt")
        .await
        .expect("delete the file");
    for hash in [&used_old, &orphan_old] {
        age(&w.blob_path(hash));
    }
    let stale = w.staging("stale-upload");
    age(&stale);
    let fresh = w.staging("live-upload");

    let report = w.sweep().await;

    assert_eq!(
        (
            report.unused_rows,
            report.stale_staging,
            report.orphan_blobs,
            report.failed
        ),
        (1, 1, 1, 0),
        "{report:?}"
    );
    assert_eq!(report.listed_blobs, 3, "the unused row's blob went first");
    assert_eq!(
        w.stored_hashes().await,
        sorted(vec![used_old.clone(), orphan_young.clone()]),
        "an old blob a file uses and a young one no file uses yet are kept"
    );
    assert!(!stale.exists(), "an old staging object is removed");
    assert!(fresh.exists(), "a young staging object is kept");
    assert!(!w.store.blob_row_exists(&unused_row).await.unwrap());
    assert!(
        !w.store.blob_row_exists(&orphan_old).await.unwrap(),
        "the claim the sweep made on the hash is not left behind"
    );

    age(&w.blob_path(&orphan_young));
    let again = w.sweep().await;
    assert_eq!(
        (again.orphan_blobs, again.unused_rows, again.stale_staging),
        (1, 0, 0),
        "{again:?}"
    );
    assert_eq!(w.stored_hashes().await, vec![used_old]);
}

#[tokio::test]
async fn a_blob_put_again_after_it_was_listed_is_kept() {
    // The sweep checks the age again under the lock: a sync that reuses an
    // old orphan's bytes rewrites it, and its commit is about to adopt it.
    let w = World::new().await;
    let hash = w.put(b"old orphan, reused").await;
    age(&w.blob_path(&hash));
    let again = w.put(b"old orphan, reused").await;
    assert_eq!(again, hash);

    let report = w.sweep().await;

    assert_eq!(report.orphan_blobs, 0, "{report:?}");
    assert_eq!(w.stored_hashes().await, vec![hash]);
}

#[tokio::test]
async fn a_commit_that_waits_for_the_sweep_fails_rather_than_lose_its_blob() {
    let w = World::new().await;
    let hash = w.put(b"adopted while being swept").await;
    let mut commit = None;
    let (commit_slot, swept, hash_ref, world) = (&mut commit, &w.blobs, &hash, &w);
    let removed = w
        .store
        .remove_unrecorded_blob(&hash, || async move {
            // The sweep holds its claim on the hash: a commit adopting the
            // hash now must wait for it.
            *commit_slot = Some(start_waiting_commit(world, hash_ref).await);
            swept.delete(hash_ref).await.map_err(|e| e.to_string())?;
            Ok(true)
        })
        .await
        .expect("remove_unrecorded_blob");
    assert!(removed);

    assert_commit_lost_the_race(&w, commit.expect("commit started"), &hash).await;
}

#[tokio::test]
async fn a_sweep_that_waits_for_a_commit_keeps_the_blob_it_adopts() {
    let w = World::new().await;
    let hash = w.put(b"committed while being swept").await;
    age(&w.blob_path(&hash));
    let (store, blobs) = (w.store.clone(), w.blobs.clone());
    let mut sweep = None;
    let sweep_slot = &mut sweep;
    w.store
        .put_file(&file(w.library, "adopted.txt", &hash), || async move {
            // The commit has written its rows and holds them: a sweep now
            // must wait for it. No storage check here, so if the sweep
            // deleted the blob, the file would point at nothing.
            let task = tokio::spawn(async move { gc::sweep(&store, &blobs, GRACE).await });
            tokio::time::sleep(BLOCKED_FOR).await;
            assert!(!task.is_finished(), "the sweep waits for the commit");
            *sweep_slot = Some(task);
            Ok(true)
        })
        .await
        .expect("put_file");

    let report = sweep
        .expect("sweep started")
        .await
        .expect("sweep task")
        .expect("sweep");
    assert_eq!((report.orphan_blobs, report.failed), (0, 0), "{report:?}");
    assert_eq!(w.stored_hashes().await, vec![hash.clone()]);
    let file = w.store.get_file(w.library, "adopted.txt").await.unwrap();
    assert_eq!(file.map(|f| f.hash), Some(hash));
}

/// `remove_blob_if_orphan` (used after a failed upload or a hash mismatch)
/// on a blob with no row: it claims the hash like the sweep, so a commit
/// adopting the hash meanwhile waits, then fails instead of pointing a
/// file at deleted bytes (on PostgreSQL a FOR UPDATE on a missing row
/// would lock nothing).
#[tokio::test]
async fn a_commit_that_waits_for_an_orphan_removal_fails_rather_than_lose_its_blob() {
    let w = World::new().await;
    let hash = w.put(b"adopted while being removed").await;
    let mut commit = None;
    let (commit_slot, removing, hash_ref, world) = (&mut commit, &w.blobs, &hash, &w);
    let removed = w
        .store
        .remove_blob_if_orphan(&hash, || async move {
            *commit_slot = Some(start_waiting_commit(world, hash_ref).await);
            removing.delete(hash_ref).await.map_err(|e| e.to_string())
        })
        .await
        .expect("remove_blob_if_orphan");
    assert!(removed);

    assert_commit_lost_the_race(&w, commit.expect("commit started"), &hash).await;
}

/// Starts committing `late.txt` with the blob `hash` (checking the blob is
/// still stored, as real commits do) and checks that it waits: the caller
/// holds the hash's claim.
async fn start_waiting_commit(
    w: &World,
    hash: &str,
) -> tokio::task::JoinHandle<Result<Option<String>, StoreError>> {
    let (store, blobs, library) = (w.store.clone(), w.blobs.clone(), w.library);
    let target = hash.to_owned();
    let task = tokio::spawn(async move {
        store
            .put_file(&file(library, "late.txt", &target), || async move {
                blobs.exists(&target).await.map_err(|e| e.to_string())
            })
            .await
    });
    tokio::time::sleep(BLOCKED_FOR).await;
    assert!(!task.is_finished(), "the commit waits for the claim");
    task
}

/// The waiting commit found its blob gone: it failed with BlobVanished and
/// wrote nothing, and the hash has no row left.
async fn assert_commit_lost_the_race(
    w: &World,
    commit: tokio::task::JoinHandle<Result<Option<String>, StoreError>>,
    hash: &str,
) {
    let committed = commit.await.expect("commit task");
    assert!(
        matches!(committed, Err(StoreError::BlobVanished(_))),
        "{committed:?}"
    );
    assert!(
        w.store
            .get_file(w.library, "late.txt")
            .await
            .unwrap()
            .is_none()
    );
    assert!(!w.store.blob_row_exists(hash).await.unwrap());
}
