-- +goose Up
-- Sealed bids (电子投标, EB1–EB3): the bidders' bid keys, the versions of
-- each bid with their sealed parts in the object store, and the lots whose
-- bids stay on paper.

-- A bidder's public bid key (P-256, SPKI DER in base64). The private key
-- never reaches the platform: it lives in the bidder's passphrase-protected
-- key file. One current key per bidder; rotating revokes the old one, and a
-- bid stays bound to the key it was sealed to (sealed_bids.key_id).
CREATE TABLE bid_keys (
    id            bigserial PRIMARY KEY,
    bidder_id     bigint NOT NULL REFERENCES accounts(id),
    public_key    text NOT NULL CHECK (length(public_key) BETWEEN 80 AND 200),
    fingerprint   text NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    created_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text NOT NULL DEFAULT '' CHECK (length(revoke_reason) <= 200)
);
CREATE UNIQUE INDEX bid_keys_current ON bid_keys (bidder_id) WHERE revoked_at IS NULL;

-- One version of one bidder's bid for a lot. id and ref are random, never
-- a sequence: a bidder who sees its own id must learn nothing of how many
-- others bid (K4/K5). A version is 'uploading' until finalised before the
-- deadline (ggzy_now() stamps finalised_at, EB2); a newer version replaces
-- it, a withdrawal ends it, and an upload still unfinished at the deadline
-- counts as withdrawn ('abandoned').
CREATE TABLE sealed_bids (
    id              bigint PRIMARY KEY CHECK (id > 0),
    ref             text NOT NULL UNIQUE CHECK (ref ~ '^[A-Za-z0-9._:/-]{1,128}$'),
    lot_id          bigint NOT NULL REFERENCES lots(id),
    bidder_id       bigint NOT NULL REFERENCES accounts(id),
    registration_id bigint NOT NULL REFERENCES registrations(id),
    key_id          bigint NOT NULL REFERENCES bid_keys(id),
    version         int NOT NULL CHECK (version > 0),
    status          text NOT NULL CHECK (status IN ('uploading', 'submitted', 'replaced', 'withdrawn', 'abandoned')),
    parts           int NOT NULL CHECK (parts BETWEEN 2 AND 21),
    started_at      timestamptz NOT NULL,
    finalized_at    timestamptz,
    ended_at        timestamptz,
    receipt         jsonb,
    ip              text NOT NULL DEFAULT '',
    device          text NOT NULL DEFAULT '' CHECK (length(device) <= 128),
    UNIQUE (lot_id, bidder_id, version),
    CHECK (status <> 'submitted' OR (finalized_at IS NOT NULL AND receipt IS NOT NULL AND ended_at IS NULL)),
    CHECK (status NOT IN ('uploading', 'abandoned') OR finalized_at IS NULL),
    CHECK ((status IN ('uploading', 'submitted')) = (ended_at IS NULL))
);
-- At most one submitted version and one upload in progress per bidder and lot.
CREATE UNIQUE INDEX sealed_bids_submitted ON sealed_bids (lot_id, bidder_id) WHERE status = 'submitted';
CREATE UNIQUE INDEX sealed_bids_uploading ON sealed_bids (lot_id, bidder_id) WHERE status = 'uploading';
CREATE INDEX sealed_bids_lot ON sealed_bids (lot_id, status);

-- A sealed part of a bid version: part 0 is the price form (开标一览表),
-- 1..n the bid files. Each is one envelope (bidding/sealed/FORMAT.md),
-- uploaded piece by piece into one MinIO multipart upload (upload_id) and
-- inspected without a key when complete (EB1).
CREATE TABLE sealed_parts (
    bid_id       bigint NOT NULL REFERENCES sealed_bids(id),
    part         int NOT NULL CHECK (part BETWEEN 0 AND 20),
    kind         text NOT NULL CHECK (kind IN ('price', 'file')),
    object_key   text NOT NULL UNIQUE,
    upload_id    text NOT NULL DEFAULT '',
    size         bigint CHECK (size > 0),
    sha256       text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    commitment   text CHECK (commitment ~ '^[0-9a-f]{64}$'),
    completed_at timestamptz,
    PRIMARY KEY (bid_id, part),
    CHECK ((part = 0) = (kind = 'price')),
    CHECK ((completed_at IS NULL) = (sha256 IS NULL) AND (sha256 IS NULL) = (commitment IS NULL) AND (sha256 IS NULL) = (size IS NULL))
);

-- Lots whose bids are handed in on paper (declared by the agent): only
-- they keep the manual opening form.
CREATE TABLE paper_bid_lots (
    lot_id      bigint PRIMARY KEY REFERENCES lots(id),
    declared_by bigint NOT NULL REFERENCES accounts(id),
    declared_at timestamptz NOT NULL,
    reason      text NOT NULL CHECK (length(reason) BETWEEN 2 AND 200)
);

-- +goose Down
DROP TABLE paper_bid_lots;
DROP TABLE sealed_parts;
DROP TABLE sealed_bids;
DROP TABLE bid_keys;
