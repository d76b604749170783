package trading

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/templates"
)

// auditCall finds the audit writers in the source: trading.Audit(…) and
// Audit(…) in Go, audit_append(…) in SQL, and the assignments of an action
// variable ("action := …", "status, action := …", "…Action = …").
var (
	auditCall    = regexp.MustCompile(`(?:\bAudit|audit_append)\(`)
	actionAssign = regexp.MustCompile(`(?i)action\w*\b[^\n]*(?::=|=)[^\n]*`)
	actionCode   = regexp.MustCompile(`["'\x60]([a-z][a-z_]*\.[a-z][a-z_]*)["'\x60]`)
)

// auditActionsInSource lists every audit action the repository's code can
// write, by reading the source, so a new action cannot slip past the label
// table.
func auditActionsInSource(t *testing.T) map[string]string {
	t.Helper()
	found := map[string]string{}
	root := ".."
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "testdata" || n == "node_modules" || n == "static" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, "_test.go") || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".sql")) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		src := string(b)
		var windows []string
		for _, loc := range auditCall.FindAllStringIndex(src, -1) {
			end := min(loc[1]+240, len(src)) // the call's first arguments, over a line break or two
			windows = append(windows, src[loc[1]:end])
		}
		windows = append(windows, actionAssign.FindAllString(src, -1)...)
		for _, w := range windows {
			for _, m := range actionCode.FindAllStringSubmatch(w, -1) {
				if strings.HasPrefix(m[1], "fmt.") || strings.HasPrefix(m[1], "strconv.") {
					continue
				}
				found[m[1]] = p
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestEveryAuditActionHasALabel(t *testing.T) {
	found := auditActionsInSource(t)
	// The scan must see the writers it is meant to guard, in every package.
	for _, want := range []string{"session.login", "announcement.submit", "registration.create", "registration.reject",
		"guarantee.verify", "account.disable", "deposit.inflow", "refund.paid", "supervision.view"} {
		if _, ok := found[want]; !ok {
			t.Errorf("the source scan missed %q: it no longer sees every audit writer", want)
		}
	}
	var missing []string
	for code, file := range found {
		if !HasLabel(LabelAction, code) {
			missing = append(missing, code+" ("+file+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("audit actions without a Chinese label in trading/labels.go:\n%s", strings.Join(missing, "\n"))
	}
	for _, o := range AuditActions() {
		if o.Name == "" || o.Name == o.Value {
			t.Errorf("action %q has no Chinese name", o.Value)
		}
	}
}

func TestLabelsNameTheCodesPeopleRead(t *testing.T) {
	for _, c := range []struct{ kind, code, want string }{
		{LabelAction, "session.login", "登录"},
		{LabelAction, "announcement.submit", "提交公告审核"},
		{LabelRole, string(RoleSupervisor), "交易中心监督"},
		{LabelRole, "system", "系统"},
		{LabelRefundReason, "INVALID", "缴纳无效（逾期或非投标人账户），原路退回"},
		{LabelRefundReason, "SUSPENSE", "待查款项（无对应子账号），退回付款人"},
		{LabelSource, "statement", "银行对账单"},
		{LabelCategory, "engineering", "工程建设招标"},
		{LabelProjectStatus, "completed", "已完成"},
		{LabelRefundStatus, "pending", "待退"},
		{LabelAlert, "k1", "疑似串通投标（K1）"},
		{LabelRefundReason, "D6", "D6"}, // a rule id is shown as is
	} {
		if got := Label(c.kind, c.code); got != c.want {
			t.Errorf("Label(%s, %s) = %q, want %q", c.kind, c.code, got, c.want)
		}
	}
	for _, r := range Roles {
		if Label(LabelRole, string(r)) != r.Name() {
			t.Errorf("role %s: label %q differs from its Name %q", r, Label(LabelRole, string(r)), r.Name())
		}
	}
	funcs := TemplateFuncs()
	if got := funcs["label"].(func(string, any) string)(LabelRole, RoleAgent); got != "代理机构" {
		t.Errorf("template label of a Role = %q", got)
	}
}

func TestFieldLabelNamesThePathInChinese(t *testing.T) {
	for in, want := range map[string]string{
		"lots[0].control_price":    "第1个标段的招标控制价",
		"lots[2].bid_deadline":     "第3个标段/包的投标截止时间", // the category unknown: the words of those the field applies to
		"lots[0].starting_price":   "第1个地块/标的的起始价",
		"lots[0]":                  "第1个标段/包/地块/标的",
		"changes[1].lot_id":        "第2个变更的标段/包/地块/标的",
		"bids[3].price":            "第4行投标记录的报价",
		"id_numbers[0]":            "第1行身份证号",
		"deposit":                  "保证金",
		"title":                    "项目名称",
		"":                         "",
		"declarations.no_criminal": "声明的no_criminal", // unknown keys are kept, not lost
	} {
		if got := FieldLabel(in); got != want {
			t.Errorf("FieldLabel(%q) = %q, want %q", in, got, want)
		}
	}
	// The project's category known, its lots are named by it (issue 14).
	for _, c := range []struct {
		cat      Category
		in, want string
	}{
		{Land, "lots[0].starting_price", "第1个地块的起始价"},
		{Property, "lots[1].listing_price", "第2个标的的挂牌价"},
		{Procurement, "lots[0].bid_deadline", "第1个包的投标截止时间"},
		{Procurement, "changes[0].lot_id", "第1个变更的包"},
		{Engineering, "lots[2]", "第3个标段"},
		{Land, "title", "项目名称"},
	} {
		if got := FieldLabelIn(c.cat, c.in); got != c.want {
			t.Errorf("FieldLabelIn(%s, %q) = %q, want %q", c.cat, c.in, got, c.want)
		}
	}
	// Every field an error of the lot form can name has a label.
	for _, f := range moneyFields {
		if !HasLabel(LabelField, f.field) {
			t.Errorf("lot field %q has no label", f.field)
		}
	}
}

func TestErrorHeadingFollowsTheErrorsKind(t *testing.T) {
	closed := Conflict("", "报名尚未开始，开始时间为 2026-12-10 09:00").WithCode("closed")
	if h := ErrorHeading(closed); h == "操作冲突" || h != "不在办理时间内" {
		t.Errorf("heading of %q = %q", closed.Message, h)
	}
	if h := ErrorHeading(RuleBroken("D7", "reason", "x")); h != "不符合交易规则" {
		t.Errorf("rule heading = %q", h)
	}
	if h := ErrorHeading(&Error{Kind: KindInternal, Code: "teapot"}); h != "出错了" {
		t.Errorf("fallback heading = %q", h)
	}
}

func TestYuanGroupsThousands(t *testing.T) {
	for in, want := range map[string]string{
		"2246380.96": "2,246,380.96", "0": "0.00", "999.5": "999.50", "1000": "1,000.00",
		"-35.97": "-35.97", "-1234567": "-1,234,567.00", "123456789012.345": "123,456,789,012.35",
	} {
		if got := Yuan(decimal.RequireFromString(in)); got != want {
			t.Errorf("Yuan(%s) = %s, want %s", in, got, want)
		}
	}
}

// A suspension reason typed with its own full stop reads with one, not "。。".
func TestSuspensionMessageHasOneFullStop(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, Shanghai)
	for _, reason := range []string{"接到投诉，暂停核查。", "接到投诉，暂停核查", "接到投诉，暂停核查。 "} {
		p := Project{Code: "GC350100-2026-0001", SuspendedAt: &now, SuspendReason: reason}
		err := p.CheckRunning()
		if err == nil || strings.Contains(err.Error(), "。。") || !strings.Contains(err.Error(), "暂停核查。恢复前") {
			t.Errorf("reason %q: %v", reason, err)
		}
	}
}

// A wrong category is explained with the categories' Chinese names.
func TestCategoryChoicesAreChinese(t *testing.T) {
	t.Parallel()
	if got := CategoryChoices(); got != "工程建设招标、政府采购、土地矿权出让或国有产权交易" {
		t.Fatalf("CategoryChoices = %q", got)
	}
	s, _ := newTestService(t)
	_, err := s.CreateProject(context.Background(), mustAccount(t, s, RoleAgent, "agent1"), ProjectInput{Category: "mining", Title: "某项目"})
	var e *Error
	if !errors.As(err, &e) || e.Field != "category" || regexp.MustCompile(`[a-z]{4,}`).MatchString(e.Message) {
		t.Fatalf("category refused with %v", err)
	}
}

// The error page is headed after what happened and names the field in
// Chinese; the API keeps the field's path.
func TestErrorPageHeadingAndFieldInChinese(t *testing.T) {
	pages, err := templates.New(TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	w := &Web{Pages: pages, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e := echo.New()
	e.HTTPErrorHandler = w.ErrorHandler
	e.GET("/lots/1/register", func(echo.Context) error {
		return Conflict("", "报名尚未开始，开始时间为 2026-03-10 09:00").WithCode("closed")
	})
	e.POST("/api/v1/projects", func(echo.Context) error {
		return Invalid("lots[0].control_price", "招标控制价：金额不能含千位分隔符")
	})
	e.POST("/agent/projects", func(echo.Context) error {
		return Invalid("lots[0].control_price", "招标控制价：金额不能含千位分隔符")
	})
	do := func(method, path string) (int, string) {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := do("GET", "/lots/1/register"); code != 409 || !strings.Contains(body, "<h1>不在办理时间内</h1>") || strings.Contains(body, "操作冲突") {
		t.Errorf("closed: %d %s", code, body)
	}
	if code, body := do("POST", "/agent/projects"); code != 400 || !strings.Contains(body, "（字段：第1个标段的招标控制价）") || strings.Contains(body, "lots[0]") {
		t.Errorf("page field: %d %s", code, body)
	}
	if code, body := do("POST", "/api/v1/projects"); code != 400 || !strings.Contains(body, `"field":"lots[0].control_price"`) {
		t.Errorf("API field: %d %s", code, body)
	}
}

// The audit page offers the actions as labelled choices and shows each
// record's action, role and object in Chinese.
func TestAuditPageSpeaksChinese(t *testing.T) {
	pages, err := templates.New(TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = pages.Render(&buf, "audit", templates.Page{Title: "审计日志", User: &templates.User{Role: "supervisor"}, Data: map[string]any{
		"Events": []AuditEvent{{ID: 7, Actor: "jiandu", Role: "supervisor", Action: "announcement.submit", ObjectType: "announcement",
			ObjectID: "3", Summary: "提交审核"}},
		"Filter": AuditFilter{Action: "session.login"}, "Pager": Pager{Page: 1}, "ObjectTypes": LabelOptions(LabelObject)}})
	if err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{`<select name="action"`, `<option value="session.login" selected>登录</option>`,
		`<option value="announcement.submit">提交公告审核</option>`, `<td>交易中心监督</td><td>提交公告审核</td><td>公告 3</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("audit page lacks %s", want)
		}
	}
	if strings.Contains(page, `placeholder="操作，如`) {
		t.Error("the audit filter still asks for a typed action code")
	}
}
