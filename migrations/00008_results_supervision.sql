-- +goose Up
-- Suspension (暂停) by a supervisor: registration, uploads and results stop
-- until it is lifted. The reason is shown to whoever is refused.
ALTER TABLE projects
    ADD COLUMN suspended_at   timestamptz,
    ADD COLUMN suspended_by   bigint REFERENCES accounts (id),
    ADD COLUMN suspend_reason text NOT NULL DEFAULT '',
    ADD CONSTRAINT projects_suspension_reason CHECK (suspended_at IS NULL OR length(suspend_reason) > 0);

-- The outcome of a lot in the terms of the savings report (trading): one
-- row per decided lot. base is the control price (engineering), budget
-- (procurement) or starting price (land, property); result the winning
-- price, contract amount or deal price. A failed or cancelled lot has
-- neither and is counted apart, never in a rate. decided_on places the lot
-- in a period: the Shanghai date of its result notice (or of the failure).
-- category and region_code are copies of the project's, so the yearly
-- report over a million lots is one scan of this table.
CREATE TABLE lot_outcomes (
    lot_id      bigint        PRIMARY KEY REFERENCES lots (id),
    project_id  bigint        NOT NULL REFERENCES projects (id),
    category    text          NOT NULL CHECK (category IN ('engineering', 'procurement', 'land', 'property')),
    region_code text          NOT NULL REFERENCES regions (code),
    status      text          NOT NULL CHECK (status IN ('completed', 'failed', 'cancelled')),
    rule        text          NOT NULL DEFAULT '',
    reason      text          NOT NULL DEFAULT '',
    base        numeric(18,2) CHECK (base > 0),
    result      numeric(18,2) CHECK (result > 0),
    decided_on  date          NOT NULL,
    updated_at  timestamptz   NOT NULL,
    CHECK ((status = 'completed') = (base IS NOT NULL AND result IS NOT NULL))
);
CREATE INDEX lot_outcomes_period_idx ON lot_outcomes (decided_on) INCLUDE (category, region_code, status, base, result);

-- The result workflow of a lot (bidding): opening record → failed, or
-- candidates (publicity notice) → award (result notice) → contract; for
-- land and property the deal (result notice) or no sale.
CREATE TABLE lot_results (
    lot_id               bigint        PRIMARY KEY REFERENCES lots (id),
    stage                text          NOT NULL CHECK (stage IN ('opened', 'failed', 'candidates', 'award', 'awarded', 'contracted', 'deal', 'sold', 'no_sale')),
    failed_rule          text          NOT NULL DEFAULT '',
    failed_reason        text          NOT NULL DEFAULT '',
    opened_at            timestamptz,
    candidates_notice_id bigint        REFERENCES announcements (id),
    publicity_end        timestamptz,
    winner_id            bigint        REFERENCES accounts (id),
    amount               numeric(18,2) CHECK (amount > 0),
    award_reason         text          NOT NULL DEFAULT '',
    result_notice_id     bigint        REFERENCES announcements (id),
    awarded_at           timestamptz,
    contract_date        date,
    contract_amount      numeric(18,2) CHECK (contract_amount > 0),
    contract_late        boolean       NOT NULL DEFAULT false,
    created_at           timestamptz   NOT NULL,
    updated_at           timestamptz   NOT NULL,
    CHECK (stage <> 'failed' OR length(failed_reason) > 0),
    CHECK ((stage IN ('awarded', 'contracted', 'sold')) <= (awarded_at IS NOT NULL AND winner_id IS NOT NULL AND amount IS NOT NULL)),
    CHECK ((stage = 'contracted') = (contract_date IS NOT NULL))
);
CREATE UNIQUE INDEX lot_results_candidates_notice_key ON lot_results (candidates_notice_id);
CREATE UNIQUE INDEX lot_results_result_notice_key ON lot_results (result_notice_id);

-- The bid-opening record (开标记录): who submitted and at what price, which
-- bids were rejected, and the ranked candidates (E11: at most 3).
CREATE TABLE lot_bids (
    lot_id          bigint        NOT NULL REFERENCES lot_results (lot_id),
    bidder_id       bigint        NOT NULL REFERENCES accounts (id),
    price           numeric(18,2) CHECK (price > 0), -- unknown when fewer than 3 bid (E7: not opened)
    rejected_reason text          NOT NULL DEFAULT '',
    rank            int           CHECK (rank BETWEEN 1 AND 3),
    declined_reason text          NOT NULL DEFAULT '',
    PRIMARY KEY (lot_id, bidder_id),
    UNIQUE (lot_id, rank),
    CHECK (rank IS NULL OR rejected_reason = '')
);

-- The G7 occupation fee (资金占用费) a late procurement refund pays on top,
-- fixed with the interest when the refund goes into a batch.
ALTER TABLE refunds ADD COLUMN fee numeric(18,2) NOT NULL DEFAULT 0 CHECK (fee >= 0);

-- +goose Down
ALTER TABLE refunds DROP COLUMN fee;
DROP TABLE lot_bids;
DROP TABLE lot_results;
DROP TABLE lot_outcomes;
ALTER TABLE projects DROP CONSTRAINT projects_suspension_reason,
    DROP COLUMN suspend_reason, DROP COLUMN suspended_by, DROP COLUMN suspended_at;
