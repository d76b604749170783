package auction_test

import (
	"net/http"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/cmd/ggzy/platform/platformtest"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// holdLot takes the lot's row lock as a quote does (FOR NO KEY UPDATE) in
// a transaction of its own and keeps it until release.
func (e *env) holdLot() (tx *gorm.DB, release func(commit bool)) {
	e.t.Helper()
	tx = e.Trading.DB.Begin()
	if tx.Error != nil {
		e.t.Fatal(tx.Error)
	}
	if err := tx.Exec(`SELECT 1 FROM auction_lots WHERE lot_id = ? FOR NO KEY UPDATE`, e.Lot).Error; err != nil {
		e.t.Fatal(err)
	}
	done := false
	release = func(commit bool) {
		if done {
			return
		}
		done = true
		if commit {
			if err := tx.Commit().Error; err != nil {
				e.t.Fatal(err)
			}
			return
		}
		tx.Rollback()
	}
	e.t.Cleanup(func() { release(false) })
	return tx, release
}

type answer struct {
	r   *auction.QuoteResult
	err error
}

// send quotes in the background on svc; the answer comes on the channel.
func (e *env) send(svc *auction.Service, a trading.Actor, amount, key string) <-chan answer {
	c := make(chan answer, 1)
	go func() {
		r, err := svc.Quote(e.ctx, a, e.Lot, auction.QuoteInput{Amount: amount, Key: key})
		c <- answer{r, err}
	}()
	return c
}

// await is the answer; a quote that never comes back is a test failure
// (it waits for a lock nobody releases), not a timing assertion.
func (e *env) await(c <-chan answer, what string) answer {
	e.t.Helper()
	select {
	case a := <-c:
		return a
	case <-time.After(time.Minute):
		e.t.Fatalf("%s: no answer while the lot's row lock is held (it waited for the lock)", what)
	}
	return answer{}
}

// waitingOnLock waits until n quotes wait for the lot's row lock in
// PostgreSQL (pg_stat_activity), so that "it waits" is proved by the
// database, not by a sleep.
func (e *env) waitingOnLock(n int64) {
	e.t.Helper()
	for i := 0; i < 600; i++ {
		if e.count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE '%auction_lots%NO KEY UPDATE%'`) == n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("%d quotes never waited for the lot's lock", n)
}

// outbidRefusal asserts the refusal of an outbid quote as the locked path
// words it: 422, L8, the amount field, the same message, and the record
// entry with the bidder's code and the key.
func (e *env) outbidRefusal(err error, code, amount, highest, least, key string) {
	e.t.Helper()
	e.refused(err, "L8")
	te := trading.AsError(err)
	want := "报价 " + amount + " 元低于当前最高报价 " + highest + " 元加一个加价幅度 100000.00 元（至少 " + least + " 元）"
	if te.Status() != http.StatusUnprocessableEntity || te.Field != "amount" || te.Message != want {
		e.t.Fatalf("refusal %d %q %q, want 422 amount %q", te.Status(), te.Field, te.Message, want)
	}
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND code = ? AND amount = ?
		AND rule = 'L8' AND detail = ? AND idem_key = ?`, e.Lot, code, amount, want, key); n != 1 {
		e.t.Fatalf("%d record entries of the refusal of %s (key %s)", n, amount, key)
	}
}

// An outbid quote is answered without the lot's lock (outbid.go): while
// another transaction holds the lot's row, the outbid quote of a qualified
// bidder is refused under L8 with the locked path's status, message and
// record entry, an unqualified bidder's outbid quote is still refused for
// its qualification, and a valid quote waits for the lock and is then
// accepted. Nothing else is written.
func TestOutbidRefusedWithoutTheLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	unpaid := e.bidder("福建丙置业有限公司", false)
	e.at(sh(3, 24, 10, 0, 0))
	first := e.mustQuote(a, "5000000")
	bc := e.mustQuote(b, "5100000").Code

	_, release := e.holdLot()
	got := e.await(e.send(e.Auction, b, "5150000", "b-outbid-1"), "an outbid quote")
	e.outbidRefusal(got.err, bc, "5150000.00", "5100000.00", "5200000.00", "b-outbid-1")
	// Qualification first: the unpaid bidder hears about its deposit (L7),
	// not its amount.
	got = e.await(e.send(e.Auction, unpaid, "5150000", "c-outbid"), "an unqualified bidder's quote")
	e.refused(got.err, "L7")
	if te := trading.AsError(got.err); te.Status() != http.StatusForbidden || te.Field != "deposit" {
		t.Fatalf("unqualified: %d %q", te.Status(), te.Field)
	}
	// Agents may not quote (A1), whatever the amount.
	got = e.await(e.send(e.Auction, e.Agent, "1", "agent"), "the agent's quote")
	e.refused(got.err, "A1")

	valid := e.send(e.Auction, a, "5200000", "a-valid")
	e.waitingOnLock(1)
	// While the valid one waits, another outbid one is still answered.
	got = e.await(e.send(e.Auction, b, "5100000", "b-outbid-2"), "an outbid quote beside a waiting one")
	e.outbidRefusal(got.err, bc, "5100000.00", "5100000.00", "5200000.00", "b-outbid-2")
	select {
	case v := <-valid:
		t.Fatalf("the valid quote was answered while the lot's lock was held: %+v %v", v.r, v.err)
	default:
	}
	release(false)
	if v := e.await(valid, "the valid quote"); v.err != nil || v.r.Duplicate || !v.r.Quote.Amount.Equal(mustDec("5200000")) {
		t.Fatalf("the valid quote after the lock: %+v %v", v.r, v.err)
	}

	// A retry of an accepted quote (same key) is its first answer, never a
	// refusal, though its amount is outbid now.
	r, err := e.Auction.Quote(e.ctx, a, e.Lot, auction.QuoteInput{Amount: "5000000", Key: first.Quote.IdemKey})
	if err != nil || !r.Duplicate || r.Quote.ID != first.Quote.ID {
		t.Fatalf("retry of an accepted quote: %+v %v", r, err)
	}
	if n := e.count("SELECT count(*) FROM auction_quotes WHERE lot_id = ?", e.Lot); n != 3 {
		t.Fatalf("%d quotes accepted, want 3", n)
	}
	if n := e.count("SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused'", e.Lot); n != 4 {
		t.Fatalf("%d refusals recorded, want 4", n)
	}
	if n := e.count("SELECT count(*) FROM audit_events WHERE action = 'auction.quote' AND object_id = ?", itoa(e.Lot)); n != 3 {
		t.Fatalf("%d quote audit records, want the 3 accepted (a refusal is recorded, not audited)", n)
	}
	if l := e.lot(); l.Quotes != 3 || !l.Highest.Equal(mustDec("5200000")) {
		t.Fatalf("the lot: %+v", l)
	}
}

// The committed row can only be behind the lock holder's, never ahead: a
// quote that is valid against it but outbid by a quote still being
// written waits for the lock, and the lock refuses it with the new
// highest; a quote valid against both is accepted.
func TestOutbidStaleLowGoesToTheLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	bc := e.mustQuote(b, "5100000").Code

	// A quote being written: the holder raised the highest, not committed.
	tx, release := e.holdLot()
	if err := tx.Exec(`UPDATE auction_lots SET highest = 5400000 WHERE lot_id = ?`, e.Lot).Error; err != nil {
		t.Fatal(err)
	}
	stale := e.send(e.Auction, b, "5450000", "b-stale")
	e.waitingOnLock(1)
	release(true)
	got := e.await(stale, "the quote outbid under the lock")
	e.outbidRefusal(got.err, bc, "5450000.00", "5400000.00", "5500000.00", "b-stale")

	// Against the committed row and the lock alike: accepted.
	if r := e.mustQuote(a, "5500000"); r.Duplicate {
		t.Fatalf("accepted as a duplicate: %+v", r)
	}
}

// Timed bidding starts from the listing's highest (L11): the first timed
// quote is refused before the lock if it does not beat it, and a quote of
// exactly the highest + one increment is accepted.
func TestOutbidAcrossTheListingClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	bc := e.mustQuote(b, "5100000").Code
	for _, x := range []trading.Actor{a, b} {
		if err := e.Auction.WantTimed(e.ctx, x, e.Lot); err != nil {
			t.Fatal(err)
		}
	}
	e.settle(listingEnd)
	e.at(listingEnd.Add(time.Minute))
	if l := e.lot(); l.State != auction.StateTimed {
		t.Fatalf("state %s", l.State)
	}
	_, release := e.holdLot()
	got := e.await(e.send(e.Auction, b, "5100000", "b-timed"), "an outbid timed quote")
	e.outbidRefusal(got.err, bc, "5100000.00", "5100000.00", "5200000.00", "b-timed")
	release(false)
	if l := e.lot(); l.CountdownEnd == nil || !l.CountdownEnd.Equal(listingEnd.Add(240*time.Second)) {
		t.Fatalf("a refused quote moved the countdown: %v", l.CountdownEnd)
	}
	e.mustQuote(a, "5200000")
}

// Two instances on one database: a quote accepted on A makes B refuse the
// outbid one without the lock at once, without waiting for B's live hub to
// hear of it (B reads the committed row, not a memory fed by
// notifications).
func TestOutbidAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testenv.DatabaseURL(t)
	s3 := testenv.Storage(t)
	st, err := trading.NewStorage(trading.StorageConfig{Endpoint: s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Bucket: s3.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	clock := trading.NewManualClock(platformtest.Start)
	A, B := newInstance(t, url, st, clock), newInstance(t, url, st, clock)
	e := newEnvOn(t, A.Env, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	x := e.bidder("福建甲置业有限公司", true)
	y := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	if _, err := B.Auction.Quote(e.ctx, x, e.Lot, auction.QuoteInput{Amount: "5000000", Key: "x1"}); err != nil {
		t.Fatal(err)
	}
	r, err := B.Auction.Quote(e.ctx, y, e.Lot, auction.QuoteInput{Amount: "5100000", Key: "y1"})
	if err != nil {
		t.Fatal(err)
	}
	yc := r.Code
	e.at(sh(3, 24, 10, 1, 0))
	if _, err := A.Auction.Quote(e.ctx, x, e.Lot, auction.QuoteInput{Amount: "5200000", Key: "x2"}); err != nil {
		t.Fatal(err)
	}
	_, release := e.holdLot()
	got := e.await(e.send(B.Auction, y, "5250000", "y-outbid"), "B's outbid quote")
	e.outbidRefusal(got.err, yc, "5250000.00", "5200000.00", "5300000.00", "y-outbid")
	valid := e.send(B.Auction, y, "5300000", "y-valid")
	e.waitingOnLock(1)
	release(false)
	if v := e.await(valid, "B's valid quote"); v.err != nil || !v.r.Quote.Amount.Equal(mustDec("5300000")) {
		t.Fatalf("B's valid quote: %+v %v", v.r, v.err)
	}
}

// waitingOn waits until n statements containing what wait for a lock in
// PostgreSQL (pg_stat_activity).
func (e *env) waitingOn(what string, n int64) {
	e.t.Helper()
	for i := 0; i < 600; i++ {
		if e.count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND strpos(query, ?) > 0`, what) == n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("%d statements never waited on a lock: %s", n, what)
}
