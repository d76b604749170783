package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// auctionLot creates a land lot sold by online auction (拍卖) at auctionAt,
// publishes it and registers, approves and pays the deposits of the named
// bidders (username = password prefix). The database clock then runs from
// just after auctionAt.
func auctionLot(t *testing.T, app *App, auctionAt time.Time, bidders ...string) int64 {
	t.Helper()
	ctx := context.Background()
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	p, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "land", Title: "网上拍卖旅程测试", OwnerName: "福州市自然资源局",
		RegionCode: "350100", Lots: []trading.LotInput{{Name: "榕土2026-20号地块", StartingPrice: "5000000.00", ReservePrice: "5100000.00",
			Increment: "100000.00", Deposit: "1000000.00", AuctionAt: auctionAt.Format(time.RFC3339), BiddingMode: "auction"}}})
	if err != nil {
		t.Fatal(err)
	}
	publishAnnouncement(t, app, agent, sup, p.Code, "transfer", "网上拍卖出让公告")
	lot := p.Lots[0].ID
	for i, name := range bidders {
		ids := []string{"91350100M000100Y43", "11010519491231002X"}
		kind := trading.BidderEnterprise
		if i == 1 {
			kind = trading.BidderPerson
		}
		acc, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: kind, Name: name + "置业", IDNumber: ids[i], LegalRep: "张三",
			Phone: "13800138000", Email: name + "@example.com", Username: name, Password: name + "2026"})
		if err != nil {
			t.Fatal(err)
		}
		a := trading.Actor{AccountID: acc.ID, Username: name, Role: trading.RoleBidder}
		reg, err := app.Bidding.Register(ctx, a, lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "13900000000"})
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Bidding.Review(ctx, agent, reg.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		var va deposits.VirtualAccount
		if err := app.DB.Where("registration_id = ?", reg.ID).First(&va).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := app.Deposits.Receive(ctx, trading.Actor{Username: "bank", Role: "system"}, deposits.SourceWebhook, []deposits.Inflow{{
			BankTxnID: "J" + name, VirtualAccount: va.Number, PayerName: name + "置业", PayerAccount: "6222" + name, PayerBank: "某银行",
			Amount: decimal.RequireFromString("1000000.00"), Currency: "CNY", ValueTime: app.Clock.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	return lot
}

func loginAs(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	steps := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/login"), chromedp.WaitVisible(chromedp.CSS("#login-submit"))},
		fill(map[string]string{"username": user, "password": user + "2026"})...)
	steps = append(steps, chromedp.Click(chromedp.CSS("#login-submit")))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#who", "")
}

// quoteIn proposes amount in the bidder's quote box, confirms, and waits
// for the platform's answer.
func quoteIn(t *testing.T, ctx context.Context, amount, want string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#amount"), amount), chromedp.Click(chromedp.CSS("#propose")),
		chromedp.WaitVisible(chromedp.CSS("#confirm")), chromedp.Click(chromedp.CSS("#confirm"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#quote-result", want)
	// The next quote's answer is told apart from this one.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById('quote-result').textContent = '', true)`)); err != nil {
		t.Fatal(err)
	}
}

// Two bidders in their own browser contexts bid live against each other;
// a watcher page updates without a reload; the countdown runs out on the
// server's ticker; the winner sees the confirmation; the record is published.
func TestBrowserJourneyAuction(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Rules = "L11.countdown_seconds=8,L11.late_settle_ms=20000,L8.max_quotes_per_second=0"
	app, srv := newTestServer(t, cfg)
	auctionAt := time.Date(2026, 3, 25, 10, 0, 0, 0, trading.Shanghai)
	// The deciding clock runs from a minute before the auction while the
	// bidders sign in, then from the auction's start.
	setDBTime := func(at time.Time) {
		if err := trading.SetDBClockOffset(context.Background(), app.DB, time.Until(at)); err != nil {
			t.Fatal(err)
		}
	}
	setDBTime(auctionAt.Add(-time.Minute))
	lot := auctionLot(t, app, auctionAt, "jiafang", "yifang")
	app.Clock.(*trading.ManualClock).Set(auctionAt.Add(-time.Minute)) // sessions start now

	watcher := newChrome(t)
	if err := chromedp.Do(watcher, chromedp.Navigate(fmt.Sprintf("%s/auctions/%d", srv.URL, lot))); err != nil {
		t.Fatal(err)
	}
	a, cancelA := chromedp.NewContext(watcher, chromedp.WithNewBrowserContext())
	defer cancelA()
	b, cancelB := chromedp.NewContext(watcher, chromedp.WithNewBrowserContext())
	defer cancelB()
	loginAs(t, a, srv.URL, "jiafang")
	loginAs(t, b, srv.URL, "yifang")
	for _, ctx := range []context.Context{a, b} {
		if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/auctions/%d/bid", srv.URL, lot))); err != nil {
			t.Fatal(err)
		}
	}
	codeA, codeB := text(t, a, "#my-code"), text(t, b, "#my-code")
	setDBTime(auctionAt.Add(200 * time.Millisecond))
	app.Clock.(*trading.ManualClock).Set(auctionAt)
	if len(codeA) != 6 || len(codeB) != 6 || codeA == codeB {
		t.Fatalf("codes %q %q", codeA, codeB)
	}
	quoteIn(t, a, "5000000", "已被平台接受")
	// b's box proposes highest + increment, live.
	waitText(t, b, "#highest", "5,000,000.00")
	var proposed string
	for i := 0; i < 50 && proposed != "5100000.00"; i++ {
		proposed, _ = chromedp.Run(b, chromedp.Evaluate[string](`document.getElementById('amount').value`))
		time.Sleep(100 * time.Millisecond)
	}
	if proposed != "5100000.00" {
		t.Fatalf("b's box proposes %q", proposed)
	}
	quoteIn(t, b, proposed, "已被平台接受")
	quoteIn(t, a, "5150000", "L8") // below highest + increment: refused, naming the rule
	quoteIn(t, a, "5200000", "已被平台接受")
	// An amount the bidder typed is the bidder's: the live price does not
	// replace it (it used to, so a quote could go out at another amount
	// than typed if an event arrived between typing and confirming).
	if err := chromedp.Do(a, chromedp.SetValue(chromedp.CSS("#amount"), "5999999")); err != nil {
		t.Fatal(err)
	}
	quoteIn(t, b, "5300000", "已被平台接受")
	waitText(t, a, "#highest", "5,300,000.00")
	if typed, err := chromedp.Run(a, chromedp.Evaluate[string](`document.getElementById('amount').value`)); err != nil || typed != "5999999" {
		t.Fatalf("a's typed amount after b's quote: %q %v", typed, err)
	}
	// The watcher saw every quote without a reload, codes only.
	waitText(t, watcher, "#highest", "5,300,000.00")
	waitText(t, watcher, "#highest-code", codeB)
	rows, err := chromedp.Run(watcher, chromedp.Evaluate[int](`document.querySelectorAll('#quotes tbody tr').length`))
	if err != nil || rows != 4 {
		t.Fatalf("watcher's quote rows: %d %v", rows, err)
	}
	page, err := chromedp.Run(watcher, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil || strings.Contains(page, "置业") || strings.Contains(page, "5,100,000.00\n底价") {
		t.Fatalf("the watch page names a bidder: %v", err)
	}
	// The countdown runs out: the server settles; b sees its confirmation.
	waitText(t, b, "#confirmation", "已竞得本地块") // a land lot (issue 14: it said 标的)
	waitText(t, b, "#deal-price", "5,300,000.00")
	waitText(t, watcher, "#outcome", codeB)
	if hidden, _ := chromedp.Run(a, chromedp.Evaluate[bool](`document.getElementById('won').hidden`)); !hidden {
		t.Fatal("the loser sees a confirmation")
	}
	// The record is published (the ticker stores it after the settlement).
	var body string
	for i := 0; i < 100; i++ {
		resp, err := http.Get(fmt.Sprintf("%s/auctions/%d/record", srv.URL, lot))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				body = string(b)
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(body, `"winner": "`+codeB+`"`) || strings.Contains(body, "置业") {
		t.Fatalf("record: %s", body)
	}
	// The deal confirmation (成交确认书) prints for the buyer.
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS("#confirmation-link"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, b, "#buyer", "yifang置业")
	waitText(t, b, "#price", "5,300,000.00")
	// Anyone checks it with the documented command; an edited copy fails.
	file := t.TempDir() + "/record.json"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, "", append(append([]string{"auction", "verify-record"}, flagsOf(cfg)...), file)...); err != nil ||
		!strings.Contains(out, "record verified") || !strings.Contains(out, codeB) {
		t.Fatalf("verify-record: %v\n%s", err, out)
	}
	edited := strings.Replace(body, `"amount": "5300000"`, `"amount": "5400000"`, 1)
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil || edited == body {
		t.Fatalf("edit: %v", err)
	}
	if out, err := runCmd(t, "", append(append([]string{"auction", "verify-record"}, flagsOf(cfg)...), file)...); err == nil {
		t.Fatalf("an edited record verifies:\n%s", out)
	}
	// The chart drew the price over time.
	if n, err := chromedp.Run(watcher, chromedp.Evaluate[int](`document.querySelectorAll('#price-chart canvas').length`)); err != nil || n == 0 {
		t.Fatalf("chart: %d %v", n, err)
	}
}
