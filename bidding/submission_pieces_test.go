package bidding

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// EB1/EB3 against a piece sent more than once: a MinIO part's ETag is the
// MD5 of its bytes, which a bidder can collide, so a summary of one
// version of a piece must never speak for another version the store
// holds. Each case plays the shape of the attack without a real collision
// (where it needs one, the summary is written with the stored bytes'
// ETag) and checks that the signed receipt's ciphertext SHA-256 is the
// SHA-256 of the object the store actually holds, and whether the
// completion read it back:
//   - two attempts at piece 2 claimed at once, the store keeping the
//     first claimer's bytes (its request then cancelled), the second
//     writing its summary with the stored ETag: read back;
//   - piece 3 sent again after the first was done: the new summary is
//     used, no read back;
//   - an attempt at piece 3 that the store kept but that died before its
//     summary: read back; and so it stays when the piece is then sent
//     again in full (contended until a new upload).
func TestSealedPieceSummaryDescribesTheStoredBytes(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	core := minio.Core{Client: e.Svc.Storage.Client}
	sha := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

	type bid struct {
		b   *testBidder
		up  *BidUpload
		env []byte // part 1
	}
	start := func(name string) bid {
		t.Helper()
		b := e.sealedBidder(name)
		up, err := e.Svc.StartBid(ctx, b.Actor, e.Lot, StartBidInput{Files: 1}, "")
		if err != nil {
			t.Fatal(err)
		}
		file := make([]byte, 2*PieceSize+4567)
		rand.Read(file)
		parts := seal(t, up, b.Key, priceForm("100.00"), file)
		if _, err := e.send(b.Actor, up.BidID, 0, parts[0].Envelope); err != nil {
			t.Fatal(err)
		}
		return bid{b, up, parts[1].Envelope}
	}
	// changed is env with one ciphertext byte of piece n changed, its
	// framing intact: a well-formed envelope with another SHA-256.
	changed := func(env []byte, n int) []byte {
		t.Helper()
		l, err := sealed.ReadLayout(env[:sealed.LayoutBytes])
		if err != nil {
			t.Fatal(err)
		}
		stride := int64(l.Header.ChunkSize) + 21
		r := l.Base + ((int64(n-1)*PieceSize-l.Base)/stride+1)*stride // the first record starting in piece n
		if r+100 >= int64(len(env)) {
			t.Fatalf("no record starts in piece %d", n)
		}
		out := bytes.Clone(env)
		out[r+100] ^= 0xff
		if _, err := sealed.Inspect(bytes.NewReader(out)); err != nil || r+100 >= int64(n)*PieceSize || sha(out) == sha(env) {
			t.Fatalf("the changed envelope: %v", err)
		}
		return out
	}
	piece := func(env []byte, n int) []byte { return env[(n-1)*PieceSize : min(n*PieceSize, len(env))] }
	claims := func(env []byte, n int) PieceClaims {
		l, _ := sealed.ReadLayout(env[:sealed.LayoutBytes])
		return PieceClaims{Before: sealed.ChainValues(env, PieceSize)[n-1], Layout: l}
	}
	// put sends piece n of env in full, claimed as env's.
	put := func(x bid, n int, env []byte) {
		t.Helper()
		pc := piece(env, n)
		if err := e.Svc.PutPieceClaimed(ctx, x.b.Actor, x.up.BidID, 1, n, bytes.NewReader(pc), int64(len(pc)), claims(env, n)); err != nil {
			t.Fatal(err)
		}
	}
	part := func(x bid) *SealedPart {
		t.Helper()
		var p SealedPart
		if err := e.Svc.DB.Where("bid_id = ? AND part = 1", x.up.BidID).Take(&p).Error; err != nil {
			t.Fatal(err)
		}
		return &p
	}
	claim := func(x bid, n int) int64 {
		t.Helper()
		at, err := claimPiece(e.Svc.DB.WithContext(ctx), part(x), n)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	// store puts piece n of env into the store as a request would, with no
	// summary after it (the request cancelled, or dead).
	store := func(x bid, n int, env []byte) string {
		t.Helper()
		p, pc := part(x), piece(env, n)
		op, err := core.PutObjectPart(ctx, e.Svc.Storage.Bucket, p.ObjectKey, p.UploadID, n, bytes.NewReader(pc), int64(len(pc)), minio.PutObjectPartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return op.ETag
	}
	// finish completes and finalises, and checks the receipt against the
	// stored object and the expected envelope, and the read backs.
	finish := func(name string, x bid, want []byte, readBack bool) {
		t.Helper()
		rb := e.Svc.readBacks.Load()
		if _, err := e.Svc.CompletePart(ctx, x.b.Actor, x.up.BidID, 1); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := e.Svc.readBacks.Load() - rb; got != map[bool]int64{true: 1, false: 0}[readBack] {
			t.Fatalf("%s: %d read backs, want read back %v", name, got, readBack)
		}
		v, err := e.Svc.Finalize(ctx, x.b.Actor, x.up.BidID)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, err := e.Svc.Receipts.Verify(v.Receipt)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, rp := range r.Parts {
			if rp.Part == 1 {
				got = rp.CiphertextSHA256
			}
		}
		obj, _, err := e.Svc.Storage.Get(ctx, part(x).ObjectKey)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != sha(stored) || !bytes.Equal(stored, want) {
			t.Fatalf("%s: the receipt says %s, the store holds %s (the expected envelope: %v)", name, got, sha(stored), bytes.Equal(stored, want))
		}
	}

	// Two attempts at piece 2 at once: B claims, A claims while B streams,
	// the store keeps B's bytes and B's request is cancelled; A's summary
	// comes last, with the ETag the store lists (as an MD5 collision gives).
	x := start("福建甲建设")
	envB := changed(x.env, 2)
	put(x, 1, x.env)
	put(x, 3, x.env) // its chaining value is the A-envelope's: A's summary closes the chain
	claim(x, 2)
	attemptA := claim(x, 2)
	etagB := store(x, 2, envB)
	ps, err := e.Svc.pieceScanner(ctx, part(x), 2, claims(x.env, 2))
	if err != nil {
		t.Fatal(err)
	}
	ps.Write(piece(x.env, 2))
	if err := e.Svc.pieceScanned(ctx, part(x), 2, attemptA, ps, PieceSize, etagB); err != nil {
		t.Fatal(err)
	}
	var row SealedPiece
	if err := e.Svc.DB.Where("bid_id = ? AND part = 1 AND n = 2", x.up.BidID).Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	// Everything but the contention says "use A's summary": done, this
	// upload, the stored ETag; its hash chain closes on the A-envelope.
	if row.State != PieceDone || row.ETag == nil || *row.ETag != trimETag(etagB) || row.UploadID != part(x).UploadID || !row.Contended {
		t.Fatalf("piece 2's row: %+v", row)
	}
	finish("two attempts at once", x, envB, true)

	// Piece 3 sent again in turn: the second summary speaks for the store.
	y := start("福建乙建设")
	envB = changed(y.env, 3)
	for n := 1; n <= 3; n++ {
		put(y, n, y.env)
	}
	put(y, 3, envB)
	finish("a piece sent again", y, envB, false)

	// An attempt the store kept that died before its summary.
	z := start("福建丙建设")
	envB = changed(z.env, 3)
	for n := 1; n <= 3; n++ {
		put(z, n, z.env)
	}
	claim(z, 3)
	store(z, 3, envB)
	finish("an attempt dead after the store", z, envB, true)

	// The same, then the piece sent again in full: its summary is done
	// and right, but a dead attempt might have written after it; read back.
	w := start("福建丁建设")
	envB = changed(w.env, 3)
	for n := 1; n <= 3; n++ {
		put(w, n, w.env)
	}
	claim(w, 3)
	store(w, 3, envB)
	put(w, 3, w.env)
	finish("sent again after a dead attempt", w, w.env, true)
}

// A refused part goes to a new upload: the old upload's summaries go, and
// a claim made with the part as read before the restart (a piece request
// that read it just before) is refused and writes nothing, so it cannot
// reset the new upload's rows (review: a stale claim used to overwrite a
// streaming row of the new upload and clear its contended flag).
func TestSealedRestartPartKeepsTheNewUploadsPieces(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	b := e.sealedBidder("福建甲建设")
	up, err := e.Svc.StartBid(ctx, b.Actor, e.Lot, StartBidInput{Files: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	var p SealedPart
	if err := e.Svc.DB.Where("bid_id = ? AND part = 1", up.BidID).Take(&p).Error; err != nil {
		t.Fatal(err)
	}
	db := e.Svc.DB.WithContext(ctx)
	if _, err := claimPiece(db, &p, 1); err != nil {
		t.Fatal(err)
	}
	stale := p // as a piece request read it before the restart
	next := p
	next.UploadID = "the-new-upload"
	if _, err := claimPiece(db, &next, 2); err == nil {
		t.Fatal("a claim on an upload the part is not on was taken")
	}
	if err := restartPart(db, up.BidID, 1, next.UploadID); err != nil {
		t.Fatal(err)
	}
	var rows []SealedPiece
	if err := db.Where("bid_id = ? AND part = 1", up.BidID).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Fatalf("after the restart, the old upload's rows stay: %+v", rows)
	}
	if err := db.Where("bid_id = ? AND part = 1", up.BidID).Take(&p).Error; err != nil || p.UploadID != next.UploadID {
		t.Fatalf("the part's upload: %q %v", p.UploadID, err)
	}
	// Piece 2 on the new upload, still streaming; then the stale claim.
	a2, err := claimPiece(db, &p, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := claimPiece(db, &stale, 2); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("a claim on the old upload after the restart: %v", err)
	}
	var row SealedPiece
	if err := db.Where("bid_id = ? AND part = 1 AND n = 2", up.BidID).Take(&row).Error; err != nil ||
		row.UploadID != next.UploadID || row.Attempt != a2 || row.State != PieceStreaming || row.Contended {
		t.Fatalf("the new upload's row after the stale claim: %+v %v", row, err)
	}
	// A second attempt while the first streams: contended, for good.
	if _, err := claimPiece(db, &p, 2); err != nil {
		t.Fatal(err)
	}
	if err := db.Where("bid_id = ? AND part = 1 AND n = 2", up.BidID).Take(&row).Error; err != nil || !row.Contended {
		t.Fatalf("two attempts on the new upload: %+v %v", row, err)
	}
}
