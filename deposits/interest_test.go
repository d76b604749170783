package deposits

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, shanghai) }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func flat(rate string) RateSchedule {
	return RateSchedule{{From: day(2015, 10, 24), AnnualRate: dec(rate)}}
}

func TestInterest(t *testing.T) {
	changed := RateSchedule{
		{From: day(2015, 10, 24), AnnualRate: dec("0.0035")},
		{From: day(2024, 3, 11), AnnualRate: dec("0.0020")},
	}
	cases := []struct {
		name      string
		principal string
		from, to  time.Time
		sched     RateSchedule
		basis     DayCount
		want      string
	}{
		// 100000 × 0.0035 × 37 / 360 = 35.9722… (D5)
		{"ACT/360 37 days", "100000.00", day(2024, 1, 2), day(2024, 2, 8), flat("0.0035"), ACT360, "35.97"},
		// 100000 × 0.0035 × 37 / 365 = 35.4794…
		{"ACT/365 37 days", "100000.00", day(2024, 1, 2), day(2024, 2, 8), flat("0.0035"), ACT365, "35.48"},
		{"zero days", "100000.00", day(2024, 1, 2), day(2024, 1, 2), flat("0.0035"), ACT360, "0.00"},
		{"same day, different hours", "100000.00", day(2024, 1, 2).Add(9 * time.Hour), day(2024, 1, 2).Add(16 * time.Hour), flat("0.0035"), ACT360, "0.00"},
		{"time of day ignored", "100000.00", day(2024, 1, 2).Add(23 * time.Hour), day(2024, 2, 8).Add(time.Hour), flat("0.0035"), ACT360, "35.97"},
		// UTC 2024-01-01 20:00 is 2024-01-02 04:00 in Shanghai.
		{"dates read in Shanghai", "100000.00", time.Date(2024, 1, 1, 20, 0, 0, 0, time.UTC), day(2024, 2, 8), flat("0.0035"), ACT360, "35.97"},
		// 2024-03-01 … 03-10 at 0.35 % (10 days), 03-11 … 03-30 at 0.20 % (20 days):
		// 100000 × (0.0035×10 + 0.0020×20) / 360 = 7500/360 = 20.8333…
		{"rate change mid-period", "100000.00", day(2024, 3, 1), day(2024, 3, 31), changed, ACT360, "20.83"},
		{"entirely after change", "100000.00", day(2024, 4, 1), day(2024, 4, 11), changed, ACT360, "5.56"},
		{"ends on change day", "100000.00", day(2024, 3, 1), day(2024, 3, 11), changed, ACT360, "9.72"},
		// Half-up at exactly half a fen: 1000 × 0.0018 × 1 / 360 = 0.005.
		{"half a fen rounds up", "1000.00", day(2024, 1, 1), day(2024, 1, 2), flat("0.0018"), ACT360, "0.01"},
		// Round once: 400 × 0.0035 / 360 = 0.0039 and 400 × 0.0020 / 360 = 0.0022
		// would each round to 0.00; their sum 0.0061 rounds to 0.01.
		{"pieces summed before rounding", "400.00", day(2024, 3, 10), day(2024, 3, 12), changed, ACT360, "0.01"},
		{"zero rate", "50000.00", day(2024, 1, 1), day(2024, 12, 31), flat("0"), ACT365, "0.00"},
		{"leap year ACT/365", "800000.00", day(2024, 1, 1), day(2025, 1, 1), flat("0.0035"), ACT365, "2807.67"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Interest(dec(c.principal), c.from, c.to, c.sched, c.basis)
			if err != nil {
				t.Fatal(err)
			}
			if FormatYuan(got) != c.want || got.Exponent() != -2 {
				t.Errorf("Interest = %s (exp %d), want %s", FormatYuan(got), got.Exponent(), c.want)
			}
		})
	}
}

func TestInterestErrors(t *testing.T) {
	cases := []struct {
		name     string
		from, to time.Time
		sched    RateSchedule
		basis    DayCount
		want     error
	}{
		{"to before from", day(2024, 2, 8), day(2024, 1, 2), flat("0.0035"), ACT360, ErrPeriodReversed},
		{"before first rate", day(2015, 10, 23), day(2024, 1, 2), flat("0.0035"), ACT360, ErrBeforeFirstRate},
		{"unknown basis", day(2024, 1, 2), day(2024, 2, 8), flat("0.0035"), "30/360", ErrUnknownDayCount},
		{"empty schedule", day(2024, 1, 2), day(2024, 2, 8), nil, ACT360, ErrRateSchedule},
		{"unsorted", day(2024, 1, 2), day(2024, 2, 8), RateSchedule{{day(2020, 1, 1), dec("0.003")}, {day(2019, 1, 1), dec("0.003")}}, ACT360, ErrRateSchedule},
		{"duplicate date", day(2024, 1, 2), day(2024, 2, 8), RateSchedule{{day(2020, 1, 1), dec("0.003")}, {day(2020, 1, 1).Add(5 * time.Hour), dec("0.002")}}, ACT360, ErrRateSchedule},
		{"negative rate", day(2024, 1, 2), day(2024, 2, 8), flat("-0.001"), ACT360, ErrRateSchedule},
		{"rate of 100 %", day(2024, 1, 2), day(2024, 2, 8), flat("1"), ACT360, ErrRateSchedule},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Interest(dec("100000.00"), c.from, c.to, c.sched, c.basis)
			if !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := Interest(dec("-1"), day(2024, 1, 2), day(2024, 2, 8), flat("0.0035"), ACT360); !errors.Is(err, ErrNegativePrincipal) {
		t.Errorf("negative principal: err = %v", err)
	}
}

func TestOccupationFee(t *testing.T) {
	loan := RateSchedule{
		{From: day(2019, 8, 20), AnnualRate: dec("0.0435")},
		{From: day(2024, 7, 22), AnnualRate: dec("0.0335")},
	}
	cases := []struct {
		name      string
		due, paid time.Time
		uplift    string
		want      string
	}{
		// 200000 × 0.0435 × 1.2 × 10 / 360 = 290.00 (G7)
		{"10 days late", day(2024, 3, 1), day(2024, 3, 11), "0.20", "290.00"},
		{"paid on time", day(2024, 3, 1), day(2024, 3, 1), "0.20", "0.00"},
		{"paid early", day(2024, 3, 1), day(2024, 2, 27), "0.20", "0.00"},
		// 200000 × 1.2 × (0.0435×2 + 0.0335×3) / 360 = 200000×1.2×0.1875/360 = 125.00
		{"across a loan rate change", day(2024, 7, 20), day(2024, 7, 25), "0.20", "125.00"},
		// 200000 × 0.0435 × 1 / 360 = 24.1666… without uplift
		{"uplift is a parameter", day(2024, 3, 1), day(2024, 3, 2), "0", "24.17"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := OccupationFee(dec("200000.00"), c.due, c.paid, loan, dec(c.uplift), ACT360)
			if err != nil {
				t.Fatal(err)
			}
			if FormatYuan(got) != c.want {
				t.Errorf("OccupationFee = %s, want %s", FormatYuan(got), c.want)
			}
		})
	}
	if _, err := OccupationFee(dec("1"), day(2024, 3, 1), day(2024, 3, 5), loan, dec("-0.2"), ACT360); !errors.Is(err, ErrNegativeUplift) {
		t.Errorf("negative uplift: err = %v", err)
	}
}

// G7's exception: the days [from, until) the supplier's own cause kept the
// refund back are left out of the late days [due, paid), exactly, with one
// rounding over the days that count.
func TestOccupationFeeExcept(t *testing.T) {
	loan := RateSchedule{
		{From: day(2019, 8, 20), AnnualRate: dec("0.0435")},
		{From: day(2024, 7, 22), AnnualRate: dec("0.0335")},
	}
	u := func(y int, m time.Month, d int) *time.Time { t := day(y, m, d); return &t }
	cases := []struct {
		name      string
		due, paid time.Time
		from      time.Time
		until     *time.Time
		want      string
	}{
		// 10 days late, 4 excepted: 200000 × 0.0435 × 1.2 × 6 / 360 = 174.00
		{"a period inside", day(2024, 3, 1), day(2024, 3, 11), day(2024, 3, 4), u(2024, 3, 8), "174.00"},
		// still going from the 4th: 3 days count = 87.00
		{"still going", day(2024, 3, 1), day(2024, 3, 11), day(2024, 3, 4), nil, "87.00"},
		// begun before the due date: only its late days go (1 and 2 March); 8 count = 232.00
		{"begun before due", day(2024, 3, 1), day(2024, 3, 11), day(2024, 2, 20), u(2024, 3, 3), "232.00"},
		// ended after paid: the days to paid go; 5 count = 145.00
		{"ended after paid", day(2024, 3, 1), day(2024, 3, 11), day(2024, 3, 6), u(2024, 3, 20), "145.00"},
		// the whole delay: nothing
		{"the whole delay", day(2024, 3, 1), day(2024, 3, 11), day(2024, 3, 1), nil, "0.00"},
		// across the rate change, the days at 0.0335 excepted: 200000 × 1.2 × 0.0435 × 2 / 360 = 58.00
		{"excepting the new rate's days", day(2024, 7, 20), day(2024, 7, 25), day(2024, 7, 22), nil, "58.00"},
		// one rounding: 1 day of 3 at 24.1666… with uplift 0 would round each to 24.17 (48.34); once: 48.33
		{"rounded once", day(2024, 3, 1), day(2024, 3, 4), day(2024, 3, 2), u(2024, 3, 3), "48.33"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			uplift := "0.20"
			if c.name == "rounded once" {
				uplift = "0"
			}
			got, err := OccupationFeeExcept(dec("200000.00"), c.due, c.paid, c.from, c.until, loan, dec(uplift), ACT360)
			if err != nil {
				t.Fatal(err)
			}
			if FormatYuan(got) != c.want {
				t.Errorf("OccupationFeeExcept = %s, want %s", FormatYuan(got), c.want)
			}
		})
	}
}

// TestDivRoundHalfUpExact checks rounding against a brute-force reference on
// numerators around every half-fen boundary.
func TestDivRoundHalfUpExact(t *testing.T) {
	for _, div := range []int64{360, 365} {
		for n := int64(0); n < 5000; n++ {
			num := decimal.New(n, -4) // 0.0000 … 0.4999
			got := divRoundHalfUp(num, div)
			// reference: the candidate fen closest to num/div, ties up
			lo := num.Div(decimal.NewFromInt(div)).Truncate(2)
			for _, c := range []decimal.Decimal{lo, lo.Add(fen)} {
				diff := c.Mul(decimal.NewFromInt(div)).Sub(num).Abs().Mul(decimal.NewFromInt(200))
				if diff.LessThan(decimal.NewFromInt(div)) || (diff.Equal(decimal.NewFromInt(div)) && c.GreaterThan(lo)) {
					if !got.Equal(c) {
						t.Fatalf("divRoundHalfUp(%s, %d) = %s, want %s", num, div, got, c)
					}
				}
			}
		}
	}
}
