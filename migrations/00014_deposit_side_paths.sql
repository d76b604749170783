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

-- +goose Down
DROP VIEW deposit_positions;
