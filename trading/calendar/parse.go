package calendar

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ParseError names the line (or, from Validate, the row) of a bad entry.
type ParseError struct {
	Year int
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%d年工作日历第%d行 (calendar %d line %d): %v", e.Year, e.Line, e.Year, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

var header = []string{"date", "kind", "holiday"}

// Parse reads one year's CSV: an optional header "date,kind,holiday", then
// one row per day that differs from the plain week. Lines starting with '#'
// and blank lines are skipped; the holiday column may be left out.
func Parse(year int, r io.Reader) ([]Day, error) {
	if year < 1 || year > 9998 {
		return nil, fmt.Errorf("%d: %w", year, ErrBadYear)
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	var days []Day
	seen := map[Date]int{}
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &ParseError{year, pe.Line, fmt.Errorf("%w: %v", ErrBadLine, pe.Err)}
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if first && len(rec) >= 2 && strings.EqualFold(rec[0], header[0]) && strings.EqualFold(rec[1], header[1]) {
			continue
		}
		if len(rec) < 2 || len(rec) > 3 {
			return nil, &ParseError{year, line, fmt.Errorf("%w: %q", ErrBadLine, strings.Join(rec, ","))}
		}
		d, err := ParseDate(rec[0])
		if err != nil {
			return nil, &ParseError{year, line, err}
		}
		day := Day{Date: d, Kind: Kind(strings.ToLower(rec[1]))}
		if len(rec) == 3 {
			day.Holiday = rec[2]
		}
		if err := checkDay(year, day, seen, line); err != nil {
			return nil, &ParseError{year, line, err}
		}
		days = append(days, day)
	}
	return days, nil
}

// Validate checks days as Parse checks a file; row numbers start at 1.
func Validate(year int, days []Day) error {
	if year < 1 || year > 9998 {
		return fmt.Errorf("%d: %w", year, ErrBadYear)
	}
	seen := map[Date]int{}
	for i, d := range days {
		if p, err := ParseDate(d.Date.String()); err != nil || p != d.Date {
			return &ParseError{year, i + 1, fmt.Errorf("%w: %v", ErrBadDate, d.Date)}
		}
		if err := checkDay(year, d, seen, i+1); err != nil {
			return &ParseError{year, i + 1, err}
		}
	}
	return nil
}

func checkDay(year int, d Day, seen map[Date]int, line int) error {
	if !d.Kind.Valid() {
		return fmt.Errorf("%w: %q", ErrUnknownKind, d.Kind)
	}
	// A notice reaches at most a week into the neighbouring years (元旦).
	lo, hi := Date{year - 1, time.December, 25}, Date{year + 1, time.January, 7}
	if d.Date.Before(lo) || d.Date.After(hi) {
		return fmt.Errorf("%w: %v", ErrOutOfRange, d.Date)
	}
	if prev, ok := seen[d.Date]; ok {
		return fmt.Errorf("%w: %v（第%d行已有 / also line %d）", ErrDuplicate, d.Date, prev, prev)
	}
	seen[d.Date] = line
	if d.Kind == KindWork && !d.Date.IsWeekend() {
		return fmt.Errorf("%w: %v 是%s", ErrWorkOnWeekday, d.Date, weekdayZH[d.Date.Weekday()])
	}
	return nil
}

var weekdayZH = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

// WriteCSV writes days in the format Parse reads, for saving an edited year.
func WriteCSV(w io.Writer, days []Day) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, d := range days {
		if err := cw.Write([]string{d.Date.String(), string(d.Kind), d.Holiday}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
