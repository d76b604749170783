package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// A land lot sold on site, from the draft to the deal, through the API
// alone and validated against openapi.json: the agent drafts and edits the
// project and its announcement, withdraws and resubmits it; the supervisor
// publishes, suspends and resumes; two buyers sign up and apply, one is
// approved and one rejected; the approved one pays; the agent records the
// deal, which answers with the result announcement in snake_case.
func TestLandLotThroughAPI(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.BankSecret = "bank-shared-secret"
	app, srv := newTestServer(t, cfg)
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	u := func(f string, a ...any) string { return srv.URL + "/api/v1" + fmt.Sprintf(f, a...) }
	agent, sup := apiToken(t, srv.URL, "daili", "daili2026"), apiToken(t, srv.URL, "jiandu", "jiandu2026")
	clock := app.Clock.(*trading.ManualClock)

	auctionAt := testNow.AddDate(0, 0, 30)
	project := map[string]any{"category": "land", "title": "榕土2026-30号地块出让", "owner_name": "福州市自然资源局", "region_code": "350100",
		"lots": []map[string]any{{"name": "榕土2026-30号地块", "starting_price": "5000000", "reserve_price": "5100000.00",
			"increment": "100000", "deposit": "1000000", "auction_at": auctionAt.Format(time.RFC3339)}}}
	var p map[string]any
	if code := call(t, "POST", u("/projects"), agent, project, &p); code != 201 || p["code"] == nil {
		t.Fatalf("create: %d %v", code, p)
	}
	code := p["code"].(string)
	project["title"] = "榕土2026-30号地块国有建设用地使用权出让"
	if c := call(t, "PUT", u("/projects/%s", code), agent, project, &p); c != 200 || p["title"] != project["title"] {
		t.Fatalf("update: %d %v", c, p)
	}
	lots := p["lots"].([]any)
	lot := int64(lots[0].(map[string]any)["id"].(float64))
	if lots[0].(map[string]any)["deposit"] != "1000000.00" {
		t.Fatalf("lot: %v", lots[0])
	}

	var n map[string]any
	if c := call(t, "POST", u("/projects/%s/announcements", code), agent, map[string]string{"type": "transfer", "title": "出让公告", "body": "正文"}, &n); c != 201 {
		t.Fatalf("draft: %d %v", c, n)
	}
	id := int64(n["id"].(float64))
	if c := call(t, "PUT", u("/announcements/%d", id), agent, map[string]string{"type": "transfer", "title": "国有建设用地使用权出让公告", "body": "正文"}, &n); c != 200 ||
		n["title"] != "国有建设用地使用权出让公告" {
		t.Fatalf("edit: %d %v", c, n)
	}
	for _, step := range []struct{ path, token, status string }{
		{"submit", agent, "submitted"}, {"withdraw", agent, "draft"}, {"submit", agent, "submitted"}, {"approve", sup, "published"},
	} {
		if c := call(t, "POST", u("/announcements/%d/%s", id, step.path), step.token, nil, &n); c != 200 || n["status"] != step.status {
			t.Fatalf("%s: %d %v", step.path, c, n)
		}
	}
	if c := call(t, "POST", u("/projects/%s/suspend", code), sup, map[string]string{"reason": "收到异议，暂停核查"}, &p); c != 200 || p["suspend_reason"] == nil {
		t.Fatalf("suspend: %d %v", c, p)
	}
	var resumed map[string]any
	if c := call(t, "POST", u("/projects/%s/resume", code), sup, map[string]string{"reason": "核查完毕"}, &resumed); c != 200 || resumed["suspended_at"] != nil {
		t.Fatalf("resume: %d %v", c, resumed)
	}

	clock.Advance(48 * time.Hour)
	agent = apiToken(t, srv.URL, "daili", "daili2026") // tokens follow the moved clock
	var buyers []string
	regs := map[string]int64{}
	for i, id := range []string{"91350100M000100Y43", "11010519491231002X"} {
		user := fmt.Sprintf("jingmai%d", i)
		kind := map[bool]string{true: "enterprise", false: "person"}[i == 0]
		var acc map[string]any
		if c := call(t, "POST", u("/bidders"), "", map[string]string{"kind": kind, "name": fmt.Sprintf("竞买%d置业", i), "id_number": id,
			"legal_rep": "张三", "phone": "13800138000", "email": user + "@example.com", "username": user, "password": user + "2026"}, &acc); c != 201 {
			t.Fatalf("sign up %s: %d %v", user, c, acc)
		}
		var reg map[string]any
		if c := call(t, "POST", u("/lots/%d/registration", lot), apiToken(t, srv.URL, user, user+"2026"),
			map[string]string{"contact_name": "王五", "contact_phone": "13900000000"}, &reg); c != 201 || reg["status"] != "pending" {
			t.Fatalf("apply %s: %d %v", user, c, reg)
		}
		buyers = append(buyers, id)
		regs[id] = int64(reg["id"].(float64))
	}
	var reg map[string]any
	if c := call(t, "POST", u("/registrations/%d/approve", regs[buyers[0]]), agent, nil, &reg); c != 200 || reg["status"] != "approved" {
		t.Fatalf("approve: %d %v", c, reg)
	}
	var rejected map[string]any
	if c := call(t, "POST", u("/registrations/%d/reject", regs[buyers[1]]), agent, map[string]string{"reason": "材料不全"}, &rejected); c != 200 ||
		rejected["status"] != "rejected" || rejected["reject_reason"] != "材料不全" {
		t.Fatalf("reject: %d %v", c, rejected)
	}
	var va struct{ Number string }
	if err := app.DB.Raw("SELECT number FROM virtual_accounts WHERE registration_id = ?", regs[buyers[0]]).Scan(&va).Error; err != nil || va.Number == "" {
		t.Fatalf("virtual account: %v", err)
	}
	body, _ := json.Marshal(map[string]string{"txn_id": "LAND-1", "value_time": clock.Now().Format(time.RFC3339), "virtual_account": va.Number,
		"payer_name": "竞买0置业", "payer_account": "6222000011119999", "amount": "1000000.00", "currency": "CNY"})
	req, _ := http.NewRequest("POST", u("/bank/notifications"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Bank-Signature", sign(cfg.BankSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("pay: %d", resp.StatusCode)
	}

	clock.Set(auctionAt.Add(2 * time.Hour))
	// The agent's page names the buyer as a land lot's is named (竞得人,
	// 39号令), not 受让方, which is property's (32号令).
	ab := newBrowser(t, srv.URL)
	ab.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	if code, page := ab.get(fmt.Sprintf("/agent/lots/%d/result", lot)); code != 200 || !strings.Contains(page, `<label>竞得人 <select name="buyer"`) ||
		strings.Contains(page, "受让方") {
		t.Fatalf("the agent's deal form does not name the land buyer 竞得人: %d", code)
	}
	agent = apiToken(t, srv.URL, "daili", "daili2026")
	if c := call(t, "POST", u("/lots/%d/result/deal", lot), agent, map[string]string{"id_number": buyers[0], "price": "5300000"}, &n); c != 200 ||
		n["type"] != "result" || n["project_code"] != code || n["status"] != "submitted" || n["ID"] != nil || n["BodyHTML"] != nil {
		t.Fatalf("deal: %d %v", c, n)
	}
}
