-- LLM providers added through the API (those in warden.toml are not stored). The
-- credential is sealed with AES-256-GCM under a key derived from the installation's
-- master key, the provider's name as associated data; it is never stored in clear.
CREATE TABLE gateway_providers (
    name TEXT PRIMARY KEY,
    base_url TEXT NOT NULL,
    region TEXT NOT NULL,
    external BOOLEAN NOT NULL,
    models TEXT NOT NULL,
    prices TEXT NOT NULL,
    key_nonce BYTEA,
    key_sealed BYTEA,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    revision BIGINT NOT NULL
);
