package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// registrant is one line of a lot's registrations, as the API lists them.
type registrant struct {
	IDNumber   string `json:"id_number"`
	BidderName string `json:"bidder_name"`
}

// openedLot publishes an engineering lot with three registered bidders, bid
// on paper, moves past its deadline and enters the opening record through
// the API; it returns the agent's and supervisor's tokens and the
// registrants in the order the API listed them (the first bid lowest).
func openedLot(t *testing.T) (*App, string, *trading.Project, int64, string, string, []registrant) {
	t.Helper()
	app, srv := newTestServer(t, testConfig(t))
	_, _ = depositLot(t, app)
	ctx := context.Background()
	var p trading.Project
	if err := app.DB.Preload("Lots").First(&p).Error; err != nil {
		t.Fatal(err)
	}
	lot := p.Lots[0].ID
	for i, code := range []string{"91350100MA0000001X", "91350100MA0000002X"} {
		acc, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: fmt.Sprintf("福建接口%d建设有限公司", i),
			IDNumber: testenv.CreditCode(code[:17]), LegalRep: "李四", Phone: "13800138000", Email: "r@example.com", Username: fmt.Sprintf("jieguo%d", i), Password: "jieguo2026"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Bidding.Register(ctx, trading.Actor{AccountID: acc.ID, Role: trading.RoleBidder}, lot, bidding.RegisterInput{}); err != nil {
			t.Fatal(err)
		}
	}
	declarePaper(t, app, lot)
	app.Clock.(*trading.ManualClock).Set(testNow.AddDate(0, 0, 22).Add(time.Hour))
	agent, sup := apiToken(t, srv.URL, "daili", "daili2026"), apiToken(t, srv.URL, "jiandu", "jiandu2026")
	var regs struct {
		Items []registrant `json:"items"`
		Count int          `json:"count"`
	}
	if code := call(t, "GET", fmt.Sprintf("%s/api/v1/lots/%d/registrations", srv.URL, lot), agent, nil, &regs); code != 200 || regs.Count != 3 {
		t.Fatalf("registrations: %d %+v", code, regs)
	}
	var bids []map[string]string
	for i, price := range []string{"11000000", "11200000.5", "11900000.00"} {
		bids = append(bids, map[string]string{"id_number": regs.Items[i].IDNumber, "price": price})
	}
	var res map[string]any
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/lots/%d/result/opening", srv.URL, lot), agent, map[string]any{"bids": bids}, &res); code != 200 ||
		res["lot_id"] != float64(lot) || res["stage"] != "opened" {
		t.Fatalf("opening: %d %v", code, res)
	}
	return app, srv.URL, &p, lot, agent, sup, regs.Items
}

// The result steps through the API, from the opening record to the
// contract: every answer is snake_case (the steps that write an announcement answer
// with the announcement, never Go field names such as "ID", "ProjectID",
// "BodyHTML"), amounts are strings with two decimals, and every call passes
// newTestServer's validation against openapi.json. The supervisor rejects
// the candidate announcement once, and the agent submits it again.
func TestResultStepsThroughAPI(t *testing.T) {
	t.Parallel()
	app, base, p, lot, agent, sup, regs := openedLot(t)
	clock := app.Clock.(*trading.ManualClock)
	u := func(f string, a ...any) string { return base + "/api/v1" + fmt.Sprintf(f, a...) }
	var res map[string]any
	win, second := regs[0].IDNumber, regs[1].IDNumber

	// The announcement-writing steps answer with the announcement.
	isAnnouncement := func(step string, n map[string]any, typ string) int64 {
		t.Helper()
		for _, goName := range []string{"ID", "ProjectID", "BodyHTML", "Title", "Status"} {
			if _, ok := n[goName]; ok {
				t.Errorf("%s: Go field name %q in the answer: %v", step, goName, n)
			}
		}
		if n["type"] != typ || n["project_code"] != p.Code || n["status"] != "submitted" || n["body_html"] == "" || n["id"] == nil {
			t.Fatalf("%s: %v", step, n)
		}
		return int64(n["id"].(float64))
	}
	end := clock.Now().AddDate(0, 0, 4).In(trading.Shanghai).Format("2006-01-02T15:04")
	var n map[string]any
	if code := call(t, "POST", u("/lots/%d/result/candidates", lot), agent,
		map[string]any{"id_numbers": []string{win, second}, "publicity_end": end}, &n); code != 200 {
		t.Fatalf("candidates: %d %v", code, n)
	}
	cand := isAnnouncement("candidates", n, "candidates")
	if code := call(t, "POST", u("/announcements/%d/reject", cand), sup, map[string]string{"reason": "请补充候选人业绩"}, &n); code != 200 ||
		n["status"] != "rejected" || n["reject_reason"] != "请补充候选人业绩" {
		t.Fatalf("reject: %d %v", code, n)
	}
	if code := call(t, "POST", u("/announcements/%d/submit", cand), agent, nil, &n); code != 200 || n["status"] != "submitted" {
		t.Fatalf("submit again: %d %v", code, n)
	}
	if code := call(t, "POST", u("/announcements/%d/approve", cand), sup, nil, &n); code != 200 || n["status"] != "published" {
		t.Fatalf("approve candidates: %d %v", code, n)
	}

	clock.Advance(5 * 24 * time.Hour)
	agent, sup = apiToken(t, base, "daili", "daili2026"), apiToken(t, base, "jiandu", "jiandu2026")
	if code := call(t, "POST", u("/lots/%d/result/award", lot), agent, map[string]any{"id_number": win}, &n); code != 200 {
		t.Fatalf("award: %d %v", code, n)
	}
	result := isAnnouncement("award", n, "result")
	if code := call(t, "POST", u("/announcements/%d/approve", result), sup, nil, &n); code != 200 || n["status"] != "published" {
		t.Fatalf("approve result: %d %v", code, n)
	}
	today := clock.Now().In(trading.Shanghai).Format("2006-01-02")
	if code := call(t, "POST", u("/lots/%d/result/contract", lot), agent, map[string]string{"date": today, "amount": "10999999.5"}, &res); code != 200 ||
		res["stage"] != "contracted" || res["contract_amount"] != "10999999.50" || res["amount"] != "11000000.00" {
		t.Fatalf("contract: %d %v", code, res)
	}
	var view struct {
		Result       map[string]any   `json:"result"`
		Bids         []map[string]any `json:"bids"`
		Winner       string           `json:"winner"`
		Announcement map[string]any   `json:"result_announcement"`
	}
	if code := call(t, "GET", u("/lots/%d/result", lot), sup, nil, &view); code != 200 || view.Result["stage"] != "contracted" ||
		view.Winner != regs[0].BidderName || len(view.Bids) != 3 || view.Bids[1]["price"] != "11200000.50" || view.Announcement["status"] != "published" {
		t.Fatalf("result: %d %+v", code, view)
	}
}

// An opened lot whose bids are all unacceptable fails through the API (流标,
// 204), and the result then says so.
func TestResultFailedThroughAPI(t *testing.T) {
	t.Parallel()
	_, base, _, lot, agent, _, _ := openedLot(t)
	u := func(f string, a ...any) string { return base + "/api/v1" + fmt.Sprintf(f, a...) }
	if code := call(t, "POST", u("/lots/%d/result/failed", lot), agent, map[string]string{"reason": "评标委员会否决全部投标"}, nil); code != 204 {
		t.Fatalf("failed: %d", code)
	}
	var view struct {
		Result map[string]any `json:"result"`
	}
	if code := call(t, "GET", u("/lots/%d/result", lot), agent, nil, &view); code != 200 || view.Result["stage"] != "failed" ||
		view.Result["failed_reason"] != "评标委员会否决全部投标" {
		t.Fatalf("result: %d %+v", code, view)
	}
}
