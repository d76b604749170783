-- +goose Up
-- Schedules re-checked when an administrator imports a year's official
-- holiday notice (工作日历): an approved opening notice (published or
-- scheduled) whose periods were counted by the provisional calendar and no
-- longer hold by the official one is flagged to the supervisors, one row per
-- rule broken. The flag stays on the dashboard until the project publishes
-- an amendment or a termination after it.
CREATE TABLE calendar_flags (
    id              bigserial   PRIMARY KEY,
    year            int         NOT NULL CHECK (year BETWEEN 2000 AND 2999),
    announcement_id bigint      NOT NULL REFERENCES announcements (id),
    project_id      bigint      NOT NULL REFERENCES projects (id),
    rule            text        NOT NULL CHECK (rule <> ''),
    field           text        NOT NULL,
    message         text        NOT NULL CHECK (length(message) <= 4000),
    created_at      timestamptz NOT NULL,
    UNIQUE (year, announcement_id, rule, field)
);
CREATE INDEX calendar_flags_project ON calendar_flags (project_id);

-- +goose Down
DROP TABLE calendar_flags;
