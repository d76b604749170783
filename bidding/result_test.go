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
// (E11, E12), the award (E13), the result announcement, the contract (E14).
func TestEngineeringResultFlow(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	var events []ResultEventKind
	e.Svc.OnResult = append(e.Svc.OnResult, func(_ context.Context, _ *gorm.DB, ev ResultEvent) error {
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
		t.Fatalf("a refused publicity left %d announcements", n)
	}
	cands := short
	cands.PublicityEnd = four.PublicityEnd
	cn, err := e.Svc.SetCandidates(ctx, e.Agent, lotID, cands)
	if err != nil || cn.Status != trading.AnnouncementSubmitted || !strings.Contains(cn.Body, "11,500,000.00") {
		t.Fatalf("candidates: %+v %v", cn, err)
	}
	// The award waits for the publication and the end of the publicity.
	if _, err := e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[0])}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("awarded before publication: %v", err)
	}
	e.approve(cn.ID)
	// Like every broken rule, E12 answers 422 "rule_broken" (it was a 409 with a second code for the same meaning).
	if _, err := e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[0])}); ruleOf(err) != "E12" ||
		trading.AsError(err).Status() != http.StatusUnprocessableEntity || trading.AsError(err).Code != "rule_broken" || trading.AsError(err).Field != "publicity_end" {
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
	// Changed mind while the announcement is a draft? It is submitted: withdraw first.
	if _, err := e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[0])}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("award changed under review: %v", err)
	}
	if err := e.TS.WithdrawAnnouncement(ctx, e.Agent, rn.ID); err != nil {
		t.Fatal(err)
	}
	if rn, err = e.Svc.Award(ctx, e.Agent, lotID, AwardInput{IDNumber: e.idOf(bs[0])}); err != nil || rn.Status != trading.AnnouncementSubmitted {
		t.Fatalf("award to no. 1: %v", err)
	}
	if _, err := e.Svc.RecordContract(ctx, e.Agent, lotID, ContractInput{Date: e.Clock.Now()}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("contract before the result announcement: %v", err)
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
	if err != nil || v.Winner == "" || len(v.Bids) != 4 || v.ResultAnnouncement == nil || v.ResultAnnouncement.Status != trading.AnnouncementPublished {
		t.Fatalf("view: %+v %v", v, err)
	}
	e.verifyAudit()
}

// A winning price above the control price is negative savings.
func TestNegativeSavingsOutcome(t *testing.T) {
	t.Parallel()
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
