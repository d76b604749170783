package report

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/tradingtest"

	"github.com/shopspring/decimal"
)

// reportOutcome is one lot_outcomes row a test inserts.
type reportOutcome struct {
	Category trading.Category
	Region   string
	Status   trading.OutcomeStatus
	Base     string // yuan, "" for failed/cancelled
	Result   string
	On       string // decided_on
}

// seedOutcomes inserts each outcome with its own project and lot, in SQL
// (the report only reads lot_outcomes; the parents are there for the keys).
func seedOutcomes(t testing.TB, s *trading.Service, outs []reportOutcome) []trading.LotOutcome {
	t.Helper()
	db, err := s.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var agent int64
	if err := tx.QueryRow(`INSERT INTO accounts (username, password_hash, role, display_name, created_at, updated_at)
		VALUES ('rpt' || (SELECT count(*) FROM accounts), 'x', 'agent', '统计代理', now(), now()) RETURNING id`).Scan(&agent); err != nil {
		t.Fatal(err)
	}
	var lots []trading.LotOutcome
	for _, o := range outs {
		var project, lot int64
		if err := tx.QueryRow(`INSERT INTO projects (code, category, title, owner_name, region_code, agent_id, status, created_at, updated_at)
			VALUES ('RPT-' || nextval('projects_id_seq'), $1, '统计测试项目', '某单位', $2, $3, 'active', now(), now()) RETURNING id`,
			o.Category, o.Region, agent).Scan(&project); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(`INSERT INTO lots (project_id, seq, name) VALUES ($1, 1, '一标段') RETURNING id`, project).Scan(&lot); err != nil {
			t.Fatal(err)
		}
		var base, result any
		lo := trading.LotOutcome{LotID: lot, ProjectID: project, Category: o.Category, RegionCode: o.Region, Status: o.Status}
		if o.Status == trading.OutcomeCompleted {
			base, result = o.Base, o.Result
			b, r := decimal.RequireFromString(o.Base), decimal.RequireFromString(o.Result)
			lo.Base, lo.Result = &b, &r
		}
		lo.DecidedOn, _ = time.ParseInLocation("2006-01-02", o.On, trading.Shanghai)
		if _, err := tx.Exec(`INSERT INTO lot_outcomes (lot_id, project_id, category, region_code, status, base, result, decided_on, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())`, lot, project, o.Category, o.Region, o.Status, base, result, o.On); err != nil {
			t.Fatal(err)
		}
		lots = append(lots, lo)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return lots
}

func mustQuery(t *testing.T, params map[string]string) Query {
	t.Helper()
	q, err := ParseQuery(func(k string) string { return params[k] }, time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai))
	if err != nil {
		t.Fatal(err)
	}
	return q
}

var reportRegions = []string{"350000", "350100", "350102", "350104", "350121", "350200", "350300", "350500", "350900"}

// regionMatches is the portal's region filter, written again for the test.
func regionMatches(filter, code string) bool {
	switch {
	case filter == "":
		return true
	case strings.HasSuffix(filter, "0000"):
		return code[:2] == filter[:2]
	case strings.HasSuffix(filter, "00"):
		return code[:4] == filter[:4]
	}
	return code == filter
}

// roundHalfUp rounds a rational to 2 decimals, half away from zero, and
// prints it: the display rule, computed independently of report.go.
func roundHalfUp(x *big.Rat) string {
	neg := x.Sign() < 0
	a := new(big.Rat).Abs(x)
	a.Mul(a, big.NewRat(100, 1)).Add(a, big.NewRat(1, 2))
	q := new(big.Int).Quo(a.Num(), a.Denom()) // floor, a ≥ 0
	s := fmt.Sprintf("%d.%02d", new(big.Int).Quo(q, big.NewInt(100)), new(big.Int).Rem(q, big.NewInt(100)))
	if neg && q.Sign() != 0 {
		s = "-" + s
	}
	return s
}

func ratOf(d decimal.Decimal) *big.Rat { return d.Rat() }

// Property: on random lots (all categories and statuses, results above and
// below the base), every row, total and trend equals the per-lot figures
// summed independently, exactly; the paragraph's figures equal an
// independent rounding of those sums, to the fen and to 0.01 %.
func TestReportPropertyRandomLots(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(20260302, 6))
	start := time.Date(2024, 11, 1, 0, 0, 0, 0, trading.Shanghai)
	var outs []reportOutcome
	for i := 0; i < 600; i++ {
		o := reportOutcome{Category: trading.Categories()[r.IntN(4)], Region: reportRegions[r.IntN(len(reportRegions))],
			On: start.AddDate(0, 0, r.IntN(500)).Format("2006-01-02")}
		switch p := r.IntN(10); {
		case p < 7:
			o.Status = trading.OutcomeCompleted
			// From one fen to a billion yuan; results 60 %–140 % of the base.
			base := int64(1)
			if r.IntN(20) > 0 {
				base = 1 + r.Int64N(100_000_000_000)
			}
			result := max(1, base*int64(60+r.IntN(81))/100+r.Int64N(100))
			o.Base, o.Result = decimal.New(base, -2).StringFixed(2), decimal.New(result, -2).StringFixed(2)
		case p < 9:
			o.Status = trading.OutcomeFailed
		default:
			o.Status = trading.OutcomeCancelled
		}
		outs = append(outs, o)
	}
	lots := seedOutcomes(t, s, outs)

	queries := []map[string]string{{"year": "2025"}, {"from": "2024-11-01", "to": "2026-03-15"}}
	for i := 0; i < 40; i++ {
		from := start.AddDate(0, 0, r.IntN(500))
		q := map[string]string{"from": from.Format("2006-01-02"), "to": from.AddDate(0, 0, r.IntN(400)).Format("2006-01-02")}
		if r.IntN(3) == 0 {
			q["category"] = string(trading.Categories()[r.IntN(4)])
		}
		if r.IntN(3) == 0 {
			q["region"] = reportRegions[r.IntN(len(reportRegions))]
		}
		queries = append(queries, q)
	}
	for _, params := range queries {
		q := mustQuery(t, params)
		rep, err := Savings(ctx, s, q)
		if err != nil {
			t.Fatal(err)
		}
		// Independent sums from the lots as generated.
		type key struct {
			c      trading.Category
			region string
		}
		type sums struct {
			n                     [3]int64
			base, result, savings decimal.Decimal
		}
		byRow, byCat, byMonth := map[key]*sums{}, map[trading.Category]*sums{}, map[string]*sums{}
		get := func(m map[key]*sums, k key) *sums {
			if m[k] == nil {
				m[k] = &sums{}
			}
			return m[k]
		}
		for i := range lots {
			l := &lots[i]
			if l.DecidedOn.Before(q.From) || l.DecidedOn.After(q.To) || (q.Category != "" && l.Category != q.Category) ||
				!regionMatches(q.Region, l.RegionCode) {
				continue
			}
			row := get(byRow, key{l.Category, l.RegionCode})
			if byCat[l.Category] == nil {
				byCat[l.Category] = &sums{}
			}
			mk := string(l.Category) + l.DecidedOn.Format("2006-01")
			if byMonth[mk] == nil {
				byMonth[mk] = &sums{}
			}
			for _, x := range []*sums{row, byCat[l.Category], byMonth[mk]} {
				switch l.Status {
				case trading.OutcomeCompleted:
					x.n[0]++
					x.base, x.result = x.base.Add(*l.Base), x.result.Add(*l.Result)
					x.savings = x.savings.Add(l.Savings())
				case trading.OutcomeFailed:
					x.n[1]++
				case trading.OutcomeCancelled:
					x.n[2]++
				}
			}
		}
		same := func(what string, f Figures, want *sums) {
			t.Helper()
			if want == nil {
				want = &sums{}
			}
			if f.Completed != want.n[0] || f.Failed != want.n[1] || f.Cancelled != want.n[2] || !f.Base.Equal(want.base) ||
				!f.Result.Equal(want.result) || !f.Savings().Equal(want.savings) {
				t.Fatalf("%v %s: got %d/%d/%d base %s result %s savings %s; want %v base %s result %s savings %s", params, what,
					f.Completed, f.Failed, f.Cancelled, f.Base, f.Result, f.Savings(), want.n, want.base, want.result, want.savings)
			}
		}
		if len(rep.Rows) != len(byRow) {
			t.Fatalf("%v: %d rows, want %d", params, len(rep.Rows), len(byRow))
		}
		for _, row := range rep.Rows {
			same("row "+string(row.Category)+" "+row.RegionCode, row.Figures, byRow[key{row.Category, row.RegionCode}])
		}
		wantCats := 4
		if q.Category != "" {
			wantCats = 1
		}
		if len(rep.Totals) != wantCats || len(rep.Trend) != wantCats {
			t.Fatalf("%v: %d totals, %d trends", params, len(rep.Totals), len(rep.Trend))
		}
		for i, tot := range rep.Totals {
			same("total "+string(tot.Category), tot.Figures, byCat[tot.Category])
			// The total is the sum of its rows, and of its months.
			rows, months := Figures{Category: tot.Category}, Figures{Category: tot.Category}
			for _, row := range rep.RowsOf(tot.Category) {
				rows.add(&row.Figures)
			}
			for _, p := range rep.Trend[i].Points {
				same("month "+p.Month, p.Figures, byMonth[string(tot.Category)+p.Month])
				months.add(&p.Figures)
			}
			if rows.Completed != tot.Completed || rows.Failed != tot.Failed || rows.Cancelled != tot.Cancelled ||
				!rows.Base.Equal(tot.Base) || !rows.Result.Equal(tot.Result) {
				t.Fatalf("%v: rows of %s sum to %+v, total %+v", params, tot.Category, rows, tot.Figures)
			}
			same("months of "+string(tot.Category), months, byCat[tot.Category])
		}
		checkParagraph(t, rep, func(c trading.Category) *sums { return byCat[c] }, func(x *sums) (int64, decimal.Decimal, decimal.Decimal, decimal.Decimal) {
			if x == nil {
				return 0, decimal.Zero, decimal.Zero, decimal.Zero
			}
			return x.n[0], x.base, x.result, x.savings
		})
	}
}

var (
	engineeringRe = regexp.MustCompile(`完成工程建设招标项目(\d+)宗，涉及项目总控制价为(-?[\d.]+)万元，总中标金额为(-?[\d.]+)万元，节约资金(-?[\d.]+)万元，节约率为(-?[\d.]+)%。`)
	procurementRe = regexp.MustCompile(`完成政府采购(\d+)宗，财政预算资金为(-?[\d.]+)万元，实际采购金额为(-?[\d.]+)万元，节约(-?[\d.]+)万元，节约率为(-?[\d.]+)%。`)
	landRe        = regexp.MustCompile(`完成土地拍卖(\d+)宗，成交金额总计(-?[\d.]+)万元。`)
	propertyRe    = regexp.MustCompile(`完成产权交易(\d+)宗，成交金额(-?[\d.]+)万元。`)
)

// checkParagraph parses the paragraph and compares each figure with an
// independent big.Rat rounding of the exact sums.
func checkParagraph[S any](t *testing.T, rep *Table, of func(trading.Category) S, figures func(S) (int64, decimal.Decimal, decimal.Decimal, decimal.Decimal)) {
	t.Helper()
	p := Paragraph(rep)
	wan := func(d decimal.Decimal) string { return roundHalfUp(new(big.Rat).Quo(ratOf(d), big.NewRat(10000, 1))) }
	rate := func(sv, base decimal.Decimal) string {
		if base.IsZero() {
			return "0.00"
		}
		return roundHalfUp(new(big.Rat).Mul(new(big.Rat).Quo(ratOf(sv), ratOf(base)), big.NewRat(100, 1)))
	}
	want := ""
	for _, tot := range rep.Totals {
		n, base, result, savings := figures(of(tot.Category))
		var re *regexp.Regexp
		var fields []string
		switch tot.Category {
		case "engineering", "procurement":
			re = map[trading.Category]*regexp.Regexp{"engineering": engineeringRe, "procurement": procurementRe}[tot.Category]
			fields = []string{fmt.Sprint(n), wan(base), wan(result), wan(savings), rate(savings, base)}
		case "land":
			re, fields = landRe, []string{fmt.Sprint(n), wan(result)}
		case "property":
			re, fields = propertyRe, []string{fmt.Sprint(n), wan(result)}
		}
		m := re.FindStringSubmatch(p)
		if m == nil {
			t.Fatalf("paragraph has no %s sentence: %s", tot.Category, p)
		}
		for i, f := range fields {
			if m[i+1] != f {
				t.Fatalf("paragraph %s figure %d = %s, want %s\n%s", tot.Category, i, m[i+1], f, p)
			}
		}
		want += m[0]
	}
	if p != want {
		t.Fatalf("paragraph has more than its sentences, or another order:\n%s\n%s", p, want)
	}
}

// A lot won above its control price has negative savings, shown as such,
// and lowers the category's rate; failed and cancelled lots only count.
func TestReportNegativeSavingsAndFailedLots(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	seedOutcomes(t, s, []reportOutcome{
		{Category: "engineering", Region: "350102", Status: trading.OutcomeCompleted, Base: "1000000.00", Result: "900000.00", On: "2025-03-10"},
		{Category: "engineering", Region: "350102", Status: trading.OutcomeFailed, On: "2025-03-11"},
		{Category: "engineering", Region: "350102", Status: trading.OutcomeCancelled, On: "2025-04-11"},
	})
	q := mustQuery(t, map[string]string{"year": "2025", "category": "engineering"})
	rep, err := Savings(ctx, s, q)
	if err != nil {
		t.Fatal(err)
	}
	e := rep.Total("engineering")
	if e.Completed != 1 || e.Failed != 1 || e.Cancelled != 1 || e.BaseWan() != "100.00" || e.SavingsWan() != "10.00" || e.Rate() != "10.00" {
		t.Fatalf("before: %+v rate %s", e.Figures, e.Rate())
	}
	seedOutcomes(t, s, []reportOutcome{
		{Category: "engineering", Region: "350104", Status: trading.OutcomeCompleted, Base: "1000000.00", Result: "1300000.00", On: "2025-05-01"},
	})
	if rep, err = Savings(ctx, s, q); err != nil {
		t.Fatal(err)
	}
	e = rep.Total("engineering")
	if e.Completed != 2 || e.Failed != 1 || e.Cancelled != 1 || e.BaseWan() != "200.00" || e.ResultWan() != "220.00" ||
		e.SavingsWan() != "-20.00" || e.Rate() != "-10.00" {
		t.Fatalf("after: %+v savings %s rate %s", e.Figures, e.SavingsWan(), e.Rate())
	}
	over := rep.RowsOf("engineering")[1]
	if over.RegionCode != "350104" || over.Savings().String() != "-300000" || over.Rate() != "-30.00" {
		t.Fatalf("the lot above its control price: %+v %s", over, over.Rate())
	}
	want := "完成工程建设招标项目2宗，涉及项目总控制价为200.00万元，总中标金额为220.00万元，节约资金-20.00万元，节约率为-10.00%。"
	if p := Paragraph(rep); p != want {
		t.Fatalf("paragraph:\n%s\nwant\n%s", p, want)
	}
	// The failed lot is in its month's count only.
	for _, p := range rep.Trend[0].Points {
		if p.Month == "2025-03" && (p.Failed != 1 || p.Completed != 1 || !p.Base.Equal(decimal.NewFromInt(1000000))) {
			t.Fatalf("March: %+v", p)
		}
	}
}

// Rounding happens once, half-up on the magnitude, from the exact figure.
func TestReportRounding(t *testing.T) {
	for _, c := range []struct{ yuan, wan string }{
		{"50.00", "0.01"}, {"49.99", "0.00"}, {"-50.00", "-0.01"}, {"-49.99", "0.00"}, {"12345678.90", "1234.57"},
		{"99999999999999.99", "10000000000.00"},
	} {
		if got := Wan(decimal.RequireFromString(c.yuan)); got != c.wan {
			t.Errorf("Wan(%s) = %s, want %s", c.yuan, got, c.wan)
		}
	}
	for _, c := range []struct{ savings, base, rate string }{
		{"1442300.00", "20402200.00", "7.07"}, // RULES.md: 144.23 ÷ (1895.99 + 144.23)
		{"0.01", "200.00", "0.01"},            // 0.005 % exactly: up
		{"-0.01", "200.00", "-0.01"},          // and away from zero
		{"0.01", "200.01", "0.00"},            // just under .005
		{"1.00", "3.00", "33.33"},
		{"2.00", "3.00", "66.67"},
		{"-30000.00", "100000.00", "-30.00"},
		{"5.00", "0.00", "0.00"}, // no completed lot
		// 16 significant digits of ratio would round 7.0749999999999999… up
		{"707499999999999.99", "9999999999999999.99", "7.07"},
	} {
		if got := Percent(ratePercent(decimal.RequireFromString(c.savings), decimal.RequireFromString(c.base))); got != c.rate {
			t.Errorf("rate %s ÷ %s = %s, want %s", c.savings, c.base, got, c.rate)
		}
	}
}

// A period without lots prints every category with zeros and rate 0.00 %.
func TestReportParagraphEmptyPeriod(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	rep, err := Savings(context.Background(), s, mustQuery(t, map[string]string{"year": "2024"}))
	if err != nil {
		t.Fatal(err)
	}
	want := "完成工程建设招标项目0宗，涉及项目总控制价为0.00万元，总中标金额为0.00万元，节约资金0.00万元，节约率为0.00%。" +
		"完成政府采购0宗，财政预算资金为0.00万元，实际采购金额为0.00万元，节约0.00万元，节约率为0.00%。" +
		"完成土地拍卖0宗，成交金额总计0.00万元。完成产权交易0宗，成交金额0.00万元。"
	if p := Paragraph(rep); p != want {
		t.Fatalf("got\n%s\nwant\n%s", p, want)
	}
	if len(rep.Rows) != 0 || len(rep.Trend) != 4 || len(rep.Trend[0].Points) != 12 {
		t.Fatalf("rows %d trend %d", len(rep.Rows), len(rep.Trend))
	}
}

// The premium categories count result − base.
func TestReportPremium(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	seedOutcomes(t, s, []reportOutcome{
		{Category: "land", Region: "350121", Status: trading.OutcomeCompleted, Base: "50000000.00", Result: "65000000.00", On: "2025-07-01"},
		{Category: "property", Region: "350200", Status: trading.OutcomeCompleted, Base: "8000000.00", Result: "8000000.00", On: "2025-07-02"},
		{Category: "land", Region: "350121", Status: trading.OutcomeFailed, On: "2025-07-03"},
	})
	rep, err := Savings(context.Background(), s, mustQuery(t, map[string]string{"year": "2025", "quarter": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	land := rep.Total("land")
	if land.SavingsWan() != "1500.00" || land.Rate() != "30.00" || land.RateName() != "溢价率" || land.Failed != 1 {
		t.Fatalf("land: %+v", land)
	}
	if p := Paragraph(rep); !strings.Contains(p, "完成土地拍卖1宗，成交金额总计6500.00万元。完成产权交易1宗，成交金额800.00万元。") {
		t.Fatal(p)
	}
	// Region filters include sub-regions: 350100 has 350121, 350200 is apart.
	rep, _ = Savings(context.Background(), s, mustQuery(t, map[string]string{"year": "2025", "region": "350100"}))
	if rep.Total("land").Completed != 1 || rep.Total("property").Completed != 0 {
		t.Fatalf("region 350100: %+v", rep.Totals)
	}
	rep, _ = Savings(context.Background(), s, mustQuery(t, map[string]string{"year": "2025", "region": "350000"}))
	if rep.Total("land").Completed != 1 || rep.Total("property").Completed != 1 {
		t.Fatalf("region 350000: %+v", rep.Totals)
	}
}

func TestReportQueryValidation(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai)
	for _, c := range []struct {
		params   map[string]string
		field    string
		from, to string
	}{
		{map[string]string{}, "", "2026-01-01", "2026-12-31"},
		{map[string]string{"year": "2025"}, "", "2025-01-01", "2025-12-31"},
		{map[string]string{"year": "2025", "quarter": "2"}, "", "2025-04-01", "2025-06-30"},
		{map[string]string{"year": "2024", "month": "2"}, "", "2024-02-01", "2024-02-29"},
		{map[string]string{"quarter": "4"}, "", "2026-10-01", "2026-12-31"},
		{map[string]string{"from": "2025-03-01", "to": "2025-03-01"}, "", "2025-03-01", "2025-03-01"},
		{map[string]string{"from": "2025-13-01", "to": "2025-12-31"}, "from", "", ""},
		{map[string]string{"from": "2025-01-01", "to": "2025/12/31"}, "to", "", ""},
		{map[string]string{"from": "2025-01-01"}, "to", "", ""},
		{map[string]string{"to": "2025-01-01"}, "from", "", ""},
		{map[string]string{"from": "2025-02-01", "to": "2025-01-31"}, "to", "", ""},
		{map[string]string{"from": "2010-01-01", "to": "2020-01-01"}, "to", "", ""},
		{map[string]string{"from": "2025-01-01", "to": "2025-02-01", "year": "2025"}, "year", "", ""},
		{map[string]string{"year": "25"}, "year", "", ""},
		{map[string]string{"year": "2025", "quarter": "5"}, "quarter", "", ""},
		{map[string]string{"year": "2025", "month": "0"}, "month", "", ""},
		{map[string]string{"year": "2025", "month": "1", "quarter": "1"}, "month", "", ""},
		{map[string]string{"category": "mining"}, "category", "", ""},
		{map[string]string{"region": "3501"}, "region", "", ""},
	} {
		q, err := ParseQuery(func(k string) string { return c.params[k] }, today)
		if c.field == "" {
			if err != nil || q.From.Format("2006-01-02") != c.from || q.To.Format("2006-01-02") != c.to {
				t.Errorf("%v: %v %s–%s", c.params, err, q.From.Format("2006-01-02"), q.To.Format("2006-01-02"))
			}
			continue
		}
		var e *trading.Error
		if !errors.As(err, &e) || e.Status() != 400 || e.Field != c.field || e.Message == "" {
			t.Errorf("%v: %v, want a 400 on %s", c.params, err, c.field)
		}
	}
	s, _ := tradingtest.NewService(t)
	_, err := Savings(context.Background(), s, mustQuery(t, map[string]string{"region": "110000"}))
	var e *trading.Error
	if !errors.As(err, &e) || e.Field != "region" || !strings.Contains(e.Message, "110000") {
		t.Fatalf("unknown region: %v", err)
	}
}

func FuzzParseReportQuery(f *testing.F) {
	f.Add("2025", "", "", "", "", "engineering", "350100")
	f.Add("", "", "", "2025-01-01", "2025-12-31", "", "")
	today := time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai)
	f.Fuzz(func(t *testing.T, year, quarter, month, from, to, category, region string) {
		m := map[string]string{"year": year, "quarter": quarter, "month": month, "from": from, "to": to, "category": category, "region": region}
		q, err := ParseQuery(func(k string) string { return m[k] }, today)
		if err != nil {
			var e *trading.Error
			if !errors.As(err, &e) || e.Status() != 400 || e.Field == "" {
				t.Fatalf("not a 400 naming a field: %v", err)
			}
			return
		}
		if q.To.Before(q.From) || q.From.Year() < 2000 || len(monthsOf(q.From, q.To)) > 12*maxYears+1 {
			t.Fatalf("accepted a bad period %v–%v", q.From, q.To)
		}
	})
}

// A period ending on the first of a month includes that month in the trend.
func TestMonthsOfIncludesTheLastMonth(t *testing.T) {
	from := time.Date(2025, 1, 15, 0, 0, 0, 0, trading.Shanghai)
	to := time.Date(2025, 3, 1, 0, 0, 0, 0, trading.Shanghai)
	if got := strings.Join(monthsOf(from, to), ","); got != "2025-01,2025-02,2025-03" {
		t.Fatalf("months %s", got)
	}
	if got := strings.Join(monthsOf(to, to), ","); got != "2025-03" {
		t.Fatalf("one day: %s", got)
	}
}
