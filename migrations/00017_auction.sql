-- +goose Up
-- Online bidding for land and property (bidding/auction): 网上挂牌、限时竞价、网络竞价.
--
-- A lot's bidding mode is chosen when the project is created (issue 15 §1):
-- land 'listing' (挂牌) or 'auction' (拍卖), property 'multi' (多次报价) or
-- 'sealed' (一次报价), or 'offline' (sold off the platform: only then may the
-- agent type the deal). '' is a lot of another category (or an old lot).
ALTER TABLE lots
    ADD COLUMN bidding_mode text NOT NULL DEFAULT ''
        CHECK (bidding_mode IN ('', 'listing', 'auction', 'multi', 'sealed', 'offline')),
    ADD COLUMN price_cap numeric(18,2) CHECK (price_cap > 0),           -- L15 最高限价, per lot
    ADD COLUMN increment_multiple boolean NOT NULL DEFAULT false;      -- L8: quotes in whole increments

-- One row per lot bid online, created when its opening notice is published.
-- Its row lock (FOR NO KEY UPDATE) serialises every quote, countdown end and suspension of the
-- lot; ggzy_now() read under that lock decides (migration 00016).
CREATE TABLE auction_lots (
    lot_id             bigint PRIMARY KEY REFERENCES lots (id),
    mode               text NOT NULL CHECK (mode IN ('listing', 'auction', 'multi', 'sealed')),
    -- open: listing / free-quote / sealed period; timed: 限时竞价 countdown;
    -- capped: L15 second criterion (one sealed value each); suspended: L13
    -- (or frozen by a late settlement); settled: done.
    state              text NOT NULL CHECK (state IN ('open', 'timed', 'capped', 'suspended', 'settled')),
    opens_at           timestamptz NOT NULL,
    closes_at          timestamptz NOT NULL,  -- end of the open period, moved by L13
    last_hour_s        integer NOT NULL CHECK (last_hour_s >= 0),   -- L12
    countdown_s        integer NOT NULL CHECK (countdown_s > 0),    -- L11 / P7
    cap_period_s       integer NOT NULL CHECK (cap_period_s > 0),   -- L15 second criterion
    countdown_end      timestamptz,                                 -- timed / capped: the end
    start_price        numeric(18,2) NOT NULL CHECK (start_price > 0),
    increment          numeric(18,2) CHECK (increment > 0),
    increment_multiple boolean NOT NULL DEFAULT false,
    price_cap          numeric(18,2) CHECK (price_cap > 0),
    highest            numeric(18,2),
    highest_reg        bigint REFERENCES registrations (id),
    quotes             integer NOT NULL DEFAULT 0,
    suspended_at       timestamptz,
    suspended_state    text CHECK (suspended_state IN ('open', 'timed', 'capped')),
    suspend_reason     text NOT NULL DEFAULT '',
    settled_at         timestamptz,
    outcome            text CHECK (outcome IN ('sold', 'no_sale')),
    winner_reg         bigint REFERENCES registrations (id),
    deal_price         numeric(18,2),
    no_sale_reason     text NOT NULL DEFAULT '',
    record_key         text,
    record_sha256      text,
    CHECK ((state = 'suspended') = (suspended_at IS NOT NULL AND suspended_state IS NOT NULL)),
    CHECK ((state = 'settled') = (settled_at IS NOT NULL AND outcome IS NOT NULL)),
    CHECK ((outcome = 'sold') = (winner_reg IS NOT NULL AND deal_price IS NOT NULL)),
    CHECK (state NOT IN ('timed', 'capped') OR countdown_end IS NOT NULL)
);
CREATE INDEX auction_lots_due ON auction_lots (countdown_end) WHERE state IN ('timed', 'capped');
CREATE INDEX auction_lots_open ON auction_lots (closes_at) WHERE state = 'open';

-- 竞买号牌: a random code per qualified bidder and lot (A2: codes, never names).
CREATE TABLE auction_bidders (
    registration_id bigint PRIMARY KEY REFERENCES registrations (id),
    lot_id          bigint NOT NULL REFERENCES auction_lots (lot_id),
    code            text NOT NULL CHECK (code ~ '^[0-9]{6}$'),
    wants_timed_at  timestamptz,           -- L10: wants to go on to timed bidding
    created_at      timestamptz NOT NULL,
    UNIQUE (lot_id, code)
);

-- Accepted quotes; id is the database's acceptance order (L16).
CREATE TABLE auction_quotes (
    id              bigserial PRIMARY KEY,
    lot_id          bigint NOT NULL REFERENCES auction_lots (lot_id),
    registration_id bigint NOT NULL REFERENCES auction_bidders (registration_id),
    phase           text NOT NULL CHECK (phase IN ('open', 'timed', 'sealed', 'capped')),
    amount          numeric(18,2) NOT NULL CHECK (amount > 0),
    at              timestamptz NOT NULL,
    idem_key        text NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 64),
    ip              text NOT NULL DEFAULT '',
    device          text NOT NULL DEFAULT '',
    UNIQUE (registration_id, idem_key)
);
CREATE INDEX auction_quotes_lot ON auction_quotes (lot_id, id);
-- 一次报价 and the L15 second criterion: one quote each.
CREATE UNIQUE INDEX auction_quotes_once ON auction_quotes (registration_id, phase) WHERE phase IN ('sealed', 'capped');

-- The bidding record (竞价记录): every quote accepted or refused (with the
-- rule), countdown restarts, phase changes, suspensions, the settlement. In
-- order of id; codes, never names.
CREATE TABLE auction_log (
    id        bigserial PRIMARY KEY,
    lot_id    bigint NOT NULL REFERENCES auction_lots (lot_id),
    at        timestamptz NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('opened', 'quote', 'refused', 'restart', 'timed', 'capped', 'suspended',
                                            'resumed', 'frozen', 'wants_timed', 'settled')),
    code      text NOT NULL DEFAULT '',
    amount    numeric(18,2),
    rule      text NOT NULL DEFAULT '',
    detail    text NOT NULL DEFAULT '',
    idem_key  text NOT NULL DEFAULT '',
    until     timestamptz                -- restart/timed/resumed: the new end
);
CREATE INDEX auction_log_lot ON auction_log (lot_id, id);

-- +goose Down
DROP TABLE auction_log;
DROP TABLE auction_quotes;
DROP TABLE auction_bidders;
DROP TABLE auction_lots;
ALTER TABLE lots DROP COLUMN increment_multiple, DROP COLUMN price_cap, DROP COLUMN bidding_mode;
