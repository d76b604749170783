package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// The supervisor's refunds page: a procurement supplier's withdrawal refund
// (D6, 5 days) is late, so it shows the G7 occupation fee with a form to
// record the period the supplier's own cause kept it back; recorded, the
// page shows the period and its facts, and can take it back. The same
// through the API, and the supplier is told of each step.
func TestRefundsPageFeeWaiver(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	p, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "procurement", Title: "资金占用费测试采购",
		OwnerName: "福州市某局", RegionCode: "350100", Lots: []trading.LotInput{{Name: "第1包", Budget: "3000000.00", Deposit: "60000.00",
			DocIssueStart: testNow.Add(24 * time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 8).Format(time.RFC3339),
			BidDeadline: testNow.AddDate(0, 0, 22).Format(time.RFC3339)}}})
	if err != nil {
		t.Fatal(err)
	}
	publishAnnouncement(t, app, agent, sup, p.Code, "procurement", "资金占用费测试采购公告")
	clock := app.Clock.(*trading.ManualClock)
	clock.Advance(48 * time.Hour)
	acc, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: "福建占用费医疗有限公司",
		IDNumber: "91350100M000100Y43", LegalRep: "张三", Phone: "13800138000", Email: "x@example.com", Username: "gongying", Password: "gongying2026"})
	if err != nil {
		t.Fatal(err)
	}
	b := trading.Actor{AccountID: acc.ID, Username: "gongying", Role: trading.RoleBidder}
	decl := map[string]bool{}
	for _, d := range bidding.ProcurementDeclarations {
		decl[d.Key] = true
	}
	lot := p.Lots[0].ID
	if _, err := app.Bidding.Register(ctx, b, lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "0591-88888888", Declarations: decl}); err != nil {
		t.Fatal(err)
	}
	var va deposits.VirtualAccount
	if err := app.DB.Where("bidder_id = ?", acc.ID).First(&va).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := app.Deposits.Receive(ctx, trading.SystemActor, deposits.SourceWebhook, []deposits.Inflow{{BankTxnID: "G7-1", VirtualAccount: va.Number,
		PayerName: "福建占用费医疗有限公司", PayerAccount: "6222007", Amount: mustDecimal("60000.00"), Currency: "CNY", ValueTime: clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	if err := app.Bidding.Withdraw(ctx, b, lot); err != nil {
		t.Fatal(err)
	}
	clock.Advance(15 * 24 * time.Hour) // well past the 5 days of D6

	page := newBrowser(t, srv.URL)
	page.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
	var refund int64
	app.DB.Raw("SELECT id FROM refunds").Scan(&refund)
	code, body := page.get("/supervisor/refunds")
	action := fmt.Sprintf(`action="/supervisor/refunds/%d/fee-waiver"`, refund)
	if code != 200 || !strings.Contains(body, action) || !strings.Contains(body, "截至今日") || !strings.Contains(body, `name="from"`) {
		t.Fatalf("the late refund's fee and its G7 form: %d", code)
	}
	// The fee shown: every late day before, the days from 16 March left out after.
	var stored deposits.Refund
	if err := app.DB.First(&stored, refund).Error; err != nil {
		t.Fatal(err)
	}
	due := time.Date(stored.DueOn.Year(), stored.DueOn.Month(), stored.DueOn.Day(), 0, 0, 0, 0, trading.Shanghai)
	full, err := deposits.OccupationFee(stored.Principal, due, clock.Now(), app.Deposits.LoanRates, app.Deposits.G7Uplift, app.Deposits.Basis)
	if err != nil {
		t.Fatal(err)
	}
	less, err := deposits.OccupationFeeExcept(stored.Principal, due, clock.Now(), time.Date(2026, 3, 16, 0, 0, 0, 0, trading.Shanghai), nil,
		app.Deposits.LoanRates, app.Deposits.G7Uplift, app.Deposits.Basis)
	if err != nil || !less.IsPositive() || !less.LessThan(full) {
		t.Fatalf("fees %s and %s: %v", full, less, err)
	}
	if !strings.Contains(body, deposits.FormatYuan(full)) {
		t.Fatalf("the page does not show the fee %s", deposits.FormatYuan(full))
	}
	path := fmt.Sprintf("/supervisor/refunds/%d/fee-waiver", refund)
	code, body = page.post("/supervisor/refunds", path, url.Values{"from": {"2026-03-16"}, "reason": {"短"}})
	if code != 200 || !strings.Contains(body, "4至200字") {
		t.Fatalf("a reason too short: %d", code)
	}
	const why = "供应商提供的收款账户已销户，迟延由供应商造成"
	code, body = page.post("/supervisor/refunds", path, url.Values{"from": {"2026-03-16"}, "until": {""}, "reason": {why}})
	if code != 200 || !strings.Contains(body, "已记录退款") || !strings.Contains(body, why) || !strings.Contains(body, "不计 2026-03-16 起") ||
		!strings.Contains(body, "撤销记录") || !strings.Contains(body, "原因仍在持续") || !strings.Contains(body, deposits.FormatYuan(less)) {
		t.Fatalf("after the record: %d", code)
	}
	// In Chromium, with the form open: axe, no English codes, no raw paths.
	chrome := newChrome(t)
	login(t, chrome, srv.URL, "jiandu", "jiandu2026")
	if err := chromedp.Do(chrome, chromedp.Navigate(srv.URL+"/supervisor/refunds"), chromedp.Click(chromedp.CSS("details.fee-waiver summary"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "details.fee-waiver[open] label", "原因实际阻碍退还之日")
	checkPage(t, chrome, "refunds-fee-waiver")

	code, body = page.post("/supervisor/refunds", path, url.Values{"remove": {"1"}})
	if code != 200 || !strings.Contains(body, "已撤销退款") || strings.Contains(body, "不计 2026-03-16 起") || !strings.Contains(body, deposits.FormatYuan(full)) {
		t.Fatalf("after the removal: %d", code)
	}

	// The same through the API, every answer validated against openapi.json.
	tok := apiToken(t, srv.URL, "jiandu", "jiandu2026")
	u := fmt.Sprintf("%s/api/v1/deposits/refunds/%d/fee-waiver", srv.URL, refund)
	var r map[string]any
	if code := call(t, "PUT", u, tok, map[string]string{"from": "2026-03-16", "until": "2026-03-18", "reason": why}, &r); code != 200 ||
		r["fee_waiver"] != why || r["fee_waived_from"] == nil || r["fee_waived_until"] == nil {
		t.Fatalf("PUT: %d %v", code, r)
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if code := call(t, "GET", srv.URL+"/api/v1/deposits/refunds", tok, nil, &list); code != 200 || len(list.Items) != 1 ||
		list.Items[0]["procurement"] != true || list.Items[0]["fee_waiver"] != why ||
		list.Items[0]["fee_waived_from"] != r["fee_waived_from"] || list.Items[0]["fee_waived_until"] != r["fee_waived_until"] {
		t.Fatalf("GET (the dates as PUT gave them): %d %v, PUT %v", code, list, r)
	}
	var gone map[string]any
	if code := call(t, "DELETE", u, tok, nil, &gone); code != 200 || gone["id"] == nil || gone["fee_waived_from"] != nil {
		t.Fatalf("DELETE: %d %v", code, gone)
	}
	var n, told int64
	app.DB.Raw(`SELECT count(*) FROM audit_events WHERE action IN ('refund.fee_waive', 'refund.fee_restore')`).Scan(&n)
	app.DB.Raw(`SELECT count(*) FROM notifications WHERE account_id = ? AND title = '保证金退还：资金占用费（G7）'`, acc.ID).Scan(&told)
	if n != 4 || told != 4 {
		t.Fatalf("%d audit records and %d notices to the supplier, want 4 each", n, told)
	}
}
