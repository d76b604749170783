-- +goose Up
-- Accounts of every role. Usernames are unique regardless of case.
CREATE TABLE accounts (
    id            bigserial PRIMARY KEY,
    username      text        NOT NULL CHECK (username ~ '^[A-Za-z0-9_.-]{3,32}$'),
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('bidder', 'agent', 'supervisor', 'admin')),
    display_name  text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username));

-- Bidders (投标人/竞买人): an enterprise identified by its unified social
-- credit code (GB 32100) or a natural person by resident id (GB 11643).
CREATE TABLE bidders (
    account_id        bigint      PRIMARY KEY REFERENCES accounts (id),
    kind              text        NOT NULL CHECK (kind IN ('enterprise', 'person')),
    name              text        NOT NULL CHECK (length(name) BETWEEN 2 AND 100),
    id_number         text        NOT NULL CHECK (id_number ~ '^[0-9A-Z]{18}$'),
    legal_rep         text        NOT NULL DEFAULT '',
    phone             text        NOT NULL,
    email             text        NOT NULL,
    checksum_override boolean     NOT NULL DEFAULT false,
    CHECK (kind = 'person' OR length(legal_rep) > 0)
);
CREATE UNIQUE INDEX bidders_id_number_key ON bidders (id_number);

-- Sessions of browsers (cookie) and API clients (bearer token). Only the
-- SHA-256 of a token is stored, so a leaked table opens no session.
CREATE TABLE sessions (
    token_hash   bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id   bigint      NOT NULL REFERENCES accounts (id),
    kind         text        NOT NULL CHECK (kind IN ('web', 'api')),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    ip           text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_account_idx ON sessions (account_id);

-- The audit log: one row per state change, written in the same transaction
-- as the change, hash-chained so that an edited or deleted row is detected.
-- The log is 16 interleaved chains (a row's chain follows from its object),
-- so that concurrent writers queue on 16 heads instead of one.
CREATE TABLE audit_events (
    id          bigserial   PRIMARY KEY,
    chain       smallint    NOT NULL CHECK (chain BETWEEN 0 AND 15),
    occurred_at timestamptz NOT NULL,
    actor_id    bigint      REFERENCES accounts (id),
    actor       text        NOT NULL,
    role        text        NOT NULL,
    action      text        NOT NULL,
    object_type text        NOT NULL,
    object_id   text        NOT NULL,
    ip          text        NOT NULL DEFAULT '',
    summary     text        NOT NULL DEFAULT '',
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL UNIQUE
);
-- A chain has no forks: no two rows may follow the same predecessor.
CREATE UNIQUE INDEX audit_events_prev_hash_key ON audit_events (chain, prev_hash);
CREATE INDEX audit_events_chain_idx ON audit_events (chain, id);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id);

-- The head of each chain, locked by its writers (so a chain is appended in
-- order) and compared by `ggzy audit verify` (so a deleted tail is noticed).
CREATE TABLE audit_head (
    id        int    PRIMARY KEY CHECK (id BETWEEN 0 AND 15),
    last_id   bigint NOT NULL,
    last_hash text   NOT NULL,
    row_count bigint NOT NULL
);
INSERT INTO audit_head SELECT g, 0, repeat('0', 64), 0 FROM generate_series(0, 15) g;

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_events;
DROP TABLE sessions;
DROP TABLE bidders;
DROP TABLE accounts;
