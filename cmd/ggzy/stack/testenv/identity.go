package testenv

import (
	"fmt"
	"strings"

	"github.com/alexedwards/argon2id"
)

// The identity numbers and password settings every package's tests share
// (RULES.md "Identity checks"). They live here, not in trading, so that
// trading's own tests can use them without an import cycle.

// CheapPasswords keep argon2id cheap in tests (8 MiB, one pass, one
// thread); production uses trading.DefaultPasswordParams. The type is the
// one trading.PasswordParams aliases:
//
//	ts.Passwords = testenv.CheapPasswords
var CheapPasswords = argon2id.Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

const creditCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY" // GB 32100-2015, no I O Z S V

var (
	creditWeights   = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	residentWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
)

// CreditCode completes a 17-character body with its GB 32100-2015 check
// character, giving a unified social credit code (统一社会信用代码) that
// passes trading.CheckCreditCode: CreditCode("91350100M000100Y4") is
// "91350100M000100Y43". A body of the wrong length or outside the alphabet
// is a mistake in the test, so it panics.
func CreditCode(body string) string {
	if len(body) != 17 {
		panic(fmt.Sprintf("testenv.CreditCode: body %q has %d characters, want 17", body, len(body)))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditCharset, body[i])
		if v < 0 {
			panic(fmt.Sprintf("testenv.CreditCode: %q at %d is not in the GB 32100 alphabet", body[i], i+1))
		}
		sum += v * creditWeights[i]
	}
	return body + string(creditCharset[(31-sum%31)%31])
}

// NewCreditCode is a valid enterprise credit code (Fuzhou, 91350100MA…)
// not handed out before in this test binary.
func NewCreditCode() string {
	return CreditCode(fmt.Sprintf("91350100MA%07d", counter.Add(1)%10_000_000))
}

// ResidentID completes a 17-digit body (region, birth date YYYYMMDD,
// sequence) with its GB 11643 check character, giving a resident identity
// number (居民身份证号码) that passes trading.CheckResidentID when the birth
// date is real: ResidentID("11010519491231002") is "11010519491231002X".
func ResidentID(body string) string {
	if len(body) != 17 {
		panic(fmt.Sprintf("testenv.ResidentID: body %q has %d characters, want 17", body, len(body)))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if body[i] < '0' || body[i] > '9' {
			panic(fmt.Sprintf("testenv.ResidentID: %q at %d is not a digit", body[i], i+1))
		}
		sum += int(body[i]-'0') * residentWeights[i]
	}
	return body + string("10X98765432"[sum%11])
}

// NewResidentID is a valid resident id of a Fuzhou (350102) person born
// 1980-01-01 to 1980-01-28, not handed out before in this test binary
// (up to 28,000 of them).
func NewResidentID() string {
	n := counter.Add(1) % 28_000
	return ResidentID(fmt.Sprintf("3501021980%02d%02d%03d", 1, 1+n/1000, n%1000))
}
