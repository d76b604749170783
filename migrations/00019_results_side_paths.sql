-- +goose Up
-- A failed lot's failure notice (流标公告 / 废标公告, issue 13 item 2) is a
-- type of its own: generated from the lot's result record like candidate
-- and result notices, published through review, exported to OCDS.
ALTER TABLE announcements DROP CONSTRAINT announcements_type_check;
ALTER TABLE announcements ADD CONSTRAINT announcements_type_check CHECK (type IN ('tender', 'procurement', 'transfer',
    'listing', 'amendment', 'candidates', 'result', 'failure', 'termination'));
ALTER TABLE lot_results ADD COLUMN failure_notice_id bigint REFERENCES announcements (id);

-- +goose Down
ALTER TABLE lot_results DROP COLUMN failure_notice_id;
ALTER TABLE announcements DROP CONSTRAINT announcements_type_check;
-- Before failure notices had a type, a lot's end was told by a result
-- notice: the nearest type the older schema has.
UPDATE announcements SET type = 'result' WHERE type = 'failure';
ALTER TABLE announcements ADD CONSTRAINT announcements_type_check CHECK (type IN ('tender', 'procurement', 'transfer',
    'listing', 'amendment', 'candidates', 'result', 'termination'));
