-- +goose Up
-- The same-origin probe (K1/K3) of an accepted quote: the other codes that
-- quoted on the lot from the quote's address or device before it, "、"-joined.
-- A function, VOLATILE, so that each call takes a fresh snapshot (READ
-- COMMITTED): called in the one statement that takes a common quote
-- (bidding/auction/fast.go) after the lot's row lock was granted, it sees
-- every quote accepted while the statement waited for that lock, which the
-- statement's own snapshot, taken before the wait, does not. The locked path
-- (writeQuote in bidding/auction/quote.go) calls it too, after its lock.
-- +goose StatementBegin
CREATE FUNCTION auction_same_origin(p_lot bigint, p_reg bigint, p_ip text, p_device text, p_quote bigint) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT COALESCE((SELECT string_agg(DISTINCT b.code, '、' ORDER BY b.code)
        FROM auction_quotes o JOIN auction_bidders b ON b.registration_id = o.registration_id
        WHERE o.lot_id = p_lot AND o.registration_id <> p_reg AND ((o.ip <> '' AND o.ip = p_ip) OR (o.device <> '' AND o.device = p_device))
            AND o.id < p_quote), '')
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION auction_same_origin(bigint, bigint, text, text, bigint);
