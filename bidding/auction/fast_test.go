package auction_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

// The one-statement quote (fast.go) and the lot's lock: these tests hold
// the lot's row lock in a transaction of their own (holdLot, outbid_test.go),
// start a quote, wait until PostgreSQL shows it waiting for that lock,
// change what they test, and release the lock.

// runClock lets the database clock run from t (not frozen): quotes then
// get distinct times, as in production.
func (e *env) runClock(t time.Time) {
	e.t.Helper()
	e.Clock.Set(t)
	if err := trading.SetDBClockOffset(e.ctx, e.Trading.DB, time.Until(t)); err != nil {
		e.t.Fatal(err)
	}
}

// timedLot is a listing gone on to timed bidding (L10, L11) with bidders
// who have their codes, at one minute into the countdown.
func timedLot(t *testing.T, names ...string) (*env, []trading.Actor) {
	e := newEnv(t, landLot("listing"))
	e.Trading.Book.L8MaxQuotesPerSecond = 0
	e.at(sh(3, 20, 10, 0, 0))
	var bs []trading.Actor
	for _, n := range names {
		bs = append(bs, e.bidder(n, true))
	}
	e.at(sh(3, 24, 10, 0, 0))
	for i, b := range bs {
		e.mustQuote(b, fmt.Sprint(5000000+100000*i))
		if err := e.Auction.WantTimed(e.ctx, b, e.Lot); err != nil {
			t.Fatal(err)
		}
	}
	if e.settle(listingEnd); e.lot().State != auction.StateTimed {
		t.Fatalf("not timed: %+v", e.lot())
	}
	e.at(listingEnd.Add(time.Minute))
	return e, bs
}

// A quote's time is read after the lot's lock is granted (A2, L16): a
// quote that waited for the lock is later than anything the holder did.
// An UPDATE that computed ggzy_now() in its SET would carry the time from
// before the wait, as the holder only locked the row.
func TestQuoteTimeReadAfterTheLock(t *testing.T) {
	t.Parallel()
	e, bs := timedLot(t, "福建甲置业有限公司", "福建乙置业有限公司")
	e.runClock(listingEnd.Add(time.Minute))
	rec := &statements{}
	db := e.Auction.DB
	e.Auction.DB = db.Session(&gorm.Session{Logger: rec})
	holder, release := e.holdLot()
	ch := e.send(e.Auction, bs[0], "5200000", "after-lock")
	e.waitingOnLock(1)
	var held time.Time
	if err := holder.Raw(`SELECT ggzy_now()`).Scan(&held).Error; err != nil {
		t.Fatal(err)
	}
	release(true)
	ans := e.await(ch, "the quote waiting for the lock")
	e.Auction.DB = db
	if ans.err != nil {
		t.Fatal(ans.err)
	}
	if len(rec.sql) != 2 || !strings.Contains(rec.sql[1], "FOR NO KEY UPDATE") {
		t.Fatalf("not the one-statement quote: %d statements:\n%s", len(rec.sql), strings.Join(rec.sql, "\n"))
	}
	if !ans.r.Quote.At.After(held) {
		t.Fatalf("the quote's time %s is not after the lock holder's %s", ans.r.Quote.At, held)
	}
	if want := ans.r.Quote.At.Add(240 * time.Second); !ans.r.CountdownEnd.Equal(want) || !e.lot().CountdownEnd.Equal(want) {
		t.Fatalf("countdown to %s, lot %s, want %s", ans.r.CountdownEnd, e.lot().CountdownEnd, want)
	}
}

// Quotes accepted concurrently: their times strictly increase in the
// order the database accepted them (by id), each is at least the one
// before plus the increment, and the lot, the bidding record, the audit
// chain and both live topics agree with them.
func TestConcurrentQuotesInAcceptanceOrder(t *testing.T) {
	t.Parallel()
	names := []string{"福建甲置业有限公司", "福建乙置业有限公司", "福建丙置业有限公司", "福建丁置业有限公司", "福建戊置业有限公司"}
	e, bs := timedLot(t, names...)
	e.runClock(listingEnd.Add(time.Minute))
	before := e.count(`SELECT count(*) FROM auction_quotes WHERE lot_id = ?`, e.Lot)
	var next atomic.Int64
	next.Store(5500000)
	var wg sync.WaitGroup
	var accepted, refused atomic.Int64
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			amount := next.Add(100000) // every amount above every amount drawn before it
			r, err := e.Auction.Quote(e.ctx, bs[i%len(bs)], e.Lot, auction.QuoteInput{Amount: fmt.Sprint(amount), Key: fmt.Sprintf("c%d", i)})
			switch te := trading.AsError(err); {
			case err == nil && r != nil:
				accepted.Add(1)
			case te != nil && te.Rule == "L8":
				refused.Add(1) // overtaken on the way to the lock
			default:
				t.Errorf("quote %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	var qs []auction.Quote
	if err := e.Trading.DB.Where("lot_id = ? AND phase = 'timed'", e.Lot).Order("id").Find(&qs).Error; err != nil {
		t.Fatal(err)
	}
	if int64(len(qs)) != accepted.Load() || accepted.Load()+refused.Load() != 40 || accepted.Load() == 0 {
		t.Fatalf("%d timed quotes stored, %d accepted, %d refused", len(qs), accepted.Load(), refused.Load())
	}
	for i := 1; i < len(qs); i++ {
		if !qs[i].At.After(qs[i-1].At) {
			t.Fatalf("quote %d at %s is not after quote %d at %s", qs[i].ID, qs[i].At, qs[i-1].ID, qs[i-1].At)
		}
		if qs[i].Amount.LessThan(qs[i-1].Amount.Add(mustDec("100000"))) {
			t.Fatalf("quote %d (%s) is below quote %d (%s) plus the increment", qs[i].ID, qs[i].Amount, qs[i-1].ID, qs[i-1].Amount)
		}
	}
	last := qs[len(qs)-1]
	l := e.lot()
	if !l.Highest.Equal(last.Amount) || *l.HighestReg != last.RegistrationID || int64(l.Quotes) != before+int64(len(qs)) ||
		!l.CountdownEnd.Equal(last.At.Add(240*time.Second)) {
		t.Fatalf("the lot %+v after the last quote %+v", l, last)
	}
	// The record: each quote's entry and its countdown restart, in order.
	var log []auction.Entry
	if err := e.Trading.DB.Where("lot_id = ? AND kind IN ('quote', 'restart') AND at > ?", e.Lot, listingEnd).Order("id").Find(&log).Error; err != nil {
		t.Fatal(err)
	}
	if len(log) != 2*len(qs) {
		t.Fatalf("%d record entries for %d quotes", len(log), len(qs))
	}
	for i, q := range qs {
		qe, re := log[2*i], log[2*i+1]
		if qe.Kind != "quote" || !qe.At.Equal(q.At) || !qe.Amount.Equal(q.Amount) || qe.Detail != "timed" || qe.IdemKey != q.IdemKey ||
			re.Kind != "restart" || !re.At.Equal(q.At) || !re.Until.Equal(q.At.Add(240*time.Second)) || re.Rule != "L11" {
			t.Fatalf("entries %+v %+v for quote %+v", qe, re, q)
		}
	}
	// The audit chain verifies, with one record per accepted quote.
	if _, problem, err := trading.VerifyAudit(e.ctx, e.Trading.DB); err != nil || problem != nil {
		t.Fatalf("audit chain: %v %v", problem, err)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'auction.quote' AND object_id = ? AND occurred_at > ?`, itoa(e.Lot), listingEnd); n != int64(len(qs)) {
		t.Fatalf("%d audit records for %d quotes", n, len(qs))
	}
	// The public topic: gap-free, the quotes in order, as the locked path
	// publishes them.
	evs, err := live.Since(e.ctx, e.Trading.DB, "auction/"+itoa(e.Lot), 0, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var quoteEvs []auction.QuoteEvent
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
		var q auction.QuoteEvent
		if err := json.Unmarshal(ev.Data, &q); err != nil {
			t.Fatal(err)
		}
		if ev.Kind == "quote" && q.At.After(listingEnd) {
			quoteEvs = append(quoteEvs, q)
		}
	}
	if len(quoteEvs) != len(qs) {
		t.Fatalf("%d quote events for %d quotes", len(quoteEvs), len(qs))
	}
	for i, q := range qs {
		ev := quoteEvs[i]
		if !ev.At.Equal(q.At) || !ev.Amount.Equal(q.Amount) || ev.State != "timed" || ev.Quotes != int(before)+i+1 ||
			!ev.CountdownEnd.Equal(q.At.Add(240*time.Second)) || !ev.Next.Equal(q.Amount.Add(mustDec("100000"))) || len(ev.Code) != 6 {
			t.Fatalf("event %+v for quote %+v", ev, q)
		}
	}
	// The supervisors' topic is gap-free too (self-outbid alerts).
	sup, err := live.Since(e.ctx, e.Trading.DB, "auction/"+itoa(e.Lot)+"/sup", 0, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range sup {
		if ev.Seq != int64(i+1) || ev.Kind != "alert" {
			t.Fatalf("supervisors' event %d: %+v", i, ev)
		}
	}
	if last, err := live.Last(e.ctx, e.Trading.DB, "auction/"+itoa(e.Lot)+"/sup"); err != nil || last != int64(len(sup)) {
		t.Fatalf("supervisors' topic at %d with %d events: %v", last, len(sup), err)
	}
}

// A quote that beforeLock found acceptable but that reaches the lot's lock
// after a suspension is refused by the locked path under L13, and nothing
// but the refusal is written.
func TestQuoteRacingSuspensionRefusedUnderTheLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	e.mustQuote(b, "5100000")
	_, release := e.holdLot()
	suspended := make(chan error, 1)
	go func() { suspended <- e.Auction.Suspend(e.ctx, e.Sup, e.Lot, "系统故障，暂停竞价") }()
	e.waitingOnLock(1)
	ch := e.send(e.Auction, a, "5200000", "racing-suspension")
	e.waitingOnLock(2)
	release(true)
	if err := <-suspended; err != nil {
		t.Fatal(err)
	}
	ans := e.await(ch, "the quote racing the suspension")
	e.refused(ans.err, "L13")
	if l := e.lot(); l.State != auction.StateSuspended || l.Quotes != 2 || !l.Highest.Equal(mustDec("5100000")) {
		t.Fatalf("the lot after a refused quote: %+v", l)
	}
	if n := e.count(`SELECT count(*) FROM auction_quotes WHERE lot_id = ?`, e.Lot); n != 2 {
		t.Fatalf("%d quotes stored", n)
	}
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND rule = 'L13' AND amount = 5200000`, e.Lot); n != 1 {
		t.Fatalf("%d L13 refusals recorded", n)
	}
}

// A quote sent inside the countdown that reaches the lot's lock at or
// after its end, by the database's clock, is refused (L11), and the
// countdown is not extended.
func TestQuoteReachingTheLockAfterTheEndRefused(t *testing.T) {
	t.Parallel()
	e, bs := timedLot(t, "福建甲置业有限公司", "福建乙置业有限公司")
	end := *e.lot().CountdownEnd
	e.at(end.Add(-time.Millisecond))
	_, release := e.holdLot()
	ch := e.send(e.Auction, bs[0], "5200000", "at-the-end")
	e.waitingOnLock(1)
	e.at(end)
	release(true)
	ans := e.await(ch, "the quote reaching the lock at the end")
	e.refused(ans.err, "L11")
	if l := e.lot(); !l.CountdownEnd.Equal(end) || !l.Highest.Equal(mustDec("5100000")) {
		t.Fatalf("a refused quote moved the lot: %+v", l)
	}
}

// The alerts of a quote taken in one statement: outbidding only itself,
// and quoting from another code's address, on the supervisors' topic.
func TestFastQuoteAlerts(t *testing.T) {
	t.Parallel()
	e, bs := timedLot(t, "福建甲置业有限公司", "福建乙置业有限公司", "福建丙置业有限公司")
	supTopic := "auction/" + itoa(e.Lot) + "/sup"
	c := bs[2] // the highest: outbids only itself
	r := e.mustQuote(c, "5300000")
	if n := e.count(`SELECT count(*) FROM live_events WHERE topic = ? AND data->>'kind' = 'self_outbid' AND data->>'text' LIKE ?`,
		supTopic, "%"+r.Code+"%5300000.00%"); n != 1 {
		t.Fatalf("%d self-outbid alerts", n)
	}
	a := bs[0]
	a.IP = bs[1].IP // a now quotes from b's address
	ra := e.mustQuote(a, "5400000")
	codeB := e.codeOf(bs[1])
	var texts []string
	e.Trading.DB.Raw(`SELECT data->>'text' FROM live_events WHERE topic = ? AND data->>'kind' = 'same_origin' ORDER BY seq`, supTopic).Scan(&texts)
	if want := fmt.Sprintf("竞买号牌 %s 与 %s 从同一网络地址或设备报价（K1/K3）", ra.Code, codeB); len(texts) != 1 || texts[0] != want {
		t.Fatalf("same-origin alerts %q, want %q", texts, want)
	}
	var at time.Time
	e.Trading.DB.Raw(`SELECT (data->>'at')::timestamptz FROM live_events WHERE topic = ? AND data->>'kind' = 'same_origin'`, supTopic).Scan(&at)
	if !at.Equal(ra.Quote.At) {
		t.Fatalf("alert at %s, quote at %s", at, ra.Quote.At)
	}
	// A quote accepted while another waited for the lock is not in the
	// waiting statement's snapshot; its alert is still published, from a
	// fresh one (auction_same_origin, migration 00033), in the quote's statement.
	b := bs[1]
	a.IP, b.IP = "10.9.9.9", "10.9.9.9"
	_, release := e.holdLot()
	first := e.send(e.Auction, b, "5500000", "same-origin-1")
	e.waitingOnLock(1)
	second := e.send(e.Auction, a, "5600000", "same-origin-2")
	e.waitingOnLock(2)
	release(true)
	rb, ra2 := e.await(first, "the first quote"), e.await(second, "the second quote")
	if rb.err != nil || ra2.err != nil {
		t.Fatalf("quotes: %v %v", rb.err, ra2.err)
	}
	if ra2.r.Quote.At.Before(rb.r.Quote.At) || ra2.r.Quote.ID < rb.r.Quote.ID {
		t.Fatalf("the second quote %+v before the first %+v", ra2.r.Quote, rb.r.Quote)
	}
	texts = nil
	e.Trading.DB.Raw(`SELECT data->>'text' FROM live_events WHERE topic = ? AND data->>'kind' = 'same_origin' ORDER BY seq`, supTopic).Scan(&texts)
	if want := fmt.Sprintf("竞买号牌 %s 与 %s 从同一网络地址或设备报价（K1/K3）", ra2.r.Code, codeB); len(texts) != 2 || texts[1] != want {
		t.Fatalf("same-origin alerts %q, want %q last", texts, want)
	}
	if _, problem, err := trading.VerifyAudit(e.ctx, e.Trading.DB); err != nil || problem != nil {
		t.Fatalf("audit chain: %v %v", problem, err)
	}
}

func (e *env) codeOf(a trading.Actor) string {
	e.t.Helper()
	var code string
	if err := e.Trading.DB.Raw(`SELECT ab.code FROM auction_bidders ab JOIN registrations r ON r.id = ab.registration_id
		WHERE r.bidder_id = ? AND ab.lot_id = ?`, a.AccountID, e.Lot).Scan(&code).Error; err != nil || code == "" {
		e.t.Fatalf("code of %s: %q %v", a.Username, code, err)
	}
	return code
}

// A double click on the locked path (here a lot with a price cap, which
// never takes the one statement) whose first click is accepted while the
// second waits for the lock: the second answers with the first quote,
// although its lock statement's snapshot predates it (lockNow reads the
// key again).
func TestDoubleClickWaitingOnTheLockedPath(t *testing.T) {
	t.Parallel()
	lot := landLot("listing")
	lot.PriceCap = "9000000.00"
	e := newEnv(t, lot)
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	_, release := e.holdLot()
	first := e.send(e.Auction, a, "5200000", "double")
	e.waitingOnLock(1)
	second := e.send(e.Auction, a, "5200000", "double")
	e.waitingOnLock(2)
	release(true)
	r1, r2 := e.await(first, "the first click"), e.await(second, "the second click")
	if r1.err != nil || r2.err != nil {
		t.Fatalf("clicks: %v, %v", r1.err, r2.err)
	}
	if r1.r.Duplicate == r2.r.Duplicate || r1.r.Quote.ID != r2.r.Quote.ID || !r2.r.Quote.Amount.Equal(mustDec("5200000")) {
		t.Fatalf("two clicks: %+v %+v", r1.r, r2.r)
	}
	if n := e.count(`SELECT count(*) FROM auction_quotes WHERE lot_id = ?`, e.Lot); n != 2 {
		t.Fatalf("%d quotes stored", n)
	}
}

// A qualified bidder's code is given before its quote's transaction: a
// refused first quote keeps it (its refusal names the code the bidder
// keeps), and the bidder's next quote is taken by the one statement.
func TestRefusedFirstQuoteKeepsTheCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	_, err := e.quote(b, "5050000")
	e.refused(err, "L8")
	code := e.codeOf(b)
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND code = ?`, e.Lot, code); n != 1 {
		t.Fatalf("the refusal does not name the code %s the bidder kept", code)
	}
	rec := &statements{}
	db := e.Auction.DB
	e.Auction.DB = db.Session(&gorm.Session{Logger: rec})
	r := e.mustQuote(b, "5100000")
	e.Auction.DB = db
	if r.Code != code || len(rec.sql) != 2 || !strings.Contains(rec.sql[1], "audit_append") {
		t.Fatalf("code %s (kept %s), %d statements:\n%s", r.Code, code, len(rec.sql), strings.Join(rec.sql, "\n"))
	}
}

// A bidder's code is given before the quote's transaction only while the
// lot still takes bidding (review): a qualified bidder without a code who
// quotes after the bidding ended is refused and gets no code, so the
// supervisors' identity list does not gain a bidder who never bid.
func TestNoCodeAfterTheBidding(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5700000")
	e.settle(listingEnd)
	if l := e.lot(); l.State != auction.StateSettled {
		t.Fatalf("one bidder above the reserve at the close: %s", l.State)
	}
	_, err := e.quote(b, "5800000")
	e.refused(err, "L11")
	if n := e.count(`SELECT count(*) FROM auction_bidders ab JOIN registrations r ON r.id = ab.registration_id
		WHERE r.lot_id = ? AND r.bidder_id = ?`, e.Lot, b.AccountID); n != 0 {
		t.Fatalf("a bidder who quoted after the bidding got a code (%d rows)", n)
	}
}
