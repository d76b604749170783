package bidding

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/supervision"
)

// After the publicity, every candidate may decline: the lot fails, and
// the announcement still on its way is withdrawn. After an award, the winner
// may decline: the next candidate is named with the reason, in a new
// result announcement. Generated announcements cannot be edited by hand.
func TestFailAfterCandidatesAndReaward(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", true)
	p2 := e.project("engineering", true)
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	bs := e.registerBidders(p, 3)
	for _, b := range bs {
		if _, err := e.Svc.Register(ctx, b, p2.Lots[0].ID, RegisterInput{}); err != nil {
			t.Fatal(err)
		}
	}
	e.Clock.Set(time.Date(2026, 3, 23, 10, 0, 0, 0, trading.Shanghai))
	var bids []BidInput
	for i, b := range bs {
		bids = append(bids, BidInput{IDNumber: e.idOf(b), Price: []string{"11000000", "11100000", "11200000"}[i]})
	}
	end := time.Date(2026, 3, 27, 10, 0, 0, 0, trading.Shanghai)
	ids := []string{e.idOf(bs[0]), e.idOf(bs[1])}
	for _, lot := range []int64{p.Lots[0].ID, p2.Lots[0].ID} {
		if _, err := e.Svc.RecordOpening(ctx, e.Agent, lot, OpeningInput{Bids: bids}); err != nil {
			t.Fatal(err)
		}
	}
	cn, err := e.Svc.SetCandidates(ctx, e.Agent, p.Lots[0].ID, CandidatesInput{IDNumbers: ids, PublicityEnd: end})
	if err != nil {
		t.Fatal(err)
	}
	// A generated announcement is not edited by hand.
	if err := e.TS.WithdrawAnnouncement(ctx, e.Agent, cn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.UpdateAnnouncement(ctx, e.Agent, cn.ID, trading.AnnouncementInput{Type: trading.AnnouncementCandidates, Title: cn.Title, Body: "改过的名单"}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("generated announcement edited: %v", err)
	}
	if err := e.Svc.DeclareFailed(ctx, e.Agent, p.Lots[0].ID, "中标候选人均放弃中标"); err != nil {
		t.Fatal(err)
	}
	var n trading.Announcement
	e.TS.DB.First(&n, cn.ID)
	if n.Status != trading.AnnouncementRejected || e.outcome(p.Lots[0].ID).Status != trading.OutcomeFailed {
		t.Fatalf("after failing: announcement %s, outcome %s", n.Status, e.outcome(p.Lots[0].ID).Status)
	}

	// Re-award: the winner of the second lot declines after the award.
	cn, err = e.Svc.SetCandidates(ctx, e.Agent, p2.Lots[0].ID, CandidatesInput{IDNumbers: ids, PublicityEnd: end})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(cn.ID)
	e.Clock.Set(time.Date(2026, 3, 28, 10, 0, 0, 0, trading.Shanghai))
	rn, err := e.Svc.Award(ctx, e.Agent, p2.Lots[0].ID, AwardInput{IDNumber: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(rn.ID)
	if _, err := e.Svc.Award(ctx, e.Agent, p2.Lots[0].ID, AwardInput{IDNumber: ids[1]}); !errors.Is(err, trading.ErrInvalid) {
		t.Fatalf("re-award without the winner's reason: %v", err)
	}
	rn2, err := e.Svc.Award(ctx, e.Agent, p2.Lots[0].ID, AwardInput{IDNumber: ids[1], Declined: map[string]string{ids[0]: "中标人拒绝签订合同"}})
	if err != nil || rn2.ID == rn.ID {
		t.Fatalf("re-award: %v", err)
	}
	e.approve(rn2.ID)
	if o := e.outcome(p2.Lots[0].ID); o.Result.String() != "11100000" {
		t.Fatalf("outcome after re-award: %s", o.Result)
	}
	// A suspended project publishes no result announcement.
	rn3, err := e.Svc.Award(ctx, e.Agent, p2.Lots[0].ID, AwardInput{IDNumber: ids[0], Declined: map[string]string{ids[1]: "放弃"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := supervision.Suspend(ctx, e.TS, e.Sup, p2.Code, "收到投诉，暂停核查"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, rn3.ID, nil); !errors.Is(err, trading.ErrSuspended) {
		t.Fatalf("result published while suspended: %v", err)
	}
}
