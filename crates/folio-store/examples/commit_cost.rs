//! What one synced file costs the metadata store: times
//! [`Store::apply_sync_batch`] on batches like a first full sync's (a file
//! row, a blob row and an item row per file, Drive-like ids, SHA-256 and
//! md5 hashes), on a fresh SQLite database, and prints microseconds per
//! file. The sync benchmark (`folio-bench sync`) measures the whole sync;
//! this isolates the commits, its largest cost after the downloads, with
//! far less noise.
//!
//! `cargo run --release -p folio-store --example commit_cost -- [FILES]
//! [FILES_PER_COMMIT] [RUNS]` (defaults 12000, 4000, 7). Put TMPDIR on
//! tmpfs (`TMPDIR=/dev/shm`) to leave the disk out. Prints every run and
//! the minimum, in wall time and in CPU time of the whole process.
//!
//! On a shared machine both swing by a fifth from run to run; counting
//! instructions does not: `TMPDIR=/dev/shm valgrind --tool=callgrind
//! target/release/examples/commit_cost 12000 4000 1` gives the same total
//! to 0.2% run after run, and `callgrind_annotate --inclusive=yes` splits
//! it between SQLite (`sqlite3_step`) and sqlx (building, binding and
//! freeing the values). The kernel's side (WAL writes and reads) is not
//! counted there; `strace -f -c -e trace=pwrite64,pread64` counts it.

use std::time::Instant;

use chrono::Utc;
use folio_domain::LibrarySource;
use folio_store::sync::{CursorRow, RemoteItemRow, SyncBatch};
use folio_store::{FileRecord, NewLibrary, NewUser, Store};
use uuid::Uuid;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let files = args.next().transpose()?.unwrap_or(12_000).max(1);
    let per_commit = args.next().transpose()?.unwrap_or(4_000).max(1);
    let runs = args.next().transpose()?.unwrap_or(7).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (mut wall, mut cpu) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for run in 0..runs {
        let (wall_us, cpu_us) = runtime.block_on(one_run(files, per_commit))?;
        println!(
            "run {}: {wall_us:.2} us a file, {cpu_us:.2} us of CPU",
            run + 1
        );
        wall.push(wall_us);
        cpu.push(cpu_us);
    }
    println!(
        "{files} files, {per_commit} a commit: best {:.2} us a file, {:.2} us of CPU",
        minimum(&wall),
        minimum(&cpu)
    );
    Ok(())
}

fn minimum(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

/// CPU time of this process (every thread, SQLite's workers included).
fn process_cpu() -> std::time::Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    std::time::Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Commits `files` files in batches of `per_commit` into a new database;
/// the wall and CPU time of the commits alone, per file.
async fn one_run(files: usize, per_commit: usize) -> anyhow::Result<(f64, f64)> {
    let dir = tempfile::tempdir()?;
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("f.db").display())).await?;
    store.migrate().await?;
    let library = library(&store).await?;
    let listing = Uuid::now_v7();
    let batches: Vec<SyncBatch> = (0..files)
        .collect::<Vec<_>>()
        .chunks(per_commit)
        .map(|chunk| batch(library, listing, chunk))
        .collect();
    let (started, cpu_before) = (Instant::now(), process_cpu());
    for batch in batches {
        store
            .apply_sync_batch(batch, |_| async { Ok(true) })
            .await?;
    }
    let per_file = |d: std::time::Duration| d.as_secs_f64() * 1e6 / files as f64;
    Ok((
        per_file(started.elapsed()),
        per_file(process_cpu() - cpu_before),
    ))
}

async fn library(store: &Store) -> anyhow::Result<Uuid> {
    let owner = store
        .create_user(NewUser {
            username: "bench".into(),
            display_name: None,
            password_hash: None,
            is_admin: false,
        })
        .await?;
    let library = store
        .create_library(NewLibrary {
            natural_id: "bench".into(),
            name: "bench".into(),
            description: None,
            library_type: folio_domain::LibraryType::GoogleDrive,
            owner_id: owner.id,
            source: LibrarySource::default(),
            sync_schedule: None,
        })
        .await?;
    Ok(library.id)
}

/// The rows a first sync commits for files `numbers` (ten folders of
/// files, as `cloudsim`'s generator spreads them).
fn batch(library_id: Uuid, listing: Uuid, numbers: &[usize]) -> SyncBatch {
    let now = Utc::now();
    let mut batch = SyncBatch {
        library_id,
        cursor: Some(CursorRow {
            cursor: format!("page-{}", numbers[0]),
            complete: false,
            listing_id: Some(listing),
            updated_at: now,
        }),
        ..SyncBatch::default()
    };
    for &n in numbers {
        let id = drive_like_id(n);
        let folder = format!("folder-{}", n % 10);
        let name = format!("file-{n:06}.txt");
        let path = format!("bench/{folder}/{name}");
        let hash = hex(n as u64, 64);
        batch.file_puts.push(FileRecord {
            library_id,
            path: path.clone(),
            size: 4096,
            content_type: "text/plain".into(),
            hash: hash.clone(),
            modified_at: now,
            remote_id: Some(id.clone()),
            synced_at: Some(now),
            created_at: now,
            updated_at: now,
        });
        batch.item_upserts.push(RemoteItemRow {
            library_id,
            remote_id: id,
            parent_id: Some(drive_like_id(1_000_000 + n % 10)),
            name,
            is_folder: false,
            path: Some(path),
            size: Some(4096),
            remote_hash: Some(folio_domain::RemoteHash::new(
                folio_domain::HashKind::Md5,
                hex(!(n as u64), 32),
            )),
            version: Some("1".into()),
            content_hash: Some(hash),
            content_state: folio_domain::ContentState::Stored,
            seen_listing: Some(listing),
            updated_at: now,
            path_lower: None,
            content_kind: Some(folio_domain::ContentKind::File),
            fetch_failure: None,
        });
    }
    batch
}

/// A 33-character id whose characters are spread like Drive's.
fn drive_like_id(n: usize) -> String {
    format!("1{}", hex(n as u64 ^ 0x5bd1_e995, 32))
}

/// `len` hex digits that look random but follow from `seed`.
fn hex(seed: u64, len: usize) -> String {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from_digit((state % 16) as u32, 16).unwrap_or('0')
        })
        .collect()
}
