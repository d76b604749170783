package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// depositLot publishes an engineering lot with a deposit and registers a
// bidder; it returns the bidder's virtual account number.
func depositLot(t *testing.T, app *App) (string, trading.Actor) {
	t.Helper()
	ctx := context.Background()
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	p, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "engineering", Title: "保证金接口测试工程",
		OwnerName: "福州市某局", RegionCode: "350100", Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "12000000.00", Deposit: "200000.00",
			DocIssueStart: testNow.Add(24 * time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 8).Format(time.RFC3339),
			BidDeadline: testNow.AddDate(0, 0, 22).Format(time.RFC3339)}}})
	if err != nil {
		t.Fatal(err)
	}
	publishAnnouncement(t, app, agent, sup, p.Code, "tender", "保证金接口测试工程招标公告")
	app.Clock.(*trading.ManualClock).Advance(48 * time.Hour)
	acc, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: "福建接口建设有限公司",
		IDNumber: "91350100M000100Y43", LegalRep: "张三", Phone: "13800138000", Email: "x@example.com", Username: "jiekou", Password: "jiekou2026"})
	if err != nil {
		t.Fatal(err)
	}
	b := trading.Actor{AccountID: acc.ID, Username: "jiekou", Role: trading.RoleBidder}
	if _, err := app.Bidding.Register(ctx, b, p.Lots[0].ID, bidding.RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	var va deposits.VirtualAccount
	if err := app.DB.Where("bidder_id = ?", acc.ID).First(&va).Error; err != nil {
		t.Fatal(err)
	}
	return va.Number, b
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestBankWebhookSignedAndIdempotent(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.BankSecret = "bank-shared-secret"
	app, srv := newTestServer(t, cfg)
	number, _ := depositLot(t, app)
	// Dated now by the platform's clock (depositLot moved it 48 h on): a
	// value time in the future is refused.
	body, _ := json.Marshal(map[string]string{"txn_id": "WH-0001", "value_time": testNow.Add(48 * time.Hour).Format(time.RFC3339),
		"virtual_account": number, "payer_name": "福建接口建设有限公司", "payer_account": "6222000011112222", "payer_bank": "某银行",
		"amount": "200000.00", "currency": "CNY"})
	post := func(sig string, b []byte) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/bank/notifications", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Bank-Signature", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	count := func() int64 {
		var n int64
		app.DB.Model(&deposits.StoredInflow{}).Count(&n)
		return n
	}
	if code, _ := post("", body); code != 401 || count() != 0 {
		t.Fatalf("no signature: %d, %d stored", code, count())
	}
	if code, _ := post(sign("wrong", body), body); code != 401 || count() != 0 {
		t.Fatalf("bad signature: %d, %d stored", code, count())
	}
	for i := 0; i < 3; i++ {
		code, out := post(sign(cfg.BankSecret, body), body)
		if code != 200 || out["new"] != (i == 0) {
			t.Fatalf("delivery %d: %d %v", i, code, out)
		}
	}
	if count() != 1 {
		t.Fatalf("%d inflows after three deliveries", count())
	}
	for _, amount := range []string{"1e3", "10.001", "-1.00"} {
		b := bytes.Replace(body, []byte(`"200000.00"`), []byte(`"`+amount+`"`), 1)
		b = bytes.Replace(b, []byte("WH-0001"), []byte("WH-"+amount), 1)
		code, out := post(sign(cfg.BankSecret, b), b)
		if code != 400 || !strings.Contains(fmt.Sprint(out), "amount") {
			t.Fatalf("amount %s: %d %v", amount, code, out)
		}
	}
	if count() != 1 {
		t.Fatal("a refused amount was stored")
	}
}

// Issue 13, item 7: a transaction id repeated with different content is
// 409 and alerts the supervisors (once); an identical replay stays 200; a
// value time in 1970, in the future or before the account existed is 400.
func TestBankWebhookRepeatedDifferentlyAndValueDates(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.BankSecret = "bank-shared-secret"
	app, srv := newTestServer(t, cfg)
	number, _ := depositLot(t, app)
	now := app.Clock.Now()
	notice := func(txn string, at time.Time, amount string) []byte {
		b, _ := json.Marshal(map[string]string{"txn_id": txn, "value_time": at.Format(time.RFC3339), "virtual_account": number,
			"payer_name": "福建接口建设有限公司", "payer_account": "6222000011112222", "payer_bank": "某银行", "amount": amount, "currency": "CNY"})
		return b
	}
	post := func(b []byte) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/bank/notifications", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Bank-Signature", sign(cfg.BankSecret, b))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		out.ReadFrom(resp.Body)
		return resp.StatusCode, out.String()
	}
	count := func() int64 {
		var n int64
		app.DB.Model(&deposits.StoredInflow{}).Count(&n)
		return n
	}
	sup := actorOf(t, app, "jiandu")
	duplicates := func() []deposits.Alert {
		all, err := app.Deposits.Alerts(context.Background(), sup)
		if err != nil {
			t.Fatal(err)
		}
		var out []deposits.Alert
		for _, a := range all {
			if a.Kind == "DUPLICATE" {
				out = append(out, a)
			}
		}
		return out
	}
	if code, body := post(notice("WH-1", now, "200000.00")); code != 200 {
		t.Fatalf("first delivery: %d %s", code, body)
	}
	for i := 0; i < 2; i++ {
		code, body := post(notice("WH-1", now, "1.00"))
		if code != 409 || !strings.Contains(body, "重复但内容不同") || !strings.Contains(body, "txn_id") {
			t.Fatalf("repeated with another amount, try %d: %d %s", i, code, body)
		}
	}
	if dups := duplicates(); len(dups) != 1 || !strings.Contains(dups[0].Detail, "金额 原为“200000.00”，此次为“1.00”") || dups[0].LotID == nil {
		t.Fatalf("alerts: %+v", dups)
	}
	if code, body := post(notice("WH-1", now, "200000.00")); code != 200 || !strings.Contains(body, `"repeated":1`) {
		t.Fatalf("identical replay: %d %s", code, body)
	}
	for what, at := range map[string]time.Time{
		"1970": time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "the future": now.Add(24 * time.Hour),
		"before the account": now.Add(-time.Hour)} {
		code, body := post(notice("WH-"+what, at, "100.00"))
		if code != 400 || !strings.Contains(body, "value_time") {
			t.Fatalf("value time %s: %d %s", what, code, body)
		}
	}
	if count() != 1 {
		t.Fatalf("%d inflows stored", count())
	}
	// The supervisors' inflows page and dashboard show it.
	page := newBrowser(t, srv.URL)
	page.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
	if code, body := page.get("/supervisor/deposits"); code != 200 || !strings.Contains(body, "交易流水号重复但内容不同：交易流水号 WH-1") {
		t.Fatalf("inflows page: %d", code)
	}
	alerts, err := deposits.SupervisionSource{Svc: app.Deposits}.Alerts(context.Background(), app.Clock.Now(), 50)
	found := false
	for _, a := range alerts {
		found = found || a.Kind == "deposit_duplicate"
	}
	if err != nil || !found {
		t.Fatalf("dashboard: %+v %v", alerts, err)
	}
	rep, err := app.Deposits.Verify(context.Background(), nil)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("books: %+v %v", rep, err)
	}
	if n, problem, err := trading.VerifyAudit(context.Background(), app.DB); err != nil || problem != nil {
		t.Fatalf("audit chain after %d rows: %v %v", n, problem, err)
	}
}

func TestDepositsImportAndVerifyCommands(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	app, _ := newTestServer(t, cfg)
	number, _ := depositLot(t, app)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("交易流水号,交易日期,交易时间,虚拟子账号,付款人名称,付款人账号,付款行,金额,币种,摘要\n"+
		"F001,2026-03-05,10:00:00,"+number+",福建接口建设有限公司,6222001,某银行,200000.00,CNY,保证金\n"), 0o644)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("交易流水号,交易日期,交易时间,虚拟子账号,付款人名称,付款人账号,付款行,金额,币种,摘要\n"+
		"F002,2026-03-05,10:00:00,"+number+",福建接口建设有限公司,6222001,某银行,100.00,CNY,保证金\n"+
		"F003,2026-03-05,10:00:00,"+number+",福建接口建设有限公司,6222001,某银行,10.001,CNY,保证金\n"), 0o644)
	flags := flagsOf(cfg)
	if _, err := runCmd(t, "", append([]string{"deposits", "import", bad}, flags...)...); err == nil || !strings.Contains(err.Error(), "第 3 行") {
		t.Fatalf("bad file: %v", err)
	}
	for i, want := range []string{"1 new", "0 new"} {
		out, err := runCmd(t, "", append([]string{"deposits", "import", good}, flags...)...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("import %d: %v %s", i, err, out)
		}
	}
	if out, err := runCmd(t, "", append([]string{"deposits", "verify", "--balance", "200000.00"}, flags...)...); err != nil || !strings.Contains(out, "balance") {
		t.Fatalf("verify: %v %s", err, out)
	}
	if _, err := runCmd(t, "", append([]string{"deposits", "verify", "--balance", "1.00"}, flags...)...); err == nil {
		t.Fatal("verify accepted a wrong statement balance")
	}
}

func TestDepositPagesBidderAndSupervisor(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	number, bidder := depositLot(t, app)
	ctx := context.Background()
	at := app.Clock.Now()
	if _, err := app.Deposits.Receive(ctx, trading.SystemActor, deposits.SourceWebhook, []deposits.Inflow{{BankTxnID: "P1", VirtualAccount: number,
		PayerName: "福建接口建设有限公司", PayerAccount: "6222001", Amount: mustDecimal("150000.00"), Currency: "CNY", ValueTime: at}}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL)
	b.post("/login", "/login", url.Values{"username": {"jiekou"}, "password": {"jiekou2026"}})
	code, body := b.get("/my/deposits")
	if code != 200 || !strings.Contains(body, number) || !strings.Contains(body, "缴纳不足") || !strings.Contains(body, "50,000.00") {
		t.Fatalf("bidder page: %d", code)
	}
	// The bidder withdraws: the deposit is queued for refund (D6).
	if err := app.Bidding.Withdraw(ctx, bidder, lotOfAccount(t, app, number)); err != nil {
		t.Fatal(err)
	}
	sup := newBrowser(t, srv.URL)
	sup.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
	code, body = sup.post("/supervisor/refunds", "/supervisor/refunds/batches", url.Values{})
	if code != 200 || !strings.Contains(body, "已生成退款批次") {
		t.Fatalf("create batch: %d", code)
	}
	var batch int64
	app.DB.Raw("SELECT max(id) FROM refund_batches").Scan(&batch)
	code, file := sup.get(fmt.Sprintf("/supervisor/refunds/batches/%d/file", batch))
	if code != 200 || !strings.Contains(file, "6222001") || !strings.Contains(file, "150000.00") {
		t.Fatalf("instruction file: %d %s", code, file)
	}
	var refund int64
	app.DB.Raw("SELECT id FROM refunds").Scan(&refund)
	for i := 0; i < 2; i++ {
		code, body = sup.post("/supervisor/refunds", fmt.Sprintf("/supervisor/refunds/%d/confirm", refund), url.Values{"result": {"paid"}})
		want := map[int]string{0: "已确认退款成功", 1: "未重复记账"}[i]
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("confirm %d: %d", i, code)
		}
	}
	if code, _ := b.get("/supervisor/refunds"); code != 403 {
		t.Fatalf("bidder on the refunds page: %d", code)
	}
	rep, err := app.Deposits.Verify(ctx, nil)
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("books: %+v %v", rep, err)
	}
}

func mustDecimal(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func lotOfAccount(t *testing.T, app *App, number string) int64 {
	var va deposits.VirtualAccount
	if err := app.DB.Where("number = ?", number).First(&va).Error; err != nil {
		t.Fatal(err)
	}
	return va.LotID
}

func TestDepositSheetExcel(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	number, _ := depositLot(t, app)
	if _, err := app.Deposits.Receive(context.Background(), trading.SystemActor, deposits.SourceWebhook, []deposits.Inflow{{BankTxnID: "X1",
		VirtualAccount: number, PayerName: "福建接口建设有限公司", PayerAccount: "6222001", Amount: mustDecimal("123456.78"), Currency: "CNY",
		ValueTime: app.Clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	var code string
	app.DB.Raw("SELECT p.code FROM projects p JOIN lots l ON l.project_id = p.id JOIN virtual_accounts va ON va.lot_id = l.id WHERE va.number = ?", number).Scan(&code)
	sup := newBrowser(t, srv.URL)
	sup.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
	status, body := sup.get("/supervisor/projects/" + code + "/deposits.xlsx")
	if status != 200 {
		t.Fatalf("sheet: %d", status)
	}
	f, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("保证金台账")
	if len(rows) != 2 || rows[0][2] != "投标人" || rows[1][4] != number || rows[1][7] != "123,456.78" || rows[1][6] != "200,000.00" {
		t.Fatalf("rows: %q", rows)
	}
	looks, _ := trading.ListAudit(context.Background(), app.DB, trading.AuditFilter{Action: "deposit.sheet"})
	if len(looks) != 1 {
		t.Fatal("the export is not in the audit log")
	}
	agent := newBrowser(t, srv.URL)
	agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	if status, _ := agent.get("/supervisor/projects/" + code + "/deposits.xlsx"); status != 403 {
		t.Fatalf("agent: %d", status)
	}
}

// The supervisor's inflows page: manual entry with a reason, and a
// statement uploaded the way the page's script sends it.
func TestSupervisorInflowsPageManualAndImport(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	number, _ := depositLot(t, app)
	sup := newBrowser(t, srv.URL)
	sup.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
	form := url.Values{"txn_id": {"M-1"}, "value_time": {app.Clock.Now().In(trading.Shanghai).Format("2006-01-02T15:04")},
		"virtual_account": {number}, "payer_name": {"福建接口建设有限公司"}, "payer_account": {"6222001"}, "amount": {"10.001"}, "reason": {"银行回单补录"}}
	if code, body := sup.post("/supervisor/deposits", "/supervisor/deposits/manual", form); code != 400 || !strings.Contains(body, "amount") {
		t.Fatalf("bad amount: %d", code)
	}
	form.Set("amount", "200000.00")
	form.Set("reason", "")
	if code, _ := sup.post("/supervisor/deposits", "/supervisor/deposits/manual", form); code != 400 {
		t.Fatalf("no reason: %d", code)
	}
	form.Set("reason", "银行回单补录")
	if code, body := sup.post("/supervisor/deposits", "/supervisor/deposits/manual", form); code != 200 || !strings.Contains(body, "已录入：有效") {
		t.Fatalf("manual entry: %d", code)
	}
	// The import form, as its script sends it: multipart, token in a header.
	_, page := sup.get("/supervisor/deposits")
	token := csrfRe.FindStringSubmatch(page)[1]
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, _ := mw.CreateFormFile("file", "statement.csv")
	part.Write([]byte("交易流水号,交易日期,交易时间,虚拟子账号,付款人名称,付款人账号,付款行,金额,币种,摘要\n" +
		"I-1,2026-03-05,10:00:00,99999999999999999,某公司,6222999,某银行,500.00,CNY,\n"))
	mw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/supervisor/deposits/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", token)
	resp, err := sup.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("Location") != "/supervisor/deposits" {
		t.Fatalf("import: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, body := sup.get("/supervisor/deposits?status=suspense")
	if code != 200 || !strings.Contains(body, "I-1") || !strings.Contains(body, "退回付款人") {
		t.Fatalf("suspense list: %d", code)
	}
}
