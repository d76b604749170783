package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// demoOpeningDay is a Friday of the demo data when the 地铁6号线 tender
// opens (its deadline moved to 16 October 09:30 by the amendment): the
// portal's calendar has that opening today.
var demoOpeningDay = time.Date(2026, 10, 16, 10, 0, 0, 0, trading.Shanghai)

// demoPortal serves the demo data with the database clock frozen at
// demoOpeningDay (the status and calendar read the database clock).
func demoPortal(t *testing.T) (*App, string) {
	t.Helper()
	app, srv := newTestServer(t, demoConfig(t))
	ctx := context.Background()
	if err := trading.FreezeDBClock(ctx, app.DB, demoOpeningDay); err != nil {
		t.Fatal(err)
	}
	return app, srv.URL
}

var announcementLink = regexp.MustCompile(`href="/notices/(\d+)"`)

// announcementIDs are the announcements a list page links to, in order.
func announcementIDs(page string) []string {
	var out []string
	for _, m := range announcementLink.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// The announcement list over HTTP: numbered pages that really page, with the
// total; the API pages the same way; words are ANDed; a trading code
// finds its project's announcements; the region filter offers the area's
// divisions; statuses and the calendar read the database clock.
func TestPortalListOverHTTP(t *testing.T) {
	t.Parallel()
	app, base := demoPortal(t)
	var total int64
	if err := app.DB.Raw(`SELECT count(*) FROM announcements WHERE status = 'published'`).Scan(&total).Error; err != nil || total <= 40 {
		t.Fatalf("demo announcements: %d %v (the test needs more than two pages)", total, err)
	}
	code, page1 := get(t, base+"/notices", "")
	if code != 200 || !strings.Contains(page1, fmt.Sprintf("共 %d 条", total)) {
		t.Fatalf("/notices: %d, no total %d", code, total)
	}
	code, page2 := get(t, base+"/notices?page=2", "")
	if code != 200 || !strings.Contains(page2, `aria-current="page">2<`) {
		t.Fatalf("/notices?page=2: %d, not marked page 2", code)
	}
	ids1, ids2 := announcementIDs(page1), announcementIDs(page2)
	if len(ids1) != 20 || len(ids2) != 20 {
		t.Fatalf("pages of 20: %d and %d", len(ids1), len(ids2))
	}
	for _, id := range ids2 {
		if slices.Contains(ids1, id) {
			t.Errorf("announcement %s on page 1 and page 2", id)
		}
	}
	if !strings.Contains(page1, `href="/notices?page=2"`) || !strings.Contains(page2, `href="/notices?page=3"`) {
		t.Error("the pages do not link their neighbours by number")
	}
	if code, body := get(t, base+"/notices?page=x", ""); code != 400 || !strings.Contains(body, "页码") {
		t.Errorf("page=x: %d", code)
	}

	// The API: numbered pages with the total, status and sub-type on every item.
	type item struct {
		ID          int64  `json:"id"`
		Title       string `json:"title"`
		ProjectCode string `json:"project_code"`
		Status      string `json:"status"`
		StatusName  string `json:"status_name"`
		SubType     string `json:"sub_type"`
		SubTypeName string `json:"sub_type_name"`
	}
	var a1, a2 struct {
		Items []item `json:"items"`
		Total int64  `json:"total"`
		Page  int    `json:"page"`
	}
	for p, out := range map[int]any{1: &a1, 2: &a2} {
		code, body := get(t, fmt.Sprintf("%s/api/v1/announcements?page=%d&limit=5", base, p), "")
		if err := json.Unmarshal([]byte(body), out); code != 200 || err != nil {
			t.Fatalf("api page %d: %d %v", p, code, err)
		}
	}
	if a1.Total != total || a2.Total != total || a2.Page != 2 || len(a1.Items) != 5 || len(a2.Items) != 5 || a1.Items[0].ID == a2.Items[0].ID {
		t.Fatalf("api pages: %d/%d items, totals %d %d, page %d", len(a1.Items), len(a2.Items), a1.Total, a2.Total, a2.Page)
	}
	for _, it := range append(a1.Items, a2.Items...) {
		if it.Status == "" || it.StatusName == "" || it.SubType == "" || it.SubTypeName == "" {
			t.Errorf("api item without status or sub-type: %+v", it)
		}
	}

	// Two words: only the announcement with both.
	search := func(q string) []item {
		t.Helper()
		var out struct {
			Items []item `json:"items"`
		}
		code, body := get(t, base+"/api/v1/announcements?limit=100&q="+url.QueryEscape(q), "")
		if err := json.Unmarshal([]byte(body), &out); code != 200 || err != nil {
			t.Fatalf("search %q: %d %v", q, code, err)
		}
		return out.Items
	}
	if got := search("地铁 澄清"); len(got) != 1 || got[0].Title != "地铁6号线配套道路工程施工招标文件澄清与变更公告" {
		t.Errorf("地铁 澄清: %+v", got)
	}
	metro := search("地铁 招标公告")
	if len(metro) != 1 {
		t.Fatalf("地铁 招标公告: %+v", metro)
	}
	// Its trading code: the tender and the amendment, both 已开标 at 10:00
	// on the opening day (09:30), with the sub-type 施工.
	byCode := search(metro[0].ProjectCode)
	if len(byCode) != 2 {
		t.Fatalf("trading code %s: %+v", metro[0].ProjectCode, byCode)
	}
	for _, it := range byCode {
		if it.ProjectCode != metro[0].ProjectCode || it.Status != "opened" || it.StatusName != "已开标" || it.SubTypeName != "施工" {
			t.Errorf("trading code search: %+v", it)
		}
	}
	// The page shows the status and deadline of the same announcements.
	_, page := get(t, base+"/notices?q="+url.QueryEscape(metro[0].ProjectCode), "")
	if !strings.Contains(page, "共 2 条") || !strings.Contains(page, `status-opened">已开标<`) || !strings.Contains(page, "2026-10-16 09:30") {
		t.Errorf("the list of the trading code lacks its status or deadline")
	}

	// The region filter: Fujian's divisions, grouped by city; 仓山区 alone.
	if !strings.Contains(page1, `<optgroup label="福州市">`) || !strings.Contains(page1, `>鼓楼区<`) || !strings.Contains(page1, `>福鼎市<`) {
		t.Error("the region filter lacks Fujian's divisions")
	}
	_, cangshan := get(t, base+"/notices?region=350104", "")
	var inCangshan int64
	if err := app.DB.Raw(`SELECT count(*) FROM announcements a JOIN projects p ON p.id = a.project_id
		WHERE a.status = 'published' AND p.region_code = '350104'`).Scan(&inCangshan).Error; err != nil || inCangshan == 0 {
		t.Fatalf("demo announcements in 仓山区: %d %v", inCangshan, err)
	}
	if !strings.Contains(cangshan, fmt.Sprintf("共 %d 条", inCangshan)) || !strings.Contains(cangshan, "福州市仓山区") {
		t.Errorf("region=350104 does not list the %d announcements of 仓山区", inCangshan)
	}

	// The status filter: every announcement listed is 已开标.
	_, opened := get(t, base+"/notices?status=opened", "")
	if n := strings.Count(opened, `<tr data-status="`); n == 0 || n != strings.Count(opened, `<tr data-status="opened"`) {
		t.Errorf("status=opened lists %d rows, %d of them opened", n, strings.Count(opened, `<tr data-status="opened"`))
	}
}

// The home page: today's opening of the demo's 地铁6号线 tender with its
// time, place and lots, and this year's figures.
func TestPortalHomeCalendarOverHTTP(t *testing.T) {
	t.Parallel()
	app, base := demoPortal(t)
	code, home := get(t, base+"/", "")
	if code != 200 {
		t.Fatalf("home: %d", code)
	}
	cal := home[strings.Index(home, `id="calendar"`):]
	today := cal[:strings.Index(cal, "本周其他日期")]
	for _, want := range []string{"今日（2026-10-16）", "2026-10-16 09:30", "开标", "福州市公共资源交易中心第二开标室", "地铁6号线配套道路工程施工"} {
		if !strings.Contains(today, want) {
			t.Errorf("today's calendar lacks %q", want)
		}
	}
	var announcements int64
	if err := app.DB.Raw(`SELECT count(*) FROM announcements WHERE status = 'published'
		AND published_at >= '2026-01-01T00:00:00+08:00' AND published_at < '2027-01-01T00:00:00+08:00'`).Scan(&announcements).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(home, fmt.Sprintf("2026年发布公告<strong>%d</strong>", announcements)) {
		t.Errorf("the figures do not count this year's %d announcements", announcements)
	}
	// Nothing on the page counts registrations (K4, K5).
	for _, leak := range []string{"报名人数", "已报名", "投标人数", "家单位"} {
		if strings.Contains(home, leak) {
			t.Errorf("the home page says %q", leak)
		}
	}
}
