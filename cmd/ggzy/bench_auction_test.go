package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// BenchmarkAuctionLive: BENCH_BIDDERS (default 100) bidders quote on one
// land auction as fast as L8.max_quotes_per_second allows (default 5 each),
// for BENCH_SECONDS (default 10), while BENCH_WATCHERS (default 1,000)
// Server-Sent-Event watchers follow the lot, split over BENCH_INSTANCES
// (default 1; 2: two served instances on one database). Reported: quote
// acknowledgement p50/p99 (accepted and refused alike), delivery p50/p99
// (from sending the quote to a watcher reading it) over every watcher and
// accepted quote, whether every watcher got every accepted quote, the heap
// per watcher (server and client sides of the stream are in this process:
// an upper bound), then pgbench -N on the same cluster. BENCH_AMOUNTS says
// how a bidder picks its amount: "counter" (default: the next of one
// shared counter, each quote above every quote sent before it) or "page"
// (what the quote page proposes: the highest the bidder's page last showed
// plus one increment, so bidders who saw the same highest compete).
// BENCH_DB_CONNS sets each instance's GGZY_DB_MAX_CONNS. Run with
//
//	go test -run '^$' -bench AuctionLive -benchtime 1x ./cmd/ggzy/
func BenchmarkAuctionLive(b *testing.B) {
	bidders, watchers := envN("BENCH_BIDDERS", 100), envN("BENCH_WATCHERS", 1000)
	seconds, instances, rate := envN("BENCH_SECONDS", 10), envN("BENCH_INSTANCES", 1), envN("BENCH_RATE", 5)
	page := os.Getenv("BENCH_AMOUNTS") == "page"
	b.StopTimer()
	cfg := testConfig(b)
	cfg.Rules = fmt.Sprintf("L8.max_quotes_per_second=%d,L11.countdown_seconds=3600,L11.late_settle_ms=60000", rate)
	if n := envN("BENCH_DB_CONNS", 0); n > 0 { // GGZY_DB_MAX_CONNS of each instance (default 20)
		cfg.DBMaxConns = n
	}
	app, base := benchServer(b, cfg)
	bases, apps := []string{base}, []*App{app}
	if instances > 1 {
		// Before the clock is set: opening an instance sets the deciding
		// clock's offset from its configuration.
		app2, base2 := benchServer(b, cfg)
		bases, apps = append(bases, base2), append(apps, app2)
	}
	ctx := context.Background()
	auctionAt := testNow.AddDate(0, 0, 25)
	if err := trading.SetDBClockOffset(ctx, app.DB, time.Until(auctionAt.Add(-time.Hour))); err != nil {
		b.Fatal(err)
	}
	agent, _ := app.Trading.CreateAccount(ctx, trading.SystemActor, trading.NewAccount{Role: "agent", Username: "benchagent", Password: "pass12345"})
	sup, _ := app.Trading.CreateAccount(ctx, trading.SystemActor, trading.NewAccount{Role: "supervisor", Username: "benchsup", Password: "pass12345"})
	a := trading.Actor{AccountID: agent.ID, Username: "benchagent", Role: "agent"}
	p, err := app.Trading.CreateProject(ctx, a, trading.ProjectInput{Category: "land", Title: "基准测试网上拍卖", OwnerName: "福州市自然资源局",
		RegionCode: "350100", Lots: []trading.LotInput{{Name: "基准地块", StartingPrice: "5000000.00", Increment: "100.00", Deposit: "1000000.00",
			AuctionAt: auctionAt.Format(time.RFC3339), BiddingMode: "auction"}}})
	if err != nil {
		b.Fatal(err)
	}
	n, err := app.Trading.DraftAnnouncement(ctx, a, p.Code, trading.AnnouncementInput{Type: "transfer", Title: "基准出让公告", Body: "正文"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := app.Trading.SubmitAnnouncement(ctx, a, n.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := app.Trading.ApproveAnnouncement(ctx, trading.Actor{AccountID: sup.ID, Username: "benchsup", Role: "supervisor"}, n.ID, nil); err != nil {
		b.Fatal(err)
	}
	lot := p.Lots[0].ID
	tokens := seedBidders(b, app.SQL, bidders)
	numbers := seedAccounts(b, app, lot) // registrations (active) with their virtual accounts
	var ins []deposits.Inflow
	for i, num := range numbers {
		ins = append(ins, deposits.Inflow{BankTxnID: fmt.Sprintf("BA%05d", i), VirtualAccount: num, PayerName: fmt.Sprintf("投标人%05d", i),
			PayerAccount: fmt.Sprintf("6222%06d", i), PayerBank: "某银行", Amount: decimal.RequireFromString("1000000.00"), Currency: "CNY", ValueTime: testNow})
	}
	if _, err := app.Deposits.Receive(ctx, trading.Actor{Username: "bank", Role: "system"}, deposits.SourceWebhook, ins); err != nil {
		b.Fatal(err)
	}
	if err := trading.SetDBClockOffset(ctx, app.DB, time.Until(auctionAt.Add(time.Second))); err != nil {
		b.Fatal(err)
	}

	// Watchers.
	var heap0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&heap0)
	type recv struct {
		seq int64
		at  time.Time
	}
	got := make([][]recv, watchers)
	var connected sync.WaitGroup
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var done sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2000, MaxConnsPerHost: 0}}
	var shown atomic.Int64 // the highest the pages show (watcher 0's stream), for BENCH_AMOUNTS=page
	shown.Store(5000000 - 100)
	for w := 0; w < watchers; w++ {
		connected.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req, _ := http.NewRequestWithContext(wctx, "GET", fmt.Sprintf("%s/auctions/%d/live?last_event_id=0", bases[w%len(bases)], lot), nil)
			resp, err := client.Do(req)
			if err != nil {
				connected.Done()
				return
			}
			defer resp.Body.Close()
			connected.Done()
			sc := bufio.NewScanner(resp.Body)
			var id int64
			quote := false
			for sc.Scan() {
				line := sc.Text()
				if v, ok := strings.CutPrefix(line, "id: "); ok {
					id, _ = strconv.ParseInt(v, 10, 64)
				}
				if line == "event: quote" {
					got[w] = append(got[w], recv{seq: id, at: time.Now()})
					quote = true
				}
				if v, ok := strings.CutPrefix(line, "data: "); ok && quote && w == 0 && page {
					var ev struct {
						Amount decimal.Decimal `json:"amount"`
					}
					if json.Unmarshal([]byte(v), &ev) == nil {
						shown.Store(ev.Amount.IntPart())
					}
					quote = false
				}
			}
		}()
	}
	connected.Wait()
	time.Sleep(time.Second)
	runtime.GC()
	var heap1 runtime.MemStats
	runtime.ReadMemStats(&heap1)

	// Bidders: amounts from one counter, so most quotes compete and the
	// late ones are refused (L8) as they would be.
	var next atomic.Int64
	var mu sync.Mutex
	var acks, ackOK, ackNo []time.Duration // all, accepted, refused
	sent := map[int64]time.Time{}          // accepted amount → when sent
	var accepted, refused, failed atomic.Int64
	qclient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var bw sync.WaitGroup
	// Waits for a connection of the instances' pools (GGZY_DB_MAX_CONNS)
	// during the quoting.
	poolWaits := func() (n int64, d time.Duration) {
		for _, a := range apps {
			st := a.SQL.Stats()
			n, d = n+st.WaitCount, d+st.WaitDuration
		}
		return n, d
	}
	waits0, waited0 := poolWaits()
	b.StartTimer()
	for i := 0; i < bidders; i++ {
		bw.Add(1)
		go func() {
			defer bw.Done()
			tick := time.NewTicker(time.Second / time.Duration(rate))
			defer tick.Stop()
			k := 0
			for time.Now().Before(deadline) {
				<-tick.C
				amount := 5000000 + 100*next.Add(1)
				if page {
					amount = shown.Load() + 100
				}
				body := fmt.Sprintf(`{"amount":"%d","key":"b%d-%d"}`, amount, i, k)
				k++
				req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/lots/%d/quotes", bases[i%len(bases)], lot), strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tokens[i])
				t0 := time.Now()
				resp, err := qclient.Do(req)
				d := time.Since(t0)
				if err != nil {
					failed.Add(1)
					continue
				}
				resp.Body.Close()
				mu.Lock()
				switch {
				case resp.StatusCode == http.StatusCreated:
					accepted.Add(1)
					ackOK = append(ackOK, d)
					sent[amount] = t0
				case resp.StatusCode >= 400 && resp.StatusCode < 500:
					refused.Add(1)
					ackNo = append(ackNo, d)
				default:
					failed.Add(1)
				}
				acks = append(acks, d)
				mu.Unlock()
			}
		}()
	}
	bw.Wait()
	b.StopTimer()
	waits1, waited1 := poolWaits()
	time.Sleep(2 * time.Second) // let the last events reach every watcher
	stop()
	done.Wait()

	// Delivery: the accepted quotes in order, from the table.
	rows, err := app.SQL.Query(`SELECT seq, (data->>'amount')::numeric::bigint FROM live_events WHERE topic = $1 AND kind = 'quote' ORDER BY seq`, fmt.Sprintf("auction/%d", lot))
	if err != nil {
		b.Fatal(err)
	}
	amountOf := map[int64]int64{}
	var seqs []int64
	for rows.Next() {
		var seq, amount int64
		rows.Scan(&seq, &amount)
		amountOf[seq] = amount
		seqs = append(seqs, seq)
	}
	rows.Close()
	var delivery []time.Duration
	complete := 0
	for w := range got {
		if len(got[w]) == len(seqs) {
			complete++
		}
		for _, r := range got[w] {
			if t0, ok := sent[amountOf[r.seq]]; ok {
				delivery = append(delivery, r.at.Sub(t0))
			}
		}
	}
	pct := func(ds []time.Duration, p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		return ds[min(len(ds)-1, int(float64(len(ds))*p))]
	}
	perWatcher := (int64(heap1.HeapInuse) - int64(heap0.HeapInuse)) / int64(watchers)
	b.Logf("%d bidders × %d quotes/s for %ds, %d watchers on %d instance(s): %d quotes sent, %d accepted, %d refused (4xx), %d failed",
		bidders, rate, seconds, watchers, len(bases), len(acks), accepted.Load(), refused.Load(), failed.Load())
	b.Logf("quote ack p50 %.2f ms, p99 %.2f ms; accepted p50 %.2f ms, p99 %.2f ms; refused p50 %.2f ms, p99 %.2f ms",
		ms(pct(acks, .5)), ms(pct(acks, .99)), ms(pct(ackOK, .5)), ms(pct(ackOK, .99)), ms(pct(ackNo, .5)), ms(pct(ackNo, .99)))
	b.Logf("delivery (send → watcher) p50 %.2f ms, p99 %.2f ms over %d deliveries; %d/%d watchers got all %d accepted quotes",
		ms(pct(delivery, .5)), ms(pct(delivery, .99)), len(delivery), complete, watchers, len(seqs))
	if len(acks) > 0 {
		b.Logf("connection pool: %d waits for a connection, %.1f ms waited per quote on average", waits1-waits0,
			ms(waited1-waited0)/float64(len(acks)))
	}
	b.Logf("heap per watcher (both ends of the stream in this process): %.1f KiB", float64(perWatcher)/1024)
	b.ReportMetric(ms(pct(acks, .99)), "ack-p99-ms")
	b.ReportMetric(ms(pct(delivery, .99)), "delivery-p99-ms")
	b.Logf("pgbench -N -c 64 -j 2 -T 10 (scale 10), same cluster: %s", pgbench(b, adminURLOf(cfg.DatabaseURL), "-N", 10))
}
