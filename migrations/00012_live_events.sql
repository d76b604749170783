-- +goose Up
-- Live events (trading/live): what the live pages (bidding, the opening
-- hall, the supervisors' dashboard) show, kept durably so that a client that
-- reconnects, on any instance, catches up from its last sequence number.
--
-- live_topics holds each topic's last sequence number. A publisher takes the
-- next one with an upsert that locks the topic's row until its transaction
-- ends: numbers are gap-free (a rollback gives its number back) and, per
-- topic, follow commit order, so the committed events of a topic are always
-- a contiguous prefix 1..n.
CREATE TABLE live_topics (
    topic    text PRIMARY KEY CHECK (topic ~ '^[A-Za-z0-9_.:/-]{1,200}$'),
    last_seq bigint NOT NULL CHECK (last_seq > 0)
);

CREATE TABLE live_events (
    topic      text NOT NULL REFERENCES live_topics (topic),
    seq        bigint NOT NULL CHECK (seq > 0),
    kind       text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,63}$'),
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (topic, seq)
);

-- Every instance LISTENs on ggzy_live; the payload is the topic and the
-- sequence number only (NOTIFY refuses payloads of 8000 bytes and more, and
-- content must never travel outside the table's access rules). PostgreSQL
-- delivers it when the transaction commits, and never if it rolls back.
-- +goose StatementBegin
CREATE FUNCTION live_events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ggzy_live', NEW.topic || ' ' || NEW.seq);
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER live_events_notify AFTER INSERT ON live_events
    FOR EACH ROW EXECUTE FUNCTION live_events_notify();

-- +goose Down
DROP TABLE live_events;
DROP TABLE live_topics;
DROP FUNCTION live_events_notify();
