-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Administrative regions (行政区划, GB/T 2260 codes) a project belongs to.
CREATE TABLE regions (
    code text PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
    name text NOT NULL
);
INSERT INTO regions (code, name) VALUES
    ('350000', '福建省'), ('350100', '福州市'), ('350102', '福州市鼓楼区'), ('350104', '福州市仓山区'),
    ('350121', '闽侯县'), ('350200', '厦门市'), ('350300', '莆田市'), ('350400', '三明市'),
    ('350500', '泉州市'), ('350600', '漳州市'), ('350700', '南平市'), ('350800', '龙岩市'), ('350900', '宁德市');

-- The sequence part of the unified trading code (统一交易编码), per region,
-- year and category. Numbers are handed out under a row lock and never
-- handed out again.
CREATE TABLE trading_code_counters (
    region_code text NOT NULL REFERENCES regions (code),
    year        int  NOT NULL CHECK (year BETWEEN 2000 AND 2999),
    category    text NOT NULL,
    last_seq    int  NOT NULL CHECK (last_seq >= 0),
    PRIMARY KEY (region_code, year, category)
);

-- A project (交易项目) of one of the four categories.
CREATE TABLE projects (
    id            bigserial   PRIMARY KEY,
    code          text        NOT NULL UNIQUE,
    category      text        NOT NULL CHECK (category IN ('engineering', 'procurement', 'land', 'property')),
    title         text        NOT NULL CHECK (length(title) BETWEEN 4 AND 200),
    owner_name    text        NOT NULL CHECK (length(owner_name) BETWEEN 2 AND 100),
    owner_contact text        NOT NULL DEFAULT '',
    region_code   text        NOT NULL REFERENCES regions (code),
    agent_id      bigint      NOT NULL REFERENCES accounts (id),
    state_funded  boolean     NOT NULL DEFAULT false,
    status        text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'terminated')),
    opened_at     timestamptz, -- publication of the opening notice
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX projects_agent_idx ON projects (agent_id, id DESC);

-- A lot (标段/包/地块/标的) with the money fields of its category and its schedule.
CREATE TABLE lots (
    id               bigserial     PRIMARY KEY,
    project_id       bigint        NOT NULL REFERENCES projects (id),
    seq              int           NOT NULL CHECK (seq >= 1),
    name             text          NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    control_price    numeric(18,2) CHECK (control_price > 0),
    estimated_price  numeric(18,2) CHECK (estimated_price > 0),
    budget           numeric(18,2) CHECK (budget > 0),
    starting_price   numeric(18,2) CHECK (starting_price > 0),
    reserve_price    numeric(18,2) CHECK (reserve_price > 0),
    increment        numeric(18,2) CHECK (increment > 0),
    listing_price    numeric(18,2) CHECK (listing_price > 0),
    appraised_value  numeric(18,2) CHECK (appraised_value > 0),
    deposit          numeric(18,2) NOT NULL DEFAULT 0 CHECK (deposit >= 0),
    doc_issue_start  timestamptz,
    doc_issue_end    timestamptz,
    registration_end timestamptz,
    bid_deadline     timestamptz,
    listing_start    timestamptz,
    listing_end      timestamptz,
    auction_at       timestamptz,
    opening_place    text          NOT NULL DEFAULT '',
    prequalification boolean       NOT NULL DEFAULT false,
    survey_design    boolean       NOT NULL DEFAULT false,
    relisting        boolean       NOT NULL DEFAULT false,
    listing_approved boolean       NOT NULL DEFAULT false,
    UNIQUE (project_id, seq)
);

-- Announcements (公告) go draft → submitted → (scheduled →) published, or
-- back to the agent as rejected. published_seq is handed out while holding
-- a lock that lasts until commit, so it grows in commit order and cursor
-- pagination never skips or repeats a notice.
CREATE SEQUENCE announcements_published_seq;
CREATE TABLE announcements (
    id              bigserial   PRIMARY KEY,
    project_id      bigint      NOT NULL REFERENCES projects (id),
    type            text        NOT NULL CHECK (type IN ('tender', 'procurement', 'transfer', 'listing',
                                    'amendment', 'candidates', 'result', 'termination')),
    title           text        NOT NULL CHECK (length(title) BETWEEN 4 AND 200),
    body            text        NOT NULL CHECK (length(body) <= 100000),
    body_html       text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('draft', 'submitted', 'scheduled', 'published', 'rejected')),
    amends_id       bigint      REFERENCES announcements (id),
    changes         jsonb,
    author_id       bigint      NOT NULL REFERENCES accounts (id),
    reviewer_id     bigint      REFERENCES accounts (id),
    reject_reason   text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    submitted_at    timestamptz,
    reviewed_at     timestamptz,
    publish_at      timestamptz,
    published_at    timestamptz,
    published_seq   bigint      UNIQUE,
    CHECK ((status = 'published') = (published_seq IS NOT NULL AND published_at IS NOT NULL)),
    CHECK (type <> 'amendment' OR amends_id IS NOT NULL)
);
CREATE INDEX announcements_project_idx ON announcements (project_id, id);
CREATE INDEX announcements_review_idx ON announcements (status, submitted_at) WHERE status IN ('submitted', 'scheduled');
CREATE INDEX announcements_public_idx ON announcements (published_seq DESC) WHERE status = 'published';
CREATE INDEX announcements_title_trgm ON announcements USING gin (title gin_trgm_ops);
CREATE INDEX announcements_body_trgm ON announcements USING gin (body gin_trgm_ops);

-- A published notice is immutable: corrections are new amendment notices.
-- +goose StatementBegin
CREATE FUNCTION announcements_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION 'published announcement % is immutable', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER announcements_immutable BEFORE UPDATE OR DELETE ON announcements
    FOR EACH ROW EXECUTE FUNCTION announcements_immutable();

-- +goose Down
DROP TABLE announcements;
DROP FUNCTION announcements_immutable();
DROP SEQUENCE announcements_published_seq;
DROP TABLE lots;
DROP TABLE projects;
DROP TABLE trading_code_counters;
DROP TABLE regions;
