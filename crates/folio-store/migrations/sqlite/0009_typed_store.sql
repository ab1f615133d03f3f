-- The store keeps states, not strings that stand for them: whether an
-- item's bytes are stored gets a column of its own, and provider hashes
-- are kept under their kinds' stable names.
-- Keep in step with migrations/postgres/0009_typed_store.sql (a parity test checks it).

-- 'stored' (content_hash names the blob), 'missing' (no bytes: never
-- downloaded, failed, or not a file) or 'pending' (a download was in
-- flight when the row was written; no bytes).
ALTER TABLE remote_items ADD COLUMN content_state TEXT NOT NULL DEFAULT 'missing';
ALTER TABLE purge_items ADD COLUMN content_state TEXT NOT NULL DEFAULT 'missing';

-- Older versions marked a download in flight with a fake content hash
-- starting with a NUL character: such a row becomes 'pending' with no hash
-- (hex() sees the NUL, which SQLite's text functions may stop at).
UPDATE remote_items SET content_state = 'pending', content_hash = NULL
    WHERE substr(hex(content_hash), 1, 2) = '00';
UPDATE purge_items SET content_state = 'pending', content_hash = NULL
    WHERE substr(hex(content_hash), 1, 2) = '00';
UPDATE remote_items SET content_state = 'stored' WHERE content_hash IS NOT NULL;
UPDATE purge_items SET content_state = 'stored' WHERE content_hash IS NOT NULL;

-- Provider hashes were stored as `Kind:value` with the kind's Rust name
-- (`Md5`, `QuickXorHash`, ...); they become `name:value` with its stable
-- name (`md5`, `quickxorhash`, `sha256`, `dropbox-content-hash`, `none`).
UPDATE remote_items SET remote_hash = 'md5:' || substr(remote_hash, 5)
    WHERE substr(remote_hash, 1, 4) = 'Md5:';
UPDATE remote_items SET remote_hash = 'quickxorhash:' || substr(remote_hash, 14)
    WHERE substr(remote_hash, 1, 13) = 'QuickXorHash:';
UPDATE remote_items SET remote_hash = 'sha256:' || substr(remote_hash, 8)
    WHERE substr(remote_hash, 1, 7) = 'Sha256:';
UPDATE remote_items SET remote_hash = 'dropbox-content-hash:' || substr(remote_hash, 20)
    WHERE substr(remote_hash, 1, 19) = 'DropboxContentHash:';
UPDATE remote_items SET remote_hash = 'none:' || substr(remote_hash, 6)
    WHERE substr(remote_hash, 1, 5) = 'None:';
UPDATE purge_items SET remote_hash = 'md5:' || substr(remote_hash, 5)
    WHERE substr(remote_hash, 1, 4) = 'Md5:';
UPDATE purge_items SET remote_hash = 'quickxorhash:' || substr(remote_hash, 14)
    WHERE substr(remote_hash, 1, 13) = 'QuickXorHash:';
UPDATE purge_items SET remote_hash = 'sha256:' || substr(remote_hash, 8)
    WHERE substr(remote_hash, 1, 7) = 'Sha256:';
UPDATE purge_items SET remote_hash = 'dropbox-content-hash:' || substr(remote_hash, 20)
    WHERE substr(remote_hash, 1, 19) = 'DropboxContentHash:';
UPDATE purge_items SET remote_hash = 'none:' || substr(remote_hash, 6)
    WHERE substr(remote_hash, 1, 5) = 'None:';
