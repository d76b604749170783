package main

import (
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ggzy/ggzy/trading"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	_, srv := newTestServer(t, testConfig(t))
	var body map[string]string
	if code := call(t, "GET", srv.URL+"/healthz", "", nil, &body); code != 200 || body["db"] != "ok" || body["storage"] != "ok" {
		t.Fatalf("healthz = %d %v", code, body)
	}
}

func TestHealthzReportsStorageDown(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	app, srv := newTestServer(t, cfg)
	// Point the store at a bucket that is not there: storage must fail, db not.
	app.Storage.Bucket = "missing-bucket"
	var body map[string]string
	if code := call(t, "GET", srv.URL+"/healthz", "", nil, &body); code != 503 || body["db"] != "ok" || body["storage"] == "ok" {
		t.Fatalf("healthz = %d %v", code, body)
	}
}

func TestAPILoginTokenOpensProtectedEndpoint(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")

	var e trading.ErrorBody
	if code := call(t, "GET", srv.URL+"/api/v1/me", "", nil, &e); code != 401 || e.Error.Code != "unauthorized" {
		t.Fatalf("without token: %d %+v", code, e)
	}
	if code := call(t, "POST", srv.URL+"/api/v1/auth/login", "", map[string]string{"username": "jiandu", "password": "nope12345"}, &e); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	var tok trading.TokenResponse
	if code := call(t, "POST", srv.URL+"/api/v1/auth/login", "", map[string]string{"username": "jiandu", "password": "jiandu2026"}, &tok); code != 200 || tok.Token == "" {
		t.Fatalf("login: %d %+v", code, tok)
	}
	var me trading.Account
	if code := call(t, "GET", srv.URL+"/api/v1/me", tok.Token, nil, &me); code != 200 || me.Username != "jiandu" || me.Role != trading.RoleSupervisor {
		t.Fatalf("me: %d %+v", code, me)
	}
	var audit struct{ Items []trading.AuditEvent }
	if code := call(t, "GET", srv.URL+"/api/v1/audit?action=session.login", tok.Token, nil, &audit); code != 200 || len(audit.Items) != 1 {
		t.Fatalf("audit: %d %+v", code, audit)
	}
	if code := call(t, "GET", srv.URL+"/api/v1/me", "garbage", nil, &e); code != 401 {
		t.Fatalf("bad token: %d", code)
	}
	if code := call(t, "POST", srv.URL+"/api/v1/auth/logout", tok.Token, nil, nil); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	if code := call(t, "GET", srv.URL+"/api/v1/me", tok.Token, nil, &e); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
}

func TestAPIBidderSignUp(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	good := map[string]any{"kind": "enterprise", "name": "福建测试建设有限公司", "id_number": "91350100M000100Y43",
		"legal_rep": "张三", "phone": "13800138000", "email": "a@example.com", "username": "fjcs", "password": "abcd1234"}
	var e trading.ErrorBody
	bad := map[string]any{}
	for k, v := range good {
		bad[k] = v
	}
	bad["id_number"] = "91350100M000100Y44"
	if code := call(t, "POST", srv.URL+"/api/v1/bidders", "", bad, &e); code != 400 || e.Error.Field != "id_number" || !strings.Contains(e.Error.Message, "校验位") {
		t.Fatalf("bad code: %d %+v", code, e)
	}
	for _, body := range []string{`{"kind":`, `[]`, `{"kind":"enterprise","extra":1}`, `{"kind":5}`, `{} {}`} {
		if code := call(t, "POST", srv.URL+"/api/v1/bidders", "", body, &e); code != 400 {
			t.Errorf("malformed %s: %d %+v", body, code, e)
		}
	}
	var acc trading.Account
	if code := call(t, "POST", srv.URL+"/api/v1/bidders", "", good, &acc); code != 201 || acc.Bidder == nil || acc.Bidder.IDNumber != "91350100M000100Y43" {
		t.Fatalf("sign-up: %d %+v", code, acc)
	}
	// The password hash never leaves the server.
	var tok map[string]any
	call(t, "POST", srv.URL+"/api/v1/auth/login", "", map[string]string{"username": "fjcs", "password": "abcd1234"}, &tok)
	if raw, _ := json.Marshal(tok); !strings.Contains(string(raw), "fjcs") || strings.Contains(string(raw), "argon2id") {
		t.Fatalf("login answer: %s", raw)
	}
	if code := call(t, "POST", srv.URL+"/api/v1/bidders", "", good, &e); code != 409 || e.Error.Field != "username" {
		t.Fatalf("duplicate: %d %+v", code, e)
	}
	var n int64
	app.DB.Model(&trading.Account{}).Count(&n)
	if n != 1 {
		t.Fatalf("%d accounts after one good sign-up", n)
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	_, srv := newTestServer(t, testConfig(t))
	var e trading.ErrorBody
	if code := call(t, "GET", srv.URL+"/api/v1/nothing", "", nil, &e); code != 404 || e.Error.Code != "not_found" {
		t.Fatalf("api 404: %d %+v", code, e)
	}
	resp, err := http.Get(srv.URL + "/nothing")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), "页面不存在") || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page 404: %d %s", resp.StatusCode, b)
	}
}

// browser is a cookie-keeping client that follows the forms like a person.
type browser struct {
	t      *testing.T
	c      *http.Client
	base   string
	lastOK string
}

func newBrowser(t *testing.T, base string) *browser {
	jar := newJar()
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}}
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (b *browser) get(path string) (int, string) {
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post submits a form with the CSRF token of the page at from.
func (b *browser) post(from, path string, form url.Values) (int, string) {
	_, page := b.get(from)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s", from)
	}
	form.Set("_csrf", m[1])
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestPagesSignUpLoginLogout(t *testing.T) {
	t.Parallel()
	_, srv := newTestServer(t, testConfig(t))
	b := newBrowser(t, srv.URL)
	form := url.Values{"kind": {"enterprise"}, "name": {"<script>alert(1)</script>建设公司"}, "id_number": {"91350100M000100Y44"},
		"legal_rep": {"张三"}, "phone": {"13800138000"}, "email": {"x@example.com"}, "username": {"fjjs"}, "password": {"abcd1234"}}
	code, body := b.post("/signup", "/signup", form)
	if code != 400 || !strings.Contains(body, "校验位不符") || !strings.Contains(body, "id_number") {
		t.Fatalf("invalid code: %d", code)
	}
	if strings.Contains(body, "<script>alert(1)</script>") {
		t.Fatal("form echo is not escaped")
	}
	form.Set("id_number", "91350100M000100Y43")
	code, body = b.post("/signup", "/signup", form)
	if code != 200 || !strings.Contains(body, "注册成功") || !strings.Contains(body, "91350100M000100Y43") {
		t.Fatalf("sign-up: %d %s", code, body)
	}
	if strings.Contains(body, "<script>alert(1)</script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatal("company name rendered as markup")
	}
	code, body = b.post("/account", "/logout", url.Values{})
	if code != 200 || !strings.Contains(body, "您已退出登录") {
		t.Fatalf("logout: %d", code)
	}
	if code, body = b.get("/account"); code != 200 || !strings.Contains(body, `action="/login"`) {
		t.Fatalf("account after logout should show the login form: %d", code)
	}
	code, body = b.post("/login", "/login", url.Values{"username": {"fjjs"}, "password": {"wrongpass1"}})
	if code != 401 || !strings.Contains(body, "用户名或密码错误") {
		t.Fatalf("bad login: %d", code)
	}
	code, body = b.post("/login", "/login", url.Values{"username": {"fjjs"}, "password": {"abcd1234"}, "next": {"//evil.example/"}})
	if code != 200 || !strings.Contains(body, "我的账户") {
		t.Fatalf("login: %d", code)
	}
}

func TestFormsNeedCSRFToken(t *testing.T) {
	t.Parallel()
	_, srv := newTestServer(t, testConfig(t))
	resp, err := http.PostForm(srv.URL+"/login", url.Values{"username": {"x"}, "password": {"y"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "CSRF") {
		t.Fatalf("POST without token: %d", resp.StatusCode)
	}
	// A cross-site form post is refused even when it carries a token field.
	req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader("_csrf=forged&username=x&password=y"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 && resp.StatusCode != 400 {
		t.Fatalf("cross-site POST: %d", resp.StatusCode)
	}
}

func TestRoleGates(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleAdmin, "admin", "admin2026")
	agent := newBrowser(t, srv.URL)
	agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	if code, body := agent.get("/admin/users"); code != 403 || !strings.Contains(body, "无权访问") {
		t.Fatalf("agent on admin page: %d", code)
	}
	if code, _ := agent.get("/supervisor/audit"); code != 403 {
		t.Fatalf("agent on audit page: %d", code)
	}
	admin := newBrowser(t, srv.URL)
	admin.post("/login", "/login", url.Values{"username": {"admin"}, "password": {"admin2026"}})
	code, body := admin.post("/admin/users", "/admin/users", url.Values{"role": {"supervisor"}, "username": {"jd"}, "display_name": {"监督"}, "password": {"abcd1234"}})
	if code != 400 || !strings.Contains(body, "用户名须为3至32位") {
		t.Fatalf("bad username: %d", code)
	}
	code, body = admin.post("/admin/users", "/admin/users", url.Values{"role": {"supervisor"}, "username": {"jiandu"}, "display_name": {"监督科"}, "password": {"abcd1234"}})
	if code != 200 || !strings.Contains(body, "已创建交易中心监督账号 jiandu") {
		t.Fatalf("create supervisor: %d", code)
	}
	// The audit log names registrants: supervisors only, and each look is logged.
	if code, _ := admin.get("/supervisor/audit"); code != 403 {
		t.Fatalf("admin on the audit log: %d", code)
	}
	sup := newBrowser(t, srv.URL)
	sup.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"abcd1234"}})
	code, body = sup.get("/supervisor/audit?action=account.create")
	if code != 200 || !strings.Contains(body, "创建交易中心监督账号 jiandu") {
		t.Fatalf("audit page: %d", code)
	}
	if code, body = sup.get("/supervisor/audit?action=audit.view"); code != 200 || !strings.Contains(body, "查看审计日志") {
		t.Fatalf("the supervisor's look is not in the log: %d", code)
	}
	if code, _ := sup.get("/supervisor/audit?from=yesterday"); code != 400 {
		t.Fatalf("bad date filter: %d", code)
	}
	// An anonymous visitor is sent to the login page.
	if code, body := newBrowser(t, srv.URL).get("/admin/users"); code != 200 || !strings.Contains(body, `action="/login"`) {
		t.Fatalf("anonymous: %d", code)
	}
}

func TestSecurityHeadersAndStaticAssets(t *testing.T) {
	t.Parallel()
	_, srv := newTestServer(t, testConfig(t))
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	m := regexp.MustCompile(`/static/app\.[0-9a-f]{8}\.css`).FindString(string(body))
	if m == "" {
		t.Fatal("no checksummed stylesheet link")
	}
	resp, err = http.Get(srv.URL + m)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("static: %d %s", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.LoginPerMin = 3
	_, srv := newTestServer(t, cfg)
	codes := []int{}
	for i := 0; i < 5; i++ {
		var e trading.ErrorBody
		codes = append(codes, call(t, "POST", srv.URL+"/api/v1/auth/login", "", map[string]string{"username": "x", "password": "y"}, &e))
	}
	if codes[0] != 401 || codes[4] != 429 {
		t.Fatalf("codes %v: want 401s then 429", codes)
	}
}

// Every /api/v1 route the server registers is described in the OpenAPI
// document, and the document describes no route that does not exist.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	app, _ := newTestServer(t, testConfig(t))
	e, err := NewServer(app)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-zA-Z_]+)`)
	registered := map[string]bool{}
	for _, r := range e.Routes() {
		p, ok := strings.CutPrefix(r.Path, "/api/v1")
		if !ok || p == "/*" || r.Method == "echo_route_not_found" {
			continue
		}
		p = param.ReplaceAllString(p, "{$1}")
		key := strings.ToLower(r.Method) + " " + p
		registered[key] = true
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in openapi.json", r.Method, p)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !registered[m+" "+p] {
				t.Errorf("openapi.json describes %s %s, which is not registered", m, p)
			}
		}
	}
	if len(registered) < 5 {
		t.Fatalf("only %d API routes seen", len(registered))
	}
}

// A forged X-Forwarded-For does not give every attempt a new address.
func TestLoginRateLimitIgnoresForwardedFor(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.LoginPerMin = 3
	_, srv := newTestServer(t, cfg)
	last := 0
	for i := 0; i < 6; i++ {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/auth/login", strings.NewReader(`{"username":"x","password":"y"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp.StatusCode
	}
	if last != 429 {
		t.Fatalf("last attempt: %d, want 429", last)
	}
}

// An upload without the CSRF header is refused before its body is read
// as a form: a form parse would read (and spool to disk) all 48 MB before
// answering, so the answer must come while most of it is still unsent.
func TestUploadWithoutTokenIsNotSpooled(t *testing.T) {
	t.Parallel()
	_, srv := newTestServer(t, testConfig(t))
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	var sent atomic.Int64
	go func() {
		part, _ := mw.CreateFormFile("file", "big.pdf")
		for i := 0; i < 48; i++ {
			n, err := part.Write(make([]byte, 1<<20))
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", srv.URL+"/agent/lots/1/documents", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	atAnswer := sent.Load()
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 && resp.StatusCode != 403 {
		t.Fatalf("upload without a token: %d", resp.StatusCode)
	}
	if atAnswer >= 32<<20 {
		t.Fatalf("%d MB were read before the refusal: the body was parsed", atAnswer>>20)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
