-- +goose Up
-- The online opening hall (不见面开标, EB4–EB9): one opening per lot, the
-- bids that came to it with their decryption outcome, and the objections
-- raised and answered there.
CREATE TABLE openings (
    lot_id          bigint PRIMARY KEY REFERENCES lots(id),
    host_id         bigint NOT NULL REFERENCES accounts(id),
    status          text NOT NULL CHECK (status IN ('decrypting', 'paused', 'revealed', 'concluded', 'failed')),
    started_at      timestamptz NOT NULL,
    window_minutes  int NOT NULL CHECK (window_minutes BETWEEN 5 AND 480),
    window_ends_at  timestamptz NOT NULL,
    paused_at       timestamptz,
    revealed_at     timestamptz,
    reveal_order    jsonb,          -- bid ids in the order drawn (唱标顺序)
    reveal_seed     text,           -- the random draw, hex, recorded
    concluded_at    timestamptz,
    record_key      text,           -- the opening record in the object store
    record_sha256   text CHECK (record_sha256 ~ '^[0-9a-f]{64}$'),
    CHECK ((status = 'paused') = (paused_at IS NOT NULL)),
    CHECK (status NOT IN ('revealed', 'concluded') OR (revealed_at IS NOT NULL AND reveal_order IS NOT NULL)),
    CHECK (status <> 'concluded' OR (concluded_at IS NOT NULL AND record_sha256 IS NOT NULL))
);

CREATE TABLE opening_bids (
    bid_id        bigint PRIMARY KEY REFERENCES sealed_bids(id),
    lot_id        bigint NOT NULL REFERENCES openings(lot_id),
    bidder_id     bigint NOT NULL REFERENCES accounts(id),
    signed_in_at  timestamptz,
    outcome       text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'decrypted', 'backup', 'revoked', 'withdrawn')),
    outcome_at    timestamptz,
    reason        text NOT NULL DEFAULT '',
    failures      int NOT NULL DEFAULT 0,
    price         numeric(18,2) CHECK (price > 0),
    items         jsonb,          -- the price form as the bidder sealed it
    parts         jsonb,          -- per part: plaintext sha256, size, name, metadata
    confirmed_at  timestamptz,
    UNIQUE (lot_id, bidder_id),
    CHECK ((outcome IN ('decrypted', 'backup')) = (price IS NOT NULL)),
    CHECK ((outcome = 'pending') = (outcome_at IS NULL))
);

CREATE TABLE opening_objections (
    id          bigserial PRIMARY KEY,
    lot_id      bigint NOT NULL REFERENCES openings(lot_id),
    bidder_id   bigint NOT NULL REFERENCES accounts(id),
    text        text NOT NULL CHECK (length(text) BETWEEN 2 AND 1000),
    raised_at   timestamptz NOT NULL,
    answer      text CHECK (length(answer) BETWEEN 2 AND 1000),
    answered_at timestamptz,
    CHECK ((answer IS NULL) = (answered_at IS NULL))
);

-- +goose Down
DROP TABLE opening_objections;
DROP TABLE opening_bids;
DROP TABLE openings;
