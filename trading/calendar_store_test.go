package trading

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading/calendar"
)

// cal2027 is a made-up 2027 notice: 春节 off Mon 02-08 … Fri 02-12, with the
// Saturdays 02-06 and 02-20 as make-up working days.
const cal2027 = `# 测试数据（非官方通知）
date,kind,holiday
2027-01-01,off,元旦
2027-02-06,work,春节
2027-02-08,off,春节
2027-02-09,off,春节
2027-02-10,off,春节
2027-02-11,off,春节
2027-02-12,off,春节
2027-02-20,work,春节
`

func newCalendarAdmin(t *testing.T, s *Service, username string) Actor {
	t.Helper()
	acc, err := s.CreateAccount(context.Background(), SystemActor, NewAccount{
		Role: RoleAdmin, Username: username, DisplayName: "日历管理员" + username, Password: "secret123"})
	if err != nil {
		t.Fatal(err)
	}
	return Actor{AccountID: acc.ID, Username: acc.Username, Role: acc.Role, IP: "127.0.0.1"}
}

func at2027(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// addWD is AddWorkingDays through the service's rule book, as callers use it.
func addWD(t *testing.T, s *Service, from string, n int) (time.Time, error) {
	t.Helper()
	book, err := s.RuleBook(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return book.Cal.AddWorkingDays(at2027(from), n)
}

func TestCalendarSaveYearCountsWorkingDays(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	admin := newCalendarAdmin(t, s, "caladmin")

	if _, err := addWD(t, s, "2027-02-05 09:00", 1); !errors.Is(err, calendar.ErrYearMissing{Year: 2027}) {
		t.Fatalf("before saving: %v, want ErrYearMissing 2027", err)
	}
	if got := s.MissingCalendarYears(s.Clock.Now()); !slices.Equal(got, []int{2027}) {
		t.Fatalf("MissingCalendarYears = %v, want [2027]", got)
	}
	if err := s.SaveCalendarYear(ctx, admin, 2027, strings.ReplaceAll(cal2027, "\n", "\r\n")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2027-02-05 09:00", 1, "2027-02-06 09:00"}, // make-up Saturday
		{"2027-02-05 09:00", 2, "2027-02-15 09:00"}, // across the week off
		{"2027-02-19 09:00", 1, "2027-02-20 09:00"},
		{"2026-12-31 09:00", 1, "2027-01-04 09:00"}, // 元旦 2027-01-01 off
	}
	for _, tt := range tests {
		got, err := addWD(t, s, tt.from, tt.n)
		if err != nil || !got.Equal(at2027(tt.want)) {
			t.Errorf("AddWorkingDays(%s, %d) = %v, %v; want %s", tt.from, tt.n, got, err, tt.want)
		}
	}
	if got := s.MissingCalendarYears(s.Clock.Now()); len(got) != 0 {
		t.Fatalf("MissingCalendarYears after saving = %v", got)
	}

	years, err := s.CalendarYears(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(years, func(y CalendarYear) bool { return y.Year == 2027 })
	if i < 0 {
		t.Fatalf("2027 not listed: %+v", years)
	}
	if y := years[i]; !y.Maintained || y.Source != "管理员维护" || y.OffDays != 6 || y.WorkDays != 2 ||
		y.UpdatedBy != "日历管理员caladmin" || !strings.Contains(y.CSV, "测试数据") {
		t.Fatalf("2027 listed as %+v", y)
	}
	if y := years[slices.IndexFunc(years, func(y CalendarYear) bool { return y.Year == 2026 })]; y.Maintained || y.Source != "内置" || !strings.HasPrefix(y.CSV, "date,kind,holiday\n") {
		t.Fatalf("2026 listed as %+v", y)
	}

	events, err := ListAudit(ctx, s.DB, AuditFilter{Action: "calendar.save"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].ObjectID != "2027" || events[0].ActorID == nil || *events[0].ActorID != admin.AccountID ||
		events[0].Summary != "新增2027年工作日历：6个休息日、2个调休工作日" {
		t.Fatalf("audit = %+v", events)
	}
	if _, problem, err := VerifyAudit(ctx, s.DB); err != nil || problem != nil {
		t.Fatalf("VerifyAudit: %v %v", problem, err)
	}
}

// Two instances on one database: an edit on one is seen by the other's
// RuleBook, even when the clock gives both saves the same updated_at.
func TestRuleBookSeesOtherInstance(t *testing.T) {
	t.Parallel()
	s1, clock := newTestService(t)
	ctx := context.Background()
	admin := newCalendarAdmin(t, s1, "caladmin")
	s2 := NewService(s1.DB, clock, nil)
	if _, err := addWD(t, s2, "2027-02-05 09:00", 1); !errors.Is(err, calendar.ErrYearMissing{Year: 2027}) {
		t.Fatalf("s2 before: %v", err)
	}

	if err := s1.SaveCalendarYear(ctx, admin, 2027, cal2027); err != nil {
		t.Fatal(err)
	}
	if got, err := addWD(t, s2, "2027-02-05 09:00", 2); err != nil || !got.Equal(at2027("2027-02-15 09:00")) {
		t.Fatalf("s2 after first save: %v, %v", got, err)
	}

	// Same clock reading: only the content tells the versions apart.
	v2 := strings.Replace(cal2027, "2027-02-12,off,春节\n", "", 1)
	if err := s1.SaveCalendarYear(ctx, admin, 2027, v2); err != nil {
		t.Fatal(err)
	}
	if got, err := addWD(t, s2, "2027-02-05 09:00", 2); err != nil || !got.Equal(at2027("2027-02-12 09:00")) {
		t.Fatalf("s2 after second save: %v, %v", got, err)
	}
	if err := s2.SaveCalendarYear(ctx, admin, 2027, cal2027); err != nil {
		t.Fatal(err)
	}
	if got, err := addWD(t, s1, "2027-02-05 09:00", 2); err != nil || !got.Equal(at2027("2027-02-15 09:00")) {
		t.Fatalf("s1 after s2's save: %v, %v", got, err)
	}

	// An admin's version of an embedded year replaces it entirely …
	if err := s1.SaveCalendarYear(ctx, admin, 2026, "2026-03-03,off,测试\n"); err != nil {
		t.Fatal(err)
	}
	book, err := s2.RuleBook(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w, err := book.Cal.IsWorkingDay(at2027("2026-03-03 09:00")); err != nil || w {
		t.Fatalf("2026-03-03 on s2 = %v, %v; want a day off", w, err)
	}
	if w, _ := book.Cal.IsWorkingDay(at2027("2026-10-01 09:00")); !w {
		t.Fatal("2026-10-01 should be a working day in the admin's 2026")
	}
	// … and when its row goes, the embedded notice is back.
	if err := s1.DB.Exec("DELETE FROM calendar_years WHERE year = 2026").Error; err != nil {
		t.Fatal(err)
	}
	if book, err = s2.RuleBook(ctx); err != nil {
		t.Fatal(err)
	}
	if w, _ := book.Cal.IsWorkingDay(at2027("2026-10-01 09:00")); w {
		t.Fatal("2026-10-01 should be 国庆节 again")
	}
}

func TestCalendarSaveRefusesMalformedCSV(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	admin := newCalendarAdmin(t, s, "caladmin")
	before := s.Book.Cal.Days(2026)
	tests := []struct {
		name  string
		year  int
		csv   string
		field string
		want  string // in the message
	}{
		{"bad date", 2027, "date,kind,holiday\n2027-01-01,off,元旦\n2027-02-30,off,春节\n", "csv", "第3行"},
		{"unknown kind", 2027, "date,kind,holiday\n2027-01-01,holiday,元旦\n", "csv", "第2行"},
		{"weekday as work", 2026, "date,kind,holiday\n2026-03-03,work,x\n", "csv", "第2行"},
		{"other year", 2027, "2026-05-01,off,劳动节\n", "csv", "第1行"},
		{"quote", 2027, "date,kind,holiday\n\"2027-01-01,off\n", "csv", "第"},
		{"empty", 2027, " \r\n ", "csv", "至少填写表头"},
		{"year too small", 1999, "date,kind,holiday\n", "year", "2000"},
		{"too long", 2027, strings.Repeat("#", maxCalendarCSV+1), "csv", "过长"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SaveCalendarYear(ctx, admin, tt.year, tt.csv)
			var de *Error
			if !errors.As(err, &de) || de.Status() != http.StatusBadRequest || de.Field != tt.field || !strings.Contains(de.Message, tt.want) {
				t.Fatalf("err = %v, want a 400 on %s mentioning %q", err, tt.field, tt.want)
			}
		})
	}
	var n int64
	if err := s.DB.Table("calendar_years").Count(&n).Error; err != nil || n != 0 {
		t.Fatalf("calendar_years has %d rows (%v)", n, err)
	}
	if events, _ := ListAudit(ctx, s.DB, AuditFilter{Action: "calendar.save"}); len(events) != 0 {
		t.Fatalf("refused saves were audited: %+v", events)
	}
	if s.Book.Cal.HasYear(2027) || !slices.Equal(s.Book.Cal.Days(2026), before) {
		t.Fatal("a refused save changed the calendar")
	}
}

func TestCalendarSaveRefusedForNonAdmin(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	for _, role := range []Role{RoleBidder, RoleAgent, RoleSupervisor, "anonymous"} {
		err := s.SaveCalendarYear(ctx, Actor{Username: "x", Role: role}, 2027, cal2027)
		if !errors.Is(err, ErrForbidden) || AsError(err).Status() != http.StatusForbidden {
			t.Errorf("%s: err = %v, want 403", role, err)
		}
	}
	if s.Book.Cal.HasYear(2027) {
		t.Fatal("a refused save changed the calendar")
	}
}

// Run with -race: readers on one instance while another saves.
func TestCalendarConcurrentReadsAndSaves(t *testing.T) {
	t.Parallel()
	s1, clock := newTestService(t)
	ctx := context.Background()
	admin := newCalendarAdmin(t, s1, "caladmin")
	s2 := NewService(s1.DB, clock, nil)
	v2 := strings.Replace(cal2027, "2027-02-12,off,春节\n", "", 1)
	if err := s1.SaveCalendarYear(ctx, admin, 2027, cal2027); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				book, err := s2.RuleBook(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := book.Cal.AddWorkingDays(at2027("2027-02-05 09:00"), 2)
				if err != nil || (!got.Equal(at2027("2027-02-15 09:00")) && !got.Equal(at2027("2027-02-12 09:00"))) {
					t.Errorf("AddWorkingDays = %v, %v", got, err)
					return
				}
			}
		}()
	}
	for i := 0; i < 6; i++ {
		text := []string{cal2027, v2}[i%2]
		if err := s1.SaveCalendarYear(ctx, admin, 2027, text); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	// The last save was v2; both instances agree.
	for _, s := range []*Service{s1, s2} {
		if got, err := addWD(t, s, "2027-02-05 09:00", 2); err != nil || !got.Equal(at2027("2027-02-12 09:00")) {
			t.Fatalf("final state: %v, %v", got, err)
		}
	}
}
