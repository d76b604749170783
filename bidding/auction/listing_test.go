package auction_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// approveResult approves the lot's generated result announcement (成交/流拍公告),
// which is what publishes the result: L5 conversion, refunds, outcome.
func (e *env) approveResult() *trading.Announcement {
	e.t.Helper()
	var id int64
	e.Trading.DB.Raw(`SELECT a.id FROM announcements a JOIN lot_results r ON r.result_announcement_id = a.id WHERE r.lot_id = ?`, e.Lot).Scan(&id)
	if id == 0 {
		e.t.Fatal("no result announcement generated")
	}
	n, err := e.Trading.ApproveAnnouncement(e.ctx, e.Sup, id, nil)
	if err != nil {
		e.t.Fatalf("approve the result announcement: %v", err)
	}
	return n
}

// A full listing driven by the clocks: listing quotes, the last-hour
// refusal, timed bidding with restarts, settlement against the reserve,
// the winner's confirmation, the deal and its announcement, L5 conversion and
// refunds, the premium in the savings figures, the record published and
// verified.
func TestFullListing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	c := e.bidder("福建丙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	e.at(sh(3, 25, 10, 0, 0))
	e.mustQuote(b, "5100000")
	e.at(sh(4, 1, 10, 0, 0))
	e.mustQuote(a, "5200000")
	e.at(sh(4, 8, 15, 30, 0))
	_, err := e.quote(c, "5300000")
	e.refused(err, "L12")
	for _, x := range []trading.Actor{a, b} {
		if err := e.Auction.WantTimed(e.ctx, x, e.Lot); err != nil {
			t.Fatal(err)
		}
	}
	// The close: two want to go on → timed bidding from 5,200,000 (L10, L11).
	if n := e.settle(listingEnd); n != 1 {
		t.Fatalf("%d steps at the close", n)
	}
	l := e.lot()
	if l.State != auction.StateTimed || !l.Highest.Equal(mustDec("5200000")) {
		t.Fatalf("after the close: %+v", l)
	}
	now := listingEnd
	for i, q := range []struct {
		who    trading.Actor
		amount string
	}{{b, "5300000"}, {a, "5400000"}, {b, "5600000"}} {
		now = now.Add(time.Duration(60+i) * time.Second)
		e.at(now)
		r := e.mustQuote(q.who, q.amount)
		if !r.CountdownEnd.Equal(now.Add(240 * time.Second)) {
			t.Fatalf("quote %d: countdown to %s", i, r.CountdownEnd)
		}
	}
	end := now.Add(240 * time.Second)
	if n := e.settle(end.Add(500 * time.Millisecond)); n != 1 {
		t.Fatalf("%d steps at the countdown's end", n)
	}
	l = e.lot()
	if l.State != auction.StateSettled || *l.Outcome != "sold" || !l.DealPrice.Equal(mustDec("5600000")) {
		t.Fatalf("settled: %+v", l)
	}
	// 竞得确认 at once, to the winner only.
	if v, err := e.Auction.View(e.ctx, b, e.Lot); err != nil || !v.Won {
		t.Fatalf("winner's view: %+v %v", v, err)
	}
	if v, _ := e.Auction.View(e.ctx, a, e.Lot); v.Won {
		t.Fatal("a loser sees a confirmation")
	}
	// 成交确认书: the buyer and the agent get it, another bidder does not.
	if c, err := e.Auction.Confirmation(e.ctx, b, e.Lot); err != nil || c.BuyerName != "福建乙置业有限公司" || !c.Price.Equal(mustDec("5600000")) {
		t.Fatalf("buyer's confirmation: %+v %v", c, err)
	}
	if _, err := e.Auction.Confirmation(e.ctx, e.Agent, e.Lot); err != nil {
		t.Fatalf("agent's confirmation: %v", err)
	}
	if _, err := e.Auction.Confirmation(e.ctx, a, e.Lot); err == nil {
		t.Fatal("a loser got the deal confirmation")
	}
	// Settled once: nothing is due any more.
	if n := e.settle(end.Add(time.Second)); n != 0 {
		t.Fatalf("settled again: %d", n)
	}
	n := e.approveResult()
	if n.Type != trading.AnnouncementResult {
		t.Fatalf("announcement %+v", n)
	}
	if c := e.count(`SELECT count(*) FROM refunds WHERE rule = 'L5' AND status = 'pending'`); c != 2 {
		t.Fatalf("%d L5 refunds, want 2 (the losers)", c)
	}
	if c := e.count(`SELECT count(*) FROM inflows WHERE status = 'converted'`); c != 1 {
		t.Fatalf("%d deposits converted, want the winner's", c)
	}
	var premium string
	e.Trading.DB.Raw(`SELECT (result - base)::text FROM lot_outcomes WHERE lot_id = ? AND status = 'completed'`, e.Lot).Scan(&premium)
	if premium != "600000.00" {
		t.Fatalf("premium %q", premium)
	}
	// The record: published, its hash audited, the result recomputed.
	if err := e.Auction.PublishRecords(e.ctx); err != nil {
		t.Fatal(err)
	}
	data, err := e.Auction.RecordBytes(e.ctx, e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"福建", "5600000.00\",\n  \"reserve"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Fatalf("the record names %q", secret)
		}
	}
	v, err := auction.VerifyRecord(context.Background(), e.Trading.DB, data)
	if err != nil || !v.OK() || !v.Price.Equal(mustDec("5600000")) {
		t.Fatalf("verify: %+v %v", v, err)
	}
	tampered := bytes.Replace(data, []byte(`"amount": "5600000"`), []byte(`"amount": "5500000"`), 1)
	if bytes.Equal(tampered, data) {
		t.Fatal("nothing to tamper with")
	}
	if v, err := auction.VerifyRecord(context.Background(), e.Trading.DB, tampered); err != nil || v.OK() {
		t.Fatalf("a tampered record verifies: %+v %v", v, err)
	}
	if c := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'restart'`, e.Lot); c != 3 {
		t.Fatalf("%d restarts in the record", c)
	}
}

// Nobody quotes: 流拍, the no-sale announcement, every deposit back.
func TestListingNoSale(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	e.bidder("福建甲置业有限公司", true)
	e.settle(listingEnd)
	l := e.lot()
	if *l.Outcome != "no_sale" || l.WinnerReg != nil {
		t.Fatalf("%+v", l)
	}
	e.approveResult()
	var status string
	e.Trading.DB.Raw(`SELECT status FROM lot_outcomes WHERE lot_id = ?`, e.Lot).Scan(&status)
	if status != "failed" {
		t.Fatalf("outcome %q", status)
	}
}

// One bidder: below the reserve → 流拍 (saying so, not the reserve); at or
// above → sold without timed bidding (L10).
func TestSingleBidder(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		amount, outcome string
	}{{"5500000", "no_sale"}, {"5600000", "sold"}} {
		t.Run(c.outcome, func(t *testing.T) {
			e := newEnv(t, landLot("listing"))
			e.at(sh(3, 20, 10, 0, 0))
			a := e.bidder("福建甲置业有限公司", true)
			e.at(sh(3, 24, 10, 0, 0))
			e.mustQuote(a, "5000000")
			e.mustQuote(a, c.amount)
			if err := e.Auction.WantTimed(e.ctx, a, e.Lot); err != nil {
				t.Fatal(err)
			}
			e.settle(listingEnd)
			l := e.lot()
			if *l.Outcome != c.outcome {
				t.Fatalf("%+v", l)
			}
			if c.outcome == "no_sale" && (l.NoSaleReason == "" || bytes.Contains([]byte(l.NoSaleReason), []byte("5600000"))) {
				t.Fatalf("reason %q", l.NoSaleReason)
			}
		})
	}
}

// A suspension freezes the clock; quotes are refused meanwhile (L13); on
// resumption the countdown restarts in full, and a listing is extended by
// at least the frozen time.
func TestSuspendResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	if err := e.Auction.Suspend(e.ctx, e.Agent, e.Lot, "系统故障排查"); err == nil {
		t.Fatal("an agent suspended")
	}
	if err := e.Auction.Suspend(e.ctx, e.Sup, e.Lot, "接到投诉，核查中"); err != nil {
		t.Fatal(err)
	}
	_, err := e.quote(a, "5000000")
	e.refused(err, "L13")
	if n := e.settle(listingEnd.Add(time.Hour)); n != 0 {
		t.Fatal("a suspended lot was settled")
	}
	// Resumed two days later at 10:00 on 10 April: the listing (due 8 April
	// 16:00) is extended by the frozen 17 days.
	e.at(sh(4, 10, 10, 0, 0))
	if err := e.Auction.Resume(e.ctx, e.Sup, e.Lot); err != nil {
		t.Fatal(err)
	}
	l := e.lot()
	if l.State != auction.StateOpen || !l.ClosesAt.Equal(listingEnd.Add(sh(4, 10, 10, 0, 0).Sub(sh(3, 24, 10, 0, 0)))) {
		t.Fatalf("resumed: %+v", l)
	}
	e.mustQuote(a, "5000000")
	for _, x := range []trading.Actor{a, b} {
		if err := e.Auction.WantTimed(e.ctx, x, e.Lot); err != nil {
			t.Fatal(err)
		}
	}
	e.settle(l.ClosesAt)
	if e.lot().State != auction.StateTimed {
		t.Fatal("not timed")
	}
	at := l.ClosesAt.Add(100 * time.Second)
	e.at(at)
	if err := e.Auction.Suspend(e.ctx, e.Sup, e.Lot, "网络中断，暂停竞价"); err != nil {
		t.Fatal(err)
	}
	e.at(at.Add(10 * time.Minute))
	if err := e.Auction.Resume(e.ctx, e.Sup, e.Lot); err != nil {
		t.Fatal(err)
	}
	if end := *e.lot().CountdownEnd; !end.Equal(at.Add(10*time.Minute + 240*time.Second)) {
		t.Fatalf("countdown after resumption ends %s", end)
	}
	if c := e.count(`SELECT count(*) FROM audit_events WHERE action IN ('auction.suspend', 'auction.resume')`); c != 4 {
		t.Fatalf("%d audited suspensions and resumptions", c)
	}
}

// An instance that finds a countdown's end more than L11.late_settle_ms
// behind freezes the lot and alerts instead of settling.
func TestLateSettlementFreezes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5600000")
	e.settle(listingEnd.Add(3 * time.Second))
	l := e.lot()
	if l.State != auction.StateSuspended || l.Outcome != nil {
		t.Fatalf("late settlement: %+v", l)
	}
	if c := e.count(`SELECT count(*) FROM live_events WHERE topic = ? AND kind = 'alert'`, "auction/"+itoa(e.Lot)+"/sup"); c != 1 {
		t.Fatalf("%d alerts", c)
	}
}

// The supervisors' view: who holds which code, the K1 same-payer pairs,
// and the look audited; nobody else may look.
func TestSupervisorIdentities(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	// b's account also receives money from a's payer account (K1).
	var va deposits.VirtualAccount
	e.Deposits.DB.Raw(`SELECT va.* FROM virtual_accounts va JOIN registrations r ON r.id = va.registration_id WHERE r.bidder_id = ?`, b.AccountID).Scan(&va)
	if _, err := e.Deposits.Receive(e.ctx, trading.Actor{Username: "bank", Role: "system"}, deposits.SourceWebhook, []deposits.Inflow{{
		BankTxnID: "K1", VirtualAccount: va.Number, PayerName: "福建甲置业有限公司", PayerAccount: "6222000001", PayerBank: "某银行",
		Amount: mustDec("1000.00"), Currency: "CNY", ValueTime: e.Clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	e.at(sh(3, 24, 10, 0, 0))
	ra := e.mustQuote(a, "5000000")
	rb := e.mustQuote(b, "5100000")
	if _, _, err := e.Auction.Identities(e.ctx, e.Agent, e.Lot); err == nil {
		t.Fatal("an agent saw who holds the codes")
	}
	ids, k1, err := e.Auction.Identities(e.ctx, e.Sup, e.Lot)
	if err != nil || len(ids) != 2 || len(k1) != 1 {
		t.Fatalf("identities %+v, K1 %v, %v", ids, k1, err)
	}
	names := map[string]string{}
	for _, id := range ids {
		names[id.Code] = id.Name
	}
	if names[ra.Code] != "福建甲置业有限公司" || names[rb.Code] != "福建乙置业有限公司" {
		t.Fatalf("codes: %v", names)
	}
	if c := e.count(`SELECT count(*) FROM audit_events WHERE action = 'auction.identities'`); c != 1 {
		t.Fatalf("%d audited looks", c)
	}
	// Outbidding only itself is an alert on the supervisors' topic.
	e.mustQuote(b, "5200000")
	if c := e.count(`SELECT count(*) FROM live_events WHERE topic = ? AND data->>'kind' = 'self_outbid'`, "auction/"+itoa(e.Lot)+"/sup"); c != 1 {
		t.Fatalf("%d self-outbid alerts", c)
	}
	// A third code quoting from a's address is an alert naming both codes.
	e.at(sh(3, 20, 11, 0, 0))
	c := e.bidder("福建丙置业有限公司", true)
	c.IP = a.IP
	e.at(sh(3, 24, 11, 0, 0))
	rc := e.mustQuote(c, "5300000")
	if n := e.count(`SELECT count(*) FROM live_events WHERE topic = ? AND data->>'kind' = 'same_origin' AND data->>'text' LIKE ? AND data->>'text' LIKE ?`,
		"auction/"+itoa(e.Lot)+"/sup", "%"+rc.Code+"%", "%"+ra.Code+"%"); n != 1 {
		t.Fatalf("%d same-origin alerts naming %s and %s", n, rc.Code, ra.Code)
	}
}
