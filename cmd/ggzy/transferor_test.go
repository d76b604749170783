package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// A property project's seller is its 转让方 (32号令) and its lot a 标的 on
// every page that shows the project: the lot page, the portal's announcement
// and project pages (issue 14).
func TestPropertyPagesNameTheTransferor(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	app.Clock.(*trading.ManualClock).Set(time.Date(2026, 3, 2, 10, 0, 0, 0, trading.Shanghai))
	p, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "property", Title: "某公司股权转让", OwnerName: "某国有企业",
		RegionCode: "350100", Lots: []trading.LotInput{{Name: "某公司20%股权", ListingPrice: "6000000.00", AppraisedValue: "5800000.00",
			Deposit: "1000000.00", ListingStart: "2026-03-23T09:00:00+08:00", ListingEnd: "2026-04-08T16:00:00+08:00"}}})
	if err != nil {
		t.Fatal(err)
	}
	publishAnnouncement(t, app, agent, sup, p.Code, "listing", "某公司股权转让公告")
	var announcementID int64
	if err := app.DB.Raw("SELECT id FROM announcements WHERE title = '某公司股权转让公告'").Scan(&announcementID).Error; err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL)
	for _, path := range []string{fmt.Sprintf("/lots/%d", p.Lots[0].ID), fmt.Sprintf("/notices/%d", announcementID), "/projects/" + p.Code} {
		code, body := b.get(path)
		if code != 200 || !strings.Contains(body, "<dt>转让方</dt><dd>某国有企业</dd>") || strings.Contains(body, "招标人/采购人/出让人") {
			t.Errorf("%s: %d, the seller is not named 转让方", path, code)
		}
	}
	if _, body := b.get(fmt.Sprintf("/lots/%d", p.Lots[0].ID)); !strings.Contains(body, "<title>某公司股权转让 标的1") {
		t.Errorf("lot page title: %s", between(body, "<title>", "</title>"))
	}
}
