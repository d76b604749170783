-- +goose Up
-- The opening record of a lot opened in the hall is published as a notice
-- (开标记录公告, EB7), generated from the record like the failure and result
-- notices and reviewed the same way.
ALTER TABLE announcements DROP CONSTRAINT announcements_type_check;
ALTER TABLE announcements ADD CONSTRAINT announcements_type_check CHECK (type IN ('tender', 'procurement', 'transfer', 'listing',
    'amendment', 'candidates', 'result', 'failure', 'termination', 'contract', 'opening'));
ALTER TABLE openings ADD COLUMN notice_id bigint REFERENCES announcements (id);
ALTER TABLE openings ADD CONSTRAINT openings_notice_id_key UNIQUE (notice_id);

-- A sealed part is inspected (EB1) as its pieces stream in: inspection is
-- the inspector's state after piece inspected_pieces; -1 means a piece
-- came again or out of turn, and completing the part reads the envelope
-- back from the store instead.
ALTER TABLE sealed_parts ADD COLUMN inspected_pieces int NOT NULL DEFAULT 0 CHECK (inspected_pieces >= -1);
ALTER TABLE sealed_parts ADD COLUMN inspection bytea;

-- +goose Down
ALTER TABLE sealed_parts DROP COLUMN inspection;
ALTER TABLE sealed_parts DROP COLUMN inspected_pieces;
ALTER TABLE openings DROP COLUMN notice_id;
-- Amendments of an opening-record notice go with it (they reference it).
DELETE FROM announcements WHERE amends_id IN (SELECT id FROM announcements WHERE type = 'opening');
DELETE FROM announcements WHERE type = 'opening';
ALTER TABLE announcements DROP CONSTRAINT announcements_type_check;
ALTER TABLE announcements ADD CONSTRAINT announcements_type_check CHECK (type IN ('tender', 'procurement', 'transfer', 'listing',
    'amendment', 'candidates', 'result', 'failure', 'termination', 'contract'));
