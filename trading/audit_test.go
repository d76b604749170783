package trading

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

func writeAudit(t *testing.T, s *Service, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := Transact(context.Background(), s.DB, func(tx *gorm.DB) error {
			// One object: every row in one chain.
			return Audit(tx, s.Clock.Now(), SystemActor, "test.write", "thing", "1", fmt.Sprintf("第%d条", i))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditChainDetectsTampering(t *testing.T) {
	t.Parallel()
	tamper := []struct {
		name  string
		sql   string
		rowID int64
	}{
		{"edited summary", "UPDATE audit_events SET summary = '改过' WHERE id = 3", 3},
		{"edited time", "UPDATE audit_events SET occurred_at = occurred_at + interval '1 second' WHERE id = 2", 2},
		{"deleted middle row", "DELETE FROM audit_events WHERE id = 3", 4},
		{"deleted last row", "DELETE FROM audit_events WHERE id = 5", 5},
		{"rehashed edit", "UPDATE audit_events SET summary = 'x', hash = 'f' || substr(hash, 2) WHERE id = 2", 2},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestService(t)
			writeAudit(t, s, 5)
			n, problem, err := VerifyAudit(context.Background(), s.DB)
			if err != nil || problem != nil || n != 5 {
				t.Fatalf("intact chain: %d %v %v", n, problem, err)
			}
			if err := s.DB.Exec(tt.sql).Error; err != nil {
				t.Fatal(err)
			}
			_, problem, err = VerifyAudit(context.Background(), s.DB)
			if err != nil {
				t.Fatal(err)
			}
			if problem == nil || problem.ID != tt.rowID {
				t.Fatalf("problem = %v, want one naming row %d", problem, tt.rowID)
			}
			if !strings.Contains(problem.Error(), fmt.Sprint(tt.rowID)) {
				t.Fatalf("message %q does not name the row", problem.Error())
			}
		})
	}
}

// Rows of different objects spread over the chains; each chain verifies on
// its own, and a problem in one is found among rows of all the others. The
// log is read in pages of 5 records, as a large log is read in pages of
// 1,000: a page ending in one chain must not skip rows of the next.
func TestAuditChainsInterleave(t *testing.T) {
	// Not parallel: sets the package-level auditPage, which every audit verification reads.
	s, _ := newTestService(t)
	defer func(n int) { auditPage = n }(auditPage)
	auditPage = 5
	chains := map[int]bool{}
	for i := 0; i < 64; i++ {
		if err := Transact(context.Background(), s.DB, func(tx *gorm.DB) error {
			return Audit(tx, s.Clock.Now(), SystemActor, "test.spread", "thing", fmt.Sprint(i), "")
		}); err != nil {
			t.Fatal(err)
		}
		chains[auditChain("thing", fmt.Sprint(i))] = true
	}
	if len(chains) < 8 {
		t.Fatalf("64 objects used only %d chains", len(chains))
	}
	if n, problem, err := VerifyAudit(context.Background(), s.DB); err != nil || problem != nil || n != 64 {
		t.Fatalf("intact: %d %v %v", n, problem, err)
	}
	s.DB.Exec("UPDATE audit_events SET actor = 'mallory' WHERE id = 40")
	s.DB.Exec("DELETE FROM audit_events WHERE id = 50")
	if _, problem, _ := VerifyAudit(context.Background(), s.DB); problem == nil || problem.ID != 40 {
		t.Fatalf("problem = %v, want row 40 first", problem)
	}
}

func TestAuditConcurrentWritersKeepOneChain(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				err := Transact(context.Background(), s.DB, func(tx *gorm.DB) error {
					return Audit(tx, s.Clock.Now(), SystemActor, "test.race", "thing", "x", "")
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	n, problem, err := VerifyAudit(context.Background(), s.DB)
	if err != nil || problem != nil || n != 80 {
		t.Fatalf("after 80 concurrent writes: %d rows, %v, %v", n, problem, err)
	}
}

func TestAuditRolledBackChangeLeavesNoRecord(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	err := Transact(context.Background(), s.DB, func(tx *gorm.DB) error {
		if err := Audit(tx, s.Clock.Now(), SystemActor, "test.rollback", "thing", "1", ""); err != nil {
			return err
		}
		return fmt.Errorf("the change itself failed")
	})
	if err == nil {
		t.Fatal("expected the failure")
	}
	writeAudit(t, s, 1)
	n, problem, err := VerifyAudit(context.Background(), s.DB)
	if err != nil || problem != nil || n != 1 {
		t.Fatalf("%d rows, %v, %v", n, problem, err)
	}
}

func TestListAuditFilters(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	writeAudit(t, s, 7)
	page1, err := ListAudit(context.Background(), s.DB, AuditFilter{Action: "test.write", Limit: 3})
	if err != nil || len(page1) != 3 || page1[0].ID != 7 {
		t.Fatalf("page 1: %v %v", page1, err)
	}
	page2, _ := ListAudit(context.Background(), s.DB, AuditFilter{Action: "test.write", Limit: 3, BeforeID: page1[2].ID})
	if len(page2) != 3 || page2[0].ID != 4 {
		t.Fatalf("page 2: %+v", page2)
	}
	none, _ := ListAudit(context.Background(), s.DB, AuditFilter{Action: "other"})
	if len(none) != 0 {
		t.Fatalf("filter by action returned %d", len(none))
	}
}

// The database hashes a record exactly as Go verifies it: times with and
// without fractions of a second (trailing zeros dropped), Chinese, quotes,
// backslashes and control characters, no actor, a long summary.
func TestAuditHashAgreesWithGo(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, Shanghai)
	cases := []struct {
		at      time.Time
		a       Actor
		summary string
	}{
		{base, SystemActor, "整秒"},
		{base.Add(123456789 * time.Nanosecond), Actor{AccountID: 0, Username: "", Role: "bidder", IP: "10.0.0.1"}, "纳秒截断到微秒"},
		{base.Add(100 * time.Millisecond), SystemActor, "尾零：.1"},
		{base.Add(time.Microsecond), SystemActor, "一微秒"},
		{base.Add(999999 * time.Microsecond), SystemActor, "引号' \" 反斜杠\\ 制表\t 换行\n 单元分隔\x1f 结束"},
		{time.Date(1999, 12, 31, 23, 59, 59, 500000000, time.UTC), SystemActor, strings.Repeat("长", 2500)},
	}
	for i, c := range cases {
		err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
			return Audit(tx, c.at, c.a, "test.hash", "case", fmt.Sprint(i), c.summary)
		})
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
	}
	n, problem, err := VerifyAudit(ctx, s.DB)
	if err != nil || problem != nil || n < int64(len(cases)) {
		t.Fatalf("verify: %d %+v %v", n, problem, err)
	}
}

// audit_chain (migration 00011) computes auditChain in SQL, for statements
// that write an object and its audit record at once: the two agree on
// every id, Chinese and the separator included.
func TestAuditChainInSQL(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	types := []string{"registration", "thing", "公告", ""}
	ids := []string{"", "0", "9", "\x1f", "中文标识", "350100-2026-GC-0001"}
	for i := 1; i < 400; i += 7 {
		ids = append(ids, fmt.Sprint(i*7919))
	}
	seen := map[int]bool{}
	for _, typ := range types {
		for _, id := range ids {
			var got int
			if err := s.DB.Raw("SELECT audit_chain(?, ?)", typ, id).Scan(&got).Error; err != nil {
				t.Fatal(err)
			}
			if want := auditChain(typ, id); got != want {
				t.Fatalf("audit_chain(%q, %q) = %d, auditChain = %d", typ, id, got, want)
			}
			seen[got] = true
		}
	}
	if len(seen) != AuditChains {
		t.Fatalf("the ids reached %d of the %d chains", len(seen), AuditChains)
	}
}
