package calendar

import (
	"errors"
	"testing"
	"time"
)

// TestProvisionalConservative is the proof the README promises: built
// from the 放假办法 and lunar dates alone, the provisional 2024, 2025 and
// 2026 never end a period of N = 1…30 working days earlier than the
// official notices do, from any start date of those years, and never start
// a period counted backwards later.
func TestProvisionalConservative(t *testing.T) {
	official := defaultCal(t)
	prov := New().EnableProvisional() // no official year at all: every day is provisional
	checked := 0
	for d := (Date{2024, time.January, 1}); d.Year <= 2026; d = d.AddDays(1) {
		start := d.In().Add(9 * time.Hour)
		for n := 1; n <= 30; n++ {
			for _, sign := range []int{1, -1} {
				want, err := official.AddWorkingDays(start, sign*n)
				if errors.Is(err, ErrYearMissing{}) {
					continue // runs into 2023 or 2027: no official answer
				}
				if err != nil {
					t.Fatal(err)
				}
				got, r, err := prov.AddWorkingDaysProvisional(start, sign*n)
				if err != nil {
					t.Fatal(err)
				}
				if !r.Provisional {
					t.Fatalf("%v %+d: reckoning not marked provisional", d, sign*n)
				}
				if sign > 0 && got.Before(want) || sign < 0 && got.After(want) {
					t.Errorf("%v %+d working days: provisional %v, official %v", d, sign*n, DateOf(got), DateOf(want))
				}
				// The count of a period is never more than the official one.
				if sign > 0 {
					pn, _, err := prov.WorkingDaysBetweenProvisional(start, want)
					if err != nil || pn > n {
						t.Errorf("%v to %v: provisional count %d, official %d (%v)", d, DateOf(want), pn, n, err)
					}
				}
				checked++
			}
		}
	}
	if checked < 3*365*2*30-2000 {
		t.Fatalf("only %d comparisons", checked)
	}
}

// Every official day off of 2024–2026 is a provisional day off or a
// weekend, and no provisional day is a make-up working day.
func TestProvisionalCoversOfficial(t *testing.T) {
	official := defaultCal(t)
	for _, y := range []int{2024, 2025, 2026} {
		days, err := ProvisionalDays(y)
		if err != nil {
			t.Fatal(err)
		}
		off := map[Date]bool{}
		for _, d := range days {
			if d.Kind != KindOff || d.Date.IsWeekend() {
				t.Errorf("%d: provisional row %+v must be a weekday off", y, d)
			}
			off[d.Date] = true
		}
		for _, d := range official.Days(y) {
			if d.Kind == KindOff && !d.Date.IsWeekend() && !off[d.Date] {
				t.Errorf("%d: official day off %v (%s) is a provisional working day", y, d.Date, d.Holiday)
			}
		}
	}
}

func TestProvisional2027(t *testing.T) {
	days, err := ProvisionalDays(2027)
	if err != nil {
		t.Fatal(err)
	}
	off := map[Date]string{}
	for _, d := range days {
		off[d.Date] = d.Holiday
	}
	// 2027: 元旦 Friday; 初一 6 February (Saturday), 除夕 5 February; 清明
	// 5 April (Monday); 端午 9 June (Wednesday); 中秋 15 September
	// (Wednesday); 国庆 1 October (Friday).
	for _, s := range []string{"2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-12",
		"2027-04-05", "2027-05-03", "2027-05-04", "2027-05-05", "2027-06-07", "2027-06-09", "2027-06-11",
		"2027-09-13", "2027-09-15", "2027-09-17", "2027-10-04", "2027-10-08"} {
		d, _ := ParseDate(s)
		if off[d] == "" {
			t.Errorf("%s should be a provisional day off", s)
		}
	}
	for _, s := range []string{"2027-01-04", "2027-03-01", "2027-04-07", "2027-05-10", "2027-10-13"} {
		d, _ := ParseDate(s)
		if off[d] != "" {
			t.Errorf("%s should be a working day, got %s", s, off[d])
		}
	}
	if off[Date{2027, time.February, 8}] != "春节（暂行）" {
		t.Errorf("holiday name %q", off[Date{2027, time.February, 8}])
	}

	// A calendar with 2024–2026 counts into 2027 provisionally, and says so;
	// the strict methods still refuse.
	c := defaultCal(t)
	end, r, err := c.AddWorkingDaysProvisional(at("2026-12-15 09:00"), 10)
	if err != nil || !r.Provisional || len(r.Years) != 1 || r.Years[0] != 2027 {
		t.Fatalf("got %v %+v %v", end, r, err)
	}
	if _, err := c.AddWorkingDays(at("2026-12-15 09:00"), 10); !errors.Is(err, ErrYearMissing{Year: 2027}) {
		t.Fatalf("strict: %v", err)
	}
	// Inside official years nothing is provisional.
	if _, r, err := c.AddWorkingDaysProvisional(at("2025-03-03 09:00"), 10); err != nil || r.Provisional {
		t.Fatalf("2025: %+v %v", r, err)
	}
	// A calendar without EnableProvisional stays strict.
	if _, _, err := New().AddWorkingDaysProvisional(at("2026-12-15 09:00"), 10); !errors.Is(err, ErrYearMissing{}) {
		t.Fatalf("New(): %v", err)
	}
}

// TestEarliestNeverLater: for periods the platform must act within (a
// refund within N working days), a missing year is counted so that the due
// date is never later than the official notice gives: checked against
// every start date of 2024–2026 and N = 1…30.
func TestEarliestNeverLater(t *testing.T) {
	official := defaultCal(t)
	prov := New().EnableProvisional()
	for d := (Date{2024, time.January, 1}); d.Year <= 2026; d = d.AddDays(1) {
		start := d.In().Add(15 * time.Hour)
		for n := 1; n <= 30; n++ {
			want, err := official.AddWorkingDays(start, n)
			if errors.Is(err, ErrYearMissing{}) {
				continue
			}
			got, r, err := prov.AddWorkingDaysEarliest(start, n)
			if err != nil || !r.Provisional {
				t.Fatalf("%v %d: %+v %v", d, n, r, err)
			}
			if got.After(want) {
				t.Errorf("%v +%d: earliest %v later than official %v", d, n, DateOf(got), DateOf(want))
			}
		}
	}
	// On loaded years it is AddWorkingDays.
	c := defaultCal(t)
	got, r, err := c.AddWorkingDaysEarliest(at("2025-01-24 10:00"), 5)
	if err != nil || r.Provisional || DateOf(got) != (Date{2025, time.February, 7}) {
		t.Fatalf("2025: %v %+v %v", got, r, err)
	}
	// Into 2027 it answers instead of refusing, and says so.
	if _, r, err := c.AddWorkingDaysEarliest(at("2026-12-28 10:00"), 5); err != nil || !r.Provisional {
		t.Fatalf("into 2027: %+v %v", r, err)
	}
}
