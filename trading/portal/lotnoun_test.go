package portal

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/tradingtest"
)

// The home page's public calendar names a land lot 地块1, not 标段 (issue 14).
func TestHomeCalendarNamesLotsByCategory(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	tradingtest.PublishedProject(t, s, agent, sup, "land", "某地块挂牌出让公告")
	// Wednesday 8 April: the listing closes at 16:00 (the calendar reads the database clock).
	ctx := context.Background()
	if err := trading.FreezeDBClock(ctx, s.DB, time.Date(2026, 4, 8, 8, 0, 0, 0, trading.Shanghai)); err != nil {
		t.Fatal(err)
	}
	cal, err := WeekCalendar(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(cal.Today) != 1 || cal.Today[0].Kind != "listing_end" {
		t.Fatalf("today: %+v", cal.Today)
	}
	r, err := templates.New(trading.TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.Render(&buf, "home", templates.Page{Title: "首页", Data: map[string]any{"Calendar": cal}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "<td>地块1 榕土2026-01号地块</td>") || strings.Contains(out, "<th>标段</th>") {
		t.Fatalf("the calendar does not name the lot 地块1:\n%s", out)
	}
}

// A property project's seller is its 转让方 (32号令) on the portal's announcement
// and project pages, as on the agent's form, not 招标人/采购人/出让人.
func TestPortalNamesPropertySellerTransferor(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	p, n := tradingtest.PublishedProject(t, s, agent, sup, "property", "某国企股权转让公告")
	ctx := context.Background()
	page, err := AnnouncementByID(ctx, s, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	pub, chain, err := ProjectByCode(ctx, s, p.Code)
	if err != nil {
		t.Fatal(err)
	}
	r, err := templates.New(trading.TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]any{"announcement": page, "public_project": map[string]any{"Project": pub, "Chain": chain}} {
		var buf bytes.Buffer
		if err := r.Render(&buf, name, templates.Page{Title: name, Data: data}); err != nil {
			t.Fatal(err)
		}
		if out := buf.String(); !strings.Contains(out, "<dt>转让方</dt><dd>福州市某局</dd>") || strings.Contains(out, "出让人") {
			t.Errorf("%s does not name the seller 转让方:\n%s", name, out)
		}
	}
}
