-- +goose Up
-- A piece's summary is used at completion only if it is known to describe
-- the bytes the store holds for that piece (EB1, EB3). A MinIO part ETag
-- is the MD5 of the bytes, which a bidder can collide, so an equal ETag
-- proves nothing. Instead every attempt at a piece claims its row before
-- it sends a byte to the store (state 'streaming', a fresh attempt id),
-- and writes its summary only on its own claim once the store has kept
-- the piece (state 'done'). A claim that finds the row still 'streaming'
-- (another attempt in flight, or one that died after the store may have
-- kept its bytes) marks the row contended, and only a new upload clears
-- that: the part is then read back (bidding/submission_inspect.go).
--
-- Summaries written before this migration were last-writer-wins and are
-- not proven: they go, and the parts still uploading are read back.
DELETE FROM sealed_pieces;
CREATE SEQUENCE sealed_piece_attempts;
ALTER TABLE sealed_pieces
    ADD COLUMN attempt bigint NOT NULL,
    ADD COLUMN state text NOT NULL CHECK (state IN ('streaming', 'done')),
    ADD COLUMN contended boolean NOT NULL DEFAULT false,
    ALTER COLUMN etag DROP NOT NULL,
    ALTER COLUMN scan DROP NOT NULL,
    ADD CONSTRAINT sealed_pieces_done CHECK ((state = 'done') = (etag IS NOT NULL AND scan IS NOT NULL));

-- +goose Down
-- 00029's shape; the summaries go (their proof goes with the columns),
-- so the parts still uploading are read back.
DELETE FROM sealed_pieces;
ALTER TABLE sealed_pieces
    DROP CONSTRAINT sealed_pieces_done,
    DROP COLUMN attempt,
    DROP COLUMN state,
    DROP COLUMN contended,
    ALTER COLUMN etag SET NOT NULL,
    ALTER COLUMN scan SET NOT NULL;
DROP SEQUENCE sealed_piece_attempts;
