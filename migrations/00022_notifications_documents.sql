-- +goose Up
-- A notification is named outside by an opaque id: the sequential id would
-- tell a bidder how many notifications the platform sent between two of
-- theirs (how many others registered, paid, were rejected).
ALTER TABLE notifications ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX notifications_public_id_key ON notifications (public_id);
-- key makes a notification of one event once per person ('k1:17',
-- 'deadline:lot:5'): sweeps and retried events add nothing twice.
ALTER TABLE notifications ADD COLUMN key text;
CREATE UNIQUE INDEX notifications_key_idx ON notifications (account_id, key) WHERE key IS NOT NULL;
CREATE INDEX notifications_unread_idx ON notifications (account_id) WHERE read_at IS NULL;

-- Documents the platform issues from a lot's result and people keep:
-- 中标通知书 (to the winner), 中标结果通知书 (to every other bidder, EB12),
-- 成交确认书 (land and property). The PDF is in object storage; its
-- SHA-256 is here and in the audit chain.
CREATE TABLE result_documents (
    id          bigserial   PRIMARY KEY,
    lot_id      bigint      NOT NULL REFERENCES lots (id),
    kind        text        NOT NULL CHECK (kind IN ('award_notice', 'result_notice', 'deal_confirmation')),
    bidder_id   bigint      NOT NULL REFERENCES accounts (id),
    object_key  text        NOT NULL,
    sha256      text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size        bigint      NOT NULL CHECK (size > 0),
    created_at  timestamptz NOT NULL,
    UNIQUE (lot_id, kind, bidder_id)
);

-- The procurement contract notice (合同公告, G13: published within 2
-- working days of signing), generated from the lot's result when its
-- contract is recorded, like the candidate and result notices.
ALTER TABLE announcements DROP CONSTRAINT announcements_type_check;
ALTER TABLE announcements ADD CONSTRAINT announcements_type_check CHECK (type IN ('tender', 'procurement', 'transfer', 'listing',
    'amendment', 'candidates', 'result', 'failure', 'termination', 'contract'));
ALTER TABLE lot_results ADD COLUMN contract_notice_id bigint REFERENCES announcements (id);

-- +goose Down
ALTER TABLE lot_results DROP COLUMN contract_notice_id;
DELETE FROM announcements WHERE amends_id IN (SELECT id FROM announcements WHERE type = 'contract');
DELETE FROM announcements WHERE type = 'contract';
ALTER TABLE announcements DROP CONSTRAINT announcements_type_check;
ALTER TABLE announcements ADD CONSTRAINT announcements_type_check CHECK (type IN ('tender', 'procurement', 'transfer', 'listing',
    'amendment', 'candidates', 'result', 'failure', 'termination'));
DROP TABLE result_documents;
DROP INDEX notifications_unread_idx;
DROP INDEX notifications_key_idx;
ALTER TABLE notifications DROP COLUMN key;
DROP INDEX notifications_public_id_key;
ALTER TABLE notifications DROP COLUMN public_id;
