-- Users, credentials, libraries, shares, files and the blobs they point at.
-- Keep in step with migrations/sqlite/0001_foundation.sql (a parity test checks it).
-- Paths use the "C" collation so ordering and cursors are byte-wise, as on SQLite.

CREATE TABLE users (
    id UUID PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT,
    password_hash TEXT,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE libraries (
    id UUID PRIMARY KEY NOT NULL,
    natural_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    type TEXT NOT NULL,
    owner_id UUID NOT NULL REFERENCES users(id),
    source JSONB NOT NULL,
    sync_schedule JSONB,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE library_shares (
    library_id UUID NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (library_id, user_id)
);

CREATE TABLE blobs (
    hash TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE files (
    library_id UUID NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    path TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    hash TEXT NOT NULL REFERENCES blobs(hash),
    modified_at TIMESTAMPTZ NOT NULL,
    remote_id TEXT,
    synced_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (library_id, path)
);

CREATE INDEX files_hash ON files (hash);
CREATE UNIQUE INDEX files_remote_id ON files (library_id, remote_id) WHERE remote_id IS NOT NULL;
