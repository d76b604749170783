package bidding

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// G13: recording a procurement contract generates its contract announcement
// (合同公告) from the result and submits it for review; it is published
// like any announcement, and a hand-written contract announcement is refused.
func TestProcurementContractAnnouncementG13(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("procurement", true)
	lotID := p.Lots[0].ID
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	bs := e.registerBidders(p, 3)
	e.Clock.Set(time.Date(2026, 3, 26, 10, 0, 0, 0, trading.Shanghai))
	if _, err := e.Svc.RecordOpening(ctx, e.Agent, lotID, OpeningInput{Bids: []BidInput{
		{IDNumber: e.idOf(bs[0]), Price: "2800000"}, {IDNumber: e.idOf(bs[1]), Price: "2900000"}, {IDNumber: e.idOf(bs[2]), Price: "2950000"}}}); err != nil {
		t.Fatal(err)
	}
	cn, err := e.Svc.SetCandidates(ctx, e.Agent, lotID, CandidatesInput{IDNumbers: []string{e.idOf(bs[0]), e.idOf(bs[1])},
		PublicityEnd: time.Date(2026, 3, 28, 17, 0, 0, 0, trading.Shanghai)})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(cn.ID)
	e.Clock.Set(time.Date(2026, 3, 30, 9, 0, 0, 0, trading.Shanghai))
	rn, err := e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[0])})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(rn.ID)
	// No contract announcement by hand.
	if _, err := e.TS.DraftAnnouncement(ctx, e.Agent, p.Code, trading.AnnouncementInput{Type: trading.AnnouncementContract, Title: "手写的合同公告", Body: "正文"}); err == nil {
		var n trading.Announcement
		e.TS.DB.Where("type = 'contract'").First(&n)
		if _, err := e.TS.SubmitAnnouncement(ctx, e.Agent, n.ID); err == nil {
			t.Fatal("a hand-written contract announcement was submitted")
		}
	}
	e.Clock.Set(time.Date(2026, 4, 8, 9, 0, 0, 0, trading.Shanghai))
	r, err := e.Svc.RecordContract(ctx, e.Agent, lotID, ContractInput{Date: time.Date(2026, 4, 7, 0, 0, 0, 0, trading.Shanghai), Amount: "2790000.00"})
	if err != nil || r.ContractAnnouncementID == nil {
		t.Fatalf("contract: %+v %v", r, err)
	}
	var n trading.Announcement
	if err := e.TS.DB.First(&n, *r.ContractAnnouncementID).Error; err != nil {
		t.Fatal(err)
	}
	if n.Type != trading.AnnouncementContract || n.Status != trading.AnnouncementSubmitted {
		t.Fatalf("contract announcement: %s %s", n.Type, n.Status)
	}
	for _, want := range []string{"合同金额：2,790,000.00 元", "合同签订日期：2026-04-07", "G13", p.Code} {
		if !strings.Contains(n.Body, want) {
			t.Errorf("contract announcement body lacks %q:\n%s", want, n.Body)
		}
	}
	e.approve(n.ID)
	if err := e.TS.DB.First(&n, n.ID).Error; err != nil || n.Status != trading.AnnouncementPublished {
		t.Fatalf("published: %s %v", n.Status, err)
	}
	e.verifyAudit()
}
