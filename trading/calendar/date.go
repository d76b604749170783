// Package calendar is the Chinese working-day calendar (工作日历): public
// holidays and make-up working days (调休) kept as data, one CSV file per year
// from the State Council General Office's annual notice, editable at run time.
//
// Every date is a civil date in Asia/Shanghai. Working days are Monday to
// Friday, minus the days marked "off", plus the weekend days marked "work".
// A year without data is never guessed from weekends: the functions that need
// it return ErrYearMissing so that a supervisor is warned and an administrator
// can add the year.
package calendar

import (
	"fmt"
	"time"
	_ "time/tzdata" // Asia/Shanghai must resolve on machines without zoneinfo.
)

// Shanghai is the time zone of every deadline on the platform.
var Shanghai = loadShanghai()

func loadShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// Unreachable with time/tzdata embedded; China has no DST, so a
		// fixed UTC+8 zone is exact.
		return time.FixedZone("CST", 8*60*60)
	}
	return loc
}

// Date is a civil date (no time of day, no zone).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t on the wall clock in Asia/Shanghai.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Shanghai).Date()
	return Date{y, m, d}
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%w: %q", ErrBadDate, s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// String formats the date as "2006-01-02".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// utc is the date at midnight UTC, used only for day arithmetic.
func (d Date) utc() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// In returns midnight of the date in Asia/Shanghai.
func (d Date) In() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Shanghai) }

// AddDays returns the date n calendar days later (n may be negative).
func (d Date) AddDays(n int) Date {
	t := d.utc().AddDate(0, 0, n)
	return Date{t.Year(), t.Month(), t.Day()}
}

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// IsWeekend reports whether d is a Saturday or Sunday.
func (d Date) IsWeekend() bool {
	w := d.Weekday()
	return w == time.Saturday || w == time.Sunday
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.utc().Before(e.utc()) }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.utc().After(e.utc()) }

// DaysUntil returns e − d in whole calendar days (negative when e is before d).
// "From 1 March to 21 March" is 20 days.
func (d Date) DaysUntil(e Date) int {
	return int(e.utc().Sub(d.utc()) / (24 * time.Hour))
}

// CalendarDays returns the whole calendar days from a's date to b's date in
// Asia/Shanghai, ignoring the time of day: b's date − a's date.
func CalendarDays(a, b time.Time) int { return DateOf(a).DaysUntil(DateOf(b)) }
