package bidding

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// idOf is the credit code of a bidder account.
func (e *bidEnv) idOf(a trading.Actor) string {
	e.t.Helper()
	var id string
	if err := e.TS.DB.Raw("SELECT id_number FROM bidders WHERE account_id = ?", a.AccountID).Scan(&id).Error; err != nil || id == "" {
		e.t.Fatalf("bidder %d: %v", a.AccountID, err)
	}
	return id
}

// registerBidders registers n new bidders for the project's first lot
// (during its window) and returns them.
func (e *bidEnv) registerBidders(p *trading.Project, n int) []trading.Actor {
	e.t.Helper()
	ctx := context.Background()
	var out []trading.Actor
	for i := 0; i < n; i++ {
		b := e.bidder("投标" + string(rune('甲'+i)))
		in := RegisterInput{}
		switch p.Category {
		case "procurement":
			in = RegisterInput{ContactName: "王五", ContactPhone: "0591-87654321", Declarations: procurementDecls}
		case "land", "property":
			in = RegisterInput{ContactName: "王五", ContactPhone: "13900000000"}
		}
		reg, err := e.Svc.Register(ctx, b, p.Lots[0].ID, in)
		if err != nil {
			e.t.Fatalf("register %d: %v", i, err)
		}
		if reg.Status == StatusPending {
			if err := e.Svc.Review(ctx, e.Agent, reg.ID, true, ""); err != nil {
				e.t.Fatal(err)
			}
		}
		out = append(out, b)
	}
	return out
}

func (e *bidEnv) outcome(lotID int64) trading.LotOutcome {
	e.t.Helper()
	var o trading.LotOutcome
	if err := e.TS.DB.First(&o, "lot_id = ?", lotID).Error; err != nil {
		e.t.Fatalf("outcome of lot %d: %v", lotID, err)
	}
	return o
}

func (e *bidEnv) approve(id int64) {
	e.t.Helper()
	if _, err := e.TS.ApproveAnnouncement(context.Background(), e.Sup, id, nil); err != nil {
		e.t.Fatalf("approve %d: %v", id, err)
	}
}

func ruleOf(err error) string {
	if te := trading.AsError(err); te != nil {
		if te.Rule != "" {
			return te.Rule
		}
		for _, v := range te.Violations {
			return v.Rule
		}
	}
	return ""
}

// The engineering path end to end: opening after the deadline, candidates
// (E11, E12), the award (E13), the result notice, the contract (E14).
func TestEngineeringResultFlow(t *testing.T) {
	e := newBidEnv(t)
	ctx := context.Background()
	var events []ResultEventKind
	e.Svc.OnResult = append(e.Svc.OnResult, func(_ *gorm.DB, ev ResultEvent) error {
		events = append(events, ev.Kind)
		return nil
	})
	p := e.project("engineering", true)
	e.TS.DB.Exec("UPDATE projects SET state_funded = true WHERE id = ?", p.ID)
	lotID := p.Lots[0].ID
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	bs := e.registerBidders(p, 4)
	stranger := e.bidder("未报名")
	open := OpeningInput{Bids: []BidInput{
		{IDNumber: e.idOf(bs[0]), Price: "11500000.00"},
		{IDNumber: e.idOf(bs[1]), Price: "11800000.50"},
		{IDNumber: e.idOf(bs[2]), Price: "10000000.00", RejectedReason: "未按要求提交投标保证金"},
		{IDNumber: e.idOf(bs[3]), Price: "12100000.00"},
	}}
	// Before the deadline (23 March 09:30) nothing is recorded (E6).
	if _, err := e.Svc.RecordOpening(ctx, e.Agent, lotID, open); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("opened before the deadline: %v", err)
	}
	e.Clock.Set(time.Date(2026, 3, 23, 10, 0, 0, 0, trading.Shanghai))
	other := e.staff(trading.RoleAgent, "daili2")
	if _, err := e.Svc.RecordOpening(ctx, other, lotID, open); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("another agent recorded: %v", err)
	}
	bad := OpeningInput{Bids: append([]BidInput{}, open.Bids...)}
	bad.Bids = append(bad.Bids, BidInput{IDNumber: e.idOf(stranger), Price: "1.00"})
	if _, err := e.Svc.RecordOpening(ctx, e.Agent, lotID, bad); trading.AsError(err) == nil || trading.AsError(err).Field != "bids[4].id_number" {
		t.Fatalf("unregistered bidder accepted: %v", err)
	}
	bad.Bids = []BidInput{open.Bids[0], {IDNumber: e.idOf(bs[1]), Price: "12.345"}, open.Bids[2]}
	if _, err := e.Svc.RecordOpening(ctx, e.Agent, lotID, bad); trading.AsError(err) == nil || trading.AsError(err).Field != "bids[1].price" {
		t.Fatalf("three decimals accepted: %v", err)
	}
	r, err := e.Svc.RecordOpening(ctx, e.Agent, lotID, open)
	if err != nil || r.Stage != StageOpened {
		t.Fatalf("opening: %+v %v", r, err)
	}
	// E11: at most 3 candidates; a rejected bid is no candidate.
	four := CandidatesInput{IDNumbers: []string{e.idOf(bs[0]), e.idOf(bs[1]), e.idOf(bs[3]), e.idOf(bs[2])},
		PublicityEnd: time.Date(2026, 3, 27, 17, 0, 0, 0, trading.Shanghai)}
	if _, err := e.Svc.SetCandidates(ctx, e.Agent, lotID, four); ruleOf(err) != "E11" {
		t.Fatalf("four candidates: %v", err)
	}
	rejected := CandidatesInput{IDNumbers: []string{e.idOf(bs[2])}, PublicityEnd: four.PublicityEnd}
	if _, err := e.Svc.SetCandidates(ctx, e.Agent, lotID, rejected); !errors.Is(err, trading.ErrInvalid) {
		t.Fatalf("rejected bid as candidate: %v", err)
	}
	// E12: a publicity shorter than 3 days is refused at submission, and
	// nothing of the attempt remains.
	short := CandidatesInput{IDNumbers: []string{e.idOf(bs[0]), e.idOf(bs[1]), e.idOf(bs[3])},
		PublicityEnd: time.Date(2026, 3, 25, 17, 0, 0, 0, trading.Shanghai)}
	if _, err := e.Svc.SetCandidates(ctx, e.Agent, lotID, short); ruleOf(err) != "E12" {
		t.Fatalf("short publicity: %v", err)
	}
	if n := e.count(&trading.Announcement{}); n != 1 {
		t.Fatalf("a refused publicity left %d notices", n)
	}
	cands := short
	cands.PublicityEnd = four.PublicityEnd
	cn, err := e.Svc.SetCandidates(ctx, e.Agent, lotID, cands)
	if err != nil || cn.Status != trading.NoticeSubmitted || !strings.Contains(cn.Body, "11,500,000.00") {
		t.Fatalf("candidates: %+v %v", cn, err)
	}
	// The award waits for the publication and the end of the publicity.
	if _, err := e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[0])}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("awarded before publication: %v", err)
	}
	e.approve(cn.ID)
	if _, err := e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[0])}); ruleOf(err) != "E12" {
		t.Fatalf("awarded during publicity: %v", err)
	}
	e.Clock.Set(time.Date(2026, 3, 30, 9, 0, 0, 0, trading.Shanghai))
	// E13: a state-funded project awards no. 1 unless no. 1 declined.
	if _, err := e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[1])}); ruleOf(err) != "E13" {
		t.Fatalf("no. 2 awarded over no. 1: %v", err)
	}
	rn, err := e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[1]),
		Declined: map[string]string{e.idOf(bs[0]): "第一名书面放弃中标"}})
	if err != nil || !strings.Contains(rn.Body, "第一名书面放弃中标") {
		t.Fatalf("award to no. 2 with a reason: %v", err)
	}
	// Changed mind while the notice is a draft? It is submitted: withdraw first.
	if _, err := e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[0])}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("award changed under review: %v", err)
	}
	if err := e.TS.WithdrawAnnouncement(ctx, e.Agent, rn.ID); err != nil {
		t.Fatal(err)
	}
	if rn, err = e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[0])}); err != nil || rn.Status != trading.NoticeSubmitted {
		t.Fatalf("award to no. 1: %v", err)
	}
	if _, err := e.Svc.RecordContract(ctx, e.Agent, lotID, ContractInput{Date: e.Clock.Now()}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("contract before the result notice: %v", err)
	}
	e.approve(rn.ID)
	o := e.outcome(lotID)
	if o.Status != trading.OutcomeCompleted || !o.Base.Equal(decimal.RequireFromString("12000000")) ||
		!o.Result.Equal(decimal.RequireFromString("11500000")) || o.Savings().String() != "500000" {
		t.Fatalf("outcome: %+v", o)
	}
	if o.DecidedOn.Format("2006-01-02") != "2026-03-30" {
		t.Fatalf("decided on %v", o.DecidedOn)
	}
	// E14: a contract more than 30 days after the award is flagged.
	e.Clock.Set(time.Date(2026, 5, 6, 9, 0, 0, 0, trading.Shanghai))
	if _, err := e.Svc.RecordContract(ctx, e.Agent, lotID, ContractInput{Date: time.Date(2026, 5, 7, 0, 0, 0, 0, trading.Shanghai)}); !errors.Is(err, trading.ErrInvalid) {
		t.Fatalf("contract in the future: %v", err)
	}
	r, err = e.Svc.RecordContract(ctx, e.Agent, lotID, ContractInput{Date: time.Date(2026, 5, 5, 0, 0, 0, 0, trading.Shanghai)})
	if err != nil || r.Stage != StageContracted || !r.ContractLate {
		t.Fatalf("late contract: %+v %v", r, err)
	}
	if want := []ResultEventKind{EventAwarded, EventContracted}; len(events) != 2 || events[0] != want[0] || events[1] != want[1] {
		t.Fatalf("events %v", events)
	}
	for i, want := range []string{"已中标，中标金额 11,500,000.00 元", "未中标"} {
		mine, err := e.Svc.MyRegistrations(ctx, bs[i])
		if err != nil || len(mine) != 1 || mine[0].Outcome != want {
			t.Fatalf("bidder %d sees %+v %v", i, mine, err)
		}
	}
	v, err := e.Svc.Result(ctx, e.Sup, lotID)
	if err != nil || v.Winner == "" || len(v.Bids) != 4 || v.ResultNotice == nil || v.ResultNotice.Status != trading.NoticePublished {
		t.Fatalf("view: %+v %v", v, err)
	}
	e.verifyAudit()
}

// A winning price above the control price is negative savings.
func TestNegativeSavingsOutcome(t *testing.T) {
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", true)
	lotID := p.Lots[0].ID
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	bs := e.registerBidders(p, 3)
	e.Clock.Set(time.Date(2026, 3, 23, 10, 0, 0, 0, trading.Shanghai))
	var bids []BidInput
	for i, b := range bs {
		bids = append(bids, BidInput{IDNumber: e.idOf(b), Price: []string{"12000100.00", "12500000", "13000000"}[i]})
	}
	if _, err := e.Svc.RecordOpening(ctx, e.Agent, lotID, OpeningInput{Bids: bids}); err != nil {
		t.Fatal(err)
	}
	cn, err := e.Svc.SetCandidates(ctx, e.Agent, lotID, CandidatesInput{IDNumbers: []string{e.idOf(bs[0])},
		PublicityEnd: time.Date(2026, 3, 27, 10, 0, 0, 0, trading.Shanghai)})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(cn.ID)
	e.Clock.Set(time.Date(2026, 3, 28, 10, 0, 0, 0, trading.Shanghai))
	rn, err := e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[0])})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(rn.ID)
	if o := e.outcome(lotID); o.Savings().String() != "-100" {
		t.Fatalf("savings %s", o.Savings())
	}
}

// Fewer than 3 bidders fail an engineering tender without opening (E7),
// fewer than 3 qualified suppliers a procurement (G10); failed lots are
// outcomes of their own, never in a rate.
func TestFailedTenders(t *testing.T) {
	e := newBidEnv(t)
	ctx := context.Background()
	var failed []string
	e.Svc.OnResult = append(e.Svc.OnResult, func(_ *gorm.DB, ev ResultEvent) error {
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

// Land: the deal may not be below the starting or the (secret) reserve
// price (L3); publication of the result notice makes it sold; a no-sale
// is a failed outcome.
func TestLandDeal(t *testing.T) {
	e := newBidEnv(t)
	ctx := context.Background()
	land := e.project("land", true)
	land2 := e.project("land", true)
	e.Clock.Set(time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	bs := e.registerBidders(land, 2)
	if _, err := e.Svc.RecordDeal(ctx, e.Agent, land.Lots[0].ID, DealInput{IDNumber: e.idOf(bs[0]), Price: "6000000"}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("deal before the listing closed: %v", err)
	}
	e.Clock.Set(time.Date(2026, 4, 8, 17, 0, 0, 0, trading.Shanghai))
	_, err := e.Svc.RecordDeal(ctx, e.Agent, land.Lots[0].ID, DealInput{IDNumber: e.idOf(bs[0]), Price: "5500000"})
	if ruleOf(err) != "L3" || strings.Contains(err.Error(), "5600000") {
		t.Fatalf("below reserve: %v", err)
	}
	if _, err := e.Svc.RecordDeal(ctx, e.Agent, land.Lots[0].ID, DealInput{IDNumber: e.idOf(bs[0]), Price: "4000000"}); !errors.Is(err, trading.ErrInvalid) {
		t.Fatalf("below start: %v", err)
	}
	n, err := e.Svc.RecordDeal(ctx, e.Agent, land.Lots[0].ID, DealInput{IDNumber: e.idOf(bs[0]), Price: "6200000.00"})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(n.ID)
	o := e.outcome(land.Lots[0].ID)
	if o.Status != trading.OutcomeCompleted || o.Savings().String() != "1200000" {
		t.Fatalf("premium: %+v %s", o, o.Savings())
	}
	n, err = e.Svc.RecordDeal(ctx, e.Agent, land2.Lots[0].ID, DealInput{NoSale: true, Reason: "无人报价，流拍"})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(n.ID)
	var r LotResult
	e.TS.DB.First(&r, "lot_id = ?", land2.Lots[0].ID)
	if r.Stage != StageNoSale || e.outcome(land2.Lots[0].ID).Status != trading.OutcomeFailed {
		t.Fatalf("no sale: %+v", r)
	}
}

// A candidate or result notice written by hand, not from a lot's result,
// is refused when drafted, and (should one exist) at submission.
func TestHandWrittenResultNoticeRefused(t *testing.T) {
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", true)
	in := trading.AnnouncementInput{Type: trading.NoticeResult, Title: "手写的中标结果公告", Body: "某公司中标"}
	if _, err := e.TS.DraftAnnouncement(ctx, e.Agent, p.Code, in); trading.AsError(err) == nil || trading.AsError(err).Field != "type" {
		t.Fatalf("hand-written result notice drafted: %v", err)
	}
	var n *trading.Announcement
	err := trading.Transact(ctx, e.TS.DB, func(tx *gorm.DB) error {
		full, err := e.TS.Project(ctx, e.Agent, p.Code)
		if err != nil {
			return err
		}
		n, err = e.TS.DraftNoticeTx(ctx, tx, e.Agent, full, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.TS.SubmitAnnouncement(ctx, e.Agent, n.ID)
	if te := trading.AsError(err); te == nil || te.Status != http.StatusUnprocessableEntity {
		t.Fatalf("unlinked result notice submitted: %v", err)
	}
}

// A suspended project records no results, and says why.
func TestSuspendedProjectRecordsNoResult(t *testing.T) {
	e := newBidEnv(t)
	p := e.project("engineering", true)
	e.Clock.Set(time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	e.TS.DB.Exec("UPDATE projects SET suspended_at = now(), suspend_reason = '收到投诉，暂停核查' WHERE id = ?", p.ID)
	_, err := e.Svc.RecordOpening(context.Background(), e.Agent, p.Lots[0].ID, OpeningInput{Bids: []BidInput{{IDNumber: "X"}}})
	if !errors.Is(err, trading.ErrSuspended) || !strings.Contains(err.Error(), "收到投诉") {
		t.Fatalf("suspended: %v", err)
	}
}

// After the publicity, every candidate may decline: the lot fails, and
// the notice still on its way is withdrawn. After an award, the winner
// may decline: the next candidate is named with the reason, in a new
// result notice. Generated notices cannot be edited by hand.
func TestFailAfterCandidatesAndReaward(t *testing.T) {
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
	// A generated notice is not edited by hand.
	if err := e.TS.WithdrawAnnouncement(ctx, e.Agent, cn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.UpdateAnnouncement(ctx, e.Agent, cn.ID, trading.AnnouncementInput{Type: trading.NoticeCandidates, Title: cn.Title, Body: "改过的名单"}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("generated notice edited: %v", err)
	}
	if err := e.Svc.DeclareFailed(ctx, e.Agent, p.Lots[0].ID, "中标候选人均放弃中标"); err != nil {
		t.Fatal(err)
	}
	var n trading.Announcement
	e.TS.DB.First(&n, cn.ID)
	if n.Status != trading.NoticeRejected || e.outcome(p.Lots[0].ID).Status != trading.OutcomeFailed {
		t.Fatalf("after failing: notice %s, outcome %s", n.Status, e.outcome(p.Lots[0].ID).Status)
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
	// A suspended project publishes no result notice.
	rn3, err := e.Svc.Award(ctx, e.Agent, p2.Lots[0].ID, AwardInput{IDNumber: ids[0], Declined: map[string]string{ids[1]: "放弃"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.SuspendProject(ctx, e.Sup, p2.Code, "收到投诉，暂停核查"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, rn3.ID, nil); !errors.Is(err, trading.ErrSuspended) {
		t.Fatalf("result published while suspended: %v", err)
	}
}
