package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// holderLot is a property 一次报价 lot with post-qualification ("next")
// and a priority-right holder, published by agent daili (supervisor jiandu;
// another agent qita exists). Two applicants apply and pay, none is
// reviewed: 福建甲投资有限公司 (jiafang), who quotes 6,500,000 in the
// listing, and the holder 某公司原股东有限公司 (gudong). at moves both
// clocks; end is the listing's end.
type holderLot struct {
	lot, holderReg int64
	code           string
	agent          trading.Actor
	other          trading.Actor
	quote          *auction.QuoteResult
	at             func(time.Time)
	end            time.Time
}

func newHolderLot(t *testing.T, app *App) *holderLot {
	t.Helper()
	ctx := context.Background()
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleAgent, "qita", "qita2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	start := time.Date(2026, 3, 23, 9, 0, 0, 0, trading.Shanghai)
	end := time.Date(2026, 4, 8, 16, 0, 0, 0, trading.Shanghai)
	at := func(t0 time.Time) {
		app.Clock.(*trading.ManualClock).Set(t0)
		if err := trading.FreezeDBClock(ctx, app.DB, t0); err != nil {
			t.Fatal(err)
		}
	}
	at(time.Date(2026, 3, 2, 10, 0, 0, 0, trading.Shanghai))
	holderID := testenv.CreditCode("91350100MA0000HLD")
	p, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "property", Title: "某公司股权网络竞价", OwnerName: "某国有企业",
		RegionCode: "350100", Lots: []trading.LotInput{{Name: "某公司20%股权", ListingPrice: "6000000.00", AppraisedValue: "5800000.00",
			Deposit: "1000000.00", ListingStart: start.Format(time.RFC3339), ListingEnd: end.Format(time.RFC3339), BiddingMode: "sealed",
			PostQualification: "next", PriorityHolder: holderID}}})
	if err != nil {
		t.Fatal(err)
	}
	publishAnnouncement(t, app, agent, sup, p.Code, "listing", "产权转让公告")
	lot := p.Lots[0].ID
	// Both apply and pay; nobody reviews anything yet.
	apply := func(user, name, id string) (trading.Actor, int64) {
		acc, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: name, IDNumber: id,
			LegalRep: "张三", Phone: "13800138000", Email: user + "@example.com", Username: user, Password: user + "2026"})
		if err != nil {
			t.Fatal(err)
		}
		a := trading.Actor{AccountID: acc.ID, Username: user, Role: trading.RoleBidder}
		reg, err := app.Bidding.Register(ctx, a, lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "13900000000"})
		if err != nil {
			t.Fatal(err)
		}
		var va deposits.VirtualAccount
		if err := app.DB.Where("registration_id = ?", reg.ID).First(&va).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := app.Deposits.Receive(ctx, trading.Actor{Username: "bank", Role: "system"}, deposits.SourceWebhook, []deposits.Inflow{{
			BankTxnID: "P" + user, VirtualAccount: va.Number, PayerName: name, PayerAccount: "6222" + user, PayerBank: "某银行",
			Amount: decimal.RequireFromString("1000000.00"), Currency: "CNY", ValueTime: app.Clock.Now()}}); err != nil {
			t.Fatal(err)
		}
		return a, reg.ID
	}
	other, _ := apply("jiafang", "福建甲投资有限公司", testenv.CreditCode("91350100MA0000JAB"))
	_, holderReg := apply("gudong", "某公司原股东有限公司", holderID)
	at(start.Add(24 * time.Hour))
	r, err := app.Auction.Quote(ctx, other, lot, auction.QuoteInput{Amount: "6500000", Key: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	return &holderLot{lot: lot, holderReg: holderReg, code: p.Code, agent: agent, other: other, quote: r, at: at, end: end}
}

// P7 under 资格后审, over HTTP: the agent, to whom the bidders are secret
// during the bidding, finds the priority-right holder's application on the
// lot's registrations page (and through the API) and approves it, so that
// the holder's window opens after the bidding instead of the right
// lapsing. The page and the API show the holder's application alone (no
// other applicant, no count, no bidder code); another agent finds nothing;
// supervisors see everyone with the holder marked, and review from their
// own page. Every look is audited.
func TestPriorityHolderApplicationUnderPostQualification(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()
	h := newHolderLot(t, app)
	lot, holderReg, p, agent, r, at, end := h.lot, h.holderReg, struct{ Code string }{h.code}, h.agent, h.quote, h.at, h.end

	// The agent, during the bidding: the holder's application alone.
	page := fmt.Sprintf("/agent/lots/%d/registrations", lot)
	ab := newBrowser(t, srv.URL)
	ab.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	if _, body := ab.get(fmt.Sprintf("/agent/projects/%s", p.Code)); !strings.Contains(body, page) {
		t.Fatal("the agent's project page does not link the lot's registrations")
	}
	code, body := ab.get(page)
	if code != 200 || !strings.Contains(body, `id="holder-only"`) || !strings.Contains(body, "某公司原股东有限公司") || !strings.Contains(body, "优先购买权人") {
		t.Fatalf("the agent's registrations page during the bidding: %d %s", code, body)
	}
	if strings.Contains(body, "福建甲投资有限公司") || strings.Contains(body, r.Code) || strings.Contains(body, `id="registrant-count"`) {
		t.Fatal("the agent's page shows another bidder, a bidder code or a count during the bidding")
	}
	approve := fmt.Sprintf("/agent/registrations/%d/approve", holderReg)
	if !strings.Contains(body, `action="`+approve+`"`) {
		t.Fatal("no approve form for the holder's pending application")
	}
	agentTok := apiToken(t, srv.URL, "daili", "daili2026")
	var list struct {
		Items []struct {
			ID             int64  `json:"id"`
			BidderName     string `json:"bidder_name"`
			Status         string `json:"status"`
			PriorityHolder bool   `json:"priority_holder"`
		} `json:"items"`
		HolderOnly bool `json:"holder_only"`
		Count      int  `json:"count"`
	}
	if code := call(t, "GET", fmt.Sprintf("%s/api/v1/lots/%d/registrations", srv.URL, lot), agentTok, nil, &list); code != 200 ||
		!list.HolderOnly || list.Count != 1 || len(list.Items) != 1 || list.Items[0].ID != holderReg || !list.Items[0].PriorityHolder {
		t.Fatalf("the agent's API list during the bidding: %d %+v", code, list)
	}
	// Another agent finds nothing.
	qb := newBrowser(t, srv.URL)
	qb.post("/login", "/login", url.Values{"username": {"qita"}, "password": {"qita2026"}})
	if code, _ := qb.get(page); code != 404 {
		t.Fatalf("another agent's look: %d", code)
	}
	// The other applicant is still not the agent's to review (资格后审).
	ab.post(page, fmt.Sprintf("/agent/registrations/%d/approve", r.Quote.RegistrationID), url.Values{})
	var st string
	if err := app.DB.Raw(`SELECT status FROM registrations WHERE id = ?`, r.Quote.RegistrationID).Scan(&st).Error; err != nil || st != "pending" {
		t.Fatalf("the agent reviewed another applicant before the bidding ended: %q %v", st, err)
	}
	if code, body := ab.post(page, approve, url.Values{}); code != 200 || !strings.Contains(body, "已审核通过") {
		t.Fatalf("approve the holder: %d", code)
	}
	var status string
	if err := app.DB.Raw(`SELECT status FROM registrations WHERE id = ?`, holderReg).Scan(&status).Error; err != nil || status != "approved" {
		t.Fatalf("the holder's application: %q %v", status, err)
	}
	var looks int64
	app.DB.Raw(`SELECT count(*) FROM audit_events WHERE action = 'registration.view' AND object_id = ? AND summary LIKE '%优先购买权人%'`, fmt.Sprint(lot)).Scan(&looks)
	if looks < 3 {
		t.Fatalf("%d audited looks at the holder's application, want every one (page, API, page after approving)", looks)
	}

	// Supervisors see everyone, the holder marked, with their own forms.
	sb := newBrowser(t, srv.URL)
	sb.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
	code, body = sb.get(fmt.Sprintf("/supervisor/lots/%d/registrations", lot))
	if code != 200 || !strings.Contains(body, "福建甲投资有限公司") || !strings.Contains(body, `class="priority-holder"`) || strings.Contains(body, `id="holder-only"`) {
		t.Fatalf("the supervisors' registrations page: %d", code)
	}
	if !strings.Contains(body, `action="/supervisor/registrations/`) {
		t.Fatal("the supervisors' page has no review form for the pending application")
	}

	// After the bidding: the winner passes the check, and the holder, now
	// approved, gets its window instead of a lapse.
	at(end)
	settleDue(t, app, lot)
	if err := app.Auction.Qualify(ctx, agent, lot, auction.QualifyInput{Passed: true}); err != nil {
		t.Fatal(err)
	}
	if l, _ := app.Auction.Get(ctx, lot); l.State != auction.StatePriority {
		t.Fatalf("after the winner passed, the holder's window: state %s", l.State)
	}
}
