package bidding

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/ggzy/ggzy/bidding/sealed"
)

// EB1 as the pieces stream in, in any order: every piece is summarised on
// its way to the store and the part completes from the summaries, with
// the same figures Inspect reads from the joined envelope and no read
// back; a summary whose piece the store no longer holds is not used, so a
// replacement piece cannot slip past the inspection; pieces without the
// sender's SHA-256 chaining value that come before the piece preceding
// them make the completion read the envelope back, with the same figures.
func TestSealedUploadInspectedAsItStreams(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	put := func(b *testBidder, bidID int64, n int, env []byte, chained bool) {
		t.Helper()
		piece := env[(n-1)*PieceSize : min(n*PieceSize, len(env))]
		var claims PieceClaims
		if chained {
			claims.Before = sealed.ChainValues(env, PieceSize)[n-1]
			claims.Layout, _ = sealed.ReadLayout(env[:sealed.LayoutBytes])
		}
		if err := e.Svc.PutPieceClaimed(ctx, b.Actor, bidID, 1, n, bytes.NewReader(piece), int64(len(piece)), claims); err != nil {
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
	summaries := func(bidID int64) int64 {
		t.Helper()
		var n int64
		if err := e.Svc.DB.Model(&SealedPiece{}).Where("bid_id = ? AND part = 1 AND upload_id = ?", bidID, part(bidID).UploadID).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
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
	readBacks := func() int64 { return e.Svc.readBacks.Load() }

	// In turn, without chaining values: every piece summarised, the
	// verdict agrees with Inspect.
	a, upA, envA := start("福建甲建设")
	for n := 1; n <= 3; n++ {
		put(a, upA.BidID, n, envA, false)
	}
	if n := summaries(upA.BidID); n != 3 {
		t.Fatalf("%d pieces summarised as they came, want 3", n)
	}
	p := part(upA.BidID)
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
	if got, err := e.Svc.streamedInfo(e.Svc.DB.WithContext(ctx), &p, cps); err != nil || *got != *want {
		t.Fatalf("streamed inspection %+v (%v), Inspect %+v", got, err, want)
	}
	cps[1].ETag = "0123"
	if _, err := e.Svc.streamedInfo(e.Svc.DB.WithContext(ctx), &p, cps); !errors.Is(err, sealed.ErrPiecesIncomplete) {
		t.Fatalf("summaries of pieces the store does not hold were used: %v", err)
	}
	rb := readBacks()
	done, err := e.Svc.CompletePart(ctx, a.Actor, upA.BidID, 1)
	if err != nil || *done.SHA256 != sha(envA) || *done.Size != int64(len(envA)) {
		t.Fatalf("completed %+v %v", done, err)
	}
	if readBacks() != rb {
		t.Fatal("pieces in turn: the envelope was read back")
	}

	// A piece sent again: the last one replaced by one with a byte after
	// the final chunk. Its new summary speaks for what the store holds, and
	// the envelope is refused.
	b, upB, envB := start("福建乙建设")
	for n := 1; n <= 3; n++ {
		put(b, upB.BidID, n, envB, true)
	}
	bad := append(bytes.Clone(envB), 0)
	put(b, upB.BidID, 3, bad, true)
	if _, err := e.Svc.CompletePart(ctx, b.Actor, upB.BidID, 1); !errors.Is(err, ErrNotSealed) || !errors.Is(err, sealed.ErrMalformed) {
		t.Fatalf("a replaced piece with trailing data: %v", err)
	}
	// The part starts over, with no summaries of the refused upload.
	if n := summaries(upB.BidID); n != 0 {
		t.Fatalf("after a refusal: %d summaries", n)
	}
	for n := 1; n <= 3; n++ {
		put(b, upB.BidID, n, envB, true)
	}
	if done, err := e.Svc.CompletePart(ctx, b.Actor, upB.BidID, 1); err != nil || *done.SHA256 != sha(envB) {
		t.Fatalf("completed %+v %v", done, err)
	}

	// Out of turn with the chaining values and the layout, as the browser
	// sends them: 3, 2, then 1. Completed from the summaries, no read back.
	c, upC, envC := start("福建丙建设")
	rb = readBacks()
	for _, n := range []int{3, 2, 1} {
		put(c, upC.BidID, n, envC, true)
	}
	if done, err := e.Svc.CompletePart(ctx, c.Actor, upC.BidID, 1); err != nil || *done.SHA256 != sha(envC) || *done.Size != int64(len(envC)) {
		t.Fatalf("completed out of turn %+v %v", done, err)
	}
	if readBacks() != rb {
		t.Fatal("pieces out of turn with their chaining values: the envelope was read back")
	}

	// Out of turn without them (3, 1, 2): piece 3 came with no layout and
	// before piece 2's hash; read back, the same figures.
	d, upD, envD := start("福建丁建设")
	for _, n := range []int{3, 1, 2} {
		put(d, upD.BidID, n, envD, false)
	}
	rb = readBacks()
	if done, err := e.Svc.CompletePart(ctx, d.Actor, upD.BidID, 1); err != nil || *done.SHA256 != sha(envD) {
		t.Fatalf("completed out of turn %+v %v", done, err)
	}
	if readBacks() != rb+1 {
		t.Fatal("undecidable summaries were trusted")
	}

	// A lying chaining value: the chain does not close, the envelope is read
	// back, and the receipt's hash is the true one.
	f, upF, envF := start("福建戊建设")
	put(f, upF.BidID, 1, envF, true)
	piece := envF[2*PieceSize:]
	if err := e.Svc.PutPieceClaimed(ctx, f.Actor, upF.BidID, 1, 3, bytes.NewReader(piece), int64(len(piece)), PieceClaims{Before: make([]byte, 32)}); err != nil {
		t.Fatal(err)
	}
	put(f, upF.BidID, 2, envF, true)
	rb = readBacks()
	if done, err := e.Svc.CompletePart(ctx, f.Actor, upF.BidID, 1); err != nil || *done.SHA256 != sha(envF) {
		t.Fatalf("completed with a lying chaining value %+v %v", done, err)
	}
	if readBacks() != rb+1 {
		t.Fatal("a broken hash chain was trusted")
	}

	// A lying layout for a piece before piece 1: its summary does not
	// match piece 1's layout and is not used.
	g, upG, envG := start("福建己建设")
	piece = envG[PieceSize : 2*PieceSize]
	lie, _ := sealed.ReadLayout(envG[:sealed.LayoutBytes])
	lie = sealed.ClaimedLayout(lie.Base+1, lie.Header.ChunkSize)
	if err := e.Svc.PutPieceClaimed(ctx, g.Actor, upG.BidID, 1, 2, bytes.NewReader(piece), int64(len(piece)),
		PieceClaims{Before: sealed.ChainValues(envG, PieceSize)[1], Layout: lie}); err != nil {
		t.Fatal(err)
	}
	put(g, upG.BidID, 1, envG, true)
	put(g, upG.BidID, 3, envG, true)
	rb = readBacks()
	if done, err := e.Svc.CompletePart(ctx, g.Actor, upG.BidID, 1); err != nil || *done.SHA256 != sha(envG) {
		t.Fatalf("completed with a lying layout %+v %v", done, err)
	}
	if readBacks() != rb+1 {
		t.Fatal("a piece scanned with a wrong layout was trusted")
	}
}

// EB1 out of order: envelopes that are not well-formed, their pieces sent
// three at a time the way the browser sends them, are refused from the
// summaries alone (no read back), and a well-formed one is accepted.
func TestSealedUploadRefusesMalformedPiecesInAnyOrder(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	b := e.sealedBidder("福建甲建设")
	file := make([]byte, 3*PieceSize+777)
	rand.Read(file)
	up, err := e.Svc.StartBid(ctx, b.Actor, e.Lot, StartBidInput{Files: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	env := seal(t, up, b.Key, priceForm("100.00"), file)[1].Envelope
	l, err := sealed.ReadLayout(env)
	if err != nil {
		t.Fatal(err)
	}
	record := func(i int) int { return int(l.Base) + (i-1)*(l.Header.ChunkSize+21) }
	// send puts the pieces three at a time, with their chaining values
	// and the layout, and completes the part.
	send := func(env []byte) (*SealedPart, error) {
		chain := sealed.ChainValues(env, PieceSize)
		layout, err := sealed.ReadLayout(env[:sealed.LayoutBytes])
		if err != nil {
			t.Fatal(err)
		}
		put := func(n int) error {
			piece := env[(n-1)*PieceSize : min(n*PieceSize, len(env))]
			return e.Svc.PutPieceClaimed(ctx, b.Actor, up.BidID, 1, n, bytes.NewReader(piece), int64(len(piece)), PieceClaims{Before: chain[n-1], Layout: layout})
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(chain))
		sem := make(chan struct{}, 3)
		for n := len(chain); n >= 1; n-- { // last first: as far out of order as it gets
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				errs <- put(n)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				return nil, err
			}
		}
		return e.Svc.CompletePart(ctx, b.Actor, up.BidID, 1)
	}
	// 25 content records: 24 full chunks of 1 MiB, the final one in piece 4
	if record(25) < 3*PieceSize || record(26) < len(env) {
		t.Fatalf("the layout is not the one the cases assume: record 25 at %d of %d", record(25), len(env))
	}
	flag := func(i int, f byte) []byte { bad := bytes.Clone(env); bad[record(i)] = f; return bad }
	length := func(i int) []byte { bad := bytes.Clone(env); bad[record(i)+4] ^= 1; return bad }
	// the record whose prefix a piece boundary cuts
	cut := 0
	for i := 1; record(i) < len(env); i++ {
		if record(i)/PieceSize != (record(i)+4)/PieceSize || record(i)/PieceSize != (record(i)+1)/PieceSize {
			cut = i
		}
	}
	cases := map[string]struct {
		env  []byte
		want error
	}{
		"truncated by a byte":                   {env[:len(env)-1], sealed.ErrTruncated},
		"truncated at a piece boundary":         {env[:2*PieceSize], sealed.ErrTruncated},
		"data after the final chunk":            {append(bytes.Clone(env), 7), sealed.ErrMalformed},
		"a final flag in piece 2":               {flag(9, 1), sealed.ErrMalformed},
		"an unknown flag in the last piece":     {flag(25, 2), sealed.ErrMalformed},
		"the final chunk not flagged final":     {flag(25, 0), sealed.ErrMalformed},
		"a non-final chunk of the wrong length": {length(20), sealed.ErrMalformed},
	}
	if cut > 0 {
		cases["a flag cut by a piece boundary"] = struct {
			env  []byte
			want error
		}{flag(cut, 2), sealed.ErrMalformed}
	}
	rb := e.Svc.readBacks.Load()
	for name, c := range cases {
		_, err := send(c.env)
		if !errors.Is(err, ErrNotSealed) || !errors.Is(err, c.want) {
			t.Fatalf("%s: %v, want %v", name, err, c.want)
		}
	}
	if got := e.Svc.readBacks.Load(); got != rb {
		t.Fatalf("%d of the refusals read the envelope back", got-rb)
	}
	if _, err := send(env); err != nil {
		t.Fatalf("the well-formed envelope after the refusals: %v", err)
	}
}
