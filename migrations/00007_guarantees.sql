-- +goose Up
-- Guarantees (保函) offered instead of a cash deposit: a bank guarantee
-- (银行保函), a guarantee insurance policy (保证保险) or an electronic
-- guarantee (电子保函). Centres must accept them as well as cash and may not
-- name the issuer (D9); procurement deposits are non-cash only (G5). The
-- agent or a supervisor verifies one; once verified it counts as the deposit.
CREATE TABLE guarantees (
    id              bigserial     PRIMARY KEY,
    registration_id bigint        NOT NULL REFERENCES registrations (id),
    kind            text          NOT NULL CHECK (kind IN ('bank', 'insurance', 'electronic')),
    number          text          NOT NULL CHECK (length(number) BETWEEN 1 AND 100),
    issuer          text          NOT NULL CHECK (length(issuer) BETWEEN 1 AND 200),
    amount          numeric(18,2) NOT NULL CHECK (amount > 0),
    valid_from      date,
    valid_until     date          NOT NULL,
    document_id     bigint        REFERENCES documents (id),
    status          text          NOT NULL CHECK (status IN ('submitted', 'verified', 'rejected', 'released')),
    reject_reason   text          NOT NULL DEFAULT '',
    reviewed_by     bigint        REFERENCES accounts (id),
    reviewed_at     timestamptz,
    created_at      timestamptz   NOT NULL,
    -- The same guarantee cannot be offered twice.
    CONSTRAINT guarantees_issuer_number_key UNIQUE (issuer, number),
    CHECK (valid_from IS NULL OR valid_from <= valid_until),
    CHECK (status <> 'rejected' OR length(reject_reason) > 0),
    CHECK ((status IN ('verified', 'rejected')) <= (reviewed_at IS NOT NULL))
);
-- A registration has at most one live (submitted or verified) guarantee.
CREATE UNIQUE INDEX guarantees_live_key ON guarantees (registration_id) WHERE status IN ('submitted', 'verified');
CREATE INDEX guarantees_registration_idx ON guarantees (registration_id, id DESC);

-- +goose Down
DROP TABLE guarantees;
