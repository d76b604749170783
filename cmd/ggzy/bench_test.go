package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ggzy/ggzy/cmd/ggzy/stack"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

// Benchmarks of the public portal (issue 3). Run with
//
//	go test -run '^$' -bench Portal -benchtime 1x ./cmd/ggzy/
//
// Each seeds its own database with BENCH_NOTICES published announcements
// (default 100,000), serves the platform, drives it with 64 concurrent
// clients for BENCH_SECONDS (default 20) and reports throughput and p99.
// The same run measures `pgbench -S` on the same cluster, and prints the
// EXPLAIN of the list query. Results: BENCHMARKS.md.

func envN(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}

// seedAnnouncements inserts projects, lots and n published announcements in SQL.
func seedAnnouncements(b *testing.B, db *sql.DB, n int) {
	b.Helper()
	stmts := []string{
		`INSERT INTO accounts (username, password_hash, role, display_name, created_at, updated_at)
		 VALUES ('benchagent', 'x', 'agent', '基准代理', now(), now())`,
		fmt.Sprintf(`INSERT INTO projects (code, category, title, owner_name, region_code, agent_id, status, created_at, updated_at)
		 SELECT '350100-2026-B-' || g, (ARRAY['engineering','procurement','land','property'])[1 + g %% 4],
		        '基准项目' || g || (ARRAY['道路','学校','医院','地块','股权'])[1 + g %% 5] || '工程',
		        '福州市某单位', (ARRAY['350100','350102','350104','350121','350200'])[1 + g %% 5],
		        (SELECT id FROM accounts WHERE username = 'benchagent'), 'active', now(), now()
		 FROM generate_series(1, %d) g`, n/2),
		`INSERT INTO lots (project_id, seq, name, control_price, deposit, bid_deadline, opening_place)
		 SELECT id, 1, '一标段', 1000000 + id, 0, now() + interval '30 days', '开标室' FROM projects`,
		// An opening announcement per project, then an amendment of each: the
		// publication order interleaves them as a busy centre would.
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
		`ANALYZE`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			b.Fatalf("seed: %v\n%s", err, s)
		}
	}
}

type loadResult struct {
	requests int
	errors   int64
	rps      float64
	p50, p99 time.Duration
}

// drive sends requests from 64 clients until the time is up: with wrk
// (a separate C process, when installed; BENCH_LOAD=go forces the Go
// client) so the load generator takes as little of the 2 cores as it can.
func drive(b *testing.B, d time.Duration, next func(r *rand.Rand) string) loadResult {
	if wrk, err := exec.LookPath("wrk"); err == nil && os.Getenv("BENCH_LOAD") != "go" {
		return driveWrk(b, wrk, d, next)
	}
	return driveGo(b, d, next)
}

// driveWrk gives wrk BENCH_URLS (default 2,000) URLs drawn from next,
// picked at random per request.
func driveWrk(b *testing.B, wrk string, d time.Duration, next func(r *rand.Rand) string) loadResult {
	r := rand.New(rand.NewPCG(1, 2))
	var paths []string
	var host string
	for i := 0; i < envN("BENCH_URLS", 2000); i++ {
		u, _ := url.Parse(next(r))
		host = u.Scheme + "://" + u.Host
		paths = append(paths, strconv.Quote(u.RequestURI()))
	}
	script := fmt.Sprintf(`paths = {%s}
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\n", summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), summary.duration))
end`, strings.Join(paths, ","))
	f := b.TempDir() + "/paths.lua"
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		b.Fatal(err)
	}
	out, err := exec.Command(wrk, "-t2", "-c64", "-d"+strconv.Itoa(int(d.Seconds()))+"s", "--timeout", "10s", "-s", f, host).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`RESULT (\d+) (\d+) (\d+) (\d+) (\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		b.Fatalf("wrk output: %s", out)
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(m[i], 10, 64); return v }
	return loadResult{requests: int(n(1)), errors: n(2), p50: time.Duration(n(3)) * time.Microsecond,
		p99: time.Duration(n(4)) * time.Microsecond, rps: float64(n(1)) / (float64(n(5)) / 1e6)}
}

func driveGo(b *testing.B, d time.Duration, next func(r *rand.Rand) string) loadResult {
	const clients = 64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 7))
			var local []time.Duration
			for time.Now().Before(deadline) {
				u := next(r)
				t0 := time.Now()
				resp, err := client.Get(u)
				if err != nil {
					errs.Add(1)
					continue
				}
				buf := make([]byte, 32<<10)
				for {
					if _, err := resp.Body.Read(buf); err != nil {
						break
					}
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs.Add(1)
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}(uint64(i))
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	res := loadResult{requests: len(lat), errors: errs.Load(), rps: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		res.p50, res.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return res
}

// pgbench runs the built-in pgbench script mode ("-S" select-only, "-N"
// simple update) with 64 clients on the cluster of adminURL: the baseline
// a benchmark reports beside its own figures.
func pgbench(b *testing.B, adminURL, mode string, seconds int) string {
	bin := "/usr/lib/postgresql/15/bin/pgbench"
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("pgbench"); err != nil {
			b.Fatal("pgbench not found (Debian package postgresql-client / postgresql)")
		}
	}
	u, _ := url.Parse(adminURL)
	pw, _ := u.User.Password()
	env := append(os.Environ(), "PGPASSWORD="+pw)
	args := []string{"-h", u.Hostname(), "-p", u.Port(), "-U", u.User.Username()}
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		b.Fatal(err)
	}
	db.Exec("DROP DATABASE IF EXISTS pgbench")
	if _, err := db.Exec("CREATE DATABASE pgbench"); err != nil {
		b.Fatal(err)
	}
	db.Close()
	init := exec.Command(bin, append(args, "-i", "-s", "10", "-q", "pgbench")...)
	init.Env = env
	if out, err := init.CombinedOutput(); err != nil {
		b.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	run := exec.Command(bin, append(args, mode, "-c", "64", "-j", "2", "-T", strconv.Itoa(seconds), "pgbench")...)
	run.Env = env
	out, err := run.CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench %s: %v\n%s", mode, err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindStringSubmatch(string(out))
	lat := regexp.MustCompile(`latency average = ([0-9.]+ ms)`).FindStringSubmatch(string(out))
	if m == nil || lat == nil {
		b.Fatalf("pgbench output: %s", out)
	}
	return m[1] + " tps, latency average " + lat[1]
}

func explain(b *testing.B, db *sql.DB, query string, args ...any) string {
	rows, err := db.Query("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+query, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		rows.Scan(&l)
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// The portal's list query as portal.List issues it (first page, and a
// category filter), for EXPLAIN.
const listQuery = `SELECT a.id, a.published_seq, a.type, a.title, a.published_at, a.amends_id, p.code, p.category, p.region_code, r.name
	FROM announcements a JOIN projects p ON p.id = a.project_id JOIN regions r ON r.code = p.region_code
	WHERE a.status = 'published' %s ORDER BY a.published_seq DESC LIMIT 21`

func BenchmarkPortal(b *testing.B) {
	n := envN("BENCH_NOTICES", 100_000)
	secs := envN("BENCH_SECONDS", 20)
	// One load run, however many b.N asks for: its figures are the result.
	b.StopTimer()
	var err error
	cfg := testConfig(b)
	cfg.PublicCache = time.Second // the default of `ggzy serve`
	if v := os.Getenv("BENCH_PUBLIC_CACHE"); v != "" {
		if cfg.PublicCache, err = time.ParseDuration(v); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("public micro-cache: %s", cfg.PublicCache)
	db, err := sql.Open("pgx", cfg.DatabaseURL)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	seedAnnouncements(b, db, n)
	b.Logf("seeded %d announcements in %s", n, time.Since(t0).Round(time.Millisecond))
	app, err := OpenApp(context.Background(), cfg, modeServe, quietLog)
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	e, err := NewServer(app)
	if err != nil {
		b.Fatal(err)
	}
	port, _ := stack.FreePort()
	srv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: e}
	go srv.ListenAndServe()
	defer srv.Close()
	base := "http://" + srv.Addr
	time.Sleep(200 * time.Millisecond)

	var maxID int64
	db.QueryRow("SELECT max(id) FROM announcements").Scan(&maxID)
	// A cursor deep in the list, to show paging cost does not grow.
	var page struct {
		NextCursor string `json:"next_cursor"`
	}
	resp, err := http.Get(base + "/api/v1/announcements?limit=100")
	if err != nil {
		b.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	categories := []string{"engineering", "procurement", "land", "property"}
	scenarios := []struct {
		name string
		next func(r *rand.Rand) string
	}{
		{"list page /notices", func(r *rand.Rand) string {
			if r.IntN(2) == 0 {
				return base + "/notices"
			}
			return base + "/notices?category=" + categories[r.IntN(4)]
		}},
		{"detail page /notices/{id}", func(r *rand.Rand) string { return fmt.Sprintf("%s/notices/%d", base, 1+r.Int64N(maxID)) }},
		{"API /api/v1/announcements (first page, filtered, deep cursor)", func(r *rand.Rand) string {
			switch r.IntN(3) {
			case 0:
				return base + "/api/v1/announcements"
			case 1:
				return base + "/api/v1/announcements?category=" + categories[r.IntN(4)] + "&limit=50"
			}
			return base + "/api/v1/announcements?cursor=" + page.NextCursor
		}},
	}
	for _, s := range scenarios {
		res := drive(b, time.Duration(secs)*time.Second, s.next)
		b.Logf("%-62s %7d requests, %4d errors, %8.1f req/s, p50 %6.2f ms, p99 %6.2f ms",
			s.name, res.requests, res.errors, res.rps, ms(res.p50), ms(res.p99))
		b.ReportMetric(ms(res.p99), strings.Fields(s.name)[0]+"-p99-ms")
	}
	b.Logf("pgbench -S -c 64 -j 2 -T %d (scale 10), same cluster: %s", secs, pgbench(b, adminURLOf(cfg.DatabaseURL), "-S", secs))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// adminURLOf points a database URL at the maintenance database.
func adminURLOf(u string) string {
	p, _ := url.Parse(u)
	p.Path = "/postgres"
	return p.String()
}

// BenchmarkListQueryScaling shows the portal's list queries stay flat as
// announcements grow: EXPLAIN ANALYZE at 10,000, 100,000 and 1,000,000 announcements
// (BENCH_SCALES to change), printed to stdout.
//
//	go test -run '^$' -bench ListQueryScaling -benchtime 1x ./cmd/ggzy/
func BenchmarkListQueryScaling(b *testing.B) {
	scales := []int{10_000, 100_000, 1_000_000}
	if v := os.Getenv("BENCH_SCALES"); v != "" {
		scales = nil
		for _, f := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(f)
			scales = append(scales, n)
		}
	}
	b.StopTimer()
	queries := []struct{ name, where string }{
		{"first page", ""},
		{"category filter", "AND p.category = 'land'"},
		{"deep cursor", "AND a.published_seq < (SELECT max(published_seq) / 2 FROM announcements)"},
		{"search rare: a project name", "AND (a.title ILIKE '%基准项目4242学校%' OR a.body ILIKE '%基准项目4242学校%')"},
		// Worst case: a term in a fifth of the older announcements and none of the
		// newest half, so walking newest-first finds nothing for long.
		{"search common, old only", "AND (a.title ILIKE '%防洪堤%' OR a.body ILIKE '%防洪堤%')"},
	}
	for _, n := range scales {
		db, err := sql.Open("pgx", testenv.DatabaseURL(b))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		seedAnnouncements(b, db, n)
		fmt.Printf("\n== %d announcements (seeded in %s)\n", n, time.Since(t0).Round(time.Millisecond))
		for _, q := range queries {
			plan := explain(b, db, fmt.Sprintf(listQuery, q.where))
			exec := regexp.MustCompile(`Execution Time: ([0-9.]+ ms)`).FindStringSubmatch(plan)
			fmt.Printf("%-28s execution %s\n", q.name, exec[1])
			if (q.name == "first page" || strings.HasPrefix(q.name, "search rare")) && n == scales[len(scales)-1] {
				fmt.Println(plan)
			}
		}
		db.Close()
	}
}
