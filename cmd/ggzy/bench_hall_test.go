package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// BenchmarkHallLive: an online opening hall with BENCH_BIDDERS (default
// 30) bidders and BENCH_WATCHERS (default 200) Server-Sent-Event watchers
// of /lots/{id}/hall/events (signed-in supervisors' web sessions, as the
// page's own EventSource). Every step of the opening is taken as the
// people in it would: the host opens the hall; all bidders sign in at
// once; all decrypt at once (the content key unwrapped beforehand, as the
// browser does; the server decrypts and checks the commitments), the last
// decryption revealing every price form (唱标); five bidders confirm one
// after another; one objects, the host answers, the host concludes (the
// opening record generated, stored and published as an announcement). The steps
// are service calls in this process; delivery is from the start of the
// call that made an event to a watcher reading it, over every (watcher,
// event) pair. Run with
//
//	GGZY_MINIO_BIN=/work/main/bin/minio go test -run '^$' -bench HallLive -benchtime 1x ./cmd/ggzy/
func BenchmarkHallLive(b *testing.B) {
	bidders, watchers := envN("BENCH_BIDDERS", 30), envN("BENCH_WATCHERS", 200)
	b.StopTimer()
	cfg := testConfig(b)
	app, base := benchServer(b, cfg)
	ctx := context.Background()
	lot := benchProject(b, app, "engineering", trading.LotInput{Name: "一标段", ControlPrice: "12000000.00",
		DocIssueStart: testNow.Add(time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 7).Format(time.RFC3339),
		BidDeadline: testNow.AddDate(0, 0, 21).Format(time.RFC3339)})
	clock := app.Clock.(*trading.ManualClock)
	clock.Advance(2 * time.Hour)
	if err := trading.FreezeDBClock(ctx, app.DB, clock.Now()); err != nil {
		b.Fatal(err)
	}
	agent := trading.Actor{Username: "benchagent", Role: trading.RoleAgent}
	app.SQL.QueryRow("SELECT id FROM accounts WHERE username = 'benchagent'").Scan(&agent.AccountID)

	// Bidders: registered, each with a bid key and a sealed bid.
	seedBidders(b, app.SQL, bidders)
	actors := make([]trading.Actor, bidders)
	keys := make([]*ecdh.PrivateKey, bidders)
	for i := range actors {
		a := trading.Actor{Username: fmt.Sprintf("burst%05d", i), Role: trading.RoleBidder}
		if err := app.SQL.QueryRow("SELECT id FROM accounts WHERE username = $1", a.Username).Scan(&a.AccountID); err != nil {
			b.Fatal(err)
		}
		if _, err := app.Bidding.Register(ctx, a, lot, bidding.RegisterInput{}); err != nil {
			b.Fatal(err)
		}
		actors[i], keys[i] = a, benchSealedBid(b, app, a, lot, fmt.Sprintf("%d.00", 11000000+1000*i))
	}
	clock.Set(testNow.AddDate(0, 0, 21).Add(time.Minute))
	if err := trading.FreezeDBClock(ctx, app.DB, clock.Now()); err != nil {
		b.Fatal(err)
	}

	// Watchers: supervisors signed in on the web, 20 streams a session.
	var cookies []string
	for i := 0; i < max(1, watchers/20); i++ {
		u := fmt.Sprintf("watch%02d", i)
		if _, err := app.Trading.CreateAccount(ctx, trading.SystemActor, trading.NewAccount{Role: trading.RoleSupervisor, Username: u, Password: "pass12345"}); err != nil {
			b.Fatal(err)
		}
		token, _, err := app.Trading.Login(ctx, trading.SessionWeb, u, "pass12345", "127.0.0.1", "bench")
		if err != nil {
			b.Fatal(err)
		}
		cookies = append(cookies, trading.SessionCookie+"="+token)
	}
	type recv struct {
		seq int64
		at  time.Time
	}
	got := make([][]recv, watchers)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var connected, done sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1000}}
	for w := 0; w < watchers; w++ {
		connected.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req, _ := http.NewRequestWithContext(wctx, "GET", fmt.Sprintf("%s/lots/%d/hall/events?last_event_id=0", base, lot), nil)
			req.Header.Set("Cookie", cookies[w%len(cookies)])
			resp, err := client.Do(req)
			if err != nil {
				connected.Done()
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("watcher %d: %s", w, resp.Status)
				connected.Done()
				return
			}
			connected.Done()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
					id, _ := strconv.ParseInt(v, 10, 64)
					got[w] = append(got[w], recv{seq: id, at: time.Now()})
				}
			}
		}()
	}
	connected.Wait()
	time.Sleep(time.Second)

	// The steps. started maps an event to the start of the call that made
	// it: by seat for sign-in and decryption, by order for the rest.
	var mu sync.Mutex
	seatStart := map[string]map[string]time.Time{"hall.signin": {}, "hall.decrypted": {}}
	var ordered []struct {
		kind string
		at   time.Time
	}
	step := func(kind string, f func() error) {
		t0 := time.Now()
		if err := f(); err != nil {
			b.Fatalf("%s: %v", kind, err)
		}
		mu.Lock()
		ordered = append(ordered, struct {
			kind string
			at   time.Time
		}{kind, t0})
		mu.Unlock()
	}
	all := func(kind string, f func(i int) error) {
		var wg sync.WaitGroup
		errs := make([]error, bidders)
		for i := range actors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				errs[i] = f(i)
				var bid int64
				app.SQL.QueryRow("SELECT bid_id FROM opening_bids WHERE lot_id = $1 AND bidder_id = $2", lot, actors[i].AccountID).Scan(&bid)
				mu.Lock()
				seatStart[kind][fmt.Sprintf("%04d", bid%10000)] = t0 // the hall's seat of the bid
				mu.Unlock()
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				b.Fatalf("%s of bidder %d: %v", kind, i, err)
			}
		}
	}
	b.StartTimer()
	step("hall.opened", func() error { _, err := app.Bidding.OpenHall(ctx, agent, lot, 0); return err })
	b.StopTimer()
	tokens := make([]string, bidders)
	for i, a := range actors {
		h, err := app.Bidding.HallHeader(ctx, a, lot)
		if err != nil {
			b.Fatal(err)
		}
		ck, err := sealed.UnwrapKey(*h, keys[i])
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = ck.String()
	}
	b.StartTimer()
	all("hall.signin", func(i int) error { return app.Bidding.SignIn(ctx, actors[i], lot) })
	all("hall.decrypted", func(i int) error { return app.Bidding.Decrypt(ctx, actors[i], lot, tokens[i]) })
	for i := 0; i < min(5, bidders); i++ {
		step("hall.confirmed", func() error { return app.Bidding.Confirm(ctx, actors[i], lot) })
	}
	var obj *bidding.Objection
	step("hall.objection", func() error {
		var err error
		obj, err = app.Bidding.Object(ctx, actors[bidders-1], lot, "第一名的工期与招标文件要求不符")
		return err
	})
	step("hall.answer", func() error {
		return app.Bidding.Answer(ctx, agent, lot, obj.ID, "工期由评标委员会审查，记录在案")
	})
	step("hall.concluded", func() error { _, err := app.Bidding.Conclude(ctx, agent, lot); return err })
	b.StopTimer()
	time.Sleep(2 * time.Second) // let the last events reach every watcher
	stop()
	done.Wait()

	// Match the events to their steps.
	rows, err := app.SQL.Query(`SELECT seq, kind, coalesce(data->>'seat', ''), created_at FROM live_events WHERE topic = $1 ORDER BY seq`, bidding.HallTopic(lot))
	if err != nil {
		b.Fatal(err)
	}
	start := map[int64]time.Time{}
	inserted := map[int64]time.Time{} // clock_timestamp() in the step's transaction
	kindOf := map[int64]string{}
	next := map[string]int{}
	var prevSeat string
	for rows.Next() {
		var seq int64
		var kind, st string
		var at time.Time
		rows.Scan(&seq, &kind, &st, &at)
		kindOf[seq], inserted[seq] = kind, at
		switch kind {
		case "hall.signin", "hall.decrypted":
			start[seq] = seatStart[kind][st]
		case "hall.revealed": // in the last decryption's transaction
			start[seq] = seatStart["hall.decrypted"][prevSeat]
		default:
			k := 0
			for _, o := range ordered {
				if o.kind == kind {
					if k == next[kind] {
						start[seq] = o.at
						break
					}
					k++
				}
			}
			next[kind]++
		}
		prevSeat = st
	}
	rows.Close()
	byKind, byKindInsert := map[string][]time.Duration{}, map[string][]time.Duration{}
	var delivery, fromInsert []time.Duration
	complete := 0
	for w := range got {
		if len(got[w]) == len(kindOf) {
			complete++
		}
		for _, r := range got[w] {
			if t0, ok := start[r.seq]; ok && !t0.IsZero() {
				d := r.at.Sub(t0)
				delivery = append(delivery, d)
				byKind[kindOf[r.seq]] = append(byKind[kindOf[r.seq]], d)
			}
			fromInsert = append(fromInsert, r.at.Sub(inserted[r.seq]))
			byKindInsert[kindOf[r.seq]] = append(byKindInsert[kindOf[r.seq]], r.at.Sub(inserted[r.seq]))
		}
	}
	pct := func(ds []time.Duration, p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		return ds[min(len(ds)-1, int(float64(len(ds))*p))]
	}
	b.Logf("%d bidders, %d watchers: %d events, %d deliveries; %d/%d watchers got every event", bidders, watchers, len(kindOf), len(delivery), complete, watchers)
	b.Logf("every step, from the start of its call: p50 %.1f ms, p99 %.1f ms, max %.1f ms", ms(pct(delivery, .5)), ms(pct(delivery, .99)), ms(pct(delivery, 1)))
	b.Logf("every event, from its insertion in the step's transaction: p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		ms(pct(fromInsert, .5)), ms(pct(fromInsert, .99)), ms(pct(fromInsert, 1)))
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	// Two lines (a benchmark's log is cut after ten): p50/p99 per step.
	var call, ins []string
	for _, k := range kinds {
		ds, di := byKind[k], byKindInsert[k]
		call = append(call, fmt.Sprintf("%s ×%d %.1f/%.1f", strings.TrimPrefix(k, "hall."), len(ds), ms(pct(ds, .5)), ms(pct(ds, .99))))
		ins = append(ins, fmt.Sprintf("%s %.1f/%.1f", strings.TrimPrefix(k, "hall."), ms(pct(di, .5)), ms(pct(di, .99))))
	}
	b.Logf("per step, from the call, p50/p99 ms: %s", strings.Join(call, "; "))
	b.Logf("per step, from the insertion, p50/p99 ms: %s", strings.Join(ins, "; "))
	b.ReportMetric(ms(pct(fromInsert, .99)), "event-p99-ms")
	b.ReportMetric(ms(pct(delivery, .99)), "delivery-p99-ms")
	b.ReportMetric(float64(complete), "watchers-complete")
}

// benchSealedBid gives the bidder a bid key and submits a sealed bid (the
// price form and one small file), as the browser would.
func benchSealedBid(b *testing.B, app *App, a trading.Actor, lot int64, price string) *ecdh.PrivateKey {
	b.Helper()
	ctx := context.Background()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := app.Bidding.RegisterBidKey(ctx, a, bidding.BidKeyInput{
		PublicKey: base64.StdEncoding.EncodeToString(sealed.MarshalPublicKey(priv.PublicKey()))}); err != nil {
		b.Fatal(err)
	}
	up, err := app.Bidding.StartBid(ctx, a, lot, bidding.StartBidInput{Files: 1, Device: "dev-" + a.Username}, "198.51.100.7")
	if err != nil {
		b.Fatal(err)
	}
	ck, err := sealed.NewContentKey(up.Ref)
	if err != nil {
		b.Fatal(err)
	}
	form, _ := json.Marshal(map[string]string{"price": price, "period": "365", "quality": "合格", "manager": "李四"})
	file := make([]byte, 256<<10)
	rand.Read(file)
	for i, plain := range [][]byte{form, file} {
		var env bytes.Buffer
		if _, err := sealed.Seal(&env, bytes.NewReader(plain), priv.PublicKey(), ck, sealed.SealOptions{Part: i}); err != nil {
			b.Fatal(err)
		}
		if err := app.Bidding.PutPiece(ctx, a, up.BidID, i, 1, bytes.NewReader(env.Bytes()), int64(env.Len())); err != nil {
			b.Fatal(err)
		}
		if _, err := app.Bidding.CompletePart(ctx, a, up.BidID, i); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := app.Bidding.Finalize(ctx, a, up.BidID); err != nil {
		b.Fatal(err)
	}
	return priv
}
