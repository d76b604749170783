package main

import (
	"bytes"
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

	"github.com/ggzy/ggzy/bidding"
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
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s: screenshot: %v", name, err)
	}
	file := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()+"-"+name)+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
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
	var lotID, announcementID int64
	if err := app.DB.Raw(`SELECT p.code, l.id FROM projects p JOIN lots l ON l.project_id = p.id
		WHERE p.status = 'active' ORDER BY p.id, l.seq LIMIT 1`).Row().Scan(&code, &lotID); err != nil {
		t.Fatal(err)
	}
	if err := app.DB.Raw(`SELECT id FROM announcements WHERE status = 'published' ORDER BY id LIMIT 1`).Row().Scan(&announcementID); err != nil {
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
	// Announcements the platform wrote from results: their amounts are read too.
	var resultIDs []int64
	if err := app.DB.Raw(`SELECT DISTINCT ON (type) id FROM announcements WHERE status = 'published'
		AND type IN ('candidates', 'result') ORDER BY type, id`).Scan(&resultIDs).Error; err != nil || len(resultIDs) != 2 {
		t.Fatalf("demo result announcements: %v %v", resultIDs, err)
	}
	// Issue 14 §3–4: a draft whose schedule breaks E1 (the error list), a
	// submitted announcement whose text names a date that is none of its times,
	// and a submitted amendment (the review page's dates and diff).
	forms := formsJourneyData(t, app)
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
			{"/", "home"}, {"/notices", "announcements"}, {fmt.Sprintf("/notices/%d", announcementID), "announcement"},
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
			{fmt.Sprintf("/supervisor/announcements/%d", announcementID), "review"},
			{fmt.Sprintf("/supervisor/lots/%d/result", lotID), "supervisor-lot-result"},
			{fmt.Sprintf("/supervisor/lots/%d/registrations", lotID), "supervisor-registrations"},
			{fmt.Sprintf("/lots/%d/guarantees", lotID), "lot-guarantees"},
			{"/supervisor/deposits", "deposits"}, {"/supervisor/refunds", "refunds"},
			{"/supervisor/audit", "audit"}, {"/supervisor/audit?from=2026-13-01", "error-400-field"},
			{"/reports/savings", "savings"}, {"/account", "supervisor-account"},
			{fmt.Sprintf("/supervisor/announcements/%d", forms.mismatch), "review-written-dates"},
			{fmt.Sprintf("/supervisor/announcements/%d", forms.amendment), "review-amendment"},
		} {
			visit(t, chrome, base, p.path, p.name)
			if p.name == "review-written-dates" {
				// The date the text gets wrong is flagged beside the times.
				waitText(t, chrome, "#written-dates tr.date-mismatch", "与任何结构化时间都不符")
				waitText(t, chrome, "#review-lot-table .deposit-asked", "元")
				waitText(t, chrome, "#review-document-table", "招标文件.pdf")
				waitText(t, chrome, "#rule-notes", "TXT")
			}
			if p.name == "review-amendment" {
				waitText(t, chrome, "#amendment-diff tr.diff-change ins", "延期至")
				waitText(t, chrome, "#review-lot-table tr.changed strong", "")
			}
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
			{fmt.Sprintf("/agent/announcements/%d/edit", announcementID), "notice-edit"},
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
		// The project form shows one category's fields: switching to land
		// hides every engineering-only field and names lots 地块.
		if err := chromedp.Do(chrome, chromedp.Navigate(base+"/agent/projects/new")); err != nil {
			t.Fatal(err)
		}
		waitText(t, chrome, "#project-form", "")
		for _, c := range []struct{ cat, noun, owner string }{{"engineering", "标段", "招标人"}, {"procurement", "包", "采购人"},
			{"land", "地块", "出让人"}, {"property", "标的", "转让方"}} {
			state, err := chromedp.Run(chrome, chromedp.Evaluate[string](`(function(){
				const s = document.querySelector("#category"); s.value = `+"`"+c.cat+"`"+`; s.dispatchEvent(new Event("change"));
				const els = [...document.querySelectorAll("[data-cats]")].filter(e => e.tagName !== "OPTION" && e.tagName !== "OPTGROUP");
				const mine = e => e.dataset.cats.split(" ").includes(s.value);
				const options = [...document.querySelectorAll("option[data-cats], optgroup[data-cats]")].filter(o => o.hidden === mine(o)).length;
				const wrong = els.filter(e => e.offsetParent !== null && !mine(e)).length + options;
				const right = els.filter(e => mine(e) && e.offsetParent === null && !e.closest("[hidden]:not([data-cats])")).length;
				return wrong + "|" + right + "|" + document.querySelector("fieldset.lot legend").innerText + "|" + document.querySelector("#owner_name").parentElement.innerText.trim() +
					"|" + (document.querySelector("#category-apply").offsetParent === null);
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if want := "0|0|" + c.noun + " 1|" + c.owner + "|true"; state != want {
				t.Errorf("category %s: %q, want %q (hidden fields of other categories shown | own fields hidden | legend | owner | no-script button hidden)", c.cat, state, want)
			}
			if c.cat == "land" {
				checkPage(t, chrome, "project-form-land")
			}
		}
		// A refused submission: the list of broken rules, each linking to its input.
		if err := chromedp.Do(chrome, chromedp.Navigate(fmt.Sprintf("%s/agent/announcements/%d/edit", base, forms.e1Draft)),
			chromedp.Click(chromedp.CSS("#save-submit"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, chrome, "#violations .rule-id", "E1")
		waitText(t, chrome, "#violations .source", "招标投标法第二十四条")
		checkPage(t, chrome, "notice-violations")
		if href := waitAttr(t, chrome, "#violations a.fix", "href"); !strings.HasSuffix(href, "/edit#lot0-bid_deadline") {
			t.Fatalf("fix link %q", href)
		}
		if err := chromedp.Do(chrome, chromedp.Click(chromedp.CSS("#violations a.fix"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, chrome, "#project-form", "")
		if target, err := chromedp.Run(chrome, chromedp.Evaluate[string](`location.hash + "|" + (document.querySelector(location.hash) !== null)`)); err != nil || target != "#lot0-bid_deadline|true" {
			t.Fatalf("the fix link lands on %q (%v)", target, err)
		}
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

// formsJourney are the announcements of the forms and review journeys.
type formsJourney struct{ e1Draft, mismatch, amendment int64 }

// formsJourneyData writes, as the demo's agent: a draft engineering announcement
// whose bid deadline is 9 days after the documents (E1 wants 20); a
// submitted one whose text names a deadline 13 days before the real one,
// with its tender document; and a submitted amendment that moves a
// published deadline and says so in its text.
func formsJourneyData(t *testing.T, app *App) formsJourney {
	t.Helper()
	ctx := context.Background()
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	day := func(d int, h, m int) time.Time {
		n := app.Clock.Now().In(trading.Shanghai)
		return time.Date(n.Year(), n.Month(), n.Day()+d, h, m, 0, 0, trading.Shanghai)
	}
	project := func(title string, deadline time.Time) *trading.Project {
		p, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: trading.Engineering, Title: title, OwnerName: "福州市某局",
			RegionCode: "350100", Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "12000000.00", Deposit: "200000.00",
				DocIssueStart: day(1, 9, 0).Format(time.RFC3339), DocIssueEnd: day(8, 17, 0).Format(time.RFC3339),
				BidDeadline: deadline.Format(time.RFC3339), OpeningPlace: "交易中心第一开标室"}}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var out formsJourney
	p := project("规则不符的草稿项目", day(10, 9, 30))
	n, err := app.Trading.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: trading.AnnouncementTender, Title: "规则不符的招标公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	out.e1Draft = n.ID

	deadline := day(30, 9, 30)
	p = project("正文日期不符的项目", deadline)
	pdf := append([]byte("%PDF-1.7\n"), make([]byte, 2000)...)
	if _, err := app.Bidding.Upload(ctx, agent, p.Lots[0].ID, bidding.UploadInput{Kind: bidding.DocTender, Filename: "招标文件.pdf"},
		bytes.NewReader(pdf), int64(len(pdf))); err != nil {
		t.Fatal(err)
	}
	wrong := deadline.AddDate(0, 0, -13)
	n, err = app.Trading.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: trading.AnnouncementTender, Title: "正文日期不符的招标公告",
		Body: fmt.Sprintf("# 招标公告\n投标截止时间：%d月%d日9时30分。", wrong.Month(), wrong.Day())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Trading.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	out.mismatch = n.ID

	p = project("变更对照的项目", day(30, 9, 30))
	publishAnnouncement(t, app, agent, sup, p.Code, trading.AnnouncementTender, "变更对照的招标公告")
	var opening trading.Announcement
	if err := app.DB.Where("project_id = ? AND type = 'tender'", p.ID).First(&opening).Error; err != nil {
		t.Fatal(err)
	}
	later := day(40, 9, 30)
	n, err = app.Trading.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: trading.AnnouncementAmendment, AmendsID: opening.ID,
		Title: "变更对照的变更公告", Body: fmt.Sprintf("投标截止时间延期至%d年%d月%d日9时30分。", later.Year(), later.Month(), later.Day()),
		Changes: []trading.LotChangeInput{{LotID: p.Lots[0].ID, BidDeadline: later.Format(time.RFC3339)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Trading.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	out.amendment = n.ID
	return out
}
