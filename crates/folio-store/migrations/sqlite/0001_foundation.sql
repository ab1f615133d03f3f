-- Users, credentials, libraries, shares, files and the blobs they point at.
-- Keep in step with migrations/postgres/0001_foundation.sql (a parity test checks it).

CREATE TABLE users (
    id BLOB PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT,
    password_hash TEXT,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE libraries (
    id BLOB PRIMARY KEY NOT NULL,
    natural_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    type TEXT NOT NULL,
    owner_id BLOB NOT NULL REFERENCES users(id),
    source TEXT NOT NULL,
    sync_schedule TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE library_shares (
    library_id BLOB NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (library_id, user_id)
);

CREATE TABLE blobs (
    hash TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE files (
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

CREATE INDEX files_hash ON files (hash);
CREATE UNIQUE INDEX files_remote_id ON files (library_id, remote_id) WHERE remote_id IS NOT NULL;
