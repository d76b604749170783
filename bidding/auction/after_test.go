package auction_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding/auction"
	"github.com/ggzy/ggzy/trading"
)

// postQualLot is a land listing that admits bidders on the deposit alone
// and checks the winner after the bidding (资格后审).
func postQualLot(fallback string) trading.LotInput {
	l := landLot("listing")
	l.PostQualification = fallback
	return l
}

// verified publishes the lot's record and checks it with the command's
// verification: its result must follow from its entries.
func (e *env) verified() *auction.Verification {
	e.t.Helper()
	if err := e.Auction.PublishRecords(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	data, err := e.Auction.RecordBytes(e.ctx, e.Lot)
	if err != nil {
		e.t.Fatal(err)
	}
	v, err := auction.VerifyRecord(context.Background(), e.Trading.DB, data)
	if err != nil || !v.OK() {
		e.t.Fatalf("record: %+v %v\n%s", v, err, data)
	}
	return v
}

func (e *env) audited(action string) int64 {
	e.t.Helper()
	return e.count(`SELECT count(*) FROM audit_events WHERE action = ? AND object_id = ?`, action, itoa(e.Lot))
}

// 资格后审 with "next": bidders quote on their deposit alone (no review);
// the agent checks the winner after the bidding, turns it down, checks the
// next bidder and passes it; the lot is sold to that bidder at its own
// quote, through the deal path, and the record shows why.
func TestPostQualificationNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, postQualLot("next"))
	e.at(sh(3, 20, 10, 0, 0))
	a := e.applicant("福建甲置业有限公司", false, true)
	b := e.applicant("福建乙置业有限公司", false, true)
	c := e.applicant("福建丙置业有限公司", false, true)
	unpaid := e.applicant("福建丁置业有限公司", false, false)
	// Before the bidding ends the agent neither lists nor reviews the
	// applicants: nobody but supervisors knows who bids.
	if _, _, err := e.Bidding.Registrants(e.ctx, e.Agent, e.Lot); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("the agent listed the applicants of a post-qualified lot: %v", err)
	}
	var pending int64
	e.Trading.DB.Raw(`SELECT id FROM registrations WHERE lot_id = ? AND bidder_id = ?`, e.Lot, a.AccountID).Scan(&pending)
	if err := e.Bidding.Review(e.ctx, e.Agent, pending, true, ""); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("the agent reviewed an application of a post-qualified lot: %v", err)
	}
	if list, _, err := e.Bidding.Registrants(e.ctx, e.Sup, e.Lot); err != nil || len(list) != 4 {
		t.Fatalf("the supervisors' list: %d %v", len(list), err)
	}
	if _, _, err := e.Deposits.Guarantees(e.ctx, e.Agent, e.Lot); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("the agent listed the guarantees of a post-qualified lot: %v", err)
	}
	if n := e.count(`SELECT count(*) FROM notifications WHERE title = '竞买申请待审核'`); n != 0 {
		t.Fatalf("the agent was told of %d applications to review", n)
	}
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "5000000") // a pending application quotes: the deposit admits (资格后审)
	_, err := e.quote(unpaid, "5100000")
	e.refused(err, "L7")
	e.mustQuote(b, "5700000")
	e.mustQuote(c, "5800000")

	e.settle(listingEnd) // nobody asked for timed bidding: the best quote, which meets the reserve
	l := e.lot()
	if l.State != auction.StateQualifying || l.Outcome != nil || !l.CandidatePrice.Equal(mustDec("5800000")) {
		t.Fatalf("after the close: %+v", l)
	}
	if v, err := e.Auction.View(e.ctx, c, e.Lot); err != nil || !v.Candidate || v.Won {
		t.Fatalf("the candidate's page: %+v %v", v, err)
	}
	_, err = e.quote(a, "6000000")
	e.refused(err, "L11") // the bidding is over

	// Only the project's agent checks, and sees who the candidate is (audited).
	other := e.staff(trading.RoleAgent, "daili2")
	if _, err := e.Auction.Candidate(e.ctx, other, e.Lot); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("another agent: %v", err)
	}
	if err := e.Auction.Qualify(e.ctx, c, e.Lot, auction.QualifyInput{Passed: true}); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("a bidder qualified itself: %v", err)
	}
	cv, err := e.Auction.Candidate(e.ctx, e.Agent, e.Lot)
	if err != nil || cv.BidderName != "福建丙置业有限公司" || !cv.Price.Equal(mustDec("5800000")) || cv.Fallback != "next" {
		t.Fatalf("candidate: %+v %v", cv, err)
	}
	if n := e.count(`SELECT count(*) FROM notifications WHERE account_id = ? AND link = ?`, e.Agent.AccountID,
		"/agent/auctions/"+itoa(e.Lot)+"/qualification"); n != 1 {
		t.Fatalf("%d announcements to the agent to check the candidate", n)
	}
	if n := e.audited("auction.candidate_view"); n != 1 {
		t.Fatalf("%d audited looks at the candidate", n)
	}
	err = e.Auction.Qualify(e.ctx, e.Agent, e.Lot, auction.QualifyInput{Passed: false, Reason: " "})
	if te := trading.AsError(err); te == nil || te.Status() != http.StatusBadRequest || te.Field != "reason" {
		t.Fatalf("a failure without a reason: %v", err)
	}
	e.at(listingEnd.Add(time.Hour))
	if err := e.Auction.Qualify(e.ctx, e.Agent, e.Lot, auction.QualifyInput{Reason: "竞买人不具备公告要求的房地产开发资质"}); err != nil {
		t.Fatal(err)
	}
	l = e.lot()
	if l.State != auction.StateQualifying || !l.CandidatePrice.Equal(mustDec("5700000")) {
		t.Fatalf("after the first failure: %+v", l)
	}
	if v, _ := e.Auction.View(e.ctx, b, e.Lot); !v.Candidate {
		t.Fatal("the next bidder is not the candidate")
	}
	if err := e.Auction.Qualify(e.ctx, e.Agent, e.Lot, auction.QualifyInput{Passed: true}); err != nil {
		t.Fatal(err)
	}
	l = e.lot()
	if !l.Sold() || !l.DealPrice.Equal(mustDec("5700000")) || l.CandidateReg != nil {
		t.Fatalf("settled: %+v", l)
	}
	if v, _ := e.Auction.View(e.ctx, b, e.Lot); !v.Won {
		t.Fatal("the qualified bidder sees no confirmation")
	}
	if v, _ := e.Auction.View(e.ctx, c, e.Lot); v.Won {
		t.Fatal("the disqualified bidder won")
	}
	if n := e.count(`SELECT count(*) FROM lot_results WHERE lot_id = ? AND result_announcement_id IS NOT NULL`, e.Lot); n != 1 {
		t.Fatal("no result announcement generated for the deal")
	}
	for action, want := range map[string]int64{"auction.qualifying": 2, "auction.disqualified": 1, "auction.qualified": 1, "auction.settle": 1} {
		if n := e.audited(action); n != want {
			t.Fatalf("%d audit events %s, want %d", n, action, want)
		}
	}
	v := e.verified()
	if v.Winner != codeOf(e, b) || !v.Price.Equal(mustDec("5700000")) {
		t.Fatalf("recomputed %s %s, want b's code at 5,700,000", v.Winner, v.Price)
	}
	data, _ := e.Auction.RecordBytes(e.ctx, e.Lot)
	if strings.Contains(string(data), "资质") || strings.Contains(string(data), "福建") {
		t.Fatal("the published record carries the agent's reason or a name")
	}
}

// 资格后审 with "no_sale": the winner fails, the lot is 流拍 as its announcement
// says; with "next" and nobody else left, 流拍 too.
func TestPostQualificationNoSale(t *testing.T) {
	t.Parallel()
	for _, fallback := range []string{"no_sale", "next"} {
		t.Run(fallback, func(t *testing.T) {
			e := newEnv(t, postQualLot(fallback))
			e.at(sh(3, 20, 10, 0, 0))
			a := e.applicant("福建甲置业有限公司", false, true)
			if fallback == "no_sale" {
				b := e.applicant("福建乙置业有限公司", false, true)
				e.at(sh(3, 24, 10, 0, 0))
				e.mustQuote(b, "5700000") // would meet the reserve, but the announcement says 流拍
			}
			e.at(sh(3, 25, 10, 0, 0))
			e.mustQuote(a, "5900000")
			e.settle(listingEnd)
			if err := e.Auction.Qualify(e.ctx, e.Agent, e.Lot, auction.QualifyInput{Reason: "联合竞买协议未按公告要求公证"}); err != nil {
				t.Fatal(err)
			}
			l := e.lot()
			if l.State != auction.StateSettled || *l.Outcome != "no_sale" || !strings.Contains(l.NoSaleReason, "资格后审") {
				t.Fatalf("settled: %+v", l)
			}
			if err := e.Auction.Qualify(e.ctx, e.Agent, e.Lot, auction.QualifyInput{Passed: true}); !errors.Is(err, trading.ErrConflict) {
				t.Fatalf("checked again after the settlement: %v", err)
			}
			e.approveResult() // the no-sale announcement goes the usual way
			if v := e.verified(); v.Winner != "" {
				t.Fatalf("recomputed winner %q of a no-sale", v.Winner)
			}
		})
	}
}

func codeOf(e *env, a trading.Actor) string {
	e.t.Helper()
	var code string
	e.Trading.DB.Raw(`SELECT ab.code FROM auction_bidders ab JOIN registrations r ON r.id = ab.registration_id
		WHERE ab.lot_id = ? AND r.bidder_id = ?`, e.Lot, a.AccountID).Scan(&code)
	if code == "" {
		e.t.Fatalf("%s has no code", a.Username)
	}
	return code
}

// priorityLot is a property 一次报价 lot whose announcement names the holder of
// a priority right: the third bidder the env signs up.
func priorityLot() trading.LotInput {
	l := propertyLot("sealed")
	l.PriorityHolder = creditCode(3)
	return l
}

// P7: after the bidding the holder may buy at the final price within
// P7.priority_seconds; anyone else is refused; the holder exercises and the
// lot is sold to it at the bidding's price, audited and in the record.
func TestPriorityRightExercised(t *testing.T) {
	t.Parallel()
	e := newEnv(t, priorityLot())
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲投资有限公司", true)
	b := e.bidder("福建乙投资有限公司", true)
	holder := e.bidder("某公司原股东有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "6300000")
	e.mustQuote(b, "6100000")
	e.settle(listingEnd)
	l := e.lot()
	window := listingEnd.Add(1800 * time.Second)
	if l.State != auction.StatePriority || !l.CountdownEnd.Equal(window) || !l.CandidatePrice.Equal(mustDec("6300000")) {
		t.Fatalf("after the bidding: %+v", l)
	}
	if v, _ := e.Auction.View(e.ctx, holder, e.Lot); !v.Holder || !v.CanExercise {
		t.Fatalf("the holder's page: %+v", v)
	}
	if n := e.count(`SELECT count(*) FROM notifications WHERE account_id = ? AND link = ?`, holder.AccountID, "/auctions/"+itoa(e.Lot)+"/bid"); n != 1 {
		t.Fatalf("%d announcements to the holder", n)
	}
	if v, _ := e.Auction.View(e.ctx, a, e.Lot); v.Holder || v.CanExercise || v.Won {
		t.Fatalf("the bidding's best bidder's page: %+v", v)
	}
	err := e.Auction.Priority(e.ctx, a, e.Lot, auction.PriorityInput{Exercise: true})
	if te := trading.AsError(err); te == nil || te.Status() != http.StatusForbidden || te.Rule != "P7" {
		t.Fatalf("another bidder exercised the right: %v", err)
	}
	e.at(window.Add(-time.Second))
	if err := e.Auction.Priority(e.ctx, holder, e.Lot, auction.PriorityInput{Exercise: true}); err != nil {
		t.Fatal(err)
	}
	l = e.lot()
	if !l.Sold() || !l.DealPrice.Equal(mustDec("6300000")) {
		t.Fatalf("settled: %+v", l)
	}
	if v, _ := e.Auction.View(e.ctx, holder, e.Lot); !v.Won {
		t.Fatal("the holder sees no confirmation")
	}
	if c, err := e.Auction.Confirmation(e.ctx, holder, e.Lot); err != nil || c.BuyerName != "某公司原股东有限公司" {
		t.Fatalf("the holder's deal confirmation: %+v %v", c, err)
	}
	if n := e.audited("auction.priority_exercise"); n != 1 {
		t.Fatalf("%d audited exercises", n)
	}
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'priority_exercised' AND rule = 'P7'`, e.Lot); n != 1 {
		t.Fatalf("%d record entries of the exercise", n)
	}
	if err := e.Auction.Priority(e.ctx, holder, e.Lot, auction.PriorityInput{Exercise: true}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("exercised twice: %v", err)
	}
	if v := e.verified(); v.Winner != codeOf(e, holder) || !v.Price.Equal(mustDec("6300000")) {
		t.Fatalf("recomputed %s %s", v.Winner, v.Price)
	}
}

// P7: an answer that reaches the database after the window is refused,
// whenever it was sent; the ticker then sells to the bidding's best bidder.
// A holder who declines in time does the same at once.
func TestPriorityRightLapsedOrWaived(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"lapsed", "waived"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t, priorityLot())
			e.at(sh(3, 20, 10, 0, 0))
			a := e.bidder("福建甲投资有限公司", true)
			e.bidder("福建乙投资有限公司", true)
			holder := e.bidder("某公司原股东有限公司", true)
			e.at(sh(3, 24, 10, 0, 0))
			e.mustQuote(a, "6200000")
			e.settle(listingEnd)
			window := listingEnd.Add(1800 * time.Second)
			if how == "waived" {
				e.at(listingEnd.Add(time.Minute))
				if err := e.Auction.Priority(e.ctx, holder, e.Lot, auction.PriorityInput{Exercise: false}); err != nil {
					t.Fatal(err)
				}
			} else {
				e.at(window) // the window's end by the database's clock; the ticker has not run yet
				err := e.Auction.Priority(e.ctx, holder, e.Lot, auction.PriorityInput{Exercise: true})
				if te := trading.AsError(err); te == nil || te.Status() != http.StatusConflict || te.Rule != "P7" {
					t.Fatalf("a late exercise: %v", err)
				}
				if n := e.settle(window.Add(time.Second)); n != 1 {
					t.Fatalf("%d steps at the window's end", n)
				}
			}
			l := e.lot()
			if !l.Sold() || !l.DealPrice.Equal(mustDec("6200000")) {
				t.Fatalf("settled: %+v", l)
			}
			if v, _ := e.Auction.View(e.ctx, a, e.Lot); !v.Won {
				t.Fatal("the bidding's best bidder did not win")
			}
			if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = ?`, e.Lot, "priority_"+how); n != 1 {
				t.Fatalf("%d record entries priority_%s", n, how)
			}
			if v := e.verified(); v.Winner != codeOf(e, a) {
				t.Fatalf("recomputed %s", v.Winner)
			}
		})
	}
}

// P7: a holder who is not a qualified bidder of the lot (no deposit) gets
// no window; the record says why and the lot is sold at once.
func TestPriorityRightHolderNotQualified(t *testing.T) {
	t.Parallel()
	e := newEnv(t, priorityLot())
	e.at(sh(3, 20, 10, 0, 0))
	a := e.bidder("福建甲投资有限公司", true)
	e.bidder("福建乙投资有限公司", true)
	e.bidder("某公司原股东有限公司", false)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "6200000")
	e.settle(listingEnd)
	if l := e.lot(); !l.Sold() {
		t.Fatalf("settled: %+v", l)
	}
	if n := e.count(`SELECT count(*) FROM auction_log WHERE lot_id = ? AND kind = 'priority_lapsed' AND detail LIKE '%未取得%'`, e.Lot); n != 1 {
		t.Fatal("the record does not say why the right did not apply")
	}
}

// 资格后审: the bidders stay secret from the agent while the bidding runs,
// even after the listing's end (timed bidding goes on past it): not the
// applicants, not the guarantees, not the result page's bidders. Once the
// lot awaits its check, the agent sees them.
func TestPostQualificationBiddersSecretUntilBiddingEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, postQualLot("next"))
	e.at(sh(3, 20, 10, 0, 0))
	e.applicant("福建甲置业有限公司", false, true)
	e.applicant("福建乙置业有限公司", false, true)
	e.at(listingEnd.Add(10 * time.Minute))
	setState := func(state string) {
		t.Helper()
		if err := e.Trading.DB.Exec(`UPDATE auction_lots SET state = ?, countdown_end = ? WHERE lot_id = ?`,
			state, listingEnd.Add(time.Hour), e.Lot).Error; err != nil {
			t.Fatal(err)
		}
	}
	setState(auction.StateTimed)
	if _, _, err := e.Bidding.Registrants(e.ctx, e.Agent, e.Lot); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("the agent listed the bidders during timed bidding: %v", err)
	}
	if _, _, err := e.Deposits.Guarantees(e.ctx, e.Agent, e.Lot); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("the agent listed the guarantees during timed bidding: %v", err)
	}
	if v, err := e.Bidding.Result(e.ctx, e.Agent, e.Lot); err != nil || len(v.Bids) != 0 {
		t.Fatalf("the agent's result page during timed bidding: %d bidders, %v", len(v.Bids), err)
	}
	if list, _, err := e.Bidding.Registrants(e.ctx, e.Sup, e.Lot); err != nil || len(list) != 2 {
		t.Fatalf("the supervisors' list: %d %v", len(list), err)
	}
	if err := e.Trading.DB.Exec(`UPDATE auction_lots SET state = 'qualifying', candidate_price = 5000000,
		candidate_reg = (SELECT id FROM registrations WHERE lot_id = ? LIMIT 1) WHERE lot_id = ?`, e.Lot, e.Lot).Error; err != nil {
		t.Fatal(err)
	}
	if list, _, err := e.Bidding.Registrants(e.ctx, e.Agent, e.Lot); err != nil || len(list) != 2 {
		t.Fatalf("the agent's list while the candidate is checked: %d %v", len(list), err)
	}
}

// 资格后审 and P7 together: the holder wins the bidding, fails the agent's
// check, and the next bidder passes; the holder, turned down, gets no
// window to buy at that bidder's price: the lot is sold to the bidder.
func TestPriorityHolderFailedCheckHasNoWindow(t *testing.T) {
	t.Parallel()
	in := priorityLot()
	in.PostQualification = "next"
	e := newEnv(t, in)
	e.at(sh(3, 20, 10, 0, 0))
	a := e.applicant("福建甲投资有限公司", false, true)
	e.applicant("福建乙投资有限公司", false, true)
	holder := e.bidder("某公司原股东有限公司", true)
	e.at(sh(3, 24, 10, 0, 0))
	e.mustQuote(a, "6300000")
	e.mustQuote(holder, "6500000")
	e.settle(listingEnd)
	if l := e.lot(); l.State != auction.StateQualifying || !l.CandidatePrice.Equal(mustDec("6500000")) {
		t.Fatalf("after the bidding: %+v", l)
	}
	if err := e.Auction.Qualify(e.ctx, e.Agent, e.Lot, auction.QualifyInput{Passed: false, Reason: "营业执照已过期，资格不合格"}); err != nil {
		t.Fatal(err)
	}
	if l := e.lot(); l.State != auction.StateQualifying || !l.CandidatePrice.Equal(mustDec("6300000")) {
		t.Fatalf("after the holder failed: %+v", l)
	}
	if err := e.Auction.Qualify(e.ctx, e.Agent, e.Lot, auction.QualifyInput{Passed: true}); err != nil {
		t.Fatal(err)
	}
	l := e.lot()
	if l.State == auction.StatePriority || !l.Sold() || !l.DealPrice.Equal(mustDec("6300000")) {
		t.Fatalf("after the next bidder passed: %+v", l)
	}
	if v, _ := e.Auction.View(e.ctx, a, e.Lot); !v.Won {
		t.Fatal("the bidder who passed sees no confirmation")
	}
}
