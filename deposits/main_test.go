package deposits

import (
	"testing"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// The parser tests need no servers; the booking tests start PostgreSQL
// and MinIO on first use.
func TestMain(m *testing.M) { testenv.Main(m) }

// NewPlatform builds the platform wired exactly as cmd wires it
// (platformtest.New) for newDepEnv. These tests are in package deposits,
// which the platform package imports, so they cannot import it (an import
// cycle); platform_test.go, an external test package compiled into the same
// test binary, sets this before any test runs (package initialisation
// precedes TestMain).
var NewPlatform func(t testing.TB) (*trading.Service, *bidding.Service, *Service, *trading.ManualClock)
