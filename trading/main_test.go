package trading

import (
	"testing"
	"time"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

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
	s.Passwords = testenv.CheapPasswords
	return s, clock
}

func validSignUp(username, code string) SignUp {
	return SignUp{Kind: BidderEnterprise, Name: "福建测试建设有限公司", IDNumber: code, LegalRep: "张三",
		Phone: "13800138000", Email: "bid@example.com", Username: username, Password: "secret123"}
}
