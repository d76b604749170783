package deposits

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// G7 excepts the days the supplier's own cause kept a late procurement
// refund back, not the whole delay: a supervisor records that period, and
// the fee leaves out exactly those days, shown and at batching; the
// centre's own days before and after still count, including a refund the
// bank failed for the supplier's closed account. Only supervisors, only
// late procurement refunds still to be sent, each step audited and told to
// the supplier. 60,000.00 × 3.00 % × 1.2 ÷ 360 = 6.00 a day late.
func TestOccupationFeeWaiver(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	refused := func(err error, status int, field string) {
		t.Helper()
		te := trading.AsError(err)
		if te == nil || te.Status() != status || (field != "" && te.Field != field) {
			t.Fatalf("want %d on %q, got %v", status, field, err)
		}
	}
	const why = "供应商提供的收款账户已销户，经联系才提供新账户"

	// Not a procurement deposit (an engineering withdrawal, D6): G7 does not apply.
	a, number := e.bidder("福建甲建设有限公司")
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("E1", number, "福建甲建设有限公司", "200000.00", e.Clock.Now())}); err != nil {
		t.Fatal(err)
	}
	if err := e.Bid.Withdraw(ctx, a, e.Lot); err != nil {
		t.Fatal(err)
	}
	var eng int64
	e.TS.DB.Raw(`SELECT r.id FROM refunds r JOIN inflows i ON i.id = r.inflow_id WHERE i.bank_txn_id = 'E1'`).Scan(&eng)
	_, err := e.Dep.SetFeeWaiver(ctx, e.Sup, eng, FeeWaiverInput{From: "2026-03-04", Reason: why})
	refused(err, http.StatusUnprocessableEntity, "id")
	if trading.AsError(err).Rule != "G7" {
		t.Fatalf("not under G7: %v", err)
	}

	lot := e.procurementAwarded()
	var late []int64
	for _, v := range e.refunds("pending") {
		if v.Rule == "G6" {
			late = append(late, v.ID)
		}
	}
	if len(late) != 2 {
		t.Fatalf("late refunds: %v", late)
	}
	waived, other := late[0], late[1]
	fee := func(id int64) string {
		t.Helper()
		for _, v := range e.refunds("") {
			if v.ID == id {
				if !v.Procurement {
					t.Fatalf("refund %d not marked procurement", id)
				}
				return v.OccupationFee.StringFixed(2)
			}
		}
		t.Fatalf("refund %d not listed", id)
		return ""
	}
	// Due 1 April: on that day it is not late, so there is nothing to except.
	e.Clock.Set(time.Date(2026, 4, 1, 17, 0, 0, 0, trading.Shanghai))
	_, err = e.Dep.SetFeeWaiver(ctx, e.Sup, waived, FeeWaiverInput{From: "2026-04-01", Reason: why})
	refused(err, http.StatusUnprocessableEntity, "id")
	e.Clock.Set(time.Date(2026, 4, 2, 9, 0, 0, 0, trading.Shanghai)) // one day late: 6.00
	if _, err := e.Dep.SetFeeWaiver(ctx, e.Sup, waived, FeeWaiverInput{From: "2026-04-01", Reason: why}); err != nil {
		t.Fatalf("the day after the due date: %v", err)
	}
	if f, o := fee(waived), fee(other); f != "0.00" || o != "6.00" {
		t.Fatalf("one day late, excepted: %s, the other %s", f, o)
	}
	if _, err := e.Dep.RemoveFeeWaiver(ctx, e.Sup, waived); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(time.Date(2026, 4, 11, 9, 0, 0, 0, trading.Shanghai)) // 10 days late: 60.00 each
	_, err = e.Dep.SetFeeWaiver(ctx, e.Agent, waived, FeeWaiverInput{From: "2026-04-04", Reason: why})
	refused(err, http.StatusForbidden, "")
	for _, bad := range []struct {
		in    FeeWaiverInput
		field string
	}{
		{FeeWaiverInput{From: "2026-04-04", Reason: " 迟延 "}, "reason"},
		{FeeWaiverInput{From: "2026-04-04", Reason: "账户\x00已销户了"}, "reason"},
		{FeeWaiverInput{From: "4月4日", Reason: why}, "from"},
		{FeeWaiverInput{From: "2026-04-12", Reason: why}, "from"},
		{FeeWaiverInput{From: "2026-04-04", Until: "2026-04-04", Reason: why}, "until"},
		{FeeWaiverInput{From: "2026-04-04", Until: "2026-04-12", Reason: why}, "until"},
	} {
		_, err := e.Dep.SetFeeWaiver(ctx, e.Sup, waived, bad.in)
		refused(err, http.StatusBadRequest, bad.field)
	}
	_, err = e.Dep.RemoveFeeWaiver(ctx, e.Sup, waived)
	refused(err, http.StatusConflict, "id")
	// A period that ends by the due date is not part of the delay.
	_, err = e.Dep.SetFeeWaiver(ctx, e.Sup, waived, FeeWaiverInput{From: "2026-03-28", Until: "2026-04-01", Reason: why})
	refused(err, http.StatusUnprocessableEntity, "until")

	// 4–7 April excepted: 6 of the 10 days count.
	r, err := e.Dep.SetFeeWaiver(ctx, e.Sup, waived, FeeWaiverInput{From: "2026-04-04", Until: "2026-04-08", Reason: why})
	if err != nil || r.FeeWaivedFrom == nil || r.FeeWaivedUntil == nil || r.FeeWaiver != why {
		t.Fatalf("set: %+v %v", r, err)
	}
	if f, o := fee(waived), fee(other); f != "36.00" || o != "60.00" {
		t.Fatalf("fees with 4 days excepted: %s, the other %s", f, o)
	}
	// Corrected: from 4 April and still going, 3 days count.
	if _, err := e.Dep.SetFeeWaiver(ctx, e.Sup, waived, FeeWaiverInput{From: "2026-04-04", Reason: why}); err != nil {
		t.Fatal(err)
	}
	if f := fee(waived); f != "18.00" {
		t.Fatalf("fee with the cause still going: %s", f)
	}
	// Taken back: all 10 days; recorded again for the batch.
	if r, err := e.Dep.RemoveFeeWaiver(ctx, e.Sup, waived); err != nil || r.FeeWaivedFrom != nil {
		t.Fatalf("remove: %+v %v", r, err)
	}
	if f := fee(waived); f != "60.00" {
		t.Fatalf("fee after the removal: %s", f)
	}
	if _, err := e.Dep.SetFeeWaiver(ctx, e.Sup, waived, FeeWaiverInput{From: "2026-04-04", Reason: why}); err != nil {
		t.Fatal(err)
	}

	// The batch: 200,000.00 (engineering, no fee) + 120,000.00 + 18.00 + 60.00.
	b, err := e.Dep.CreateBatch(ctx, e.Sup)
	if err != nil || !b.Total.Equal(decimal.RequireFromString("320078")) {
		t.Fatalf("batch %+v %v", b, err)
	}
	_, err = e.Dep.SetFeeWaiver(ctx, e.Sup, other, FeeWaiverInput{From: "2026-04-04", Reason: why})
	refused(err, http.StatusConflict, "id")
	// The bank fails the other refund: the supplier's account was closed.
	// Recorded from that day, the centre's first 10 days still count when
	// it is sent again on 15 April (14 days late, 4 of them excepted).
	if _, err := e.Dep.Confirm(ctx, e.Sup, other, false, "收款账户已销户"); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(time.Date(2026, 4, 15, 9, 0, 0, 0, trading.Shanghai))
	// Not from before the batch the bank returned: the days before it are
	// the centre's (it had not tried to pay).
	_, err = e.Dep.SetFeeWaiver(ctx, e.Sup, other, FeeWaiverInput{From: "2026-04-10", Reason: "银行退票：供应商收款账户已销户"})
	refused(err, http.StatusUnprocessableEntity, "from")
	if _, err := e.Dep.SetFeeWaiver(ctx, e.Sup, other, FeeWaiverInput{From: "2026-04-11", Reason: "银行退票：供应商收款账户已销户。"}); err != nil {
		t.Fatal(err)
	}
	if o := fee(other); o != "60.00" {
		t.Fatalf("the failed refund's fee: %s, want the centre's 10 days", o)
	}
	if _, err := e.Dep.CreateBatch(ctx, e.Sup); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{waived, other} {
		if _, err := e.Dep.Confirm(ctx, e.Sup, id, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	if booked := e.feeBooked(); !booked.Equal(decimal.RequireFromString("78")) {
		t.Fatalf("fees booked %s, want 18.00 + 60.00", booked)
	}

	// The winner's refund (the contract, G6) is not late yet: nothing to except.
	if _, err := e.Bid.RecordContract(ctx, e.Agent, lot, bidding.ContractInput{Date: time.Date(2026, 4, 14, 0, 0, 0, 0, trading.Shanghai), Amount: "2790000"}); err != nil {
		t.Fatal(err)
	}
	var winner int64
	e.TS.DB.Raw(`SELECT id FROM refunds WHERE status = 'pending' AND rule = 'G6'`).Scan(&winner)
	_, err = e.Dep.SetFeeWaiver(ctx, e.Sup, winner, FeeWaiverInput{From: "2026-04-14", Reason: why})
	refused(err, http.StatusUnprocessableEntity, "id")

	var audits, told int64
	e.TS.DB.Raw(`SELECT count(*) FROM audit_events WHERE action IN ('refund.fee_waive', 'refund.fee_restore')`).Scan(&audits)
	e.TS.DB.Raw(`SELECT count(*) FROM notifications WHERE title = '保证金退还：资金占用费（G7）' AND body LIKE '%财政部令第87号第三十八条%'
		AND body LIKE '%请向交易中心提出。' AND body NOT LIKE '%。。%' AND body NOT LIKE '%退款 %'`).Scan(&told)
	if audits != 7 || told != 7 {
		t.Fatalf("%d audit records and %d notices to the suppliers, want 7 each (5 records, 2 removals)", audits, told)
	}
	e.verifyClean()
}
