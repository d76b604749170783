package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// A draft project is deleted through the API by its own agent only (204,
// audited); another agent gets 404, a supervisor 403, and a project whose
// announcement is submitted 409. Every call is validated against openapi.json.
func TestDeleteDraftProjectThroughAPI(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	agent := apiLogin(t, app, srv.URL, trading.RoleAgent, "daili")
	other := apiLogin(t, app, srv.URL, trading.RoleAgent, "daili2")
	sup := apiLogin(t, app, srv.URL, trading.RoleSupervisor, "jiandu")
	issue := testNow.Add(48 * time.Hour)
	in := map[string]any{"category": "engineering", "title": "草稿删除测试工程", "owner_name": "福州市某局", "region_code": "350100",
		"lots": []map[string]any{{"name": "一标段", "control_price": "12000000.00", "deposit": "200000.00",
			"doc_issue_start": issue.Format(time.RFC3339), "doc_issue_end": issue.AddDate(0, 0, 6).Format(time.RFC3339),
			"bid_deadline": issue.AddDate(0, 0, 20).Format(time.RFC3339)}}}
	create := func() trading.ProjectJSON {
		t.Helper()
		var p trading.ProjectJSON
		if code := call(t, "POST", srv.URL+"/api/v1/projects", agent, in, &p); code != 201 {
			t.Fatalf("create: %d", code)
		}
		return p
	}
	p := create()
	var e trading.ErrorBody
	if code := call(t, "DELETE", srv.URL+"/api/v1/projects/"+p.Code, other, nil, &e); code != 404 {
		t.Fatalf("another agent deleted the draft: %d", code)
	}
	if code := call(t, "DELETE", srv.URL+"/api/v1/projects/"+p.Code, sup, nil, &e); code != 403 {
		t.Fatalf("a supervisor deleted the draft: %d", code)
	}
	if code := call(t, "DELETE", srv.URL+"/api/v1/projects/"+p.Code, agent, nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := call(t, "GET", srv.URL+"/api/v1/projects/"+p.Code, agent, nil, &e); code != 404 {
		t.Fatalf("the deleted draft is still there: %d", code)
	}
	var audited int64
	if err := app.DB.Raw(`SELECT count(*) FROM audit_events WHERE action = 'project.delete'`).Scan(&audited).Error; err != nil || audited != 1 {
		t.Fatalf("%d deletions audited (%v)", audited, err)
	}

	q := create()
	var n trading.AnnouncementJSON
	if code := call(t, "POST", srv.URL+"/api/v1/projects/"+q.Code+"/announcements", agent,
		map[string]any{"type": "tender", "title": "草稿删除测试工程招标公告", "body": "本项目已具备招标条件。"}, &n); code != 201 {
		t.Fatalf("draft: %d", code)
	}
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/announcements/%d/submit", srv.URL, n.ID), agent, nil, &n); code != 200 {
		t.Fatalf("submit: %d", code)
	}
	if code := call(t, "DELETE", srv.URL+"/api/v1/projects/"+q.Code, agent, nil, &e); code != 409 {
		t.Fatalf("a project with a submitted announcement was deleted: %d", code)
	}
}
