-- +goose Up
-- Unified online registration (统一网上报名): one row per bidder per lot.
-- What it means depends on the category (RULES.md K5): for engineering,
-- obtaining the documents is the registration (kind 'download'); for
-- procurement a registration with declarations; for land and property a
-- bidding application (竞买申请) the agent approves or rejects.
CREATE TABLE registrations (
    id            bigserial   PRIMARY KEY,
    lot_id        bigint      NOT NULL REFERENCES lots (id),
    bidder_id     bigint      NOT NULL REFERENCES accounts (id),
    kind          text        NOT NULL CHECK (kind IN ('download', 'registration', 'application')),
    status        text        NOT NULL CHECK (status IN ('active', 'pending', 'approved', 'rejected', 'withdrawn')),
    contact_name  text        NOT NULL DEFAULT '',
    contact_phone text        NOT NULL DEFAULT '',
    declarations  jsonb,
    reject_reason text        NOT NULL DEFAULT '',
    reviewed_by   bigint      REFERENCES accounts (id),
    reviewed_at   timestamptz,
    withdrawn_at  timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (lot_id, bidder_id),
    CHECK ((status = 'withdrawn') = (withdrawn_at IS NOT NULL)),
    CHECK (status <> 'rejected' OR length(reject_reason) > 0)
);
CREATE INDEX registrations_bidder_idx ON registrations (bidder_id, id DESC);

-- Documents of a lot in MinIO: the tender documents and drawings
-- (招标文件/采购文件/出让文件), clarifications (澄清/修改) and the materials
-- of an application. version is the lot's document-set version: 1 for the
-- originals, one more for each clarification. A document is visible to
-- bidders once released: the originals with the opening notice, a
-- clarification with its amendment notice.
CREATE TABLE documents (
    id              bigserial   PRIMARY KEY,
    lot_id          bigint      NOT NULL REFERENCES lots (id),
    version         int         NOT NULL CHECK (version >= 1),
    kind            text        NOT NULL CHECK (kind IN ('tender', 'drawing', 'clarification', 'material')),
    registration_id bigint      REFERENCES registrations (id),
    replaces_id     bigint      REFERENCES documents (id),
    filename        text        NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type    text        NOT NULL,
    size            bigint      NOT NULL CHECK (size >= 0),
    sha256          text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    object_key      text        NOT NULL UNIQUE,
    uploaded_by     bigint      NOT NULL REFERENCES accounts (id),
    created_at      timestamptz NOT NULL,
    released_at     timestamptz,
    CHECK ((kind = 'material') = (registration_id IS NOT NULL))
);
CREATE INDEX documents_lot_idx ON documents (lot_id, version, id);

-- Every download: who, which document (so which version), when, from where.
CREATE TABLE downloads (
    id          bigserial   PRIMARY KEY,
    document_id bigint      NOT NULL REFERENCES documents (id),
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    at          timestamptz NOT NULL,
    ip          text        NOT NULL DEFAULT ''
);
CREATE INDEX downloads_document_idx ON downloads (document_id);
CREATE INDEX downloads_account_idx ON downloads (account_id, document_id);

-- A person's notifications (a clarification of a lot they registered for).
CREATE TABLE notifications (
    id         bigserial   PRIMARY KEY,
    account_id bigint      NOT NULL REFERENCES accounts (id),
    title      text        NOT NULL,
    body       text        NOT NULL DEFAULT '',
    link       text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    read_at    timestamptz
);
CREATE INDEX notifications_account_idx ON notifications (account_id, id DESC);

-- +goose Down
DROP TABLE notifications;
DROP TABLE downloads;
DROP TABLE documents;
DROP TABLE registrations;
