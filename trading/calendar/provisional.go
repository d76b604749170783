package calendar

import (
	"fmt"
	"slices"
	"time"

	lunar "github.com/6tail/lunar-go/calendar"
)

// A provisional year (暂行日历) stands in for a year whose State Council
// notice is not loaded yet, so that a period running into next year can be
// counted in December instead of being refused. It is conservative by
// construction: every day an official notice could make a day off is a day
// off, and no weekend is ever a make-up working day. Its non-working days
// are therefore a superset of any official year's, so counting n working
// days from any date ends no earlier than by the official notice (and
// counting backwards starts no later), and a period long enough by the
// provisional year is long enough by the official one.
//
// How a year is built:
//
//  1. The statutory holidays of 全国年节及纪念日放假办法 (as amended in 2024):
//     元旦 1 January; 春节 除夕 to 初三 (4 days); 清明 the day of the solar
//     term; 劳动节 1–2 May; 端午 五月初五; 中秋 八月十五; 国庆 1–3 October.
//     Lunar dates and the solar term come from github.com/6tail/lunar-go.
//  2. Each is widened to the longest span official notices have joined to
//     it (the 2024–2026 notices and earlier ones): 春节 from three days
//     before 初一 to 初八 (2026: 腊月廿八 to 初七, 9 days; 2024: 初一 to 初八);
//     劳动节 1–5 May; 国庆 1–8 October (2025 with 中秋: 8 days). A one-day
//     holiday stays one day here and is joined by step 4.
//  3. A statutory day on a weekend also takes the weekday before and the
//     weekday after that weekend (补休: 2025 端午 Saturday → Monday off).
//  4. Bridging (调休连休): a weekday between a holiday span and a weekend is a
//     day off when at most two weekdays separate them (Tuesday → Monday,
//     Thursday → Friday, Wednesday → the whole week, as 2010 中秋 Wednesday
//     to Friday), repeated until nothing changes.
//
// Weekends are days off whatever the notice would say (step 0), so the
// make-up Saturdays and Sundays of official notices never count.

// holidaySpan is one holiday of a provisional year.
type holidaySpan struct {
	name      string
	statutory []Date // the days the 放假办法 names
	from, to  Date   // widened to what notices have joined (step 2)
}

// lunarDate is the Gregorian date of a lunar month and day of lunar year y.
func lunarDate(y, m, d int) Date {
	s := lunar.NewLunarFromYmd(y, m, d).GetSolar()
	return Date{s.GetYear(), time.Month(s.GetMonth()), s.GetDay()}
}

func span(from, to Date) []Date {
	var out []Date
	for d := from; !d.After(to); d = d.AddDays(1) {
		out = append(out, d)
	}
	return out
}

// Provisional years are computed for this range only (the lunar library's
// tables are exact here, and the 2024 amendment is the law in force).
const (
	ProvisionalFirstYear = 2000
	ProvisionalLastYear  = 2999
)

func provisionalSpans(year int) []holidaySpan {
	d := func(m time.Month, day int) Date { return Date{year, m, day} }
	newYear := lunarDate(year, 1, 1) // 初一
	eve := newYear.AddDays(-1)       // 除夕 (the last day of the 12th month, 29th or 30th)
	qingming := func() Date {
		s := lunar.NewLunarFromYmd(year, 1, 1).GetJieQiTable()["清明"]
		return Date{s.GetYear(), time.Month(s.GetMonth()), s.GetDay()}
	}()
	dragon, moon := lunarDate(year, 5, 5), lunarDate(year, 8, 15)
	return []holidaySpan{
		{"元旦", []Date{d(time.January, 1)}, d(time.January, 1), d(time.January, 1)},
		{"春节", span(eve, newYear.AddDays(2)), newYear.AddDays(-3), newYear.AddDays(7)},
		{"清明节", []Date{qingming}, qingming, qingming},
		{"劳动节", span(d(time.May, 1), d(time.May, 2)), d(time.May, 1), d(time.May, 5)},
		{"端午节", []Date{dragon}, dragon, dragon},
		{"中秋节", []Date{moon}, moon, moon},
		{"国庆节", span(d(time.October, 1), d(time.October, 3)), d(time.October, 1), d(time.October, 8)},
	}
}

// ProvisionalDays returns the provisional year: days off only (kind off,
// holiday names ending in "（暂行）"), sorted, valid for SetYear. Weekends
// are not listed: they are days off in any case, and a provisional year
// has no make-up working days.
func ProvisionalDays(year int) ([]Day, error) {
	if year < ProvisionalFirstYear || year > ProvisionalLastYear {
		return nil, fmt.Errorf("暂行日历仅支持%d至%d年 (provisional year %d): %w", ProvisionalFirstYear, ProvisionalLastYear, year, ErrBadYear)
	}
	off := map[Date]string{}
	mark := func(d Date, name string) {
		if _, ok := off[d]; !ok {
			off[d] = name
		}
	}
	nonWorking := func(d Date) bool { _, ok := off[d]; return ok || d.IsWeekend() }
	spans := provisionalSpans(year)
	for _, h := range spans {
		for _, d := range span(h.from, h.to) { // steps 1–2
			mark(d, h.name)
		}
		for _, d := range h.statutory { // step 3
			if d.IsWeekend() {
				sat := d
				if d.Weekday() == time.Sunday {
					sat = d.AddDays(-1)
				}
				mark(sat.AddDays(-1), h.name)
				mark(sat.AddDays(2), h.name)
			}
		}
	}
	// Step 4: from every holiday day, walk out of its run of non-working
	// days; if a weekend comes within two weekdays, those weekdays join.
	for changed := true; changed; {
		changed = false
		for _, h := range spans {
			for _, step := range []int{-1, 1} {
				d := h.from
				if step > 0 {
					d = h.to
				}
				for nonWorking(d.AddDays(step)) {
					d = d.AddDays(step)
				}
				var gap []Date
				for e := d.AddDays(step); !e.IsWeekend() && len(gap) <= 2; e = e.AddDays(step) {
					gap = append(gap, e)
				}
				if len(gap) > 0 && len(gap) <= 2 {
					for _, g := range gap {
						mark(g, h.name)
					}
					changed = true
				}
			}
		}
	}
	days := make([]Day, 0, len(off))
	for d, name := range off {
		if d.IsWeekend() {
			continue
		}
		days = append(days, Day{Date: d, Kind: KindOff, Holiday: name + "（暂行）"})
	}
	slices.SortFunc(days, func(a, b Day) int { return a.Date.utc().Compare(b.Date.utc()) })
	if err := Validate(year, days); err != nil {
		return nil, err // unreachable: spans stay within a week of the year
	}
	return days, nil
}

// makeUpReach: official notices put make-up working weekends (调休上班) within
// this many days of a statutory holiday (2024: 4 February, five days before
// 除夕; 2024: 12 October, nine days after 国庆; 2026: 28 February, nine
// days after 初三). Two weeks is generous.
const makeUpReach = 14

// StatutoryDays returns the days of year that 全国年节及纪念日放假办法 makes
// public holidays (step 1 above): days off in any notice.
func StatutoryDays(year int) ([]Date, error) {
	if year < ProvisionalFirstYear || year > ProvisionalLastYear {
		return nil, fmt.Errorf("暂行日历仅支持%d至%d年 (provisional year %d): %w", ProvisionalFirstYear, ProvisionalLastYear, year, ErrBadYear)
	}
	var out []Date
	for _, h := range provisionalSpans(year) {
		st := h.statutory
		// Before the 2024 amendment (in force 1 January 2025) 除夕 and
		// 2 May were working days: the law of the year decides.
		switch {
		case year < 2025 && h.name == "春节":
			st = st[1:] // 初一 to 初三
		case year < 2025 && h.name == "劳动节":
			st = st[:1] // 1 May
		}
		out = append(out, st...)
	}
	slices.SortFunc(out, func(a, b Date) int { return a.utc().Compare(b.utc()) })
	return out, nil
}

// earliestOff reports whether d is a non-working day in every notice year y
// could get: a statutory day, or a weekend too far from one to be a make-up
// working day. It is the other bound from the provisional year: counting
// by it never ends later than the official notice, for periods the
// platform must act within (refunds, G6 and L5). Callers hold no lock.
func earliestOff(d Date, statutory []Date) bool {
	for _, s := range statutory {
		if s == d {
			return true
		}
	}
	if !d.IsWeekend() {
		return false
	}
	for _, s := range statutory {
		if n := s.DaysUntil(d); n >= -makeUpReach && n <= makeUpReach {
			return false // may be a make-up working day
		}
	}
	return true
}
