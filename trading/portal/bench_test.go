package portal

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/tradingtest"
)

// BenchmarkListQueries times the announcement list as the portal asks for it
// (status and deadline of every row, numbered pages with the total) over
// BENCH_NOTICES published announcements (default 100,000: an opening announcement and
// an amendment per project), the median of 15 calls per scenario, and
// prints the plan of the first page. Results: BENCHMARKS.md.
//
//	go test -run '^$' -bench ListQueries -benchtime 1x ./trading/portal/
func BenchmarkListQueries(b *testing.B) {
	b.StopTimer()
	s, ctx := seedAnnouncements(b)
	scenarios := []struct {
		name string
		f    Filter
	}{
		{"page 1 with total", Filter{Page: 1}},
		{"page 50 with total", Filter{Page: 50}},
		{"category, page 1", Filter{Category: "land", Page: 1}},
		{"region and sub-type, page 1", Filter{Region: "350104", SubType: trading.SubConstruction, Page: 1}},
		{"two words, page 1", Filter{Query: "学校 改造", Page: 1}},
		{"trading code", Filter{Query: "350100-2026-GC-04244", Page: 1}},
		{"part of a trading code", Filter{Query: "2026-GC-0424", Page: 1}},
		{"status registering, page 1", Filter{Status: StatusRegistering, Page: 1}},
		{"API first page (cursor)", Filter{}},
	}
	for _, sc := range scenarios {
		var took []time.Duration
		var total int64
		for i := 0; i < 15; i++ {
			t := time.Now()
			pg, err := List(ctx, s, sc.f)
			if err != nil {
				b.Fatal(err)
			}
			took, total = append(took, time.Since(t)), pg.Total
		}
		slices.Sort(took)
		b.Logf("%-30s median %8.2f ms  max %8.2f ms  (total %d)", sc.name, ms(took[len(took)/2]), ms(took[len(took)-1]), total)
	}
	for _, f := range []Filter{{}, {Status: StatusRegistering}} {
		plan, err := explainPage(s.DB, f)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Printf("first page, status filter %q:\n%s\n", f.Status, plan)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// explainPage is the plan of the list's first page as List builds it.
func explainPage(db *gorm.DB, f Filter) (string, error) {
	now, err := trading.DBNow(db)
	if err != nil {
		return "", err
	}
	f.now = now
	inner := f.where(db.Table("announcements a").Select("a.id, a.published_seq, a.project_id").
		Joins("JOIN projects p ON p.id = a.project_id").Where("a.status = 'published'")).Order("a.published_seq DESC").Limit(21)
	sql := db.ToSQL(func(tx *gorm.DB) *gorm.DB {
		return tx.Table("(?) AS x", inner).Select(listColumns+", st.state, st.deadline").
			Joins("JOIN announcements a ON a.id = x.id").Joins("JOIN projects p ON p.id = x.project_id").
			Joins("JOIN regions r ON r.code = p.region_code").Joins(projectStatusJoin, statusJoinArgs(now)...).
			Order("x.published_seq DESC").Find(&[]map[string]any{})
	})
	var lines []string
	if err := db.Raw("EXPLAIN (ANALYZE, COSTS OFF) " + sql).Scan(&lines).Error; err != nil {
		return "", err
	}
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out, nil
}

// seedAnnouncements seeds BENCH_NOTICES published announcements (default 100,000).
func seedAnnouncements(b *testing.B) (*trading.Service, context.Context) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_NOTICES")); err == nil && v > 0 {
		n = v
	}
	s, _ := tradingtest.NewService(b)
	ctx := context.Background()
	t0 := time.Now()
	for _, q := range []string{
		`INSERT INTO accounts (username, password_hash, role, display_name, created_at, updated_at)
		 VALUES ('benchagent', 'x', 'agent', '基准代理', now(), now())`,
		fmt.Sprintf(`INSERT INTO projects (code, category, title, owner_name, region_code, agent_id, status, opened_at, created_at, updated_at)
		 SELECT '350100-2026-' || (ARRAY['GC','CG','TD','CQ'])[1 + g %% 4] || '-' || lpad(g::text, 5, '0'),
		        (ARRAY['engineering','procurement','land','property'])[1 + g %% 4],
		        '基准项目' || g || (ARRAY['道路','学校','医院','地块','股权'])[1 + g %% 5] || (ARRAY['改造','新建'])[1 + g %% 2] || '工程',
		        '福州市某单位', (ARRAY['350100','350102','350104','350121','350200'])[1 + g %% 5],
		        (SELECT id FROM accounts WHERE username = 'benchagent'), 'active', now() - interval '10 days', now(), now()
		 FROM generate_series(1, %d) g`, n/2),
		// Deadlines spread from 60 days ago to 60 days ahead: every status of the schedule occurs.
		`INSERT INTO lots (project_id, seq, name, control_price, deposit, bid_deadline, opening_place)
		 SELECT id, 1, '一标段', 1000000 + id, 0, now() + ((id % 120) - 60) * interval '1 day', '开标室' FROM projects`,
		`INSERT INTO announcements (project_id, type, title, body, body_html, status, author_id, created_at, updated_at,
		        published_at, published_seq)
		 SELECT p.id, (ARRAY['tender','procurement','transfer','listing'])[1 + p.id % 4], p.title || '公告',
		        '本项目' || (ARRAY['防洪堤加固','医疗设备','政务云','住宅用地','股权转让'])[1 + p.id % 5] || '，详见招标文件。编号' || p.id,
		        '<p>本项目详见招标文件。</p>', 'published', p.agent_id, now(), now(), now(), nextval('announcements_published_seq')
		 FROM projects p ORDER BY p.id`,
		`INSERT INTO announcements (project_id, type, title, body, body_html, status, author_id, created_at, updated_at,
		        published_at, published_seq, amends_id)
		 SELECT a.project_id, 'amendment', p.title || '变更公告', '投标截止时间顺延。编号' || p.id,
		        '<p>投标截止时间顺延。</p>', 'published', p.agent_id, now(), now(), now(), nextval('announcements_published_seq'), a.id
		 FROM announcements a JOIN projects p ON p.id = a.project_id ORDER BY a.id`,
		`VACUUM ANALYZE`,
	} {
		if err := s.DB.Exec(q).Error; err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	b.Logf("seeded %d announcements in %s", n, time.Since(t0).Round(time.Millisecond))
	return s, ctx
}
