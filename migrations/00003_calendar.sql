-- +goose Up
-- The working-day calendar (工作日历) as an administrator maintains it: one
-- row per year holding that year's CSV (date,kind,holiday), as the State
-- Council notice gives it. A row replaces the embedded file of its year;
-- years without a row keep the embedded data (RULES.md: the calendar is
-- data, editable by an administrator).
CREATE TABLE calendar_years (
    year       int         PRIMARY KEY CHECK (year BETWEEN 2000 AND 2999),
    csv        text        NOT NULL CHECK (length(csv) <= 65536),
    updated_by bigint      REFERENCES accounts (id),
    updated_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE calendar_years;
