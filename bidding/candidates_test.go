package bidding

import (
	"context"
	"net/http"
	"testing"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// A candidate or result announcement written by hand, not from a lot's result,
// is refused when drafted, and (should one exist) at submission.
func TestHandWrittenResultAnnouncementRefused(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", true)
	in := trading.AnnouncementInput{Type: trading.AnnouncementResult, Title: "手写的中标结果公告", Body: "某公司中标"}
	if _, err := e.TS.DraftAnnouncement(ctx, e.Agent, p.Code, in); trading.AsError(err) == nil || trading.AsError(err).Field != "type" {
		t.Fatalf("hand-written result announcement drafted: %v", err)
	}
	var n *trading.Announcement
	err := trading.Transact(ctx, e.TS.DB, func(tx *gorm.DB) error {
		full, err := e.TS.Project(ctx, e.Agent, p.Code)
		if err != nil {
			return err
		}
		n, err = e.TS.DraftAnnouncementTx(ctx, tx, e.Agent, full, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.TS.SubmitAnnouncement(ctx, e.Agent, n.ID)
	if te := trading.AsError(err); te == nil || te.Status() != http.StatusUnprocessableEntity {
		t.Fatalf("unlinked result announcement submitted: %v", err)
	}
}
