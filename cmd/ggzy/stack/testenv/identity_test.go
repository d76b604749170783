package testenv

import (
	"strings"
	"testing"
)

// The generators reproduce RULES.md's examples; trading's tests check
// their output against the product's own validators.
func TestCreditCodeAndResidentID(t *testing.T) {
	if got := CreditCode("91350100M000100Y4"); got != "91350100M000100Y43" {
		t.Errorf("CreditCode = %q, want the RULES.md example 91350100M000100Y43", got)
	}
	if got := ResidentID("11010519491231002"); got != "11010519491231002X" {
		t.Errorf("ResidentID = %q, want the RULES.md example 11010519491231002X", got)
	}
	a, b := NewCreditCode(), NewCreditCode()
	if a == b || len(a) != 18 || !strings.HasPrefix(a, "91350100MA") {
		t.Errorf("NewCreditCode gave %q then %q, want two distinct 18-character Fuzhou codes", a, b)
	}
	p, q := NewResidentID(), NewResidentID()
	if p == q || len(p) != 18 || !strings.HasPrefix(p, "35010219800") {
		t.Errorf("NewResidentID gave %q then %q, want two distinct 18-character ids", p, q)
	}
	for _, body := range []string{"91350100M000100Y", "91350100M000100I4"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("CreditCode(%q) did not panic", body)
				}
			}()
			CreditCode(body)
		}()
	}
}
