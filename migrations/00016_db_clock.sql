-- +goose Up
-- One clock decides every deadline and order that matters (a quote, a sealed
-- bid's finalisation, the end of a countdown): PostgreSQL's. ggzy_now() is
-- clock_timestamp() (not now(): a long transaction must not stamp a late
-- quote with its start time) shifted by offset_us, which GGZY_CLOCK_OFFSET
-- sets for demos and rehearsals. frozen_at stops the clock at one instant,
-- for tests that must decide "1 ms after the deadline" exactly; it is NULL
-- in production. One row, shared by every instance, so all agree.
CREATE TABLE platform_clock (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    offset_us bigint NOT NULL DEFAULT 0,
    frozen_at timestamptz
);
INSERT INTO platform_clock DEFAULT VALUES;

-- +goose StatementBegin
CREATE FUNCTION ggzy_now() RETURNS timestamptz
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT coalesce(frozen_at, clock_timestamp() + offset_us * interval '1 microsecond')
    FROM platform_clock
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION ggzy_now();
DROP TABLE platform_clock;
