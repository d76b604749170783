package bidding

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// Land: the deal may not be below the starting or the (secret) reserve
// price (L3); publication of the result announcement makes it sold; a no-sale
// is a failed outcome.
func TestLandDeal(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	land := e.project("land", true)
	land2 := e.project("land", true)
	e.Clock.Set(time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	bs := e.registerBidders(land, 2)
	if _, err := e.Svc.RecordDeal(ctx, e.Agent, land.Lots[0].ID, DealInput{IDNumber: e.idOf(bs[0]), Price: "6000000"}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("deal before the listing closed: %v", err)
	}
	e.Clock.Set(time.Date(2026, 4, 8, 17, 0, 0, 0, trading.Shanghai))
	_, err := e.Svc.RecordDeal(ctx, e.Agent, land.Lots[0].ID, DealInput{IDNumber: e.idOf(bs[0]), Price: "5500000"})
	if ruleOf(err) != "L3" || strings.Contains(err.Error(), "5600000") {
		t.Fatalf("below reserve: %v", err)
	}
	if _, err := e.Svc.RecordDeal(ctx, e.Agent, land.Lots[0].ID, DealInput{IDNumber: e.idOf(bs[0]), Price: "4000000"}); !errors.Is(err, trading.ErrInvalid) {
		t.Fatalf("below start: %v", err)
	}
	n, err := e.Svc.RecordDeal(ctx, e.Agent, land.Lots[0].ID, DealInput{IDNumber: e.idOf(bs[0]), Price: "6200000.00"})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(n.ID)
	o := e.outcome(land.Lots[0].ID)
	if o.Status != trading.OutcomeCompleted || o.Savings().String() != "1200000" {
		t.Fatalf("premium: %+v %s", o, o.Savings())
	}
	n, err = e.Svc.RecordDeal(ctx, e.Agent, land2.Lots[0].ID, DealInput{NoSale: true, Reason: "无人报价，流拍"})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(n.ID)
	var r LotResult
	e.TS.DB.First(&r, "lot_id = ?", land2.Lots[0].ID)
	if r.Stage != StageNoSale || e.outcome(land2.Lots[0].ID).Status != trading.OutcomeFailed {
		t.Fatalf("no sale: %+v", r)
	}
}
