package main

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// axe-core 4.14.1 (npm, MPL-2.0), for tests only: it is never served by the
// platform. How it was fetched, and its sha256, are in the README.
//
//go:embed testdata/axe.min.js
var axeSource string

// screenshotDir is where checkPage saves a screenshot of every main page:
// $GGZY_SCREENSHOTS, or a new directory under the system's temp dir whose
// path the test logs. It is kept after the run, as the test's artefact.
var screenshotDir = sync.OnceValues(func() (string, error) {
	if d := os.Getenv("GGZY_SCREENSHOTS"); d != "" {
		return d, os.MkdirAll(d, 0o755)
	}
	return os.MkdirTemp("", "ggzy-screenshots-")
})

// rawFieldPath is a field path as the API names it ("lots[0].control_price"),
// which a page must name in Chinese.
var rawFieldPath = regexp.MustCompile(`[a-z_]+\[\d+\]\.[a-z_]+|（字段：[A-Za-z_.\[\]0-9]+）`)

// ungroupedAmount is an amount of yuan written without 千分位
// ("2246380.96 元"), which people read as "2,246,380.96 元".
var ungroupedAmount = regexp.MustCompile(`\d{4,}\.\d{2} ?元`)

// axeViolation is what the test keeps of an axe-core result.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkPage checks the page the browser shows, as a person reads it: it
// saves a screenshot named name, fails if the text shows an audit action
// code or a raw field path, and runs axe-core, failing on every critical or
// serious violation.
func checkPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for i := 0; i < 100; i++ { // a click's navigation may still be landing
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState`))
		if err == nil && state == "complete" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	dir, err := screenshotDir()
	if err != nil {
		t.Fatal(err)
	}
	// JPEG (quality below 100): a full page encodes several times faster
	// than as PNG, and reads the same to a person.
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(85))
	if err != nil {
		t.Fatalf("%s: screenshot: %v", name, err)
	}
	file := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()+"-"+name)+".jpg")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s (%s): screenshot %s", name, loc, file)

	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title + "\n" + document.body.innerText`))
	if err != nil {
		t.Fatalf("%s: text: %v", name, err)
	}
	for _, a := range trading.AuditActions() {
		if strings.Contains(text, a.Value) {
			t.Errorf("%s (%s) shows the action code %q; people read %q", name, loc, a.Value, a.Name)
		}
	}
	for _, kind := range []string{trading.LabelRefundReason, trading.LabelSource} {
		for _, o := range trading.LabelOptions(kind) {
			if regexp.MustCompile(`\b` + o.Value + `\b`).MatchString(text) {
				t.Errorf("%s (%s) shows the code %q; people read %q", name, loc, o.Value, o.Name)
			}
		}
	}
	if m := rawFieldPath.FindAllString(text, 3); m != nil {
		t.Errorf("%s (%s) shows raw field paths %q", name, loc, m)
	}
	if m := ungroupedAmount.FindAllString(text, 3); m != nil {
		t.Errorf("%s (%s) shows amounts without 千分位 %q", name, loc, m)
	}

	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" || (function(){`+axeSource+`
;return true})()`)); err != nil {
		t.Fatalf("%s: inject axe-core: %v", name, err)
	}
	const run = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
	  .filter(v => v.impact === "critical" || v.impact === "serious")
	  .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " " + (n.failureSummary || "").split("\n").slice(1, 2).join(""))})))`
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe-core: %v", name, err)
	}
	for _, v := range vs {
		t.Errorf("%s (%s): axe %s %s: %s\n    %s", name, loc, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
	}
}

// visit opens path and checks the page; only pages named error-… may be
// the error page.
func visit(t *testing.T, ctx context.Context, base, path, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+path)); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	checkPage(t, ctx, name)
	isError, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(".error-page") !== null`))
	if err != nil || isError != strings.HasPrefix(name, "error-") {
		heading, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("h1") ? document.querySelector("h1").innerText : ""`))
		t.Errorf("%s (%s): error page %v (%q), want %v", name, path, isError, heading, strings.HasPrefix(name, "error-"))
	}
}

// Every role's main pages over the demo data, in Chromium: each is saved
// as a screenshot, passes axe-core without a critical or serious
// violation, and shows no English action code or raw field path.
func TestBrowserJourneyEveryMainPage(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, demoConfig(t))
	ctx := context.Background()
	var code string
	var lotID, noticeID int64
	if err := app.DB.Raw(`SELECT p.code, l.id FROM projects p JOIN lots l ON l.project_id = p.id
		WHERE p.status = 'active' ORDER BY p.id, l.seq LIMIT 1`).Row().Scan(&code, &lotID); err != nil {
		t.Fatal(err)
	}
	if err := app.DB.Raw(`SELECT id FROM announcements WHERE status = 'published' ORDER BY id LIMIT 1`).Row().Scan(&noticeID); err != nil {
		t.Fatal(err)
	}
	// Money in suspense, returned to its payer: the deposits and refunds
	// pages have a row whose source and reason people read.
	number, err := app.Deposits.Accounts.Number(999999)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Deposits.Receive(ctx, trading.Actor{Username: "bank", Role: "system"}, deposits.SourceStatement, []deposits.Inflow{{
		BankTxnID: "A11Y-1", ValueTime: testNow, VirtualAccount: number, PayerName: "福建某公司", PayerAccount: "6222000011112222",
		PayerBank: "某银行", Amount: decimal.RequireFromString("2246380.96"), Currency: "CNY"}}); err != nil {
		t.Fatal(err)
	}
	var inflowID int64
	if err := app.DB.Raw(`SELECT id FROM inflows WHERE bank_txn_id = 'A11Y-1'`).Row().Scan(&inflowID); err != nil {
		t.Fatal(err)
	}
	if err := app.Deposits.ReturnSuspense(ctx, actorOf(t, app, "jiandu"), inflowID, "付款人确认汇错账户"); err != nil {
		t.Fatal(err)
	}
	// Notices the platform wrote from results: their amounts are read too.
	var resultIDs []int64
	if err := app.DB.Raw(`SELECT DISTINCT ON (type) id FROM announcements WHERE status = 'published'
		AND type IN ('candidates', 'result') ORDER BY type, id`).Scan(&resultIDs).Error; err != nil || len(resultIDs) != 2 {
		t.Fatalf("demo result notices: %v %v", resultIDs, err)
	}
	// One browser per role, side by side: the same pages and checks as one
	// browser going through them in turn, in less time.
	base := srv.URL
	role := func(name string, pages func(t *testing.T, chrome context.Context)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pages(t, newChrome(t))
		})
	}
	role("public", func(t *testing.T, chrome context.Context) {
		for i, id := range resultIDs {
			visit(t, chrome, base, fmt.Sprintf("/notices/%d", id), fmt.Sprintf("result-notice-%d", i))
		}
		for _, p := range []struct{ path, name string }{
			{"/", "home"}, {"/notices", "notices"}, {fmt.Sprintf("/notices/%d", noticeID), "notice"},
			{"/projects/" + code, "public-project"}, {fmt.Sprintf("/lots/%d", lotID), "lot"}, {"/rules", "rules"},
			{"/login", "login"}, {"/signup", "signup"}, {"/notices/999999999", "error-404"},
		} {
			visit(t, chrome, base, p.path, p.name)
		}
	})

	role("supervisor", func(t *testing.T, chrome context.Context) {
		login(t, chrome, base, "jiandu", "jiandu-ggzy-2026")
		for _, p := range []struct{ path, name string }{
			{"/supervise", "supervise"}, {"/supervise/projects/" + code, "supervise-project"},
			{"/supervisor/reviews", "reviews"}, {"/supervisor/projects", "supervisor-projects"},
			{"/supervisor/projects?status=completed", "supervisor-projects-completed"},
			{fmt.Sprintf("/supervisor/announcements/%d", noticeID), "review"},
			{fmt.Sprintf("/supervisor/lots/%d/result", lotID), "supervisor-lot-result"},
			{fmt.Sprintf("/supervisor/lots/%d/registrations", lotID), "supervisor-registrations"},
			{fmt.Sprintf("/lots/%d/guarantees", lotID), "lot-guarantees"},
			{"/supervisor/deposits", "deposits"}, {"/supervisor/refunds", "refunds"},
			{"/supervisor/audit", "audit"}, {"/supervisor/audit?from=2026-13-01", "error-400-field"},
			{"/reports/savings", "savings"}, {"/account", "supervisor-account"},
		} {
			visit(t, chrome, base, p.path, p.name)
		}
		logout(t, chrome)
	})

	role("agent", func(t *testing.T, chrome context.Context) {
		login(t, chrome, base, "daili", "daili-ggzy-2026")
		for _, p := range []struct{ path, name string }{
			{"/agent/projects", "agent-projects"}, {"/agent/projects/" + code, "agent-project"},
			{"/agent/projects/new", "project-form"}, {fmt.Sprintf("/agent/lots/%d/registrations", lotID), "registrations"},
			{fmt.Sprintf("/agent/lots/%d/result", lotID), "lot-result"},
			{fmt.Sprintf("/agent/lots/%d/documents", lotID), "lot-documents"},
			{fmt.Sprintf("/agent/announcements/%d/edit", noticeID), "notice-edit"},
		} {
			visit(t, chrome, base, p.path, p.name)
		}
		// A lot's field refused: the error names it in Chinese, not lots[0]….
		if err := chromedp.Do(chrome, chromedp.Navigate(base+"/agent/projects/new"),
			chromedp.SetValue(chromedp.CSS(`select[name="category"]`), "engineering"),
			chromedp.SetValue(chromedp.CSS(`input[name="title"]`), "无障碍检查项目"),
			chromedp.SetValue(chromedp.CSS(`input[name="owner_name"]`), "福州市某局"),
			chromedp.SetValue(chromedp.CSS(`input[name="lots[0].name"]`), "一标段"),
			chromedp.SetValue(chromedp.CSS(`input[name="lots[0].control_price"]`), "12,000,000"),
			chromedp.Click(chromedp.CSS("#save-project"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, chrome, "#form-error", "第1个标段的招标控制价")
		checkPage(t, chrome, "project-form-error")
		logout(t, chrome)
	})

	role("bidder", func(t *testing.T, chrome context.Context) {
		login(t, chrome, base, "toubiao", "toubiao-ggzy-2026")
		for _, p := range []struct{ path, name string }{
			{"/my/projects", "my-projects"}, {"/my/deposits", "my-deposits"}, {"/my/guarantees", "my-guarantees"},
			{"/my/notifications", "notifications"}, {"/account", "bidder-account"},
		} {
			visit(t, chrome, base, p.path, p.name)
		}
		logout(t, chrome)
	})

	role("admin", func(t *testing.T, chrome context.Context) {
		login(t, chrome, base, "admin", "admin-ggzy-2026")
		for _, p := range []struct{ path, name string }{
			{"/admin/users", "admin-users"}, {"/admin/calendar", "admin-calendar"},
		} {
			visit(t, chrome, base, p.path, p.name)
		}
	})
}

// The vendored axe-core is the pinned one the README records.
func TestAxeCoreIsThePinnedVersion(t *testing.T) {
	t.Parallel()
	const want = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
	sum := sha256.Sum256([]byte(axeSource))
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("testdata/axe.min.js sha256 %s, want %s", got, want)
	}
	if !strings.HasPrefix(axeSource, "/*! axe v4.14.1") {
		t.Fatalf("testdata/axe.min.js is not axe-core 4.14.1: %.40q", axeSource)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil || !strings.Contains(string(readme), want) || !strings.Contains(string(readme), "npm pack axe-core@4.14.1") {
		t.Fatalf("README does not record axe-core's npm command and sha256 (%v)", err)
	}
}
