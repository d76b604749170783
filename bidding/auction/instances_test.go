package auction_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/cmd/ggzy/platform"
	"github.com/ggzy/ggzy/cmd/ggzy/platform/platformtest"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

// instance is one "server" on the shared database: its own pool, its own
// wired services and its own live hub.
type instance struct {
	*platformtest.Env
	hub *live.Hub
}

func newInstance(t *testing.T, url string, st *trading.Storage, clock *trading.ManualClock) *instance {
	t.Helper()
	db, err := trading.OpenDB(url)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	p := platform.New(db, clock, st, nil, "")
	p.Trading.Passwords = testenv.CheapPasswords
	h := live.NewHub(db, url, live.Options{})
	h.Start(context.Background())
	t.Cleanup(func() { h.Close(); sqlDB.Close() })
	return &instance{Env: &platformtest.Env{Platform: p, Storage: st, Clock: clock}, hub: h}
}

// Two instances on one database: a watcher on B sees every quote accepted
// on A (and on B), in order; the end of the countdown is settled once
// although both instances try, many times, at once; the record is stored
// once.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	url := testenv.DatabaseURL(t)
	s3 := testenv.Storage(t)
	st, err := trading.NewStorage(trading.StorageConfig{Endpoint: s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Bucket: s3.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	clock := trading.NewManualClock(platformtest.Start)
	A, B := newInstance(t, url, st, clock), newInstance(t, url, st, clock)
	for _, in := range []*instance{A, B} {
		in.Trading.Book.L8MaxQuotesPerSecond = 0
	}
	e := newEnvOn(t, A.Env, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	x := e.bidder("福建甲置业有限公司", true)
	y := e.bidder("福建乙置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	sub, from, err := B.hub.Subscribe(context.Background(), "auction/"+itoa(e.Lot))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	// 20 quotes alternating bidders and instances, each at a later instant.
	const n = 20
	at := sh(3, 24, 10, 0, 0)
	for i := 0; i < n; i++ {
		svc, who := A.Auction, x
		if i%2 == 1 {
			svc, who = B.Auction, y
		}
		at = at.Add(time.Minute)
		e.at(at)
		if _, err := svc.Quote(e.ctx, who, e.Lot, auction.QuoteInput{Amount: fmt.Sprint(5000000 + i*100000), Key: fmt.Sprintf("two-%d", i)}); err != nil {
			t.Fatalf("quote %d: %v", i, err)
		}
	}
	for i := 0; i < n; i++ {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				t.Fatalf("subscription closed after %d events", i)
			}
			var q auction.QuoteEvent
			if err := json.Unmarshal(ev.Data, &q); err != nil {
				t.Fatal(err)
			}
			if ev.Seq != from+int64(i)+1 || ev.Kind != "quote" || q.Amount.IntPart() != int64(5000000+i*100000) {
				t.Fatalf("event %d on B: seq %d kind %s amount %v", i, ev.Seq, ev.Kind, q.Amount)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("B's watcher got %d of %d quotes", i, n)
		}
	}

	for _, who := range []trading.Actor{x, y} {
		if err := B.Auction.WantTimed(e.ctx, who, e.Lot); err != nil {
			t.Fatal(err)
		}
	}
	e.at(listingEnd)
	if _, err := A.Auction.SettleDue(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.at(e.lot().CountdownEnd.Add(time.Millisecond))
	var wg sync.WaitGroup
	var mu sync.Mutex
	steps := 0
	for i := 0; i < 8; i++ {
		for _, in := range []*instance{A, B} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := in.Auction.SettleDue(e.ctx)
				if err != nil {
					t.Error(err)
				}
				if err := in.Auction.PublishRecords(e.ctx); err != nil {
					t.Error(err)
				}
				mu.Lock()
				steps += k
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	if steps != 1 {
		t.Fatalf("%d settlements of one countdown end", steps)
	}
	for what, sql := range map[string]string{
		"settled entries":      `SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'settled'`,
		"result announcements": `SELECT count(*) FROM announcements WHERE type = 'result' AND project_id = (SELECT project_id FROM lots WHERE id = ?)`,
		"record audits":        `SELECT count(*) FROM audit_events WHERE action = 'auction.record' AND object_id = ?`,
	} {
		arg := any(e.Lot)
		if what == "record audits" {
			arg = itoa(e.Lot)
		}
		if c := e.count(sql, arg); c != 1 {
			t.Fatalf("%d %s", c, what)
		}
	}
}

// L8.max_quotes_per_second holds across instances: a bidder who sends its
// quotes to two instances gets no more through than to one (the count is
// a row per lot, bidder and second of ggzy_now() in the shared database).
// A double click is never over the limit; the next second counts afresh;
// concurrent quotes through both instances pass exactly the limit.
func TestRateLimitAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testenv.DatabaseURL(t)
	s3 := testenv.Storage(t)
	st, err := trading.NewStorage(trading.StorageConfig{Endpoint: s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Bucket: s3.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	clock := trading.NewManualClock(platformtest.Start)
	A, B := newInstance(t, url, st, clock), newInstance(t, url, st, clock)
	const rate = 5
	for _, in := range []*instance{A, B} {
		in.Trading.Book.L8MaxQuotesPerSecond = rate
	}
	e := newEnvOn(t, A.Env, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	x := e.bidder("福建甲置业有限公司", true)
	y := e.bidder("福建乙置业有限公司", true)
	sec := sh(3, 24, 10, 0, 0)
	e.at(sec.Add(100 * time.Millisecond)) // the database's clock stands still within one second
	amount := 5000000
	quote := func(in *instance, who trading.Actor, key string) error {
		_, err := in.Auction.Quote(e.ctx, who, e.Lot, auction.QuoteInput{Amount: fmt.Sprint(amount), Key: key})
		if err == nil {
			amount += 100000
		}
		return err
	}
	// Five through A and B alternately pass; the sixth is refused on either.
	for i := 0; i < rate; i++ {
		in := A
		if i%2 == 1 {
			in = B
		}
		if err := quote(in, x, fmt.Sprintf("x%d", i)); err != nil {
			t.Fatalf("quote %d: %v", i, err)
		}
	}
	for _, in := range []*instance{A, B} {
		err := quote(in, x, "x-over")
		if te := trading.AsError(err); te == nil || te.Status() != 429 || te.Rule != "L8" {
			t.Fatalf("over the limit on one of two instances: %v", err)
		}
	}
	// A double click of an accepted quote is answered, not refused.
	r, err := B.Auction.Quote(e.ctx, x, e.Lot, auction.QuoteInput{Amount: "5000000", Key: "x0"})
	if err != nil || !r.Duplicate {
		t.Fatalf("a repeat over the limit: %+v %v", r, err)
	}
	// Another bidder has its own count; the next second starts afresh.
	if err := quote(B, y, "y0"); err != nil {
		t.Fatal(err)
	}
	e.at(sec.Add(time.Second))
	if err := quote(B, x, "x-next"); err != nil {
		t.Fatalf("the next second: %v", err)
	}

	// 20 at once through both instances in one second: exactly the limit
	// passes the count (accepted, or refused by a rule: both count).
	e.at(sec.Add(2 * time.Second))
	var wg sync.WaitGroup
	var mu sync.Mutex
	limited, other := 0, 0
	for i := 0; i < 20; i++ {
		in := []*instance{A, B}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := in.Auction.Quote(e.ctx, y, e.Lot, auction.QuoteInput{Amount: fmt.Sprint(9000000 + i*100000), Key: fmt.Sprintf("burst-%d", i)})
			mu.Lock()
			defer mu.Unlock()
			if te := trading.AsError(err); te != nil && te.Status() == 429 {
				limited++
			} else {
				other++
			}
		}()
	}
	wg.Wait()
	if other != rate || limited != 20-rate {
		t.Fatalf("%d passed the limit, %d refused as too fast; want %d and %d", other, limited, rate, 20-rate)
	}
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'refused' AND detail LIKE '%过于频繁%'`, e.Lot); n != int64(2+20-rate) {
		t.Fatalf("%d refusals for speed recorded", n)
	}
}
