-- +goose Up
-- Secrecy of the registrants (K4/K5, issue 13 item 3): an id a bidder can
-- see must tell nothing about other bidders. Rows a bidder sees, and that
-- other bidders' actions create, take a random id instead of the next
-- value of a sequence: notifications (a clarification tells every
-- registrant in one transaction, so consecutive ids would give the count
-- away), registrations, virtual accounts, documents (an applicant's
-- materials) and guarantees. Inflows keep their sequence (matching reads
-- ranges of it); a bidder's view of them leaves the id out. The id is 2^52 plus 52 random bits of a version 4 UUID: 16
-- digits always (so no page or JSON size moves with it), below 2^53 (exact
-- as a JavaScript number), never 0. The primary key still refuses a
-- duplicate (about 1 in 10^4 over a million rows, answered as an error).
-- Lists that were ordered by id are ordered by creation time.
-- +goose StatementBegin
CREATE FUNCTION ggzy_opaque_id() RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT (('x' || right(replace(gen_random_uuid()::text, '-', ''), 16))::bit(64)::bigint & 4503599627370495) | 4503599627370496
$$;
-- +goose StatementEnd
ALTER TABLE notifications ALTER COLUMN id SET DEFAULT ggzy_opaque_id();
ALTER TABLE registrations ALTER COLUMN id SET DEFAULT ggzy_opaque_id();
ALTER TABLE virtual_accounts ALTER COLUMN id SET DEFAULT ggzy_opaque_id();
ALTER TABLE documents ALTER COLUMN id SET DEFAULT ggzy_opaque_id();
ALTER TABLE guarantees ALTER COLUMN id SET DEFAULT ggzy_opaque_id();
CREATE INDEX notifications_account_time_idx ON notifications (account_id, created_at DESC, id DESC);
CREATE INDEX registrations_bidder_time_idx ON registrations (bidder_id, created_at DESC, id DESC);

-- +goose Down
DROP INDEX registrations_bidder_time_idx;
DROP INDEX notifications_account_time_idx;
ALTER TABLE guarantees ALTER COLUMN id SET DEFAULT nextval('guarantees_id_seq'::regclass);
ALTER TABLE documents ALTER COLUMN id SET DEFAULT nextval('documents_id_seq'::regclass);
ALTER TABLE virtual_accounts ALTER COLUMN id SET DEFAULT nextval('virtual_accounts_id_seq'::regclass);
ALTER TABLE registrations ALTER COLUMN id SET DEFAULT nextval('registrations_id_seq'::regclass);
ALTER TABLE notifications ALTER COLUMN id SET DEFAULT nextval('notifications_id_seq'::regclass);
DROP FUNCTION ggzy_opaque_id();
