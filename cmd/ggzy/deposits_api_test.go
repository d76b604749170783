package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// A deposit's way back through the API, every call validated against
// openapi.json: the bank pays (signed notification), the supervisor imports
// a statement and lists the inflows, the bidder withdraws (D6), the refund
// waits in the queue, goes out in a batch whose instruction file downloads,
// and is confirmed paid. Refunds answer in snake_case ("overdue",
// "occupation_fee", not Go's field names) with two-decimal amounts.
func TestDepositRefundThroughAPI(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.BankSecret = "bank-shared-secret"
	app, srv := newTestServer(t, cfg)
	number, _ := depositLot(t, app)
	lot := lotOfAccount(t, app, number)
	u := func(f string, a ...any) string { return srv.URL + "/api/v1" + fmt.Sprintf(f, a...) }
	sup, bidder := apiToken(t, srv.URL, "jiandu", "jiandu2026"), apiToken(t, srv.URL, "jiekou", "jiekou2026")

	body, _ := json.Marshal(map[string]string{"txn_id": "RF-0001", "value_time": testNow.Add(48 * time.Hour).Format(time.RFC3339),
		"virtual_account": number, "payer_name": "福建接口建设有限公司", "payer_account": "6222000011112222", "payer_bank": "某银行",
		"amount": "200000", "currency": "CNY"})
	req, _ := http.NewRequest("POST", u("/bank/notifications"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Bank-Signature", sign(cfg.BankSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("bank notification: %d", resp.StatusCode)
	}

	// A statement with one unknown account: imported into suspense.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, _ := mw.CreateFormFile("file", "statement.csv")
	part.Write([]byte("交易流水号,交易日期,交易时间,虚拟子账号,付款人名称,付款人账号,付款行,金额,币种,摘要\n" +
		"RF-I-1,2026-03-04,10:00:00,99999999999999999,某公司,6222999,某银行,500.00,CNY,\n"))
	mw.Close()
	req, _ = http.NewRequest("POST", u("/deposits/statements"), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+sup)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var imported map[string]any
	json.NewDecoder(resp.Body).Decode(&imported)
	resp.Body.Close()
	if resp.StatusCode != 200 || imported["lines"] != float64(1) || imported["suspense"] != float64(1) {
		t.Fatalf("statement: %d %v", resp.StatusCode, imported)
	}
	var inflows struct {
		Items []map[string]any `json:"items"`
	}
	if code := call(t, "GET", u("/deposits/inflows"), sup, nil, &inflows); code != 200 || len(inflows.Items) != 2 {
		t.Fatalf("inflows: %d %v", code, inflows)
	}
	for _, in := range inflows.Items {
		if a := in["amount"]; a != "200000.00" && a != "500.00" {
			t.Fatalf("inflow amount %v", a)
		}
	}

	if code := call(t, "DELETE", u("/lots/%d/registration", lot), bidder, nil, nil); code != 204 {
		t.Fatalf("withdraw: %d", code)
	}
	var refunds struct {
		Items []map[string]any `json:"items"`
	}
	if code := call(t, "GET", u("/deposits/refunds"), sup, nil, &refunds); code != 200 || len(refunds.Items) != 1 {
		t.Fatalf("refunds: %d %v", code, refunds)
	}
	r := refunds.Items[0]
	if r["principal"] != "200000.00" || r["occupation_fee"] == nil || r["overdue"] == nil || r["rule"] != "D6" {
		t.Fatalf("refund: %v", r)
	}
	for _, goName := range []string{"Overdue", "OccupationFee"} {
		if _, ok := r[goName]; ok {
			t.Errorf("Go field name %q in the refund: %v", goName, r)
		}
	}
	// G7's exception applies to procurement deposits only: this one (D6, an
	// engineering tender) is refused under G7, and a bidder may not ask.
	rid := int64(r["id"].(float64))
	var e trading.ErrorBody
	waiver := map[string]string{"from": "2026-03-02", "reason": "供应商提供的收款账户已销户"}
	if code := call(t, "PUT", u("/deposits/refunds/%d/fee-waiver", rid), sup, waiver, &e); code != 422 || e.Error.Rule != "G7" {
		t.Fatalf("fee waiver of an engineering refund: %d %+v", code, e)
	}
	if code := call(t, "PUT", u("/deposits/refunds/%d/fee-waiver", rid), bidder, waiver, &e); code != 403 {
		t.Fatalf("fee waiver by a bidder: %d %+v", code, e)
	}
	if code := call(t, "DELETE", u("/deposits/refunds/%d/fee-waiver", rid), sup, nil, &e); code != 422 || e.Error.Rule != "G7" {
		t.Fatalf("fee waiver taken back on an engineering refund: %d %+v", code, e)
	}
	var batch map[string]any
	if code := call(t, "POST", u("/deposits/refund-batches"), sup, nil, &batch); code != 201 || batch["refunds"] != float64(1) {
		t.Fatalf("batch: %d %v", code, batch)
	}
	req, _ = http.NewRequest("GET", u("/deposits/refund-batches/%d/file", int64(batch["id"].(float64))), nil)
	req.Header.Set("Authorization", "Bearer "+sup)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !bytes.Contains(file, []byte("200000.00")) {
		t.Fatalf("instruction file: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), file)
	}
	var changed map[string]bool
	id := int64(r["id"].(float64))
	if code := call(t, "POST", u("/deposits/refunds/%d/confirm", id), sup, map[string]any{"paid": true}, &changed); code != 200 || !changed["changed"] {
		t.Fatalf("confirm: %d %v", code, changed)
	}
	if code := call(t, "POST", u("/deposits/refunds/%d/confirm", id), sup, map[string]any{"paid": true}, &changed); code != 200 || changed["changed"] {
		t.Fatalf("confirm again: %d %v", code, changed)
	}
}

// A bank guarantee (保函) instead of cash, through the validated API: the
// bidder submits it, lists its own, the supervisor lists the lot's and
// verifies it; amounts come back with two decimals.
func TestGuaranteeThroughAPI(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	number, _ := depositLot(t, app)
	lot := lotOfAccount(t, app, number)
	u := func(f string, a ...any) string { return srv.URL + "/api/v1" + fmt.Sprintf(f, a...) }
	sup, bidder := apiToken(t, srv.URL, "jiandu", "jiandu2026"), apiToken(t, srv.URL, "jiekou", "jiekou2026")

	var g map[string]any
	if code := call(t, "POST", u("/guarantees"), bidder, map[string]any{"lot_id": lot, "kind": "bank", "number": "BH-API-1",
		"issuer": "某某农村商业银行 福州分行", "amount": "200000", "valid_until": "2026-06-30"}, &g); code != 201 ||
		g["amount"] != "200000.00" || g["required"] != "200000.00" || g["status"] != "submitted" {
		t.Fatalf("submit: %d %v", code, g)
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if code := call(t, "GET", u("/me/guarantees"), bidder, nil, &list); code != 200 || len(list.Items) != 1 {
		t.Fatalf("mine: %d %v", code, list)
	}
	if code := call(t, "GET", u("/lots/%d/guarantees", lot), sup, nil, &list); code != 200 || len(list.Items) != 1 {
		t.Fatalf("lot's: %d %v", code, list)
	}
	id := int64(list.Items[0]["id"].(float64))
	var v map[string]any
	if code := call(t, "POST", u("/guarantees/%d/review", id), sup, map[string]any{"approve": true}, &v); code != 200 || v["status"] != "verified" {
		t.Fatalf("review: %d %v", code, v)
	}
}
