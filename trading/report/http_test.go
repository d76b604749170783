package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/tradingtest"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/templates"
)

type reportClient struct {
	e      *echo.Echo
	cookie *http.Cookie // page session
	token  string       // API bearer token
}

// reportServer serves ReportRoutes with sessions for pages and bearer
// tokens for the API, as the router does, and signs in one account of each
// role.
func reportServer(t *testing.T) (*trading.Service, map[trading.Role]reportClient, *echo.Echo) {
	t.Helper()
	s, _ := tradingtest.NewService(t)
	pages, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	w := &trading.Web{Svc: s, Pages: pages, Log: s.Log}
	e := echo.New()
	e.HTTPErrorHandler = w.ErrorHandler
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		withSession := w.LoadSession(next)
		return func(c echo.Context) error {
			if trading.IsAPI(c) {
				return next(c)
			}
			return withSession(c)
		}
	})
	(&Handlers{Web: w}).Routes(e, e.Group("/api/v1", w.LoadBearer))
	ctx := context.Background()
	clients := map[trading.Role]reportClient{}
	for _, role := range []trading.Role{trading.RoleSupervisor, trading.RoleAdmin, trading.RoleAgent, trading.RoleBidder} {
		name := "rpt" + string(role)
		if role == trading.RoleBidder {
			anon := trading.Actor{Username: "anonymous", Role: "anonymous", IP: "127.0.0.1"}
			if _, err := s.SignUpBidder(ctx, anon, tradingtest.SignUp(name, testenv.CreditCode("91350100M000300Y4"))); err != nil {
				t.Fatal(err)
			}
		} else if _, err := s.CreateAccount(ctx, trading.SystemActor, trading.NewAccount{Role: role, Username: name, DisplayName: name, Password: "secret123"}); err != nil {
			t.Fatal(err)
		}
		web, _, err := s.Login(ctx, trading.SessionWeb, name, "secret123", "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		api, _, err := s.Login(ctx, trading.SessionAPI, name, "secret123", "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		clients[role] = reportClient{e: e, cookie: &http.Cookie{Name: trading.SessionCookie, Value: web}, token: api}
	}
	return s, clients, e
}

// get requests a path as the client (anonymous if the zero value) and
// returns the status, body and headers.
func (rc reportClient) get(e *echo.Echo, path string) (int, []byte, http.Header) {
	req := httptest.NewRequest("GET", path, nil)
	if rc.cookie != nil && !strings.HasPrefix(path, "/api/") {
		req.AddCookie(rc.cookie)
	}
	if rc.token != "" && strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+rc.token)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes(), rec.Header()
}

func seedReportHTTP(t *testing.T, s *trading.Service) {
	seedOutcomes(t, s, []reportOutcome{
		{Category: "engineering", Region: "350102", Status: trading.OutcomeCompleted, Base: "12000000.00", Result: "11000000.55", On: "2025-01-15"},
		{Category: "engineering", Region: "350200", Status: trading.OutcomeCompleted, Base: "3000000.00", Result: "3300000.00", On: "2025-06-30"},
		{Category: "engineering", Region: "350200", Status: trading.OutcomeFailed, On: "2025-07-01"},
		{Category: "procurement", Region: "350100", Status: trading.OutcomeCompleted, Base: "18959900.00", Result: "17517600.00", On: "2025-03-03"},
		{Category: "procurement", Region: "350100", Status: trading.OutcomeCompleted, Base: "1442300.00", Result: "1442300.00", On: "2025-12-31"},
		{Category: "land", Region: "350121", Status: trading.OutcomeCompleted, Base: "50000000.00", Result: "65432100.00", On: "2025-09-09"},
		{Category: "property", Region: "350900", Status: trading.OutcomeCancelled, On: "2025-10-10"},
		{Category: "engineering", Region: "350102", Status: trading.OutcomeCompleted, Base: "999.00", Result: "1.00", On: "2024-12-31"}, // another year
	})
}

func TestReportHTTPPageAPIAndDownloads(t *testing.T) {
	t.Parallel()
	s, clients, e := reportServer(t)
	seedReportHTTP(t, s)
	sup := clients[trading.RoleSupervisor]

	// The API: exact yuan and display values, and the paragraph.
	code, body, _ := sup.get(e, "/api/v1/reports/savings?from=2025-01-01&to=2025-12-31")
	if code != 200 {
		t.Fatalf("API = %d %s", code, body)
	}
	var rep JSON
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Totals) != 4 || len(rep.Rows) != 5 || len(rep.Trend) != 4 || len(rep.Trend[0].Months) != 12 {
		t.Fatalf("shape: %d totals %d rows %d trends", len(rep.Totals), len(rep.Rows), len(rep.Trend))
	}
	eng := rep.Totals[0]
	if eng.Completed != 2 || eng.Failed != 1 || eng.Base != "15000000.00" || eng.Result != "14300000.55" || eng.Savings != "699999.45" ||
		eng.BaseWan != "1500.00" || eng.ResultWan != "1430.00" || eng.SavingsWan != "70.00" || eng.RatePercent != "4.67" {
		t.Fatalf("engineering: %+v", eng)
	}
	pro := rep.Totals[1]
	if pro.Base != "20402200.00" || pro.Savings != "1442300.00" || pro.RatePercent != "7.07" { // RULES.md's check
		t.Fatalf("procurement: %+v", pro)
	}
	if rep.Rows[1].RegionCode != "350200" || rep.Rows[1].Savings != "-300000.00" || rep.Rows[1].RatePercent != "-10.00" {
		t.Fatalf("the lot above its control price: %+v", rep.Rows[1])
	}
	if !strings.HasPrefix(rep.Paragraph, "完成工程建设招标项目2宗，涉及项目总控制价为1500.00万元，总中标金额为1430.00万元，节约资金70.00万元，节约率为4.67%。完成政府采购2宗，财政预算资金为2040.22万元，实际采购金额为1895.99万元，节约144.23万元，节约率为7.07%。完成土地拍卖1宗，成交金额总计6543.21万元。完成产权交易0宗，成交金额0.00万元。") {
		t.Fatalf("paragraph: %s", rep.Paragraph)
	}
	// year= gives the same report as from/to over the year.
	_, body2, _ := sup.get(e, "/api/v1/reports/savings?year=2025")
	var rep2 JSON
	json.Unmarshal(body2, &rep2)
	if rep2.Paragraph != rep.Paragraph || rep2.Period != "2025年" {
		t.Fatalf("year=2025: %s", rep2.Paragraph)
	}

	// The page: table, paragraph, charts with the local ECharts.
	code, page, _ := sup.get(e, "/reports/savings?year=2025")
	html := string(page)
	if code != 200 || !strings.Contains(html, rep.Paragraph) || !strings.Contains(html, `id="total-engineering"`) ||
		!strings.Contains(html, `id="trend-land"`) || !strings.Contains(html, "/static/echarts.") || !strings.Contains(html, "-30.00") ||
		!strings.Contains(html, "/reports/savings.xlsx?year=2025") {
		t.Fatalf("page = %d\n%s", code, html)
	}
	if code, _, _ := clients[trading.RoleAdmin].get(e, "/reports/savings?year=2025&quarter=1&category=procurement&region=350000"); code != 200 {
		t.Fatalf("admin page = %d", code)
	}

	// The CSV: the page's table plus exact yuan, totals as in the API.
	code, raw, h := sup.get(e, "/reports/savings.csv?year=2025")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !bytes.HasPrefix(raw, []byte("\ufeff")) {
		t.Fatalf("csv = %d %s", code, h)
	}
	records, err := csv.NewReader(bytes.NewReader(raw[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	totals := 0
	for _, r := range records[1:] {
		if r[2] != "合计" {
			continue
		}
		tot := rep.Totals[totals]
		if r[0] != tot.CategoryName || r[3] != strconv.FormatInt(tot.Completed, 10) || r[6] != tot.BaseWan || r[7] != tot.ResultWan ||
			r[8] != tot.SavingsWan || r[9] != tot.RatePercent || r[11] != tot.Base || r[13] != tot.Savings {
			t.Fatalf("csv total %v, API %+v", r, tot)
		}
		totals++
	}
	if totals != 4 || records[0][0] != "交易类别" {
		t.Fatalf("csv: %d totals, header %v", totals, records[0])
	}

	// The .xlsx opens, and its totals are the API's.
	code, raw, h = sup.get(e, "/reports/savings.xlsx?year=2025")
	if code != 200 || !strings.Contains(h.Get("Content-Disposition"), "savings-20250101-20251231.xlsx") {
		t.Fatalf("xlsx = %d %s", code, h)
	}
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("节约率统计", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	shown, _ := f.GetRows("节约率统计")
	totals = 0
	for i, r := range rows[1:] {
		if r[2] != "合计" {
			continue
		}
		tot := rep.Totals[totals]
		num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		if r[0] != tot.CategoryName || r[3] != strconv.FormatInt(tot.Completed, 10) || num(r[6]) != num(tot.BaseWan) ||
			num(r[7]) != num(tot.ResultWan) || num(r[8]) != num(tot.SavingsWan) || strconv.FormatFloat(num(r[9])*100, 'f', 2, 64) != tot.RatePercent {
			t.Fatalf("xlsx total %v, API %+v", r, tot)
		}
		// As displayed: the number formats show the page's figures.
		if shown[i+1][9] != tot.RatePercent+"%" || strings.ReplaceAll(shown[i+1][6], ",", "") != tot.BaseWan {
			t.Fatalf("xlsx shows %v, API %+v", shown[i+1], tot)
		}
		totals++
	}
	if totals != 4 || rows[0][3] != "完成宗数" {
		t.Fatalf("xlsx: %d totals, header %v", totals, rows[0])
	}
	if p, _ := f.GetCellValue("年度小结", "B2"); p != rep.Paragraph {
		t.Fatalf("xlsx paragraph %q", p)
	}
}

func TestReportHTTPValidationAndPermissions(t *testing.T) {
	t.Parallel()
	s, clients, e := reportServer(t)
	seedReportHTTP(t, s)
	sup := clients[trading.RoleSupervisor]
	for _, c := range []struct{ query, field, words string }{
		{"from=2025-02-30&to=2025-03-01", "from", "格式不正确"},
		{"from=2025-03-01&to=2025-02-01", "to", "早于"},
		{"from=2025-03-01", "to", "结束日期"},
		{"category=mining", "category", "交易类别"},
		{"region=110000", "region", "不存在"},
		{"region=35", "region", "6位数字"},
		{"year=2025&quarter=5", "quarter", "季度"},
	} {
		code, body, _ := sup.get(e, "/api/v1/reports/savings?"+c.query)
		var eb trading.ErrorBody
		json.Unmarshal(body, &eb)
		if code != 400 || eb.Error.Field != c.field || !strings.Contains(eb.Error.Message, c.words) {
			t.Errorf("API ?%s = %d %s", c.query, code, body)
		}
		code, body, _ = sup.get(e, "/reports/savings?"+c.query)
		if code != 400 || !strings.Contains(string(body), "（字段："+trading.FieldLabel(c.field)+"）") {
			t.Errorf("page ?%s = %d", c.query, code)
		}
		if code, _, _ = sup.get(e, "/reports/savings.xlsx?"+c.query); code != 400 {
			t.Errorf("xlsx ?%s = %d", c.query, code)
		}
	}
	// Bidders and agents are refused; anonymous pages go to the login.
	for _, role := range []trading.Role{trading.RoleBidder, trading.RoleAgent} {
		for _, p := range []string{"/reports/savings", "/reports/savings.csv", "/reports/savings.xlsx", "/api/v1/reports/savings"} {
			if code, _, _ := clients[role].get(e, p); code != http.StatusForbidden {
				t.Errorf("%s %s = %d, want 403", role, p, code)
			}
		}
	}
	anon := reportClient{}
	if code, _, h := anon.get(e, "/reports/savings?year=2025"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login?next=") {
		t.Errorf("anonymous page = %d %s", code, h.Get("Location"))
	}
	if code, _, _ := anon.get(e, "/api/v1/reports/savings"); code != http.StatusUnauthorized {
		t.Errorf("anonymous API = %d", code)
	}
}
