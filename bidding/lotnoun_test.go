package bidding

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// A procurement lot is a 包 on the supervisors' timeline and in "my
// projects"' waiting list, not a 标段 (issue 14).
func TestProcurementLotIsAPackage(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("procurement", false)
	e.upload(e.Agent, p.Lots[0].ID, UploadInput{Kind: DocTender, Filename: "采购文件.pdf"}, pdfBytes(1024))
	e.publish(p, "procurement", 0, nil)
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	a := e.bidder("福建甲")
	if _, err := e.Svc.Register(ctx, a, p.Lots[0].ID, RegisterInput{ContactName: "王五", ContactPhone: "0591-87654321", Declarations: procurementDecls}); err != nil {
		t.Fatal(err)
	}
	evs, err := RegistrationSource{Svc: e.Svc}.Timeline(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, ev := range evs {
		titles = append(titles, ev.Title)
	}
	mine, err := e.Svc.MyRegistrations(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := e.Svc.WaitingOn(ctx, a, mine, e.Clock.Now())
	if err != nil || len(waiting) == 0 {
		t.Fatalf("waiting: %+v %v", waiting, err)
	}
	for _, w := range waiting {
		titles = append(titles, w.Detail)
	}
	all := strings.Join(titles, "\n")
	for _, want := range []string{"包1 报名：有效 1 家", "（包1）", " · 包1 "} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in:\n%s", want, all)
		}
	}
	if strings.Contains(all, "标段") {
		t.Errorf("a procurement lot called 标段:\n%s", all)
	}
}
