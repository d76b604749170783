package auction_test

import (
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/trading"
)

func propertyLot(mode string) trading.LotInput {
	return trading.LotInput{Name: "某公司20%股权", ListingPrice: "6000000.00", AppraisedValue: "5800000.00", Increment: "50000.00",
		Deposit: "1000000.00", ListingStart: listingStart.Format(time.RFC3339), ListingEnd: listingEnd.Format(time.RFC3339), BiddingMode: mode}
}

// 一次报价 (P7): one sealed quote each, hidden until the close, the best
// wins, ties to the earlier (L16).
func TestPropertySealed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, propertyLot("sealed"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲投资有限公司", true)
	b := e.bidder("福建乙投资有限公司", true)
	c := e.bidder("福建丙投资有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	_, err := e.quote(a, "5999999")
	e.refused(err, "P7")
	e.mustQuote(a, "6300000")
	_, err = e.quote(a, "6400000")
	e.refused(err, "P7") // one each
	e.at(sh(3, 25, 10, 0, 0))
	e.mustQuote(b, "6300000") // equal, later
	e.mustQuote(c, "6100000")
	v, err := e.Auction.View(e.ctx, trading.Actor{}, e.Lot)
	if err != nil || v.Highest != nil || len(v.Quotes) != 0 {
		t.Fatalf("a sealed lot shows its quotes: %+v %v", v, err)
	}
	if c := e.count(`SELECT count(*) FROM live_events WHERE topic = ? AND (data->>'amount' IS NOT NULL OR data->>'code' IS NOT NULL)`, "auction/"+itoa(e.Lot)); c != 0 {
		t.Fatalf("%d live events reveal a sealed quote", c)
	}
	e.settle(listingEnd)
	l := e.lot()
	if !l.Sold() || !l.DealPrice.Equal(mustDec("6300000")) {
		t.Fatalf("sealed result: %+v", l)
	}
	if w, _ := e.Auction.View(e.ctx, a, e.Lot); !w.Won {
		t.Fatal("the earlier of two equal quotes lost (L16)")
	}
}

// 多次报价 (P7): the free-quote period's quotes go on to a timed period,
// whose countdown restarts at every quote.
func TestPropertyMulti(t *testing.T) {
	t.Parallel()
	e := newEnv(t, propertyLot("multi"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲投资有限公司", true)
	b := e.bidder("福建乙投资有限公司", true)
	e.at(sh(4, 8, 15, 30, 0)) // no last-hour rule for property
	e.mustQuote(a, "6000000")
	e.settle(listingEnd)
	l := e.lot()
	if l.State != auction.StateTimed || !l.CountdownEnd.Equal(listingEnd.Add(300*time.Second)) {
		t.Fatalf("timed period: %+v", l)
	}
	e.at(listingEnd.Add(time.Minute))
	e.mustQuote(b, "6050000")
	e.settle(listingEnd.Add(time.Minute + 300*time.Second))
	if l := e.lot(); !l.Sold() || !l.DealPrice.Equal(mustDec("6050000")) {
		t.Fatalf("multi result: %+v", l)
	}
}

// L15: a quote above the cap is refused; reaching it switches to the
// second criterion, one sealed value each; the best value wins at the cap.
func TestPriceCap(t *testing.T) {
	t.Parallel()
	lot := landLot("listing")
	lot.PriceCap = "5800000.00"
	e := newEnv(t, lot)
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	b := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000")
	e.mustQuote(b, "5750000")
	_, err := e.quote(a, "5850000")
	e.refused(err, "L15")
	r := e.mustQuote(a, "5800000") // less than highest + increment, but the cap
	if r.State != auction.StateCapped {
		t.Fatalf("at the cap: %+v", r)
	}
	end := *r.CountdownEnd
	e.at(end.Add(-time.Minute))
	e.mustQuote(a, "1200.5") // e.g. affordable-housing floor area (m²)
	e.mustQuote(b, "1500")
	_, err = e.quote(b, "1600")
	e.refused(err, "L15")
	e.settle(end)
	l := e.lot()
	if !l.Sold() || !l.DealPrice.Equal(mustDec("5800000")) {
		t.Fatalf("cap result: %+v", l)
	}
	if w, _ := e.Auction.View(e.ctx, b, e.Lot); !w.Won {
		t.Fatal("the best second-criterion value did not win")
	}
	if err := e.Auction.PublishRecords(e.ctx); err != nil {
		t.Fatal(err)
	}
	data, err := e.Auction.RecordBytes(e.ctx, e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := auction.VerifyRecord(e.ctx, e.Trading.DB, data); err != nil || !v.OK() {
		t.Fatalf("cap record: %+v %v", v, err)
	}
}
