package deposits

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// Bidders registering at once for a lot that asks for a deposit are
// written together (bidding's batch.go) and their virtual accounts opened
// in the same transaction: each gets exactly one, with a valid and unique
// number, the lot's deposit and the bid deadline, and the books verify.
func TestVirtualAccountsOfABurst(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	const n = 60
	bidders := make([]trading.Actor, n)
	for i := range bidders {
		bidders[i] = e.enterprise(fmt.Sprintf("福建突发%02d建设有限公司", i), "MR", "burst")
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, a := range bidders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := e.Bid.Register(ctx, a, e.Lot, bidding.RegisterInput{}); err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var accounts []VirtualAccount
	if err := e.Dep.DB.Where("lot_id = ?", e.Lot).Find(&accounts).Error; err != nil {
		t.Fatal(err)
	}
	if len(accounts) != n {
		t.Fatalf("%d virtual accounts for %d registrations", len(accounts), n)
	}
	seen := map[string]bool{}
	byBidder := map[int64]bool{}
	for _, va := range accounts {
		if !e.Dep.Accounts.Valid(va.Number) || seen[va.Number] || va.Required.StringFixed(2) != "200000.00" ||
			!va.Deadline.Equal(time.Date(2026, 3, 23, 9, 30, 0, 0, trading.Shanghai)) {
			t.Fatalf("virtual account %+v", va)
		}
		var reg bidding.Registration
		if err := e.Dep.DB.First(&reg, va.RegistrationID).Error; err != nil || reg.BidderID != va.BidderID || reg.LotID != e.Lot {
			t.Fatalf("account %s belongs to registration %+v (%v)", va.Number, reg, err)
		}
		seen[va.Number], byBidder[va.BidderID] = true, true
	}
	if len(byBidder) != n {
		t.Fatalf("%d bidders have accounts, want %d", len(byBidder), n)
	}
	e.verifyClean()
	if _, problem, err := trading.VerifyAudit(ctx, e.TS.DB); err != nil || problem != nil {
		t.Fatalf("audit: %v %v", problem, err)
	}
}
