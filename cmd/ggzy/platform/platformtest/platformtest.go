// Package platformtest is a test environment of the whole platform: a fresh
// database and bucket from testenv, a stopped clock, and trading, bidding
// and deposits built and wired by platform.New, exactly as cmd/ggzy builds
// and wires them. The test binary's TestMain must be testenv.Main.
package platformtest

import (
	"testing"
	"time"

	"github.com/ggzy/ggzy/cmd/ggzy/platform"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// Start is where an environment's clock stands: Monday 2026-03-02 09:00 in
// Shanghai, in a year whose working-day calendar is known.
var Start = time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai)

// Env is a wired platform on the test's own database and bucket.
type Env struct {
	*platform.Platform
	Storage *trading.Storage
	Clock   *trading.ManualClock
}

// New builds the platform on a fresh database and bucket with its clock
// stopped at Start and cheap password hashing. Everything is closed when
// the test ends.
func New(t testing.TB) *Env {
	t.Helper()
	db, err := trading.OpenDB(testenv.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	s3 := testenv.Storage(t)
	st, err := trading.NewStorage(trading.StorageConfig{Endpoint: s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Bucket: s3.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	clock := trading.NewManualClock(Start)
	p := platform.New(db, clock, st, nil, "")
	p.Trading.Passwords = testenv.CheapPasswords
	return &Env{Platform: p, Storage: st, Clock: clock}
}
