package trading

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// AuthChannel is the channel the database notifies of changes to sessions,
// accounts and bidder profiles (migration 00035).
const AuthChannel = "ggzy_auth"

// SessionCache keeps the accounts of the sessions an instance has checked,
// so that an authenticated request (a quote, above all: issue 15's
// benchmark) does not always take a round trip for its session.
//
// It is only as fresh as the database says: every change that alters what
// SessionAccount would answer (a session revoked, an account disabled or
// changed, a bidder profile added or changed) notifies ggzy_auth from a
// trigger (migration 00035), and the instance's live hub hands the
// notification to Notify, which forgets the account. While the hub's LISTEN
// connection is down (between Down and the next Up) a notification could be
// missed, so the cache answers nothing then and is emptied on Up. An entry
// lasts TTL at most in any case, and never beyond its session's expiry by
// the service's clock. An entry is stored only if no notification arrived
// while its row was read (gen), so a revocation that commits during the read
// cannot leave the old answer behind. What remains is the time a
// notification takes to reach the other instances (milliseconds); on the
// instance that logs out or disables, Forget runs at once after the commit.
type SessionCache struct {
	TTL time.Duration
	// Max bounds the entries; when full, the cache starts again empty.
	Max int

	up  atomic.Bool
	gen atomic.Uint64 // bumped by every Forget, Up and Down

	mu        sync.Mutex
	entries   map[sessionKey]*sessionEntry
	byAccount map[int64][]sessionKey

	hits, misses, forgets atomic.Int64
}

type sessionKey struct {
	kind SessionKind
	hash [32]byte
}

type sessionEntry struct {
	acc     Account
	bidder  Bidder
	bidderP bool
	expires time.Time // the session's expires_at
	until   time.Time // stored + TTL, by this machine's monotonic clock
}

// NewSessionCache returns a cache that answers nothing until its first Up.
func NewSessionCache(ttl time.Duration) *SessionCache {
	return &SessionCache{TTL: ttl, Max: 100000, entries: map[sessionKey]*sessionEntry{}, byAccount: map[int64][]sessionKey{}}
}

// SessionCacheStats are the cache's counters, for tests and operators.
type SessionCacheStats struct {
	Up                    bool
	Entries               int
	Hits, Misses, Forgets int64
}

// Stats reports the counters.
func (c *SessionCache) Stats() SessionCacheStats {
	c.mu.Lock()
	n := len(c.entries)
	c.mu.Unlock()
	return SessionCacheStats{Up: c.up.Load(), Entries: n, Hits: c.hits.Load(), Misses: c.misses.Load(), Forgets: c.forgets.Load()}
}

// get returns a copy of the cached account of the session, if it is fresh.
func (c *SessionCache) get(k sessionKey, now time.Time) (*Account, bool) {
	if !c.up.Load() {
		return nil, false
	}
	c.mu.Lock()
	e := c.entries[k]
	c.mu.Unlock()
	if e == nil || !now.Before(e.expires) || !time.Now().Before(e.until) {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	acc := e.acc // a copy: callers may change what they get
	if e.bidderP {
		b := e.bidder
		acc.Bidder = &b
	}
	return &acc, true
}

// put stores the account read for the session, unless something was
// forgotten (or the connection went down) since gen was read before the
// read of the row.
func (c *SessionCache) put(k sessionKey, gen uint64, acc *Account, expires time.Time) {
	if c.TTL <= 0 {
		return
	}
	e := &sessionEntry{acc: *acc, expires: expires, until: time.Now().Add(c.TTL)}
	e.acc.Bidder = nil
	if acc.Bidder != nil {
		e.bidder, e.bidderP = *acc.Bidder, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Under mu, as Forget bumps gen under mu: a Forget either ran before
	// (gen differs, nothing stored) or runs after (and removes this).
	if !c.up.Load() || c.gen.Load() != gen {
		return
	}
	if len(c.entries) >= c.Max {
		c.entries, c.byAccount = map[sessionKey]*sessionEntry{}, map[int64][]sessionKey{}
	}
	if _, ok := c.entries[k]; !ok {
		c.byAccount[acc.ID] = append(c.byAccount[acc.ID], k)
	}
	c.entries[k] = e
}

// Forget drops every cached session of the account.
func (c *SessionCache) Forget(accountID int64) {
	c.forgets.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for _, k := range c.byAccount[accountID] {
		delete(c.entries, k)
	}
	delete(c.byAccount, accountID)
}

// clear empties the cache; mu is held.
func (c *SessionCache) clearLocked() {
	c.gen.Add(1)
	c.entries, c.byAccount = map[sessionKey]*sessionEntry{}, map[int64][]sessionKey{}
}

// Notify is the live hub's call for a ggzy_auth notification: the payload
// is the account's id (live.Watcher).
func (c *SessionCache) Notify(payload string) {
	id, err := strconv.ParseInt(payload, 10, 64)
	if err != nil {
		c.mu.Lock()
		c.clearLocked() // not ours to parse: forget everything
		c.mu.Unlock()
		return
	}
	c.Forget(id)
}

// Up is the live hub's call once LISTEN ggzy_auth is in place: what was
// cached before may have missed notifications, so it starts empty.
func (c *SessionCache) Up() {
	c.mu.Lock()
	c.clearLocked()
	c.up.Store(true)
	c.mu.Unlock()
}

// Down is the live hub's call when its connection failed or was lost (and
// when it closes): the cache answers nothing until the next Up.
func (c *SessionCache) Down() {
	c.mu.Lock()
	c.up.Store(false)
	c.clearLocked()
	c.mu.Unlock()
}
