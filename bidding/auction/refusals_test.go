package auction_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/trading"
)

// Refusals that arrive while one is being recorded are recorded together,
// in one statement, and each is answered only once it is in the record.
// The record's table is locked in another transaction, so the first
// refusal's write waits (pg_stat_activity proves it, not a sleep) while ten
// more arrive; they form the next group, which is written once.
func TestRefusalsRecordedInGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	e.mustQuote(b, "5100000")

	// Eleven quotes in one second would break the rate limit (L8) and be
	// refused for that, without the bidder's code: no limit here.
	e.Trading.Book.Params.L8MaxQuotesPerSecond = 0
	hold := e.Trading.DB.Begin()
	t.Cleanup(func() { hold.Rollback() })
	if err := hold.Exec(`LOCK TABLE auction_log IN SHARE ROW EXCLUSIVE MODE`).Error; err != nil {
		t.Fatal(err)
	}
	rec := &statements{}
	db := e.Auction.DB
	e.Auction.DB = db.Session(&gorm.Session{Logger: rec})
	first := e.send(e.Auction, a, "5000000", "g0") // outbid: refused before the lot's lock
	e.waitingOn(`INSERT INTO auction_log`, 1)
	var rest []<-chan answer
	for i := 1; i <= 9; i++ {
		rest = append(rest, e.send(e.Auction, a, "5000000", fmt.Sprintf("g%d", i)))
	}
	// …and one whose text carries a NUL (a malformed amount, refused
	// before any statement), which PostgreSQL's text refuses: stripped, so
	// it cannot fail the group's one statement.
	nul := e.send(e.Auction, b, "1\x00", "gnul")
	for deadline := time.Now().Add(time.Minute); e.Auction.OpenRefusals() < 10; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d refusals joined the next group, want 10", e.Auction.OpenRefusals())
		}
	}
	for i, c := range append(rest, nul) {
		select {
		case ans := <-c:
			t.Fatalf("refusal %d was answered before it was recorded: %v", i, ans.err)
		default:
		}
	}
	// The database's clock moves on before the groups are written: each
	// refusal must keep the time it was decided at.
	decidedAt := sh(3, 24, 10, 0, 0)
	e.at(decidedAt.Add(5 * time.Minute))
	if err := hold.Commit().Error; err != nil {
		t.Fatal(err)
	}
	e.refused(e.await(first, "the first refusal").err, "L8")
	for i, c := range rest {
		ans := e.await(c, "a grouped refusal")
		e.refused(ans.err, "L8")
		// Recorded with the time it was decided (the statement that read
		// the lot), not the time of its group's write, after the clock moved.
		if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND idem_key = ? AND amount = 5000000 AND rule = 'L8' AND at = ?`,
			e.Lot, fmt.Sprintf("g%d", i+1), decidedAt); n != 1 {
			t.Fatalf("refusal g%d: %d record entries at the time it was decided, once answered", i+1, n)
		}
	}
	e.refused(e.await(nul, "the refusal with a NUL").err, "L8")
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND idem_key = 'gnul' AND detail LIKE '%“1”%'`, e.Lot); n != 1 {
		t.Fatalf("the refusal with a NUL: %d record entries", n)
	}
	e.Auction.DB = db
	inserts := 0
	for _, q := range rec.sql {
		if strings.Contains(q, "INSERT INTO auction_log") {
			inserts++
		}
	}
	if inserts != 2 {
		t.Fatalf("11 refusals took %d statements, want 2 (the first, then the ten together)", inserts)
	}
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND code = ?`, e.Lot, e.codeOf(a)); n != 10 {
		t.Fatalf("%d refusals recorded under the bidder's code, want 10", n)
	}
}

// An idempotency key with a control character is refused for the key
// (400, L8), not failed in the database (PostgreSQL's text refuses NUL).
func TestQuoteKeyWithControlCharacterRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	for _, key := range []string{"k\x00", "k\n1"} {
		_, err := e.Auction.Quote(e.ctx, a, e.Lot, auction.QuoteInput{Amount: "5000000", Key: key})
		e.refused(err, "L8")
		if te := trading.AsError(err); te.Status() != http.StatusBadRequest || te.Field != "key" {
			t.Fatalf("key %q: %d %q", key, te.Status(), te.Field)
		}
	}
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND rule = 'L8'`, e.Lot); n != 2 {
		t.Fatalf("%d refusals recorded, want 2", n)
	}
}
