package trading

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// PageCache is a micro-cache of the public portal for anonymous visitors:
// a rendered page or API answer is reused for TTL (default one second).
// Published notices are immutable, so the only effect a visitor can notice
// is a new notice appearing up to TTL late; under a burst of readers the
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
	ctype string
	body  []byte
	until time.Time
}

// maxCachedBody keeps one entry small; bigger answers are not cached.
const maxCachedBody = 512 << 10

// maxCacheBytes bounds the whole cache: past it, expired entries go, and
// if that is not enough, all of them.
const maxCacheBytes = 64 << 20

// NewPageCache returns a cache; a zero TTL turns it off.
func NewPageCache(ttl time.Duration) *PageCache {
	return &PageCache{TTL: ttl, MaxEntries: 5000, entries: map[string]*cachedPage{}, inflight: map[string]*flight{}}
}

func cacheable(c echo.Context) bool {
	r := c.Request()
	if r.Method != http.MethodGet || r.Header.Get(echo.HeaderAuthorization) != "" {
		return false
	}
	for _, ck := range r.Cookies() {
		if ck.Name == SessionCookie || ck.Name == "ggzy_flash" {
			return false
		}
	}
	return true
}

// Middleware serves from the cache or fills it.
func (pc *PageCache) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
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
		if e := pc.entries[key]; e != nil && now.Before(e.until) {
			pc.mu.Unlock()
			return serveCached(c, e)
		}
		if f := pc.inflight[key]; f != nil {
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
		pc.inflight[key] = f
		pc.mu.Unlock()
		defer func() {
			pc.mu.Lock()
			delete(pc.inflight, key)
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
			!strings.Contains(c.Response().Header().Get("Set-Cookie"), SessionCookie) {
			f.entry = &cachedPage{ctype: c.Response().Header().Get(echo.HeaderContentType), body: rec.buf.Bytes(), until: now.Add(pc.TTL)}
		}
		return err
	}
}

// sweep drops expired entries, and everything if that is not enough.
func (pc *PageCache) sweep(now time.Time) {
	for k, e := range pc.entries {
		if !now.Before(e.until) {
			pc.bytes -= len(e.body)
			delete(pc.entries, k)
		}
	}
	if len(pc.entries) >= pc.MaxEntries/2 || pc.bytes > maxCacheBytes/2 {
		pc.entries, pc.bytes = map[string]*cachedPage{}, 0
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
