-- Integrations (OAuth clients), the integration each library uses, pending
-- OAuth authorizations (state) and connections (sealed tokens).
-- Keep in step with migrations/postgres/0002_connections.sql (a parity test checks it).
-- Columns ending in _sealed hold folio-oauth envelopes (base64url of
-- key id || nonce || ciphertext), never clear text.

CREATE TABLE integrations (
    id BLOB PRIMARY KEY NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    auth_uri TEXT,
    token_uri TEXT,
    scope TEXT,
    api_uri TEXT,
    tenant TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE library_integrations (
    library_id BLOB PRIMARY KEY NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    integration_id BLOB NOT NULL REFERENCES integrations(id),
    created_at TEXT NOT NULL
);

CREATE INDEX library_integrations_integration ON library_integrations (integration_id);

CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    library_id BLOB NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    integration_id BLOB NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    pkce_verifier_sealed TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    return_to TEXT,
    switch_account BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE connections (
    id BLOB PRIMARY KEY NOT NULL,
    library_id BLOB NOT NULL UNIQUE REFERENCES libraries(id) ON DELETE CASCADE,
    integration_id BLOB NOT NULL REFERENCES integrations(id),
    owner_id BLOB NOT NULL REFERENCES users(id),
    provider_account_id TEXT NOT NULL,
    access_token_sealed TEXT NOT NULL,
    refresh_token_sealed TEXT,
    token_expires_at TEXT,
    refresh_token_expires_at TEXT,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    refresh_lease_until TEXT,
    last_authorized_at TEXT NOT NULL,
    last_refreshed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX connections_integration ON connections (integration_id);
