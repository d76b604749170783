package auction_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
)

// The deal confirmation (成交确认书) of a land lot names it 地块 and the
// seller 出让人, not property's 标的 and 转让方 (issue 14).
func TestLandConfirmationSaysPlot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, landLot("listing"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲置业有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5600000")
	if err := e.Auction.WantTimed(e.ctx, a, e.Lot); err != nil {
		t.Fatal(err)
	}
	e.settle(listingEnd)
	c, err := e.Auction.Confirmation(e.ctx, a, e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	r, err := templates.New(trading.TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.Render(&buf, "auction_confirmation", templates.Page{Title: "成交确认书", CSRF: "tok", Data: c}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<p>地块：" + c.LotName + "</p>", "<p>出让人：福州市自然资源局</p>"} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q in:\n%s", want, page)
		}
	}
	if strings.Contains(page, "标的：") || strings.Contains(page, "转让方") {
		t.Errorf("the land lot's confirmation says 标的 or 转让方:\n%s", page)
	}
}

// A land lot under 资格后审 is a 地块 in the refusal that keeps its bidders
// from the agent while the bidding goes on (issue 14).
func TestLandPostQualificationRefusalSaysPlot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, postQualLot("next"))
	e.at(sh(3, 20, 10, 0, 0))
	e.applicant("福建甲置业有限公司", false, true)
	e.at(listingEnd.Add(10 * time.Minute))
	if err := e.Trading.DB.Exec(`UPDATE auction_lots SET state = ?, countdown_end = ? WHERE lot_id = ?`,
		auction.StateTimed, listingEnd.Add(time.Hour), e.Lot).Error; err != nil {
		t.Fatal(err)
	}
	_, _, err := e.Bidding.Registrants(e.ctx, e.Agent, e.Lot)
	if !errors.Is(err, trading.ErrForbidden) || !strings.Contains(err.Error(), "本地块实行资格后审") {
		t.Fatalf("the agent's list during timed bidding: %v", err)
	}
}
