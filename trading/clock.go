package trading

import (
	"sync"
	"time"
)

// Clock is where services read the time, so tests and demos can move it.
type Clock interface{ Now() time.Time }

// SystemClock reads the machine's clock, shifted by Offset (a demo can run
// "as of" another day with GGZY_CLOCK_OFFSET).
type SystemClock struct{ Offset time.Duration }

// Now returns the current time plus the offset.
func (c SystemClock) Now() time.Time { return time.Now().Add(c.Offset) }

// ManualClock is a clock that only moves when told to.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Shanghai is the zone every deadline is stated in.
var Shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Fixed +08:00 has had no DST since 1991, so it is the same zone for
		// every date the platform handles.
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}
