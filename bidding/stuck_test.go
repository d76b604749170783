package bidding

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/portal"
)

// resultServer serves bidding's pages and API on the test's platform, with
// the agent logged in on the web and by API token.
func (e *bidEnv) resultServer() (srv *echo.Echo, cookie, token string) {
	e.t.Helper()
	ctx := context.Background()
	pages, err := templates.New()
	if err != nil {
		e.t.Fatal(err)
	}
	web := &trading.Web{Svc: e.TS, Pages: pages, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv = echo.New()
	srv.HTTPErrorHandler = web.ErrorHandler
	srv.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		withSession := web.LoadSession(next)
		return func(c echo.Context) error {
			if trading.IsAPI(c) {
				return next(c)
			}
			return withSession(c)
		}
	})
	h := &Handler{Svc: e.Svc, Web: web}
	h.Routes(srv, srv.Group("/api/v1", web.LoadBearer))
	if token, _, err = e.TS.Login(ctx, trading.SessionAPI, "daili", "pass12345", "127.0.0.1", "test"); err != nil {
		e.t.Fatal(err)
	}
	if cookie, _, err = e.TS.Login(ctx, trading.SessionWeb, "daili", "pass12345", "127.0.0.1", "test"); err != nil {
		e.t.Fatal(err)
	}
	return srv, cookie, token
}

// csrfOf reads the CSRF token of a page.
func csrfOf(page string) string {
	const k = `name="_csrf" value="`
	i := strings.Index(page, k)
	if i < 0 {
		return ""
	}
	rest := page[i+len(k):]
	return rest[:strings.IndexByte(rest, '"')]
}

// Issue 13 items 1 and 2: a lot nobody registered for, or nobody bid on,
// fails in one step (E7, G10, L10), from the page and from the API, and
// its failure goes public through review: a 流标公告 (engineering,
// procurement) or the 未成交公告 (land, property).
func TestStuckLotsFailInOneStep(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	eng := e.project("engineering", true)  // nobody registers
	proc := e.project("procurement", true) // two register, nobody bids
	land := e.project("land", true)        // nobody applies
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	e.registerBidders(proc, 2)
	e.Clock.Set(time.Date(2026, 4, 9, 10, 0, 0, 0, trading.Shanghai))
	srv, cookie, token := e.resultServer()

	// The engineering lot, from the page: it offers the one-step failure,
	// and that step fails the lot under E7.
	get := func(path string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(&http.Cookie{Name: trading.SessionCookie, Value: cookie})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	code, page := get(fmt.Sprintf("/agent/lots/%d/result", eng.Lots[0].ID))
	if code != http.StatusOK || !strings.Contains(page, `id="no-bids-form"`) || !strings.Contains(page, "流标（E7）") {
		t.Fatalf("result page (%d) offers no one-step failure:\n%s", code, page)
	}
	form := url.Values{"_csrf": {csrfOf(page)}}
	req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/agent/lots/%d/result/failed", eng.Lots[0].ID), strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.AddCookie(&http.Cookie{Name: trading.SessionCookie, Value: cookie})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("one-step failure from the page: %d %s", rec.Code, rec.Body)
	}

	// The procurement lot, from the API: an empty opening record is a
	// record (nobody bid), and fails the lot under G10.
	api := func(path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	if rec := api(fmt.Sprintf("/api/v1/lots/%d/result/opening", proc.Lots[0].ID), `{"bids":[]}`); rec.Code != http.StatusOK {
		t.Fatalf("empty opening record: %d %s", rec.Code, rec.Body)
	}
	// The land lot, from the API, with no reason given: a no-sale (L10).
	if rec := api(fmt.Sprintf("/api/v1/lots/%d/result/failed", land.Lots[0].ID), `{}`); rec.Code != http.StatusNoContent {
		t.Fatalf("one-step no-sale: %d %s", rec.Code, rec.Body)
	}

	for _, c := range []struct {
		p    *trading.Project
		rule string
		typ  trading.AnnouncementType
	}{{eng, "E7", trading.AnnouncementFailure}, {proc, "G10", trading.AnnouncementFailure}, {land, "L10", trading.AnnouncementResult}} {
		v, err := e.Svc.Result(ctx, e.Agent, c.p.Lots[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		n := v.FailureAnnouncement
		if c.typ == trading.AnnouncementResult {
			n = v.ResultAnnouncement
		}
		if v.Result == nil || v.Result.FailedRule != c.rule || n == nil || n.Type != c.typ || n.Status != trading.AnnouncementSubmitted ||
			!strings.Contains(n.Body, c.rule) {
			t.Fatalf("%s: result %+v, announcement %+v", c.p.Category, v.Result, n)
		}
		// Published through review, the failure is public and final.
		e.approve(n.ID)
		if v, _ = e.Svc.Result(ctx, e.Agent, c.p.Lots[0].ID); v.Result.Stage != StageFailed && v.Result.Stage != StageNoSale {
			t.Fatalf("%s: stage %s after the announcement", c.p.Category, v.Result.Stage)
		}
		if o := e.outcome(c.p.Lots[0].ID); o.Status != trading.OutcomeFailed || o.Rule != c.rule {
			t.Fatalf("%s: outcome %+v", c.p.Category, o)
		}
		var public trading.Announcement
		if err := e.TS.DB.First(&public, n.ID).Error; err != nil || public.Status != trading.AnnouncementPublished {
			t.Fatalf("%s: announcement %d not published: %+v %v", c.p.Category, n.ID, public, err)
		}
	}
	// OCDS from the database: each failed lot is unsuccessful, and so is
	// its tender (its only lot is done, none succeeded); the land no-sale is
	// an unsuccessful award.
	for _, c := range []*trading.Project{eng, proc, land} {
		awards, err := e.Svc.LotAwards(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := trading.LoadProject(e.TS.DB, "id = ?", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var anns []trading.Announcement
		e.TS.DB.Where("project_id = ? AND status = 'published'", c.ID).Order("published_seq").Find(&anns)
		pkg, err := portal.OCDSPackageWithAwards(p, anns, awards, "ocds-ggzy00", "https://ggzy.example.cn", e.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		r := pkg.Releases[len(pkg.Releases)-1]
		if r.Tender.Status != "unsuccessful" || r.Tender.Lots[0].Status != "unsuccessful" {
			t.Fatalf("%s OCDS: tender %s, lots %+v", c.Category, r.Tender.Status, r.Tender.Lots)
		}
		if c == land && (len(r.Awards) != 1 || r.Awards[0].Status != "unsuccessful") {
			t.Fatalf("land no-sale award: %+v", r.Awards)
		}
	}
	// A failure announcement is generated, never written by hand.
	if _, err := e.TS.DraftAnnouncement(ctx, e.Agent, eng.Code, trading.AnnouncementInput{Type: trading.AnnouncementFailure,
		Title: "手写的流标公告", Body: "正文"}); err == nil {
		t.Fatal("a hand-written failure announcement was accepted")
	}
	e.verifyAudit()
}
