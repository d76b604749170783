package deposits

import (
	"testing"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

// The parser tests need no servers; the booking tests start PostgreSQL
// and MinIO on first use.
func TestMain(m *testing.M) { testenv.Main(m) }
