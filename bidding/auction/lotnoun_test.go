package auction_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

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
	for _, want := range []string{"<p>地块：" + c.LotName + "</p>", "<p>出让人：福州市自然资源局</p>", "<p>竞得人：<strong id=\"buyer\">"} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q in:\n%s", want, page)
		}
	}
	if strings.Contains(page, "标的：") || strings.Contains(page, "转让方") || strings.Contains(page, "受让方") {
		t.Errorf("the land lot's confirmation says 标的, 转让方 or 受让方:\n%s", page)
	}
	// A property lot's: 标的, 转让方, 受让方 (32号令).
	c.Category = trading.Property
	buf.Reset()
	if err := r.Render(&buf, "auction_confirmation", templates.Page{Title: "成交确认书", CSRF: "tok", Data: c}); err != nil {
		t.Fatal(err)
	}
	page = buf.String()
	for _, want := range []string{"<p>标的：" + c.LotName + "</p>", "<p>转让方：", "<p>受让方：<strong id=\"buyer\">", "受让方应在5个工作日内"} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q in the property lot's confirmation:\n%s", want, page)
		}
	}
	if strings.Contains(page, "竞得人") || strings.Contains(page, "<p>地块：") {
		t.Errorf("the property lot's confirmation says 竞得人 or 地块：:\n%s", page)
	}
}

// A land lot under 资格后审 is a 地块 in the refusals that keep its
// bidders and guarantees from the agent until the bidding ends, and on
// the agent's qualification page (issue 14: they said 标的).
func TestLandPostQualificationSaysPlot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, postQualLot("no_sale"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.applicant("福建甲置业有限公司", false, true)
	_, _, err := e.Bidding.Registrants(e.ctx, e.Agent, e.Lot)
	if !errors.Is(err, trading.ErrForbidden) || !strings.Contains(err.Error(), "本地块实行资格后审") {
		t.Errorf("the agent's list before the bidding ends: %v", err)
	}
	_, _, err = e.Deposits.Guarantees(e.ctx, e.Agent, e.Lot)
	if !errors.Is(err, trading.ErrForbidden) || !strings.Contains(err.Error(), "本地块实行资格后审") {
		t.Errorf("the agent's guarantees before the bidding ends: %v", err)
	}
	e.at(sh(3, 25, 10, 0, 0))
	e.mustQuote(a, "5900000")
	e.settle(listingEnd)
	v, err := e.Auction.Candidate(e.ctx, e.Agent, e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	r, err := templates.New(trading.TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.Render(&buf, "auction_qualify", templates.Page{Title: "资格后审", CSRF: "tok", Data: v}); err != nil {
		t.Fatal(err)
	}
	if page := buf.String(); !strings.Contains(page, "本地块流拍") || strings.Contains(page, "标的") {
		t.Errorf("the qualification page of a land lot:\n%s", page)
	}
}
