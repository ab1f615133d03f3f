-- Two more facts per remote item, so the engine's tree survives a restart
-- whole: the lowercase path for providers that address items by path
-- (Dropbox), and what kind of content it has ('file', 'none' for shortcuts
-- and documents that cannot be exported, or 'export:EXT').
-- Keep in step with migrations/postgres/0004_sync_item_kinds.sql (a parity test checks it).

ALTER TABLE remote_items ADD COLUMN path_lower TEXT;
ALTER TABLE remote_items ADD COLUMN content_kind TEXT;
