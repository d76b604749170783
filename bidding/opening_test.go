package bidding

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// Fewer than 3 bidders fail an engineering tender without opening (E7),
// fewer than 3 qualified suppliers a procurement (G10); failed lots are
// outcomes of their own, never in a rate.
func TestFailedTenders(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	var failed []string
	e.Svc.OnResult = append(e.Svc.OnResult, func(_ context.Context, _ *gorm.DB, ev ResultEvent) error {
		if ev.Kind == EventFailed {
			failed = append(failed, ev.Rule)
		}
		return nil
	})
	eng := e.project("engineering", true)
	proc := e.project("procurement", true)
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	eb := e.registerBidders(eng, 2)
	pb := e.registerBidders(proc, 3)
	e.Clock.Set(time.Date(2026, 3, 26, 10, 0, 0, 0, trading.Shanghai))
	r, err := e.Svc.RecordOpening(ctx, e.Agent, eng.Lots[0].ID, OpeningInput{Bids: []BidInput{{IDNumber: e.idOf(eb[0])}, {IDNumber: e.idOf(eb[1])}}})
	if err != nil || r.Stage != StageFailed || r.FailedRule != "E7" {
		t.Fatalf("E7: %+v %v", r, err)
	}
	r, err = e.Svc.RecordOpening(ctx, e.Agent, proc.Lots[0].ID, OpeningInput{Bids: []BidInput{
		{IDNumber: e.idOf(pb[0]), Price: "2800000"}, {IDNumber: e.idOf(pb[1]), Price: "2900000"},
		{IDNumber: e.idOf(pb[2]), Price: "2700000", RejectedReason: "未实质性响应"}}})
	if err != nil || r.Stage != StageFailed || r.FailedRule != "G10" {
		t.Fatalf("G10: %+v %v", r, err)
	}
	for _, l := range []int64{eng.Lots[0].ID, proc.Lots[0].ID} {
		if o := e.outcome(l); o.Status != trading.OutcomeFailed || o.Base != nil || o.Result != nil {
			t.Fatalf("failed outcome %+v", o)
		}
	}
	if strings.Join(failed, ",") != "E7,G10" {
		t.Fatalf("failure events %v", failed)
	}
	// A failed lot takes no candidates.
	if _, err := e.Svc.SetCandidates(ctx, e.Agent, proc.Lots[0].ID, CandidatesInput{IDNumbers: []string{e.idOf(pb[0])}}); !errors.Is(err, ErrResultStage) {
		t.Fatalf("candidates of a failed lot: %v", err)
	}
}

// A suspended project records no results, and says why.
func TestSuspendedProjectRecordsNoResult(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	p := e.project("engineering", true)
	e.Clock.Set(time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	e.TS.DB.Exec("UPDATE projects SET suspended_at = now(), suspend_reason = '收到投诉，暂停核查' WHERE id = ?", p.ID)
	_, err := e.Svc.RecordOpening(context.Background(), e.Agent, p.Lots[0].ID, OpeningInput{Bids: []BidInput{{IDNumber: "X"}}})
	if !errors.Is(err, trading.ErrSuspended) || !strings.Contains(err.Error(), "收到投诉") {
		t.Fatalf("suspended: %v", err)
	}
}
