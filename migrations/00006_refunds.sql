-- +goose Up
-- Refunds of deposits (退还保证金). One refund per inflow, ever: the money
-- that came in once goes back once, to where the rule says (the bidder, or
-- the payer of an invalid payment). Interest (D5, D8) is fixed when the
-- refund goes into a batch, as of that day.
CREATE TABLE refund_batches (
    id         bigserial   PRIMARY KEY,
    created_at timestamptz NOT NULL,
    created_by bigint      REFERENCES accounts (id),
    refunds    int         NOT NULL CHECK (refunds > 0),
    total      numeric(18,2) NOT NULL CHECK (total > 0)
);

CREATE TABLE refunds (
    id            bigserial     PRIMARY KEY,
    inflow_id     bigint        NOT NULL UNIQUE REFERENCES inflows (id),
    rule          text          NOT NULL,
    reason        text          NOT NULL,
    with_interest boolean       NOT NULL,
    payee_name    text          NOT NULL,
    payee_account text          NOT NULL,
    payee_bank    text          NOT NULL DEFAULT '',
    principal     numeric(18,2) NOT NULL CHECK (principal > 0),
    interest      numeric(18,2) NOT NULL DEFAULT 0 CHECK (interest >= 0),
    due_on        date          NOT NULL,
    status        text          NOT NULL CHECK (status IN ('pending', 'sent', 'paid', 'failed')),
    batch_id      bigint        REFERENCES refund_batches (id),
    failed_reason text          NOT NULL DEFAULT '',
    created_at    timestamptz   NOT NULL,
    paid_at       timestamptz,
    -- in a batch exactly while sent or paid: never in two live batches
    CHECK ((status IN ('sent', 'paid')) = (batch_id IS NOT NULL)),
    CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
CREATE INDEX refunds_status_idx ON refunds (status, due_on);

-- Every refund batch attempt of a refund, for the history of a failure.
CREATE TABLE refund_batch_items (
    batch_id  bigint NOT NULL REFERENCES refund_batches (id),
    refund_id bigint NOT NULL REFERENCES refunds (id),
    amount    numeric(18,2) NOT NULL CHECK (amount > 0),
    outcome   text   NOT NULL DEFAULT 'sent' CHECK (outcome IN ('sent', 'paid', 'failed')),
    PRIMARY KEY (batch_id, refund_id)
);

-- A journal posts once: the same posting twice is a constraint error,
-- so a refund confirmed twice moves no money twice.
CREATE UNIQUE INDEX ledger_entries_posting_key ON ledger_entries (journal_id, account);

-- +goose Down
DROP INDEX ledger_entries_posting_key;
DROP TABLE refund_batch_items;
DROP TABLE refunds;
DROP TABLE refund_batches;
