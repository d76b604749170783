package deposits

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/ggzy/ggzy/trading"
)

var sup = trading.Actor{Role: trading.RoleSupervisor, Username: "jiandu"}

func (e *depEnv) refunds(status string) []RefundView {
	e.t.Helper()
	rs, err := e.Dep.Refunds(context.Background(), sup, status)
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

// A withdrawal's refund goes out in a batch and is paid once, however
// often the bank confirms it.
func TestWithdrawalRefundPaidOnce(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	a, va := e.bidder("福建壬建设有限公司")
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("R1", va, "福建壬建设有限公司", "200000.00", e.Clock.Now())}); err != nil {
		t.Fatal(err)
	}
	if err := e.Bid.Withdraw(ctx, a, e.Lot); err != nil {
		t.Fatal(err)
	}
	pending := e.refunds("pending")
	if len(pending) != 1 || pending[0].Rule != "D6" || pending[0].PayeeAccount != "6222福建壬建设有限公司" {
		t.Fatalf("pending: %+v", pending)
	}
	b, err := e.Dep.CreateBatch(ctx, sup)
	if err != nil || b.Refunds != 1 || b.Total.StringFixed(2) != "200000.00" {
		t.Fatalf("batch: %+v %v", b, err)
	}
	file, err := e.Dep.BatchFile(ctx, b.ID)
	if err != nil || !strings.Contains(string(file), "6222福建壬建设有限公司,某银行,200000.00,退还保证金（D6 撤回报名）") {
		t.Fatalf("instruction file: %s %v", file, err)
	}
	if _, err := e.Dep.CreateBatch(ctx, sup); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("a refund went into a second batch: %v", err)
	}
	confirm := strings.NewReader("退款编号,结果,说明\n" + itoa(pending[0].ID) + ",成功,\n")
	paid, _, err := e.Dep.ConfirmFile(ctx, sup, confirm)
	if err != nil || paid != 1 {
		t.Fatalf("confirm: %d %v", paid, err)
	}
	paid, _, err = e.Dep.ConfirmFile(ctx, sup, strings.NewReader(itoa(pending[0].ID)+",成功,\n"))
	if err != nil || paid != 0 {
		t.Fatalf("second confirmation paid %d (%v)", paid, err)
	}
	var bankEntries int64
	e.Dep.DB.Table("ledger_entries").Where("account = 'bank' AND journal_id LIKE 'refund:%'").Count(&bankEntries)
	if bankEntries != 1 {
		t.Fatalf("%d bank postings for one refund", bankEntries)
	}
	mine, _ := e.Dep.MyDeposits(ctx, a)
	if mine[0].Inflows[0].Status != InflowRefunded {
		t.Fatalf("bidder sees %s", mine[0].Inflows[0].Status)
	}
	e.verifyClean()
}

func itoa(n int64) string { return decimal.NewFromInt(n).String() }

// Two batches made at once never share a refund.
func TestConcurrentBatchesShareNothing(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		_, va := e.bidder("福建并发退款" + itoa(int64(i)) + "有限公司")
		// Late payments: refunds queued on arrival.
		late := inflow("L"+itoa(int64(i)), va, "福建并发退款"+itoa(int64(i))+"有限公司", "1000.00", time.Date(2026, 3, 24, 9, 0, 0, 0, trading.Shanghai))
		if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{late}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	batched := 0
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := e.Dep.CreateBatch(ctx, sup)
			if err != nil && !errors.Is(err, trading.ErrConflict) {
				t.Error(err)
			}
			if err == nil {
				mu.Lock()
				batched += b.Refunds
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var items int64
	e.Dep.DB.Table("refund_batch_items").Count(&items)
	if batched != 6 || items != 6 || len(e.refunds("sent")) != 6 {
		t.Fatalf("%d batched, %d items; want each of 6 refunds once", batched, items)
	}
}

// A crash while making a batch leaves nothing half-done; the next run
// completes it, and failed refunds go into a later batch.
func TestBatchIsAllOrNothingAndFailuresRebatch(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	_, va := e.bidder("福建癸建设有限公司")
	arrived := e.Clock.Now()
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("C1", va, "福建癸建设有限公司", "100000.00", arrived)}); err != nil {
		t.Fatal(err)
	}
	// The project is terminated: D8, with interest.
	var code string
	e.Dep.DB.Raw("SELECT p.code FROM projects p JOIN lots l ON l.project_id = p.id WHERE l.id = ?", e.Lot).Scan(&code)
	agent := trading.Actor{AccountID: 1, Username: "daili", Role: trading.RoleAgent}
	n, err := e.TS.DraftAnnouncement(ctx, agent, code, trading.AnnouncementInput{Type: trading.AnnouncementTermination, Title: "保证金测试工程终止公告", Body: "终止"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, trading.Actor{AccountID: 2, Username: "jiandu", Role: trading.RoleSupervisor}, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	if p := e.refunds("pending"); len(p) != 1 || p[0].Rule != "D8" || !p[0].WithInterest {
		t.Fatalf("termination refunds: %+v", p)
	}
	// A rate schedule that does not cover the deposit's days: the batch
	// fails in the middle, and nothing of it remains.
	good := e.Dep.Rates
	e.Dep.Rates = RateSchedule{{From: arrived.Add(24 * time.Hour), AnnualRate: decimal.RequireFromString("0.0035")}}
	if _, err := e.Dep.CreateBatch(ctx, sup); err == nil {
		t.Fatal("batch with uncomputable interest")
	}
	var batches int64
	e.Dep.DB.Model(&Batch{}).Count(&batches)
	if batches != 0 || len(e.refunds("pending")) != 1 {
		t.Fatalf("a failed batch left %d batches", batches)
	}
	e.Dep.Rates = good
	// 37 days held at 0.35 % on ACT/360: 35.97 (D8).
	e.Clock.Set(arrived.AddDate(0, 0, 37))
	b, err := e.Dep.CreateBatch(ctx, sup)
	if err != nil || b.Total.StringFixed(2) != "100035.97" {
		t.Fatalf("batch: %+v %v", b, err)
	}
	sent := e.refunds("sent")
	if _, err := e.Dep.Confirm(ctx, sup, sent[0].ID, false, "账户已销户"); err != nil {
		t.Fatal(err)
	}
	if f := e.refunds("failed"); len(f) != 1 || f[0].FailedReason != "账户已销户" {
		t.Fatalf("failed: %+v", f)
	}
	b2, err := e.Dep.CreateBatch(ctx, sup)
	if err != nil || b2.ID == b.ID {
		t.Fatalf("re-batch: %+v %v", b2, err)
	}
	if _, err := e.Dep.Confirm(ctx, sup, sent[0].ID, true, ""); err != nil {
		t.Fatal(err)
	}
	e.verifyClean()
	rep, _ := e.Dep.Verify(ctx, nil)
	if rep.Bank.StringFixed(2) != "-35.97" {
		t.Fatalf("bank after paying interest: %s", rep.Bank)
	}
}

func TestForfeitureNeedsD7AndAReason(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	a, va := e.bidder("福建子建设有限公司")
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("F1", va, "福建子建设有限公司", "200000.00", e.Clock.Now())}); err != nil {
		t.Fatal(err)
	}
	if err := e.Dep.Forfeit(ctx, sup, va, "D5", "拒签合同"); trading.AsError(err).Field != "rule" {
		t.Fatalf("wrong rule: %v", err)
	}
	if err := e.Dep.Forfeit(ctx, sup, va, "D7", ""); trading.AsError(err).Field != "reason" {
		t.Fatalf("no reason: %v", err)
	}
	if err := e.Dep.Forfeit(ctx, trading.Actor{Role: trading.RoleAgent}, va, "D7", "拒绝签订合同"); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("an agent forfeited: %v", err)
	}
	if err := e.Dep.Forfeit(ctx, sup, va, "D7", "中标后无正当理由拒绝签订合同"); err != nil {
		t.Fatal(err)
	}
	mine, _ := e.Dep.MyDeposits(ctx, a)
	if mine[0].Inflows[0].Status != InflowForfeited || !strings.Contains(mine[0].Inflows[0].Reason, "D7") {
		t.Fatalf("bidder sees %+v", mine[0].Inflows[0])
	}
	e.verifyClean()
}

// The refund instruction file is safe to open in a spreadsheet (no cell
// read as a formula), carries a BOM (or is GBK as the centre sets), and its
// memo says in Chinese which rule returns the money.
func TestRefundFileNeutralisedEncodedAndNamed(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	a, va := e.bidder("福建癸建设有限公司")
	evil := "=cmd|' /C calc'!A0"
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{
		inflow("N1", va, "福建癸建设有限公司", "200000.00", e.Clock.Now()),
		inflow("N2", va, evil, "1000.00", e.Clock.Now()), // not the bidder (D2): returned to the payer
		inflow("N3", va, "@SUM(1+1)", "2000.00", e.Clock.Now()),
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.Bid.Withdraw(ctx, a, e.Lot); err != nil {
		t.Fatal(err)
	}
	b, err := e.Dep.CreateBatch(ctx, sup)
	if err != nil || b.Refunds != 3 {
		t.Fatalf("batch: %+v %v", b, err)
	}
	file, err := e.Dep.BatchFile(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(file, []byte("\xef\xbb\xbf批次号,")) {
		t.Fatalf("no BOM: %q", file[:min(len(file), 20)])
	}
	rows, err := csv.NewReader(bytes.NewReader(file[3:])).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("file: %q %v", file, err)
	}
	memos := map[string]string{}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("cell %q would be read as a formula", cell)
			}
		}
		memos[row[2]] = row[6]
	}
	want := map[string]string{"福建癸建设有限公司": "退还保证金（D6 撤回报名）", "'" + evil: "退回款项（D2 非投标人账户缴纳）",
		"'@SUM(1+1)": "退回款项（D2 非投标人账户缴纳）"}
	for payee, memo := range want {
		if memos[payee] != memo {
			t.Fatalf("memo of %q: %q (all: %v)", payee, memos[payee], memos)
		}
	}
	if strings.Contains(string(file), "INVALID") {
		t.Fatalf("a rule code reached the bank: %s", file)
	}
	e.Dep.BankFile = EncodingGBK
	gbk, err := e.Dep.BatchFile(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := simplifiedchinese.GBK.NewDecoder().Bytes(gbk)
	if err != nil || !bytes.Equal(decoded, file[3:]) || bytes.Equal(gbk, file[3:]) {
		t.Fatalf("GBK file decodes to %q (%v)", decoded, err)
	}
	e.verifyClean()
}
