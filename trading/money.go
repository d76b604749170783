package trading

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Money is decimal yuan from the request to the column and back. These are
// the strict rules every amount entered on the platform passes (lot prices,
// deposits, bank statements): the shared parser lives here because trading
// is the package every other one may import.

// maxIntegerDigits is the integer part NUMERIC(18,2) can hold.
const maxIntegerDigits = 16

// ErrZeroAmount is matched (errors.Is) by the *AmountError ParseAmount returns
// for a zero amount, so a caller that tolerates zero can tell it apart.
var ErrZeroAmount = errors.New("金额为零")

// AmountError says why an amount was refused.
type AmountError struct {
	Input  string
	Reason string // Chinese, shown to the user
}

func (e *AmountError) Error() string {
	return fmt.Sprintf("金额 %q 无效：%s", e.Input, e.Reason)
}

// Is lets errors.Is(err, ErrZeroAmount) pick out the zero case.
func (e *AmountError) Is(target error) bool {
	return target == ErrZeroAmount && e.Reason == reasonZero
}

const reasonZero = "金额不能为零"

// ParseAmount parses a positive yuan amount written as ASCII digits with an
// optional '.' and at most two decimals: "1234", "1234.5", "1234.50".
// Everything else is refused with an *AmountError: signs, exponents,
// thousands separators, spaces (callers trim a field's edges first),
// full-width digits, leading zeros ("007"), a bare "." edge ("5.", ".5"),
// more than 16 integer digits (NUMERIC(18,2)). Zero returns decimal.Zero and
// an error matching ErrZeroAmount; the caller decides whether zero is allowed.
func ParseAmount(s string) (decimal.Decimal, error) {
	fail := func(reason string) (decimal.Decimal, error) {
		return decimal.Decimal{}, &AmountError{Input: s, Reason: reason}
	}
	if s == "" {
		return fail("金额为空")
	}
	if !utf8.ValidString(s) {
		return fail("金额含非法字符")
	}
	intDigits, fracDigits, dots := 0, 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if dots == 0 {
				intDigits++
			} else {
				fracDigits++
			}
		case r == '.':
			dots++
		case r == '+':
			return fail("金额不能带正号")
		case r == '-' || r == '－' || r == '−':
			return fail("金额不能为负数")
		case r == ',' || r == '，' || r == '_' || r == '\'':
			return fail("金额不能含千位分隔符")
		case r == 'e' || r == 'E':
			return fail("金额不能使用科学计数法")
		case r >= '０' && r <= '９', r == '．':
			return fail("金额须使用半角数字")
		case r == ' ' || r == '\t' || r == '\u3000' || r == '\u00a0' || r == '\r' || r == '\n':
			return fail("金额不能含空格")
		default:
			return fail("金额只能由数字和小数点组成")
		}
	}
	switch {
	case dots > 1:
		return fail("金额只能有一个小数点")
	case intDigits == 0:
		return fail("小数点前缺少数字")
	case dots == 1 && fracDigits == 0:
		return fail("小数点后缺少数字")
	case fracDigits > 2:
		return fail("金额最多两位小数")
	case intDigits > 1 && s[0] == '0':
		return fail("金额整数部分不能以0开头")
	case intDigits > maxIntegerDigits:
		return fail("金额超过16位整数")
	}
	d, err := decimal.NewFromString(s)
	if err != nil { // unreachable after the scan above; kept as a guard
		return fail("金额格式错误")
	}
	if d.IsZero() {
		return decimal.Zero, &AmountError{Input: s, Reason: reasonZero}
	}
	return d, nil
}

// FormatYuan writes an amount with exactly two decimals ("1234.50"),
// rounding half away from zero if d has more.
func FormatYuan(d decimal.Decimal) string {
	return d.StringFixed(2)
}
