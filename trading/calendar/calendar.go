package calendar

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind says how a listed day differs from the plain Monday–Friday week.
type Kind string

const (
	KindOff  Kind = "off"  // a day off: a holiday or a weekday moved into it
	KindWork Kind = "work" // a weekend day that is a working day (调休上班)
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindOff || k == KindWork }

// Day is one row of a year's notice.
type Day struct {
	Date    Date
	Kind    Kind
	Holiday string // 节日名称, e.g. "春节"
}

// ErrYearMissing is returned when a computation needs a year whose notice has
// not been loaded. errors.Is(err, ErrYearMissing{}) matches any year.
type ErrYearMissing struct{ Year int }

func (e ErrYearMissing) Error() string {
	return fmt.Sprintf("缺少%d年工作日历（节假日安排），请管理员补录 (working-day calendar for %d is missing)", e.Year, e.Year)
}

// Is makes a zero ErrYearMissing match every year.
func (e ErrYearMissing) Is(target error) bool {
	t, ok := target.(ErrYearMissing)
	return ok && (t.Year == 0 || t.Year == e.Year)
}

//go:embed data/*.csv
var embedded embed.FS

// Calendar holds the loaded years. It is safe for concurrent use; SetYear may
// run while others read.
type Calendar struct {
	mu    sync.RWMutex
	years map[int][]Day
	kinds map[Date]Kind // every listed day of every loaded year

	// provisional: the …Provisional methods may stand a provisional year
	// (ProvisionalDays) in for a missing one. Set once, before use.
	provisional bool
	pmu         sync.Mutex                        // serialises writers of pcache
	pcache      atomic.Pointer[map[int]*provYear] // year → its provisional data; copy on write
}

// New returns an empty calendar: every working-day question fails with
// ErrYearMissing until years are set, provisional years included until
// EnableProvisional is called.
func New() *Calendar {
	return &Calendar{years: map[int][]Day{}, kinds: map[Date]Kind{}}
}

// EnableProvisional lets the …Provisional methods count a missing year by
// its provisional calendar; call it before sharing c.
func (c *Calendar) EnableProvisional() *Calendar {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.provisional = true
	return c
}

// Default returns a fresh calendar from the embedded official notices
// (data/2024.csv …), with provisional years enabled.
func Default() (*Calendar, error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, err
	}
	c, err := Load(sub)
	if err != nil {
		return nil, err
	}
	c.provisional = true
	return c, nil
}

// Load reads every "YYYY.csv" at the root of fsys; the file name gives the
// year of the notice.
func Load(fsys fs.FS) (*Calendar, error) {
	names, err := fs.Glob(fsys, "*.csv")
	if err != nil {
		return nil, err
	}
	c := New()
	for _, name := range names {
		year, err := strconv.Atoi(strings.TrimSuffix(path.Base(name), ".csv"))
		if err != nil || year < 1949 || year > 9998 {
			return nil, fmt.Errorf("工作日历文件名应为 年份.csv (calendar file %q): %w", name, ErrBadYear)
		}
		f, err := fsys.Open(name)
		if err != nil {
			return nil, err
		}
		days, err := Parse(year, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := c.SetYear(year, days); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return c, nil
}

// SetYear replaces the data of one year (an administrator's edit). The days
// are validated as Parse does; on error nothing changes. An empty list is a
// valid year in which no day differs from the plain week.
func (c *Calendar) SetYear(year int, days []Day) error {
	if err := Validate(year, days); err != nil {
		return err
	}
	cp := slices.Clone(days)
	slices.SortFunc(cp, func(a, b Day) int { return a.Date.utc().Compare(b.Date.utc()) })
	c.mu.Lock()
	defer c.mu.Unlock()
	c.years[year] = cp
	c.reindex()
	return nil
}

// reindex rebuilds kinds; a later year's notice wins for late-December days
// it reaches back to. Callers hold mu for writing.
func (c *Calendar) reindex() {
	kinds := map[Date]Kind{}
	for _, y := range c.sortedYears() {
		for _, d := range c.years[y] {
			kinds[d.Date] = d.Kind
		}
	}
	c.kinds = kinds
}

func (c *Calendar) sortedYears() []int {
	ys := make([]int, 0, len(c.years))
	for y := range c.years {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	return ys
}

// Years lists the loaded years in ascending order.
func (c *Calendar) Years() []int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.sortedYears()
}

// HasYear reports whether the notice of year y is loaded.
func (c *Calendar) HasYear(y int) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.years[y]
	return ok
}

// Days returns a copy of the rows of year y, by date (nil if not loaded).
func (c *Calendar) Days(year int) []Day {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.years[year])
}

// need returns the year that must be loaded to classify d, or 0. A date in
// 25–31 December also needs the next year, whose notice may move it (the
// 2024 notice made 2023-12-30/31 days off; the 2019 one made 2018-12-29 a
// working day).
func (c *Calendar) need(d Date) int {
	if _, ok := c.years[d.Year]; !ok {
		return d.Year
	}
	if d.Month == time.December && d.Day >= 25 {
		if _, ok := c.years[d.Year+1]; !ok {
			return d.Year + 1
		}
	}
	return 0
}

// working classifies d; callers hold mu.
func (c *Calendar) working(d Date) (bool, error) {
	if y := c.need(d); y != 0 {
		return false, ErrYearMissing{Year: y}
	}
	if k, ok := c.kinds[d]; ok {
		return k == KindWork, nil
	}
	return !d.IsWeekend(), nil
}

// IsWorkingDate reports whether d is a working day.
func (c *Calendar) IsWorkingDate(d Date) (bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.working(d)
}

// IsWorkingDay reports whether t's date in Asia/Shanghai is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) (bool, error) {
	return c.IsWorkingDate(DateOf(t))
}

// AddWorkingDays returns the moment on the date of the nth working day after
// t's date, at t's wall-clock time of day in Asia/Shanghai. t's own date never
// counts, whether or not it is a working day: 5 working days after Friday
// 2025-01-24 is 2025-02-07. n < 0 counts backwards (the |n|th working day
// before); n == 0 returns t.
func (c *Calendar) AddWorkingDays(t time.Time, n int) (time.Time, error) {
	if n == 0 {
		return t, nil
	}
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	d := DateOf(t)
	for count := 0; count < n; {
		d = d.AddDays(step)
		w, err := c.working(d)
		if err != nil {
			return time.Time{}, err
		}
		if w {
			count++
		}
	}
	s := t.In(Shanghai)
	return time.Date(d.Year, d.Month, d.Day, s.Hour(), s.Minute(), s.Second(), s.Nanosecond(), Shanghai), nil
}

// WorkingDaysBetween counts the working days d with date(a) < d ≤ date(b),
// dates taken in Asia/Shanghai and times of day ignored: the start date is not
// counted, the end date is. Thus if AddWorkingDays(a, n) == b for n ≥ 0 then
// WorkingDaysBetween(a, b) == n. When b is before a the result is the negated
// count over date(b) < d ≤ date(a).
func (c *Calendar) WorkingDaysBetween(a, b time.Time) (int, error) {
	da, db := DateOf(a), DateOf(b)
	sign := 1
	if db.Before(da) {
		da, db, sign = db, da, -1
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for d := da.AddDays(1); !d.After(db); d = d.AddDays(1) {
		w, err := c.working(d)
		if err != nil {
			return 0, err
		}
		if w {
			n++
		}
	}
	return sign * n, nil
}

// Missing lists, ascending, the years that must be added before working days
// can be counted on every date from from's date to to's date inclusive.
func (c *Calendar) Missing(from, to time.Time) []int {
	df, dt := DateOf(from), DateOf(to)
	if dt.Before(df) {
		df, dt = dt, df
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []int
	add := func(y int) {
		if _, ok := c.years[y]; !ok && !slices.Contains(out, y) {
			out = append(out, y)
		}
	}
	for y := df.Year; y <= dt.Year; y++ {
		add(y)
	}
	// The last week of December also depends on next year's notice.
	if !dt.Before(Date{dt.Year, time.December, 25}) {
		add(dt.Year + 1)
	}
	slices.Sort(out)
	return out
}

// errors for Parse / Validate; wrapped in *ParseError with the line number.
var (
	ErrBadYear       = errors.New("年份无效 (bad year)")
	ErrBadLine       = errors.New("每行应为 日期,类别,节日 (want date,kind,holiday)")
	ErrBadDate       = errors.New("日期无效，应为YYYY-MM-DD (bad date)")
	ErrUnknownKind   = errors.New("类别应为 off 或 work (unknown kind)")
	ErrOutOfRange    = errors.New("日期不在该年度前后一周范围内 (date outside the year ±1 week)")
	ErrDuplicate     = errors.New("日期重复 (duplicate date)")
	ErrWorkOnWeekday = errors.New("调休上班日应为周六或周日 (a work day must be a weekend day)")
)

// Reckoning says on what a count relied: Provisional is set when a
// provisional year stood in for a missing one, Years lists those years.
type Reckoning struct {
	Provisional bool
	Years       []int
}

func (r *Reckoning) use(y int) {
	r.Provisional = true
	if !slices.Contains(r.Years, y) {
		r.Years = append(r.Years, y)
		slices.Sort(r.Years)
	}
}

// provYear is what a missing year is counted by; nil fields when the year
// cannot be built.
type provYear struct {
	off       map[Date]bool // ProvisionalDays
	statutory []Date        // StatutoryDays
}

// prov returns the provisional data of year y, built once. Callers may
// hold mu for reading.
func (c *Calendar) prov(y int) *provYear {
	if p := c.pcache.Load(); p != nil {
		if m, ok := (*p)[y]; ok {
			return m
		}
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	old := map[int]*provYear{}
	if p := c.pcache.Load(); p != nil {
		if m, ok := (*p)[y]; ok {
			return m
		}
		old = *p
	}
	py := &provYear{}
	if days, err := ProvisionalDays(y); err == nil {
		py.off = make(map[Date]bool, len(days))
		for _, d := range days {
			py.off[d.Date] = true
		}
	}
	py.statutory, _ = StatutoryDays(y)
	next := make(map[int]*provYear, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[y] = py
	c.pcache.Store(&next)
	return py
}

// provOff returns the provisional days off of year y (nil if it cannot be
// built).
func (c *Calendar) provOff(y int) map[Date]bool { return c.prov(y).off }

// workingProvisional classifies d, standing a provisional year in for a
// missing one: a weekend is never a working day, and a day is off if a
// loaded notice or a provisional year makes it so. Callers hold mu.
func (c *Calendar) workingProvisional(d Date, r *Reckoning) (bool, error) {
	y := c.need(d)
	if y == 0 {
		return c.working(d)
	}
	if !c.provisional {
		return false, ErrYearMissing{Year: y}
	}
	// The date's own year and, in late December, next year's notice.
	var missing []int
	if _, ok := c.years[d.Year]; !ok {
		missing = append(missing, d.Year)
	}
	if d.Month == time.December && d.Day >= 25 {
		if _, ok := c.years[d.Year+1]; !ok {
			missing = append(missing, d.Year+1)
		}
	}
	off := d.IsWeekend() || c.kinds[d] == KindOff
	for _, m := range missing {
		p := c.provOff(m)
		if p == nil {
			return false, ErrYearMissing{Year: m}
		}
		off = off || p[d]
	}
	for _, m := range missing {
		r.use(m)
	}
	return !off, nil
}

// IsWorkingDateProvisional is IsWorkingDate with provisional years
// standing in for missing ones.
func (c *Calendar) IsWorkingDateProvisional(d Date) (bool, Reckoning, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var r Reckoning
	w, err := c.workingProvisional(d, &r)
	return w, r, err
}

// AddWorkingDaysProvisional is AddWorkingDays with provisional years
// standing in for missing ones. The result is never earlier (n > 0) or
// later (n < 0) than the official calendar will give.
func (c *Calendar) AddWorkingDaysProvisional(t time.Time, n int) (time.Time, Reckoning, error) {
	var r Reckoning
	if n == 0 {
		return t, r, nil
	}
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	d := DateOf(t)
	for count := 0; count < n; {
		d = d.AddDays(step)
		w, err := c.workingProvisional(d, &r)
		if err != nil {
			return time.Time{}, r, err
		}
		if w {
			count++
		}
	}
	s := t.In(Shanghai)
	return time.Date(d.Year, d.Month, d.Day, s.Hour(), s.Minute(), s.Second(), s.Nanosecond(), Shanghai), r, nil
}

// WorkingDaysBetweenProvisional is WorkingDaysBetween with provisional
// years standing in for missing ones; the count is never more than the
// official calendar will give.
func (c *Calendar) WorkingDaysBetweenProvisional(a, b time.Time) (int, Reckoning, error) {
	var r Reckoning
	da, db := DateOf(a), DateOf(b)
	sign := 1
	if db.Before(da) {
		da, db, sign = db, da, -1
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for d := da.AddDays(1); !d.After(db); d = d.AddDays(1) {
		w, err := c.workingProvisional(d, &r)
		if err != nil {
			return 0, r, err
		}
		if w {
			n++
		}
	}
	return sign * n, r, nil
}

// Clone returns an independent copy of c (its years and whether it has
// provisional years), for trying a year before putting it in force.
func (c *Calendar) Clone() *Calendar {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := New()
	n.provisional = c.provisional
	for y, days := range c.years {
		n.years[y] = slices.Clone(days)
	}
	n.reindex()
	return n
}

// AddWorkingDaysEarliest is AddWorkingDays for a period the platform must
// act within ("退还…5个工作日内", G6, L5): a year without its notice is
// counted so that the result is never later than the official notice will
// give. There only the statutory holidays are sure days off, and a weekend
// near one may be a make-up working day, so it counts as working. Loaded
// years count as AddWorkingDays does.
func (c *Calendar) AddWorkingDaysEarliest(t time.Time, n int) (time.Time, Reckoning, error) {
	var r Reckoning
	if n <= 0 {
		return c.addWorkingDaysStrictOrZero(t, n)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	statutory := func(y int) ([]Date, error) {
		if s := c.prov(y).statutory; s != nil {
			return s, nil
		}
		return nil, ErrYearMissing{Year: y}
	}
	d := DateOf(t)
	for count := 0; count < n; {
		d = d.AddDays(1)
		var w bool
		if y := c.need(d); y == 0 {
			w, _ = c.working(d)
		} else if !c.provisional {
			return time.Time{}, r, ErrYearMissing{Year: y}
		} else {
			// Statutory days of this year and the neighbours (元旦 reaches
			// back into December, make-up weekends across New Year).
			var all []Date
			for _, yy := range []int{d.Year - 1, d.Year, d.Year + 1} {
				s, err := statutory(yy)
				if err != nil {
					return time.Time{}, r, err
				}
				all = append(all, s...)
			}
			// A day a loaded notice lists as work is working anyway; one it
			// lists off may still be moved by the missing year: not sure.
			w = !earliestOff(d, all)
			r.use(y)
		}
		if w {
			count++
		}
	}
	s := t.In(Shanghai)
	return time.Date(d.Year, d.Month, d.Day, s.Hour(), s.Minute(), s.Second(), s.Nanosecond(), Shanghai), r, nil
}

func (c *Calendar) addWorkingDaysStrictOrZero(t time.Time, n int) (time.Time, Reckoning, error) {
	if n == 0 {
		return t, Reckoning{}, nil
	}
	got, err := c.AddWorkingDays(t, n)
	return got, Reckoning{}, err
}
