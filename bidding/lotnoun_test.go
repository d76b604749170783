package bidding

import (
	"context"
	"errors"
	"fmt"
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

// auditSummaries are the audit summaries of a lot, in order.
func (e *bidEnv) auditSummaries(lotID int64) string {
	var out []string
	if err := e.TS.DB.Raw("SELECT summary FROM audit_events WHERE object_type = 'lot' AND object_id = ? ORDER BY id", fmt.Sprint(lotID)).
		Scan(&out).Error; err != nil {
		e.t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

// A procurement lot is a 包 in what its result generates: the candidate
// and result announcements' bodies, and the audit summaries of the
// candidates, the award and the contract (issue 14: they said 标段).
func TestProcurementResultSaysPackage(t *testing.T) {
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
	e.Clock.Set(time.Date(2026, 4, 8, 9, 0, 0, 0, trading.Shanghai))
	if _, err := e.Svc.RecordContract(ctx, e.Agent, lotID, ContractInput{Date: time.Date(2026, 4, 7, 0, 0, 0, 0, trading.Shanghai), Amount: "2790000.00"}); err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{"candidate announcement": cn.Title + "\n" + cn.Body, "result announcement": rn.Title + "\n" + rn.Body,
		"audit": e.auditSummaries(lotID)}
	wants := map[string][]string{"candidate announcement": {" 包1 ", "包：1（"}, "result announcement": {" 包1 ", "包：1（"},
		"audit": {"包1 确定中标候选人2名", "包1 确定中标人", "包1 合同签订于 2026-04-07", "包1 录入开标记录"}}
	for what, text := range texts {
		for _, want := range wants[what] {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", what, want, text)
			}
		}
		if strings.Contains(text, "标段") {
			t.Errorf("%s calls the procurement lot 标段:\n%s", what, text)
		}
	}
}

// A land lot is a 地块 in its deal: the 成交公告's title and body, the
// audit summary, and the supervisors' and agents' texts; an error about it
// names it 地块 too (issue 14: they said 标的, property's word).
func TestLandDealSaysPlot(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	land := e.project("land", true)
	lotID := land.Lots[0].ID
	e.Clock.Set(time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	bs := e.registerBidders(land, 2)
	e.Clock.Set(time.Date(2026, 4, 8, 17, 0, 0, 0, trading.Shanghai))
	if _, err := e.Svc.NotifyDeadlines(ctx); err != nil {
		t.Fatal(err)
	}
	var told string
	if err := e.TS.DB.Raw("SELECT body FROM notifications WHERE key = ?", fmt.Sprint("deadline:lot:", lotID)).Scan(&told).Error; err != nil {
		t.Fatal(err)
	}
	if want := "项目 " + land.Code + " 地块1（"; !strings.Contains(told, want) {
		t.Errorf("the agent's deadline notification lacks %q: %q", want, told)
	}
	_, err := e.Svc.RecordDeal(ctx, e.Agent, lotID, DealInput{IDNumber: "91350100MA0000000X", Price: "6200000.00"})
	if !errors.Is(err, trading.ErrInvalid) || !strings.Contains(err.Error(), "本地块竞买申请") {
		t.Fatalf("a buyer who did not apply: %v", err)
	}
	n, err := e.Svc.RecordDeal(ctx, e.Agent, lotID, DealInput{IDNumber: e.idOf(bs[0]), Price: "6200000.00"})
	if err != nil {
		t.Fatal(err)
	}
	audit := e.auditSummaries(lotID)
	for what, c := range map[string]struct{ text, want string }{
		"title": {n.Title, "1号地块 成交公告"}, "body": {n.Body, "地块：1（"}, "audit": {audit, "项目 " + land.Code + " 地块1 录入交易结果"}} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%s lacks %q:\n%s", what, c.want, c.text)
		}
		if strings.Contains(c.text, "标的") || strings.Contains(c.text, "标段") {
			t.Errorf("%s calls the land lot 标的 or 标段:\n%s", what, c.text)
		}
	}
}
