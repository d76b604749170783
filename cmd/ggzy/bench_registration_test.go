package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/ggzy/ggzy/cmd/ggzy/stack"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// Benchmarks of registration and documents (issue 4):
//
//	go test -run '^$' -bench 'RegistrationBurst|DocumentDownload' -benchtime 1x -timeout 30m ./cmd/ggzy/

// benchServer serves the platform on the clock of the fixtures.
func benchServer(b *testing.B, cfg Config) (*App, string) {
	b.Helper()
	app, err := OpenApp(context.Background(), cfg, modeServe, benchLog)
	if err != nil {
		b.Fatal(err)
	}
	app.SetClock(trading.NewManualClock(testNow))
	app.Trading.Passwords = testenv.CheapPasswords
	e, err := NewServer(app)
	if err != nil {
		b.Fatal(err)
	}
	port, _ := stack.FreePort()
	srv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: e}
	go srv.ListenAndServe()
	b.Cleanup(func() { srv.Close(); app.Close() })
	time.Sleep(200 * time.Millisecond)
	return app, "http://" + srv.Addr
}

// benchProject publishes a project of the category with the agent and
// supervisor it creates, and returns its first lot's id.
func benchProject(b *testing.B, app *App, cat trading.Category, in trading.LotInput) int64 {
	ctx := context.Background()
	agent, _ := app.Trading.CreateAccount(ctx, trading.SystemActor, trading.NewAccount{Role: "agent", Username: "benchagent", Password: "pass12345"})
	sup, _ := app.Trading.CreateAccount(ctx, trading.SystemActor, trading.NewAccount{Role: "supervisor", Username: "benchsup", Password: "pass12345"})
	a := trading.Actor{AccountID: agent.ID, Username: "benchagent", Role: "agent"}
	p, err := app.Trading.CreateProject(ctx, a, trading.ProjectInput{Category: cat, Title: "基准测试项目", OwnerName: "福州市某局",
		RegionCode: "350100", Lots: []trading.LotInput{in}})
	if err != nil {
		b.Fatal(err)
	}
	typ := map[trading.Category]trading.AnnouncementType{"engineering": "tender", "procurement": "procurement"}[cat]
	n, err := app.Trading.DraftAnnouncement(ctx, a, p.Code, trading.AnnouncementInput{Type: typ, Title: "基准测试项目公告", Body: "正文"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := app.Trading.SubmitAnnouncement(ctx, a, n.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := app.Trading.ApproveAnnouncement(ctx, trading.Actor{AccountID: sup.ID, Username: "benchsup", Role: "supervisor"}, n.ID, nil); err != nil {
		b.Fatal(err)
	}
	return p.Lots[0].ID
}

// seedBidders inserts n bidder accounts with API tokens, in SQL (argon2
// for 2,000 accounts is not what is measured), and returns the tokens.
func seedBidders(b *testing.B, db *sql.DB, n int) []string {
	tokens := make([]string, n)
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		var id int64
		if err := tx.QueryRow(`INSERT INTO accounts (username, password_hash, role, display_name, created_at, updated_at)
			VALUES ($1, 'x', 'bidder', $2, now(), now()) RETURNING id`, fmt.Sprintf("burst%05d", i), fmt.Sprintf("投标人%05d", i)).Scan(&id); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO bidders (account_id, kind, name, id_number, legal_rep, phone, email)
			VALUES ($1, 'enterprise', $2, $3, '张三', '13800138000', 'b@example.com')`, id, fmt.Sprintf("投标人%05d", i), testenv.CreditCode(fmt.Sprintf("91350100MA%07d", i))); err != nil {
			b.Fatal(err)
		}
		raw := make([]byte, 32)
		rand.Read(raw)
		tokens[i] = base64.RawURLEncoding.EncodeToString(raw)
		h := sha256.Sum256([]byte(tokens[i]))
		if _, err := tx.Exec(`INSERT INTO sessions (token_hash, account_id, kind, created_at, expires_at) VALUES ($1, $2, 'api', now() - interval '1 day', now() + interval '1 day')`,
			h[:], id); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return tokens
}

func BenchmarkRegistrationBurst(b *testing.B) {
	n := envN("BENCH_BIDDERS", 2000)
	b.StopTimer()
	cfg := testConfig(b)
	cfg.DBMaxConns = envN("BENCH_DB_CONNS", 0) // 0: the default pool
	app, base := benchServer(b, cfg)
	// BENCH_DEPOSIT (yuan): a lot that asks for a deposit, whose
	// registrations each open a virtual account in their own transaction.
	lot := benchProject(b, app, "engineering", trading.LotInput{Name: "一标段", ControlPrice: "12000000.00",
		Deposit: os.Getenv("BENCH_DEPOSIT"), DocIssueStart: testNow.Add(time.Hour).Format(time.RFC3339),
		DocIssueEnd: testNow.AddDate(0, 0, 7).Format(time.RFC3339), BidDeadline: testNow.AddDate(0, 0, 21).Format(time.RFC3339)})
	app.Clock.(*trading.ManualClock).Advance(2 * time.Hour) // documents are being issued
	tokens := seedBidders(b, app.SQL, n)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	// A running server has its connections open: warm the pools first.
	var warm sync.WaitGroup
	for w := 0; w < 64; w++ {
		warm.Add(1)
		go func(w int) {
			defer warm.Done()
			for i := 0; i < 5; i++ {
				req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
				req.Header.Set("Authorization", "Bearer "+tokens[w])
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}(w)
	}
	warm.Wait()
	res := burst(client, n, http.StatusCreated, func(i int) *http.Request {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/lots/%d/registration", base, lot), nil)
		req.Header.Set("Authorization", "Bearer "+tokens[i])
		return req
	})
	var rows int
	app.SQL.QueryRow("SELECT count(*) FROM registrations WHERE lot_id = $1", lot).Scan(&rows)
	b.Logf("%d registrations by 64 clients: %s, %d rows", n, res, rows)
	if res.failures > 0 || rows != n {
		b.Fatalf("%d failures, %d rows for %d bidders", res.failures, rows, n)
	}
	if _, problem, err := trading.VerifyAudit(context.Background(), app.Trading.DB); err != nil || problem != nil {
		b.Fatalf("audit log after the burst: %v %v", problem, err)
	}
	b.ReportMetric(ms(res.p99), "p99-ms")
	b.ReportMetric(res.rps, "registrations/s")
	b.Logf("pgbench -N -c 64 -j 2 -T 20 (scale 10), same cluster: %s", pgbench(b, adminURLOf(cfg.DatabaseURL), "-N", 20))
}

// BenchmarkDocumentDownload compares a 100 MB document downloaded through
// the platform with the same object straight from MinIO, and samples the
// server's heap during the platform download.
func BenchmarkDocumentDownload(b *testing.B) {
	size := envN("BENCH_DOC_MB", 100) << 20
	b.StopTimer()
	cfg := testConfig(b)
	app, base := benchServer(b, cfg)
	lot := benchProject(b, app, "engineering", trading.LotInput{Name: "一标段", ControlPrice: "12000000.00",
		DocIssueStart: testNow.Add(time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 7).Format(time.RFC3339),
		BidDeadline: testNow.AddDate(0, 0, 21).Format(time.RFC3339)})
	// The agent uploads through the API (multipart, streamed).
	agentTok := benchToken(b, base, "benchagent")
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("kind", "tender")
		part, _ := mw.CreateFormFile("file", "招标文件.pdf")
		part.Write([]byte("%PDF-1.7\n"))
		io.CopyN(part, rand.Reader, int64(size-9))
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/lots/%d/documents", base, lot), pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+agentTok)
	t0 := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	b.Logf("upload of %d MB through the platform: %s", size>>20, time.Since(t0).Round(time.Millisecond))
	var docID int64
	var key string
	app.SQL.QueryRow("SELECT id, object_key FROM documents WHERE lot_id = $1", lot).Scan(&docID, &key)

	peak := sampleHeap(20 * time.Millisecond)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// The agent reads it (uploaded after publication it is a clarification
	// not yet released to bidders; the streaming path is the same).
	platform := func() (io.ReadCloser, error) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/documents/%d/content", base, docID), nil)
		req.Header.Set("Authorization", "Bearer "+agentTok)
		resp, err := http.DefaultClient.Do(req)
		if err == nil && resp.StatusCode != 200 {
			return nil, fmt.Errorf("download: %d", resp.StatusCode)
		}
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	}
	minioDirect := func() (io.ReadCloser, error) {
		return app.Storage.Client.GetObject(context.Background(), app.Storage.Bucket, key, minio.GetObjectOptions{})
	}
	// Ten rounds, each reading through the platform and then straight
	// from MinIO, best of each: a busy moment of the machine falls on both
	// sides alike rather than on one block of reads.
	through, direct := time.Duration(1<<62), time.Duration(1<<62)
	for round := 0; round < 10; round++ {
		through = min(through, timeRead(b, platform))
		direct = min(direct, timeRead(b, minioDirect))
	}
	peakHeap := peak()
	b.Logf("%d MB straight from MinIO: %s (%.0f MB/s); through the platform: %s (%.0f MB/s); ratio %.2f",
		size>>20, direct.Round(time.Millisecond), float64(size>>20)/direct.Seconds(), through.Round(time.Millisecond),
		float64(size>>20)/through.Seconds(), direct.Seconds()/through.Seconds())
	b.Logf("heap in use: %d MiB before, peak %d MiB during the platform download (file %d MiB)",
		before.HeapInuse>>20, peakHeap>>20, size>>20)
	b.ReportMetric(direct.Seconds()/through.Seconds(), "ratio")
}

func benchToken(b *testing.B, base, username string) string {
	var tok trading.TokenResponse
	body, _ := json2(map[string]string{"username": username, "password": "pass12345"})
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if err := jsonDecode(resp.Body, &tok); err != nil || tok.Token == "" {
		b.Fatalf("login %s: %d %v", username, resp.StatusCode, err)
	}
	return tok.Token
}

// timeRead reads a whole stream and times it.
func timeRead(b *testing.B, open func() (io.ReadCloser, error)) time.Duration {
	t0 := time.Now()
	rc, err := open()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		b.Fatal(err)
	}
	rc.Close()
	return time.Since(t0)
}

func json2(v any) ([]byte, error) { return json.Marshal(v) }

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// benchLog shows the services' debug timings with GGZY_BENCH_DEBUG=1.
var benchLog = func() *slog.Logger {
	if os.Getenv("GGZY_BENCH_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return quietLog
}()

// burstResult is what a burst of requests measured.
type burstResult struct {
	elapsed  time.Duration
	rps      float64
	p50, p99 time.Duration
	failures int64
}

func (r burstResult) String() string {
	return fmt.Sprintf("%s, %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d failures",
		r.elapsed.Round(time.Millisecond), r.rps, ms(r.p50), ms(r.p99), r.failures)
}

// burst sends n requests from 64 concurrent clients, each request made by
// req(i) once, and measures them; an answer other than want is a failure.
func burst(client *http.Client, n, want int, req func(i int) *http.Request) burstResult {
	var next, failures atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, n)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				r := req(int(i))
				t0 := time.Now()
				resp, err := client.Do(r)
				d := time.Since(t0)
				if err != nil || resp.StatusCode != want {
					failures.Add(1)
				}
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return burstResult{elapsed: elapsed, rps: float64(n) / elapsed.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], failures: failures.Load()}
}

// seedAccounts registers every seeded bidder for the lot and opens their
// virtual accounts in SQL, returning the account numbers in bidder order.
func seedAccounts(b *testing.B, app *App, lot int64) []string {
	rows, err := app.SQL.Query("SELECT account_id FROM bidders ORDER BY account_id")
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	numbers := make([]string, len(ids))
	// Opened at the services' clock, as OpenAccounts would: money is
	// refused with a value time before the account was opened.
	now := app.Clock.Now()
	for i, id := range ids {
		var reg int64
		app.SQL.QueryRow(`INSERT INTO registrations (lot_id, bidder_id, kind, status, created_at, updated_at)
			VALUES ($1, $2, 'download', 'active', $3, $3) RETURNING id`, lot, id, now).Scan(&reg)
		numbers[i], _ = app.Deposits.Accounts.Number(int64(i + 1))
		if _, err := app.SQL.Exec(`INSERT INTO virtual_accounts (number, registration_id, lot_id, bidder_id, required, deadline, created_at)
			VALUES ($1, $2, $3, $4, 200000, $5::timestamptz + interval '30 days', $5)`, numbers[i], reg, lot, id, now); err != nil {
			b.Fatal(err)
		}
	}
	return numbers
}
