package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ggzy/ggzy/trading"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"
)

// Handlers serve the savings report's pages, downloads and API.
type Handlers struct{ *trading.Web }

// Routes registers the savings report: the page with its chart, the
// .xlsx and .csv downloads and the API. Supervisors and admins see it.
// Agents do not: the report covers every agent's projects, and an agent
// has no business with the others' prices.
func (w *Handlers) Routes(e *echo.Echo, api *echo.Group) {
	who := trading.RequireRole(trading.RoleSupervisor, trading.RoleAdmin)
	e.GET("/reports/savings", w.savingsPage, who)
	e.GET("/reports/savings.xlsx", w.savingsXLSX, who)
	e.GET("/reports/savings.csv", w.savingsCSV, who)
	api.GET("/reports/savings", w.apiSavings, who)
}

func (w *Handlers) savingsReport(c echo.Context) (*Table, error) {
	q, err := ParseQuery(c.QueryParam, w.Svc.Clock.Now())
	if err != nil {
		return nil, err
	}
	return Savings(c.Request().Context(), w.Svc, q)
}

type reportChart struct {
	ID, Title string
	Series    string // JSON for report.js
}

func (w *Handlers) savingsPage(c echo.Context) error {
	rep, err := w.savingsReport(c)
	if err != nil {
		return err
	}
	regions, err := w.Svc.Regions(c.Request().Context())
	if err != nil {
		return err
	}
	now := w.Svc.Clock.Now().In(trading.Shanghai).Year()
	var years []int
	for y := now; y > now-10; y-- {
		years = append(years, y)
	}
	if rep.Query.Year != 0 && (rep.Query.Year > now || rep.Query.Year <= now-10) {
		years = append(years, rep.Query.Year)
	}
	var charts []reportChart
	for _, ts := range rep.Trend {
		b, err := json.Marshal(chartSeries(ts))
		if err != nil {
			return err
		}
		charts = append(charts, reportChart{ID: "trend-" + string(ts.Category), Title: ts.Category.Name(), Series: string(b)})
	}
	raw := c.Request().URL.RawQuery
	if raw != "" {
		raw = "?" + raw
	}
	return w.Page(c, http.StatusOK, "report_savings", "节约率统计", map[string]any{
		"Report": rep, "Paragraph": Paragraph(rep), "Years": years, "Quarters": []int{1, 2, 3, 4},
		"Months": []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, "Categories": trading.CategoryOptions(), "Regions": regions,
		"Charts": charts, "XLSX": "/reports/savings.xlsx" + raw, "CSV": "/reports/savings.csv" + raw,
		"FromValue": c.QueryParam("from"), "ToValue": c.QueryParam("to")})
}

// chartSeries is what report.js draws for a category: savings (or
// premium) in 万元 as bars and the rate in % as a line, by month. The
// numbers are the rounded display values, as JSON numbers.
func chartSeries(ts TrendSeries) map[string]any {
	f := Figures{Category: ts.Category}
	months := make([]string, len(ts.Points))
	amounts := make([]json.Number, len(ts.Points))
	rates := make([]json.Number, len(ts.Points))
	for i, p := range ts.Points {
		months[i], amounts[i], rates[i] = p.Month, json.Number(p.SavingsWan()), json.Number(p.Rate())
	}
	return map[string]any{"months": months, "amounts": amounts, "rates": rates,
		"amountName": f.SavingsName() + "（万元）", "rateName": f.RateName() + "（%）"}
}

// FiguresJSON is a row of the report in the API: exact yuan as strings,
// and the rounded display values beside them.
type FiguresJSON struct {
	Category     trading.Category `json:"category"`
	CategoryName string           `json:"category_name"`
	RegionCode   string           `json:"region_code,omitempty"`
	RegionName   string           `json:"region_name,omitempty"`
	Month        string           `json:"month,omitempty"`
	Completed    int64            `json:"completed"`
	Failed       int64            `json:"failed"`
	Cancelled    int64            `json:"cancelled"`
	Base         string           `json:"base"`
	Result       string           `json:"result"`
	Savings      string           `json:"savings"`
	BaseWan      string           `json:"base_wan"`
	ResultWan    string           `json:"result_wan"`
	SavingsWan   string           `json:"savings_wan"`
	RatePercent  string           `json:"rate_percent"`
	SavingsName  string           `json:"savings_name"`
	RateName     string           `json:"rate_name"`
}

func figuresJSON(f Figures) FiguresJSON {
	return FiguresJSON{Category: f.Category, CategoryName: f.Category.Name(), Completed: f.Completed, Failed: f.Failed,
		Cancelled: f.Cancelled, Base: f.Base.StringFixed(2), Result: f.Result.StringFixed(2), Savings: f.Savings().StringFixed(2),
		BaseWan: f.BaseWan(), ResultWan: f.ResultWan(), SavingsWan: f.SavingsWan(), RatePercent: f.Rate(),
		SavingsName: f.SavingsName(), RateName: f.RateName()}
}

// JSON is the API's answer.
type JSON struct {
	From      string           `json:"from"`
	To        string           `json:"to"`
	Period    string           `json:"period"`
	Category  trading.Category `json:"category,omitempty"`
	Region    string           `json:"region,omitempty"`
	Rows      []FiguresJSON    `json:"rows"`
	Totals    []FiguresJSON    `json:"totals"`
	Trend     []TrendJSON      `json:"trend"`
	Paragraph string           `json:"paragraph"`
}

// TrendJSON is a category's months.
type TrendJSON struct {
	Category trading.Category `json:"category"`
	Months   []FiguresJSON    `json:"months"`
}

// JSON is the report in the API's shape.
func (r *Table) JSON() JSON {
	out := JSON{From: r.Query.From.Format("2006-01-02"), To: r.Query.To.Format("2006-01-02"), Period: r.Query.Label(),
		Category: r.Query.Category, Region: r.Query.Region, Rows: []FiguresJSON{}, Paragraph: Paragraph(r)}
	for _, row := range r.Rows {
		j := figuresJSON(row.Figures)
		j.RegionCode, j.RegionName = row.RegionCode, row.RegionName
		out.Rows = append(out.Rows, j)
	}
	for _, t := range r.Totals {
		out.Totals = append(out.Totals, figuresJSON(t.Figures))
	}
	for _, ts := range r.Trend {
		tj := TrendJSON{Category: ts.Category}
		for _, p := range ts.Points {
			j := figuresJSON(p.Figures)
			j.Month = p.Month
			tj.Months = append(tj.Months, j)
		}
		out.Trend = append(out.Trend, tj)
	}
	return out
}

func (w *Handlers) apiSavings(c echo.Context) error {
	rep, err := w.savingsReport(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep.JSON())
}

// The downloads: the page's table, region rows then the category's total
// (合计), amounts in 万元 and rates in %, rounded as on the page. The CSV
// adds the exact yuan sums.

var sheetHeaders = []string{"交易类别", "行政区划代码", "行政区划", "完成宗数", "流标/流拍宗数", "终止宗数",
	"控制价/预算/起始价（万元）", "中标/采购/成交金额（万元）", "节约/溢价（万元）", "节约率/溢价率（%）", "口径"}

// sheetRows lists the table in download order, totals marked.
func sheetRows(r *Table) ([]Row, []bool) {
	var rows []Row
	var total []bool
	for _, t := range r.Totals {
		for _, row := range r.RowsOf(t.Category) {
			rows, total = append(rows, row), append(total, false)
		}
		t.RegionName = "合计"
		rows, total = append(rows, t), append(total, true)
	}
	return rows, total
}

// WriteXLSX writes the report as .xlsx: the table on the first
// sheet, the summary paragraph on the second. Amounts are numbers in 万元
// formatted #,##0.00, rates are fractions formatted 0.00%, both taken from
// the rounded display values so the file shows what the page shows.
func WriteXLSX(out io.Writer, r *Table) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "节约率统计"
	f.SetSheetName("Sheet1", sheet)
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return err
	}
	moneyBold, _ := f.NewStyle(&excelize.Style{NumFmt: 4, Font: &excelize.Font{Bold: true}})
	pct, _ := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	pctBold, _ := f.NewStyle(&excelize.Style{NumFmt: 10, Font: &excelize.Font{Bold: true}})
	for i, h := range sheetHeaders {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		f.SetCellValue(sheet, cell, h)
	}
	f.SetRowStyle(sheet, 1, 1, bold)
	rows, totals := sheetRows(r)
	for i, row := range rows {
		n := i + 2
		set := func(col int, v any, style int) error {
			cell, _ := excelize.CoordinatesToCellName(col, n)
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				return err
			}
			if style != 0 {
				return f.SetCellStyle(sheet, cell, cell, style)
			}
			return nil
		}
		m, p := money, pct
		if totals[i] {
			m, p = moneyBold, pctBold
			f.SetRowStyle(sheet, n, n, bold)
		}
		for col, v := range []any{row.Category.Name(), row.RegionCode, row.RegionName, row.Completed, row.Failed, row.Cancelled} {
			if err := set(col+1, v, 0); err != nil {
				return err
			}
		}
		for col, s := range []string{row.BaseWan(), row.ResultWan(), row.SavingsWan()} {
			v, _ := strconv.ParseFloat(s, 64)
			if err := set(7+col, v, m); err != nil {
				return err
			}
		}
		rate, _ := row.RatePercent().Shift(-2).Float64()
		if err := set(10, rate, p); err != nil {
			return err
		}
		if err := set(11, row.RateName(), 0); err != nil {
			return err
		}
	}
	f.SetColWidth(sheet, "A", "A", 14)
	f.SetColWidth(sheet, "C", "C", 14)
	f.SetColWidth(sheet, "G", "J", 22)
	f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})

	const summary = "年度小结"
	if _, err := f.NewSheet(summary); err != nil {
		return err
	}
	f.SetCellValue(summary, "A1", "统计期间")
	f.SetCellValue(summary, "B1", r.Query.Label())
	f.SetCellValue(summary, "A2", "小结")
	f.SetCellValue(summary, "B2", Paragraph(r))
	f.SetColWidth(summary, "B", "B", 120)
	f.SetDocProps(&excelize.DocProperties{Title: "节约率统计 " + r.Query.Label(), Creator: "ggzy"})
	return f.Write(out)
}

// WriteCSV writes the table as UTF-8 CSV with a byte-order mark (so
// spreadsheet programs read the Chinese), plus the exact yuan sums.
func WriteCSV(out io.Writer, r *Table) error {
	if _, err := io.WriteString(out, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(out)
	cw.Write(append(append([]string{}, sheetHeaders...), "控制价/预算/起始价（元）", "中标/采购/成交金额（元）", "节约/溢价（元）"))
	rows, _ := sheetRows(r)
	for _, row := range rows {
		cw.Write([]string{row.Category.Name(), row.RegionCode, row.RegionName, strconv.FormatInt(row.Completed, 10),
			strconv.FormatInt(row.Failed, 10), strconv.FormatInt(row.Cancelled, 10), row.BaseWan(), row.ResultWan(),
			row.SavingsWan(), row.Rate(), row.RateName(), row.Base.StringFixed(2), row.Result.StringFixed(2),
			row.Savings().StringFixed(2)})
	}
	cw.Flush()
	return cw.Error()
}

func downloadName(r *Table, ext string) string {
	return fmt.Sprintf("savings-%s-%s.%s", r.Query.From.Format("20060102"), r.Query.To.Format("20060102"), ext)
}

func attachment(c echo.Context, ctype, ascii, chinese string) {
	c.Response().Header().Set(echo.HeaderContentType, ctype)
	c.Response().Header().Set(echo.HeaderContentDisposition,
		fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(chinese)))
}

func (w *Handlers) savingsXLSX(c echo.Context) error {
	rep, err := w.savingsReport(c)
	if err != nil {
		return err
	}
	attachment(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", downloadName(rep, "xlsx"),
		"节约率统计-"+rep.Query.Label()+".xlsx")
	c.Response().WriteHeader(http.StatusOK)
	return WriteXLSX(c.Response(), rep)
}

func (w *Handlers) savingsCSV(c echo.Context) error {
	rep, err := w.savingsReport(c)
	if err != nil {
		return err
	}
	attachment(c, "text/csv; charset=utf-8", downloadName(rep, "csv"), "节约率统计-"+rep.Query.Label()+".csv")
	c.Response().WriteHeader(http.StatusOK)
	return WriteCSV(c.Response(), rep)
}
