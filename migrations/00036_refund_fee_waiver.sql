-- +goose Up
-- G7 (财政部令第87号第三十八条) owes the occupation fee on a late procurement
-- refund, "except where the supplier's own cause kept it from being refunded
-- in time". The platform cannot tell that by itself: a supervisor records the
-- period the supplier's cause lasted (from a date, until a date or still
-- going) with the facts, while the refund is still to be sent, and the fee
-- leaves out those days (deposits.OccupationFeeExcept), shown and at
-- batching. A refund already in a batch has its fee fixed.
ALTER TABLE refunds
    ADD COLUMN fee_waived_from date,
    ADD COLUMN fee_waived_until date,
    ADD COLUMN fee_waiver text NOT NULL DEFAULT '',
    ADD COLUMN fee_waived_at timestamptz,
    ADD CONSTRAINT refunds_fee_waiver_whole CHECK ((fee_waived_from IS NULL) = (fee_waiver = '')
        AND (fee_waived_from IS NULL) = (fee_waived_at IS NULL) AND (fee_waived_from IS NOT NULL OR fee_waived_until IS NULL)),
    ADD CONSTRAINT refunds_fee_waiver_period CHECK (fee_waived_until IS NULL OR fee_waived_until > fee_waived_from);

-- +goose Down
ALTER TABLE refunds
    DROP CONSTRAINT refunds_fee_waiver_period,
    DROP CONSTRAINT refunds_fee_waiver_whole,
    DROP COLUMN fee_waived_at,
    DROP COLUMN fee_waiver,
    DROP COLUMN fee_waived_until,
    DROP COLUMN fee_waived_from;
