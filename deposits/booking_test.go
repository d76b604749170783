package deposits

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
)

// depEnv is a platform with one published engineering lot (deposit
// 200,000.00, deadline 2026-03-23 09:30) and registration open.
type depEnv struct {
	t     *testing.T
	TS    *trading.Service
	Bid   *bidding.Service
	Dep   *Service
	Clock *trading.ManualClock
	Lot   int64
	Agent trading.Actor // the lot's agent
	Sup   trading.Actor
	n     int
}

func newDepEnv(t *testing.T) *depEnv {
	t.Helper()
	if NewPlatform == nil {
		t.Fatal("NewPlatform is set by platform_test.go")
	}
	ts, bid, dep, clock := NewPlatform(t)
	e := &depEnv{t: t, TS: ts, Bid: bid, Dep: dep, Clock: clock}
	ctx := context.Background()
	agent := e.staff(trading.RoleAgent, "daili")
	sup := e.staff(trading.RoleSupervisor, "jiandu")
	at := func(m time.Month, d, h, min int) string {
		return time.Date(2026, m, d, h, min, 0, 0, trading.Shanghai).Format(time.RFC3339)
	}
	p, err := ts.CreateProject(ctx, agent, trading.ProjectInput{Category: "engineering", Title: "保证金测试工程", OwnerName: "福州市某局",
		RegionCode: "350100", Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "12000000.00", Deposit: "200000.00",
			DocIssueStart: at(3, 3, 9, 0), DocIssueEnd: at(3, 10, 17, 0), BidDeadline: at(3, 23, 9, 30)}}})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := ts.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: "tender", Title: "保证金测试工程招标公告", Body: "正文"})
	if _, err := ts.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	e.Lot, e.Agent, e.Sup = p.Lots[0].ID, agent, sup
	clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	return e
}

func (e *depEnv) staff(role trading.Role, name string) trading.Actor {
	acc, err := e.TS.CreateAccount(context.Background(), trading.SystemActor, trading.NewAccount{Role: role, Username: name, Password: "pass12345"})
	if err != nil {
		e.t.Fatal(err)
	}
	return trading.Actor{AccountID: acc.ID, Username: name, Role: role}
}

// bidder registers a new bidder for the lot and returns it with its
// virtual account number.
func (e *depEnv) bidder(name string) (trading.Actor, string) {
	e.t.Helper()
	a := e.enterprise(name, "MB", "dep")
	if _, err := e.Bid.Register(context.Background(), a, e.Lot, bidding.RegisterInput{}); err != nil {
		e.t.Fatal(err)
	}
	var va VirtualAccount
	if err := e.Dep.DB.Where("bidder_id = ?", a.AccountID).First(&va).Error; err != nil {
		e.t.Fatalf("no virtual account: %v", err)
	}
	return a, va.Number
}

func inflow(txn, account, payer string, amount string, at time.Time) Inflow {
	return Inflow{BankTxnID: txn, VirtualAccount: account, PayerName: payer, PayerAccount: "6222" + payer, PayerBank: "某银行",
		Amount: decimal.RequireFromString(amount), Currency: "CNY", ValueTime: at}
}

func (e *depEnv) verifyClean() {
	e.t.Helper()
	rep, err := e.Dep.Verify(context.Background(), nil)
	if err != nil || len(rep.Problems) > 0 {
		e.t.Fatalf("books: %+v %v", rep, err)
	}
}

func TestVirtualAccountPerRegistration(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	a, number := e.bidder("福建甲建设有限公司")
	if !e.Dep.Accounts.Valid(number) || !strings.HasPrefix(number, "3501001") {
		t.Fatalf("number %q", number)
	}
	// Withdrawn and registered again: the same account, never a second one.
	ctx := context.Background()
	if err := e.Bid.Withdraw(ctx, a, e.Lot); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Bid.Register(ctx, a, e.Lot, bidding.RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	var n int64
	e.Dep.DB.Model(&VirtualAccount{}).Where("bidder_id = ?", a.AccountID).Count(&n)
	if n != 1 {
		t.Fatalf("%d virtual accounts", n)
	}
	mine, err := e.Dep.MyDeposits(ctx, a)
	if err != nil || len(mine) != 1 || mine[0].Account.Required.StringFixed(2) != "200000.00" || mine[0].State(e.Clock.Now()) != "未缴纳" {
		t.Fatalf("my deposits: %+v %v", mine, err)
	}
}

// The same bank transaction delivered 50 times at once is booked once.
func TestSameTransactionConcurrentlyBookedOnce(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	_, number := e.bidder("福建乙建设有限公司")
	in := inflow("TXN-0001", number, "福建乙建设有限公司", "200000.00", e.Clock.Now())
	var wg sync.WaitGroup
	news := make(chan int, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.Dep.Receive(context.Background(), bankActor, SourceWebhook, []Inflow{in})
			if err != nil {
				t.Error(err)
			}
			news <- r.New
		}()
	}
	wg.Wait()
	close(news)
	total := 0
	for n := range news {
		total += n
	}
	var rows, entries int64
	e.Dep.DB.Model(&StoredInflow{}).Count(&rows)
	e.Dep.DB.Table("ledger_entries").Count(&entries)
	if total != 1 || rows != 1 || entries != 2 {
		t.Fatalf("%d booked, %d rows, %d ledger entries; want 1, 1, 2", total, rows, entries)
	}
	e.verifyClean()
}

func csvFile(lines ...string) func() (io.ReadCloser, error) {
	text := "交易流水号,交易日期,交易时间,虚拟子账号,付款人名称,付款人账号,付款行,金额,币种,摘要\n" + strings.Join(lines, "\n") + "\n"
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }
}

func TestStatementImportWholeOrNothingAndIdempotent(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	bidder1, va1 := e.bidder("福建丙建设有限公司")
	_, va2 := e.bidder("福建丁建设有限公司")
	sup := trading.Actor{Role: trading.RoleSupervisor, Username: "jiandu"}
	good := csvFile(
		"B001,2026-03-05,10:00:00,"+va1+",福建丙建设有限公司,6222001,某银行,150000.00,CNY,保证金",
		"B002,2026-03-06,10:00:00,"+va1+",福建丙建设有限公司,6222001,某银行,50000.00,CNY,补缴",
		"B003,2026-03-06,11:00:00,"+va2+",福建丁建设有限公司,6222002,某银行,200000.00,CNY,保证金")
	for _, bad := range []string{"10.001", "1e3", "-5.00"} {
		f := csvFile(
			"C001,2026-03-05,10:00:00,"+va1+",福建丙建设有限公司,6222001,某银行,150000.00,CNY,保证金",
			"C002,2026-03-05,10:00:00,"+va2+",福建丁建设有限公司,6222002,某银行,"+bad+",CNY,保证金")
		_, err := e.Dep.ImportStatement(ctx, sup, f)
		de := trading.AsError(err)
		if de.Status() != http.StatusUnprocessableEntity || !strings.Contains(de.Message, "第 3 行") {
			t.Fatalf("amount %s: %v", bad, err)
		}
	}
	var rows int64
	e.Dep.DB.Model(&StoredInflow{}).Count(&rows)
	if rows != 0 {
		t.Fatalf("a refused file booked %d inflows", rows)
	}
	r, err := e.Dep.ImportStatement(ctx, sup, good)
	if err != nil || r.New != 3 || r.Held != 3 {
		t.Fatalf("import: %+v %v", r, err)
	}
	r, err = e.Dep.ImportStatement(ctx, sup, good)
	if err != nil || r.New != 0 || r.Repeated != 3 {
		t.Fatalf("import again: %+v %v", r, err)
	}
	// Several payments add up: 150,000 + 50,000 is the full deposit.
	mine, err := e.Dep.MyDeposits(ctx, bidder1)
	if err != nil || mine[0].Received.StringFixed(2) != "200000.00" || mine[0].State(e.Clock.Now()) != "已足额缴纳" {
		t.Fatalf("two payments: %+v %v", mine, err)
	}
	if _, err := e.Dep.ImportStatement(ctx, trading.Actor{Role: trading.RoleAgent}, good); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("an agent imported: %v", err)
	}
	e.verifyClean()
}

func TestMatchingLateThirdPartySuspenseAndTopUp(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	a, va := e.bidder("福建戊建设有限公司")
	deadline := time.Date(2026, 3, 23, 9, 30, 0, 0, trading.Shanghai)
	r, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{
		inflow("T1", va, "福建戊建设有限公司", "120000.00", e.Clock.Now()),
		inflow("T2", va, "张某个人", "80000.00", e.Clock.Now()),                  // D2: not the bidder's own account
		inflow("T3", "35010019999999999", "某公司", "1000.00", e.Clock.Now()),   // no such account
		inflow("T4", va, "福建戊建设有限公司", "80000.00", deadline.Add(time.Minute)), // after the deadline
	})
	if err != nil || r.Held != 1 || r.Third != 1 || r.Suspense != 1 || r.Late != 1 {
		t.Fatalf("classification: %+v %v", r, err)
	}
	mine, _ := e.Dep.MyDeposits(ctx, a)
	if d := mine[0]; d.Received.StringFixed(2) != "120000.00" || d.Shortfall().StringFixed(2) != "80000.00" || d.State(e.Clock.Now()) != "缴纳不足，可补缴差额" {
		t.Fatalf("short: %s %s %s", d.Received, d.Shortfall(), d.State(e.Clock.Now()))
	}
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("T5", va, "福建戊建设有限公司", "80000.00", e.Clock.Now())}); err != nil {
		t.Fatal(err)
	}
	mine, _ = e.Dep.MyDeposits(ctx, a)
	if mine[0].State(e.Clock.Now()) != "已足额缴纳" {
		t.Fatalf("after top-up: %s", mine[0].State(e.Clock.Now()))
	}
	e.verifyClean()
}

// Two bidders of one lot paying from one account raise a K1 alert.
func TestSamePayerForTwoBiddersRaisesK1(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	_, va1 := e.bidder("福建己建设有限公司")
	_, va2 := e.bidder("福建庚建设有限公司")
	in1 := inflow("K-1", va1, "福建己建设有限公司", "200000.00", e.Clock.Now())
	in2 := inflow("K-2", va2, "福建庚建设有限公司", "200000.00", e.Clock.Now())
	in2.PayerAccount = in1.PayerAccount
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{in1}); err != nil {
		t.Fatal(err)
	}
	r, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{in2})
	if err != nil || r.Alerts != 1 {
		t.Fatalf("alert: %+v %v", r, err)
	}
	alerts, _ := e.Dep.Alerts(ctx, trading.Actor{Role: trading.RoleSupervisor})
	if len(alerts) != 1 || alerts[0].Kind != "K1" || !strings.Contains(alerts[0].Detail, "福建己建设有限公司") || !strings.Contains(alerts[0].Detail, "福建庚建设有限公司") {
		t.Fatalf("alerts: %+v", alerts)
	}
	// People read the project's code and the lot's number, not the lot's row id.
	var code string
	if err := e.TS.DB.Raw(`SELECT p.code FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id = ?`, e.Lot).Row().Scan(&code); err != nil {
		t.Fatal(err)
	}
	if alerts[0].ProjectCode != code || alerts[0].LotSeq != 1 {
		t.Fatalf("alert names project %q lot %d, want %s lot 1", alerts[0].ProjectCode, alerts[0].LotSeq, code)
	}
	pages, err := templates.New(trading.TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pages.Render(&buf, "deposit_inflows", templates.Page{Title: "保证金到账", Data: map[string]any{
		"Inflows": []StoredInflow(nil), "Alerts": alerts, "Filter": InflowFilter{}, "Pager": trading.Pager{Page: 1}}}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if want := "疑似串通投标（K1）："; !strings.Contains(page, want) || !strings.Contains(page, "项目 "+code+" 标段1，") ||
		strings.Contains(page, fmt.Sprintf("标段 %d", e.Lot)) {
		t.Fatalf("alert on the page: %s", page[strings.Index(page, `id="alerts"`):])
	}
}

func TestVerifyFindsTamperedBooks(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	_, va := e.bidder("福建辛建设有限公司")
	if _, err := e.Dep.Receive(context.Background(), bankActor, SourceWebhook, []Inflow{inflow("V1", va, "福建辛建设有限公司", "200000.00", e.Clock.Now())}); err != nil {
		t.Fatal(err)
	}
	e.verifyClean()
	balance := decimal.RequireFromString("199999.99")
	rep, _ := e.Dep.Verify(context.Background(), &balance)
	if len(rep.Problems) != 1 || rep.Problems[0].What != "与银行对账单余额不符" {
		t.Fatalf("statement balance: %+v", rep.Problems)
	}
	e.Dep.DB.Exec("UPDATE ledger_entries SET amount = amount - 1 WHERE account = 'bank'")
	rep, _ = e.Dep.Verify(context.Background(), nil)
	if len(rep.Problems) < 2 {
		t.Fatalf("tampered journal: %+v", rep.Problems)
	}
}

// The statement path of the K1 check (a batch of more than 100 lines).
func TestK1FromALargeStatement(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	_, va1 := e.bidder("福建丑建设有限公司")
	_, va2 := e.bidder("福建寅建设有限公司")
	lines := []string{
		"K001,2026-03-05,10:00:00," + va1 + ",福建丑建设有限公司,6222777,某银行,200000.00,CNY,保证金",
		"K002,2026-03-05,10:01:00," + va2 + ",福建寅建设有限公司,6222777,某银行,200000.00,CNY,保证金",
	}
	for i := 0; i < 118; i++ {
		lines = append(lines, fmt.Sprintf("S%03d,2026-03-05,11:00:00,35010019999%06d,某公司,6222%03d,某银行,100.00,CNY,", i, i, i))
	}
	r, err := e.Dep.ImportStatement(context.Background(), sup, csvFile(lines...))
	if err != nil || r.New != 120 || r.Alerts != 1 {
		t.Fatalf("import: %+v %v", r, err)
	}
	e.verifyClean()
}

// Two batches committing at the same moment cannot see each other's
// payments: the pair is caught by the sweep, once. Simulated by a payment
// booked with the alert table held aside (as if its check ran before the
// other batch committed).
func TestK1SweepCatchesAPairAcrossConcurrentBatches(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	_, va1 := e.bidder("福建壬甲建设有限公司")
	_, va2 := e.bidder("福建壬乙建设有限公司")
	in1 := inflow("S-1", va1, "福建壬甲建设有限公司", "200000.00", e.Clock.Now())
	in2 := inflow("S-2", va2, "福建壬乙建设有限公司", "200000.00", e.Clock.Now())
	in2.PayerAccount = in1.PayerAccount
	for _, in := range []Inflow{in1, in2} {
		if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{in}); err != nil {
			t.Fatal(err)
		}
	}
	// Forget the alert the second batch raised: the state a concurrent
	// pair leaves behind.
	e.Dep.DB.Exec("DELETE FROM deposit_alerts")
	n, err := e.Dep.SweepK1(ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if n, err := e.Dep.SweepK1(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d %v", n, err)
	}
}

// Repeated transaction ids in one file are found in staging: an identical
// re-sent line books once; one with different content refuses the file,
// naming both lines.
func TestStatementImportRepeatedLines(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	_, va := e.bidder("福建重发建设有限公司")
	line := "R001,2026-03-05,10:00:00," + va + ",福建重发建设有限公司,6222009,某银行,200000.00,CNY,保证金"
	r, err := e.Dep.ImportStatement(ctx, sup, csvFile(line, "R002,2026-03-05,11:00:00,"+va+",福建重发建设有限公司,6222009,某银行,1.00,CNY,补缴", line))
	if err != nil || r.New != 2 {
		t.Fatalf("identical re-send: %+v %v", r, err)
	}
	_, err = e.Dep.ImportStatement(ctx, sup, csvFile(
		"R101,2026-03-05,10:00:00,"+va+",福建重发建设有限公司,6222009,某银行,1.00,CNY,保证金",
		"R101,2026-03-05,10:00:00,"+va+",福建重发建设有限公司,6222009,某银行,2.00,CNY,保证金"))
	if de := trading.AsError(err); de == nil || de.Status() != http.StatusUnprocessableEntity || !strings.Contains(de.Message, "第 3 行") ||
		!strings.Contains(de.Message, "R101 与第 2 行重复但内容不同") {
		t.Fatalf("conflicting repeat: %v", err)
	}
	var rows, staged int64
	e.Dep.DB.Model(&StoredInflow{}).Count(&rows)
	e.Dep.DB.Table("inflow_staging").Count(&staged)
	if rows != 2 || staged != 0 {
		t.Fatalf("%d inflows, %d staged lines left", rows, staged)
	}
	e.verifyClean()
}

// A statement is staged and matched in chunks inside one transaction:
// a line repeated in a later chunk is still found (an identical re-send
// books once, a different one refuses the whole file), a bad line in the
// last chunk leaves nothing of the earlier ones booked, and no scratch
// rows stay behind.
func TestStatementImportAcrossChunks(t *testing.T) {
	// Not parallel: sets the package-level chunkLines, which every statement import reads.
	defer func(n int) { chunkLines = n }(chunkLines)
	chunkLines = 2
	e := newDepEnv(t)
	ctx := context.Background()
	_, va := e.bidder("福建分块建设有限公司")
	line := func(id, amount, memo string) string {
		return id + ",2026-03-05,10:00:00," + va + ",福建分块建设有限公司,6222010,某银行," + amount + ",CNY," + memo
	}
	scratch := func() (staged, classified int64) {
		e.Dep.DB.Table("inflow_staging").Count(&staged)
		e.Dep.DB.Table("inflow_classified").Count(&classified)
		return
	}
	count := func() (n int64) {
		e.Dep.DB.Model(&StoredInflow{}).Count(&n)
		return
	}
	// Identical re-send three chunks later.
	r, err := e.Dep.ImportStatement(ctx, sup, csvFile(line("C1", "1.00", "a"), line("C2", "2.00", "b"), line("C3", "3.00", `反斜杠\结尾`),
		line("C4", "4.00", "d"), line("C5", "5.00", "e"), line("C1", "1.00", "a"), line("C6", "6.00", "f")))
	if err != nil || r.New != 6 || r.Lines != 6 || r.Repeated != 0 {
		t.Fatalf("re-send across chunks: %+v %v", r, err)
	}
	var memo string
	e.Dep.DB.Raw("SELECT memo FROM inflows WHERE bank_txn_id = 'C3'").Scan(&memo)
	if memo != `反斜杠\结尾` {
		t.Fatalf("memo through COPY: %q", memo)
	}
	// Different content in a later chunk: refused, naming both lines.
	_, err = e.Dep.ImportStatement(ctx, sup, csvFile(line("D1", "1.00", "a"), line("D2", "2.00", "b"), line("D3", "3.00", "c"),
		line("D1", "9.00", "a")))
	if de := trading.AsError(err); de == nil || de.Status() != http.StatusUnprocessableEntity ||
		!strings.Contains(de.Message, "D1 与第 2 行重复但内容不同") || !strings.Contains(de.Message, "第 5 行") {
		t.Fatalf("conflicting repeat across chunks: %v", err)
	}
	// A repeat of a transaction booked before, with different content:
	// both lines pass as "already booked" only if they agree.
	_, err = e.Dep.ImportStatement(ctx, sup, csvFile(line("E1", "1.00", "a"), line("C2", "2.00", "b"), line("E2", "3.00", "c"),
		line("C2", "7.00", "b")))
	if de := trading.AsError(err); de == nil || !strings.Contains(de.Message, "C2 与第 3 行重复但内容不同") {
		t.Fatalf("conflicting repeat of a booked transaction: %v", err)
	}
	// A bad line in the last chunk: nothing of the file is booked.
	_, err = e.Dep.ImportStatement(ctx, sup, csvFile(line("F1", "1.00", "a"), line("F2", "2.00", "b"), line("F3", "3.00", "c"),
		line("F4", "1e3", "d")))
	if de := trading.AsError(err); de == nil || !strings.Contains(de.Message, "第 5 行") {
		t.Fatalf("bad last line: %v", err)
	}
	if n := count(); n != 6 {
		t.Fatalf("%d inflows after refused files, want 6", n)
	}
	// The first file again: every line a repeat, nothing doubled.
	r, err = e.Dep.ImportStatement(ctx, sup, csvFile(line("C1", "1.00", "a"), line("C2", "2.00", "b"), line("C3", "3.00", `反斜杠\结尾`),
		line("C4", "4.00", "d"), line("C5", "5.00", "e"), line("C1", "1.00", "a"), line("C6", "6.00", "f")))
	if err != nil || r.New != 0 || r.Repeated != 6 || r.Lines != 6 {
		t.Fatalf("re-import: %+v %v", r, err)
	}
	if s, c := scratch(); s != 0 || c != 0 || count() != 6 {
		t.Fatalf("left behind: %d staged, %d classified; %d inflows", s, c, count())
	}
	e.verifyClean()
}

// A statement that repeats a transaction booked before (by a webhook, or
// an earlier file) with other content is refused whole, naming the line,
// as a repeat within the file is; the same content (the memo aside) is a
// repeat that books nothing.
func TestStatementRepeatOfBookedTransaction(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	_, va := e.bidder("福建重复建设有限公司")
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai)
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("B1", va, "福建重复建设有限公司", "200000.00", at)}); err != nil {
		t.Fatal(err)
	}
	line := func(id, amount, memo string) string {
		return id + ",2026-03-04,10:00:00," + va + ",福建重复建设有限公司,6222福建重复建设有限公司,某银行," + amount + ",CNY," + memo
	}
	r, err := e.Dep.ImportStatement(ctx, sup, csvFile(line("B2", "1.00", ""), line("B1", "200000.00", "对账单摘要")))
	if err != nil || r.New != 1 || r.Repeated != 1 {
		t.Fatalf("same content, another memo: %+v %v", r, err)
	}
	_, err = e.Dep.ImportStatement(ctx, sup, csvFile(line("B3", "1.00", ""), line("B1", "2000.00", "")))
	if de := trading.AsError(err); de == nil || de.Status() != http.StatusUnprocessableEntity ||
		!strings.Contains(de.Message, "第 3 行 交易流水号：交易流水号 B1 与已入账的第 1 笔到账重复但内容不同（金额 原为“200000.00”，此次为“2000.00”）") {
		t.Fatalf("a booked transaction with another amount: %v", err)
	}
	var n int64
	e.Dep.DB.Model(&StoredInflow{}).Count(&n)
	if n != 2 {
		t.Fatalf("%d inflows, want 2", n)
	}
	e.verifyClean()
}
