-- No query looks remote items up by path: the engine places paths in
-- memory and finds items by remote id or parent. The index only cost a
-- write of every item's path on every sync (about a tenth of SQLite's
-- work in a full sync of small files).
-- Keep in step with migrations/postgres/0006_drop_item_path_index.sql.

DROP INDEX IF EXISTS remote_items_path;
