-- +goose Up
-- The portal's list without scanning every announcement or project per view
-- (issue 14 item 4, BENCHMARKS.md): a maintained count of the published
-- announcements by the columns the list filters on, and each project's status
-- over time, stored, so the status filter is an index lookup.

-- Published announcements by category, sub-type, region and announcement type: the
-- list's total is a sum over a few of these rows when the filter is made
-- of those columns alone (trading/portal/count.go). Kept by the triggers
-- below in the transaction that publishes; a published announcement never
-- changes, and a project's category, sub-type and region change only as a
-- draft, but the triggers follow any change anyway.
CREATE TABLE published_announcement_counts (
    category    text   NOT NULL,
    sub_type    text   NOT NULL,
    region_code text   NOT NULL,
    type        text   NOT NULL,
    n           bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (category, sub_type, region_code, type)
);

-- A project's status (trading/portal/status.go) changes with the database
-- clock only at its lots' schedule moments: the documents' issue (or the
-- project's opening), the registration deadline and the opening. Between
-- two of them it is constant, so it is stored as spans [from_at, until_at)
-- computed with the same expressions at each moment, and the status
-- filter asks which projects have a span of the state around now. A
-- project without lots has none: the filter never selected it.
CREATE TABLE project_status_spans (
    project_id bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    state      text        NOT NULL,
    from_at    timestamptz NOT NULL,
    until_at   timestamptz NOT NULL,
    PRIMARY KEY (project_id, from_at),
    CHECK (from_at < until_at)
);
CREATE INDEX project_status_spans_state ON project_status_spans (state, until_at) INCLUDE (from_at, project_id);

-- refresh_project_status_spans computes the spans of the projects anew.
-- The CASE expressions are lotStageSQL (with the moment b.t for the
-- database time) and projectStateSQL of trading/portal/status.go, verbatim
-- (TestStatusSpansUseTheListDerivation compares them). Two refreshes of
-- one project would insert the same spans: they are serialized by a
-- transaction lock on one of 32 buckets of project ids (a bulk load's
-- refresh takes 32 locks, not one per project), taken in order; a
-- transaction that refreshes twice can still deadlock with another, which
-- PostgreSQL breaks and trading.Transact retries (40P01).
-- +goose StatementBegin
CREATE FUNCTION refresh_project_status_spans(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(1936, x.k) FROM (SELECT DISTINCT (id % 32)::int AS k FROM unnest(ids) id ORDER BY 1) x;
    DELETE FROM project_status_spans WHERE project_id = ANY (ids);
    INSERT INTO project_status_spans (project_id, state, from_at, until_at)
    WITH n AS (
        SELECT project_id, bool_or(type = 'candidates') AS candidates,
	max(published_at) FILTER (WHERE type IN ('failure', 'result', 'termination')) AS decided
        FROM announcements WHERE status = 'published' AND project_id = ANY (ids) GROUP BY project_id
    ), b AS (
        SELECT DISTINCT l.project_id, v.t FROM lots l JOIN projects p ON p.id = l.project_id
        CROSS JOIN LATERAL (VALUES ('-infinity'::timestamptz), (coalesce(l.bid_deadline, l.auction_at, l.listing_end)),
            (coalesce(l.registration_end, l.bid_deadline, l.listing_end, l.auction_at)), (coalesce(l.doc_issue_start, p.opened_at))) v (t)
        WHERE l.project_id = ANY (ids) AND v.t IS NOT NULL
    ), st AS (
        SELECT b.project_id, b.t, CASE
	WHEN p.status = 'terminated' THEN 'terminated'
	WHEN p.suspended_at IS NOT NULL THEN 'suspended'
	WHEN min(s.stage) >= 6 THEN CASE WHEN max(s.stage) = 7 THEN 'dealt' ELSE 'failed' END
	ELSE coalesce((ARRAY['upcoming', 'registering', 'closed', 'opened', 'publicity'])[min(s.stage)], 'registering')
END AS state
        FROM b JOIN projects p ON p.id = b.project_id
        CROSS JOIN LATERAL (
            SELECT CASE
	WHEN o.status = 'completed' THEN 7
	WHEN o.status IS NOT NULL AND n.decided >= o.updated_at THEN 6
	WHEN n.candidates THEN 5
	WHEN b.t >= coalesce(l.bid_deadline, l.auction_at, l.listing_end) THEN 4
	WHEN b.t >= coalesce(l.registration_end, l.bid_deadline, l.listing_end, l.auction_at) THEN 3
	WHEN b.t < coalesce(l.doc_issue_start, p.opened_at) THEN 1
	ELSE 2 END AS stage
            FROM lots l LEFT JOIN lot_outcomes o ON o.lot_id = l.id LEFT JOIN n ON n.project_id = l.project_id
            WHERE l.project_id = b.project_id
        ) s
        GROUP BY b.project_id, b.t, p.status, p.suspended_at
    )
    SELECT project_id, state, t, coalesce(lead(t) OVER (PARTITION BY project_id ORDER BY t), 'infinity') FROM st;
END $$;
-- +goose StatementEnd

-- The spans follow every change of their inputs: lots, outcomes, published
-- announcements, a project's status, suspension and opening. Statement-level, so
-- a bulk load refreshes its projects once.
-- +goose StatementBegin
CREATE FUNCTION project_status_spans_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'projects' THEN
        PERFORM refresh_project_status_spans(ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.status, n.suspended_at, n.opened_at) IS DISTINCT FROM (o.status, o.suspended_at, o.opened_at) ORDER BY 1));
    ELSIF TG_TABLE_NAME = 'announcements' THEN
        IF TG_OP = 'INSERT' THEN
            PERFORM refresh_project_status_spans(ARRAY(SELECT DISTINCT project_id FROM new_rows WHERE status = 'published'));
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM refresh_project_status_spans(ARRAY(SELECT DISTINCT project_id FROM old_rows WHERE status = 'published'));
        ELSE
            PERFORM refresh_project_status_spans(ARRAY(SELECT project_id FROM new_rows WHERE status = 'published'
                UNION SELECT project_id FROM old_rows WHERE status = 'published'));
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM refresh_project_status_spans(ARRAY(SELECT DISTINCT project_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM refresh_project_status_spans(ARRAY(SELECT DISTINCT project_id FROM old_rows));
    ELSE
        PERFORM refresh_project_status_spans(ARRAY(SELECT project_id FROM new_rows UNION SELECT project_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- published_announcement_counts_add moves one row by delta: up by INSERT … ON
-- CONFLICT (the combination may be new), down by UPDATE (the CHECK would
-- refuse a negative proposed row before the conflict is seen).
-- +goose StatementBegin
CREATE FUNCTION published_announcement_counts_add(cat text, sub text, region text, typ text, delta bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF delta > 0 THEN
        INSERT INTO published_announcement_counts AS c (category, sub_type, region_code, type, n) VALUES (cat, sub, region, typ, delta)
        ON CONFLICT (category, sub_type, region_code, type) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF delta < 0 THEN
        UPDATE published_announcement_counts SET n = n + delta WHERE category = cat AND sub_type = sub AND region_code = region AND type = typ;
    END IF;
END $$;
-- +goose StatementEnd

-- published_announcement_counts_follow adds the published announcements in new_rows and
-- takes away those in old_rows, by their project's columns; a project
-- whose columns change moves its published announcements between rows. Rows are
-- moved in key order, so two publishing transactions lock them in one order.
-- +goose StatementBegin
CREATE FUNCTION published_announcement_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_TABLE_NAME = 'projects' THEN
        FOR r IN SELECT k.category, k.sub_type, k.region_code, a.type, sum(k.delta) AS delta FROM (
                SELECT id, category, sub_type, region_code, 1 AS delta FROM new_rows
                UNION ALL SELECT id, category, sub_type, region_code, -1 FROM old_rows) k
            JOIN announcements a ON a.project_id = k.id AND a.status = 'published'
            GROUP BY 1, 2, 3, 4 HAVING sum(k.delta) <> 0 ORDER BY 1, 2, 3, 4
        LOOP
            PERFORM published_announcement_counts_add(r.category, r.sub_type, r.region_code, r.type, r.delta);
        END LOOP;
    ELSIF TG_OP = 'INSERT' THEN
        FOR r IN SELECT p.category, p.sub_type, p.region_code, d.type, count(*) AS delta FROM new_rows d JOIN projects p ON p.id = d.project_id
            WHERE d.status = 'published' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        LOOP
            PERFORM published_announcement_counts_add(r.category, r.sub_type, r.region_code, r.type, r.delta);
        END LOOP;
    ELSIF TG_OP = 'DELETE' THEN
        FOR r IN SELECT p.category, p.sub_type, p.region_code, d.type, -count(*) AS delta FROM old_rows d JOIN projects p ON p.id = d.project_id
            WHERE d.status = 'published' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        LOOP
            PERFORM published_announcement_counts_add(r.category, r.sub_type, r.region_code, r.type, r.delta);
        END LOOP;
    ELSE
        FOR r IN SELECT p.category, p.sub_type, p.region_code, d.type, sum(d.delta) AS delta FROM (
                SELECT project_id, type, 1 AS delta FROM new_rows WHERE status = 'published'
                UNION ALL SELECT project_id, type, -1 FROM old_rows WHERE status = 'published') d
            JOIN projects p ON p.id = d.project_id
            GROUP BY 1, 2, 3, 4 HAVING sum(d.delta) <> 0 ORDER BY 1, 2, 3, 4
        LOOP
            PERFORM published_announcement_counts_add(r.category, r.sub_type, r.region_code, r.type, r.delta);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER announcements_counts_ins AFTER INSERT ON announcements REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION published_announcement_counts_follow();
CREATE TRIGGER announcements_counts_upd AFTER UPDATE ON announcements REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION published_announcement_counts_follow();
CREATE TRIGGER announcements_counts_del AFTER DELETE ON announcements REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION published_announcement_counts_follow();
CREATE TRIGGER projects_counts_upd AFTER UPDATE ON projects REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION published_announcement_counts_follow();

CREATE TRIGGER lots_status_ins AFTER INSERT ON lots REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_status_spans_follow();
CREATE TRIGGER lots_status_upd AFTER UPDATE ON lots REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_status_spans_follow();
CREATE TRIGGER lots_status_del AFTER DELETE ON lots REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_status_spans_follow();
CREATE TRIGGER lot_outcomes_status_ins AFTER INSERT ON lot_outcomes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_status_spans_follow();
CREATE TRIGGER lot_outcomes_status_upd AFTER UPDATE ON lot_outcomes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_status_spans_follow();
CREATE TRIGGER lot_outcomes_status_del AFTER DELETE ON lot_outcomes REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_status_spans_follow();
CREATE TRIGGER announcements_status_ins AFTER INSERT ON announcements REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_status_spans_follow();
CREATE TRIGGER announcements_status_upd AFTER UPDATE ON announcements REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_status_spans_follow();
CREATE TRIGGER announcements_status_del AFTER DELETE ON announcements REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_status_spans_follow();
CREATE TRIGGER projects_status_upd AFTER UPDATE ON projects REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION project_status_spans_follow();

-- What is there already.
INSERT INTO published_announcement_counts (category, sub_type, region_code, type, n)
SELECT p.category, p.sub_type, p.region_code, a.type, count(*) FROM announcements a JOIN projects p ON p.id = a.project_id
WHERE a.status = 'published' GROUP BY 1, 2, 3, 4;
SELECT refresh_project_status_spans(ARRAY(SELECT id FROM projects ORDER BY id));

-- +goose Down
DROP TRIGGER projects_status_upd ON projects;
DROP TRIGGER announcements_status_del ON announcements;
DROP TRIGGER announcements_status_upd ON announcements;
DROP TRIGGER announcements_status_ins ON announcements;
DROP TRIGGER lot_outcomes_status_del ON lot_outcomes;
DROP TRIGGER lot_outcomes_status_upd ON lot_outcomes;
DROP TRIGGER lot_outcomes_status_ins ON lot_outcomes;
DROP TRIGGER lots_status_del ON lots;
DROP TRIGGER lots_status_upd ON lots;
DROP TRIGGER lots_status_ins ON lots;
DROP TRIGGER projects_counts_upd ON projects;
DROP TRIGGER announcements_counts_del ON announcements;
DROP TRIGGER announcements_counts_upd ON announcements;
DROP TRIGGER announcements_counts_ins ON announcements;
DROP FUNCTION published_announcement_counts_follow();
DROP FUNCTION published_announcement_counts_add(text, text, text, text, bigint);
DROP FUNCTION project_status_spans_follow();
DROP FUNCTION refresh_project_status_spans(bigint[]);
DROP TABLE project_status_spans;
DROP TABLE published_announcement_counts;
