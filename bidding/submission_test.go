package bidding

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// sealedEnv is a bidEnv with a receipt keyring, an engineering lot whose
// documents are out, and both clocks (the service's and the database's)
// on Wednesday 2026-03-04 10:00 in Shanghai.
type sealedEnv struct {
	*bidEnv
	Lot  int64
	Dead time.Time
}

func newSealedEnv(t testing.TB) *sealedEnv {
	e := newBidEnv(t)
	ring, err := sealed.NewKeyringFile(filepath.Join(t.TempDir(), "keyring.json"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.Svc.Receipts = ring
	p := e.project("engineering", true)
	se := &sealedEnv{bidEnv: e, Lot: p.Lots[0].ID, Dead: *p.Lots[0].BidDeadline}
	se.at(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	return se
}

// at moves both clocks to t.
func (e *sealedEnv) at(t time.Time) {
	e.t.Helper()
	e.Clock.Set(t)
	if err := trading.FreezeDBClock(context.Background(), e.Svc.DB, t); err != nil {
		e.t.Fatal(err)
	}
}

type testBidder struct {
	trading.Actor
	Key *ecdh.PrivateKey
}

// sealedBidder signs up, registers for the lot and registers a bid key.
func (e *sealedEnv) sealedBidder(name string) *testBidder {
	e.t.Helper()
	a := e.bidder(name)
	if _, err := e.Svc.Register(context.Background(), a, e.Lot, RegisterInput{}); err != nil {
		e.t.Fatal(err)
	}
	return &testBidder{Actor: a, Key: e.newKey(a)}
}

func (e *sealedEnv) newKey(a trading.Actor) *ecdh.PrivateKey {
	e.t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	spki := sealed.MarshalPublicKey(priv.PublicKey())
	if _, err := e.Svc.RegisterBidKey(context.Background(), a, BidKeyInput{PublicKey: base64.StdEncoding.EncodeToString(spki),
		Fingerprint: sealed.Fingerprint(priv.PublicKey())}); err != nil {
		e.t.Fatal(err)
	}
	return priv
}

// sealedPart is one sealed part ready to upload.
type sealedPart struct {
	Envelope []byte
	Sealed   *sealed.Sealed
	Plain    []byte
}

// seal seals plaintexts as the parts of an upload (part 0 the price form).
func seal(t testing.TB, up *BidUpload, priv *ecdh.PrivateKey, plains ...[]byte) []sealedPart {
	t.Helper()
	ck, err := sealed.NewContentKey(up.Ref)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]sealedPart, len(plains))
	for i, p := range plains {
		var buf bytes.Buffer
		s, err := sealed.Seal(&buf, bytes.NewReader(p), priv.PublicKey(), ck, sealed.SealOptions{Part: i, Name: fmt.Sprintf("part%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = sealedPart{Envelope: buf.Bytes(), Sealed: s, Plain: p}
	}
	return out
}

// send uploads an envelope's pieces from piece `from` on and completes the part.
func (e *sealedEnv) send(a trading.Actor, bidID int64, part int, env []byte) (*SealedPart, error) {
	e.t.Helper()
	ctx := context.Background()
	for n := 1; (n-1)*PieceSize < len(env); n++ {
		piece := env[(n-1)*PieceSize : min(n*PieceSize, len(env))]
		if err := e.Svc.PutPiece(ctx, a, bidID, part, n, bytes.NewReader(piece), int64(len(piece))); err != nil {
			return nil, err
		}
	}
	return e.Svc.CompletePart(ctx, a, bidID, part)
}

// submit starts a version, seals and uploads the parts, and finalises.
func (e *sealedEnv) submit(b *testBidder, plains ...[]byte) (*SealedBid, []sealedPart, error) {
	e.t.Helper()
	up, parts, err := e.prepare(b, plains...)
	if err != nil {
		return nil, nil, err
	}
	bid, err := e.Svc.Finalize(context.Background(), b.Actor, up.BidID)
	return bid, parts, err
}

// prepare starts a version and uploads every part, without finalising.
func (e *sealedEnv) prepare(b *testBidder, plains ...[]byte) (*BidUpload, []sealedPart, error) {
	e.t.Helper()
	up, err := e.Svc.StartBid(context.Background(), b.Actor, e.Lot, StartBidInput{Files: len(plains) - 1, Device: "dev-" + b.Username}, "198.51.100.1")
	if err != nil {
		return nil, nil, err
	}
	parts := seal(e.t, up, b.Key, plains...)
	for i, p := range parts {
		if _, err := e.send(b.Actor, up.BidID, i, p.Envelope); err != nil {
			return nil, nil, err
		}
	}
	return up, parts, nil
}

func priceForm(price string) []byte {
	b, _ := json.Marshal(map[string]string{"price": price, "period": "365", "quality": "合格", "manager": "李四"})
	return b
}

func TestBidKeysRotateAndRevoke(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	a := e.bidder("福建甲建设")
	priv, _ := ecdh.P256().GenerateKey(rand.Reader)
	spki := base64.StdEncoding.EncodeToString(sealed.MarshalPublicKey(priv.PublicKey()))
	if _, err := e.Svc.RegisterBidKey(ctx, a, BidKeyInput{PublicKey: spki, Fingerprint: "00" + sealed.Fingerprint(priv.PublicKey())[2:]}); trading.AsError(err).Field != "fingerprint" {
		t.Fatalf("a fingerprint not of the key: %v", err)
	}
	if _, err := e.Svc.RegisterBidKey(ctx, a, BidKeyInput{PublicKey: "bm90IGEga2V5"}); trading.AsError(err).Field != "public_key" {
		t.Fatalf("not a key: %v", err)
	}
	if _, err := e.Svc.RegisterBidKey(ctx, e.Agent, BidKeyInput{PublicKey: spki}); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("an agent's key: %v", err)
	}
	k1, err := e.Svc.RegisterBidKey(ctx, a, BidKeyInput{PublicKey: spki, Fingerprint: sealed.Fingerprint(priv.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.RegisterBidKey(ctx, e.bidder("福建乙建设"), BidKeyInput{PublicKey: spki}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("the same key for another bidder: %v", err)
	}
	e.newKey(a) // rotation
	keys, err := e.Svc.BidKeys(ctx, a)
	if err != nil || len(keys) != 2 || keys[0].RevokedAt != nil || keys[1].ID != k1.ID || keys[1].RevokedAt == nil {
		t.Fatalf("after rotation: %+v %v", keys, err)
	}
	if err := e.Svc.RevokeBidKey(ctx, a, "密钥文件丢失"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.RevokeBidKey(ctx, a, "再次作废"); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("no current key to revoke: %v", err)
	}
	if _, err := e.Svc.StartBid(ctx, a, e.Lot, StartBidInput{Files: 1}, ""); err == nil {
		t.Fatal("a bid started with no current key")
	}
	var n int64
	e.Svc.DB.Model(&trading.AuditEvent{}).Where("action LIKE 'bidkey.%'").Count(&n)
	if n != 3 {
		t.Fatalf("audit records of bid keys: %d, want 3 (register, rotate, revoke)", n)
	}
	e.verifyAudit()
}

func TestSealedBidSubmitReplaceWithdraw(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	b := e.sealedBidder("福建甲建设")
	// A bid file of more than one piece, so the multipart join is exercised.
	file := make([]byte, PieceSize+123457)
	rand.Read(file)
	up, err := e.Svc.StartBid(ctx, b.Actor, e.Lot, StartBidInput{Files: 1}, "198.51.100.1")
	if err != nil {
		t.Fatal(err)
	}
	parts := seal(t, up, b.Key, priceForm("11800000.00"), file)
	// The first piece, then the connection breaks: the store reports what
	// it has, and the upload goes on from there.
	env := parts[1].Envelope
	if err := e.Svc.PutPiece(ctx, b.Actor, up.BidID, 1, 1, bytes.NewReader(env[:PieceSize]), PieceSize); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.PutPiece(ctx, b.Actor, up.BidID, 1, 2, &droppedConn{data: env[PieceSize:], after: 1000}, int64(len(env)-PieceSize)); err == nil {
		t.Fatal("a piece broken off was stored")
	}
	pieces, done, err := e.Svc.PartStatus(ctx, b.Actor, up.BidID, 1)
	if err != nil || done || len(pieces) != 1 || pieces[0].N != 1 || pieces[0].Size != PieceSize {
		t.Fatalf("after a broken piece the store has %+v (done %v, %v), want piece 1 only", pieces, done, err)
	}
	rest := env[PieceSize:]
	if err := e.Svc.PutPiece(ctx, b.Actor, up.BidID, 1, 2, bytes.NewReader(rest), int64(len(rest))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.CompletePart(ctx, b.Actor, up.BidID, 1); err != nil {
		t.Fatal(err)
	}
	if _, done, err := e.Svc.PartStatus(ctx, b.Actor, up.BidID, 1); err != nil || !done {
		t.Fatalf("part 1 complete: %v %v", done, err)
	}
	if _, err := e.Svc.Finalize(ctx, b.Actor, up.BidID); trading.AsError(err).Field != "parts[0]" {
		t.Fatalf("finalised without the price form: %v", err)
	}
	if _, err := e.send(b.Actor, up.BidID, 0, parts[0].Envelope); err != nil {
		t.Fatal(err)
	}
	v1, err := e.Svc.Finalize(ctx, b.Actor, up.BidID)
	if err != nil {
		t.Fatal(err)
	}
	// The receipt: signed, and it names what was sealed.
	r, err := e.Svc.Receipts.Verify(v1.Receipt)
	if err != nil {
		t.Fatal(err)
	}
	if r.BidID != up.BidID || r.LotID != e.Lot || r.Version != 1 || len(r.Parts) != 2 || r.KeyFingerprint != sealed.Fingerprint(b.Key.PublicKey()) ||
		r.ReceivedAt != sealed.ReceiptTime(e.Clock.Now()) {
		t.Fatalf("receipt %+v", r)
	}
	for i, p := range parts {
		if r.Parts[i].Commitment != fmt.Sprintf("%x", p.Sealed.Commitment) || r.Parts[i].Size != int64(len(p.Envelope)) {
			t.Fatalf("receipt part %d: %+v", i, r.Parts[i])
		}
		// EB14: the backup copy and its nonce match the receipt.
		if err := sealed.VerifyBackup(bytes.NewReader(p.Plain), base64.StdEncoding.EncodeToString(p.Sealed.Nonce[:]), r.Parts[i].Commitment); err != nil {
			t.Fatalf("backup of part %d: %v", i, err)
		}
	}
	got, err := e.Svc.Receipt(ctx, b.Actor, up.BidID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Receipts.Verify(got); err != nil {
		t.Fatalf("the downloaded receipt: %v", err)
	}
	if _, err := e.Svc.Receipt(ctx, e.bidder("福建乙建设"), up.BidID); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("another bidder's receipt: %v", err)
	}
	if _, err := e.Svc.Finalize(ctx, b.Actor, up.BidID); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("finalised twice: %v", err)
	}

	// Replace: a second version; the first is kept as replaced.
	e.Clock.Advance(time.Hour)
	v2, _, err := e.submit(b, priceForm("11700000.00"), []byte("%PDF-1.7 second"))
	if err != nil {
		t.Fatal(err)
	}
	mine, err := e.Svc.MyBidFor(ctx, b.Actor, e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	if mine.Current == nil || mine.Current.ID != v2.ID || mine.Current.Version != 2 || len(mine.Versions) != 2 || mine.Versions[1].Status != BidReplaced {
		t.Fatalf("after replacing: %+v", mine)
	}

	// Withdraw: the bid and the registration, through the one path (D6).
	if err := e.Svc.WithdrawBid(ctx, b.Actor, e.Lot); err != nil {
		t.Fatal(err)
	}
	mine, _ = e.Svc.MyBidFor(ctx, b.Actor, e.Lot)
	if mine.Current != nil || mine.Versions[0].Status != BidWithdrawn {
		t.Fatalf("after withdrawing: %+v", mine.Versions)
	}
	var reg Registration
	e.Svc.DB.Where("lot_id = ? AND bidder_id = ?", e.Lot, b.AccountID).Take(&reg)
	if reg.Status != StatusWithdrawn {
		t.Fatalf("registration %s after the bid was withdrawn", reg.Status)
	}
	if _, err := e.Svc.StartBid(ctx, b.Actor, e.Lot, StartBidInput{Files: 1}, ""); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("a bid without a live registration: %v", err)
	}
	e.verifyAudit()
}

// droppedConn gives `after` bytes then fails, like a dropped connection.
type droppedConn struct {
	data  []byte
	after int
}

func (r *droppedConn) Read(p []byte) (int, error) {
	if r.after <= 0 {
		return 0, errors.New("connection reset")
	}
	n := copy(p[:min(len(p), r.after)], r.data)
	r.data, r.after = r.data[n:], r.after-n
	return n, nil
}

// EB1: anything but a well-formed envelope of this very bid is refused,
// deleted, and the part can be sent again.
func TestSealedBidRefusesWhatIsNotAnEnvelope(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	b := e.sealedBidder("福建甲建设")
	up, err := e.Svc.StartBid(ctx, b.Actor, e.Lot, StartBidInput{Files: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	parts := seal(t, up, b.Key, priceForm("100.00"), []byte("%PDF-1.7 bid"))
	other := seal(t, &BidUpload{Ref: "lot-1/other"}, b.Key, priceForm("1.00"), []byte("x"))
	otherKey, _ := ecdh.P256().GenerateKey(rand.Reader)
	wrongKey := seal(t, up, otherKey, priceForm("1.00"), []byte("x"))
	truncated := parts[1].Envelope[:len(parts[1].Envelope)-3]
	flipped := bytes.Clone(parts[1].Envelope)
	flipped[len(flipped)-40] ^= 1
	for name, env := range map[string][]byte{
		"plain PDF": []byte("%PDF-1.7 a plain bid file"), "truncated": truncated, "another bid's envelope": other[1].Envelope,
		"sealed to another key": wrongKey[1].Envelope, "price form as file": parts[0].Envelope,
	} {
		_, err := e.send(b.Actor, up.BidID, 1, env)
		if !errors.Is(err, ErrNotSealed) || trading.AsError(err).Status() != 400 {
			t.Fatalf("%s: %v", name, err)
		}
	}
	_ = flipped // a flipped ciphertext byte is well-formed framing: found at the opening (sealed's tamper tests)
	// Completing before the last piece arrived: a truncated envelope,
	// refused; the part starts over with nothing stored.
	big := seal(t, up, b.Key, priceForm("100.00"), make([]byte, PieceSize+10))[1].Envelope
	if err := e.Svc.PutPiece(ctx, b.Actor, up.BidID, 1, 1, bytes.NewReader(big[:PieceSize]), PieceSize); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.CompletePart(ctx, b.Actor, up.BidID, 1); !errors.Is(err, sealed.ErrTruncated) {
		t.Fatalf("completed without its last piece: %v", err)
	}
	if pieces, done, err := e.Svc.PartStatus(ctx, b.Actor, up.BidID, 1); err != nil || done || len(pieces) != 0 {
		t.Fatalf("after a refusal the part holds %v (done %v, %v)", pieces, done, err)
	}
	if _, err := e.send(b.Actor, up.BidID, 1, parts[1].Envelope); err != nil {
		t.Fatalf("the real envelope after refusals: %v", err)
	}
	if _, err := e.send(b.Actor, up.BidID, 0, parts[0].Envelope); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Finalize(ctx, b.Actor, up.BidID); err != nil {
		t.Fatal(err)
	}
}

// EB2: the database clock, read in the finalising transaction, decides;
// 1 ms after the deadline is refused, and the service's own clock does not
// matter. An upload unfinished at the deadline counts as withdrawn.
func TestSealedBidDeadlineByDatabaseClock(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	a, b, c := e.sealedBidder("福建甲建设"), e.sealedBidder("福建乙建设"), e.sealedBidder("福建丙建设")
	upA, _, err := e.prepare(a, priceForm("100.00"), []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	upB, _, err := e.prepare(b, priceForm("101.00"), []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	// The sealed bids' audit records stay out of the log until the
	// deadline (K4/K5), then they are there.
	sealedRecords := func() int {
		ev, err := trading.ListAudit(ctx, e.Svc.DB, trading.AuditFilter{ObjectType: "sealed_bid", Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		return len(ev)
	}
	if n := sealedRecords(); n != 0 {
		t.Fatalf("%d sealed-bid audit records shown before the deadline", n)
	}
	defer func() {
		if n := sealedRecords(); n < 6 {
			t.Fatalf("%d sealed-bid audit records shown after the deadline", n)
		}
	}()
	// The service's clock stays well before the deadline; the database's
	// moves to 1 ms before it.
	e.Clock.Set(e.Dead.Add(-time.Hour))
	if err := trading.FreezeDBClock(ctx, e.Svc.DB, e.Dead.Add(-time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	vA, err := e.Svc.Finalize(ctx, a.Actor, upA.BidID)
	if err != nil {
		t.Fatal(err)
	}
	if !vA.FinalizedAt.Equal(e.Dead.Add(-time.Millisecond)) {
		t.Fatalf("finalised at %v, want the database clock %v", vA.FinalizedAt, e.Dead.Add(-time.Millisecond))
	}
	if err := trading.FreezeDBClock(ctx, e.Svc.DB, e.Dead.Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Finalize(ctx, b.Actor, upB.BidID); trading.AsError(err).Rule != "EB2" || !errors.Is(err, ErrBidDeadline) {
		t.Fatalf("finalised 1 ms after the deadline: %v", err)
	}
	if _, err := e.Svc.StartBid(ctx, c.Actor, e.Lot, StartBidInput{Files: 1}, ""); trading.AsError(err).Rule != "EB2" {
		t.Fatalf("started after the deadline: %v", err)
	}
	if err := e.Svc.PutPiece(ctx, b.Actor, upB.BidID, 1, 1, bytes.NewReader([]byte("x")), 1); trading.AsError(err).Rule != "EB2" {
		t.Fatalf("a piece after the deadline: %v", err)
	}
	if err := e.Svc.WithdrawBid(ctx, a.Actor, e.Lot); trading.AsError(err).Rule != "EB2" {
		t.Fatalf("withdrawn after the deadline: %v", err)
	}
	// Exactly at the deadline is after it.
	if err := trading.FreezeDBClock(ctx, e.Svc.DB, e.Dead); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Finalize(ctx, b.Actor, upB.BidID); trading.AsError(err).Rule != "EB2" {
		t.Fatalf("finalised at the deadline: %v", err)
	}
	mineB, _ := e.Svc.MyBidFor(ctx, b.Actor, e.Lot)
	if mineB.Current != nil || mineB.Upload == nil {
		t.Fatalf("b's unfinished upload: %+v", mineB)
	}
	bids, err := e.Svc.OpeningBids(ctx, e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	if len(bids) != 1 || bids[0].ID != upA.BidID {
		t.Fatalf("bids at the opening: %+v, want a's only (b's unfinished upload counts as withdrawn)", bids)
	}
}

// Finalisations racing the deadline: each is decided by the database clock
// read in its own transaction, and the deadline moving (an amendment)
// waits for, or is seen by, every one of them.
func TestSealedBidRaceAtTheDeadline(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	const n = 6
	ups := make([]*BidUpload, n)
	bidders := make([]*testBidder, n)
	for i := range ups {
		bidders[i] = e.sealedBidder(fmt.Sprintf("福建%d建设", i))
		up, _, err := e.prepare(bidders[i], priceForm(fmt.Sprintf("%d.00", 100+i)), []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		ups[i] = up
	}
	if err := trading.FreezeDBClock(ctx, e.Svc.DB, e.Dead.Add(-time.Microsecond)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range ups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == n/2 {
				// The clock reaches the deadline in the middle of the burst.
				if err := trading.FreezeDBClock(ctx, e.Svc.DB, e.Dead); err != nil {
					t.Error(err)
				}
			}
			_, errs[i] = e.Svc.Finalize(ctx, bidders[i].Actor, ups[i].BidID)
		}()
	}
	wg.Wait()
	accepted := 0
	for i, err := range errs {
		var row SealedBid
		if err := e.Svc.DB.Take(&row, ups[i].BidID).Error; err != nil {
			t.Fatal(err)
		}
		finalized := row.FinalizedAt
		switch {
		case err == nil:
			accepted++
			if finalized == nil || !finalized.Before(e.Dead) {
				t.Fatalf("bid %d accepted with finalised_at %v, not before the deadline", i, finalized)
			}
		case trading.AsError(err).Rule == "EB2":
			if finalized != nil {
				t.Fatalf("bid %d refused but finalised at %v", i, finalized)
			}
		default:
			t.Fatalf("bid %d: %v", i, err)
		}
	}
	bids, err := e.Svc.OpeningBids(ctx, e.Lot)
	if err != nil || len(bids) != accepted {
		t.Fatalf("%d accepted, %d at the opening (%v)", accepted, len(bids), err)
	}
}
