package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/ggzy/ggzy/trading/supervision"

	"github.com/ggzy/ggzy/trading"
)

func apiToken(t *testing.T, base, username, password string) string {
	t.Helper()
	var tok trading.TokenResponse
	if code := call(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"username": username, "password": password}, &tok); code != 200 {
		t.Fatalf("login %s: %d", username, code)
	}
	return tok.Token
}

// On-site supervision over HTTP: only supervisors see the dashboard and
// timelines and suspend or resume; a suspended project refuses registration
// with its reason and says so on the agent's, the public and the lot page.
func TestSupervisionOverHTTP(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	_, bidder := depositLot(t, app)
	ctx := context.Background()
	var p trading.Project
	if err := app.DB.Preload("Lots").First(&p).Error; err != nil {
		t.Fatal(err)
	}
	lot := p.Lots[0].ID
	sup, agent, bid := apiToken(t, srv.URL, "jiandu", "jiandu2026"), apiToken(t, srv.URL, "daili", "daili2026"),
		apiToken(t, srv.URL, "jiekou", "jiekou2026")

	var e trading.ErrorBody
	for _, path := range []string{"/api/v1/supervision/dashboard", "/api/v1/supervision/projects/" + p.Code} {
		for _, tok := range []string{agent, bid} {
			if code := call(t, "GET", srv.URL+path, tok, nil, &e); code != 403 {
				t.Fatalf("GET %s by a non-supervisor: %d", path, code)
			}
		}
		if code := call(t, "GET", srv.URL+path, "", nil, &e); code != 401 {
			t.Fatalf("GET %s anonymously: %d", path, code)
		}
	}
	for _, tok := range []string{agent, bid} {
		if code := call(t, "POST", srv.URL+"/api/v1/projects/"+p.Code+"/suspend", tok, map[string]string{"reason": "越权暂停"}, &e); code != 403 {
			t.Fatalf("suspend by a non-supervisor: %d", code)
		}
		if code := call(t, "POST", srv.URL+"/api/v1/projects/"+p.Code+"/resume", tok, nil, &e); code != 403 {
			t.Fatalf("resume by a non-supervisor: %d", code)
		}
	}
	if code := call(t, "POST", srv.URL+"/api/v1/projects/"+p.Code+"/suspend", sup, map[string]string{"reason": "停"}, &e); code != 400 || e.Error.Field != "reason" {
		t.Fatalf("one-character reason: %d %+v", code, e)
	}
	const reason = "收到异议，暂停报名待核查。" // typed with its full stop: pages must not say "。。"
	var pj trading.ProjectJSON
	if code := call(t, "POST", srv.URL+"/api/v1/projects/"+p.Code+"/suspend", sup, map[string]string{"reason": reason}, &pj); code != 200 ||
		pj.SuspendReason != reason || pj.SuspendedAt == nil {
		t.Fatalf("suspend: %d %+v", code, pj)
	}
	if code := call(t, "POST", srv.URL+"/api/v1/projects/"+p.Code+"/suspend", sup, map[string]string{"reason": reason}, &e); code != 409 {
		t.Fatalf("suspended twice: %d", code)
	}

	// The registered bidder withdraws and tries again: refused, saying why.
	if err := app.Bidding.Withdraw(ctx, bidder, lot); err != nil {
		t.Fatal(err)
	}
	regURL := fmt.Sprintf("%s/api/v1/lots/%d/registration", srv.URL, lot)
	if code := call(t, "POST", regURL, bid, map[string]any{}, &e); code != 409 || e.Error.Code != "suspended" ||
		!strings.Contains(e.Error.Message, strings.TrimSuffix(reason, "。")) || strings.Contains(e.Error.Message, "。。") {
		t.Fatalf("registration while suspended: %d %+v", code, e)
	}
	for _, path := range []string{"/projects/" + p.Code, fmt.Sprintf("/lots/%d", lot)} {
		if code, body := newBrowser(t, srv.URL).get(path); code != 200 || !strings.Contains(body, `id="suspension"`) || !strings.Contains(body, reason) ||
			strings.Contains(body, "。。") {
			t.Fatalf("%s does not show the suspension: %d", path, code)
		}
	}
	ab := newBrowser(t, srv.URL)
	ab.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	if code, body := ab.get("/agent/projects/" + p.Code); code != 200 || !strings.Contains(body, reason) {
		t.Fatalf("agent's project page: %d", code)
	}
	if code, _ := ab.get("/supervise"); code != 403 {
		t.Fatalf("agent on the dashboard: %d", code)
	}

	var d supervision.Dashboard
	if code := call(t, "GET", srv.URL+"/api/v1/supervision/dashboard", sup, nil, &d); code != 200 || d.Suspended.Count != 1 ||
		d.Suspended.Items[0].Code != p.Code || len(d.Audit.Items) == 0 {
		t.Fatalf("dashboard: %d %+v", code, d)
	}
	var tl supervision.TimelineJSON
	if code := call(t, "GET", srv.URL+"/api/v1/supervision/projects/"+p.Code, sup, nil, &tl); code != 200 || tl.Project.Code != p.Code {
		t.Fatalf("timeline: %d %+v", code, tl)
	}
	kinds := map[string]int{}
	for _, ev := range tl.Events {
		kinds[ev.Kind]++
	}
	if kinds["announcement"] == 0 || kinds["registration"] != 1 || kinds["audit"] == 0 {
		t.Fatalf("timeline kinds: %v", kinds)
	}

	// The supervisor's pages, and resuming through the form.
	sb := newBrowser(t, srv.URL)
	sb.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
	if code, body := sb.get("/supervise"); code != 200 || !strings.Contains(body, "现场监督工作台") || !strings.Contains(body, `href="/supervise"`) ||
		!strings.Contains(body, "/supervise/projects/"+p.Code) {
		t.Fatalf("dashboard page: %d", code)
	}
	if code, body := sb.get("/supervise/projects/" + p.Code); code != 200 || !strings.Contains(body, `id="resume-form"`) || !strings.Contains(body, "报名") {
		t.Fatalf("timeline page: %d", code)
	}
	if code, body := sb.post("/supervise/projects/"+p.Code, "/supervise/projects/"+p.Code+"/resume", url.Values{"reason": {"异议不成立"}}); code != 200 ||
		!strings.Contains(body, "项目已恢复") || !strings.Contains(body, `id="suspend-form"`) {
		t.Fatalf("resume form: %d", code)
	}
	if code, body := sb.post("/supervise/projects/"+p.Code, "/supervise/projects/"+p.Code+"/suspend", url.Values{"reason": {"x"}}); code != 400 ||
		!strings.Contains(body, "暂停须写明理由") {
		t.Fatalf("suspend form without a reason: %d", code)
	}
	if code := call(t, "POST", srv.URL+"/api/v1/projects/"+p.Code+"/resume", sup, nil, &e); code != 409 {
		t.Fatalf("resumed twice: %d", code)
	}
	if code := call(t, "POST", regURL, bid, map[string]any{}, nil); code != 201 {
		t.Fatalf("registration after resume: %d", code)
	}
}
