package bidding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// revealedHall submits three bids, opens the hall after the deadline and
// decrypts them all: the prices are revealed and the host may conclude.
func (e *sealedEnv) revealedHall() []*testBidder {
	e.t.Helper()
	ctx := context.Background()
	bs := []*testBidder{e.sealedBidder("福建甲建设"), e.sealedBidder("福建乙建设"), e.sealedBidder("福建丙建设")}
	for i, b := range bs {
		if _, _, err := e.submit(b, priceForm([]string{"11800000.00", "11700000.00", "11600000.00"}[i]), []byte("%PDF-1.7 bid")); err != nil {
			e.t.Fatal(err)
		}
	}
	e.at(e.Dead.Add(time.Minute))
	if _, err := e.Svc.OpenHall(ctx, e.Agent, e.Lot, 0); err != nil {
		e.t.Fatal(err)
	}
	for _, b := range bs {
		if err := e.Svc.Decrypt(ctx, b.Actor, e.Lot, e.token(b)); err != nil {
			e.t.Fatal(err)
		}
	}
	return bs
}

// EB7: the opening record is the legal fact; its announcement goes through
// review afterwards. When drafting the announcement is refused, the hall
// still concludes: the record is stored, audited and feeds the result
// flow; the refusal is kept and shown to the host (not to bidders), who
// regenerates the announcement once the cause is gone. Regenerating is
// audited, host-only, and idempotent: requests racing each other and
// requests after it never make a second draft.
func TestOpeningHallConcludesWhenTheAnnouncementIsRefused(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	// A rule of the rule book the opening-record announcement breaks (as a
	// province's added requirement would), while refuse is set.
	var refuse atomic.Bool
	refuse.Store(true)
	e.TS.CheckAnnouncement = append(e.TS.CheckAnnouncement, func(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project, at time.Time) ([]rules.Violation, error) {
		if n.Type != trading.AnnouncementOpening || !refuse.Load() {
			return nil, nil
		}
		return []rules.Violation{{Rule: "EB7", Field: "body", Requirement: "开标记录公告须载明监督人员", Actual: "未载明"}}, nil
	})
	bs := e.revealedHall()

	o, err := e.Svc.Conclude(ctx, e.Agent, e.Lot)
	if err != nil {
		t.Fatalf("the conclusion failed with its announcement: %v", err)
	}
	if o.Status != OpeningConcluded || o.AnnouncementID != nil || o.AnnouncementProblem == nil || !strings.Contains(*o.AnnouncementProblem, "须载明监督人员") {
		t.Fatalf("concluded %+v, problem %v", o, o.AnnouncementProblem)
	}
	countOpening := func() int64 {
		t.Helper()
		var n int64
		if err := e.TS.DB.Model(&trading.Announcement{}).Where("type = ? AND project_id = (SELECT project_id FROM lots WHERE id = ?)",
			trading.AnnouncementOpening, e.Lot).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := countOpening(); n != 0 {
		t.Fatalf("%d opening-record announcements after a refused draft", n)
	}
	// The record and the result flow stand.
	if _, digest, err := e.Svc.OpeningRecord(ctx, e.Lot); err != nil || digest != *o.RecordSHA256 {
		t.Fatalf("opening record %s %v", digest, err)
	}
	var r LotResult
	if err := e.Svc.DB.Where("lot_id = ?", e.Lot).Take(&r).Error; err != nil || r.Stage != StageOpened {
		t.Fatalf("lot result %+v %v", r, err)
	}
	audited := func(action string) int64 {
		var n int64
		e.Svc.DB.Model(&trading.AuditEvent{}).Where("action = ? AND object_id = ?", action, fmt.Sprint(e.Lot)).Count(&n)
		return n
	}
	if audited("opening.record") != 1 || audited("opening.announcement_refused") != 1 {
		t.Fatal("the record and the refused announcement are not both audited")
	}
	// The host and supervisors see the problem; bidders do not.
	if v, err := e.Svc.Hall(ctx, e.Agent, e.Lot); err != nil || v.Opening.AnnouncementProblem == nil {
		t.Fatalf("the host's hall %+v %v", v.Opening, err)
	}
	if v, err := e.Svc.Hall(ctx, bs[0].Actor, e.Lot); err != nil || v.Opening.AnnouncementProblem != nil {
		t.Fatalf("a bidder's hall %+v %v", v.Opening, err)
	}

	// Regenerating while the cause remains: refused again with its
	// reason, recorded, no draft.
	if _, _, err := e.Svc.RegenerateOpeningAnnouncement(ctx, e.Agent, e.Lot); trading.AsError(err).Status() != 422 {
		t.Fatalf("regenerated while refused: %v", err)
	}
	if n := countOpening(); n != 0 || audited("opening.announcement_refused") != 2 {
		t.Fatalf("%d announcements, %d refusals audited", n, audited("opening.announcement_refused"))
	}
	// Only the host regenerates.
	if _, _, err := e.Svc.RegenerateOpeningAnnouncement(ctx, bs[0].Actor, e.Lot); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("a bidder regenerated: %v", err)
	}
	if _, _, err := e.Svc.RegenerateOpeningAnnouncement(ctx, e.Sup, e.Lot); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("a supervisor regenerated: %v", err)
	}

	// The cause gone, the host regenerates: eight requests at once make
	// one draft, submitted for review; the problem is cleared.
	refuse.Store(false)
	var wg sync.WaitGroup
	ids := make(chan int64, 8)
	createdN := atomic.Int64{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, created, err := e.Svc.RegenerateOpeningAnnouncement(ctx, e.Agent, e.Lot)
			if err != nil {
				t.Error(err)
				return
			}
			if created {
				createdN.Add(1)
			}
			ids <- id
		}()
	}
	wg.Wait()
	close(ids)
	var first int64
	for id := range ids {
		if first == 0 {
			first = id
		}
		if id != first || id == 0 {
			t.Fatalf("regenerations answered announcements %d and %d", first, id)
		}
	}
	if n := countOpening(); n != 1 || createdN.Load() != 1 || audited("opening.announcement_regenerate") != 1 {
		t.Fatalf("%d announcements, %d created, %d audited", n, createdN.Load(), audited("opening.announcement_regenerate"))
	}
	var announcement trading.Announcement
	if err := e.TS.DB.First(&announcement, first).Error; err != nil || announcement.Status != trading.AnnouncementSubmitted ||
		!strings.Contains(announcement.Body, *o.RecordSHA256) || !strings.Contains(announcement.Body, "11600000.00") {
		t.Fatalf("regenerated announcement %s %v:\n%s", announcement.Status, err, announcement.Body)
	}
	var after Opening
	if err := e.Svc.DB.Where("lot_id = ?", e.Lot).Take(&after).Error; err != nil || after.AnnouncementID == nil || *after.AnnouncementID != first || after.AnnouncementProblem != nil {
		t.Fatalf("opening after regenerating %+v %v", after, err)
	}
	// Once more, later: the same announcement, nothing new.
	if id, created, err := e.Svc.RegenerateOpeningAnnouncement(ctx, e.Agent, e.Lot); err != nil || created || id != first || countOpening() != 1 {
		t.Fatalf("regenerated again: %d %v %v", id, created, err)
	}
	e.verifyAudit()
}

// Regenerating before the hall has concluded has nothing to draft from.
func TestOpeningAnnouncementNeedsAConcludedHall(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	e.revealedHall()
	if _, _, err := e.Svc.RegenerateOpeningAnnouncement(context.Background(), e.Agent, e.Lot); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("regenerated before the conclusion: %v", err)
	}
}
