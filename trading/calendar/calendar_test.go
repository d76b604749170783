package calendar

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func defaultCal(t *testing.T) *Calendar {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDefaultYears(t *testing.T) {
	c := defaultCal(t)
	if got := c.Years(); len(got) != 3 || got[0] != 2024 || got[2] != 2026 {
		t.Fatalf("Years() = %v, want [2024 2025 2026]", got)
	}
	if !c.HasYear(2025) || c.HasYear(2027) {
		t.Fatal("HasYear wrong")
	}
	// 2023-12-30/31 come from the 2024 notice.
	if d := c.Days(2024); d[0].Date != (Date{2023, 12, 30}) || d[0].Holiday != "元旦" {
		t.Fatalf("first 2024 row = %+v", d[0])
	}
}

func TestIsWorkingDay(t *testing.T) {
	c := defaultCal(t)
	tests := []struct {
		date string
		want bool
	}{
		{"2025-01-24", true},  // Friday before 春节
		{"2025-01-25", false}, // Saturday
		{"2025-01-26", true},  // Sunday, 调休上班
		{"2025-01-28", false}, // 除夕
		{"2025-02-04", false}, // last day of 春节
		{"2025-02-05", true},
		{"2025-02-08", true}, // Saturday, 调休上班
		{"2024-09-29", true}, // Sunday, 国庆调休
		{"2024-10-01", false},
		{"2024-10-07", false},
		{"2024-10-08", true},
		{"2024-10-12", true}, // Saturday, 国庆调休
		{"2026-01-04", true}, // Sunday, 元旦调休
		{"2026-03-02", true}, // plain Monday
		{"2026-03-01", false},
	}
	for _, tt := range tests {
		got, err := c.IsWorkingDay(at(tt.date + " 10:00"))
		if err != nil || got != tt.want {
			t.Errorf("IsWorkingDay(%s) = %v, %v; want %v", tt.date, got, err, tt.want)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	c := defaultCal(t)
	tests := []struct {
		name  string
		start string
		n     int
		want  string
	}{
		{"春节2025: Sun 01-26 and 02-05..07 count", "2025-01-24 09:30", 5, "2025-02-07 09:30"},
		{"make-up Sunday is the first working day", "2025-01-24 17:00", 1, "2025-01-26 17:00"},
		{"make-up Saturday 02-08 counts", "2025-02-07 09:00", 1, "2025-02-08 09:00"},
		{"from inside the holiday", "2025-01-30 08:00", 1, "2025-02-05 08:00"},
		{"国庆2024: 09-29 Sunday works", "2024-09-27 09:00", 2, "2024-09-30 09:00"},
		{"国庆2024: across the week off", "2024-09-30 09:00", 1, "2024-10-08 09:00"},
		{"国庆2024: 10-12 Saturday works", "2024-10-11 09:00", 1, "2024-10-12 09:00"},
		{"plain weeks", "2024-03-01 09:00", 10, "2024-03-15 09:00"},
		{"zero", "2025-01-25 09:00", 0, "2025-01-25 09:00"},
		{"backwards over 春节", "2025-02-05 09:00", -1, "2025-01-27 09:00"},
		{"year boundary 2024→2025", "2024-12-31 09:00", 1, "2025-01-02 09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.AddWorkingDays(at(tt.start), tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if want := at(tt.want); !got.Equal(want) || got.Location() != Shanghai {
				t.Fatalf("AddWorkingDays(%s, %d) = %v, want %v", tt.start, tt.n, got, want)
			}
		})
	}
}

func TestAddWorkingDaysKeepsShanghaiClock(t *testing.T) {
	c := defaultCal(t)
	// 2025-01-24 01:30 UTC is 09:30 in Shanghai.
	got, err := c.AddWorkingDays(time.Date(2025, 1, 24, 1, 30, 0, 0, time.UTC), 5)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(at("2025-02-07 09:30")) {
		t.Fatalf("got %v", got)
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	c := defaultCal(t)
	tests := []struct {
		a, b string
		want int
	}{
		{"2025-01-24 09:00", "2025-02-07 17:00", 5},
		{"2025-01-24 09:00", "2025-01-24 18:00", 0},
		{"2025-01-27 09:00", "2025-02-04 09:00", 0}, // (27, 04] all off
		{"2024-09-30 09:00", "2024-10-12 09:00", 5}, // 10-08..11 + Saturday 10-12
		{"2025-02-07 17:00", "2025-01-24 09:00", -5},
	}
	for _, tt := range tests {
		got, err := c.WorkingDaysBetween(at(tt.a), at(tt.b))
		if err != nil || got != tt.want {
			t.Errorf("WorkingDaysBetween(%s, %s) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}

// Property: for every start date in 2024–2026 and n in 1..25,
// WorkingDaysBetween(t, AddWorkingDays(t, n)) == n and the result is a
// working day.
func TestBetweenInvertsAdd(t *testing.T) {
	c := defaultCal(t)
	for d := (Date{2024, 1, 1}); d.Before(Date{2026, 11, 1}); d = d.AddDays(1) {
		start := time.Date(d.Year, d.Month, d.Day, 9, 0, 0, 0, Shanghai)
		for n := 1; n <= 25; n += 3 {
			end, err := c.AddWorkingDays(start, n)
			if err != nil {
				t.Fatalf("%v +%d: %v", d, n, err)
			}
			got, err := c.WorkingDaysBetween(start, end)
			if err != nil || got != n {
				t.Fatalf("%v +%d = %v; between = %d, %v", d, n, end, got, err)
			}
			if w, _ := c.IsWorkingDay(end); !w {
				t.Fatalf("%v +%d = %v is not a working day", d, n, end)
			}
			// One day earlier is one working day fewer.
			if n > 1 {
				prev, _ := c.WorkingDaysBetween(start, end.AddDate(0, 0, -1))
				if prev != n-1 {
					t.Fatalf("%v +%d: day before end has %d", d, n, prev)
				}
			}
		}
	}
}

func TestYearMissing(t *testing.T) {
	c := defaultCal(t)
	_, err := c.IsWorkingDay(at("2027-03-01 09:00"))
	var ym ErrYearMissing
	if !errors.As(err, &ym) || ym.Year != 2027 {
		t.Fatalf("IsWorkingDay(2027) err = %v", err)
	}
	if !errors.Is(err, ErrYearMissing{}) || !errors.Is(err, ErrYearMissing{Year: 2027}) || errors.Is(err, ErrYearMissing{Year: 2028}) {
		t.Fatal("errors.Is on ErrYearMissing")
	}
	if !strings.Contains(err.Error(), "缺少2027年工作日历") {
		t.Fatalf("message %q", err)
	}
	if _, err := c.AddWorkingDays(at("2026-12-20 09:00"), 10); !errors.Is(err, ErrYearMissing{Year: 2027}) {
		t.Fatalf("AddWorkingDays into 2027: %v", err)
	}
	// The last week of December waits for the next year's notice.
	if _, err := c.IsWorkingDay(at("2026-12-28 09:00")); !errors.Is(err, ErrYearMissing{Year: 2027}) {
		t.Fatalf("2026-12-28: %v", err)
	}
	if w, err := c.IsWorkingDay(at("2026-12-24 09:00")); err != nil || !w {
		t.Fatalf("2026-12-24: %v %v", w, err)
	}
	if _, err := c.WorkingDaysBetween(at("2026-12-01 09:00"), at("2027-01-10 09:00")); !errors.Is(err, ErrYearMissing{Year: 2027}) {
		t.Fatalf("WorkingDaysBetween into 2027: %v", err)
	}
	if _, err := c.IsWorkingDay(at("2023-06-01 09:00")); !errors.Is(err, ErrYearMissing{Year: 2023}) {
		t.Fatalf("2023: %v", err)
	}
	if got := c.Missing(at("2023-05-01 00:00"), at("2028-01-01 00:00")); len(got) != 3 || got[0] != 2023 || got[1] != 2027 || got[2] != 2028 {
		t.Fatalf("Missing = %v", got)
	}
	if got := c.Missing(at("2026-12-31 00:00"), at("2026-01-01 00:00")); len(got) != 1 || got[0] != 2027 {
		t.Fatalf("Missing(2026 reversed) = %v", got)
	}
	if got := c.Missing(at("2024-01-01 00:00"), at("2026-12-24 00:00")); len(got) != 0 {
		t.Fatalf("Missing(2024..2026-12-24) = %v", got)
	}
	// An administrator adds 2027 (here: no differing days); now it works.
	if err := c.SetYear(2027, nil); err != nil {
		t.Fatal(err)
	}
	if w, err := c.IsWorkingDay(at("2027-03-01 09:00")); err != nil || !w {
		t.Fatalf("after SetYear: %v %v", w, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		csv  string
		line int
		err  error
	}{
		{"bad date", "date,kind,holiday\n2025-01-01,off,元旦\n2025-02-30,off,春节\n", 3, ErrBadDate},
		{"not a date", "date,kind,holiday\nyesterday,off,x\n", 2, ErrBadDate},
		{"unknown kind", "date,kind,holiday\n2025-01-01,holiday,元旦\n", 2, ErrUnknownKind},
		{"too far before", "2024-12-24,off,元旦\n", 1, ErrOutOfRange},
		{"too far after", "date,kind,holiday\n2026-01-08,off,元旦\n", 2, ErrOutOfRange},
		{"other year", "date,kind,holiday\n2024-05-01,off,劳动节\n", 2, ErrOutOfRange},
		{"duplicate", "date,kind,holiday\n2025-05-01,off,劳动节\n2025-05-02,off,劳动节\n2025-05-01,off,劳动节\n", 4, ErrDuplicate},
		{"work on a weekday", "date,kind,holiday\n2025-01-27,work,春节\n", 2, ErrWorkOnWeekday},
		{"one column", "date,kind,holiday\n\n2025-01-01\n", 3, ErrBadLine},
		{"four columns", "date,kind,holiday\n2025-01-01,off,元旦,x\n", 2, ErrBadLine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(2025, strings.NewReader(tt.csv))
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != tt.line || !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want line %d %v", err, tt.line, tt.err)
			}
			if !strings.Contains(err.Error(), "第") {
				t.Fatalf("message lacks the line: %q", err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	in := "# 2025 notice\ndate,kind,holiday\n2024-12-28,off,元旦\n2025-01-01, off ,元旦\n2025-01-26,work,春节\n2025-02-01,off\n2026-01-03,off,x\n"
	days, err := Parse(2025, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 5 || days[1].Kind != KindOff || days[3].Holiday != "" {
		t.Fatalf("days = %+v", days)
	}
	// Round trip through WriteCSV.
	var buf bytes.Buffer
	if err := WriteCSV(&buf, days); err != nil {
		t.Fatal(err)
	}
	again, err := Parse(2025, &buf)
	if err != nil || len(again) != len(days) || again[2] != days[2] {
		t.Fatalf("round trip: %v %+v", err, again)
	}
}

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"2025.csv": {Data: []byte("date,kind,holiday\n2025-01-26,work,春节\n")},
	}
	c, err := Load(fsys)
	if err != nil || !c.HasYear(2025) {
		t.Fatalf("Load: %v", err)
	}
	fsys["x.csv"] = &fstest.MapFile{Data: []byte("")}
	if _, err := Load(fsys); !errors.Is(err, ErrBadYear) {
		t.Fatalf("bad name: %v", err)
	}
	delete(fsys, "x.csv")
	fsys["2026.csv"] = &fstest.MapFile{Data: []byte("2026-02-02,work,x\n")}
	if _, err := Load(fsys); !errors.Is(err, ErrWorkOnWeekday) || !strings.Contains(err.Error(), "2026.csv") {
		t.Fatalf("bad row: %v", err)
	}
}

func TestSetYearValidates(t *testing.T) {
	c := defaultCal(t)
	before := c.Days(2025)
	bad := []Day{{Date: Date{2025, 2, 3}, Kind: KindWork}} // a Monday
	if err := c.SetYear(2025, bad); !errors.Is(err, ErrWorkOnWeekday) {
		t.Fatalf("err = %v", err)
	}
	if err := c.SetYear(2025, []Day{{Date: Date{2025, 2, 29}, Kind: KindOff}}); !errors.Is(err, ErrBadDate) {
		t.Fatalf("err = %v", err)
	}
	if len(c.Days(2025)) != len(before) {
		t.Fatal("a rejected SetYear changed the data")
	}
	// Days returns a copy.
	c.Days(2025)[0].Kind = KindWork
	if c.Days(2025)[0].Kind != KindOff {
		t.Fatal("Days leaked internal state")
	}
}

// Run with -race: readers and an administrator's SetYear at once.
func TestConcurrentReadsAndSetYear(t *testing.T) {
	c := defaultCal(t)
	days2025 := c.Days(2025)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				end, err := c.AddWorkingDays(at("2025-01-24 09:00"), 5)
				if err != nil || !end.Equal(at("2025-02-07 09:00")) {
					t.Errorf("AddWorkingDays = %v, %v", end, err)
					return
				}
				if _, err := c.WorkingDaysBetween(at("2024-01-01 00:00"), at("2026-06-01 00:00")); err != nil {
					t.Error(err)
					return
				}
				c.Years()
				c.Missing(at("2025-01-01 00:00"), at("2027-01-01 00:00"))
			}
		}()
	}
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if err := c.SetYear(2025, days2025); err != nil {
					t.Error(err)
					return
				}
				_ = c.Days(2025)
			}
		}()
	}
	wg.Wait()
}

func FuzzParse(f *testing.F) {
	f.Add("date,kind,holiday\n2025-01-26,work,春节\n2025-01-28,off,春节\n")
	f.Add("2025-13-01,off\n")
	f.Fuzz(func(t *testing.T, s string) {
		days, err := Parse(2025, strings.NewReader(s))
		if err == nil {
			if err := Validate(2025, days); err != nil {
				t.Fatalf("Parse accepted what Validate rejects: %v", err)
			}
		}
	})
}
