package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// instance is one "server": its own connection pool and hub.
type instance struct {
	db  *gorm.DB
	hub *live.Hub
}

func newInstance(t testing.TB, url string, opt live.Options) *instance {
	t.Helper()
	db, err := trading.OpenDB(url)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	h := live.NewHub(db, url, opt)
	h.Start(context.Background())
	t.Cleanup(func() { h.Close(); sqlDB.Close() })
	return &instance{db: db, hub: h}
}

type payload struct {
	N int `json:"n"`
	W int `json:"w,omitempty"`
}

// tryPublish commits one event in its own transaction.
func tryPublish(db *gorm.DB, topic string, n int) (int64, error) {
	var seq int64
	err := trading.Transact(context.Background(), db, func(tx *gorm.DB) error {
		var err error
		seq, err = live.Publish(context.Background(), tx, topic, "tick", payload{N: n})
		return err
	})
	return seq, err
}

func publish(t testing.TB, db *gorm.DB, topic string, n int) int64 {
	t.Helper()
	seq, err := tryPublish(db, topic, n)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// collect reads n events from sub, failing if the channel closes or
// nothing arrives for 20 s (a hang guard, not a speed assertion).
func collect(t *testing.T, sub *live.Subscription, n int) []*live.Event {
	t.Helper()
	var out []*live.Event
	for len(out) < n {
		select {
		case e, ok := <-sub.C:
			if !ok {
				t.Fatalf("subscription closed after %d of %d events (dropped: %v)", len(out), n, sub.Dropped())
			}
			out = append(out, e)
		case <-time.After(20 * time.Second):
			t.Fatalf("got %d of %d events", len(out), n)
		}
	}
	return out
}

// assertRun checks that evs are exactly seq first, first+1, … in order.
func assertRun(t *testing.T, evs []*live.Event, first int64) {
	t.Helper()
	for i, e := range evs {
		if e.Seq != first+int64(i) {
			t.Fatalf("event %d has seq %d, want %d (no gaps, no repeats, in order)", i, e.Seq, first+int64(i))
		}
	}
}

func subscribe(t *testing.T, h *live.Hub, topic string) (*live.Subscription, int64) {
	t.Helper()
	sub, from, err := h.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return sub, from
}

func TestPublishRejectsBadNames(t *testing.T) {
	t.Parallel()
	a := newInstance(t, testenv.DatabaseURL(t), live.Options{})
	for _, c := range []struct{ topic, kind string }{
		{"", "tick"}, {"lot 1", "tick"}, {"lot/1", "Tick"}, {"lot/1", "a\nb"}, {strings.Repeat("x", 201), "tick"}, {"lot/1", ""},
	} {
		err := a.db.Transaction(func(tx *gorm.DB) error {
			_, err := live.Publish(context.Background(), tx, c.topic, c.kind, 1)
			return err
		})
		if !errors.Is(err, live.ErrBadName) {
			t.Errorf("Publish(%q, %q) = %v, want ErrBadName", c.topic, c.kind, err)
		}
	}
}

// Many transactions publish on one topic at once, a fifth of them rolled
// back: the committed events are numbered 1..n without a gap, in commit
// order (each writer sees its own numbers rise, and times never go back),
// and a subscriber gets each exactly once, in order, and never a rolled-back one.
func TestPublishConcurrentGapFreeInOrder(t *testing.T) {
	t.Parallel()
	a := newInstance(t, testenv.DatabaseURL(t), live.Options{Buffer: 1000}) // read at the end
	sub, from := subscribe(t, a.hub, "lot/1")
	if from != 0 {
		t.Fatalf("from = %d on an empty topic", from)
	}
	const writers, each = 16, 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := 0
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var prev int64
			for i := 0; i < each; i++ {
				rollback := i%5 == 4
				var seq int64
				err := trading.Transact(context.Background(), a.db, func(tx *gorm.DB) error {
					var err error
					if seq, err = live.Publish(context.Background(), tx, "lot/1", "tick", payload{N: i, W: w + 1}); err != nil {
						return err
					}
					if rollback {
						return errRollback
					}
					return nil
				})
				if rollback {
					if err != errRollback {
						errs <- fmt.Errorf("rollback: %v", err)
						return
					}
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if seq <= prev {
					errs <- fmt.Errorf("writer %d: seq %d after %d", w, seq, prev)
					return
				}
				prev = seq
				mu.Lock()
				committed++
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if committed != writers*each*4/5 {
		t.Fatalf("committed %d", committed)
	}
	last, err := live.Last(context.Background(), a.db, "lot/1")
	if err != nil || last != int64(committed) {
		t.Fatalf("Last = %d, %v; want %d", last, err, committed)
	}
	all, err := live.Since(context.Background(), a.db, "lot/1", 0, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != committed {
		t.Fatalf("table holds %d events, want %d", len(all), committed)
	}
	assertRun(t, all, 1)
	for i := 1; i < len(all); i++ {
		if all[i].At.Before(all[i-1].At) {
			t.Fatalf("seq %d published at %s, before seq %d at %s", all[i].Seq, all[i].At, all[i-1].Seq, all[i-1].At)
		}
	}
	got := collect(t, sub, committed)
	assertRun(t, got, 1)
	seen := map[[2]int]bool{}
	for _, e := range got {
		var p payload
		if err := json.Unmarshal(e.Data, &p); err != nil {
			t.Fatal(err)
		}
		if p.N%5 == 4 {
			t.Fatalf("rolled-back event delivered: %s", e.Data)
		}
		if seen[[2]int{p.W, p.N}] {
			t.Fatalf("event delivered twice: %s", e.Data)
		}
		seen[[2]int{p.W, p.N}] = true
	}
	select {
	case e := <-sub.C:
		t.Fatalf("an extra event: %d", e.Seq)
	case <-time.After(300 * time.Millisecond):
	}
}

var errRollback = errors.New("roll back")

// A rolled-back transaction publishes nothing: its number is reused by the
// next commit and no subscriber hears of it.
func TestRollbackPublishesNothing(t *testing.T) {
	t.Parallel()
	a := newInstance(t, testenv.DatabaseURL(t), live.Options{})
	sub, _ := subscribe(t, a.hub, "hall/7")
	err := a.db.Transaction(func(tx *gorm.DB) error {
		if _, err := live.Publish(context.Background(), tx, "hall/7", "secret", payload{N: 99}); err != nil {
			return err
		}
		return errRollback
	})
	if err != errRollback {
		t.Fatal(err)
	}
	if last, _ := live.Last(context.Background(), a.db, "hall/7"); last != 0 {
		t.Fatalf("Last after rollback = %d", last)
	}
	if seq := publish(t, a.db, "hall/7", 1); seq != 1 {
		t.Fatalf("first committed seq = %d", seq)
	}
	e := collect(t, sub, 1)[0]
	if e.Seq != 1 || e.Kind != "tick" || string(e.Data) != `{"n": 1}` {
		t.Fatalf("got %d %s %s", e.Seq, e.Kind, e.Data)
	}
}

// Two instances on one database: a subscriber on B sees every event
// published through A, in order, exactly once, and so does one on A.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	url := testenv.DatabaseURL(t)
	a, b := newInstance(t, url, live.Options{}), newInstance(t, url, live.Options{})
	publish(t, a.db, "lot/2", 0) // history before anyone watched
	subB, fromB := subscribe(t, b.hub, "lot/2")
	subA, fromA := subscribe(t, a.hub, "lot/2")
	if fromA != 1 || fromB != 1 {
		t.Fatalf("from = %d, %d; want 1", fromA, fromB)
	}
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := tryPublish(a.db, "lot/2", i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	assertRun(t, collect(t, subB, writers*each), 2)
	assertRun(t, collect(t, subA, writers*each), 2)
	if st := b.hub.Stats(); st.Delivered != writers*each || st.Subscribers != 1 {
		t.Fatalf("B's stats: %+v", st)
	}
}

// A subscriber that stops reading is dropped when its buffer is full; the
// others get every event regardless.
func TestSlowSubscriberDropped(t *testing.T) {
	t.Parallel()
	a := newInstance(t, testenv.DatabaseURL(t), live.Options{Buffer: 4})
	slow, _ := subscribe(t, a.hub, "lot/3")
	fast, _ := subscribe(t, a.hub, "lot/3")
	var evs []*live.Event
	for i := 1; i <= 20; i++ {
		publish(t, a.db, "lot/3", i)
		evs = append(evs, collect(t, fast, 1)...) // in step: never more than one queued
	}
	assertRun(t, evs, 1)
	n := 0
	for range slow.C { // closed once dropped
		n++
	}
	if !slow.Dropped() || n != 4 {
		t.Fatalf("slow subscriber: dropped %v after %d buffered events", slow.Dropped(), n)
	}
	if fast.Dropped() {
		t.Fatal("the fast subscriber was dropped")
	}
	if st := a.hub.Stats(); st.Dropped != 1 || st.Subscribers != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

// The LISTEN connection is killed; what is published while it is down is
// read after the reconnection (the backlog handler), with the safety poll
// off so that nothing else could have found it.
func TestListenerReconnectLosesNothing(t *testing.T) {
	t.Parallel()
	url := testenv.DatabaseURL(t)
	a := newInstance(t, url, live.Options{ReconnectDelay: 300 * time.Millisecond, Poll: -1})
	sub, _ := subscribe(t, a.hub, "lot/4")
	waitFor(t, "listening", func() bool { return a.hub.Stats().Listening })
	for i := 0; i < 3; i++ {
		publish(t, a.db, "lot/4", i)
	}
	assertRun(t, collect(t, sub, 3), 1)

	var killed bool
	if err := a.db.Raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'ggzy-live' AND datname = current_database()`).Row().Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the LISTEN backend: %v %v", killed, err)
	}
	waitFor(t, "the listener to notice", func() bool { return !a.hub.Stats().Listening })
	for i := 3; i < 6; i++ {
		publish(t, a.db, "lot/4", i) // nobody is listening now
	}
	waitFor(t, "the reconnection", func() bool { st := a.hub.Stats(); return st.Connects == 2 && st.Listening })
	for i := 6; i < 9; i++ {
		publish(t, a.db, "lot/4", i)
	}
	assertRun(t, collect(t, sub, 6), 4)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct{ id, event, data string }

// sseClient connects to url with the given Last-Event-ID (if any) and
// parses events onto a channel; cancel disconnects.
type sseClient struct {
	resp     *http.Response
	events   chan sseEvent
	cancel   context.CancelFunc
	comments atomic.Int64 // heartbeats
}

func connect(t *testing.T, url, lastID string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	c := &sseClient{resp: resp, events: make(chan sseEvent, 100000), cancel: cancel}
	go func() {
		defer close(c.events)
		sc := bufio.NewScanner(resp.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.event != "" || e.data != "" {
					c.events <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, ":"):
				c.comments.Add(1)
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.data = line[6:]
			}
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() { c.cancel(); c.resp.Body.Close() }

// next returns the next event that is not the clock.
func (c *sseClient) next(t *testing.T) sseEvent {
	t.Helper()
	for {
		select {
		case e, ok := <-c.events:
			if !ok {
				t.Fatal("stream ended")
			}
			if e.event == "clock" {
				continue
			}
			return e
		case <-time.After(20 * time.Second):
			t.Fatal("no event")
		}
	}
}

// ids reads n events and returns their ids as numbers.
func (c *sseClient) ids(t *testing.T, n int) []int64 {
	t.Helper()
	var out []int64
	for len(out) < n {
		e := c.next(t)
		id, err := strconv.ParseInt(e.id, 10, 64)
		if err != nil || e.event != "tick" {
			t.Fatalf("event %+v", e)
		}
		out = append(out, id)
	}
	return out
}

func assertIDs(t *testing.T, ids []int64, first int64) {
	t.Helper()
	for i, id := range ids {
		if id != first+int64(i) {
			t.Fatalf("ids %v: want a run from %d", ids, first)
		}
	}
}

func serve(t *testing.T, h *live.Hub) *httptest.Server {
	e := echo.New()
	e.GET("/live/:topic", h.Stream(func(c echo.Context) (string, error) {
		if c.Param("topic") == "secret" {
			return "", echo.NewHTTPError(http.StatusForbidden)
		}
		return "lot/" + c.Param("topic"), nil
	}))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

// SSE over real HTTP: the stream's format, a reconnection with
// Last-Event-ID (header or query) that gets exactly the missed events, and
// the end of every stream when the hub closes.
func TestStreamOverHTTP(t *testing.T) {
	t.Parallel()
	url := testenv.DatabaseURL(t)
	a, b := newInstance(t, url, live.Options{}), newInstance(t, url, live.Options{})
	srv := serve(t, b.hub) // the watcher is on B, the publisher on A

	if resp, err := http.Get(srv.URL + "/live/secret"); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("refused topic: %v %v", resp.StatusCode, err)
	}

	c1 := connect(t, srv.URL+"/live/5", "")
	if ct := c1.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	clock := <-c1.events
	var now struct{ Now int64 }
	if clock.event != "clock" || json.Unmarshal([]byte(clock.data), &now) != nil || now.Now == 0 {
		t.Fatalf("first event %+v, want the server's clock", clock)
	}
	waitFor(t, "the subscription", func() bool { return b.hub.Stats().Subscribers == 1 })
	for i := 1; i <= 5; i++ {
		publish(t, a.db, "lot/5", i)
	}
	e := c1.next(t)
	if e.id != "1" || e.event != "tick" || e.data != `{"n": 1}` {
		t.Fatalf("event %+v", e)
	}
	assertIDs(t, c1.ids(t, 4), 2)
	c1.close()
	waitFor(t, "the disconnection", func() bool { return b.hub.Stats().Subscribers == 0 })

	for i := 6; i <= 10; i++ {
		publish(t, a.db, "lot/5", i)
	}
	c2 := connect(t, srv.URL+"/live/5", "5")
	assertIDs(t, c2.ids(t, 5), 6)
	publish(t, a.db, "lot/5", 11)
	assertIDs(t, c2.ids(t, 1), 11)
	c2.close()

	// The query parameter (a page's first connection), and the header
	// winning over it (EventSource's reconnection of that page).
	c3 := connect(t, srv.URL+"/live/5?last_event_id=8", "")
	assertIDs(t, c3.ids(t, 3), 9)
	c4 := connect(t, srv.URL+"/live/5?last_event_id=2", "10")
	assertIDs(t, c4.ids(t, 1), 11)
	publish(t, a.db, "lot/5", 12)
	assertIDs(t, c3.ids(t, 1), 12)
	assertIDs(t, c4.ids(t, 1), 12)

	// Closing the hub (server shutdown) ends the streams.
	b.hub.Close()
	for _, c := range []*sseClient{c3, c4} {
		select {
		case _, ok := <-c.events:
			if ok {
				t.Fatal("an event after the hub closed")
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the stream did not end when the hub closed")
		}
	}
}

// A reconnection while events keep coming: the catch-up from the table and
// the live feed join without a gap or a repeat.
func TestStreamCatchUpWhilePublishing(t *testing.T) {
	t.Parallel()
	url := testenv.DatabaseURL(t)
	// The publisher runs flat out, faster than a handler under -race on a
	// busy machine may write: a big buffer, so that no client is dropped
	// (that is TestSlowSubscriberDropped) and each keeps its one stream.
	a, b := newInstance(t, url, live.Options{}), newInstance(t, url, live.Options{Buffer: 1 << 16})
	srv := serve(t, b.hub)
	for i := 1; i <= 50; i++ {
		publish(t, a.db, "lot/6", i)
	}
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 50
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
				if _, err := tryPublish(a.db, "lot/6", n+1); err != nil {
					t.Error(err)
					done <- n
					return
				}
				n++
			}
		}
	}()
	var clients []*sseClient
	for _, last := range []string{"0", "10", "25", "49"} {
		clients = append(clients, connect(t, srv.URL+"/live/6", last))
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	total := <-done
	if st := b.hub.Stats(); st.Dropped != 0 {
		t.Fatalf("stats: %+v", st)
	}
	for i, last := range []int64{0, 10, 25, 49} {
		assertIDs(t, clients[i].ids(t, int(int64(total)-last)), last+1)
	}
}

// Heartbeats keep an idle stream alive; a client that claims more than
// the database has (a restored database, a forged id) is told to reset,
// and then gets what comes.
func TestStreamHeartbeatAndReset(t *testing.T) {
	t.Parallel()
	a := newInstance(t, testenv.DatabaseURL(t), live.Options{Heartbeat: 50 * time.Millisecond})
	srv := serve(t, a.hub)
	publish(t, a.db, "lot/8", 1)
	publish(t, a.db, "lot/8", 2)
	c := connect(t, srv.URL+"/live/8", "99")
	if e := c.next(t); e.event != "reset" || e.data != "3" {
		t.Fatalf("event %+v, want a reset from 3", e)
	}
	waitFor(t, "two heartbeats", func() bool { return c.comments.Load() >= 2 })
	publish(t, a.db, "lot/8", 3)
	assertIDs(t, c.ids(t, 1), 3)
}

// A stream ends after MaxStream; reconnecting from its last id loses nothing.
func TestStreamMaxLifetime(t *testing.T) {
	t.Parallel()
	a := newInstance(t, testenv.DatabaseURL(t), live.Options{MaxStream: 300 * time.Millisecond})
	srv := serve(t, a.hub)
	// The event is in the table before the stream starts, so the catch-up
	// delivers it before the lifetime's timer is set: a slow machine cannot
	// end the stream before the event (the CI failure of e3f5411).
	publish(t, a.db, "lot/9", 1)
	c := connect(t, srv.URL+"/live/9", "0")
	assertIDs(t, c.ids(t, 1), 1)
	select {
	case _, ok := <-c.events:
		if ok {
			t.Fatal("an unexpected event")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the stream did not end")
	}
	publish(t, a.db, "lot/9", 2)
	c2 := connect(t, srv.URL+"/live/9", "1")
	assertIDs(t, c2.ids(t, 1), 2)
}

// recorder is a Watcher that counts its calls and keeps the payloads.
type recorder struct {
	mu       sync.Mutex
	up, down int
	payloads []string
}

func (r *recorder) Notify(p string) { r.mu.Lock(); r.payloads = append(r.payloads, p); r.mu.Unlock() }
func (r *recorder) Up()             { r.mu.Lock(); r.up++; r.mu.Unlock() }
func (r *recorder) Down()           { r.mu.Lock(); r.down++; r.mu.Unlock() }
func (r *recorder) state() (int, int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.up, r.down, slices.Clone(r.payloads)
}

// A Watcher on another channel of the hub's connection (the session cache's
// ggzy_auth) hears its notifications, is told Down when the connection is
// lost and Up once it listens again, and Down when the hub closes.
func TestWatcherOnTheHubsConnection(t *testing.T) {
	t.Parallel()
	url := testenv.DatabaseURL(t)
	db, err := trading.OpenDB(url)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	h := live.NewHub(db, url, live.Options{ReconnectDelay: 300 * time.Millisecond, Poll: -1})
	w := &recorder{}
	h.Watch("test_watch", w)
	h.Start(context.Background())
	waitFor(t, "Up", func() bool { up, _, _ := w.state(); return up == 1 })
	if err := db.Exec(`SELECT pg_notify('test_watch', '42')`).Error; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the notification", func() bool { _, _, p := w.state(); return len(p) == 1 && p[0] == "42" })

	var killed bool
	if err := db.Raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'ggzy-live' AND datname = current_database()`).Row().Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the LISTEN backend: %v %v", killed, err)
	}
	waitFor(t, "Down, then Up again", func() bool { up, down, _ := w.state(); return down >= 1 && up == 2 })
	if err := db.Exec(`SELECT pg_notify('test_watch', '43')`).Error; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the notification after the reconnection", func() bool { _, _, p := w.state(); return len(p) == 2 && p[1] == "43" })
	_, before, _ := w.state()
	h.Close()
	if _, down, _ := w.state(); down <= before {
		t.Fatalf("Close: no Down call (%d before, %d after)", before, down)
	}
}
