package report

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ggzy/ggzy/trading"

	"github.com/shopspring/decimal"
)

// The savings report (节约率 / 溢价率, "Savings and premium figures" in
// RULES.md): what the decided lots of a period saved or earned, by category
// and region, from lot_outcomes. Sums are exact yuan; rounding happens once,
// at display (万元 and % to 2 decimals, half-up on the magnitude).

// Query selects the lots of a report by the Shanghai date of their
// decision (lot_outcomes.decided_on).
type Query struct {
	From, To time.Time        // inclusive dates (midnight, Shanghai)
	Category trading.Category // "" for all four
	Region   string           // "" for all; 350000 and 350100 include their sub-regions
	// Period says how the period was chosen, for the page's pickers:
	// "year", "quarter", "month" or "custom".
	Period               string
	Year, Quarter, Month int
}

// maxYears bounds a report's period, and with it the trend's length.
const maxYears = 10

// ParseQuery reads a report's period and filters from query
// parameters (or CLI flags): year, quarter (1–4) or month (1–12) of a year,
// or from and to (YYYY-MM-DD, inclusive); category; region. Without a
// period it is the current year of today. Every bad value is a 400 naming
// its field. Whether the region exists is checked by Savings.
func ParseQuery(get func(string) string, today time.Time) (Query, error) {
	q := Query{Category: trading.Category(strings.TrimSpace(get("category"))), Region: strings.TrimSpace(get("region"))}
	if q.Category != "" && !q.Category.Valid() {
		return q, trading.Invalid("category", "交易类别须为%s", trading.CategoryChoices())
	}
	if q.Region != "" && (len(q.Region) != 6 || strings.Trim(q.Region, "0123456789") != "") {
		return q, trading.Invalid("region", "行政区划代码须为6位数字")
	}
	from, to := strings.TrimSpace(get("from")), strings.TrimSpace(get("to"))
	year, quarter, month := strings.TrimSpace(get("year")), strings.TrimSpace(get("quarter")), strings.TrimSpace(get("month"))
	if from != "" || to != "" {
		if year != "" || quarter != "" || month != "" {
			field := "month"
			if year != "" {
				field = "year"
			} else if quarter != "" {
				field = "quarter"
			}
			return q, trading.Invalid(field, "自定义期间（from、to）不能与年度、季度或月份同时使用")
		}
		var err error
		if from == "" {
			return q, trading.Invalid("from", "请填写开始日期（YYYY-MM-DD）")
		}
		if to == "" {
			return q, trading.Invalid("to", "请填写结束日期（YYYY-MM-DD）")
		}
		if q.From, err = time.ParseInLocation("2006-01-02", from, trading.Shanghai); err != nil {
			return q, trading.Invalid("from", "开始日期 %q 格式不正确，应为 YYYY-MM-DD", from)
		}
		if q.To, err = time.ParseInLocation("2006-01-02", to, trading.Shanghai); err != nil {
			return q, trading.Invalid("to", "结束日期 %q 格式不正确，应为 YYYY-MM-DD", to)
		}
		if q.To.Before(q.From) {
			return q, trading.Invalid("to", "结束日期 %s 早于开始日期 %s", to, from)
		}
		if q.From.Year() < 2000 {
			return q, trading.Invalid("from", "开始日期不能早于2000年")
		}
		if !q.To.Before(q.From.AddDate(maxYears, 0, 0)) {
			return q, trading.Invalid("to", "统计期间不能超过%d年", maxYears)
		}
		q.Period = "custom"
		return q, nil
	}
	q.Period, q.Year = "year", today.In(trading.Shanghai).Year()
	if year != "" {
		n, err := strconv.Atoi(year)
		if err != nil || n < 2000 || n > 2999 {
			return q, trading.Invalid("year", "年份须为2000至2999的整数")
		}
		q.Year = n
	}
	if quarter != "" && month != "" {
		return q, trading.Invalid("month", "季度与月份只能选一个")
	}
	q.From = time.Date(q.Year, 1, 1, 0, 0, 0, 0, trading.Shanghai)
	q.To = time.Date(q.Year, 12, 31, 0, 0, 0, 0, trading.Shanghai)
	if quarter != "" {
		n, err := strconv.Atoi(quarter)
		if err != nil || n < 1 || n > 4 {
			return q, trading.Invalid("quarter", "季度须为1至4")
		}
		q.Period, q.Quarter = "quarter", n
		q.From = time.Date(q.Year, time.Month(3*n-2), 1, 0, 0, 0, 0, trading.Shanghai)
		q.To = q.From.AddDate(0, 3, -1)
	}
	if month != "" {
		n, err := strconv.Atoi(month)
		if err != nil || n < 1 || n > 12 {
			return q, trading.Invalid("month", "月份须为1至12")
		}
		q.Period, q.Month = "month", n
		q.From = time.Date(q.Year, time.Month(n), 1, 0, 0, 0, 0, trading.Shanghai)
		q.To = q.From.AddDate(0, 1, -1)
	}
	return q, nil
}

// Label names the period in Chinese: "2025年", "2025年第1季度", "2025年3月",
// "2025-01-01至2025-06-30".
func (q Query) Label() string {
	switch q.Period {
	case "year":
		return fmt.Sprintf("%d年", q.Year)
	case "quarter":
		return fmt.Sprintf("%d年第%d季度", q.Year, q.Quarter)
	case "month":
		return fmt.Sprintf("%d年%d月", q.Year, q.Month)
	}
	return q.From.Format("2006-01-02") + "至" + q.To.Format("2006-01-02")
}

// Figures are the summed outcomes of some lots of one category. Base and
// Result are exact sums in yuan over the completed lots only: failed and
// cancelled lots are counted apart and never enter a sum or a rate.
type Figures struct {
	Category  trading.Category
	Completed int64
	Failed    int64
	Cancelled int64
	Base      decimal.Decimal // control price, budget or starting price
	Result    decimal.Decimal // winning price, contract amount or deal price
}

func (f *Figures) add(o *Figures) {
	f.Completed += o.Completed
	f.Failed += o.Failed
	f.Cancelled += o.Cancelled
	f.Base = f.Base.Add(o.Base)
	f.Result = f.Result.Add(o.Result)
}

// Premium tells the categories whose figure is a premium (land, property)
// from those whose figure is savings.
func Premium(c trading.Category) bool { return c == trading.Land || c == trading.Property }

// Savings is base − result (engineering, procurement: 节约资金) or result −
// base (land, property: 溢价), exact. Summing per-lot savings gives the same
// number, since the sum of differences is the difference of sums.
// Negative savings are real and stay negative.
func (f Figures) Savings() decimal.Decimal {
	if Premium(f.Category) {
		return f.Result.Sub(f.Base)
	}
	return f.Base.Sub(f.Result)
}

// RatePercent is savings ÷ base in percent, rounded once from the exact
// ratio to 0.01 %, half-up on the magnitude (−7.075 % shows as −7.08 %).
// With no completed lot (base 0) the rate is 0.00 %.
func (f Figures) RatePercent() decimal.Decimal { return ratePercent(f.Savings(), f.Base) }

// ratePercent divides in integers of fen, so no intermediate rounding can
// move the last digit: hundredths of a percent = savings × 10⁴ ÷ base.
func ratePercent(savings, base decimal.Decimal) decimal.Decimal {
	if base.Sign() <= 0 {
		return decimal.Zero
	}
	s, b := savings.Shift(2).BigInt(), base.Shift(2).BigInt() // amounts have 2 decimals
	num := new(big.Int).Mul(new(big.Int).Abs(s), big.NewInt(20000))
	num.Add(num, b) // + ½ of the divisor: half-up
	q := num.Quo(num, new(big.Int).Lsh(b, 1))
	if s.Sign() < 0 {
		q.Neg(q)
	}
	return decimal.NewFromBigInt(q, -2)
}

// Wan turns exact yuan into 万元 for display: 2 decimals, half-up on the
// magnitude. The only rounding an amount of the report sees.
func Wan(yuan decimal.Decimal) string { return yuan.Shift(-4).Round(2).StringFixed(2) }

// Percent shows a rate already rounded by RatePercent ("7.07").
func Percent(rate decimal.Decimal) string { return rate.StringFixed(2) }

// BaseWan, ResultWan, SavingsWan and Rate are the display values of the page,
// the paragraph and the downloads.
func (f Figures) BaseWan() string    { return Wan(f.Base) }
func (f Figures) ResultWan() string  { return Wan(f.Result) }
func (f Figures) SavingsWan() string { return Wan(f.Savings()) }
func (f Figures) Rate() string       { return Percent(f.RatePercent()) }

// SavingsName and RateName are 节约资金/节约率 or 溢价/溢价率 by category.
func (f Figures) SavingsName() string {
	return map[bool]string{false: "节约资金", true: "溢价"}[Premium(f.Category)]
}
func (f Figures) RateName() string {
	return map[bool]string{false: "节约率", true: "溢价率"}[Premium(f.Category)]
}

// Row is the figures of one category in one region; on a category's
// total, RegionCode is empty.
type Row struct {
	Figures
	RegionCode string
	RegionName string
}

// TrendPoint is one month of a category's trend ("2025-03").
type TrendPoint struct {
	Month string
	Figures
}

// TrendSeries is a category's month by month figures over the period,
// every month present (zeros where nothing was decided).
type TrendSeries struct {
	Category trading.Category
	Points   []TrendPoint
}

// Table is the savings report of a query.
type Table struct {
	Query Query
	Rows  []Row // by category (display order), then region code
	// Totals has one row per category of the query (all four unless
	// filtered), in display order, zeros included.
	Totals []Row
	Trend  []TrendSeries // in the order of Totals
}

// Total returns the total row of a category (zeros if not in the report).
func (r *Table) Total(c trading.Category) Row {
	for _, t := range r.Totals {
		if t.Category == c {
			return t
		}
	}
	return Row{Figures: Figures{Category: c}}
}

// RowsOf returns the region rows of a category.
func (r *Table) RowsOf(c trading.Category) []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Category == c {
			out = append(out, row)
		}
	}
	return out
}

// Savings sums lot_outcomes of the query in one aggregate scan (one
// group per category, region and month) and folds the groups into region
// rows, category totals and monthly trends exactly in decimal.
func Savings(ctx context.Context, s *trading.Service, q Query) (*Table, error) {
	regions, err := s.Regions(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(regions))
	for _, r := range regions {
		names[r.Code] = r.Name
	}
	if q.Region != "" && names[q.Region] == "" {
		return nil, trading.Invalid("region", "行政区划代码 %s 不存在", q.Region)
	}
	if q.From.IsZero() || q.To.Before(q.From) {
		return nil, trading.Invalid("from", "统计期间不正确")
	}
	// Equivalent SQL, one scan of the period (lot_outcomes_period_idx):
	//   SELECT category, region_code, month, count(*) FILTER (…) ×3,
	//          sum(base), sum(result) FILTER (completed)
	//   FROM lot_outcomes WHERE decided_on BETWEEN from AND to [AND …]
	//   GROUP BY category, region_code, month
	sql, args := savingsSQL(q)
	rs, err := s.DB.WithContext(ctx).Raw(sql, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rs.Close()

	cats := trading.Categories()
	if q.Category != "" {
		cats = []trading.Category{q.Category}
	}
	months := monthsOf(q.From, q.To)
	monthIdx := make(map[string]int, len(months))
	for i, m := range months {
		monthIdx[m] = i
	}
	rep := &Table{Query: q}
	catIdx := map[trading.Category]int{}
	for i, c := range cats {
		catIdx[c] = i
		rep.Totals = append(rep.Totals, Row{Figures: Figures{Category: c}})
		ts := TrendSeries{Category: c, Points: make([]TrendPoint, len(months))}
		for j, m := range months {
			ts.Points[j] = TrendPoint{Month: m, Figures: Figures{Category: c}}
		}
		rep.Trend = append(rep.Trend, ts)
	}
	rowIdx := map[[2]string]int{}
	for rs.Next() {
		var f Figures
		var region string
		var month time.Time
		var base, result string
		if err := rs.Scan(&f.Category, &region, &month, &f.Completed, &f.Failed, &f.Cancelled, &base, &result); err != nil {
			return nil, err
		}
		if f.Base, err = decimal.NewFromString(base); err != nil {
			return nil, err
		}
		if f.Result, err = decimal.NewFromString(result); err != nil {
			return nil, err
		}
		ci, ok := catIdx[f.Category]
		if !ok { // the schema allows only the four
			return nil, fmt.Errorf("savings report: unknown category %q", f.Category)
		}
		key := [2]string{string(f.Category), region}
		i, ok := rowIdx[key]
		if !ok {
			i = len(rep.Rows)
			rowIdx[key] = i
			rep.Rows = append(rep.Rows, Row{Figures: Figures{Category: f.Category}, RegionCode: region, RegionName: names[region]})
		}
		rep.Rows[i].add(&f)
		rep.Totals[ci].add(&f)
		if mi, ok := monthIdx[month.Format("2006-01")]; ok {
			rep.Trend[ci].Points[mi].add(&f)
		}
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	sortRows(rep.Rows, catIdx)
	return rep, nil
}

// savingsSQL is the report's one aggregate. The month is truncated on a
// timestamp without zone, so the session's TimeZone cannot move it. The
// dates are literals (formatted here from time.Time, never user text): as
// parameters of a cached prepared statement, PostgreSQL switches to a
// generic plan after five runs, which guesses a range selects 0.5 % of the
// table and loses the parallel scan a year of lots needs.
func savingsSQL(q Query) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT category, region_code, date_trunc('month', decided_on::timestamp)::date AS month,
	count(*) FILTER (WHERE status = 'completed'),
	count(*) FILTER (WHERE status = 'failed'),
	count(*) FILTER (WHERE status = 'cancelled'),
	coalesce(sum(base) FILTER (WHERE status = 'completed'), 0)::text,
	coalesce(sum(result) FILTER (WHERE status = 'completed'), 0)::text
FROM lot_outcomes
WHERE decided_on BETWEEN '` + q.From.Format("2006-01-02") + `'::date AND '` + q.To.Format("2006-01-02") + `'::date`)
	var args []any
	if q.Category != "" {
		b.WriteString(" AND category = ?")
		args = append(args, string(q.Category))
	}
	if q.Region != "" {
		b.WriteString(" AND region_code LIKE ?")
		args = append(args, trading.RegionPrefix(q.Region))
	}
	b.WriteString("\nGROUP BY 1, 2, 3")
	return b.String(), args
}

// SavingsSQL is the report's aggregate with PostgreSQL placeholders, for
// benchmarks that run it bare beside Savings.
func SavingsSQL(q Query) (string, []any) {
	sql, args := savingsSQL(q)
	for i := 1; strings.Contains(sql, "?"); i++ {
		sql = strings.Replace(sql, "?", "$"+strconv.Itoa(i), 1)
	}
	return sql, args
}

func sortRows(rows []Row, catIdx map[trading.Category]int) {
	less := func(a, b Row) bool {
		if catIdx[a.Category] != catIdx[b.Category] {
			return catIdx[a.Category] < catIdx[b.Category]
		}
		return a.RegionCode < b.RegionCode
	}
	// Insertion sort: a report has tens of rows, hundreds at most.
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && less(rows[j], rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// monthsOf lists the months from from to to, as "2006-01": calendar
// months of their Shanghai dates, whatever zone the times carry.
func monthsOf(from, to time.Time) []string {
	from, to = from.In(trading.Shanghai), to.In(trading.Shanghai)
	last := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
	var out []string
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(last); m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
		if len(out) > 12*maxYears+1 {
			break
		}
	}
	return out
}

// Paragraph is the annual summary the centres write (RULES.md), one
// sentence per category of the report in display order. Amounts and rates
// come from the exact totals and are rounded once; a negative saving prints
// with its minus sign. A category without completed lots prints 0宗 and
// 0.00万元, and its rate as 0.00%.
func Paragraph(r *Table) string {
	var b strings.Builder
	for _, t := range r.Totals {
		switch t.Category {
		case trading.Engineering:
			fmt.Fprintf(&b, "完成工程建设招标项目%d宗，涉及项目总控制价为%s万元，总中标金额为%s万元，节约资金%s万元，节约率为%s%%。",
				t.Completed, t.BaseWan(), t.ResultWan(), t.SavingsWan(), t.Rate())
		case trading.Procurement:
			fmt.Fprintf(&b, "完成政府采购%d宗，财政预算资金为%s万元，实际采购金额为%s万元，节约%s万元，节约率为%s%%。",
				t.Completed, t.BaseWan(), t.ResultWan(), t.SavingsWan(), t.Rate())
		case trading.Land:
			fmt.Fprintf(&b, "完成土地拍卖%d宗，成交金额总计%s万元。", t.Completed, t.ResultWan())
		case trading.Property:
			fmt.Fprintf(&b, "完成产权交易%d宗，成交金额%s万元。", t.Completed, t.ResultWan())
		}
	}
	return b.String()
}
