package bidding_test

import (
	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/platform"
	"github.com/ggzy/ggzy/trading"
)

// bidding's tests wire trading and bidding as platform.Wire does (see
// bidding.WirePlatform).
func init() {
	bidding.WirePlatform = func(ts *trading.Service, s *bidding.Service) { platform.Wire(ts, s, nil, nil) }
}
