package deposits

import (
	"context"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// An amendment that extends the bid deadline extends the deposit deadline
// of the lot's accounts: money paid in the extension covers the deposit
// (D1), where it used to be judged against the old deadline and refused.
func TestAmendmentMovesTheDepositDeadline(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	a, number := e.bidder("福建延期建设有限公司")
	var p struct {
		ID   int64
		Code string
	}
	if err := e.Dep.DB.Raw(`SELECT p.id, p.code FROM projects p JOIN lots l ON l.project_id = p.id WHERE l.id = ?`, e.Lot).Scan(&p).Error; err != nil {
		t.Fatal(err)
	}
	var tender int64
	if err := e.Dep.DB.Raw(`SELECT id FROM announcements WHERE project_id = ? AND type = 'tender'`, p.ID).Scan(&tender).Error; err != nil {
		t.Fatal(err)
	}
	newDeadline := time.Date(2026, 4, 10, 9, 30, 0, 0, trading.Shanghai)
	n, err := e.TS.DraftAnnouncement(ctx, e.Agent, p.Code, trading.AnnouncementInput{Type: trading.AnnouncementAmendment,
		Title: "保证金测试工程延期公告", Body: "投标截止时间延期至2026年4月10日9时30分。", AmendsID: tender,
		Changes: []trading.LotChangeInput{{LotID: e.Lot, BidDeadline: newDeadline.Format(time.RFC3339)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.SubmitAnnouncement(ctx, e.Agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	var va VirtualAccount
	if err := e.Dep.DB.Where("number = ?", number).First(&va).Error; err != nil {
		t.Fatal(err)
	}
	if !va.Deadline.Equal(newDeadline) {
		t.Fatalf("the account's deadline after the extension: %v, want %v", va.Deadline, newDeadline)
	}
	// Paid after the old deadline (03-23 09:30), before the new one.
	e.Clock.Set(time.Date(2026, 3, 30, 10, 0, 0, 0, trading.Shanghai))
	e.pay("EXT-1", number, "福建延期建设有限公司", "200000.00")
	if ok, how := e.covered(a, e.Lot); !ok {
		t.Fatalf("money paid in the extension does not cover the deposit: %s", how)
	}
	e.verifyClean()
}
