package trading

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseAmount(t *testing.T) {
	ok := []struct{ in, want string }{
		{"1", "1.00"},
		{"0.01", "0.01"},
		{"0.5", "0.50"},
		{"1234.5", "1234.50"},
		{"1234.50", "1234.50"},
		{"800000.00", "800000.00"}, // D3 cap
		{"9999999999999999.99", "9999999999999999.99"}, // NUMERIC(18,2) max
	}
	for _, c := range ok {
		d, err := ParseAmount(c.in)
		if err != nil {
			t.Errorf("ParseAmount(%q): %v", c.in, err)
			continue
		}
		if got := FormatYuan(d); got != c.want {
			t.Errorf("FormatYuan(ParseAmount(%q)) = %s, want %s", c.in, got, c.want)
		}
	}

	bad := []struct{ in, reason string }{
		{"", "金额为空"},
		{"1e3", "金额不能使用科学计数法"},
		{"1E3", "金额不能使用科学计数法"},
		{"10.001", "金额最多两位小数"},
		{"-1", "金额不能为负数"},
		{"-0.01", "金额不能为负数"},
		{"+1", "金额不能带正号"},
		{"1,000.00", "金额不能含千位分隔符"},
		{"1，000", "金额不能含千位分隔符"},
		{"1 000", "金额不能含空格"},
		{" 1", "金额不能含空格"},
		{"1\u3000", "金额不能含空格"},
		{"NaN", "金额只能由数字和小数点组成"},
		{"Inf", "金额只能由数字和小数点组成"},
		{"¥100", "金额只能由数字和小数点组成"},
		{"１００", "金额须使用半角数字"},
		{"1.2.3", "金额只能有一个小数点"},
		{".5", "小数点前缺少数字"},
		{"5.", "小数点后缺少数字"},
		{"007", "金额整数部分不能以0开头"},
		{"12345678901234567", "金额超过16位整数"},
		{"0", "金额不能为零"},
		{"0.00", "金额不能为零"},
		{"\xff", "金额含非法字符"},
	}
	for _, c := range bad {
		_, err := ParseAmount(c.in)
		var ae *AmountError
		if !errors.As(err, &ae) {
			t.Errorf("ParseAmount(%q) = %v, want *AmountError", c.in, err)
			continue
		}
		if ae.Reason != c.reason || ae.Input != c.in {
			t.Errorf("ParseAmount(%q): reason %q, want %q", c.in, ae.Reason, c.reason)
		}
		if zero := c.reason == "金额不能为零"; errors.Is(err, ErrZeroAmount) != zero {
			t.Errorf("ParseAmount(%q): errors.Is(ErrZeroAmount) = %v, want %v", c.in, !zero, zero)
		}
	}
}

func TestParseAmountZeroValue(t *testing.T) {
	d, err := ParseAmount("0.00")
	if !errors.Is(err, ErrZeroAmount) || !d.IsZero() {
		t.Fatalf("ParseAmount(0.00) = %v, %v; want zero and ErrZeroAmount", d, err)
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1", "0.01", "1234.50", "1e3", "10.001", "-1", "0", "１", "9999999999999999.99", "1,000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAmount(s)
		if err != nil {
			var ae *AmountError
			if !errors.As(err, &ae) || ae.Reason == "" {
				t.Fatalf("ParseAmount(%q): untyped error %v", s, err)
			}
			return
		}
		if !d.IsPositive() || d.Exponent() < -2 {
			t.Fatalf("ParseAmount(%q) = %s (exp %d): want positive, exponent ≥ -2", s, d, d.Exponent())
		}
		if d.GreaterThanOrEqual(decimal.New(1, maxIntegerDigits)) {
			t.Fatalf("ParseAmount(%q) = %s exceeds NUMERIC(18,2)", s, d)
		}
		back, err := ParseAmount(FormatYuan(d))
		if err != nil || !back.Equal(d) {
			t.Fatalf("round trip %q → %s → %v, %v", s, FormatYuan(d), back, err)
		}
	})
}
