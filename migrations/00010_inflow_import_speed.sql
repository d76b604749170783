-- +goose Up
-- Inflows of a large statement go in faster (issue 5, BENCHMARKS.md):
--
-- * batch_id names the import (or webhook, or manual entry) that booked
--   each inflow. A statement is matched chunk by chunk inside one
--   transaction; an inflow of the batch itself must not count as "already
--   booked" for a later chunk, or a transaction id repeated with different
--   content in one file would slip through. No foreign key: there is no
--   batch table, the audit record 'inflow_batch' of the same id says who
--   imported it and what it held.
-- * created_by is now set only for a manual entry (one row, one check).
--   For a statement the importer is in that audit record: a per-row
--   foreign key check on a million lines cost about 4 s.
-- * The payer and virtual-account indexes leave out money that matched no
--   virtual account: K1 and the deposit pages look at matched money only,
--   and suspense lines are searched by the status index.
-- * The status index runs by id ascending: a new inflow goes at the end of
--   its status's range instead of splitting the first page of it (a
--   backward scan serves "newest first" just as well).
ALTER TABLE inflows ADD COLUMN batch_id bigint;
DROP INDEX inflows_va_idx;
DROP INDEX inflows_payer_idx;
DROP INDEX inflows_status_idx;
CREATE INDEX inflows_va_idx ON inflows (virtual_account_id) WHERE virtual_account_id IS NOT NULL;
CREATE INDEX inflows_payer_idx ON inflows (payer_account) WHERE virtual_account_id IS NOT NULL;
CREATE INDEX inflows_status_idx ON inflows (status, id);

-- A statement's staged lines, classified by the connection that stages
-- them while the matching transaction books earlier chunks: the booking
-- itself is then a plain insert. Lines already booked are left out.
CREATE UNLOGGED TABLE inflow_classified (
    chunk_id           bigint        NOT NULL,
    line               int           NOT NULL,
    bank_txn_id        text          NOT NULL,
    value_time         timestamptz   NOT NULL,
    account_number     text          NOT NULL,
    virtual_account_id bigint,
    payer_name         text          NOT NULL,
    payer_account      text          NOT NULL,
    payer_bank         text          NOT NULL,
    amount             numeric(18,2) NOT NULL,
    memo               text          NOT NULL,
    status             text          NOT NULL,
    reason             text          NOT NULL
);
CREATE INDEX inflow_classified_chunk_idx ON inflow_classified (chunk_id);

-- +goose Down
DROP TABLE inflow_classified;
DROP INDEX inflows_status_idx;
DROP INDEX inflows_payer_idx;
DROP INDEX inflows_va_idx;
CREATE INDEX inflows_va_idx ON inflows (virtual_account_id);
CREATE INDEX inflows_payer_idx ON inflows (payer_account);
CREATE INDEX inflows_status_idx ON inflows (status, id DESC);
ALTER TABLE inflows DROP COLUMN batch_id;
