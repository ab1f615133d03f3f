-- No query looks remote items up by parent: the engine loads a library's
-- items once and finds children in memory. The index only cost a write of
-- every item's parent on every sync.
-- Keep in step with migrations/sqlite/0007_drop_item_parent_index.sql.

DROP INDEX IF EXISTS remote_items_parent;
