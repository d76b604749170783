package trading

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// AuthChannel is the channel the database notifies of changes to sessions,
// accounts and bidder profiles (migration 00035): the account's id, or "*"
// when a whole table was truncated.
const AuthChannel = "ggzy_auth"

// authPing is the payload of KeepAlive's notifications.
const authPing = "ping"

// SessionCache keeps the accounts of the sessions an instance has checked,
// so that an authenticated request (a quote, above all: issue 15's
// benchmark) does not always take a round trip for its session.
//
// It is only as fresh as the database says: every change that alters what
// SessionAccount would answer (a session revoked, an account disabled or
// changed, a bidder profile added or changed) notifies ggzy_auth from a
// trigger (migration 00035), and the instance's live hub hands the
// notification to Notify, which forgets the account.
//
// When notifications could be missed, the cache answers nothing:
//   - between Down (the hub's LISTEN connection failed or was lost) and the
//     next Up, and it starts empty then;
//   - when it has heard nothing on the channel for Silence, although
//     KeepAlive notifies the channel every Silence/3: a connection that
//     died without either end noticing (a half-open TCP connection) stops
//     the cache within Silence.
//
// An entry lasts TTL at most in any case, and never beyond its session's
// expiry by the service's clock. An entry is stored only if its account was
// not forgotten while its row was read (see put), so a revocation that
// commits during the read cannot leave the old answer behind. What remains
// is the time a notification takes to reach the other instances
// (milliseconds); on the instance that logs out or disables, Forget runs at
// once after the commit.
type SessionCache struct {
	TTL time.Duration
	// Silence is how long the cache trusts the channel without hearing
	// anything on it (default 3 s; KeepAlive pings every Silence/3).
	Silence time.Duration
	// Max bounds the entries; when full, expired entries go, then all.
	Max int

	up    atomic.Bool
	heard atomic.Int64 // when the channel was last heard, ns since base
	base  time.Time    // a monotonic origin for heard

	mu        sync.Mutex
	gen       uint64           // bumped by every Forget, clear
	floor     uint64           // reads that began before this generation are not stored
	forgotAt  map[int64]uint64 // the generation of each account's last Forget since floor
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
	c := &SessionCache{TTL: ttl, Silence: 3 * time.Second, Max: 100000, base: time.Now()}
	c.mu.Lock()
	c.clearLocked()
	c.mu.Unlock()
	return c
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

// trusted tells whether the channel can be believed now: listening, and
// heard from within Silence.
func (c *SessionCache) trusted() bool {
	return c.up.Load() && time.Since(c.base)-time.Duration(c.heard.Load()) < c.Silence
}

func (c *SessionCache) hear() { c.heard.Store(int64(time.Since(c.base))) }

// begin is called before a session's row is read: what put needs to know
// whether anything was forgotten meanwhile.
func (c *SessionCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// get returns a copy of the cached account of the session, if it is fresh.
func (c *SessionCache) get(k sessionKey, now time.Time) (*Account, bool) {
	if !c.trusted() {
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

// put stores the account read for the session, unless its account was
// forgotten (or the cache cleared) since gen was taken by begin, before the
// read of the row.
func (c *SessionCache) put(k sessionKey, gen uint64, acc *Account, expires time.Time) {
	if c.TTL <= 0 {
		return
	}
	now := time.Now()
	e := &sessionEntry{acc: *acc, expires: expires, until: now.Add(c.TTL)}
	e.acc.Bidder = nil
	if acc.Bidder != nil {
		e.bidder, e.bidderP = *acc.Bidder, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Under mu, as Forget works under mu: a Forget either ran before (and
	// put sees it) or runs after (and removes this).
	if !c.up.Load() || gen < c.floor || c.forgotAt[acc.ID] > gen {
		return
	}
	if len(c.entries) >= c.Max {
		for k, old := range c.entries {
			if !now.Before(old.until) {
				c.removeLocked(k, old.acc.ID)
			}
		}
		if len(c.entries) >= c.Max {
			c.clearLocked() // this account was checked above: e may go in
		}
	}
	if _, ok := c.entries[k]; !ok {
		c.byAccount[acc.ID] = append(c.byAccount[acc.ID], k)
	}
	c.entries[k] = e
}

// removeLocked drops one entry; mu is held.
func (c *SessionCache) removeLocked(k sessionKey, accountID int64) {
	delete(c.entries, k)
	keys := c.byAccount[accountID]
	for i, x := range keys {
		if x == k {
			keys = append(keys[:i], keys[i+1:]...)
			break
		}
	}
	if len(keys) == 0 {
		delete(c.byAccount, accountID)
	} else {
		c.byAccount[accountID] = keys
	}
}

// Forget drops every cached session of the account, and keeps any read of
// it in flight from being stored.
func (c *SessionCache) Forget(accountID int64) {
	c.forgets.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if len(c.forgotAt) >= 10000 {
		c.floor, c.forgotAt = c.gen, map[int64]uint64{} // older reads are not stored
	}
	c.forgotAt[accountID] = c.gen
	for _, k := range c.byAccount[accountID] {
		delete(c.entries, k)
	}
	delete(c.byAccount, accountID)
}

// clearLocked empties the cache and keeps every read in flight from being
// stored; mu is held.
func (c *SessionCache) clearLocked() {
	c.gen++
	c.floor, c.forgotAt = c.gen, map[int64]uint64{}
	c.entries, c.byAccount = map[sessionKey]*sessionEntry{}, map[int64][]sessionKey{}
}

// Notify is the live hub's call for a ggzy_auth notification (live.Watcher):
// an account's id forgets that account, KeepAlive's ping only says the
// channel works, anything else ("*": a table was truncated) forgets all.
func (c *SessionCache) Notify(payload string) {
	c.hear()
	if payload == authPing {
		return
	}
	if id, err := strconv.ParseInt(payload, 10, 64); err == nil {
		c.Forget(id)
		return
	}
	c.forgets.Add(1)
	c.mu.Lock()
	c.clearLocked()
	c.mu.Unlock()
}

// Up is the live hub's call once LISTEN ggzy_auth is in place: what was
// cached before may have missed notifications, so it starts empty.
func (c *SessionCache) Up() {
	c.mu.Lock()
	c.clearLocked()
	c.up.Store(true)
	c.mu.Unlock()
	c.hear()
}

// Down is the live hub's call when its connection failed or was lost (and
// when it closes): the cache answers nothing until the next Up.
func (c *SessionCache) Down() {
	c.mu.Lock()
	c.up.Store(false)
	c.clearLocked()
	c.mu.Unlock()
}

// KeepAlive notifies the channel every Silence/3 until ctx ends, so that
// every instance's cache hears it while its LISTEN connection works, and
// stops answering (trusted) when it does not.
func (c *SessionCache) KeepAlive(ctx context.Context, db *gorm.DB) {
	every := c.Silence / 3
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		// An error is a missed ping: the cache stops answering after
		// Silence, which is the safe side.
		_ = db.WithContext(ctx).Exec(`SELECT pg_notify(?, ?)`, AuthChannel, authPing).Error
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
