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
