-- +goose Up
-- Whether a registration's deposit covered the lot's amount by its deadline
-- (issue 15 §2, L7), and the figures that say why: one definition, read by
-- deposits.Service.DepositCovered (which words the reason) and by the
-- quote's first statement (bidding/auction/outbid.go, beforeLock), so that
-- a qualified bidder's quote no longer takes a round trip of its own for
-- it. A guarantee counts when it was offered by the deadline, verified,
-- covers the amount and is valid on p_today (the centre's date); cash counts
-- when it is at the centre with no refund taking it back (deposit_positions)
-- and its value time is not after the deadline. STABLE and a single SELECT,
-- so PostgreSQL inlines it into the statement that calls it.
-- +goose StatementBegin
CREATE FUNCTION deposit_cover(p_reg bigint, p_today date)
RETURNS TABLE (covered boolean, required numeric, deadline timestamptz, va bigint,
    verified bigint, pending bigint, late_g bigint, in_time numeric, late numeric)
LANGUAGE sql STABLE AS $$
    SELECT l.deposit <= 0 OR (va.id IS NOT NULL AND va.deadline IS NOT NULL AND (g.verified > 0 OR c.in_time >= l.deposit)),
        l.deposit, va.deadline, va.id, g.verified, g.pending, g.late_g, c.in_time, c.late
    FROM registrations r JOIN lots l ON l.id = r.lot_id
    LEFT JOIN virtual_accounts va ON va.registration_id = r.id
    LEFT JOIN LATERAL (SELECT
            count(*) FILTER (WHERE status = 'verified' AND amount >= l.deposit AND valid_until >= p_today AND created_at <= va.deadline) AS verified,
            count(*) FILTER (WHERE status = 'submitted' AND created_at <= va.deadline) AS pending,
            count(*) FILTER (WHERE status IN ('submitted', 'verified') AND created_at > va.deadline) AS late_g
        FROM guarantees WHERE registration_id = r.id) g ON true
    LEFT JOIN LATERAL (SELECT
            COALESCE(sum(p.amount) FILTER (WHERE p.position = 'held' AND i.value_time <= va.deadline), 0) AS in_time,
            COALESCE(sum(p.amount) FILTER (WHERE i.status = 'late' OR (p.position = 'held' AND i.value_time > va.deadline)), 0) AS late
        FROM deposit_positions p JOIN inflows i ON i.id = p.inflow_id WHERE p.virtual_account_id = va.id) c ON true
    WHERE r.id = p_reg
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION deposit_cover(bigint, date);
