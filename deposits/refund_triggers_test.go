package deposits

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

func (e *depEnv) idNumber(a trading.Actor) string {
	var id string
	e.TS.DB.Raw("SELECT id_number FROM bidders WHERE account_id = ?", a.AccountID).Scan(&id)
	return id
}

// at2026 is a time of 2026 in Shanghai, as the project inputs take it.
func at2026(m time.Month, d, h, min int) string {
	return time.Date(2026, m, d, h, min, 0, 0, trading.Shanghai).Format(time.RFC3339)
}

// publishedLot creates a project of one lot on 2 March 2026 and publishes
// its opening announcement; it returns the lot.
func (e *depEnv) publishedLot(cat trading.Category, title string, opening trading.AnnouncementType, lot trading.LotInput) int64 {
	e.t.Helper()
	ctx := context.Background()
	e.Clock.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai))
	p, err := e.TS.CreateProject(ctx, e.Agent, trading.ProjectInput{Category: cat, Title: title, OwnerName: "福州市某局",
		RegionCode: "350100", Lots: []trading.LotInput{lot}})
	if err != nil {
		e.t.Fatal(err)
	}
	n, err := e.TS.DraftAnnouncement(ctx, e.Agent, p.Code, trading.AnnouncementInput{Type: opening, Title: title + "公告", Body: "正文"})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.TS.SubmitAnnouncement(ctx, e.Agent, n.ID); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, n.ID, nil); err != nil {
		e.t.Fatal(err)
	}
	return p.Lots[0].ID
}

// awardEngineering takes the env's lot from opening to a published award
// of bidders[0].
func (e *depEnv) awardEngineering(bidders []trading.Actor) {
	e.t.Helper()
	ctx := context.Background()
	e.Clock.Set(time.Date(2026, 3, 23, 10, 0, 0, 0, trading.Shanghai))
	var bids []bidding.BidInput
	for i, b := range bidders {
		bids = append(bids, bidding.BidInput{IDNumber: e.idNumber(b), Price: decimal.NewFromInt(int64(11000000 + i*100000)).String()})
	}
	if _, err := e.Bid.RecordOpening(ctx, e.Agent, e.Lot, bidding.OpeningInput{Bids: bids}); err != nil {
		e.t.Fatal(err)
	}
	cn, err := e.Bid.SetCandidates(ctx, e.Agent, e.Lot, bidding.CandidatesInput{IDNumbers: []string{e.idNumber(bidders[0])},
		PublicityEnd: time.Date(2026, 3, 27, 17, 0, 0, 0, trading.Shanghai)})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, cn.ID, nil); err != nil {
		e.t.Fatal(err)
	}
	e.Clock.Set(time.Date(2026, 3, 30, 9, 0, 0, 0, trading.Shanghai))
	rn, err := e.Bid.Award(ctx, e.Agent, e.Lot, bidding.AwardInput{IDNumber: e.idNumber(bidders[0])})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, rn.ID, nil); err != nil {
		e.t.Fatal(err)
	}
}

// D5: nothing is refunded at the award; the contract refunds winner and
// losers with interest, due 5 days after it, paid once, books balanced.
func TestContractRefundsEveryoneWithInterest(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	var bidders []trading.Actor
	for i, name := range []string{"福建子建设有限公司", "福建丑建设有限公司", "福建寅建设有限公司"} {
		a, va := e.bidder(name)
		bidders = append(bidders, a)
		if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("C"+itoa(int64(i)), va, name, "200000.00", e.Clock.Now())}); err != nil {
			t.Fatal(err)
		}
	}
	e.awardEngineering(bidders)
	if rs := e.refunds(""); len(rs) != 0 {
		t.Fatalf("refunds before the contract: %+v", rs)
	}
	e.Clock.Set(time.Date(2026, 4, 10, 9, 0, 0, 0, trading.Shanghai))
	if _, err := e.Bid.RecordContract(ctx, e.Agent, e.Lot, bidding.ContractInput{Date: time.Date(2026, 4, 9, 0, 0, 0, 0, trading.Shanghai)}); err != nil {
		t.Fatal(err)
	}
	rs := e.refunds("pending")
	if len(rs) != 3 {
		t.Fatalf("%d refunds after the contract", len(rs))
	}
	for _, r := range rs {
		if r.Rule != "D5" || !r.WithInterest || r.DueOn.Format("2006-01-02") != "2026-04-14" {
			t.Fatalf("refund %+v", r.Refund)
		}
	}
	b, err := e.Dep.CreateBatch(ctx, sup)
	if err != nil {
		t.Fatal(err)
	}
	// 200,000.00 × 0.35 % × 37 days (4 March – 10 April) ÷ 360 = 71.94 each.
	want := decimal.RequireFromString("600215.82")
	if !b.Total.Equal(want) {
		t.Fatalf("batch total %s, want %s", b.Total, want)
	}
	for _, r := range e.refunds("sent") {
		if _, err := e.Dep.Confirm(ctx, sup, r.ID, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	e.verifyClean()
}

// G6 and G7: a procurement award refunds the losers within 5 working days,
// the contract the winner; a refund batched late owes the occupation fee
// (loan rate + 20 %) on top, and the ledger books it.
func TestProcurementRefundsAndOccupationFee(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	lot := e.procurementAwarded()
	rs := e.refunds("pending")
	if len(rs) != 2 || rs[0].Rule != "G6" || rs[0].DueOn.Format("2006-01-02") != "2026-04-01" || rs[0].WithInterest {
		t.Fatalf("loser refunds: %+v", rs)
	}
	// Batched on 11 April: 10 days late. 60,000.00 × 3.00 % × 1.2 × 10 ÷ 360 = 60.00.
	e.Clock.Set(time.Date(2026, 4, 11, 9, 0, 0, 0, trading.Shanghai))
	if v := e.refunds("pending"); !v[0].Overdue || !v[0].OccupationFee.Equal(decimal.RequireFromString("60")) {
		t.Fatalf("fee shown: %+v", v[0])
	}
	b, err := e.Dep.CreateBatch(ctx, sup)
	if err != nil || !b.Total.Equal(decimal.RequireFromString("120120")) {
		t.Fatalf("batch %+v %v", b, err)
	}
	for _, r := range e.refunds("sent") {
		if !r.Fee.Equal(decimal.RequireFromString("60")) {
			t.Fatalf("fee fixed %s", r.Fee)
		}
		if _, err := e.Dep.Confirm(ctx, sup, r.ID, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	if feeBooked := e.feeBooked(); !feeBooked.Equal(decimal.RequireFromString("120")) {
		t.Fatalf("fee booked %s", feeBooked)
	}
	// The contract refunds the winner (G6, 5 working days after it).
	if _, err := e.Bid.RecordContract(ctx, e.Agent, lot, bidding.ContractInput{Date: time.Date(2026, 4, 10, 0, 0, 0, 0, trading.Shanghai), Amount: "2790000"}); err != nil {
		t.Fatal(err)
	}
	rs = e.refunds("pending")
	if len(rs) != 1 || rs[0].Rule != "G6" || rs[0].DueOn.Format("2006-01-02") != "2026-04-17" {
		t.Fatalf("winner refund: %+v", rs)
	}
	var o trading.LotOutcome
	e.TS.DB.First(&o, "lot_id = ?", lot)
	if o.Savings().String() != "210000" {
		t.Fatalf("procurement savings on the contract amount: %s", o.Savings())
	}
	e.verifyClean()
}

// feeBooked is the G7 fees the ledger has booked (occupation_fee_expense).
func (e *depEnv) feeBooked() decimal.Decimal {
	e.t.Helper()
	var sum decimal.Decimal
	if err := e.TS.DB.Raw("SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE account = 'occupation_fee_expense'").Scan(&sum).Error; err != nil {
		e.t.Fatal(err)
	}
	return sum
}

// procurementAwarded publishes a procurement lot with a 60,000.00 deposit,
// three paying suppliers, the opening, candidates and the award of the
// first, published Wednesday 25 March 2026: the two losers' G6 refunds
// are due Wednesday 1 April. It returns the lot.
func (e *depEnv) procurementAwarded() int64 {
	t := e.t
	t.Helper()
	ctx := context.Background()
	lot := e.publishedLot("procurement", "退款测试采购项目", "procurement", trading.LotInput{Name: "第1包", Budget: "3000000.00",
		Deposit: "60000.00", DocIssueStart: at2026(3, 3, 9, 0), DocIssueEnd: at2026(3, 10, 17, 0), BidDeadline: at2026(3, 25, 9, 30)})
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	decl := map[string]bool{}
	for _, d := range bidding.ProcurementDeclarations {
		decl[d.Key] = true
	}
	var bidders []trading.Actor
	for i, name := range []string{"福建卯医疗有限公司", "福建辰医疗有限公司", "福建巳医疗有限公司"} {
		a := e.signUp(name)
		if _, err := e.Bid.Register(ctx, a, lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "0591-88888888", Declarations: decl}); err != nil {
			t.Fatal(err)
		}
		var va VirtualAccount
		e.Dep.DB.Where("bidder_id = ? AND lot_id = ?", a.AccountID, lot).First(&va)
		if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("P"+itoa(int64(i)), va.Number, name, "60000.00", e.Clock.Now())}); err != nil {
			t.Fatal(err)
		}
		bidders = append(bidders, a)
	}
	e.Clock.Set(time.Date(2026, 3, 25, 10, 0, 0, 0, trading.Shanghai))
	var bids []bidding.BidInput
	for i, b := range bidders {
		bids = append(bids, bidding.BidInput{IDNumber: e.idNumber(b), Price: decimal.NewFromInt(int64(2800000 + i*10000)).String()})
	}
	if _, err := e.Bid.RecordOpening(ctx, e.Agent, lot, bidding.OpeningInput{Bids: bids}); err != nil {
		t.Fatal(err)
	}
	cn, err := e.Bid.SetCandidates(ctx, e.Agent, lot, bidding.CandidatesInput{IDNumbers: []string{e.idNumber(bidders[0]), e.idNumber(bidders[1])}})
	if err != nil {
		t.Fatal(err)
	}
	e.TS.ApproveAnnouncement(ctx, e.Sup, cn.ID, nil)
	rn, err := e.Bid.Award(ctx, e.Agent, lot, bidding.AwardInput{IDNumber: e.idNumber(bidders[0])})
	if err != nil {
		t.Fatal(err)
	}
	// Published Wednesday 25 March: 5 working days → Wednesday 1 April.
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, rn.ID, nil); err != nil {
		t.Fatal(err)
	}
	return lot
}

// L5: a land sale converts the buyer's deposit into part of the price and
// refunds the others without interest within 5 working days.
func TestLandSaleConvertsWinnersDeposit(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	lot := e.publishedLot("land", "退款测试土地出让", "listing", trading.LotInput{Name: "榕土2026-09号地块", StartingPrice: "5000000.00",
		Increment: "100000.00", Deposit: "1000000.00", ListingStart: at2026(3, 23, 9, 0), ListingEnd: at2026(4, 8, 16, 0)})
	e.Clock.Set(time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	var bidders []trading.Actor
	for i, name := range []string{"福建午置业有限公司", "福建未置业有限公司"} {
		a := e.signUp(name)
		reg, err := e.Bid.Register(ctx, a, lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "13900000000"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Bid.Review(ctx, e.Agent, reg.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		var va VirtualAccount
		e.Dep.DB.Where("bidder_id = ? AND lot_id = ?", a.AccountID, lot).First(&va)
		if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("L"+itoa(int64(i)), va.Number, name, "1000000.00", e.Clock.Now())}); err != nil {
			t.Fatal(err)
		}
		bidders = append(bidders, a)
	}
	e.Clock.Set(time.Date(2026, 4, 9, 9, 0, 0, 0, trading.Shanghai))
	rn, err := e.Bid.RecordDeal(ctx, e.Agent, lot, bidding.DealInput{IDNumber: e.idNumber(bidders[1]), Price: "5800000"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, rn.ID, nil); err != nil {
		t.Fatal(err)
	}
	rs := e.refunds("pending")
	// Thursday 9 April + 5 working days = Thursday 16 April.
	if len(rs) != 1 || rs[0].Rule != "L5" || rs[0].WithInterest || rs[0].DueOn.Format("2006-01-02") != "2026-04-16" ||
		rs[0].PayeeName != "福建午置业有限公司" {
		t.Fatalf("L5 refunds: %+v", rs)
	}
	var converted int64
	e.Dep.DB.Model(&StoredInflow{}).Where("status = 'converted'").Count(&converted)
	if converted != 1 {
		t.Fatalf("%d inflows converted", converted)
	}
	// The buyer sees the deposit paid, then converted (issue 13, item 5).
	mine, err := e.Dep.MyDeposits(ctx, bidders[1])
	if err != nil || len(mine) != 1 || mine[0].Received.StringFixed(2) != "1000000.00" || mine[0].Shortfall().IsPositive() ||
		mine[0].State(e.Clock.Now()) != "已足额缴纳，已转为成交价款（L5）" {
		t.Fatalf("buyer's page: %+v %v", mine, err)
	}
	e.verifyClean()
}

// A deposit is never both kept and sent back: forfeiture (D7) racing a
// refund opened by a withdrawal (D6) leaves exactly one of them.
func TestForfeitureRacingRefundKeepsOne(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	for i := 0; i < 8; i++ {
		name := "福建竞态" + itoa(int64(i)) + "建设有限公司"
		a, va := e.bidder(name)
		if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("F"+itoa(int64(i)), va, name, "200000.00", e.Clock.Now())}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); e.Dep.Forfeit(ctx, sup, va, "D7", "串通投标查实，没收保证金") }()
		go func() { defer wg.Done(); e.Bid.Withdraw(ctx, a, e.Lot) }()
		wg.Wait()
		var forfeited, refunds int64
		e.TS.DB.Raw(`SELECT count(*) FROM inflows i JOIN virtual_accounts va ON va.id = i.virtual_account_id WHERE va.number = ? AND i.status = 'forfeited'`, va).Scan(&forfeited)
		e.TS.DB.Raw(`SELECT count(*) FROM refunds r JOIN inflows i ON i.id = r.inflow_id JOIN virtual_accounts va ON va.id = i.virtual_account_id WHERE va.number = ?`, va).Scan(&refunds)
		if forfeited+refunds != 1 {
			t.Fatalf("round %d: %d forfeited, %d refunds", i, forfeited, refunds)
		}
	}
	e.verifyClean()
}

// A land buyer whose deposit has not arrived cannot be named.
func TestLandBuyerMustHavePaid(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	lot := e.publishedLot("land", "未缴保证金测试地块", "listing", trading.LotInput{Name: "地块", StartingPrice: "5000000.00",
		Increment: "100000.00", Deposit: "1000000.00", ListingStart: at2026(3, 23, 9, 0), ListingEnd: at2026(4, 8, 16, 0)})
	e.Clock.Set(time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	a := e.signUp("福建申置业有限公司")
	reg, err := e.Bid.Register(ctx, a, lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "13900000000"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Bid.Review(ctx, e.Agent, reg.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(time.Date(2026, 4, 9, 9, 0, 0, 0, trading.Shanghai))
	_, err = e.Bid.RecordDeal(ctx, e.Agent, lot, bidding.DealInput{IDNumber: e.idNumber(a), Price: "5000000"})
	if te := trading.AsError(err); te == nil || te.Field != "id_number" || !strings.Contains(te.Message, "保证金") {
		t.Fatalf("buyer without a deposit: %v", err)
	}
}

// A land deal on Monday 28 December 2026, before the 2027 notice is loaded:
// the L5 refund is queued (it was refused with CAL), due no later than any
// official 2027 notice could make it. Without the notice only 元旦 is sure
// to be off and the first weekend of 2027 may be make-up working days, so
// 29, 30, 31 December and 2, 3 January count: due 2027-01-03.
func TestLandSaleInDecemberRefundsWithoutNextYearsNotice(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	lot := e.publishedLot("land", "年末土地出让", "listing", trading.LotInput{Name: "榕土2026-99号地块", StartingPrice: "5000000.00",
		Increment: "100000.00", Deposit: "1000000.00", ListingStart: at2026(3, 23, 9, 0), ListingEnd: at2026(4, 8, 16, 0)})
	e.Clock.Set(time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	var bidders []trading.Actor
	for i, name := range []string{"福建岁末置业有限公司", "福建年终置业有限公司"} {
		a := e.signUp(name)
		reg, err := e.Bid.Register(ctx, a, lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "13900000000"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Bid.Review(ctx, e.Agent, reg.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		var va VirtualAccount
		e.Dep.DB.Where("bidder_id = ? AND lot_id = ?", a.AccountID, lot).First(&va)
		if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("Y"+itoa(int64(i)), va.Number, name, "1000000.00", e.Clock.Now())}); err != nil {
			t.Fatal(err)
		}
		bidders = append(bidders, a)
	}
	e.Clock.Set(time.Date(2026, 12, 28, 9, 0, 0, 0, trading.Shanghai))
	rn, err := e.Bid.RecordDeal(ctx, e.Agent, lot, bidding.DealInput{IDNumber: e.idNumber(bidders[1]), Price: "5800000"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, rn.ID, nil); err != nil {
		t.Fatalf("December deal refused: %v", err)
	}
	rs := e.refunds("pending")
	if len(rs) != 1 || rs[0].Rule != "L5" || rs[0].DueOn.Format("2006-01-02") != "2027-01-03" {
		t.Fatalf("L5 refunds: %+v", rs)
	}
	e.verifyClean()
}
