package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/supervision"
)

// The supervisors' dashboard has a live feed: a supervisor's open page
// hears of a suspension at once, through /supervise/events (Server-Sent
// Events on the session cookie); nobody else may open that stream.
func TestSupervisionLiveFeed(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	depositLot(t, app)
	var p trading.Project
	if err := app.DB.First(&p).Error; err != nil {
		t.Fatal(err)
	}

	// Others: anonymous is sent to log in, an agent's token is refused.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noFollow.Get(srv.URL + "/supervise/events"); err != nil || resp.StatusCode == http.StatusOK ||
		strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("anonymous visitor: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	agent := newBrowser(t, srv.URL)
	agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	noFollow.Jar = agent.c.Jar
	if resp, err := noFollow.Get(srv.URL + "/supervise/events"); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("agent: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}

	sup := newBrowser(t, srv.URL)
	sup.post("/login", "/login", url.Values{"username": {"jiandu"}, "password": {"jiandu2026"}})
	code, page := sup.get("/supervise")
	m := regexp.MustCompile(`data-live-src="/supervise/events" data-live-last="(\d+)"`).FindStringSubmatch(page)
	if code != 200 || m == nil || !regexp.MustCompile(`<script src="/static/live\.[0-9a-f]+\.js" defer>`).MatchString(page) {
		t.Fatalf("dashboard %d has no live feed:\n%s", code, page)
	}
	last, _ := strconv.ParseInt(m[1], 10, 64)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/supervise/events?last_event_id="+m[1], nil)
	resp, err := sup.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan [3]string, 16)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		var e [3]string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e[1] != "" {
					events <- e
				}
				e = [3]string{}
			case strings.HasPrefix(line, "id: "):
				e[0] = line[4:]
			case strings.HasPrefix(line, "event: "):
				e[1] = line[7:]
			case strings.HasPrefix(line, "data: "):
				e[2] = line[6:]
			}
		}
	}()
	next := func() [3]string {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("stream ended")
			}
			return e
		case <-time.After(20 * time.Second):
			t.Fatal("no event")
		}
		return [3]string{}
	}
	if e := next(); e[1] != "clock" {
		t.Fatalf("first event %v, want the clock", e)
	}
	const reason = "收到投诉，暂停核查"
	if _, err := supervision.Suspend(context.Background(), app.Trading, actorOf(t, app, "jiandu"), p.Code, reason); err != nil {
		t.Fatal(err)
	}
	e := next()
	var item trading.FeedItem
	if e[0] != strconv.FormatInt(last+1, 10) || e[1] != "project.suspended" || json.Unmarshal([]byte(e[2]), &item) != nil ||
		item.Project != p.Code || !strings.Contains(item.Text, reason) || item.Link != "/supervise/projects/"+p.Code {
		t.Fatalf("event %v after %d", e, last)
	}
	if _, err := supervision.Resume(context.Background(), app.Trading, actorOf(t, app, "jiandu"), p.Code, ""); err != nil {
		t.Fatal(err)
	}
	if e := next(); e[0] != strconv.FormatInt(last+2, 10) || e[1] != "project.resumed" {
		t.Fatalf("event %v", e)
	}
	var d supervision.Dashboard
	if code := call(t, "GET", srv.URL+"/api/v1/supervision/dashboard", apiToken(t, srv.URL, "jiandu", "jiandu2026"), nil, &d); code != 200 || d.LiveSeq != last+2 {
		t.Fatalf("dashboard API: %d live_seq %d, want %d", code, d.LiveSeq, last+2)
	}
}

// In Chromium: a supervisor's open dashboard shows a suspension and the
// resumption as they happen, newest first, without reloading, and the
// server's clock with the browser's offset (live.js).
func TestBrowserJourneyLiveDashboard(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	depositLot(t, app)
	var p trading.Project
	if err := app.DB.First(&p).Error; err != nil {
		t.Fatal(err)
	}
	ctx := newChrome(t)
	login(t, ctx, srv.URL, "jiandu", "jiandu2026")
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/supervise"),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-live-state="open"]`))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "[data-live-clock]", "服务器时间")
	// A mark on the page: it would be gone after a reload.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.liveMark = true`)); err != nil {
		t.Fatal(err)
	}
	const reason = "现场核查，暂停交易"
	sup := actorOf(t, app, "jiandu")
	if _, err := supervision.Suspend(context.Background(), app.Trading, sup, p.Code, reason); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, `#live li[data-live-kind="project.suspended"]`, reason)
	if _, err := supervision.Resume(context.Background(), app.Trading, sup, p.Code, ""); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, `#live li:first-child`, "已恢复")
	kinds, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`window.liveMark ? [...document.querySelectorAll('#live li')].map(li => li.dataset.liveKind) : ['reloaded']`))
	if err != nil || strings.Join(kinds, ",") != "project.resumed,project.suspended" {
		t.Fatalf("feed %v %v", kinds, err)
	}
	// Leave the page, so the stream ends before the server closes.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
}

// In Chromium: the server ends the dashboard's stream (GGZY_LIVE_MAX_STREAM,
// here 2 s), an event is published while the page is disconnected, and the
// page's reconnection (EventSource with Last-Event-ID) brings it, once.
func TestBrowserJourneyLiveReconnect(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.LiveStream = 2 * time.Second
	app, srv := newTestServer(t, cfg)
	depositLot(t, app)
	var p trading.Project
	if err := app.DB.First(&p).Error; err != nil {
		t.Fatal(err)
	}
	ctx := newChrome(t)
	login(t, ctx, srv.URL, "jiandu", "jiandu2026")
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/supervise"),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-live-state="open"]`))); err != nil {
		t.Fatal(err)
	}
	// The stream ends; EventSource waits the server's retry (1-3 s).
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#live[data-live-state="reconnecting"]`))); err != nil {
		t.Fatal(err)
	}
	if _, err := supervision.Suspend(context.Background(), app.Trading, actorOf(t, app, "jiandu"), p.Code, "断线期间暂停"); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, `#live li[data-live-kind="project.suspended"]`, "断线期间暂停")
	res, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[document.querySelector('#live').dataset.liveOpens, String(document.querySelectorAll('#live li[data-live-kind]').length)]`))
	if err != nil || len(res) != 2 {
		t.Fatalf("page state: %v %v", res, err)
	}
	if opens, _ := strconv.Atoi(res[0]); opens < 2 || res[1] != "1" {
		t.Fatalf("opens, items: %v %v", res, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
}
