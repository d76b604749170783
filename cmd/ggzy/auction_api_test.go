package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// The online bidding API: a quote is 201, the same key again 200 with the
// same quote, every refusal a 4xx whose JSON names the rule, the agent
// refused (A1), the public view without names or reserve, suspension and
// resumption by supervisors only.
func TestAuctionAPI(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	auctionAt := time.Date(2026, 3, 25, 10, 0, 0, 0, trading.Shanghai)
	setDB := func(at time.Time) {
		if err := trading.FreezeDBClock(context.Background(), app.DB, at); err != nil {
			t.Fatal(err)
		}
	}
	setDB(auctionAt.Add(-time.Minute))
	lot := auctionLot(t, app, auctionAt, "jiafang", "yifang")
	app.Clock.(*trading.ManualClock).Set(auctionAt.Add(-time.Minute))
	token := func(user, pass string) string {
		var tok trading.TokenResponse
		if code := call(t, "POST", srv.URL+"/api/v1/auth/login", "", map[string]string{"username": user, "password": pass}, &tok); code != 200 {
			t.Fatalf("login %s: %d", user, code)
		}
		return tok.Token
	}
	a, agent, sup := token("jiafang", "jiafang2026"), token("daili", "daili2026"), token("jiandu", "jiandu2026")
	quotes := fmt.Sprintf("%s/api/v1/lots/%d/quotes", srv.URL, lot)
	var e trading.ErrorBody
	if code := call(t, "POST", quotes, a, map[string]string{"amount": "5000000", "key": "k1"}, &e); code != 409 || e.Error.Rule != "L11" {
		t.Fatalf("before the auction: %d %+v", code, e)
	}
	setDB(auctionAt.Add(time.Second))
	var r struct {
		Code      string `json:"code"`
		Duplicate bool   `json:"duplicate"`
		Quote     struct {
			ID int64 `json:"id"`
		} `json:"quote"`
	}
	if code := call(t, "POST", quotes, a, map[string]string{"amount": "5000000", "key": "k2"}, &r); code != 201 || len(r.Code) != 6 {
		t.Fatalf("quote: %d %+v", code, r)
	}
	first := r.Quote.ID
	if code := call(t, "POST", quotes, a, map[string]string{"amount": "5000000", "key": "k2"}, &r); code != 200 || !r.Duplicate || r.Quote.ID != first {
		t.Fatalf("the same key again: %d %+v", code, r)
	}
	for _, c := range []struct {
		body   map[string]string
		status int
		rule   string
	}{
		{map[string]string{"amount": "5050000", "key": "k3"}, 422, "L8"},
		{map[string]string{"amount": "5,100,000", "key": "k4"}, 400, "L8"},
		{map[string]string{"amount": "5100000"}, 400, "L8"},
	} {
		e = trading.ErrorBody{}
		if code := call(t, "POST", quotes, a, c.body, &e); code != c.status || e.Error.Rule != c.rule {
			t.Fatalf("%v: %d %+v", c.body, code, e)
		}
	}
	if code := call(t, "POST", quotes, agent, map[string]string{"amount": "5100000", "key": "k5"}, &e); code != 403 {
		t.Fatalf("agent: %d %+v", code, e)
	}
	var view map[string]any
	if code := call(t, "GET", fmt.Sprintf("%s/api/v1/lots/%d/auction", srv.URL, lot), "", nil, &view); code != 200 || view["highest_code"] != r.Code {
		t.Fatalf("view: %d %+v", code, view)
	}
	if s := fmt.Sprint(view); strings.Contains(s, "reserve") || strings.Contains(s, "jiafang置业") {
		t.Fatalf("the public view reveals: %s", s)
	}
	suspend := fmt.Sprintf("%s/api/v1/lots/%d/auction/suspend", srv.URL, lot)
	if code := call(t, "POST", suspend, agent, map[string]string{"reason": "核查投诉中"}, nil); code != 403 {
		t.Fatalf("agent suspends: %d", code)
	}
	if code := call(t, "POST", suspend, sup, map[string]string{"reason": "核查投诉中"}, nil); code != 204 {
		t.Fatalf("suspend: %d", code)
	}
	if code := call(t, "POST", quotes, a, map[string]string{"amount": "5100000", "key": "k6"}, &e); code != 409 || e.Error.Rule != "L13" {
		t.Fatalf("during the suspension: %d %+v", code, e)
	}
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/lots/%d/auction/resume", srv.URL, lot), sup, nil, nil); code != 204 {
		t.Fatalf("resume: %d", code)
	}
	// Only the refusals and the one quote were written (the agent was
	// turned away by the route, before the service: nothing to record).
	var refusals, accepted int64
	app.DB.Raw("SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused'", lot).Scan(&refusals)
	app.DB.Raw("SELECT count(*) FROM auction_quotes WHERE lot_id = ?", lot).Scan(&accepted)
	if refusals != 5 || accepted != 1 {
		t.Fatalf("%d refusals, %d quotes", refusals, accepted)
	}
}

// An online auction settles and its signed bidding record is served through
// the validated API: public, with the winner's code and the price.
func TestAuctionRecordThroughAPI(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()
	auctionAt := time.Date(2026, 3, 25, 10, 0, 0, 0, trading.Shanghai)
	if err := trading.FreezeDBClock(ctx, app.DB, auctionAt.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	lot := auctionLot(t, app, auctionAt, "jiafang", "yifang")
	app.Clock.(*trading.ManualClock).Set(auctionAt.Add(-time.Minute))
	a := apiToken(t, srv.URL, "jiafang", "jiafang2026")
	if err := trading.FreezeDBClock(ctx, app.DB, auctionAt.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	var q struct {
		Code         string    `json:"code"`
		CountdownEnd time.Time `json:"countdown_end"`
	}
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/lots/%d/quotes", srv.URL, lot), a, map[string]string{"amount": "5200000", "key": "r1"}, &q); code != 201 {
		t.Fatalf("quote: %d", code)
	}
	record := fmt.Sprintf("%s/api/v1/lots/%d/auction/record", srv.URL, lot)
	if code := call(t, "GET", record, "", nil, nil); code != 409 {
		t.Fatalf("record before settlement: %d", code)
	}
	// Just after the countdown (L11): much later, the lot would be frozen
	// for the supervisors instead (late settlement).
	if err := trading.FreezeDBClock(ctx, app.DB, q.CountdownEnd.Add(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	// The server's own ticker publishes too (settle.go), and both skip a
	// lot the other holds (SKIP LOCKED). So publish until the lot has its
	// record, as a second instance would see it.
	settleDue(t, app, lot)
	for deadline := time.Now().Add(20 * time.Second); ; {
		if err := app.Auction.PublishRecords(ctx); err != nil {
			t.Fatal(err)
		}
		l, err := app.Auction.Get(ctx, lot)
		if err != nil {
			t.Fatal(err)
		}
		if l.RecordKey != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var rec map[string]any
	if code := call(t, "GET", record, "", nil, &rec); code != 200 || rec["winner"] != q.Code || rec["lot_id"] != float64(lot) {
		t.Fatalf("record: %d %v", code, rec)
	}
}

// settleDue takes the lot's due step (SettleDue) and returns once no step
// of it is due any more. The server's own ticker settles too (settle.go),
// and each skips a lot the other holds (SKIP LOCKED): a SettleDue that
// finds the ticker mid-step returns before the ticker commits, so this
// waits for that commit (bounded), as a second instance would.
func settleDue(t *testing.T, app *App, lot int64) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := app.Auction.SettleDue(ctx); err != nil {
			t.Fatal(err)
		}
		var due bool
		if err := app.DB.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM auction_lots WHERE lot_id = ? AND
			((state = 'open' AND closes_at <= ggzy_now()) OR (state IN ('timed', 'capped', 'priority') AND countdown_end <= ggzy_now())))`,
			lot).Scan(&due).Error; err != nil {
			t.Fatal(err)
		}
		if !due {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lot %d: a step is still due after 20 s", lot)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
