package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/tradingtest"
)

// badInputs are what TestEveryRouteRefusesBadText sends in every parameter
// and body field: refused is true where the 400 must name the field.
var badInputs = []struct {
	name    string
	raw     string // the value's bytes
	refused bool
}{
	{"NUL", "福州\x00市", true},
	{"GBK", "\xb8\xa3\xd6\xdd\xca\xd0\xbd\xa8\xc9\xe8\xd3\xd0\xcf\xde\xb9\xab\xcb\xbe", true}, // 福州市建设有限公司 in GBK
	{"over-long", strings.Repeat("长", 20000), false},
}

// Every route of the served OpenAPI document, signed in with a role that
// may use it, gets NUL, GBK bytes and an over-long string in each path
// parameter, query parameter and body field: never a 5xx, and NUL and GBK
// are a 400 naming the field (issue 13 items 10 and 11).
func TestEveryRouteRefusesBadText(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()

	// A published engineering project, so that codes and ids lead somewhere.
	agentAcc := mustCreate(t, app, trading.RoleAgent, "daili", "daili-pass1")
	supAcc := mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu-pass1")
	mustCreate(t, app, trading.RoleAdmin, "guanli", "guanli-pass1")
	if _, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, tradingtest.SignUp("toubiao", testenv.NewCreditCode())); err != nil {
		t.Fatal(err)
	}
	p, n := tradingtest.PublishedProject(t, app.Trading,
		trading.Actor{AccountID: agentAcc.ID, Username: agentAcc.Username, Role: trading.RoleAgent},
		trading.Actor{AccountID: supAcc.ID, Username: supAcc.Username, Role: trading.RoleSupervisor},
		trading.Engineering, "福州市测试工程施工招标公告")
	tokens := map[string]string{}
	for user, pass := range map[string]string{"daili": "daili-pass1", "jiandu": "jiandu-pass1", "guanli": "guanli-pass1", "toubiao": "secret123"} {
		var tok trading.TokenResponse
		if code := call(t, "POST", srv.URL+"/api/v1/auth/login", "", map[string]string{"username": user, "password": pass}, &tok); code != 200 {
			t.Fatalf("login %s: %d", user, code)
		}
		tokens[user] = tok.Token
	}
	roles := []string{"daili", "jiandu", "toubiao", "guanli", ""}
	// Every path parameter has a well-formed value, so a bad one is the
	// only thing wrong (an empty segment would match no route at all).
	good := map[string]string{"id": strconv.FormatInt(p.Lots[0].ID, 10), "code": p.Code, "bid": "1", "part": "0", "n": "1"}

	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	paths := make([]string, 0, len(doc.Paths))
	for path := range doc.Paths {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	sent := 0
	for _, path := range paths {
		for method, op := range doc.Paths[path] {
			if method == "parameters" || path == "/auth/logout" {
				continue // logging out would end the session the next routes use
			}
			if path == "/announcements/{id}" || strings.HasPrefix(path, "/announcements/{id}/") {
				good["id"] = strconv.FormatInt(n.ID, 10)
			} else {
				good["id"] = strconv.FormatInt(p.Lots[0].ID, 10)
			}
			var o openAPIOp
			if err := json.Unmarshal(op, &o); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			r := routeProbe{t: t, base: srv.URL + "/api/v1", method: strings.ToUpper(method), path: path, op: o, doc: &doc, good: good}
			r.token = r.suitableToken(tokens, roles)
			sent += r.probe()
		}
	}
	if sent < 300 {
		t.Fatalf("only %d requests sent: the walk missed the document", sent)
	}
}

type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]*schema `json:"schemas"`
	} `json:"components"`
}

type openAPIOp struct {
	Parameters []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	RequestBody struct {
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Format     string             `json:"format"`
	Enum       []any              `json:"enum"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
}

func (d *openAPIDoc) resolve(s *schema) *schema {
	for s != nil && s.Ref != "" {
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

// sample is a plausible value of a schema, with the string at field path
// target replaced by the placeholder.
func (d *openAPIDoc) sample(s *schema, path, target string, fields *[]string) any {
	s = d.resolve(s)
	if s == nil {
		return "样例"
	}
	switch {
	case s.Type == "object" || s.Properties != nil:
		m := map[string]any{}
		for name, p := range s.Properties {
			fp := name
			if path != "" {
				fp = path + "." + name
			}
			m[name] = d.sample(p, fp, target, fields)
		}
		return m
	case s.Type == "array":
		return []any{d.sample(s.Items, path+"[0]", target, fields)}
	case s.Type == "integer" || s.Type == "number":
		return 1
	case s.Type == "boolean":
		return false
	}
	if fields != nil {
		*fields = append(*fields, path)
	}
	if path == target {
		return placeholder
	}
	switch {
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Format == "date-time":
		return testNow.Format("2006-01-02T15:04:05Z07:00")
	case s.Format == "date":
		return testNow.Format("2006-01-02")
	}
	return "样例"
}

const placeholder = "@@BAD-INPUT@@"

type routeProbe struct {
	t                    *testing.T
	base, method, path   string
	op                   openAPIOp
	doc                  *openAPIDoc
	good                 map[string]string
	token                string
	lastStatus           int
	lastField, lastError string
}

// url is the route's URL with path parameter name set to value (raw bytes,
// escaped) and the others to good values.
func (r *routeProbe) url(name, value string, query url.Values) string {
	path := r.path
	for _, p := range r.op.Parameters {
		if p.In != "path" {
			continue
		}
		v := r.good[p.Name]
		if p.Name == name {
			v = value
		}
		path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(v))
	}
	u := r.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

func (r *routeProbe) send(u, contentType string, body []byte) int {
	req, err := http.NewRequest(r.method, u, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e trading.ErrorBody
	_ = json.Unmarshal(b, &e)
	r.lastStatus, r.lastField, r.lastError = resp.StatusCode, e.Error.Field, string(b)
	return resp.StatusCode
}

// suitableToken is the first role the route does not refuse (401/403)
// with good parameters.
func (r *routeProbe) suitableToken(tokens map[string]string, roles []string) string {
	for _, role := range roles {
		r.token = tokens[role]
		ct, body := r.body("", "")
		if code := r.send(r.url("", "", nil), ct, body); code != 401 && code != 403 {
			return r.token
		}
	}
	return tokens[roles[0]]
}

// body is the request body with the string at field set to raw (JSON
// escaped where JSON needs it, but never re-encoded: GBK stays GBK).
func (r *routeProbe) body(field, raw string) (string, []byte) {
	if c, ok := r.op.RequestBody.Content["application/json"]; ok {
		b, _ := json.Marshal(r.doc.sample(c.Schema, "", field, nil))
		enc := strings.ReplaceAll(raw, "\x00", `\u0000`)
		return "application/json", bytes.ReplaceAll(b, []byte(`"`+placeholder+`"`), []byte(`"`+enc+`"`))
	}
	if c, ok := r.op.RequestBody.Content["multipart/form-data"]; ok {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		var fields []string
		r.doc.sample(c.Schema, "", "", &fields)
		filename := "说明.pdf"
		for _, f := range fields {
			v := "tender"
			if f == field {
				v = raw
			}
			if f == "file" {
				filename = v + ".pdf" // the bad text goes into the file's name
				continue
			}
			_ = w.WriteField(f, v)
		}
		fw, _ := w.CreateFormFile("file", filename)
		fw.Write([]byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"))
		w.Close()
		return w.FormDataContentType(), buf.Bytes()
	}
	return "", nil
}

func (r *routeProbe) bodyFields() []string {
	var fields []string
	for _, c := range r.op.RequestBody.Content {
		r.doc.sample(c.Schema, "", "", &fields)
	}
	return fields
}

// probe sends every bad input in every parameter and field and checks the
// answers; it returns how many requests it sent.
func (r *routeProbe) probe() int {
	sent := 0
	// check: never a 5xx; and where refuse, a 400 naming the field.
	check := func(where, field, badName string, refuse bool) {
		sent++
		if r.lastStatus >= 500 {
			r.t.Errorf("%s %s, %s %s = %s: %d %s", r.method, r.path, where, field, badName, r.lastStatus, r.lastError)
			return
		}
		if refuse && (r.lastStatus != 400 || r.lastField != field) {
			r.t.Errorf("%s %s, %s %s = %s: want 400 naming %q, got %d %s", r.method, r.path, where, field, badName, field, r.lastStatus, r.lastError)
		}
	}
	for _, bad := range badInputs {
		for _, p := range r.op.Parameters {
			ct, body := r.body("", "")
			switch p.In {
			case "path":
				r.send(r.url(p.Name, bad.raw, nil), ct, body)
			case "query":
				r.send(r.url("", "", url.Values{p.Name: {bad.raw}}), ct, body)
			default:
				continue
			}
			check(p.In, p.Name, bad.name, bad.refused)
		}
		_, isJSON := r.op.RequestBody.Content["application/json"]
		for _, f := range r.bodyFields() {
			ct, body := r.body(f, bad.raw)
			r.send(r.url("", "", nil), ct, body)
			// Every JSON field is checked where the body is decoded; of the
			// multipart uploads, the document upload reads its small fields
			// and the file's name (a bank statement is a file: GBK is allowed
			// in it, and its name is not used).
			check("field", f, bad.name, bad.refused && (isJSON || r.path == "/lots/{id}/documents"))
		}
	}
	return sent
}

// The HTML forms and filters of issue 13 item 10: a NUL byte or GBK bytes
// give a 400 page naming the field, never a 500.
func TestFormsRefuseBadText(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu-pass1")
	mustCreate(t, app, trading.RoleAgent, "daili", "daili-pass1")
	if _, err := app.Trading.SignUpBidder(context.Background(), trading.SystemActor, tradingtest.SignUp("toubiao", testenv.NewCreditCode())); err != nil {
		t.Fatal(err)
	}
	browsers := map[string]*browser{"": newBrowser(t, srv.URL)}
	for user, pass := range map[string]string{"jiandu": "jiandu-pass1", "daili": "daili-pass1", "toubiao": "secret123"} {
		b := newBrowser(t, srv.URL)
		if code, body := b.post("/login", "/login", url.Values{"username": {user}, "password": {pass}}); code != 200 || strings.Contains(body, `action="/login"`) {
			t.Fatalf("login %s: %d", user, code)
		}
		browsers[user] = b
	}
	forms := []struct {
		user, method, path, field string
		others                    url.Values
	}{
		{"", "GET", "/notices", "q", nil},
		{"jiandu", "GET", "/supervisor/audit", "action", nil},
		{"jiandu", "GET", "/supervisor/audit", "actor", nil},
		{"jiandu", "GET", "/supervisor/audit", "object_id", nil},
		{"jiandu", "GET", "/supervisor/deposits", "q", nil},
		{"toubiao", "POST", "/my/guarantees", "issuer", url.Values{"lot_id": {"1"}, "number": {"BH-1"}, "amount": {"100.00"}}},
		{"jiandu", "POST", "/guarantees/1/reject", "reason", nil},
		{"daili", "POST", "/agent/registrations/1/reject", "reason", nil},
		{"jiandu", "POST", "/supervisor/announcements/1/reject", "reason", nil},
		{"jiandu", "POST", "/supervise/projects/350100-2026-GC-0001/resume", "reason", nil},
		{"", "POST", "/login", "username", url.Values{"password": {"whatever1"}}},
	}
	for _, f := range forms {
		for _, bad := range badInputs {
			b := browsers[f.user]
			form := url.Values{f.field: {bad.raw}}
			for k, v := range f.others {
				form[k] = v
			}
			var code int
			var body string
			if f.method == "GET" {
				code, body = b.get(f.path + "?" + form.Encode())
			} else {
				from := "/account"
				if f.user == "" {
					from = "/login"
				}
				code, body = b.post(from, f.path, form)
			}
			// Pages name the field in Chinese (the label table); the API by its machine name.
			if code >= 500 || bad.refused && (code != 400 || !strings.Contains(body, "字段："+trading.FieldLabel(f.field))) {
				t.Errorf("%s %s %s = %s: %d %s", f.method, f.path, f.field, bad.name, code, firstLine(body, "字段"))
			}
		}
	}
}

func firstLine(body, near string) string {
	if i := strings.Index(body, near); i >= 0 {
		return body[max(0, i-200):min(len(body), i+200)]
	}
	return fmt.Sprintf("(%d bytes)", len(body))
}
