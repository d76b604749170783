package live

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
	"gorm.io/gorm"
)

// Options tune a Hub; the zero value is the production setting.
type Options struct {
	// Buffer is how many events a subscriber may fall behind before it is
	// dropped (default 256).
	Buffer int
	// ReconnectDelay is the wait before the LISTEN connection is opened
	// again after it was lost (default 1 s).
	ReconnectDelay time.Duration
	// Poll is how often every watched topic is read even without a
	// notification, a safety net (default 5 s; negative: never).
	Poll time.Duration
	// Heartbeat is the interval of the SSE comment lines that keep proxies
	// and the browser from timing the stream out (default 15 s).
	Heartbeat time.Duration
	// MaxStream ends a stream after this long (±10 %), so that clients
	// spread again over the instances after one restarted; the browser
	// reconnects and catches up (default 30 min; negative: never).
	MaxStream time.Duration
	// Log receives the listener's errors (default: discarded).
	Log *slog.Logger
}

// Hub is the one LISTEN connection of an instance, fanned out to its
// in-process subscribers. On a notification it reads the topic's new rows
// once and hands the same events to every subscriber of the topic, in
// sequence order, each exactly once.
type Hub struct {
	db      *gorm.DB
	connURL string
	opt     Options
	log     *slog.Logger

	mu     sync.Mutex
	topics map[string]*topicState
	closed bool

	wake   chan struct{} // a topic turned dirty
	cancel context.CancelFunc
	done   chan struct{} // closed when Close is called
	wg     sync.WaitGroup

	offset atomic.Int64 // PostgreSQL's clock minus this machine's, ns

	connects, drops, delivered, fetches atomic.Int64
	listening                           atomic.Bool

	watchers map[string]Watcher // other channels on the same connection (Watch)
	started  bool               // Start was called: watchers is read by the listener
}

// Watcher receives the notifications of a channel other than the live
// events' (Watch), on the hub's LISTEN connection. Up is called once LISTEN
// on the channel is in place, after every (re)connection; Down when the
// connection failed or was lost: notifications sent between Down and the
// next Up are missed, so a cache that a Watcher keeps fresh must not be
// trusted in between. The calls come from the listener's goroutine, one at
// a time, and must not block.
type Watcher interface {
	Notify(payload string)
	Up()
	Down()
}

// Watch listens on channel too, for w. Call it before Start.
func (h *Hub) Watch(channel string, w Watcher) {
	if h.started {
		panic("live: Watch after Start")
	}
	if h.watchers == nil {
		h.watchers = map[string]Watcher{}
	}
	h.watchers[channel] = w
}

// watchHandler adapts a Watcher to pgxlisten.
type watchHandler struct{ w Watcher }

func (w watchHandler) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	w.w.Notify(n.Payload)
	return nil
}

func (w watchHandler) HandleBacklog(context.Context, string, *pgx.Conn) error {
	w.w.Up()
	return nil
}

// topicState is what the hub knows of a watched topic. cursor is the last
// seq handed to subscribers (-1 until it has been read from the table).
type topicState struct {
	cursor int64
	dirty  bool
	ready  chan struct{} // closed once cursor is known
	subs   map[*Subscription]struct{}
}

// Subscription is one subscriber's feed of a topic. C delivers events in
// sequence order; it is closed when the subscriber fell Buffer events
// behind (Dropped reports true), when the hub closes, or on Close.
type Subscription struct {
	C       <-chan *Event
	c       chan *Event
	hub     *Hub
	topic   string
	dropped atomic.Bool
	closed  bool  // under hub.mu
	from    int64 // under hub.mu: the topic's cursor when registered
}

// Dropped reports whether the hub dropped the subscriber for being slow.
func (s *Subscription) Dropped() bool { return s.dropped.Load() }

// Close ends the subscription; C is closed.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s)
}

// NewHub returns a hub reading events through db and listening on a
// dedicated connection opened from connURL. Start it with Start.
func NewHub(db *gorm.DB, connURL string, opt Options) *Hub {
	if opt.Buffer <= 0 {
		opt.Buffer = 256
	}
	if opt.ReconnectDelay == 0 {
		opt.ReconnectDelay = time.Second
	}
	if opt.Poll == 0 {
		opt.Poll = 5 * time.Second
	}
	if opt.MaxStream == 0 {
		opt.MaxStream = 30 * time.Minute
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 15 * time.Second
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{db: db, connURL: connURL, opt: opt, log: log, topics: map[string]*topicState{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Start runs the listener and the reader until Close (or until ctx ends).
func (h *Hub) Start(ctx context.Context) {
	h.started = true
	ctx, cancel := context.WithCancel(ctx)
	h.cancel = cancel
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			cfg, err := pgx.ParseConfig(h.connURL)
			if err != nil {
				return nil, err
			}
			// So that operators (and the tests) can find the LISTEN backend.
			cfg.RuntimeParams["application_name"] = "ggzy-live"
			return pgx.ConnectConfig(ctx, cfg)
		},
		// Called when the connection failed or was lost (notifications
		// never return errors), so the hub is not listening until the next
		// backlog call.
		LogError: func(ctx context.Context, err error) {
			h.listening.Store(false)
			for _, w := range h.watchers {
				w.Down()
			}
			if ctx.Err() == nil {
				h.log.Warn("live: listener", "err", err)
			}
		},
		ReconnectDelay: h.opt.ReconnectDelay,
	}
	l.Handle(Channel, listenHandler{h})
	for ch, w := range h.watchers {
		l.Handle(ch, watchHandler{w})
	}
	h.wg.Add(2)
	go func() { defer h.wg.Done(); l.Listen(ctx) }()
	go func() { defer h.wg.Done(); h.run(ctx) }()
}

// Close stops the hub and closes every subscription, which ends every
// stream (call it when the server shuts down: http.Server.Shutdown does
// not end streaming requests by itself).
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.done)
	for _, t := range h.topics {
		for s := range t.subs {
			h.removeLocked(s)
		}
	}
	h.mu.Unlock()
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
	for _, w := range h.watchers {
		w.Down() // nobody listens for them any more
	}
}

// Stats are the hub's counters.
type Stats struct {
	Listening   bool  // the LISTEN connection is up
	Connects    int64 // LISTEN connections made (1 + reconnects)
	Topics      int   // topics with subscribers
	Subscribers int
	Delivered   int64 // events handed to subscribers
	Dropped     int64 // subscribers dropped for being slow
	Fetches     int64 // reads of new events
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	st := Stats{Topics: len(h.topics)}
	for _, t := range h.topics {
		st.Subscribers += len(t.subs)
	}
	h.mu.Unlock()
	st.Listening, st.Connects, st.Delivered, st.Dropped, st.Fetches =
		h.listening.Load(), h.connects.Load(), h.delivered.Load(), h.drops.Load(), h.fetches.Load()
	return st
}

// Now is PostgreSQL's clock as last measured by the hub: the one clock
// pages show.
func (h *Hub) Now() time.Time { return time.Now().Add(time.Duration(h.offset.Load())) }

// ErrClosed is returned by Subscribe after Close.
var ErrClosed = errors.New("live: hub closed")

// Subscribe registers a subscriber of topic. from is the last seq handed
// out before the subscriber was registered: C delivers every event after
// from, and only those. A client that saw up to n < from reads (n, from]
// with Since first.
func (h *Hub) Subscribe(ctx context.Context, topic string) (sub *Subscription, from int64, err error) {
	if !topicRe.MatchString(topic) {
		return nil, 0, ErrBadName
	}
	c := make(chan *Event, h.opt.Buffer)
	sub = &Subscription{C: c, c: c, hub: h, topic: topic}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, 0, ErrClosed
	}
	t := h.topics[topic]
	if t == nil {
		t = &topicState{cursor: -1, dirty: true, ready: make(chan struct{}), subs: map[*Subscription]struct{}{}}
		h.topics[topic] = t
		h.poke()
	}
	t.subs[sub] = struct{}{}
	sub.from = t.cursor // -1 until the topic's cursor is read; set then
	ready := t.ready
	h.mu.Unlock()
	select {
	case <-ready:
	case <-ctx.Done():
		sub.Close()
		return nil, 0, ctx.Err()
	case <-h.done:
		return nil, 0, ErrClosed
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if sub.closed {
		return nil, 0, ErrClosed
	}
	return sub, sub.from, nil
}

// removeLocked unregisters s and closes its channel; h.mu is held.
func (h *Hub) removeLocked(s *Subscription) {
	if s.closed {
		return
	}
	s.closed = true
	close(s.c)
	if t := h.topics[s.topic]; t != nil {
		delete(t.subs, s)
		if len(t.subs) == 0 {
			delete(h.topics, s.topic)
		}
	}
}

func (h *Hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// listenHandler receives the notifications on the listener's goroutine:
// it only marks the topic dirty, so a burst of notifications costs one read.
type listenHandler struct{ h *Hub }

func (l listenHandler) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	topic, seqText, ok := strings.Cut(n.Payload, " ")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	h := l.h
	if !ok || err != nil {
		// Not ours to fail on (and an error here would read as a lost connection).
		h.log.Warn("live: bad notification", "payload", n.Payload)
		return nil
	}
	h.mu.Lock()
	if t := h.topics[topic]; t != nil && (t.cursor < 0 || seq > t.cursor) {
		t.dirty = true
		h.poke()
	}
	h.mu.Unlock()
	return nil
}

// HandleBacklog runs after every (re)connection, once LISTEN is in place:
// whatever was published while the hub was not listening is read now.
func (l listenHandler) HandleBacklog(context.Context, string, *pgx.Conn) error {
	h := l.h
	h.connects.Add(1)
	h.listening.Store(true)
	h.markAll()
	return nil
}

func (h *Hub) markAll() {
	h.mu.Lock()
	for _, t := range h.topics {
		t.dirty = true
	}
	h.mu.Unlock()
	h.poke()
}

// run is the reader: one goroutine, so each topic's events are read and
// handed out in order, and never twice.
func (h *Hub) run(ctx context.Context) {
	var poll <-chan time.Time
	if h.opt.Poll > 0 {
		tk := time.NewTicker(h.opt.Poll)
		defer tk.Stop()
		poll = tk.C
	}
	h.measureClock(ctx)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		case <-poll:
			h.measureClock(ctx)
			h.markAll()
			continue // markAll poked
		case <-retry.C:
		}
		if err := h.drain(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("live: read events", "err", err)
			retry.Reset(200 * time.Millisecond)
		}
	}
}

// drain reads every dirty topic until none is left.
func (h *Hub) drain(ctx context.Context) error {
	for {
		h.mu.Lock()
		var topic string
		var cursor int64
		for name, t := range h.topics {
			if t.dirty {
				topic, cursor = name, t.cursor
				t.dirty = false
				break
			}
		}
		h.mu.Unlock()
		if topic == "" {
			return nil
		}
		if err := h.fetch(ctx, topic, cursor); err != nil {
			h.mu.Lock()
			if t := h.topics[topic]; t != nil {
				t.dirty = true
			}
			h.mu.Unlock()
			return err
		}
	}
}

// fetch reads topic's events after cursor and hands them out. A topic seen
// for the first time starts at its current last seq: its subscribers read
// older events from the table themselves.
func (h *Hub) fetch(ctx context.Context, topic string, cursor int64) error {
	h.fetches.Add(1)
	if cursor < 0 {
		last, err := Last(ctx, h.db, topic)
		if err != nil {
			return err
		}
		h.mu.Lock()
		if t := h.topics[topic]; t != nil && t.cursor < 0 {
			t.cursor = last
			for s := range t.subs {
				s.from = last
			}
			close(t.ready)
			t.dirty = true // anything notified meanwhile
		}
		h.mu.Unlock()
		h.poke()
		return nil
	}
	for {
		evs, err := Since(ctx, h.db, topic, cursor, 0, 500)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		h.mu.Lock()
		t := h.topics[topic]
		if t == nil || t.cursor != cursor {
			// Unwatched meanwhile (and maybe watched again, from a new cursor).
			h.mu.Unlock()
			return nil
		}
		for _, e := range evs {
			if e.Seq != t.cursor+1 {
				// Committed events of a topic are a contiguous prefix (see
				// Publish); a hole means events were deleted (Prune).
				h.log.Warn("live: hole in topic", "topic", topic, "after", t.cursor, "next", e.Seq)
			}
			t.cursor = e.Seq
			for s := range t.subs {
				select {
				case s.c <- e:
					h.delivered.Add(1)
				default:
					// Too slow: dropped, so that it never holds up the others.
					// Its client reconnects and catches up from the table.
					s.dropped.Store(true)
					h.drops.Add(1)
					h.removeLocked(s)
				}
			}
		}
		cursor = t.cursor
		h.mu.Unlock()
		if len(evs) < 500 {
			return nil
		}
	}
}

// measureClock takes PostgreSQL's clock against this machine's, at the
// middle of the round trip.
func (h *Hub) measureClock(ctx context.Context) {
	var dbNow time.Time
	t0 := time.Now()
	if err := h.db.WithContext(ctx).Raw("SELECT ggzy_now()").Row().Scan(&dbNow); err != nil {
		return
	}
	t1 := time.Now()
	mid := t0.Add(t1.Sub(t0) / 2)
	h.offset.Store(int64(dbNow.Sub(mid)))
}
