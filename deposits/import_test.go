package deposits

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
)

// The COPY text written for staging: amounts with two decimals, times
// with their offset, fields escaped.
func TestCopyRowEncoding(t *testing.T) {
	for in, want := range map[string]string{
		"0.01": "0.01", "1": "1.00", "1000.5": "1000.50", "200000.50": "200000.50",
		"9999999999999999.99": "9999999999999999.99", "9999999999999999": "9999999999999999.00",
	} {
		d, err := trading.ParseAmount(in)
		if err != nil {
			t.Fatal(in, err)
		}
		if got := string(appendYuan(nil, d)); got != want || got != d.StringFixed(2) {
			t.Errorf("appendYuan(%s) = %s, want %s", in, got, want)
		}
	}
	for _, tm := range []time.Time{
		time.Date(2026, 3, 2, 9, 5, 7, 0, trading.Shanghai),
		time.Date(2026, 3, 2, 9, 5, 7, 120000000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.FixedZone("x", -(3*3600+30*60))),
	} {
		got := string(appendCopyTime(nil, tm))
		back, err := time.Parse("2006-01-02 15:04:05.999999-07:00", got)
		if err != nil || !back.Equal(tm) {
			t.Errorf("appendCopyTime(%v) = %s (%v, %v)", tm, got, back, err)
		}
	}
	in := Inflow{Line: 7, BankTxnID: `T\1`, ValueTime: time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai),
		VirtualAccount: "123", PayerName: "甲\t公司", PayerAccount: "6222", PayerBank: "", Amount: decimal.RequireFromString("5.5"),
		Memo: "两行\n摘要\r"}
	want := "42\t7\tT\\\\1\t2026-03-02 09:00:00+08:00\t123\t甲\\t公司\t6222\t\t5.50\t两行\\n摘要\\r\n"
	if got := string(appendCopyRow(nil, 42, &in)); got != want {
		t.Errorf("row:\n got %q\nwant %q", got, want)
	}
}
