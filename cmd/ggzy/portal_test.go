package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading/supervision"

	"github.com/ggzy/ggzy/trading"
)

// apiLogin returns a bearer token for a new account of the role.
func apiLogin(t *testing.T, app *App, base string, role trading.Role, username string) string {
	t.Helper()
	mustCreate(t, app, role, username, username+"-pass1")
	var tok trading.TokenResponse
	if code := call(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"username": username, "password": username + "-pass1"}, &tok); code != 200 {
		t.Fatalf("login %s: %d", username, code)
	}
	return tok.Token
}

// landProject is a land transfer whose schedule suits a clock in early
// March 2026 (the test server's clock is the machine's, so the times are
// placed relative to now).
func landProject(now time.Time) map[string]any {
	start := now.AddDate(0, 0, 25)
	return map[string]any{"category": "land", "title": "<script>alert('x')</script>榕土挂牌出让项目", "owner_name": "福州市自然资源和规划局",
		"region_code": "350100", "lots": []map[string]any{{
			"name": "榕土2026-01号地块", "starting_price": "5000000.00", "reserve_price": "8765432.10", "increment": "100000.00",
			"deposit": "1000000.00", "listing_start": start.Format(time.RFC3339), "listing_end": start.AddDate(0, 0, 20).Format(time.RFC3339)}}}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAnnouncementWorkflowThroughAPI(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	agent := apiLogin(t, app, srv.URL, trading.RoleAgent, "daili")
	sup := apiLogin(t, app, srv.URL, trading.RoleSupervisor, "jiandu")
	bidder := apiLogin(t, app, srv.URL, trading.RoleAdmin, "admin") // any non-agent account

	issue := testNow.Add(48 * time.Hour)
	in := map[string]any{"category": "engineering", "title": "闽江北岸防洪堤加固工程", "owner_name": "福州市水利局", "region_code": "350100",
		"lots": []map[string]any{{"name": "一标段", "control_price": "12000000.00", "deposit": "200000.00",
			"doc_issue_start": issue.Format(time.RFC3339), "doc_issue_end": issue.AddDate(0, 0, 6).Format(time.RFC3339),
			"bid_deadline": issue.AddDate(0, 0, 19).Format(time.RFC3339)}}}
	var e trading.ErrorBody
	if code := call(t, "POST", srv.URL+"/api/v1/projects", bidder, in, &e); code != 403 {
		t.Fatalf("non-agent created a project: %d", code)
	}
	var p trading.ProjectJSON
	if code := call(t, "POST", srv.URL+"/api/v1/projects", agent, in, &p); code != 201 || !strings.HasPrefix(p.Code, "350100-") {
		t.Fatalf("create: %d %+v", code, p)
	}
	var n trading.AnnouncementJSON
	if code := call(t, "POST", srv.URL+"/api/v1/projects/"+p.Code+"/announcements", agent,
		map[string]any{"type": "tender", "title": "闽江北岸防洪堤加固工程招标公告", "body": "本项目已具备招标条件。"}, &n); code != 201 {
		t.Fatalf("draft: %d", code)
	}
	var ve struct {
		Error struct {
			Code, Rule, Field string
			Violations        []struct{ Rule string }
		}
	}
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/announcements/%d/submit", srv.URL, n.ID), agent, nil, &ve); code != 422 ||
		ve.Error.Rule != "E1" || ve.Error.Field != "lots[0].bid_deadline" || len(ve.Error.Violations) == 0 {
		t.Fatalf("19-day schedule: %d %+v", code, ve)
	}
	in["lots"].([]map[string]any)[0]["bid_deadline"] = issue.AddDate(0, 0, 20).Format(time.RFC3339)
	if code := call(t, "PUT", srv.URL+"/api/v1/projects/"+p.Code, agent, in, &p); code != 200 {
		t.Fatalf("update: %d", code)
	}
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/announcements/%d/submit", srv.URL, n.ID), agent, nil, &n); code != 200 || n.Status != "submitted" {
		t.Fatalf("submit: %d %+v", code, n)
	}
	var queue struct{ Items []trading.AnnouncementJSON }
	if code := call(t, "GET", srv.URL+"/api/v1/reviews", sup, nil, &queue); code != 200 || len(queue.Items) != 1 {
		t.Fatalf("queue: %d %+v", code, queue)
	}
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/announcements/%d/approve", srv.URL, n.ID), agent, nil, &e); code != 403 {
		t.Fatalf("agent approved: %d", code)
	}
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/announcements/%d/approve", srv.URL, n.ID), sup, map[string]string{}, &n); code != 200 || n.Status != "published" {
		t.Fatalf("approve: %d %+v", code, n)
	}
	if code := call(t, "PUT", fmt.Sprintf("%s/api/v1/announcements/%d", srv.URL, n.ID), agent,
		map[string]any{"type": "tender", "title": "改过的标题改过的", "body": "x"}, &e); code != 409 {
		t.Fatalf("edit of a published announcement: %d %+v", code, e)
	}
	if code := call(t, "PUT", srv.URL+"/api/v1/projects/"+p.Code, agent, in, &e); code != 409 {
		t.Fatalf("edit of a published project: %d", code)
	}
	var page struct {
		Items      []trading.PublicAnnouncement
		NextCursor string `json:"next_cursor"`
	}
	if code := call(t, "GET", srv.URL+"/api/v1/announcements?category=engineering&q=防洪堤", "", nil, &page); code != 200 || len(page.Items) != 1 {
		t.Fatalf("public list: %d %+v", code, page)
	}
	for _, q := range []string{"category=mining", "limit=0", "cursor=garbage", "from=yesterday", "region=35"} {
		if code := call(t, "GET", srv.URL+"/api/v1/announcements?"+q, "", nil, &e); code != 400 || e.Error.Field == "" {
			t.Errorf("bad query %s: %d %+v", q, code, e)
		}
	}
}

// A bidder, an anonymous visitor and another agent never read a reserve
// price: not on a page, in the API, in a feed or in the OCDS export.
func TestReservePriceSecrecyOverHTTP(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	agent := apiLogin(t, app, srv.URL, trading.RoleAgent, "daili")
	other := apiLogin(t, app, srv.URL, trading.RoleAgent, "daili2")
	sup := apiLogin(t, app, srv.URL, trading.RoleSupervisor, "jiandu")
	var p trading.ProjectJSON
	if code := call(t, "POST", srv.URL+"/api/v1/projects", agent, landProject(testNow), &p); code != 201 {
		t.Fatalf("create: %d", code)
	}
	var n trading.AnnouncementJSON
	call(t, "POST", srv.URL+"/api/v1/projects/"+p.Code+"/announcements", agent,
		map[string]any{"type": "listing", "title": "<script>alert('x')</script>地块挂牌出让公告", "body": "<img src=x onerror=alert(1)> 挂牌出让。"}, &n)
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/announcements/%d/submit", srv.URL, n.ID), agent, nil, &n); code != 200 {
		t.Fatalf("submit: %d", code)
	}
	if code := call(t, "POST", fmt.Sprintf("%s/api/v1/announcements/%d/approve", srv.URL, n.ID), sup, nil, &n); code != 200 {
		t.Fatalf("approve: %d", code)
	}
	// The agent and supervisors see it.
	for _, tok := range []string{agent, sup} {
		if code, body := get(t, srv.URL+"/api/v1/projects/"+p.Code, tok); code != 200 || !strings.Contains(body, "8765432.1") {
			t.Fatalf("owner/supervisor view: %d", code)
		}
	}
	if code, _ := get(t, srv.URL+"/api/v1/projects/"+p.Code, other); code != 404 {
		t.Fatalf("another agent: %d", code)
	}
	bidderB := newBrowser(t, srv.URL)
	bidderB.post("/signup", "/signup", url.Values{"kind": {"enterprise"}, "name": {"福建测试建设有限公司"}, "id_number": {"91350100M000100Y43"},
		"legal_rep": {"张三"}, "phone": {"13800138000"}, "email": {"x@example.com"}, "username": {"toubiao"}, "password": {"abcd1234"}})
	surfaces := []string{"/", "/notices", "/notices?category=land", fmt.Sprintf("/notices/%d", n.ID), "/projects/" + p.Code,
		"/feeds/land.atom", "/api/v1/announcements", fmt.Sprintf("/api/v1/announcements/%d", n.ID), "/api/v1/projects/" + p.Code + "/ocds"}
	for _, path := range surfaces {
		for who, fetch := range map[string]func() (int, string){
			"anonymous": func() (int, string) { return get(t, srv.URL+path, "") },
			"agent2":    func() (int, string) { return get(t, srv.URL+path, other) },
			"bidder":    func() (int, string) { return bidderB.get(path) },
		} {
			code, body := fetch()
			if code != 200 {
				t.Errorf("%s %s: %d", who, path, code)
			}
			for _, leak := range []string{"8765432", "8,765,432", "底价"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s sees %q on %s", who, leak, path)
				}
			}
			if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
				t.Errorf("%s: markup from an announcement is live on %s", who, path)
			}
		}
	}
	// The public pages show the announcement itself, escaped.
	for _, path := range []string{fmt.Sprintf("/notices/%d", n.ID), fmt.Sprintf("/api/v1/announcements/%d", n.ID)} {
		if _, body := get(t, srv.URL+path, ""); !strings.Contains(body, "地块挂牌出让公告") || !strings.Contains(body, p.Code) ||
			!strings.Contains(body, "挂牌出让") || !strings.Contains(body, "5,000,000.00") && !strings.Contains(body, "5000000") {
			t.Errorf("%s does not show the announcement: %.300s", path, body)
		}
	}
	// The feed is well-formed Atom with the escaped title.
	_, feed := get(t, srv.URL+"/feeds/land.atom", "")
	var f struct {
		Entries []struct {
			Title string `xml:"title"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(feed), &f); err != nil || len(f.Entries) != 1 || !strings.Contains(f.Entries[0].Title, "<script>") {
		t.Fatalf("feed: %v %+v", err, f)
	}
	var pkg struct {
		OCID     string `json:"-"`
		Releases []struct {
			OCID string `json:"ocid"`
			Tag  []string
		}
	}
	_, body := get(t, srv.URL+"/api/v1/projects/"+p.Code+"/ocds", "")
	if err := json.Unmarshal([]byte(body), &pkg); err != nil || len(pkg.Releases) != 1 || pkg.Releases[0].OCID != "ocds-ggzy00-"+p.Code {
		t.Fatalf("ocds: %v %s", err, body)
	}
	if code, _ := get(t, srv.URL+"/feeds/mining.atom", ""); code != 404 {
		t.Fatalf("unknown feed: %d", code)
	}
}

// The agent's and supervisor's pages: create a project through the form,
// draft and submit an announcement, review it and approve it.
func TestAgentAndSupervisorPages(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent := newBrowser(t, srv.URL)
	agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	if code, body := agent.get("/agent/projects/new?category=procurement"); code != 200 || !strings.Contains(body, "预算金额") {
		t.Fatalf("new project page: %d", code)
	}
	issue := testNow.Add(24 * time.Hour)
	form := url.Values{"category": {"procurement"}, "title": {"市立医院医疗设备采购项目"}, "owner_name": {"福州市立医院"}, "region_code": {"350100"},
		"lot_count": {"1"}, "lots[0].name": {"第1包"}, "lots[0].budget": {"3000000.001"},
		"lots[0].doc_issue_start": {issue.Format("2006-01-02T15:04")}, "lots[0].doc_issue_end": {issue.AddDate(0, 0, 14).Format("2006-01-02T15:04")},
		"lots[0].bid_deadline": {issue.AddDate(0, 0, 25).Format("2006-01-02T15:04")}}
	code, body := agent.post("/agent/projects/new", "/agent/projects", form)
	if code != 400 || !strings.Contains(body, "lots[0].budget") || !strings.Contains(body, "市立医院医疗设备采购项目") {
		t.Fatalf("bad budget: %d", code)
	}
	form.Set("lots[0].budget", "3000000.00")
	code, body = agent.post("/agent/projects/new", "/agent/projects", form)
	if code != 200 || !strings.Contains(body, "已创建项目") {
		t.Fatalf("create: %d %s", code, body)
	}
	codeStart := strings.Index(body, `id="project-code">`) + len(`id="project-code">`)
	projectCode := body[codeStart : codeStart+strings.Index(body[codeStart:], "<")]
	code, body = agent.post("/agent/projects/"+projectCode+"/announcements/new?type=procurement", "/agent/projects/"+projectCode+"/announcements",
		url.Values{"type": {"procurement"}, "title": {"市立医院医疗设备采购公告"}, "body": {"# 采购需求\n- CT 一台\n- **MRI** 一台"}, "submit": {"1"}})
	if code != 200 || !strings.Contains(body, "等待交易中心审核") {
		t.Fatalf("draft and submit: %d %s", code, body)
	}
	sup := newBrowser(t, srv.URL)
	sup.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
	code, body = sup.get("/supervisor/reviews")
	if code != 200 || !strings.Contains(body, "市立医院医疗设备采购公告") {
		t.Fatalf("queue: %d", code)
	}
	i := strings.Index(body, `/supervisor/announcements/`)
	reviewPath := body[i : i+strings.Index(body[i:], `"`)]
	code, body = sup.get(reviewPath)
	if code != 200 || !strings.Contains(body, "符合统一交易规则") || !strings.Contains(body, "<strong>MRI</strong>") {
		t.Fatalf("review page: %d %s", code, body)
	}
	code, body = sup.post(reviewPath, reviewPath+"/approve", url.Values{"publish_at": {""}})
	if code != 200 || !strings.Contains(body, "已审核通过并发布") {
		t.Fatalf("approve: %d", code)
	}
	code, body = get(t, srv.URL+"/notices?category=procurement", "")
	if code != 200 || !strings.Contains(body, "市立医院医疗设备采购公告") {
		t.Fatalf("portal: %d", code)
	}
	// The agent's project page offers an amendment now, not a second announcement.
	code, body = agent.get("/agent/projects/" + projectCode)
	if code != 200 || !strings.Contains(body, "发布变更公告") || strings.Contains(body, "type=procurement") {
		t.Fatalf("project page after publishing: %d", code)
	}
	if code, _ := agent.get("/supervisor/reviews"); code != 403 {
		t.Fatalf("agent on the review queue: %d", code)
	}
	if code, body := get(t, srv.URL+"/rules", ""); code != 200 || !strings.Contains(body, "E1") {
		t.Fatalf("rule book page: %d", code)
	}
}

// The micro-cache serves anonymous readers of public pages only.
func TestPublicCacheOnlyForAnonymousReaders(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PublicCache = time.Hour // long enough that no test depends on timing
	app, srv := newTestServer(t, cfg)
	agent := apiLogin(t, app, srv.URL, trading.RoleAgent, "daili")
	head := func(path, token string, cookie *http.Cookie) string {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header.Get("X-Cache")
	}
	if head("/notices", "", nil) != "" || head("/notices", "", nil) != "hit" {
		t.Fatal("anonymous list page not served from the cache the second time")
	}
	if head("/api/v1/announcements", agent, nil) != "" || head("/api/v1/announcements", agent, nil) != "" {
		t.Fatal("a signed-in API client was served from the cache")
	}
	if head("/notices", "", &http.Cookie{Name: trading.SessionCookie, Value: "x"}) != "" {
		t.Fatal("a request with a session cookie was served from the cache")
	}
	if head("/login", "", nil) != "" || head("/login", "", nil) != "" {
		t.Fatal("the login page (a form with a CSRF token) was cached")
	}
	if head("/notices/999", "", nil) != "" || head("/notices/999", "", nil) != "" {
		t.Fatal("a 404 was cached")
	}
}

// Announcement and project pages are kept past the cache's TTL for as long as
// their version holds (one cheap query instead of a render), and rendered
// again as soon as the project changes: a new announcement, a suspension.
func TestVersionedCacheRevalidates(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.PublicCache = time.Nanosecond // every request is past the TTL: each is revalidated
	app, srv := newTestServer(t, cfg)
	ctx := context.Background()
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	p, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "engineering", Title: "缓存测试工程",
		OwnerName: "福州市某局", RegionCode: "350100", Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "12000000.00",
			DocIssueStart: testNow.Add(24 * time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 8).Format(time.RFC3339),
			BidDeadline: testNow.AddDate(0, 0, 30).Format(time.RFC3339)}}})
	if err != nil {
		t.Fatal(err)
	}
	publishAnnouncement(t, app, agent, sup, p.Code, "tender", "缓存测试工程招标公告")
	var first trading.Announcement
	app.DB.Where("project_id = ?", p.ID).First(&first)
	get := func(path string) (string, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.Header.Get("X-Cache"), string(b)
	}
	announcement, project := fmt.Sprintf("/notices/%d", first.ID), "/projects/"+p.Code
	for _, path := range []string{announcement, project} {
		if x, _ := get(path); x != "" {
			t.Fatalf("%s: first view from the cache", path)
		}
		if x, _ := get(path); x != "hit" {
			t.Fatalf("%s: not revalidated from the cache", path)
		}
	}
	// A new announcement of the project changes the chain on both pages.
	n, err := app.Trading.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: "amendment", AmendsID: first.ID,
		Title: "缓存测试工程澄清公告", Body: "澄清"})
	if err != nil {
		t.Fatal(err)
	}
	app.Trading.SubmitAnnouncement(ctx, agent, n.ID)
	if _, err := app.Trading.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{announcement, project} {
		if x, body := get(path); x != "" || !strings.Contains(body, "缓存测试工程澄清公告") {
			t.Fatalf("%s: stale after a new announcement (%q)", path, x)
		}
	}
	if _, err := supervision.Suspend(ctx, app.Trading, sup, p.Code, "收到投诉，暂停核查"); err != nil {
		t.Fatal(err)
	}
	if x, body := get(project); x != "" || !strings.Contains(body, "收到投诉，暂停核查") {
		t.Fatalf("project page stale after a suspension (%q)", x)
	}
	if x, _ := get("/notices/99999"); x != "" {
		t.Fatal("a missing announcement was served from the cache")
	}
}
