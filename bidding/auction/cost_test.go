package auction_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ggzy/ggzy/trading"
)

// statements is a gorm logger that keeps every statement run through it.
type statements struct {
	mu  sync.Mutex
	sql []string
}

func (s *statements) LogMode(logger.LogLevel) logger.Interface      { return s }
func (s *statements) Info(context.Context, string, ...interface{})  {}
func (s *statements) Warn(context.Context, string, ...interface{})  {}
func (s *statements) Error(context.Context, string, ...interface{}) {}
func (s *statements) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	q, _ := fc()
	s.mu.Lock()
	s.sql = append(s.sql, strings.Join(strings.Fields(q), " "))
	s.mu.Unlock()
}

// What one accepted quote costs the database: the statements of a timed-
// bidding quote by a bidder who has quoted before (its code exists), the
// common case under load (BENCHMARKS.md, "Online bidding"). Each is one
// round trip; BEGIN and COMMIT add two. The bound keeps the quote path
// from growing back what was cut from it.
func TestQuoteStatements(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	e.mustQuote(b, "5100000")
	for _, x := range []trading.Actor{a, b} {
		if err := e.Auction.WantTimed(e.ctx, x, e.Lot); err != nil {
			t.Fatal(err)
		}
	}
	e.settle(listingEnd)
	e.at(listingEnd.Add(time.Minute))
	rec := &statements{}
	db := e.Auction.DB
	e.Auction.DB = db.Session(&gorm.Session{Logger: rec})
	e.mustQuote(a, "5200000")
	e.Auction.DB = db
	t.Logf("%d statements:\n%s", len(rec.sql), strings.Join(rec.sql, "\n"))
	// The count with who may quote, the deposit (deposit_cover) and the
	// lot's committed row (one statement, outbid.go), and the quote in one
	// statement that locks the lot, reads the clock under the lock and
	// writes the quote, its record entries, the lot, audit and live events
	// (fast.go). No transaction: the lot's lock is held only while the last
	// one runs and commits. (The locked path was 7 plus BEGIN and COMMIT;
	// the deposit was a statement of its own until migration 00034.)
	const most = 2
	if len(rec.sql) > most {
		t.Fatalf("an accepted quote ran %d statements, at most %d expected", len(rec.sql), most)
	}
	if !strings.Contains(rec.sql[0], "deposit_cover(") {
		t.Fatalf("the deposit was not read with who may quote: %s", rec.sql[0])
	}
	if last := rec.sql[len(rec.sql)-1]; !strings.Contains(last, "FOR NO KEY UPDATE") || !strings.Contains(last, "audit_append") ||
		!strings.Contains(last, "live_events") {
		t.Fatalf("the quote was not taken by the one statement: %s", last)
	}
	// …and did all it did before: the quote, its record entries, the lot.
	l := e.lot()
	if !l.Highest.Equal(mustDec("5200000")) || l.Quotes != 3 || !l.CountdownEnd.Equal(listingEnd.Add(time.Minute+240*time.Second)) {
		t.Fatalf("the lot after the quote: %+v", l)
	}
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind IN ('quote', 'restart') AND at = ?`, e.Lot, listingEnd.Add(time.Minute)); n != 2 {
		t.Fatalf("%d record entries of the quote, want the quote and the restart", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'auction.quote' AND occurred_at = ?`, listingEnd.Add(time.Minute)); n != 1 {
		t.Fatalf("%d audit records of the quote", n)
	}
	if n := e.count(`SELECT count(*) FROM live_events WHERE topic = ? AND kind = 'quote' AND data->>'amount' = '5200000'`, "auction/"+itoa(e.Lot)); n != 1 {
		t.Fatalf("%d live events of the quote", n)
	}
	if _, problem, err := trading.VerifyAudit(e.ctx, e.Trading.DB); err != nil || problem != nil {
		t.Fatalf("audit chain: %v %v", problem, err)
	}
}

// What a quote costs when the one statement does not take it. Outbid
// between beforeLock's read and the lock: the statement finds the amount
// outbid by the row it locked and the refusal is recorded at once (with
// the key's check), 3 statements and no transaction, no second wait for
// the lock. An accepted quote on the locked path (a lot with a price cap):
// the lock, the clock and the key in one statement (lockNow), then the
// writes, audit and live event, 5 statements plus BEGIN and COMMIT (it was
// 7, then 6 until the deposit joined the first statement).
func TestQuoteStatementsOffTheFastPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	e.mustQuote(b, "5100000")
	tx, release := e.holdLot()
	if err := tx.Exec(`UPDATE auction_lots SET highest = 5400000 WHERE lot_id = ?`, e.Lot).Error; err != nil {
		t.Fatal(err)
	}
	rec := &statements{}
	db := e.Auction.DB
	e.Auction.DB = db.Session(&gorm.Session{Logger: rec})
	late := e.send(e.Auction, a, "5300000", "late")
	e.waitingOnLock(1)
	release(true)
	got := e.await(late, "the quote outbid under the lock")
	e.Auction.DB = db
	e.refused(got.err, "L8")
	t.Logf("%d statements:\n%s", len(rec.sql), strings.Join(rec.sql, "\n"))
	if len(rec.sql) != 3 || !strings.Contains(rec.sql[2], "'refused'") {
		t.Fatalf("a quote outbid under the lock ran %d statements, want 3 ending with its refusal", len(rec.sql))
	}

	capped := landLot("listing")
	capped.PriceCap = "9000000.00"
	e = newEnv(t, capped)
	e.at(sh(3, 20, 10, 0, 0))
	a = e.bidder("福建甲置业有限公司", true)
	b = e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	e.mustQuote(b, "5100000")
	rec = &statements{}
	db = e.Auction.DB
	e.Auction.DB = db.Session(&gorm.Session{Logger: rec})
	e.mustQuote(a, "5200000")
	e.Auction.DB = db
	t.Logf("%d statements:\n%s", len(rec.sql), strings.Join(rec.sql, "\n"))
	if len(rec.sql) != 5 {
		t.Fatalf("an accepted quote on the locked path ran %d statements, want 5", len(rec.sql))
	}
	if l := e.lot(); !l.Highest.Equal(mustDec("5200000")) || l.Quotes != 3 {
		t.Fatalf("the lot after the quote: %+v", l)
	}
}

// The first statement admits a covered bidder without calling Qualified
// only when the platform says Qualified decides by deposit_cover alone
// (QualifiedByDepositCover, set by Wire for deposits.DepositCovered).
// Without it, a stricter hook decides every quote.
func TestQualifiedHookDecidesWithoutTheFlag(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	if !e.Auction.QualifiedByDepositCover {
		t.Fatal("Wire did not set QualifiedByDepositCover for DepositCovered")
	}
	covered := e.Auction.Qualified
	calls := 0
	e.Auction.Qualified = func(ctx context.Context, tx *gorm.DB, id int64) (bool, string, error) {
		calls++
		return covered(ctx, tx, id)
	}
	e.mustQuote(a, "5100000")
	if calls != 0 {
		t.Fatalf("a covered bidder's quote called Qualified %d times, although its first statement read the cover", calls)
	}
	e.Auction.QualifiedByDepositCover = false
	e.Auction.Qualified = func(ctx context.Context, tx *gorm.DB, id int64) (bool, string, error) {
		calls++
		return false, "列入失信被执行人名单", nil
	}
	_, err := e.quote(a, "5200000")
	e.refused(err, "L7")
	if calls == 0 || !strings.Contains(trading.AsError(err).Message, "列入失信被执行人名单") {
		t.Fatalf("the stricter hook did not decide (%d calls): %v", calls, err)
	}
}
