package deposits

import (
	"errors"
	"fmt"
	"strconv"
)

// seqWidth is the fixed width of the sequence part of a virtual sub-account.
const seqWidth = 10

// maxSeq is the largest sequence that fits seqWidth digits.
const maxSeq = 9_999_999_999

var ErrVirtualAccount = errors.New("虚拟子账号无效")

// VirtualAccounts numbers the virtual sub-accounts (虚拟子账号) opened under
// the centre's master account, one per registration:
//
//	Prefix (6–10 digits) + sequence zero-padded to 10 digits + 1 check digit
//
// The check digit is Luhn mod 10 (ISO/IEC 7812-1) over all preceding digits:
// from the rightmost digit leftwards, double every second digit starting with
// the rightmost, subtract 9 from any double over 9, sum everything; the check
// digit makes the total a multiple of 10. It catches every single-digit error
// and every adjacent transposition except 09 ↔ 90, so a mistyped account on a
// bidder's transfer is refused rather than credited to someone else.
//
// The mapping is injective for a fixed prefix (fixed width, Parse inverts it).
// The sequence part is drawn at random (drawAccountSeqs): a number tells
// nothing of how many accounts were opened before it (K4/K5).
type VirtualAccounts struct {
	Prefix string
}

func (v VirtualAccounts) checkPrefix() error {
	if len(v.Prefix) < 6 || len(v.Prefix) > 10 || !allDigits(v.Prefix) {
		return fmt.Errorf("%w: 前缀 %q 须为 6–10 位数字", ErrVirtualAccount, v.Prefix)
	}
	return nil
}

// Number returns the virtual sub-account for sequence seq (1 … 9999999999).
func (v VirtualAccounts) Number(seq int64) (string, error) {
	if err := v.checkPrefix(); err != nil {
		return "", err
	}
	if seq < 1 || seq > maxSeq {
		return "", fmt.Errorf("%w: 序号 %d 超出范围 1–%d", ErrVirtualAccount, seq, int64(maxSeq))
	}
	body := fmt.Sprintf("%s%0*d", v.Prefix, seqWidth, seq)
	return body + string(rune('0'+luhnDigit(body))), nil
}

// Valid reports whether s is a well-formed virtual sub-account under Prefix
// with a correct check digit.
func (v VirtualAccounts) Valid(s string) bool {
	_, err := v.Parse(s)
	return err == nil
}

// Parse returns the sequence of virtual sub-account s.
func (v VirtualAccounts) Parse(s string) (int64, error) {
	if err := v.checkPrefix(); err != nil {
		return 0, err
	}
	if len(s) != len(v.Prefix)+seqWidth+1 || !allDigits(s) {
		return 0, fmt.Errorf("%w: %q 应为 %d 位数字", ErrVirtualAccount, s, len(v.Prefix)+seqWidth+1)
	}
	if s[:len(v.Prefix)] != v.Prefix {
		return 0, fmt.Errorf("%w: %q 不属于本中心主账户（前缀 %s）", ErrVirtualAccount, s, v.Prefix)
	}
	body := s[:len(s)-1]
	if int(s[len(s)-1]-'0') != luhnDigit(body) {
		return 0, fmt.Errorf("%w: %q 校验位错误", ErrVirtualAccount, s)
	}
	seq, err := strconv.ParseInt(body[len(v.Prefix):], 10, 64)
	if err != nil || seq < 1 {
		return 0, fmt.Errorf("%w: %q 序号无效", ErrVirtualAccount, s)
	}
	return seq, nil
}

// luhnDigit returns the Luhn check digit to append to the ASCII digits body.
func luhnDigit(body string) int {
	sum := 0
	double := true // the digit next to the check digit is doubled
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return (10 - sum%10) % 10
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
