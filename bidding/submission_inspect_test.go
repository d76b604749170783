package bidding

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/ggzy/ggzy/bidding/sealed"
)

// EB1 as the pieces stream in: pieces in turn are inspected on their way
// to the store and the part completes from that state, with the same
// figures Inspect reads from the joined envelope; a piece sent again or
// out of turn makes the completion read the envelope back, so a
// replacement piece cannot slip past the inspection.
func TestSealedUploadInspectedAsItStreams(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	put := func(b *testBidder, bidID int64, n int, env []byte) {
		t.Helper()
		piece := env[(n-1)*PieceSize : min(n*PieceSize, len(env))]
		if err := e.Svc.PutPiece(ctx, b.Actor, bidID, 1, n, bytes.NewReader(piece), int64(len(piece))); err != nil {
			t.Fatal(err)
		}
	}
	part := func(bidID int64) SealedPart {
		t.Helper()
		var p SealedPart
		if err := e.Svc.DB.Where("bid_id = ? AND part = 1", bidID).Take(&p).Error; err != nil {
			t.Fatal(err)
		}
		return p
	}
	start := func(name string) (*testBidder, *BidUpload, []byte) {
		t.Helper()
		b := e.sealedBidder(name)
		up, err := e.Svc.StartBid(ctx, b.Actor, e.Lot, StartBidInput{Files: 1}, "")
		if err != nil {
			t.Fatal(err)
		}
		file := make([]byte, 2*PieceSize+4567)
		rand.Read(file)
		return b, up, seal(t, up, b.Key, priceForm("100.00"), file)[1].Envelope
	}
	sha := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

	// In turn: every piece inspected, the state agrees with Inspect.
	a, upA, envA := start("福建甲建设")
	for n := 1; n <= 3; n++ {
		put(a, upA.BidID, n, envA)
	}
	p := part(upA.BidID)
	if p.InspectedPieces != 3 {
		t.Fatalf("%d pieces inspected as they came, want 3", p.InspectedPieces)
	}
	res, err := minio.Core{Client: e.Svc.Storage.Client}.ListObjectParts(ctx, e.Svc.Storage.Bucket, p.ObjectKey, p.UploadID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	cps := make([]minio.CompletePart, len(res.ObjectParts))
	for i, op := range res.ObjectParts {
		cps[i] = minio.CompletePart{PartNumber: op.PartNumber, ETag: op.ETag}
	}
	want, err := sealed.Inspect(bytes.NewReader(envA))
	if err != nil {
		t.Fatal(err)
	}
	if got := streamedInfo(&p, cps); got == nil || *got != *want {
		t.Fatalf("streamed inspection %+v, Inspect %+v", got, want)
	}
	cps[1].ETag = "0123"
	if streamedInfo(&p, cps) != nil {
		t.Fatal("a state whose pieces the store does not hold was used")
	}
	done, err := e.Svc.CompletePart(ctx, a.Actor, upA.BidID, 1)
	if err != nil || *done.SHA256 != sha(envA) || *done.Size != int64(len(envA)) {
		t.Fatalf("completed %+v %v", done, err)
	}

	// A piece sent again: the last one replaced by one with a byte after
	// the final chunk. The state of the first sending no longer speaks for
	// the store; the joined envelope is read and refused.
	b, upB, envB := start("福建乙建设")
	for n := 1; n <= 3; n++ {
		put(b, upB.BidID, n, envB)
	}
	bad := append(bytes.Clone(envB), 0)
	put(b, upB.BidID, 3, bad)
	if p := part(upB.BidID); p.InspectedPieces != -1 {
		t.Fatalf("after a piece came again: %d inspected", p.InspectedPieces)
	}
	if _, err := e.Svc.CompletePart(ctx, b.Actor, upB.BidID, 1); !errors.Is(err, ErrNotSealed) || !errors.Is(err, sealed.ErrMalformed) {
		t.Fatalf("a replaced piece with trailing data: %v", err)
	}
	// The part starts over, inspected afresh.
	if p := part(upB.BidID); p.InspectedPieces != 0 || p.Inspection != nil {
		t.Fatalf("after a refusal: %d inspected", p.InspectedPieces)
	}
	for n := 1; n <= 3; n++ {
		put(b, upB.BidID, n, envB)
	}
	if p := part(upB.BidID); p.InspectedPieces != 3 {
		t.Fatalf("the new upload: %d inspected", p.InspectedPieces)
	}
	if done, err := e.Svc.CompletePart(ctx, b.Actor, upB.BidID, 1); err != nil || *done.SHA256 != sha(envB) {
		t.Fatalf("completed %+v %v", done, err)
	}

	// Out of turn: 3, 1, 2. Only what came in turn is inspected; the part
	// completes from the store, with the same figures.
	c, upC, envC := start("福建丙建设")
	for _, n := range []int{3, 1, 2} {
		put(c, upC.BidID, n, envC)
	}
	if p := part(upC.BidID); p.InspectedPieces != 2 {
		t.Fatalf("out of turn: %d inspected, want 2 (pieces 1 and 2)", p.InspectedPieces)
	}
	if done, err := e.Svc.CompletePart(ctx, c.Actor, upC.BidID, 1); err != nil || *done.SHA256 != sha(envC) {
		t.Fatalf("completed out of turn %+v %v", done, err)
	}
}
