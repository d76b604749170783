-- +goose Up
-- Pieces of a sealed part arrive several at a time, in any order (the
-- browser sends two or three at once). Each is inspected on its own as it
-- streams to the store (EB1): its summary (sealed.PieceScan: the record
-- prefixes it holds that are not a full chunk's, its first and last bytes,
-- the SHA-256 state before and after it) is one row here, written by that
-- piece's request alone, and completing the part joins the summaries of
-- the pieces the store holds (same upload, same ETag) instead of reading
-- the envelope back. This replaces the one in-order state of 00025.
CREATE TABLE sealed_pieces (
    bid_id    bigint NOT NULL,
    part      int NOT NULL,
    n         int NOT NULL CHECK (n >= 1),
    upload_id text NOT NULL CHECK (upload_id <> ''),
    etag      text NOT NULL CHECK (etag <> ''),
    scan      jsonb NOT NULL,
    PRIMARY KEY (bid_id, part, n),
    FOREIGN KEY (bid_id, part) REFERENCES sealed_parts (bid_id, part) ON DELETE CASCADE
);
ALTER TABLE sealed_parts DROP COLUMN inspection;
ALTER TABLE sealed_parts DROP COLUMN inspected_pieces;

-- Concluding the hall no longer depends on drafting its opening-record
-- announcement (EB7: the record is the legal fact, the announcement goes
-- through review afterwards). Why a draft was refused is kept here for
-- the host, who regenerates it; NULL once an announcement is drafted.
ALTER TABLE openings ADD COLUMN announcement_problem text
    CHECK (announcement_problem IS NULL OR (announcement_id IS NULL AND announcement_problem <> ''));

-- +goose Down
ALTER TABLE openings DROP COLUMN announcement_problem;
-- Parts still uploading lose their summaries: completing them reads the
-- envelope back, as 00025 did for pieces out of turn.
ALTER TABLE sealed_parts ADD COLUMN inspected_pieces int NOT NULL DEFAULT -1 CHECK (inspected_pieces >= -1);
ALTER TABLE sealed_parts ALTER COLUMN inspected_pieces SET DEFAULT 0;
ALTER TABLE sealed_parts ADD COLUMN inspection bytea;
DROP TABLE sealed_pieces;
