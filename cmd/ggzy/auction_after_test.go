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

// After the bidding, over the pages: a property 一次报价 lot with
// post-qualification (资格后审) and a priority-right holder (P7). The
// winner quoted on its deposit alone; the agent's qualification page shows
// who it is and passes it; the holder's quote page offers the right, and
// the holder buys at the final price. Bidders cannot reach the agent's
// page; the watch page says where the lot stands.
func TestAuctionAfterBiddingPages(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
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
	if _, body := newBrowser(t, srv.URL).get(fmt.Sprintf("/projects/%s", p.Code)); !strings.Contains(body, "资格后审") || !strings.Contains(body, "优先购买权") {
		t.Fatal("the project page does not say the lot uses post-qualification and has a priority right")
	}
	bidder := func(user, name, id string, approve bool) trading.Actor {
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
		if approve {
			if err := app.Bidding.Review(ctx, agent, reg.ID, true, ""); err != nil {
				t.Fatal(err)
			}
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
		return a
	}
	winner := bidder("jiafang", "福建甲投资有限公司", testenv.CreditCode("91350100MA0000JAB"), false) // 资格后审: never reviewed
	holder := bidder("gudong", "某公司原股东有限公司", holderID, true)
	at(start.Add(24 * time.Hour))
	if _, err := app.Auction.Quote(ctx, winner, lot, auction.QuoteInput{Amount: "6500000", Key: "w1"}); err != nil {
		t.Fatal(err)
	}
	at(end)
	settleDue(t, app, lot) // the ticker may have been first: either settles it once
	if l, _ := app.Auction.Get(ctx, lot); l.State != auction.StateQualifying {
		t.Fatalf("after the close: %s", l.State)
	}
	page := fmt.Sprintf("/agent/auctions/%d/qualification", lot)
	sb := newBrowser(t, srv.URL)
	sb.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
	if code, body := sb.get(fmt.Sprintf("/supervise/auctions/%d", lot)); code != 200 || !strings.Contains(body, "竞得候选人资格后审中") {
		t.Fatalf("the supervisors' page does not name the state in Chinese: %d", code)
	}

	wb := newBrowser(t, srv.URL)
	wb.post("/login", "/login", url.Values{"username": {"jiafang"}, "password": {"jiafang2026"}})
	if code, _ := wb.get(page); code != 403 {
		t.Fatalf("a bidder opened the agent's qualification page: %d", code)
	}
	if _, body := wb.get(fmt.Sprintf("/auctions/%d/bid", lot)); !strings.Contains(body, `id="candidate"`) || !strings.Contains(body, "资格后审") {
		t.Fatal("the candidate's quote page does not say its qualification is being checked")
	}

	ab := newBrowser(t, srv.URL)
	ab.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	code, body := ab.get(page)
	if code != 200 || !strings.Contains(body, "福建甲投资有限公司") || !strings.Contains(body, "6,500,000.00") && !strings.Contains(body, "6500000.00") {
		t.Fatalf("qualification page: %d %s", code, body)
	}
	if code, body = ab.post(page, page, url.Values{"passed": {"0"}, "reason": {"短"}}); code != 400 || !strings.Contains(body, "理由") {
		t.Fatalf("a failure without a real reason: %d", code)
	}
	if code, _ = ab.post(page, page, url.Values{"passed": {"1"}}); code != 200 {
		t.Fatalf("pass: %d", code)
	}
	l, _ := app.Auction.Get(ctx, lot)
	if l.State != auction.StatePriority {
		t.Fatalf("after the pass: %s", l.State)
	}
	if _, body := newBrowser(t, srv.URL).get(fmt.Sprintf("/auctions/%d", lot)); !strings.Contains(body, "等待优先购买权人决定") {
		t.Fatal("the watch page does not say the lot waits for the priority-right holder")
	}

	hb := newBrowser(t, srv.URL)
	hb.post("/login", "/login", url.Values{"username": {"gudong"}, "password": {"gudong2026"}})
	bid := fmt.Sprintf("/auctions/%d/bid", lot)
	if _, body := hb.get(bid); !strings.Contains(body, `id="priority-form"`) || !strings.Contains(body, "6,500,000.00") && !strings.Contains(body, "6500000.00") {
		t.Fatalf("the holder's page offers no priority right: %s", body)
	}
	if _, body := wb.get(bid); strings.Contains(body, `id="priority-form"`) {
		t.Fatal("another bidder is offered the priority right")
	}
	// An empty answer through the API gives nothing up: 400 naming the
	// field, the window still open; an empty check is no failure either.
	var apiErr struct {
		Error struct {
			Field string `json:"field"`
		} `json:"error"`
	}
	holderTok := apiToken(t, srv.URL, "gudong", "gudong2026")
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/lots/%d/auction/priority", srv.URL, lot), holderTok, map[string]any{}, &apiErr); code != 400 || apiErr.Error.Field != "exercise" {
		t.Fatalf("empty priority answer: %d %+v", code, apiErr)
	}
	if l, _ = app.Auction.Get(ctx, lot); l.State != auction.StatePriority {
		t.Fatalf("after an empty priority answer: %s", l.State)
	}
	agentTok := apiToken(t, srv.URL, "daili", "daili2026")
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/lots/%d/auction/qualification", srv.URL, lot), agentTok, map[string]any{"reason": "材料不全，资格不合格"}, &apiErr); code != 400 || apiErr.Error.Field != "passed" {
		t.Fatalf("a check without passed: %d %+v", code, apiErr)
	}
	at(end.Add(10 * time.Minute))
	if code, body = hb.post(bid, fmt.Sprintf("/auctions/%d/priority", lot), url.Values{"exercise": {"1"}}); code != 200 || !strings.Contains(body, "竞得确认") {
		t.Fatalf("exercise: %d", code)
	}
	if l, _ = app.Auction.Get(ctx, lot); !l.Sold() || !l.DealPrice.Equal(decimal.RequireFromString("6500000")) {
		t.Fatalf("settled: %+v", l)
	}
	if c, err := app.Auction.Confirmation(ctx, holder, lot); err != nil || c.BuyerName != "某公司原股东有限公司" {
		t.Fatalf("the holder's deal confirmation: %+v %v", c, err)
	}
}
