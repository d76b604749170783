package deposits

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// DayCount is the day-count basis of a centre's interest configuration (D5).
type DayCount string

const (
	ACT360 DayCount = "ACT/360"
	ACT365 DayCount = "ACT/365"
)

// divisor returns the days in a year for the basis.
func (b DayCount) divisor() (int64, error) {
	switch b {
	case ACT360:
		return 360, nil
	case ACT365:
		return 365, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownDayCount, string(b))
}

var (
	ErrUnknownDayCount    = errors.New("未知的计息基准（应为 ACT/360 或 ACT/365）")
	ErrRateSchedule       = errors.New("利率表无效")
	ErrBeforeFirstRate    = errors.New("计息起始日早于利率表的第一个生效日")
	ErrPeriodReversed     = errors.New("计息截止日早于起始日")
	ErrNegativePrincipal  = errors.New("本金不能为负数")
	ErrNegativeUplift     = errors.New("上浮比例不能为负数")
	fen                   = decimal.New(1, -2)
	maxAnnualRateExcluded = decimal.NewFromInt(1)
)

// RateChange is an annual rate in force from the date of From (its calendar
// date in Asia/Shanghai; the time of day is ignored) until the next change.
type RateChange struct {
	From       time.Time
	AnnualRate decimal.Decimal // 0.0035 for 0.35 %
}

// RateSchedule is a rate history: the bank's demand-deposit (活期) rate for
// D5/D8 interest, or the loan rate for the G7 occupation fee.
type RateSchedule []RateChange

// Validate checks the schedule is non-empty, sorted by date without two
// changes on the same date, and every rate is in [0, 1).
func (s RateSchedule) Validate() error {
	if len(s) == 0 {
		return fmt.Errorf("%w: 利率表为空", ErrRateSchedule)
	}
	for i, c := range s {
		if c.AnnualRate.IsNegative() || c.AnnualRate.GreaterThanOrEqual(maxAnnualRateExcluded) {
			return fmt.Errorf("%w: 第 %d 项年利率 %s 不在 [0, 1) 内", ErrRateSchedule, i+1, c.AnnualRate)
		}
		if i > 0 {
			prev, cur := civilDay(s[i-1].From), civilDay(c.From)
			if cur == prev {
				return fmt.Errorf("%w: 第 %d 项与前一项生效日相同", ErrRateSchedule, i+1)
			}
			if cur < prev {
				return fmt.Errorf("%w: 第 %d 项生效日早于前一项，须按日期升序", ErrRateSchedule, i+1)
			}
		}
	}
	return nil
}

// Interest is the refund interest of D5 and D8: principal × annual rate ×
// days held ÷ basis, rounded half-up to the fen. Days held are the whole
// calendar days (Asia/Shanghai) from the day the money arrived (from) to the
// day of refund (to): the arrival day accrues, the refund day does not. Each
// day accrues at the rate in force on that day; the exact pieces are summed
// and rounded once at the end.
func Interest(principal decimal.Decimal, from, to time.Time, sched RateSchedule, basis DayCount) (decimal.Decimal, error) {
	start, end := civilDay(from), civilDay(to)
	if end < start {
		return decimal.Decimal{}, fmt.Errorf("interest from %s to %s: %w", dateString(from), dateString(to), ErrPeriodReversed)
	}
	r, err := accrue(principal, start, end, sched, decimal.NewFromInt(1), basis)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("interest from %s to %s: %w", dateString(from), dateString(to), err)
	}
	return r, nil
}

// OccupationFee is the G7 fee (资金占用费) for a procurement deposit refunded
// late: principal × loan rate × (1 + uplift) × days late ÷ basis, rounded
// half-up to the fen. due is the last day the refund was on time; days late
// run from due to paid, so paying the day after due costs one day. A refund
// paid on or before due costs nothing. uplift is 0.20 under 财政部令第87号第三十八条.
// Whether the bidder caused the delay (no fee) is the caller's decision.
func OccupationFee(principal decimal.Decimal, due, paid time.Time, loanRates RateSchedule, uplift decimal.Decimal, basis DayCount) (decimal.Decimal, error) {
	if uplift.IsNegative() {
		return decimal.Decimal{}, ErrNegativeUplift
	}
	start, end := civilDay(due), civilDay(paid)
	if end < start {
		end = start
	}
	r, err := accrue(principal, start, end, loanRates, decimal.NewFromInt(1).Add(uplift), basis)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("occupation fee from %s to %s: %w", dateString(due), dateString(paid), err)
	}
	return r, nil
}

// OccupationFeeExcept is OccupationFee less the days of [from, until) on
// which the supplier's own cause kept the refund from being paid (G7's
// exception; until nil: to paid). The late days outside that period are
// summed exactly and rounded once, as OccupationFee does.
func OccupationFeeExcept(principal decimal.Decimal, due, paid time.Time, from time.Time, until *time.Time, loanRates RateSchedule, uplift decimal.Decimal, basis DayCount) (decimal.Decimal, error) {
	if uplift.IsNegative() {
		return decimal.Decimal{}, ErrNegativeUplift
	}
	div, err := basis.divisor()
	if err != nil {
		return decimal.Decimal{}, err
	}
	start, end := civilDay(due), civilDay(paid)
	if end < start {
		end = start
	}
	exStart, exEnd := max(civilDay(from), start), end
	if until != nil {
		exEnd = min(civilDay(*until), end)
	}
	factor := decimal.NewFromInt(1).Add(uplift)
	all, err := accrueSum(principal, start, end, loanRates, factor)
	if err == nil && exEnd > exStart {
		var ex decimal.Decimal
		if ex, err = accrueSum(principal, exStart, exEnd, loanRates, factor); err == nil {
			all = all.Sub(ex)
		}
	}
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("occupation fee from %s to %s: %w", dateString(due), dateString(paid), err)
	}
	return divRoundHalfUp(all, div), nil
}

// accrue sums principal × rate × factor × days over the schedule's segments
// for the days [start, end) — exact, since only multiplication is involved —
// then divides by the basis once and rounds half-up to the fen.
func accrue(principal decimal.Decimal, start, end int64, sched RateSchedule, factor decimal.Decimal, basis DayCount) (decimal.Decimal, error) {
	div, err := basis.divisor()
	if err != nil {
		return decimal.Decimal{}, err
	}
	sum, err := accrueSum(principal, start, end, sched, factor)
	if err != nil {
		return decimal.Decimal{}, err
	}
	return divRoundHalfUp(sum, div), nil
}

// accrueSum is accrue's exact sum, before the basis and the rounding.
func accrueSum(principal decimal.Decimal, start, end int64, sched RateSchedule, factor decimal.Decimal) (decimal.Decimal, error) {
	if principal.IsNegative() {
		return decimal.Decimal{}, ErrNegativePrincipal
	}
	if err := sched.Validate(); err != nil {
		return decimal.Decimal{}, err
	}
	if start < civilDay(sched[0].From) {
		return decimal.Decimal{}, ErrBeforeFirstRate
	}
	sum := decimal.Zero
	for i, c := range sched {
		segStart := max(civilDay(c.From), start)
		segEnd := end
		if i+1 < len(sched) {
			segEnd = min(civilDay(sched[i+1].From), end)
		}
		if segEnd <= segStart {
			continue
		}
		sum = sum.Add(principal.Mul(c.AnnualRate).Mul(factor).Mul(decimal.NewFromInt(segEnd - segStart)))
	}
	return sum, nil
}

// divRoundHalfUp returns num ÷ div rounded half-up to the fen, exactly: the
// quotient truncated to two places plus one fen when the remainder is at
// least half a fen (2·rem·100 ≥ div). num must not be negative.
func divRoundHalfUp(num decimal.Decimal, div int64) decimal.Decimal {
	d := decimal.NewFromInt(div)
	q, rem := num.QuoRem(d, 2)
	if rem.Mul(decimal.NewFromInt(200)).GreaterThanOrEqual(d) {
		q = q.Add(fen)
	}
	return q
}

// civilDay numbers the Asia/Shanghai calendar date of t (days since 1970-01-01).
func civilDay(t time.Time) int64 {
	y, m, d := t.In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func dateString(t time.Time) string { return t.In(shanghai).Format(time.DateOnly) }
