-- +goose Up
-- Deposits (保证金) collected through virtual sub-accounts (虚拟子账号) of the
-- centre's deposit account. A number is handed out once from a sequence and
-- never again; its check digit (Luhn) catches a mistyped number.
CREATE SEQUENCE virtual_account_seq;
CREATE TABLE virtual_accounts (
    id              bigserial     PRIMARY KEY,
    number          text          NOT NULL UNIQUE CHECK (number ~ '^[0-9]{12,30}$'),
    registration_id bigint        NOT NULL UNIQUE REFERENCES registrations (id),
    lot_id          bigint        NOT NULL REFERENCES lots (id),
    bidder_id       bigint        NOT NULL REFERENCES accounts (id),
    required        numeric(18,2) NOT NULL CHECK (required > 0),
    deadline        timestamptz   NOT NULL,
    created_at      timestamptz   NOT NULL
);
CREATE INDEX virtual_accounts_lot_idx ON virtual_accounts (lot_id);

-- Every credit the bank reports, once: the bank's transaction id is unique,
-- so a replayed webhook or a re-imported file changes nothing. No inflow is
-- dropped: one that matches no virtual account waits in suspense.
CREATE TABLE inflows (
    id                 bigserial     PRIMARY KEY,
    bank_txn_id        text          NOT NULL UNIQUE CHECK (length(bank_txn_id) BETWEEN 1 AND 64),
    source             text          NOT NULL CHECK (source IN ('statement', 'webhook', 'manual')),
    value_time         timestamptz   NOT NULL,
    account_number     text          NOT NULL,
    virtual_account_id bigint        REFERENCES virtual_accounts (id),
    payer_name         text          NOT NULL,
    payer_account      text          NOT NULL,
    payer_bank         text          NOT NULL DEFAULT '',
    amount             numeric(18,2) NOT NULL CHECK (amount > 0),
    currency           text          NOT NULL CHECK (currency = 'CNY'),
    memo               text          NOT NULL DEFAULT '',
    status             text          NOT NULL CHECK (status IN ('held', 'late', 'third_party', 'suspense',
                                         'refunded', 'forfeited', 'converted', 'returned')),
    reason             text          NOT NULL DEFAULT '',
    created_at         timestamptz   NOT NULL,
    created_by         bigint        REFERENCES accounts (id),
    CHECK ((status = 'suspense') = (virtual_account_id IS NULL) OR status = 'returned')
);
CREATE INDEX inflows_va_idx ON inflows (virtual_account_id);
CREATE INDEX inflows_payer_idx ON inflows (payer_account);
CREATE INDEX inflows_status_idx ON inflows (status, id DESC);

-- Lines of a statement, webhook or manual entry on their way in: each batch
-- is matched by one set-based statement and then deleted.
CREATE UNLOGGED TABLE inflow_staging (
    batch_id       bigint        NOT NULL,
    line           int           NOT NULL,
    bank_txn_id    text          NOT NULL,
    value_time     timestamptz   NOT NULL,
    account_number text          NOT NULL,
    payer_name     text          NOT NULL,
    payer_account  text          NOT NULL,
    payer_bank     text          NOT NULL,
    amount         numeric(18,2) NOT NULL,
    memo           text          NOT NULL
);
CREATE INDEX inflow_staging_batch_idx ON inflow_staging (batch_id);
CREATE SEQUENCE inflow_batch_seq;

-- Alerts for the supervisors: K1 (deposits of different bidders of one lot
-- paid from the same account: deemed collusion, 实施条例第四十条).
CREATE TABLE deposit_alerts (
    id            bigserial   PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('K1')),
    lot_id        bigint      NOT NULL REFERENCES lots (id),
    payer_account text        NOT NULL,
    detail        text        NOT NULL,
    created_at    timestamptz NOT NULL,
    resolved_at   timestamptz,
    resolved_by   bigint      REFERENCES accounts (id),
    UNIQUE (kind, lot_id, payer_account)
);

-- The double-entry journal of the deposit account. Every posting (journal)
-- sums to zero: debits positive, credits negative. Accounts: 'bank' (the
-- money at the bank), 'va:<number>' (what the centre owes a bidder),
-- 'suspense' (owed to an unknown payer), and later refunds, interest,
-- forfeiture and conversion.
CREATE TABLE ledger_entries (
    id         bigserial     PRIMARY KEY,
    journal_id text          NOT NULL, -- what the posting is: 'inflow:<id>', 'refund:<id>', …
    at         timestamptz   NOT NULL,
    account    text          NOT NULL,
    amount     numeric(18,2) NOT NULL CHECK (amount <> 0),
    -- No foreign key: a million-line statement posts two million entries,
    -- and a per-row check costs more than the import itself. journal_id
    -- names the inflow, and `ggzy deposits verify` ties every account to
    -- its inflows.
    inflow_id  bigint,
    memo       text          NOT NULL DEFAULT ''
);
-- (journal_id, account) is unique (00006); verification reads it whole.

-- +goose Down
DROP TABLE ledger_entries;
DROP TABLE deposit_alerts;
DROP SEQUENCE inflow_batch_seq;
DROP TABLE inflow_staging;
DROP TABLE inflows;
DROP TABLE virtual_accounts;
DROP SEQUENCE virtual_account_seq;
