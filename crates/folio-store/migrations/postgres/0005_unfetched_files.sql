-- Finds quickly the placed files whose bytes were never stored (their
-- download was refused or failed its hash check): the sync engine tries
-- them again on later syncs. Few rows, so a partial index; content_hash
-- is in it so SQLite picks it over remote_items_path for "IS NULL".
-- Keep in step with migrations/sqlite/0005_unfetched_files.sql.

CREATE INDEX remote_items_unfetched ON remote_items (library_id, content_hash)
    WHERE content_hash IS NULL AND path IS NOT NULL AND is_folder = FALSE;
