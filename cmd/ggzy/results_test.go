package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading/portal"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// The agent takes an engineering lot from the opening record to the
// contract through the result page's forms; a bad price is refused on the
// page naming the row; supervisors read it; bidders cannot.
func TestResultPagesEngineering(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	_, first := depositLot(t, app)
	ctx := context.Background()
	var p trading.Project
	if err := app.DB.Preload("Lots").First(&p).Error; err != nil {
		t.Fatal(err)
	}
	lot := p.Lots[0].ID
	for i, code := range []string{"91350100MA0000001X", "91350100MA0000002X"} {
		acc, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: fmt.Sprintf("福建结果%d建设有限公司", i),
			IDNumber: testenv.CreditCode(code[:17]), LegalRep: "李四", Phone: "13800138000", Email: "r@example.com", Username: fmt.Sprintf("jieguo%d", i), Password: "jieguo2026"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Bidding.Register(ctx, trading.Actor{AccountID: acc.ID, Role: trading.RoleBidder}, lot, bidding.RegisterInput{}); err != nil {
			t.Fatal(err)
		}
	}
	_ = first
	// Bids on this lot are handed in on paper: the agent types the record
	// (lots bid online get theirs from the opening hall).
	declarePaper(t, app, lot)
	clock := app.Clock.(*trading.ManualClock)
	agent := newBrowser(t, srv.URL)
	agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	page := fmt.Sprintf("/agent/lots/%d/result", lot)
	if code, body := agent.get(page); code != 200 || strings.Contains(body, "opening-form") || !strings.Contains(body, "未到") {
		t.Fatalf("before the deadline: %d", code)
	}
	clock.Set(testNow.AddDate(0, 0, 22).Add(time.Hour))
	login := func() { // sessions last 12 hours of the moved clock
		agent = newBrowser(t, srv.URL)
		agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	}
	login()
	code, body := agent.get(page)
	if code != 200 || !strings.Contains(body, `id="opening-form"`) || strings.Count(body, `name="id_number_`) != 3 {
		t.Fatalf("opening form: %d", code)
	}
	form := url.Values{"rows": {"3"}}
	for i, price := range []string{"11000000.00", "11200000.5", "11900000"} {
		k := fmt.Sprint(i)
		m := strings.Split(strings.Split(body, `name="id_number_`+k+`" value="`)[1], `"`)[0]
		form.Set("submitted_"+k, "1")
		form.Set("id_number_"+k, m)
		form.Set("price_"+k, price)
	}
	form.Set("price_1", "11,200,000")
	code, body = agent.post(page, page+"/opening", form)
	if code != 400 || !strings.Contains(body, "第2行") || !strings.Contains(body, `id="form-error"`) {
		t.Fatalf("bad price: %d", code)
	}
	form.Set("price_1", "11200000.5")
	if code, body = agent.post(page, page+"/opening", form); code != 200 || !strings.Contains(body, "已开标") {
		t.Fatalf("opening: %d", code)
	}
	win := form.Get("id_number_0")
	end := clock.Now().AddDate(0, 0, 4).In(trading.Shanghai).Format("2006-01-02T15:04")
	if code, body = agent.post(page, page+"/candidates", url.Values{"rank1": {win}, "rank2": {form.Get("id_number_1")}, "publicity_end": {end}}); code != 200 ||
		!strings.Contains(body, "候选人公示") {
		t.Fatalf("candidates: %d", code)
	}
	sup := actorOf(t, app, "jiandu")
	var announcements []trading.Announcement
	app.DB.Where("type = 'candidates'").Find(&announcements)
	if len(announcements) != 1 {
		t.Fatalf("%d candidate announcements", len(announcements))
	}
	if _, err := app.Trading.ApproveAnnouncement(ctx, sup, announcements[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * 24 * time.Hour)
	login()
	if code, body = agent.post(page, page+"/award", url.Values{"winner": {win}}); code != 200 || !strings.Contains(body, "结果公告待发布") {
		t.Fatalf("award: %d", code)
	}
	app.DB.Where("type = 'result'").Find(&announcements)
	if _, err := app.Trading.ApproveAnnouncement(ctx, sup, announcements[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	today := clock.Now().In(trading.Shanghai).Format("2006-01-02")
	if code, body = agent.post(page, page+"/contract", url.Values{"date": {today}}); code != 200 || !strings.Contains(body, "已签订合同") ||
		!strings.Contains(body, `<span id="outcome-savings">1,000,000.00 元</span>`) {
		t.Fatalf("contract: %d", code)
	}
	var res map[string]any
	if code := call(t, "GET", srv.URL+fmt.Sprintf("/api/v1/lots/%d/result", lot), apiToken(t, srv.URL, "jiandu", "jiandu2026"), nil, &res); code != 200 ||
		res["result"].(map[string]any)["stage"] != "contracted" || res["result"].(map[string]any)["amount"] != "11000000.00" { // amounts: two decimals
		t.Fatalf("API: %d %v", code, res)
	}
	if code := call(t, "GET", srv.URL+fmt.Sprintf("/api/v1/lots/%d/result", lot), apiToken(t, srv.URL, "jiekou", "jiekou2026"), nil, &res); code != 403 {
		t.Fatalf("bidder read the result record: %d", code)
	}
	// The public OCDS export gains the award and the contract.
	var pkg portal.ReleasePackage
	if code := call(t, "GET", srv.URL+"/api/v1/projects/"+p.Code+"/ocds", "", nil, &pkg); code != 200 {
		t.Fatalf("ocds: %d", code)
	}
	last := pkg.Releases[len(pkg.Releases)-1]
	if last.Tag[0] != "contract" || len(last.Awards) != 1 || last.Awards[0].Suppliers[0].Name != "福建接口建设有限公司" || len(last.Contracts) != 1 {
		t.Fatalf("ocds awards: %+v", last)
	}
	// The compiled record shows the lot's final state (issue 13 item 20).
	var rec struct {
		Records []struct {
			OCID            string `json:"ocid"`
			Releases        []any  `json:"releases"`
			CompiledRelease struct {
				Tag    []string `json:"tag"`
				Tender struct {
					Status string `json:"status"`
					Lots   []struct {
						Status string `json:"status"`
					} `json:"lots"`
				} `json:"tender"`
				Awards    []struct{ Status string } `json:"awards"`
				Contracts []struct{ Status string } `json:"contracts"`
			} `json:"compiledRelease"`
		} `json:"records"`
	}
	if code := call(t, "GET", srv.URL+"/api/v1/projects/"+p.Code+"/ocds/record", "", nil, &rec); code != 200 || len(rec.Records) != 1 {
		t.Fatalf("ocds record: %d %+v", code, rec)
	}
	if c := rec.Records[0].CompiledRelease; len(rec.Records[0].Releases) != len(pkg.Releases) || c.Tag[0] != "compiled" ||
		c.Tender.Status != "complete" || c.Tender.Lots[0].Status != "complete" || len(c.Awards) != 1 || c.Awards[0].Status != "active" ||
		len(c.Contracts) != 1 {
		t.Fatalf("compiled release: %+v", rec.Records[0])
	}
	// The supervisors' timeline carries the result steps.
	if code, body := func() (int, string) {
		b := newBrowser(t, srv.URL)
		b.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
		return b.get("/supervise/projects/" + p.Code)
	}(); code != 200 || !strings.Contains(body, "合同签订") || !strings.Contains(body, "定标/成交") {
		t.Fatalf("timeline: %d", code)
	}
}
