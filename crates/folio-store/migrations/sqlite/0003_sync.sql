-- The sync engine's state: the provider's item tree per library, the change
-- cursor, sync runs (history, progress and the one-at-a-time lease) and
-- schedule claims.
-- Keep in step with migrations/postgres/0003_sync.sql (a parity test checks it).

-- Every item of a library's source as the provider last reported it, keyed
-- by the provider's item id (never by path). `path` is the library path the
-- item maps to (NULL while it is outside the source or not placed);
-- `content_hash` is the SHA-256 of the stored blob of a synced file.
CREATE TABLE remote_items (
    library_id BLOB NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    remote_id TEXT NOT NULL,
    parent_id TEXT,
    name TEXT NOT NULL,
    is_folder BOOLEAN NOT NULL,
    path TEXT,
    size BIGINT,
    remote_hash TEXT,
    version TEXT,
    content_hash TEXT,
    seen_listing BLOB,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (library_id, remote_id)
);

CREATE INDEX remote_items_parent ON remote_items (library_id, parent_id);
CREATE INDEX remote_items_path ON remote_items (library_id, path);

-- The change cursor of a library. `complete` is false while a full listing
-- is in progress (the cursor then resumes that listing, whose id is
-- `listing_id`: items it saw carry it in remote_items.seen_listing).
CREATE TABLE sync_cursors (
    library_id BLOB PRIMARY KEY NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    cursor TEXT NOT NULL,
    complete BOOLEAN NOT NULL,
    listing_id BLOB,
    updated_at TEXT NOT NULL
);

-- One row per sync run: its history entry, its live progress, and while it
-- runs, the lease that keeps other replicas out (`lease_until_ms`, Unix milliseconds, renewed by
-- the heartbeat; a run whose lease lapsed may be taken over).
CREATE TABLE sync_runs (
    id BLOB PRIMARY KEY NOT NULL,
    library_id BLOB NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    progress_id TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    done BIGINT NOT NULL,
    total BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    current_file TEXT,
    synced_files BIGINT NOT NULL,
    added_files BIGINT NOT NULL,
    updated_files BIGINT NOT NULL,
    deleted_files BIGINT NOT NULL,
    errors TEXT NOT NULL,
    message TEXT,
    lease_owner TEXT NOT NULL,
    lease_until_ms BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);

CREATE UNIQUE INDEX sync_runs_one_running ON sync_runs (library_id) WHERE status = 'running';
CREATE INDEX sync_runs_library ON sync_runs (library_id, started_at);
CREATE INDEX sync_runs_progress ON sync_runs (progress_id);

-- When each scheduled library is due next; replicas claim a tick by
-- compare-and-set on next_run_ms (Unix milliseconds).
CREATE TABLE sync_schedules (
    library_id BLOB PRIMARY KEY NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    next_run_ms BIGINT NOT NULL,
    next_reconcile_ms BIGINT NOT NULL
);
