package deposits_test

import (
	"testing"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/platform/platformtest"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// The deposits tests run on the platform of platformtest (see
// deposits.NewPlatform).
func init() {
	deposits.NewPlatform = func(t testing.TB) (*trading.Service, *bidding.Service, *deposits.Service, *trading.ManualClock) {
		e := platformtest.New(t)
		return e.Trading, e.Bidding, e.Deposits, e.Clock
	}
}
