package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// Benchmarks of deposits (issue 5):
//
//	go test -run '^$' -bench 'StatementImport|BankWebhook' -benchtime 1x -timeout 30m ./cmd/ggzy/

// BenchmarkStatementImport imports a statement of BENCH_LINES lines
// (default 1,000,000): validated whole, COPY into staging, one set-based
// match. A tenth of the lines pay into real virtual accounts, the rest into
// unknown ones (suspense); every line is a distinct bank transaction.
func BenchmarkStatementImport(b *testing.B) {
	n := envN("BENCH_LINES", 1_000_000)
	b.StopTimer()
	cfg := testConfig(b)
	app, _ := benchServer(b, cfg)
	lot := benchProject(b, app, "engineering", trading.LotInput{Name: "一标段", ControlPrice: "12000000.00", Deposit: "200000.00",
		DocIssueStart: testNow.Add(time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 7).Format(time.RFC3339),
		BidDeadline: testNow.AddDate(0, 0, 21).Format(time.RFC3339)})
	app.Clock.(*trading.ManualClock).Advance(2 * time.Hour)
	// 1,000 bidders with virtual accounts.
	seedBidders(b, app.SQL, 1000)
	numbers := seedAccounts(b, app, lot)
	path := filepath.Join(b.TempDir(), "statement.csv")
	f, _ := os.Create(path)
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("交易流水号,交易日期,交易时间,虚拟子账号,付款人名称,付款人账号,付款行,金额,币种,摘要\n")
	for i := 0; i < n; i++ {
		// A tenth pay a bidder's own account (by the bidder: held), the rest
		// unknown accounts (suspense).
		account, payer := fmt.Sprintf("9999%014d", i), fmt.Sprintf("某付款人%05d", i%1000)
		if i%10 == 0 {
			k := (i / 10) % len(numbers)
			account, payer = numbers[k], fmt.Sprintf("投标人%05d", k)
		}
		fmt.Fprintf(w, "BT%09d,2026-03-02,%02d:%02d:%02d,%s,%s,6222%08d,某银行,%d.%02d,CNY,保证金\n",
			i, 10+i%8, i%60, (i/60)%60, account, payer, i%100000, 1000+i%5000, i%100)
	}
	w.Flush()
	f.Close()
	st, _ := os.Stat(path)

	peak := sampleHeap(50 * time.Millisecond)
	t0 := time.Now()
	r, err := app.Deposits.ImportStatement(context.Background(), trading.SystemActor, func() (io.ReadCloser, error) { return os.Open(path) })
	elapsed := time.Since(t0)
	peakHeap := peak()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d lines (%d MB) imported in %s: %.0f lines/s; %d new (%d held, %d suspense); peak heap %d MiB",
		n, st.Size()>>20, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), r.New, r.Held, r.Suspense, peakHeap>>20)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "lines/s")
	t0 = time.Now()
	r, err = app.Deposits.ImportStatement(context.Background(), trading.SystemActor, func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("the same file again: %s, %d new, %d repeated", time.Since(t0).Round(time.Millisecond), r.New, r.Repeated)
	rep, err := app.Deposits.Verify(context.Background(), nil)
	if err != nil || len(rep.Problems) > 0 {
		b.Fatalf("books: %+v %v", rep, err)
	}
}

// BenchmarkBankWebhook sends BENCH_WEBHOOKS (default 20,000) signed
// notifications from 64 clients, each a new transaction into a real
// virtual account, beside pgbench -N on the same cluster.
func BenchmarkBankWebhook(b *testing.B) {
	n := envN("BENCH_WEBHOOKS", 20000)
	b.StopTimer()
	cfg := testConfig(b)
	cfg.BankSecret = "bench-secret"
	app, base := benchServer(b, cfg)
	app.Deposits.WebhookSecret = []byte(cfg.BankSecret)
	lot := benchProject(b, app, "engineering", trading.LotInput{Name: "一标段", ControlPrice: "12000000.00", Deposit: "200000.00",
		DocIssueStart: testNow.Add(time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 7).Format(time.RFC3339),
		BidDeadline: testNow.AddDate(0, 0, 21).Format(time.RFC3339)})
	seedBidders(b, app.SQL, 64)
	numbers := seedAccounts(b, app, lot)
	bodies := make([][]byte, n)
	sigs := make([]string, n)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]string{"txn_id": fmt.Sprintf("WB%08d", i), "value_time": testNow.Add(3 * time.Hour).Format(time.RFC3339),
			"virtual_account": numbers[i%len(numbers)], "payer_name": fmt.Sprintf("投标人%05d", i%64), "payer_account": fmt.Sprintf("6222%06d", i%64),
			"amount": "1000.00", "currency": "CNY"})
		sigs[i] = sign(cfg.BankSecret, bodies[i])
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	res := burst(client, n, http.StatusOK, func(i int) *http.Request {
		req, _ := http.NewRequest("POST", base+"/api/v1/bank/notifications", bytes.NewReader(bodies[i]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Bank-Signature", sigs[i])
		return req
	})
	var stored int64
	app.SQL.QueryRow("SELECT count(*) FROM inflows").Scan(&stored)
	b.Logf("%d webhooks by 64 clients: %s, %d inflows", n, res, stored)
	b.ReportMetric(res.rps, "req/s")
	b.Logf("pgbench -N -c 64 -j 2 -T 20 (scale 10), same cluster: %s", pgbench(b, adminURLOf(cfg.DatabaseURL), "-N", 20))
}

// sampleHeap samples the heap in use every interval until the returned
// function is called, which stops it and returns the peak seen.
func sampleHeap(every time.Duration) (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(every):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		return peak.Load()
	}
}
