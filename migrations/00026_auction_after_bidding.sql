-- +goose Up
-- What happens to an online lot after its bidding and before its deal
-- (bidding/auction, issue 15 §2 and P7), and the quote rate limit shared by
-- every instance (issue 15 §10).
--
-- 资格后审 (post-qualification): a lot may admit bidders on a paid deposit
-- alone; the agent then checks the winner's qualification after the bidding.
-- If it fails, the lot does what its notice says: 'next' (the next bidder,
-- checked in turn) or 'no_sale' (流拍). '' is pre-qualification (资格前审:
-- the agent approves applications before anyone bids).
-- 优先购买权 (P7): a property lot may name the holder of a priority right
-- by its unified social credit code or resident id; after the bidding the
-- holder may buy at the final price within P7.priority_seconds.
ALTER TABLE lots
    ADD COLUMN post_qualification text NOT NULL DEFAULT ''
        CHECK (post_qualification IN ('', 'next', 'no_sale')),
    ADD COLUMN priority_holder text NOT NULL DEFAULT ''
        CHECK (priority_holder ~ '^([0-9A-Z]{18})?$');

ALTER TABLE auction_lots
    ADD COLUMN post_qualification text NOT NULL DEFAULT ''
        CHECK (post_qualification IN ('', 'next', 'no_sale')),
    ADD COLUMN priority_holder text NOT NULL DEFAULT '',
    ADD COLUMN priority_s integer NOT NULL DEFAULT 0 CHECK (priority_s >= 0),
    -- qualifying / priority: the bidder the lot would go to, at what price.
    ADD COLUMN candidate_reg bigint REFERENCES registrations (id),
    ADD COLUMN candidate_price numeric(18,2) CHECK (candidate_price > 0);
-- qualifying: the agent checks the candidate (资格后审); priority: the
-- holder's window (P7), its end in countdown_end.
ALTER TABLE auction_lots DROP CONSTRAINT auction_lots_state_check;
ALTER TABLE auction_lots ADD CONSTRAINT auction_lots_state_check
    CHECK (state IN ('open', 'timed', 'capped', 'qualifying', 'priority', 'suspended', 'settled'));
ALTER TABLE auction_lots ADD CONSTRAINT auction_lots_candidate_check
    CHECK ((state IN ('qualifying', 'priority')) = (candidate_reg IS NOT NULL AND candidate_price IS NOT NULL));
ALTER TABLE auction_lots ADD CONSTRAINT auction_lots_priority_end_check
    CHECK (state <> 'priority' OR countdown_end IS NOT NULL);
CREATE INDEX auction_lots_priority_due ON auction_lots (countdown_end) WHERE state = 'priority';

-- The agent's checks of candidates' qualification, one per registration.
CREATE TABLE auction_qualifications (
    lot_id          bigint NOT NULL REFERENCES auction_lots (lot_id),
    registration_id bigint NOT NULL REFERENCES auction_bidders (registration_id),
    passed          boolean NOT NULL,
    reason          text NOT NULL DEFAULT '',
    checked_by      bigint NOT NULL REFERENCES accounts (id),
    checked_at      timestamptz NOT NULL,
    PRIMARY KEY (lot_id, registration_id),
    CHECK (passed OR length(reason) > 0)
);

ALTER TABLE auction_log DROP CONSTRAINT auction_log_kind_check;
ALTER TABLE auction_log ADD CONSTRAINT auction_log_kind_check CHECK (kind IN ('opened', 'quote', 'refused', 'restart', 'timed',
    'capped', 'suspended', 'resumed', 'frozen', 'wants_timed', 'settled',
    'qualifying', 'qualified', 'disqualified', 'priority', 'priority_exercised', 'priority_waived', 'priority_lapsed'));

-- L8.max_quotes_per_second across instances: each quote adds one to its
-- bidder's row for the lot and the second of ggzy_now() it arrives in, and
-- is refused above the limit. keys holds the idempotency keys counted (at
-- most the limit): the same quote sent twice in a second (a double click)
-- counts once. Unlogged: a crash forgets at most the current second. Rows
-- older than a minute are pruned by the settlement ticker.
CREATE UNLOGGED TABLE auction_quote_rate (
    lot_id    bigint NOT NULL,
    bidder_id bigint NOT NULL,
    sec       timestamptz NOT NULL,
    n         integer NOT NULL,
    keys      text[] NOT NULL,
    PRIMARY KEY (lot_id, bidder_id, sec)
);
CREATE INDEX auction_quote_rate_sec ON auction_quote_rate (sec);

-- +goose Down
DROP TABLE auction_quote_rate;
DELETE FROM auction_log WHERE kind IN ('qualifying', 'qualified', 'disqualified', 'priority', 'priority_exercised',
    'priority_waived', 'priority_lapsed');
ALTER TABLE auction_log DROP CONSTRAINT auction_log_kind_check;
ALTER TABLE auction_log ADD CONSTRAINT auction_log_kind_check CHECK (kind IN ('opened', 'quote', 'refused', 'restart', 'timed',
    'capped', 'suspended', 'resumed', 'frozen', 'wants_timed', 'settled'));
DROP TABLE auction_qualifications;
DROP INDEX auction_lots_priority_due;
ALTER TABLE auction_lots DROP CONSTRAINT auction_lots_priority_end_check;
ALTER TABLE auction_lots DROP CONSTRAINT auction_lots_candidate_check;
-- A lot awaiting its check or the priority right is not reopened (its close
-- has passed, and the ticker would sell it to the best bidder unchecked):
-- it is suspended, for supervisors to decide.
UPDATE auction_lots SET state = 'suspended', suspended_at = now(), suspended_state = 'open',
    suspend_reason = '系统回退：待资格后审或优先购买权的标的中止，由交易中心处理'
    WHERE state IN ('qualifying', 'priority');
ALTER TABLE auction_lots DROP CONSTRAINT auction_lots_state_check;
ALTER TABLE auction_lots ADD CONSTRAINT auction_lots_state_check
    CHECK (state IN ('open', 'timed', 'capped', 'suspended', 'settled'));
ALTER TABLE auction_lots DROP COLUMN candidate_price, DROP COLUMN candidate_reg, DROP COLUMN priority_s,
    DROP COLUMN priority_holder, DROP COLUMN post_qualification;
ALTER TABLE lots DROP COLUMN priority_holder, DROP COLUMN post_qualification;
