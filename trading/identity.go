package trading

import (
	"errors"
	"strings"
	"time"
)

// Identity checks of bidders (RULES.md "Identity checks").

// creditCharset is the GB 32100-2015 alphabet (no I, O, Z, S, V).
const creditCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// ErrChecksum marks a well-formed code whose check character is wrong. Some
// early pilot codes are genuine but fail it (ECOSYSTEM.md), so an
// administrator may override this error — never a format error.
var ErrChecksum = errors.New("checksum mismatch")

// CheckCreditCode validates a unified social credit code (统一社会信用代码,
// GB 32100-2015). It returns nil, a format error, or an error wrapping
// ErrChecksum.
func CheckCreditCode(code string) error {
	if len(code) != 18 {
		return Invalid("id_number", "统一社会信用代码应为18位，实际%d位", len([]rune(code)))
	}
	sum := 0
	for i := 0; i < 18; i++ {
		v := strings.IndexByte(creditCharset, code[i])
		if v < 0 {
			return Invalid("id_number", "统一社会信用代码第%d位“%c”不是允许的字符（数字或除 I、O、Z、S、V 外的大写字母）", i+1, code[i])
		}
		if i >= 2 && i <= 7 && v > 9 {
			return Invalid("id_number", "统一社会信用代码第3至8位应为登记管理机关行政区划码（数字）")
		}
		if i < 17 {
			sum += v * creditWeights[i]
		}
	}
	want := creditCharset[(31-sum%31)%31]
	if code[17] != want {
		e := Invalid("id_number", "统一社会信用代码校验位不符（应为%c），请核对；确属早期试点代码的，请联系交易中心管理员核实后登记", want)
		e.Code, e.Err = "checksum", ErrChecksum
		return e
	}
	return nil
}

var residentWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// CheckResidentID validates an 18-digit resident identity number (GB 11643)
// on the service's date today: a birth date after today is refused.
func CheckResidentID(id string, today time.Time) error {
	if len(id) != 18 {
		return Invalid("id_number", "居民身份证号码应为18位")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return Invalid("id_number", "居民身份证号码前17位应为数字")
		}
		sum += int(id[i]-'0') * residentWeights[i]
	}
	birth, err := time.Parse("20060102", id[6:14])
	if err != nil || birth.Year() < 1900 {
		return Invalid("id_number", "居民身份证号码中的出生日期无效")
	}
	if t := today.In(Shanghai); birth.After(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)) {
		return Invalid("id_number", "居民身份证号码中的出生日期 %s 晚于今天", birth.Format("2006-01-02"))
	}
	if want := "10X98765432"[sum%11]; id[17] != want {
		e := Invalid("id_number", "居民身份证号码校验位不符，请核对")
		e.Code, e.Err = "checksum", ErrChecksum
		return e
	}
	return nil
}
