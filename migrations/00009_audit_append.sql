-- +goose Up
-- Appending to the audit log in one round trip: lock the chain's head,
-- take the next id, hash the record exactly as trading.AuditEvent's
-- contentHash does (SHA-256 over the fields joined by U+001F, the time as
-- Go's RFC 3339 with nanoseconds in UTC, trailing zeros dropped), write
-- it and move the head. `ggzy audit verify` recomputes every hash in Go, so
-- a difference between the two would be found on the first verify (and is
-- by the tests).
-- +goose StatementBegin
CREATE FUNCTION audit_append(p_chain int, p_at timestamptz, p_actor_id bigint, p_actor text, p_role text, p_action text,
                             p_object_type text, p_object_id text, p_ip text, p_summary text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    prev text;
    nid  bigint;
    us   numeric;
    ts   text;
    h    text;
BEGIN
    SELECT last_hash INTO prev FROM audit_head WHERE id = p_chain FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit chain % has no head', p_chain;
    END IF;
    nid := nextval('audit_events_id_seq');
    us := extract(microseconds FROM p_at) % 1000000;
    ts := to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') ||
          CASE WHEN us = 0 THEN '' ELSE '.' || rtrim(lpad(us::bigint::text, 6, '0'), '0') END || 'Z';
    h := encode(sha256(convert_to(concat_ws(E'\x1f', prev, nid::text, p_chain::text, ts, coalesce(p_actor_id::text, ''),
              p_actor, p_role, p_action, p_object_type, p_object_id, p_ip, p_summary), 'UTF8')), 'hex');
    INSERT INTO audit_events (id, chain, occurred_at, actor_id, actor, role, action, object_type, object_id, ip, summary, prev_hash, hash)
    VALUES (nid, p_chain, p_at, p_actor_id, p_actor, p_role, p_action, p_object_type, p_object_id, p_ip, p_summary, prev, h);
    UPDATE audit_head SET last_id = nid, last_hash = h, row_count = row_count + 1 WHERE id = p_chain;
    RETURN nid;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION audit_append(int, timestamptz, bigint, text, text, text, text, text, text, text);
