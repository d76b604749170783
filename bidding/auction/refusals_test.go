package auction_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
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
	if err := hold.Exec(`LOCK TABLE auction_log IN SHARE ROW EXCLUSIVE MODE`).Error; err != nil {
		t.Fatal(err)
	}
	rec := &statements{}
	db := e.Auction.DB
	e.Auction.DB = db.Session(&gorm.Session{Logger: rec})
	first := e.send(e.Auction, a, "5000000", "g0") // outbid: refused before the lot's lock
	e.waitingOn(`INSERT INTO auction_log`, 1)
	var rest []<-chan answer
	for i := 1; i <= 10; i++ {
		rest = append(rest, e.send(e.Auction, a, "5000000", fmt.Sprintf("g%d", i)))
	}
	for deadline := time.Now().Add(time.Minute); e.Auction.OpenRefusals() < 10; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d refusals joined the next group, want 10", e.Auction.OpenRefusals())
		}
	}
	select {
	case ans := <-rest[0]:
		t.Fatalf("a refusal was answered before it was recorded: %v", ans.err)
	default:
	}
	if err := hold.Commit().Error; err != nil {
		t.Fatal(err)
	}
	e.refused(e.await(first, "the first refusal").err, "L8")
	for i, c := range rest {
		ans := e.await(c, "a grouped refusal")
		e.refused(ans.err, "L8")
		if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND idem_key = ? AND amount = 5000000 AND rule = 'L8'`, e.Lot, fmt.Sprintf("g%d", i+1)); n != 1 {
			t.Fatalf("refusal g%d: %d record entries once answered", i+1, n)
		}
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
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND code = ?`, e.Lot, e.codeOf(a)); n != 11 {
		t.Fatalf("%d refusals recorded under the bidder's code, want 11", n)
	}
}
