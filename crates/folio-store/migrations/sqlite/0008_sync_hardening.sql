-- What the sync engine needs to keep one failing file from failing a
-- sync, to count moves, to say when a progress total is final, and to
-- purge a library atomically.
-- Keep in step with migrations/postgres/0008_sync_hardening.sql (a parity test checks it).

-- Moves and renames a run made, files it could not fetch, and whether its
-- `total` is final (the listing is complete) or still counting.
ALTER TABLE sync_runs ADD COLUMN moved_files BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN failed_files BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN total_known BOOLEAN NOT NULL DEFAULT FALSE;

-- Why a placed file has no bytes yet: 'temporary' (the provider kept
-- failing on it: 5xx, 429, timeouts, a cut connection; the next sync tries
-- it again) or 'refused' (the provider refused this file, or its bytes never
-- matched the provider's hash; tried again once the retry interval is
-- over). NULL for a fetched file, and for rows written before this column.
ALTER TABLE remote_items ADD COLUMN fetch_failure TEXT;

-- The staging area of a purge ("sync from scratch"): the new files and
-- item tree are written here while the library keeps serving its old ones,
-- then one transaction moves them in place of the old. Same shapes as
-- `files` and `remote_items`; a purge that fails, is cancelled or killed
-- leaves only rows here, which the next purge or the storage sweep drops.
CREATE TABLE purge_files (
    library_id BLOB NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    hash TEXT NOT NULL REFERENCES blobs(hash),
    modified_at TEXT NOT NULL,
    remote_id TEXT,
    synced_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (library_id, path)
);

CREATE INDEX purge_files_hash ON purge_files (hash);
CREATE UNIQUE INDEX purge_files_remote_id ON purge_files (library_id, remote_id) WHERE remote_id IS NOT NULL;

CREATE TABLE purge_items (
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
    path_lower TEXT,
    content_kind TEXT,
    fetch_failure TEXT,
    PRIMARY KEY (library_id, remote_id)
);
