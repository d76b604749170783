package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ggzy/ggzy/bidding/auction"
)

// In Chromium, the pages after the bidding of a lot with 资格后审 and a
// priority right (P7), until now tested over HTTP only: during the bidding
// the agent finds the holder's application on the lot's registrations page
// and approves it; when the bidding has ended it opens the qualification
// page and passes the winner; the holder's quote page then offers the
// right, and the holder exercises it and sees its confirmation. Each page
// is checked as a person reads it (checkPage: screenshots, no codes, axe).
func TestBrowserJourneyPostQualificationPriority(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	h := newHolderLot(t, app)
	ctx := newChrome(t)

	loginAs(t, ctx, srv.URL, "daili")
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/agent/lots/%d/registrations", srv.URL, h.lot))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#holder-only", "优先购买权人")
	waitText(t, ctx, "#registrants tr.priority-holder", "某公司原股东有限公司")
	checkPage(t, ctx, "agent-holder-application")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#registrants tr.priority-holder button.approve"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, ".flash", "已审核通过")
	waitText(t, ctx, "#registrants tr.priority-holder", "审核通过")
	checkPage(t, ctx, "agent-holder-approved")

	h.at(h.end)
	if _, err := app.Auction.SettleDue(context.Background()); err != nil { // the ticker may have been first
		t.Fatal(err)
	}
	loginAs(t, ctx, srv.URL, "daili") // weeks later on the services' clock: the session of March has expired
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/agent/auctions/%d/qualification", srv.URL, h.lot))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#candidate-name", "福建甲投资有限公司")
	checkPage(t, ctx, "agent-qualification")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#qualify-form button"))); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if l, _ := app.Auction.Get(context.Background(), h.lot); l.State == auction.StatePriority {
			break
		} else if i == 100 {
			t.Fatalf("after the agent's pass: state %s, want the holder's window", l.State)
		}
		waitText(t, ctx, "body", "")
	}
	checkPage(t, ctx, "agent-qualified")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#logout"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, ".flash", "已退出登录")
	loginAs(t, ctx, srv.URL, "gudong")
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/auctions/%d/bid", srv.URL, h.lot))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#priority-price", "6,500,000.00")
	checkPage(t, ctx, "holder-priority")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#priority-form button[value="1"]`))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "body", "竞得确认")
	checkPage(t, ctx, "holder-confirmation")
	if l, _ := app.Auction.Get(context.Background(), h.lot); !l.Sold() || l.WinnerReg == nil || *l.WinnerReg != h.holderReg {
		t.Fatalf("after the holder exercised: %+v", l)
	}
}
