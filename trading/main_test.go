package trading

import (
	"testing"
	"time"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// testParams keep argon2id cheap in tests; production uses the defaults.
var testParams = PasswordParams{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// newTestService gives a test its own migrated database and a manual clock.
func newTestService(t testing.TB) (*Service, *ManualClock) {
	t.Helper()
	db, err := OpenDB(testenv.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	clock := NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, Shanghai))
	s := NewService(db, clock, nil)
	s.Passwords = testParams
	return s, clock
}

func validSignUp(username, code string) SignUp {
	return SignUp{Kind: BidderEnterprise, Name: "福建测试建设有限公司", IDNumber: code, LegalRep: "张三",
		Phone: "13800138000", Email: "bid@example.com", Username: username, Password: "secret123"}
}

// creditCode builds a valid unified social credit code from a 17-character
// body, so tests can make as many distinct bidders as they need.
func creditCode(body string) string {
	sum := 0
	for i := 0; i < 17; i++ {
		for v := 0; v < len(creditCharset); v++ {
			if creditCharset[v] == body[i] {
				sum += v * creditWeights[i]
			}
		}
	}
	return body + string(creditCharset[(31-sum%31)%31])
}
