package portal

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/tradingtest"
)

// The stored spans are computed with the list's own expressions: the
// function migration 00030 installs holds lotStageSQL (at each schedule
// moment b.t), projectStateSQL and announcementFactsSQL verbatim, and takes
// every moment lotStageSQL compares the time with as a breakpoint.
func TestStatusSpansUseTheListDerivation(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	var src string
	if err := s.DB.Raw("SELECT prosrc FROM pg_proc WHERE proname = 'refresh_project_status_spans'").Scan(&src).Error; err != nil || src == "" {
		t.Fatalf("function source: %q %v", src, err)
	}
	for name, want := range map[string]string{"lotStageSQL": strings.ReplaceAll(lotStageSQL, "?", "b.t"), "projectStateSQL": projectStateSQL,
		"announcementFactsSQL": announcementFactsSQL, "opening": "(coalesce(l.bid_deadline, l.auction_at, l.listing_end))",
		"deadline": "(" + lotDeadlineSQL + ")", "start": "(coalesce(l.doc_issue_start, p.opened_at))"} {
		if !strings.Contains(src, want) {
			t.Errorf("refresh_project_status_spans does not hold %s:\n%s", name, want)
		}
	}
	if n := strings.Count(lotStageSQL, "?"); n != 3 {
		t.Errorf("lotStageSQL compares the time %d times; the spans take 3 breakpoints", n)
	}
	for _, table := range []string{"registrations", "document_downloads", "bids", "deposit", "guarantee", "notifications"} {
		if strings.Contains(src, table) || strings.Contains(statusFilterSQL, table) {
			t.Errorf("the stored status reads %s (K4, K5)", table)
		}
	}
}

// seedVaried writes projects of every shape the status can take: one to
// three lots, with and without a documents' start or a registration
// deadline, bid deadlines, listings and auctions spread over March,
// outcomes recorded and published or not, candidates, suspensions and
// terminations.
func seedVaried(t *testing.T, s *trading.Service) {
	t.Helper()
	for _, q := range []string{
		`INSERT INTO accounts (username, password_hash, role, display_name, created_at, updated_at)
		 VALUES ('spanagent', 'x', 'agent', '代理', now(), now())`,
		`INSERT INTO projects (code, category, title, owner_name, region_code, agent_id, status, opened_at, suspended_at, suspend_reason, created_at, updated_at)
		 SELECT '350100-2026-' || (ARRAY['GC','CG','TD','CQ'])[1 + g % 4] || '-' || lpad(g::text, 5, '0'),
		        (ARRAY['engineering','procurement','land','property'])[1 + g % 4], '状态项目' || g, '某单位',
		        (ARRAY['350100','350102','350104','350200'])[1 + g % 4], (SELECT id FROM accounts WHERE username = 'spanagent'),
		        CASE WHEN g % 23 = 0 THEN 'terminated' ELSE 'active' END,
		        CASE WHEN g % 7 = 0 THEN NULL ELSE '2026-03-01T09:00:00+08:00'::timestamptz + (g % 5) * interval '1 day' END,
		        CASE WHEN g % 19 = 0 THEN '2026-03-10T09:00:00+08:00'::timestamptz END, CASE WHEN g % 19 = 0 THEN '投诉处理' ELSE '' END, now(), now()
		 FROM generate_series(1, 240) g`,
		`INSERT INTO lots (project_id, seq, name, deposit, doc_issue_start, registration_end, bid_deadline, listing_end, auction_at, opening_place)
		 SELECT p.id, k, '标段' || k, 0,
		        CASE WHEN (p.id + k) % 3 = 0 THEN NULL ELSE '2026-03-02T09:00:00+08:00'::timestamptz + ((p.id * k) % 6) * interval '1 day' END,
		        CASE WHEN (p.id + k) % 4 = 0 THEN '2026-03-12T17:00:00+08:00'::timestamptz + ((p.id + k) % 5) * interval '1 day' END,
		        CASE WHEN p.category IN ('engineering', 'procurement') THEN '2026-03-15T09:30:00+08:00'::timestamptz + ((p.id * k) % 9) * interval '1 day' END,
		        CASE WHEN p.category IN ('land', 'property') AND k % 2 = 1 THEN '2026-03-18T16:00:00+08:00'::timestamptz + ((p.id + k) % 7) * interval '1 day' END,
		        CASE WHEN p.category IN ('land', 'property') AND k % 2 = 0 THEN '2026-03-20T10:00:00+08:00'::timestamptz + (p.id % 4) * interval '1 day' END,
		        '开标室'
		 FROM projects p CROSS JOIN generate_series(1, 3) k WHERE k <= 1 + p.id % 3`,
		`INSERT INTO announcements (project_id, type, title, body, body_html, status, author_id, created_at, updated_at, published_at, published_seq)
		 SELECT p.id, (ARRAY['tender','procurement','transfer','listing'])[1 + p.id % 4], p.title || '公告', '正文', '<p>正文</p>',
		        CASE WHEN p.id % 11 = 0 THEN 'draft' ELSE 'published' END, p.agent_id, now(), now(),
		        CASE WHEN p.id % 11 <> 0 THEN '2026-03-01T10:00:00+08:00'::timestamptz END,
		        CASE WHEN p.id % 11 <> 0 THEN nextval('announcements_published_seq') END
		 FROM projects p ORDER BY p.id`,
		`INSERT INTO announcements (project_id, type, title, body, body_html, status, author_id, created_at, updated_at, published_at, published_seq)
		 SELECT p.id, 'candidates', p.title || '候选人公示', '正文', '<p>正文</p>', 'published', p.agent_id, now(), now(),
		        '2026-03-27T10:00:00+08:00', nextval('announcements_published_seq')
		 FROM projects p WHERE p.id % 5 = 1 ORDER BY p.id`,
		`INSERT INTO lot_outcomes (lot_id, project_id, category, region_code, status, reason, base, result, decided_on, updated_at)
		 SELECT l.id, p.id, p.category, p.region_code, CASE WHEN p.id % 4 <> 0 AND l.id % 2 = 0 THEN 'completed' ELSE 'failed' END, '',
		        CASE WHEN p.id % 4 <> 0 AND l.id % 2 = 0 THEN 100 END, CASE WHEN p.id % 4 <> 0 AND l.id % 2 = 0 THEN 90 END, '2026-03-28', '2026-03-28T10:00:00+08:00'
		 FROM lots l JOIN projects p ON p.id = l.project_id WHERE p.id % 6 = 2`,
		`INSERT INTO announcements (project_id, type, title, body, body_html, status, author_id, created_at, updated_at, published_at, published_seq)
		 SELECT p.id, 'result', p.title || '结果公告', '正文', '<p>正文</p>', 'published', p.agent_id, now(), now(),
		        '2026-03-29T10:00:00+08:00', nextval('announcements_published_seq')
		 FROM projects p WHERE p.id % 6 = 2 AND p.id % 24 <> 14 ORDER BY p.id`, // some outcomes stay unpublished
	} {
		if err := s.DB.Exec(q).Error; err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
}

// agreeAtAllTimes checks, at every schedule moment, a second before it and
// between moments, that the stored spans select the same projects per
// state as the derivation over every project (projectsInStateSQL).
func agreeAtAllTimes(t *testing.T, s *trading.Service) {
	t.Helper()
	var moments []time.Time
	if err := s.DB.Raw(`SELECT DISTINCT t FROM (
		SELECT coalesce(l.bid_deadline, l.auction_at, l.listing_end) t FROM lots l
		UNION SELECT coalesce(l.registration_end, l.bid_deadline, l.listing_end, l.auction_at) FROM lots l
		UNION SELECT coalesce(l.doc_issue_start, p.opened_at) FROM lots l JOIN projects p ON p.id = l.project_id) x
		WHERE t IS NOT NULL ORDER BY t`).Scan(&moments).Error; err != nil || len(moments) < 10 {
		t.Fatalf("moments: %d %v", len(moments), err)
	}
	times := []time.Time{moments[0].Add(-48 * time.Hour), moments[len(moments)-1].Add(48 * time.Hour)}
	for i, m := range moments {
		times = append(times, m, m.Add(-time.Second))
		if i+1 < len(moments) {
			times = append(times, m.Add(moments[i+1].Sub(m)/2))
		}
	}
	checked := map[Status]int{}
	for _, at := range times {
		for _, st := range Statuses {
			var derived, stored []int64
			if err := s.DB.Raw(projectsInStateSQL+" ORDER BY 1", at, at, at, st).Scan(&derived).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.DB.Raw(statusFilterSQL+" ORDER BY 1", st, at, at).Scan(&stored).Error; err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(derived, stored) {
				t.Fatalf("%s at %s: derived %v, stored %v", st, at.Format(time.DateTime), derived, stored)
			}
			checked[st] += len(stored)
		}
	}
	for _, st := range Statuses {
		if checked[st] == 0 {
			t.Errorf("no project was ever %s: the seed does not cover it", st)
		}
	}
}

// The status filter's stored spans select exactly what the derivation
// over every project selects, at every moment of the schedule and between,
// and keep doing so as lots, outcomes, announcements and projects change.
func TestStatusSpansAgreeWithTheDerivation(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	seedVaried(t, s)
	agreeAtAllTimes(t, s)
	for _, q := range []string{
		`UPDATE lots SET bid_deadline = bid_deadline + interval '2 days', registration_end = NULL WHERE id % 5 = 0`,
		`DELETE FROM lots WHERE seq = 3 AND project_id % 2 = 0 AND id NOT IN (SELECT lot_id FROM lot_outcomes)`,
		`UPDATE lot_outcomes SET status = 'failed', base = NULL, result = NULL, updated_at = '2026-03-30T10:00:00+08:00' WHERE lot_id % 4 = 0`,
		`UPDATE projects SET suspended_at = '2026-03-20T09:00:00+08:00', suspend_reason = '投诉处理' WHERE id % 13 = 0`,
		`UPDATE projects SET suspended_at = NULL WHERE id % 19 = 0`,
		`UPDATE projects SET opened_at = '2026-03-03T09:00:00+08:00' WHERE opened_at IS NULL AND id % 2 = 0`,
		`UPDATE announcements SET status = 'published', published_at = '2026-03-02T10:00:00+08:00', published_seq = nextval('announcements_published_seq')
		 WHERE status = 'draft' AND project_id % 2 = 1`,
		`INSERT INTO announcements (project_id, type, title, body, body_html, status, author_id, created_at, updated_at, published_at, published_seq)
		 SELECT p.id, 'failure', p.title || '流标公告', '正文', '<p>正文</p>', 'published', p.agent_id, now(), now(),
		        '2026-03-31T10:00:00+08:00', nextval('announcements_published_seq')
		 FROM projects p WHERE p.id % 6 = 2 ORDER BY p.id`,
	} {
		if err := s.DB.Exec(q).Error; err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	agreeAtAllTimes(t, s)
}

// exactCounts are the published announcements by the counter's columns, counted.
const exactCountsSQL = `SELECT p.category, p.sub_type, p.region_code, a.type, count(*) AS n FROM announcements a
	JOIN projects p ON p.id = a.project_id WHERE a.status = 'published' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`

type countRow struct {
	Category, SubType, RegionCode, Type string
	N                                   int64
}

func checkCounts(t *testing.T, s *trading.Service, when string) {
	t.Helper()
	var exact, kept []countRow
	if err := s.DB.Raw(exactCountsSQL).Scan(&exact).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.DB.Raw(`SELECT category, sub_type, region_code, type, n FROM published_announcement_counts WHERE n > 0 ORDER BY 1, 2, 3, 4`).Scan(&kept).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(exact, kept) || len(exact) == 0 {
		t.Errorf("%s: counts kept %v, exact %v", when, kept, exact)
	}
}

// The maintained counts equal a count of the published announcements as announcements
// are published by the service and in bulk, drafts change, and a project
// moves region; the list's total comes from them, exact.
func TestAnnouncementCountsFollowPublishing(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	seedVaried(t, s)
	checkCounts(t, s, "after the bulk load")
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	tradingtest.PublishedProject(t, s, agent, sup, "land", "某地块挂牌出让公告")
	tradingtest.PublishedProject(t, s, agent, sup, "engineering", "某工程招标公告")
	checkCounts(t, s, "after publishing through the service")
	for _, q := range []string{
		`UPDATE announcements SET title = title || '（修改）' WHERE status = 'draft'`,
		`UPDATE projects SET region_code = '350200' WHERE id % 10 = 3`,
		`UPDATE announcements SET status = 'published', published_at = now(), published_seq = nextval('announcements_published_seq') WHERE status = 'draft' AND id % 2 = 0`,
	} {
		if err := s.DB.Exec(q).Error; err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		checkCounts(t, s, q)
	}
	for _, f := range []Filter{{Page: 1}, {Category: "land", Page: 1}, {Region: "350100", SubType: trading.SubConstruction, Page: 1},
		{Type: trading.AnnouncementCandidates, Page: 1}} {
		pg, err := List(ctx, s, f)
		if err != nil {
			t.Fatal(err)
		}
		q := s.DB.WithContext(ctx).Table("announcements a").Joins("JOIN projects p ON p.id = a.project_id").Where("a.status = 'published'")
		var exact int64
		if err := f.where(q).Count(&exact).Error; err != nil {
			t.Fatal(err)
		}
		if pg.Total != exact || pg.Capped || exact == 0 {
			t.Errorf("%+v: total %d (capped %v), exact %d", f, pg.Total, pg.Capped, exact)
		}
	}
}

// A filter the counts cannot answer (status, dates, words) counts as far
// as numbered pages reach, 10,000, and says there are more: the page
// reads "共 10000 条以上", the API sets total_capped. Unfiltered the total
// stays exact.
func TestCappedTotal(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO accounts (username, password_hash, role, display_name, created_at, updated_at) VALUES ('capagent', 'x', 'agent', '代理', now(), now())`,
		`INSERT INTO projects (code, category, title, owner_name, region_code, agent_id, status, opened_at, created_at, updated_at)
		 SELECT '350100-2026-GC-' || lpad(g::text, 5, '0'), 'engineering', '封顶项目' || g, '某单位', '350100',
		        (SELECT id FROM accounts WHERE username = 'capagent'), 'active', '2026-03-01T09:00:00+08:00', now(), now()
		 FROM generate_series(1, 10050) g`,
		`INSERT INTO lots (project_id, seq, name, deposit, bid_deadline, opening_place)
		 SELECT id, 1, '一标段', 0, '2026-03-25T09:30:00+08:00', '开标室' FROM projects`,
		`INSERT INTO announcements (project_id, type, title, body, body_html, status, author_id, created_at, updated_at, published_at, published_seq)
		 SELECT p.id, 'tender', p.title || '招标公告', '正文', '<p>正文</p>', 'published', p.agent_id, now(), now(),
		        '2026-03-01T10:00:00+08:00', nextval('announcements_published_seq') FROM projects p ORDER BY p.id`,
	} {
		if err := s.DB.Exec(q).Error; err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	if err := trading.FreezeDBClock(ctx, s.DB, at(3, 10, 10, 0)); err != nil {
		t.Fatal(err)
	}
	all, err := List(ctx, s, Filter{Page: 1})
	if err != nil || all.Total != 10050 || all.Capped {
		t.Fatalf("unfiltered: %d capped %v (%v), want exactly 10050", all.Total, all.Capped, err)
	}
	reg, err := List(ctx, s, Filter{Status: StatusRegistering, Page: 1})
	if err != nil || reg.Total != maxPagedRows || !reg.Capped || len(reg.Announcements) != 20 {
		t.Fatalf("status filter: %d capped %v, %d announcements (%v)", reg.Total, reg.Capped, len(reg.Announcements), err)
	}
	few, err := List(ctx, s, Filter{Query: "封顶项目1002", Page: 1})
	if err != nil || few.Total != 11 || few.Capped { // 1002 and 10020–10029
		t.Fatalf("search: %d capped %v (%v)", few.Total, few.Capped, err)
	}

	pages, err := templates.New(trading.TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	web := &trading.Web{Svc: s, Pages: pages, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e.HTTPErrorHandler = web.ErrorHandler
	(&Handlers{Web: web, Cache: NewPageCache(0)}).Routes(e, e.Group("/api/v1"))
	get := func(path string) string {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
		body, _ := io.ReadAll(rec.Body)
		return string(body)
	}
	if page := get("/notices?status=registering"); !strings.Contains(page, "共 10000 条以上公告") || !strings.Contains(page, "共 10000 条以上，第 1/500 页") {
		t.Errorf("capped list page does not say 10000 条以上")
	}
	if page := get("/notices"); !strings.Contains(page, "共 10050 条公告") || strings.Contains(page, "条以上") {
		t.Errorf("unfiltered list page does not say 共 10050 条")
	}
	var body struct {
		Total       int64 `json:"total"`
		TotalCapped bool  `json:"total_capped"`
	}
	if err := json.Unmarshal([]byte(get("/api/v1/announcements?status=registering&page=1")), &body); err != nil || body.Total != 10000 || !body.TotalCapped {
		t.Errorf("API: %+v %v", body, err)
	}
}

// Concurrent changes of one project's lots, each in its own transaction,
// all refresh the same spans: none fails (two refreshes would insert the
// same rows without the lock), and the spans end as the derivation says.
func TestStatusSpansUnderConcurrentChanges(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	seedVaried(t, s)
	var lots []int64
	if err := s.DB.Raw(`SELECT l.id FROM lots l WHERE l.project_id = (SELECT project_id FROM lots GROUP BY 1 HAVING count(*) = 3 ORDER BY 1 LIMIT 1)
		UNION ALL SELECT id FROM (SELECT id FROM lots ORDER BY id DESC LIMIT 7) x`).Scan(&lots).Error; err != nil || len(lots) != 10 {
		t.Fatalf("lots: %v %v", lots, err)
	}
	errs := make(chan error, len(lots)*5)
	done := make(chan struct{})
	for i, id := range lots {
		go func() {
			defer func() { done <- struct{}{} }()
			for k := 0; k < 5; k++ {
				errs <- trading.Transact(context.Background(), s.DB, func(tx *gorm.DB) error {
					return tx.Exec(`UPDATE lots SET bid_deadline = bid_deadline + make_interval(hours => ?),
						listing_end = listing_end + make_interval(hours => ?) WHERE id = ?`, i+k, k, id).Error
				})
			}
		}()
	}
	for range lots {
		<-done
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	agreeAtAllTimes(t, s)
}
