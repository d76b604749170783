package trading

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

func TestCheckCreditCode(t *testing.T) {
	tests := []struct {
		code     string
		ok       bool
		checksum bool // a checksum failure rather than a format one
	}{
		{"91350100M000100Y43", true, false},  // RULES.md example
		{"91350100M000100Y44", false, true},  // wrong check character
		{"91350100M0001TGQXM", false, true},  // genuine Fujian pilot code, fails the checksum
		{"91350100M000100Y4", false, false},  // 17 characters
		{"91350100M000100I43", false, false}, // I is not in the alphabet
		{"91A50100M000100Y43", false, false}, // region code must be digits
		{"91350100m000100y43", false, false}, // lower case
		{"", false, false},
	}
	for _, tt := range tests {
		err := CheckCreditCode(tt.code)
		if (err == nil) != tt.ok {
			t.Errorf("CheckCreditCode(%q) = %v, want ok=%v", tt.code, err, tt.ok)
		}
		if got := errors.Is(err, ErrChecksum); got != tt.checksum {
			t.Errorf("CheckCreditCode(%q) checksum error = %v, want %v (%v)", tt.code, got, tt.checksum, err)
		}
	}
}

// checkDay is the service's date the identity tests check on.
var checkDay = time.Date(2026, 12, 2, 10, 0, 0, 0, Shanghai)

func TestCheckResidentID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"11010519491231002X", true},  // RULES.md example
		{"110105209901010012", false}, // born 2099-01-01: the checksum is right, the date is in the future
		{"11010520261202001X", true},  // born on checkDay itself
		{"110105194912310021", false},
		{"11010519491331002X", false}, // month 13
		{"1101051949123100", false},
		{"1101051949123100AX", false},
	}
	for _, tt := range tests {
		if err := CheckResidentID(tt.id, checkDay); (err == nil) != tt.ok {
			t.Errorf("CheckResidentID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
	}
	// The future is the service clock's: the next day's birth is refused,
	// naming the field.
	if err := CheckResidentID("110105202612030015", checkDay); AsError(err).Field != "id_number" || !strings.Contains(err.Error(), "晚于今天") {
		t.Errorf("born tomorrow: %v", err)
	}
}

// The test kit's generators make what the product's checks accept, over
// many bodies, so every package's tests sign up bidders that are valid.
func TestKitIdentitiesPassChecks(t *testing.T) {
	r := rand.New(rand.NewPCG(11643, 32100))
	for i := 0; i < 2000; i++ {
		body := []byte("91350100")
		for len(body) < 17 {
			body = append(body, creditCharset[r.IntN(len(creditCharset))])
		}
		if code := testenv.CreditCode(string(body)); CheckCreditCode(code) != nil {
			t.Fatalf("testenv.CreditCode(%q) = %q: %v", body, code, CheckCreditCode(code))
		}
		born := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(30000))
		id := testenv.ResidentID(fmt.Sprintf("350102%s%03d", born.Format("20060102"), r.IntN(1000)))
		if err := CheckResidentID(id, checkDay); err != nil {
			t.Fatalf("testenv.ResidentID gave %q: %v", id, err)
		}
	}
	for i := 0; i < 50; i++ {
		if code := testenv.NewCreditCode(); CheckCreditCode(code) != nil {
			t.Fatalf("testenv.NewCreditCode() = %q: %v", code, CheckCreditCode(code))
		}
		if id := testenv.NewResidentID(); CheckResidentID(id, checkDay) != nil {
			t.Fatalf("testenv.NewResidentID() = %q: %v", id, CheckResidentID(id, checkDay))
		}
	}
}

func FuzzCheckCreditCode(f *testing.F) {
	f.Add("91350100M000100Y43")
	f.Add("91350100M0001TGQXM")
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckCreditCode(s)
		if err == nil && len(s) != 18 {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/agent/projects":      "/agent/projects",
		"/notices?q=a":         "/notices?q=a",
		"":                     "/account",
		"//evil.example/":      "/account",
		"/\t/evil.example":     "/account",
		"/\\evil.example":      "/account",
		"https://evil.example": "/account",
		"javascript:alert(1)":  "/account",
		"/a b":                 "/account",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
