package portal

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ggzy/ggzy/trading"

	"github.com/labstack/echo/v4"
)

// PageCache is a micro-cache of the public portal for anonymous visitors:
// a rendered page or API answer is reused for TTL (default one second).
// Published announcements are immutable, so the only effect a visitor can announcement
// is a new announcement appearing up to TTL late; under a burst of readers the
// same list page is rendered once a second instead of once a request.
// Signed-in requests (session cookie, bearer token), flash messages and
// anything but a 200 are never cached. Each instance keeps its own.
type PageCache struct {
	TTL        time.Duration
	MaxEntries int

	mu       sync.Mutex
	bytes    int // bodies held, bounded by maxCacheBytes
	entries  map[string]*cachedPage
	inflight map[string]*flight // misses being rendered, so a burst renders once
}

// flight is one rendering that concurrent misses of the same URL wait for.
type flight struct {
	done  chan struct{}
	entry *cachedPage // nil when the answer was not cacheable
}

type cachedPage struct {
	ctype   string
	body    []byte
	until   time.Time // served without a look until then
	version string    // what the versioned page was rendered from ("" = not versioned)
	keep    time.Time // a versioned page is kept (and revalidated) until then
}

// versionedKeep is how long a versioned page stays in the cache between
// renders, as long as its version does not change.
const versionedKeep = 10 * time.Minute

// maxCachedBody keeps one entry small; bigger answers are not cached.
const maxCachedBody = 512 << 10

// maxCacheBytes bounds the whole cache: past it, expired entries go, and
// if that is not enough, a random quarter of the rest.
const maxCacheBytes = 128 << 20

// NewPageCache returns a cache; a zero TTL turns it off.
func NewPageCache(ttl time.Duration) *PageCache {
	return &PageCache{TTL: ttl, MaxEntries: 50000, entries: map[string]*cachedPage{}, inflight: map[string]*flight{}}
}

func cacheable(c echo.Context) bool {
	r := c.Request()
	if r.Method != http.MethodGet || r.Header.Get(echo.HeaderAuthorization) != "" {
		return false
	}
	for _, ck := range r.Cookies() {
		if ck.Name == trading.SessionCookie || ck.Name == "ggzy_flash" {
			return false
		}
	}
	return true
}

// Middleware serves from the cache or fills it.
func (pc *PageCache) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return pc.handler(next, nil)
}

// Versioned is Middleware for a page that changes only when version says
// so (a published announcement and its project: a new announcement of the project, a
// suspension, a termination). Past its TTL the cached page is checked with
// version, one cheap query, instead of rendered again; it is rendered
// again only when the version differs. Rendering reads after the version
// is taken, so a page is never older than its version.
func (pc *PageCache) Versioned(version func(c echo.Context) (string, error)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc { return pc.handler(next, version) }
}

func (pc *PageCache) handler(next echo.HandlerFunc, version func(c echo.Context) (string, error)) echo.HandlerFunc {
	if pc == nil || pc.TTL <= 0 {
		return next
	}
	return func(c echo.Context) error {
		if !cacheable(c) {
			return next(c)
		}
		// The host is in the key: feeds and OCDS write absolute links from
		// it, so one visitor's Host header must not become everyone's.
		key := c.Request().Host + " " + c.Request().URL.RequestURI()
		now := time.Now()
		pc.mu.Lock()
		e := pc.entries[key]
		if e != nil && now.Before(e.until) {
			pc.mu.Unlock()
			return serveCached(c, e)
		}
		var current string
		if version != nil {
			pc.mu.Unlock()
			var err error
			if current, err = version(c); err != nil {
				return err
			}
			pc.mu.Lock()
			if e := pc.entries[key]; e != nil && current != "" && e.version == current {
				e.until = now.Add(pc.TTL)
				pc.mu.Unlock()
				return serveCached(c, e)
			}
		}
		// A render shares its result only with requests that read the same
		// version: one that saw a newer version never waits for an older page.
		fkey := key + "\x00" + current
		if f := pc.inflight[fkey]; f != nil {
			pc.mu.Unlock()
			select {
			case <-f.done:
			case <-c.Request().Context().Done():
				return c.Request().Context().Err()
			}
			if f.entry != nil {
				return serveCached(c, f.entry)
			}
			return next(c)
		}
		f := &flight{done: make(chan struct{})}
		pc.inflight[fkey] = f
		pc.mu.Unlock()
		defer func() {
			pc.mu.Lock()
			delete(pc.inflight, fkey)
			if f.entry != nil {
				if len(pc.entries) >= pc.MaxEntries || pc.bytes+len(f.entry.body) > maxCacheBytes {
					pc.sweep(now)
				}
				if old := pc.entries[key]; old != nil {
					pc.bytes -= len(old.body)
				}
				pc.entries[key] = f.entry
				pc.bytes += len(f.entry.body)
			}
			pc.mu.Unlock()
			close(f.done)
		}()
		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		err := next(c)
		if err == nil && c.Response().Status == http.StatusOK && !rec.overflow &&
			!strings.Contains(c.Response().Header().Get("Set-Cookie"), trading.SessionCookie) {
			f.entry = &cachedPage{ctype: c.Response().Header().Get(echo.HeaderContentType), body: rec.buf.Bytes(), until: now.Add(pc.TTL)}
			if current != "" {
				f.entry.version, f.entry.keep = current, now.Add(versionedKeep)
			}
		}
		return err
	}
}

// sweep drops expired entries, and a random quarter of the others if that
// is not enough.
func (pc *PageCache) sweep(now time.Time) {
	for k, e := range pc.entries {
		if !now.Before(e.until) && !now.Before(e.keep) {
			pc.bytes -= len(e.body)
			delete(pc.entries, k)
		}
	}
	// Still too full: drop a random quarter (map order is random), so the
	// pages read most keep being served while the rest make room.
	if len(pc.entries) >= pc.MaxEntries*3/4 || pc.bytes > maxCacheBytes*3/4 {
		drop := len(pc.entries) / 4
		for k, e := range pc.entries {
			if drop == 0 {
				break
			}
			pc.bytes -= len(e.body)
			delete(pc.entries, k)
			drop--
		}
	}
}

func serveCached(c echo.Context, e *cachedPage) error {
	c.Response().Header().Set("X-Cache", "hit")
	return c.Blob(http.StatusOK, e.ctype, e.body)
}

// recorder copies what a handler writes, up to maxCachedBody.
type recorder struct {
	http.ResponseWriter
	buf      bytes.Buffer
	overflow bool
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.overflow {
		if r.buf.Len()+len(b) > maxCachedBody {
			r.overflow = true
			r.buf = bytes.Buffer{}
		} else {
			r.buf.Write(b)
		}
	}
	return r.ResponseWriter.Write(b)
}
