package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading/report"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// Benchmark of the savings report (issue 6):
//
//	go test -run '^$' -bench SavingsReport -benchtime 10x -timeout 30m ./cmd/ggzy/
//
// For each size in BENCH_REPORT_LOTS (default 100000,1000000) it seeds a
// fresh database with that many completed lots decided in 2025, spread over
// the four categories and 13 regions, then times the report for 2025 by
// category and region (SavingsReport: the aggregate, decimal sums, the
// fold into rows, totals and trend) beside the same SQL aggregate run bare
// through database/sql, and beside the plain GROUP BY category,
// region_code. Results: BENCHMARKS.md.
func BenchmarkSavingsReport(b *testing.B) {
	sizes := []int{100_000, 1_000_000}
	if v := os.Getenv("BENCH_REPORT_LOTS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(f)
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("lots=%d", n), func(b *testing.B) {
			url := testenv.DatabaseURL(b)
			gdb, err := trading.OpenDB(url)
			if err != nil {
				b.Fatal(err)
			}
			svc := trading.NewService(gdb, trading.NewManualClock(testNow), benchLog)
			db, _ := gdb.DB()
			b.Cleanup(func() { db.Close() })
			t0 := time.Now()
			seedLotOutcomes(b, db, n)
			b.Logf("seeded %d completed lots in %s", n, time.Since(t0).Round(time.Second))

			ctx := context.Background()
			q, err := report.ParseQuery(func(k string) string { return map[string]string{"year": "2025"}[k] }, testNow)
			if err != nil {
				b.Fatal(err)
			}
			query, args := report.SavingsSQL(q)
			plain := `SELECT category, region_code, count(*), sum(base), sum(result) FROM lot_outcomes
				WHERE decided_on BETWEEN '2025-01-01' AND '2025-12-31' AND status = 'completed' GROUP BY category, region_code`
			byDay := strings.Replace(query, "date_trunc('month', decided_on::timestamp)::date", "decided_on", 1)
			report := func() {
				rep, err := report.Savings(ctx, svc, q)
				if err != nil {
					b.Fatal(err)
				}
				if got := rep.Total("engineering").Completed + rep.Total("procurement").Completed + rep.Total("land").Completed +
					rep.Total("property").Completed; got != int64(n) {
					b.Fatalf("report counts %d lots, want %d", got, n)
				}
			}
			bare := func(query string, args ...any) func() {
				return func() {
					rows, err := db.QueryContext(ctx, query, args...)
					if err != nil {
						b.Fatal(err)
					}
					cols, _ := rows.Columns()
					dest := make([]any, len(cols))
					for i := range dest {
						dest[i] = new(sql.RawBytes)
					}
					for rows.Next() {
						if err := rows.Scan(dest...); err != nil {
							b.Fatal(err)
						}
					}
					if err := rows.Close(); err != nil {
						b.Fatal(err)
					}
				}
			}
			sqlBare, sqlPlain, sqlDay := bare(query, args...), bare(plain), bare(byDay, args...)
			b.Run("report", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					report()
				}
			})
			b.Run("sql", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					sqlBare()
				}
			})
			b.Run("sql_category_region", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					sqlPlain()
				}
			})
			// Interleaved medians: the 2 cores are shared, so the three are
			// timed turn by turn and compared as medians.
			var tr, ts, tp, td []time.Duration
			for i := 0; i < 9; i++ {
				for _, x := range []struct {
					f   func()
					out *[]time.Duration
				}{{report, &tr}, {sqlBare, &ts}, {sqlPlain, &tp}, {sqlDay, &td}} {
					t0 := time.Now()
					x.f()
					*x.out = append(*x.out, time.Since(t0))
				}
			}
			med := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
			b.Logf("%d lots, medians of 9 interleaved: report %.1f ms, same SQL bare %.1f ms (ratio %.2f), GROUP BY category, region_code %.1f ms, by day instead of month %.1f ms",
				n, ms(med(tr)), ms(med(ts)), float64(med(tr))/float64(med(ts)), ms(med(tp)), ms(med(td)))
			b.Logf("EXPLAIN of the report's aggregate:\n%s", explain(b, db, query, args...))
			if os.Getenv("BENCH_PGBENCH") != "0" {
				b.Logf("pgbench -S -c 64 -j 2 -T 10 (scale 10), same cluster: %s", pgbench(b, adminURLOf(url), "-S", 10))
			}
		})
	}
}

// seedLotOutcomes inserts n completed lots decided in 2025 (ten per
// project, projects of four categories in 13 of Fujian's regions) set-based, then
// VACUUM ANALYZE so the planner and the visibility map are as in a
// running centre.
func seedLotOutcomes(b *testing.B, db *sql.DB, n int) {
	b.Helper()
	stmts := []string{
		`INSERT INTO accounts (username, password_hash, role, display_name, created_at, updated_at)
		 VALUES ('benchreport', 'x', 'agent', '基准代理', now(), now())`,
		fmt.Sprintf(`INSERT INTO projects (code, category, title, owner_name, region_code, agent_id, status, created_at, updated_at)
		 SELECT '350100-2025-R-' || g, (ARRAY['engineering','procurement','land','property'])[1 + g %% 4], '基准统计项目' || g, '某单位',
		        (SELECT code FROM regions WHERE code LIKE '35%%' ORDER BY code OFFSET (g / 4) %% 13 LIMIT 1),
		        (SELECT id FROM accounts WHERE username = 'benchreport'), 'active', now(), now()
		 FROM generate_series(1, %d) g`, (n+9)/10),
		fmt.Sprintf(`INSERT INTO lots (project_id, seq, name)
		 SELECT p.id, s, '第' || s || '标段' FROM projects p CROSS JOIN generate_series(1, 10) s
		 ORDER BY p.id, s LIMIT %d`, n),
		// Bases from 10,000.00 to about 100 million yuan, results 80 %–115 %
		// of the base, to the fen; dates over the year.
		`INSERT INTO lot_outcomes (lot_id, project_id, category, region_code, status, base, result, decided_on, updated_at)
		 SELECT l.id, p.id, p.category, p.region_code, 'completed', x.base, round(x.base * (0.80 + (l.id * 7919 % 3500) / 10000.0), 2),
		        date '2025-01-01' + (l.id * 31 % 365)::int, now()
		 FROM lots l JOIN projects p ON p.id = l.project_id
		 CROSS JOIN LATERAL (SELECT (10000 + (l.id * 104729 % 10000000000) / 100.0)::numeric(18,2) AS base) x`,
		`VACUUM ANALYZE lot_outcomes`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			b.Fatalf("seed: %v\n%s", err, s)
		}
	}
}
