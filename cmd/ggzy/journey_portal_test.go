package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A visitor uses the portal as a provincial one, in Chromium: the home
// page's calendar shows today's opening, the announcement list pages by number,
// several words narrow the search, a trading code finds its project's
// announcements, and the status and region filters keep their choice. Every
// page is saved as a screenshot and passes axe-core (checkPage).
func TestBrowserJourneyPortalList(t *testing.T) {
	t.Parallel()
	app, base := demoPortal(t)
	var code string
	if err := app.DB.Raw(`SELECT code FROM projects WHERE title = '地铁6号线配套道路工程施工'`).Row().Scan(&code); err != nil {
		t.Fatal(err)
	}
	chrome := newChrome(t)

	visit(t, chrome, base, "/", "portal-home-calendar")
	waitText(t, chrome, "#calendar", "地铁6号线配套道路工程施工")
	if s := text(t, chrome, "#figures"); !strings.Contains(s, "2026年发布公告") || !strings.Contains(s, "成交金额") {
		t.Errorf("home figures: %q", s)
	}

	visit(t, chrome, base, "/notices", "portal-notices")
	first := text(t, chrome, "#notices tbody")
	if err := chromedp.Do(chrome, chromedp.Click(chromedp.CSS(`.pager a[href$="page=2"]`))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, `.pager [aria-current="page"]`, "2")
	checkPage(t, chrome, "portal-notices-page-2")
	if second := text(t, chrome, "#notices tbody"); second == first {
		t.Error("page 2 shows page 1's announcements")
	}

	// Two words: the one announcement with both.
	if err := chromedp.Do(chrome, chromedp.SetValue(chromedp.CSS(`#notice-filters input[name="q"]`), "地铁 澄清"),
		chromedp.Click(chromedp.CSS(`#notice-filters button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#notice-total", "共 1 条")
	waitText(t, chrome, "#notices tbody", "澄清与变更公告")
	checkPage(t, chrome, "portal-notices-two-words")

	// The trading code typed in the box: both announcements of the project,
	// each 已开标 (09:30 passed) with its deadline.
	if err := chromedp.Do(chrome, chromedp.SetValue(chromedp.CSS(`#notice-filters input[name="q"]`), code),
		chromedp.Click(chromedp.CSS(`#notice-filters button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#notice-total", "共 2 条")
	rows := text(t, chrome, "#notices tbody")
	if strings.Count(rows, "已开标") != 2 || strings.Count(rows, "2026-10-16 09:30") != 2 || strings.Count(rows, "施工") < 2 {
		t.Errorf("the trading code's announcements: %q", rows)
	}
	checkPage(t, chrome, "portal-notices-trading-code")

	// Status and region chosen from the selects: the page keeps them.
	if _, err := chromedp.Run(chrome, chromedp.Evaluate[bool](`(function () {
		const f = document.getElementById("notice-filters");
		f.q.value = ""; f.status.value = "opened"; f.region.value = "350104";
		return f.status.value === "opened" && f.region.value === "350104";
	})()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(chrome, chromedp.Click(chromedp.CSS(`#notice-filters button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#notices tbody", "地铁6号线")
	checkPage(t, chrome, "portal-notices-status-region")
	state, err := chromedp.Run(chrome, chromedp.Evaluate[string](`[document.querySelector('select[name="status"]').value,
		document.querySelector('select[name="region"]').value,
		[...document.querySelectorAll("#notices tbody tr")].every(r => r.dataset.status === "opened") ? "all opened" : "other"].join(" ")`))
	if err != nil || state != "opened 350104 all opened" {
		t.Errorf("filters after submitting: %q %v", state, err)
	}
}
