package main

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/ggzy/ggzy/trading/report"

	"github.com/ggzy/ggzy/trading"
)

// seedReportLots inserts decided lots (category, region, status, base,
// result, date) with their parent projects and lots, in SQL.
func seedReportLots(t *testing.T, databaseURL string, rows [][6]string) {
	t.Helper()
	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO accounts (username, password_hash, role, display_name, created_at, updated_at)
		VALUES ('reportagent', 'x', 'agent', '统计代理', now(), now())`); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		var base, result any
		if r[2] == "completed" {
			base, result = r[3], r[4]
		}
		if _, err := db.Exec(`WITH p AS (
				INSERT INTO projects (code, category, title, owner_name, region_code, agent_id, status, created_at, updated_at)
				SELECT 'CLI-' || $1::text, $2, '统计测试项目', '某单位', $3, id, 'active', now(), now() FROM accounts WHERE username = 'reportagent'
				RETURNING id, category, region_code),
			l AS (INSERT INTO lots (project_id, seq, name) SELECT id, 1, '一标段' FROM p RETURNING id, project_id)
			INSERT INTO lot_outcomes (lot_id, project_id, category, region_code, status, base, result, decided_on, updated_at)
			SELECT l.id, p.id, p.category, p.region_code, $4, $5::numeric, $6::numeric, $7::date, now() FROM l JOIN p ON p.id = l.project_id`,
			strconv.Itoa(i), r[0], r[1], r[2], base, result, r[5]); err != nil {
			t.Fatal(err)
		}
	}
}

var reportLots = [][6]string{
	{"engineering", "350102", "completed", "12000000.00", "11000000.55", "2025-01-15"},
	{"engineering", "350200", "completed", "3000000.00", "3300000.00", "2025-06-30"},
	{"engineering", "350200", "failed", "", "", "2025-07-01"},
	{"procurement", "350100", "completed", "18959900.00", "17517600.00", "2025-03-03"},
	{"procurement", "350100", "completed", "1442300.00", "1442300.00", "2025-12-31"},
	{"land", "350121", "completed", "50000000.00", "65432100.00", "2025-09-09"},
	{"property", "350900", "cancelled", "", "", "2025-10-10"},
}

func TestReportSavingsCommand(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	seedReportLots(t, cfg.DatabaseURL, reportLots)
	flags := flagsOf(cfg)
	out, err := runCmd(t, "", append([]string{"report", "savings", "--year", "2025"}, flags...)...)
	want := "完成工程建设招标项目2宗，涉及项目总控制价为1500.00万元，总中标金额为1430.00万元，节约资金70.00万元，节约率为4.67%。" +
		"完成政府采购2宗，财政预算资金为2040.22万元，实际采购金额为1895.99万元，节约144.23万元，节约率为7.07%。" +
		"完成土地拍卖1宗，成交金额总计6543.21万元。完成产权交易0宗，成交金额0.00万元。\n"
	if err != nil || out != want {
		t.Fatalf("report savings --year 2025: %v\n%s", err, out)
	}
	out, err = runCmd(t, "", append([]string{"report", "savings", "--from", "2025-06-01", "--to", "2025-06-30", "--category", "engineering", "--region", "350200"}, flags...)...)
	if err != nil || !strings.Contains(out, "完成工程建设招标项目1宗，涉及项目总控制价为300.00万元，总中标金额为330.00万元，节约资金-30.00万元，节约率为-10.00%。") {
		t.Fatalf("engineering in June, 350200: %v\n%s", err, out)
	}
	_, err = runCmd(t, "", append([]string{"report", "savings", "--from", "2025-06-31", "--to", "2025-07-01"}, flags...)...)
	var e *trading.Error
	if !errors.As(err, &e) || e.Field != "from" {
		t.Fatalf("bad date: %v", err)
	}
	var ue usageError
	if _, err := runCmd(t, "", "report", "losses"); !errors.As(err, &ue) {
		t.Fatalf("report losses: %v", err)
	}
}

// The server wires the report: supervisors read the API, bidders do not.
func TestReportSavingsServed(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	app, srv := newTestServer(t, cfg)
	seedReportLots(t, cfg.DatabaseURL, reportLots)
	mustCreate(t, app, trading.RoleSupervisor, "reportsup", "secret123")
	token, _, err := app.Trading.Login(context.Background(), trading.SessionAPI, "reportsup", "secret123", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	var rep report.JSON
	if code := call(t, "GET", srv.URL+"/api/v1/reports/savings?from=2025-01-01&to=2025-12-31&category=procurement", token, nil, &rep); code != 200 ||
		len(rep.Totals) != 1 || rep.Totals[0].RatePercent != "7.07" {
		t.Fatalf("API: %d %+v", code, rep)
	}
	var eb trading.ErrorBody
	if code := call(t, "GET", srv.URL+"/api/v1/reports/savings?from=2025-02-01&to=2025-01-01", token, nil, &eb); code != 400 || eb.Error.Field != "to" {
		t.Fatalf("from after to: %d %+v", code, eb)
	}
	if code := call(t, "GET", srv.URL+"/api/v1/reports/savings", "", nil, &eb); code != 401 {
		t.Fatalf("anonymous: %d", code)
	}
}
