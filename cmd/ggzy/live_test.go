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

	"github.com/ggzy/ggzy/trading"
)

// The supervisors' dashboard has a live feed: a supervisor's open page
// hears of a suspension at once, through /supervise/events (Server-Sent
// Events on the session cookie); nobody else may open that stream.
func TestSupervisionLiveFeed(t *testing.T) {
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
	if _, err := app.Trading.SuspendProject(context.Background(), actorOf(t, app, "jiandu"), p.Code, reason); err != nil {
		t.Fatal(err)
	}
	e := next()
	var item trading.FeedItem
	if e[0] != strconv.FormatInt(last+1, 10) || e[1] != "project.suspended" || json.Unmarshal([]byte(e[2]), &item) != nil ||
		item.Project != p.Code || !strings.Contains(item.Text, reason) || item.Link != "/supervise/projects/"+p.Code {
		t.Fatalf("event %v after %d", e, last)
	}
	if _, err := app.Trading.ResumeProject(context.Background(), actorOf(t, app, "jiandu"), p.Code, ""); err != nil {
		t.Fatal(err)
	}
	if e := next(); e[0] != strconv.FormatInt(last+2, 10) || e[1] != "project.resumed" {
		t.Fatalf("event %v", e)
	}
	var d trading.Dashboard
	if code := call(t, "GET", srv.URL+"/api/v1/supervision/dashboard", apiToken(t, srv.URL, "jiandu", "jiandu2026"), nil, &d); code != 200 || d.LiveSeq != last+2 {
		t.Fatalf("dashboard API: %d live_seq %d, want %d", code, d.LiveSeq, last+2)
	}
}
