-- +goose Up
-- Where each inflow of a virtual account stands, decided once (issue 13):
-- the bidder's page, the supervisors' sheet and the check that a deposit
-- covers a registration all read this view (deposits/position.go).
--   position: held (valid, at the centre, no refund), refunding (a refund
--   opened, not paid), invalid (late or third party, owed to the payer),
--   refunded, returned, forfeited, converted.
--   counts: the money counts toward the deposit asked — valid money that
--   is held, forfeited (D7), converted into the price (L5), or refunded
--   after the result; never money a withdrawal's refund (D6) takes back,
--   nor an invalid payment.
CREATE VIEW deposit_positions AS
SELECT i.id AS inflow_id, i.virtual_account_id, i.amount, i.status,
    r.id AS refund_id, r.rule AS refund_rule, r.status AS refund_status,
    CASE WHEN i.status IN ('late', 'third_party') THEN 'invalid'
         WHEN i.status = 'held' AND r.id IS NOT NULL THEN 'refunding'
         ELSE i.status END AS position,
    (i.status IN ('held', 'refunded', 'forfeited', 'converted')
        AND coalesce(r.rule, '') NOT IN ('D6', 'INVALID')) AS counts
FROM inflows i LEFT JOIN refunds r ON r.inflow_id = i.id
WHERE i.virtual_account_id IS NOT NULL;

-- A bank notification or manual entry that repeats a booked transaction id
-- with different content is refused (409) and raises a DUPLICATE alert for
-- the supervisors (a statement file is refused whole, naming the line).
-- Its lot is known only when the booked money matched a virtual account.
-- K1 keeps one alert per lot and payer account; a DUPLICATE one per
-- transaction id and content offered.
ALTER TABLE deposit_alerts ADD COLUMN bank_txn_id text;
ALTER TABLE deposit_alerts ALTER COLUMN lot_id DROP NOT NULL;
ALTER TABLE deposit_alerts DROP CONSTRAINT deposit_alerts_kind_check;
ALTER TABLE deposit_alerts ADD CONSTRAINT deposit_alerts_kind_check CHECK (
    (kind = 'K1' AND lot_id IS NOT NULL AND bank_txn_id IS NULL) OR (kind = 'DUPLICATE' AND bank_txn_id IS NOT NULL));
ALTER TABLE deposit_alerts DROP CONSTRAINT deposit_alerts_kind_lot_id_payer_account_key;
CREATE UNIQUE INDEX deposit_alerts_k1_key ON deposit_alerts (kind, lot_id, payer_account) WHERE kind = 'K1';
CREATE UNIQUE INDEX deposit_alerts_duplicate_key ON deposit_alerts (bank_txn_id, detail) WHERE kind = 'DUPLICATE';

-- Which statement import staged each chunk (issue 13, item 9). An import
-- holds a session advisory lock on its id while it runs; staged and
-- classified lines of an import that no longer holds it (its process died)
-- are cleared at start-up and before every import
-- (deposits.Service.ClearAbandonedStaging). Unlogged like the staging it
-- describes: a database crash empties both.
CREATE UNLOGGED TABLE inflow_import_chunks (
    chunk_id  bigint PRIMARY KEY,
    import_id bigint NOT NULL
);
CREATE INDEX inflow_import_chunks_import_idx ON inflow_import_chunks (import_id);

-- +goose Down
DROP TABLE inflow_import_chunks;
DELETE FROM deposit_alerts WHERE kind <> 'K1';
DROP INDEX deposit_alerts_duplicate_key;
DROP INDEX deposit_alerts_k1_key;
ALTER TABLE deposit_alerts ADD CONSTRAINT deposit_alerts_kind_lot_id_payer_account_key UNIQUE (kind, lot_id, payer_account);
ALTER TABLE deposit_alerts DROP CONSTRAINT deposit_alerts_kind_check;
ALTER TABLE deposit_alerts ADD CONSTRAINT deposit_alerts_kind_check CHECK (kind IN ('K1'));
ALTER TABLE deposit_alerts ALTER COLUMN lot_id SET NOT NULL;
ALTER TABLE deposit_alerts DROP COLUMN bank_txn_id;
DROP VIEW deposit_positions;
