package auction_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// Who may quote (issue 15 §2), and the refusals of L8/L12 with nothing
// written but the refusal.
func TestQuoteRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	unpaid := e.bidder("福建丙置业有限公司", false)
	_, err := e.quote(a, "5000000")
	e.refused(err, "L8") // not yet open

	e.at(sh(3, 24, 10, 0, 0))
	_, err = e.quote(unpaid, "5000000")
	e.refused(err, "L7")
	_, err = e.quote(e.Agent, "5000000")
	e.refused(err, "A1")
	_, err = e.quote(a, "4999999.99")
	e.refused(err, "L8")
	_, err = e.quote(a, "50000,00")
	e.refused(err, "L8")
	r := e.mustQuote(a, "5000000")
	if len(r.Code) != 6 {
		t.Fatalf("code %q", r.Code)
	}
	_, err = e.quote(b, "5099999")
	e.refused(err, "L8")
	e.mustQuote(b, "5100000")
	// Below the reserve is no reason to refuse, and the reserve is never named.
	e.mustQuote(a, "5250000.50")
	// Last hour (L12): from 15:00 on 8 April.
	e.at(listingEnd.Add(-time.Hour))
	_, err = e.quote(b, "5400000")
	e.refused(err, "L12")

	if n := e.count("SELECT count(*) FROM auction_quotes WHERE lot_id = ?", e.Lot); n != 3 {
		t.Fatalf("%d quotes accepted, want 3", n)
	}
	if n := e.count("SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused'", e.Lot); n != 7 {
		t.Fatalf("%d refusals recorded, want 7", n)
	}
	if n := e.count("SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND rule = ''", e.Lot); n != 0 {
		t.Fatalf("%d refusals without a rule", n)
	}
	if l := e.lot(); l.Quotes != 3 || !l.Highest.Equal(mustDec("5250000.50")) {
		t.Fatalf("lot after refusals: %+v", l)
	}
	// The page tells the unpaid bidder why.
	v, err := e.Auction.View(e.ctx, unpaid, e.Lot)
	if err != nil || v.Refusal == "" {
		t.Fatalf("view of an unqualified bidder: %+v %v", v, err)
	}
}

// A double click counts once: the same key returns the first quote.
func TestQuoteIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 24, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	var wg sync.WaitGroup
	res := make([]*auction.QuoteResult, 10)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.Auction.Quote(e.ctx, a, e.Lot, auction.QuoteInput{Amount: "5000000", Key: "double-click"})
			if err != nil {
				t.Error(err)
			}
			res[i] = r
		}()
	}
	wg.Wait()
	dups := 0
	for _, r := range res {
		if r != nil && r.Duplicate {
			dups++
		}
	}
	if n := e.count("SELECT count(*) FROM auction_quotes WHERE lot_id = ?", e.Lot); n != 1 || dups != 9 {
		t.Fatalf("%d quotes, %d duplicates", n, dups)
	}
}

// Race: 50 concurrent equal quotes, exactly one accepted (L8, L16).
func TestFiftyEqualQuotesOneAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 24, 10, 0, 0))
	e.Trading.Book.L8MaxQuotesPerSecond = 0
	var bidders []trading.Actor
	for i := 0; i < 5; i++ {
		bidders = append(bidders, e.bidder(fmt.Sprintf("福建竞%d置业有限公司", i), true))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, refused := 0, 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Auction.Quote(e.ctx, bidders[i%5], e.Lot, auction.QuoteInput{Amount: "5000000", Key: fmt.Sprintf("race-%d", i)})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				accepted++
			} else if te := trading.AsError(err); te != nil && te.Rule == "L8" {
				refused++
			} else {
				t.Errorf("quote %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if accepted != 1 || refused != 49 {
		t.Fatalf("%d accepted, %d refused", accepted, refused)
	}
	if n := e.count("SELECT count(*) FROM auction_quotes WHERE lot_id = ?", e.Lot); n != 1 {
		t.Fatalf("%d quotes stored", n)
	}
}

// Quotes straddling the end of a countdown are decided by the database's
// clock alone: 1 µs before the end accepted (and the countdown restarts),
// at the end refused and the countdown not extended.
func TestCountdownEndDecidedByDatabaseTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 24, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.mustQuote(a, "5000000")
	for _, x := range []trading.Actor{a, b} {
		if err := e.Auction.WantTimed(e.ctx, x, e.Lot); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.settle(listingEnd); n != 1 || e.lot().State != auction.StateTimed {
		t.Fatalf("close: %d steps, %+v", n, e.lot())
	}
	end := *e.lot().CountdownEnd
	if !end.Equal(listingEnd.Add(240 * time.Second)) {
		t.Fatalf("countdown ends %s", end)
	}
	e.at(end.Add(-time.Microsecond))
	r := e.mustQuote(b, "5100000")
	restarted := *r.CountdownEnd
	if !restarted.Equal(end.Add(-time.Microsecond).Add(240 * time.Second)) {
		t.Fatalf("restart to %s", restarted)
	}
	e.at(restarted)
	_, err := e.quote(a, "5200000")
	e.refused(err, "L11")
	if got := *e.lot().CountdownEnd; !got.Equal(restarted) {
		t.Fatalf("a refused quote moved the countdown to %s", got)
	}
	// Nobody else settles it before its end.
	if n := e.settle(restarted.Add(-time.Millisecond)); n != 0 {
		t.Fatalf("settled before the end")
	}
}

func TestAgentCannotTypeAnOnlineDeal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(4, 9, 9, 0, 0))
	_, err := e.Bidding.RecordDeal(e.ctx, e.Agent, e.Lot, bidding.DealInput{NoSale: true, Reason: "无人报价，流拍"})
	if te := trading.AsError(err); te == nil || te.Status() != 409 {
		t.Fatalf("typed deal on an online lot: %v", err)
	}
}

func mustDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// Who may quote is decided by the deposit deadline, not by what is held
// now (issue 15 §2): money that reaches the account after the close of
// applications does not qualify, even if it covers the amount by the time
// of the quote, and the quote page says why.
func TestQuoteDepositByDeadline(t *testing.T) {
	t.Parallel()
	lot := landLot("listing")
	appsClose := sh(3, 21, 17, 0, 0) // applications and deposits close before the listing opens
	lot.RegistrationEnd = appsClose.Format(time.RFC3339)
	e := newEnv(t, lot)
	e.at(sh(3, 20, 10, 0, 0))
	onTime := e.bidder("福建甲置业有限公司", true)
	late := e.bidder("福建乙置业有限公司", false)
	topUp := e.bidder("福建丙置业有限公司", false)
	e.pay(topUp, "T-part", "400000.00", sh(3, 21, 16, 59, 59)) // in time, but short
	e.at(sh(3, 22, 9, 0, 0))
	e.pay(late, "T-late", "1000000.00", sh(3, 22, 9, 0, 0))  // the whole amount, a day late
	e.pay(topUp, "T-rest", "600000.00", sh(3, 22, 9, 0, 0))  // the rest, a day late
	e.pay(topUp, "T-more", "1000000.00", sh(3, 22, 9, 0, 0)) // and more still: held now would cover twice over

	e.at(sh(3, 24, 10, 0, 0))
	for _, a := range []trading.Actor{late, topUp} {
		_, err := e.quote(a, "5000000")
		e.refused(err, "L7")
		msg := trading.AsError(err).Message
		if !strings.Contains(msg, "2026-03-21 17:00") || !strings.Contains(msg, "截止后到账") {
			t.Fatalf("the refusal does not say the deadline and the late money: %s", msg)
		}
		v, err := e.Auction.View(e.ctx, a, e.Lot)
		if err != nil || !strings.Contains(v.Refusal, "截止后到账") || v.Code != "" {
			t.Fatalf("the quote page of a late payer: %+v %v", v, err)
		}
	}
	_, err := e.quote(topUp, "5000000")
	if msg := trading.AsError(err).Message; !strings.Contains(msg, "有效到账 "+deposits.FormatYuan(mustDec("400000"))+" 元") {
		t.Fatalf("the refusal does not say what arrived in time: %s", msg)
	}
	e.mustQuote(onTime, "5000000")
	if n := e.count("SELECT count(*) FROM auction_bidders WHERE lot_id = ?", e.Lot); n != 1 {
		t.Fatalf("%d bidder codes, want 1 (only the bidder who paid in time)", n)
	}
}

// pay books a bank credit of amount to a's virtual account on the lot,
// with the bank's value time at.
func (e *env) pay(a trading.Actor, txn, amount string, at time.Time) {
	e.t.Helper()
	var va deposits.VirtualAccount
	if err := e.Deposits.DB.Where("lot_id = ? AND bidder_id = ?", e.Lot, a.AccountID).First(&va).Error; err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.Deposits.Receive(e.ctx, trading.Actor{Username: "bank", Role: "system"}, deposits.SourceWebhook, []deposits.Inflow{{
		BankTxnID: txn, VirtualAccount: va.Number, PayerName: "付款人", PayerAccount: "6222" + txn, PayerBank: "某银行",
		Amount: decimal.RequireFromString(amount), Currency: "CNY", ValueTime: at}}); err != nil {
		e.t.Fatal(err)
	}
}
