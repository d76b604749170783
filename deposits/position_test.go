package deposits

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
)

// views is one virtual account as the three places that show it see it:
// the bidder's page (its data and the rendered row), the supervisors'
// sheet (the .xlsx file), the ledger.
type views struct {
	Page  DepositView
	Sheet map[string]string // header → raw cell of the account's row in deposits.xlsx
	// From the journal: what the centre owes on the account, what it
	// refunded, forfeited and converted.
	Owed, Refunded, Forfeited, Converted decimal.Decimal
}

// threeViews reads the account of bidder a numbered number in all three
// places, checks they agree with each other, that the books and the audit
// chain verify, and that the page says state with paid counted.
func (e *depEnv) threeViews(a trading.Actor, number, paid, state string) views {
	e.t.Helper()
	ctx := context.Background()
	var v views
	mine, err := e.Dep.MyDeposits(ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	found := false
	for _, d := range mine {
		if d.Account.Number == number {
			v.Page, found = d, true
		}
	}
	if !found {
		e.t.Fatalf("%s is not on the bidder's page", number)
	}
	var code string
	e.Dep.DB.Raw("SELECT p.code FROM projects p JOIN lots l ON l.project_id = p.id WHERE l.id = ?", v.Page.Account.LotID).Scan(&code)
	rows, err := e.Dep.DepositSheet(ctx, e.Sup, code)
	if err != nil {
		e.t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteDepositSheet(&buf, code, rows); err != nil {
		e.t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		e.t.Fatal(err)
	}
	cells, _ := f.GetRows("保证金台账", excelize.Options{RawCellValue: true})
	for _, row := range cells[1:] {
		if len(row) > 4 && row[4] == number {
			v.Sheet = map[string]string{}
			for i, h := range cells[0] {
				if i < len(row) {
					v.Sheet[h] = row[i]
				}
			}
		}
	}
	if v.Sheet == nil {
		e.t.Fatalf("%s is not in deposits.xlsx: %q", number, cells)
	}
	ledger := func(cond string) decimal.Decimal {
		var d decimal.Decimal
		e.Dep.DB.Raw(`SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE `+cond, "va:"+number, number).Scan(&d)
		return d
	}
	v.Owed = ledger("account = ? AND ? <> ''").Neg()
	v.Refunded = ledger("account = ? AND journal_id LIKE 'refund:%' AND ? <> ''")
	v.Forfeited = ledger("account = 'forfeiture' AND ? <> '' AND inflow_id IN (SELECT id FROM inflows WHERE account_number = ?)").Neg()
	v.Converted = ledger("account = 'conversion' AND ? <> '' AND inflow_id IN (SELECT id FROM inflows WHERE account_number = ?)").Neg()

	p := v.Page
	cell := func(h string) decimal.Decimal {
		d, err := decimal.NewFromString(v.Sheet[h])
		if err != nil {
			e.t.Fatalf("%s: sheet cell %s = %q", number, h, v.Sheet[h])
		}
		return d
	}
	agree := []struct {
		what             string
		page, sheet, led decimal.Decimal
	}{
		{"有效缴纳", p.Received, cell("有效缴纳（元）"), p.Received},
		{"差额", p.Shortfall(), cell("差额（元）"), p.Shortfall()},
		{"应付（账上余额）", p.Owed(), cell("在账有效（元）").Add(cell("退还中（元）")).Add(cell("无效到账（元）")), v.Owed},
		{"已退还", p.Refunded, cell("已退还（元）"), v.Refunded},
		{"已没收", p.Forfeited, cell("已没收（元）"), v.Forfeited},
		{"已转为成交价款", p.Converted, cell("已转为成交价款（元）"), v.Converted},
	}
	for _, x := range agree {
		if !x.page.Equal(x.sheet) || !x.page.Equal(x.led) {
			e.t.Fatalf("%s %s: page %s, sheet %s, ledger %s", number, x.what, x.page, x.sheet, x.led)
		}
	}
	if got := v.Sheet["保证金状态"]; got != p.State(e.Clock.Now()) {
		e.t.Fatalf("%s: page says %q, sheet %q", number, p.State(e.Clock.Now()), got)
	}
	// The bidder's page as rendered: the row of the account.
	r, err := templates.New()
	if err != nil {
		e.t.Fatal(err)
	}
	var html bytes.Buffer
	if err := r.Render(&html, "my_deposits", templates.Page{Title: "我的保证金", CSRF: "tok", Data: map[string]any{
		"Deposits": mine, "Now": e.Clock.Now(), "AccountName": e.Dep.AccountName, "BankName": e.Dep.BankName}}); err != nil {
		e.t.Fatal(err)
	}
	_, row, _ := strings.Cut(html.String(), "<strong>"+number+"</strong>")
	row, _, _ = strings.Cut(row, "</tr>")
	wantCells := []string{"<td>" + yuanText(p.Received) + "</td>", ">" + p.State(e.Clock.Now())}
	if short := p.Shortfall(); short.IsPositive() {
		wantCells = append(wantCells, "差额 "+yuanText(short))
	} else if strings.Contains(row, "差额") {
		e.t.Fatalf("%s: the page shows a shortfall: %s", number, row)
	}
	for _, c := range wantCells {
		if !strings.Contains(row, c) {
			e.t.Fatalf("%s: the page lacks %q: %s", number, c, row)
		}
	}
	if p.State(e.Clock.Now()) != state || p.Received.StringFixed(2) != paid {
		e.t.Fatalf("%s: %q with %s paid, want %q with %s (%+v)", number, p.State(e.Clock.Now()), p.Received.StringFixed(2), state, paid, p.Position)
	}
	e.verifyClean()
	if n, problem, err := trading.VerifyAudit(ctx, e.Dep.DB); err != nil || problem != nil {
		e.t.Fatalf("audit chain after %d rows: %v %v", n, problem, err)
	}
	return v
}

// yuanText is an amount as the pages show it: "1,234.50 元".
func yuanText(d decimal.Decimal) string {
	s := d.StringFixed(2)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac + " 元"
}

func (e *depEnv) pay(txn, number, payer, amount string) {
	e.t.Helper()
	if _, err := e.Dep.Receive(context.Background(), bankActor, SourceWebhook, []Inflow{inflow(txn, number, payer, amount, e.Clock.Now())}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *depEnv) confirmAll(paid bool) {
	e.t.Helper()
	for _, r := range e.refunds("sent") {
		if _, err := e.Dep.Confirm(context.Background(), sup, r.ID, paid, "账户已销户"); err != nil {
			e.t.Fatal(err)
		}
	}
}

// Issue 13, item 4: withdraw, then register again. A D6 refund no batch has
// taken is cancelled and the money counts again; one sent to the bank
// stands, and the bidder pays again. Page, sheet and ledger agree.
func TestWithdrawThenRegisterAgain(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	const name = "福建复报建设有限公司"
	a, va := e.bidder(name)
	regID := e.registrationID(a, e.Lot)
	e.pay("W1", va, name, "200000.00")
	e.threeViews(a, va, "200000.00", "已足额缴纳")
	if err := e.Bid.Withdraw(ctx, a, e.Lot); err != nil {
		t.Fatal(err)
	}
	e.threeViews(a, va, "0.00", "已撤回报名，保证金退还中（D6）")
	// Registered again before any batch: the refund is cancelled.
	if _, err := e.Bid.Register(ctx, a, e.Lot, bidding.RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	if rs := e.refunds(""); len(rs) != 0 {
		t.Fatalf("the refund of a revived registration stays: %+v", rs)
	}
	e.threeViews(a, va, "200000.00", "已足额缴纳")
	if ok, how := e.covered(a, e.Lot); !ok || how != "现金" {
		t.Fatalf("covered: %v %s", ok, how)
	}
	// Withdrawn again: a new refund, which goes to the bank this time.
	if err := e.Bid.Withdraw(ctx, a, e.Lot); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Dep.CreateBatch(ctx, sup); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Bid.Register(ctx, a, e.Lot, bidding.RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	if rs := e.refunds("sent"); len(rs) != 1 || rs[0].Rule != "D6" {
		t.Fatalf("the sent refund: %+v", rs)
	}
	v := e.threeViews(a, va, "0.00", "未缴纳")
	if !v.Page.Refunding.Equal(decimal.RequireFromString("200000")) {
		t.Fatalf("refunding %s", v.Page.Refunding)
	}
	if ok, _ := e.covered(a, e.Lot); ok {
		t.Fatal("money on its way back covers the deposit")
	}
	if e.registrationID(a, e.Lot) != regID {
		t.Fatal("a second registration row")
	}
	e.pay("W2", va, name, "200000.00")
	e.threeViews(a, va, "200000.00", "已足额缴纳")
	e.confirmAll(true)
	v = e.threeViews(a, va, "200000.00", "已足额缴纳")
	if !v.Refunded.Equal(decimal.RequireFromString("200000")) {
		t.Fatalf("refunded %s", v.Refunded)
	}
}

// Issue 13, items 5 and 6: one deposit after another walked through every
// state — paid, topped up, late, third party, suspense, refunded, failed
// refund, forfeited, converted, withdrawn then registered again — and the
// bidder's page, the supervisors' sheet and the ledger agree at each step.
func TestDepositStatesAgreeEverywhere(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	engineering := e.Lot
	// A land lot (published on 2 March, as publishedLot sets the clock).
	land := e.publishedLot("land", "保证金状态测试地块", "listing", trading.LotInput{Name: "榕土2026-11号地块", StartingPrice: "5000000.00",
		Increment: "100000.00", Deposit: "4200000.00", ListingStart: at2026(3, 23, 9, 0), ListingEnd: at2026(4, 8, 16, 0)})
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	e.Lot = engineering

	// Paid in part, then topped up; a third party pays too (D2).
	const aName = "福建状态甲建设有限公司"
	a, vaA := e.bidder(aName)
	e.threeViews(a, vaA, "0.00", "未缴纳")
	e.pay("S1", vaA, aName, "120000.00")
	e.threeViews(a, vaA, "120000.00", "缴纳不足，可补缴差额")
	e.pay("S2", vaA, aName, "80000.00")
	e.threeViews(a, vaA, "200000.00", "已足额缴纳")
	e.pay("S3", vaA, "某某代缴公司", "5000.00")
	v := e.threeViews(a, vaA, "200000.00", "已足额缴纳")
	if !v.Page.Invalid.Equal(decimal.NewFromInt(5000)) {
		t.Fatalf("third party: %+v", v.Page.Position)
	}
	// Suspense: no such account; the books still hold.
	e.pay("S4", "35010019999999", "无名公司", "300.00")
	e.threeViews(a, vaA, "200000.00", "已足额缴纳")

	// Withdrawn, registered again before a batch: counts again.
	const bName = "福建状态乙建设有限公司"
	b, vaB := e.bidder(bName)
	e.pay("S5", vaB, bName, "200000.00")
	if err := e.Bid.Withdraw(ctx, b, e.Lot); err != nil {
		t.Fatal(err)
	}
	e.threeViews(b, vaB, "0.00", "已撤回报名，保证金退还中（D6）")
	if _, err := e.Bid.Register(ctx, b, e.Lot, bidding.RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	e.threeViews(b, vaB, "200000.00", "已足额缴纳")

	// Withdrawn for good: refunded, the bank fails it, then pays it.
	const cName = "福建状态丙建设有限公司"
	c, vaC := e.bidder(cName)
	e.pay("S6", vaC, cName, "200000.00")
	if err := e.Bid.Withdraw(ctx, c, e.Lot); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Dep.CreateBatch(ctx, sup); err != nil { // C's D6 and A's third-party refund
		t.Fatal(err)
	}
	e.confirmAll(false)
	e.threeViews(c, vaC, "0.00", "已撤回报名，保证金退还中（D6）")
	v = e.threeViews(a, vaA, "200000.00", "已足额缴纳")
	if !v.Page.Invalid.Equal(decimal.NewFromInt(5000)) {
		t.Fatalf("a failed refund of a third party's money: %+v", v.Page.Position)
	}
	if _, err := e.Dep.CreateBatch(ctx, sup); err != nil {
		t.Fatal(err)
	}
	e.confirmAll(true)
	e.threeViews(c, vaC, "0.00", "已撤回报名，保证金已退还（D6）")
	v = e.threeViews(a, vaA, "200000.00", "已足额缴纳")
	if !v.Page.Invalid.IsZero() || !v.Refunded.Equal(decimal.NewFromInt(5000)) {
		t.Fatalf("third party refunded: %+v", v.Page.Position)
	}

	// Forfeited (D7).
	const dName = "福建状态丁建设有限公司"
	d, vaD := e.bidder(dName)
	e.pay("S7", vaD, dName, "200000.00")
	if err := e.Dep.Forfeit(ctx, sup, vaD, "D7", "串通投标查实，没收保证金"); err != nil {
		t.Fatal(err)
	}
	e.threeViews(d, vaD, "200000.00", "已足额缴纳，已没收（D7）")

	// Late: after the deadline the money is invalid and goes back.
	const lName = "福建状态戊建设有限公司"
	l, vaL := e.bidder(lName)
	e.Clock.Set(time.Date(2026, 3, 23, 10, 0, 0, 0, trading.Shanghai))
	e.pay("S8", vaL, lName, "200000.00")
	e.threeViews(l, vaL, "0.00", "截止时未足额缴纳")
	if _, err := e.Dep.CreateBatch(ctx, sup); err != nil {
		t.Fatal(err)
	}
	e.confirmAll(true)
	v = e.threeViews(l, vaL, "0.00", "截止时未足额缴纳")
	if !v.Refunded.Equal(decimal.NewFromInt(200000)) {
		t.Fatalf("late money refunded: %+v", v.Page.Position)
	}

	// Converted (L5): the land buyer's deposit becomes part of the price.
	e.Clock.Set(time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	const buyerName = "福建状态置业有限公司"
	buyer := e.signUp(buyerName)
	reg, err := e.Bid.Register(ctx, buyer, land, bidding.RegisterInput{ContactName: "王五", ContactPhone: "13900000000"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Bid.Review(ctx, e.Agent, reg.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	var vaLand VirtualAccount
	e.Dep.DB.Where("registration_id = ?", reg.ID).First(&vaLand)
	e.pay("S9", vaLand.Number, buyerName, "4200000.00")
	e.threeViews(buyer, vaLand.Number, "4200000.00", "已足额缴纳")
	e.Clock.Set(time.Date(2026, 4, 9, 9, 0, 0, 0, trading.Shanghai))
	rn, err := e.Bid.RecordDeal(ctx, e.Agent, land, bidding.DealInput{IDNumber: e.idNumber(buyer), Price: "5000000"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, rn.ID, nil); err != nil {
		t.Fatal(err)
	}
	v = e.threeViews(buyer, vaLand.Number, "4200000.00", "已足额缴纳，已转为成交价款（L5）")
	if !v.Converted.Equal(decimal.NewFromInt(4200000)) || v.Page.Shortfall().IsPositive() {
		t.Fatalf("converted: %+v", v.Page.Position)
	}
	// The page says so in words.
	var html strings.Builder
	for _, in := range v.Page.Inflows {
		html.WriteString(in.PositionName())
	}
	if !strings.Contains(html.String(), "已转为成交价款") {
		t.Fatalf("inflows: %s", html.String())
	}
}

// A registration coming back to life races a batch for the D6 refund of
// its deposit: either the batch takes it (sent, the bidder pays again) or
// the registration cancels it (the money counts again), never both and
// never neither.
func TestReviveRacingBatchKeepsOne(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	cancelled, sent := 0, 0
	for i := 0; i < 8; i++ {
		name := "福建复活" + itoa(int64(i)) + "建设有限公司"
		a, va := e.bidder(name)
		e.pay("RV"+itoa(int64(i)), va, name, "200000.00")
		if err := e.Bid.Withdraw(ctx, a, e.Lot); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var batchErr, regErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, batchErr = e.Dep.CreateBatch(ctx, sup) }()
		go func() { defer wg.Done(); _, regErr = e.Bid.Register(ctx, a, e.Lot, bidding.RegisterInput{}) }()
		wg.Wait()
		if regErr != nil || (batchErr != nil && !errors.Is(batchErr, trading.ErrConflict)) {
			t.Fatalf("round %d: register %v, batch %v", i, regErr, batchErr)
		}
		var statuses []string
		e.Dep.DB.Raw(`SELECT r.status FROM refunds r JOIN inflows i ON i.id = r.inflow_id WHERE i.account_number = ?`, va).Scan(&statuses)
		switch {
		case len(statuses) == 0:
			cancelled++
			e.threeViews(a, va, "200000.00", "已足额缴纳")
		case len(statuses) == 1 && statuses[0] == "sent":
			sent++
			e.threeViews(a, va, "0.00", "未缴纳")
		default:
			t.Fatalf("round %d: refunds %v", i, statuses)
		}
	}
	t.Logf("%d cancelled, %d sent", cancelled, sent)
}

// The API's `state` is a machine code and `state_name` its Chinese text
// (#13: the API keeps machine names); every code has a name, the names are
// distinct, and the document's enum lists exactly the codes.
func TestDepositStatesHaveNamesAndTheDocumentsEnum(t *testing.T) {
	t.Parallel()
	seen := map[string]DepositState{}
	for _, s := range DepositStates() {
		name := s.Name()
		if name == "" {
			t.Errorf("%s has no Chinese name", s)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("%s and %s are both %q", s, other, name)
		}
		seen[name] = s
	}
	if len(DepositStates()) != len(depositStateNames) {
		t.Errorf("%d states listed, %d named", len(DepositStates()), len(depositStateNames))
	}
	raw, err := os.ReadFile("../cmd/ggzy/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	enum := doc.Components.Schemas["MyDeposit"].Properties["state"].Enum
	var want []string
	for _, s := range DepositStates() {
		want = append(want, string(s))
	}
	if !slices.Equal(enum, want) {
		t.Errorf("openapi.json MyDeposit.state enum %v, want %v", enum, want)
	}
}
