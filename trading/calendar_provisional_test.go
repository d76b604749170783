package trading

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading/rules"
)

func sh(y int, m time.Month, d, hh, mm int) string {
	return time.Date(y, m, d, hh, mm, 0, 0, Shanghai).Format(time.RFC3339)
}

// landListing creates a land project listed from 2026-12-21 to the given
// close and submits and approves its announcement on 2026-12-01.
func landListing(t *testing.T, s *Service, agent, sup Actor, title string, end string) (*Project, *Announcement) {
	t.Helper()
	ctx := context.Background()
	in := projectInput("land")
	in.Title = title
	in.Lots[0].ListingStart, in.Lots[0].ListingEnd = sh(2026, 12, 21, 9, 0), end
	p, err := s.CreateProject(ctx, agent, in)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementListing, Title: title + "挂牌出让公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err = s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatalf("December listing into 2027 refused: %v", err)
	}
	if len(n.RuleNotes) != 1 || n.RuleNotes[0].Rule != "L2" || n.RuleNotes[0].Kind != rules.NoteProvisional ||
		!strings.Contains(n.RuleNotes[0].Message, rules.ProvisionalMark) {
		t.Fatalf("submission notes %+v", n.RuleNotes)
	}
	if n, err = s.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	return p, n
}

// TestDecemberListingUsesProvisionalCalendar (issue 13, item 14): in
// December a land listing whose 10 working days (L2) run into 2027, whose
// notice is not loaded, is accepted by the provisional calendar and marked
// 按暂行日历计算. Importing the official 2027 notice replaces the provisional
// year; the approved schedule that no longer holds is flagged to the
// supervisors (dashboard, timeline) and audited, the other is not.
func TestDecemberListingUsesProvisionalCalendar(t *testing.T) {
	t.Parallel()
	s, clock := newTestService(t)
	ctx := context.Background()
	clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, Shanghai))
	s.Supervision = append(s.Supervision, CalendarSource{Svc: s})
	e := projectWeb(t, s)
	_, agent := webLogin(t, s, RoleAgent, "daili")
	supCk, sup := webLogin(t, s, RoleSupervisor, "jiandu")
	admin := newCalendarAdmin(t, s, "rili")

	// Provisionally: 12-22 … 12-31 are 8 working days, 元旦 is off, so
	// 01-04 and 01-05 make 10. Both lots hold.
	tight, tn := landListing(t, s, agent, sup, "榕土2026-88号", sh(2027, 1, 5, 16, 0))
	roomy, _ := landListing(t, s, agent, sup, "榕土2026-89号", sh(2027, 1, 7, 16, 0))
	// The review page shows the marker on the rule result.
	code, body, _ := calendarDo(t, e, "GET", "/supervisor/announcements/"+itoa(tn.ID), nil, supCk)
	if code != 200 || !strings.Contains(body, `id="rule-notes"`) || !strings.Contains(body, "<strong>L2</strong> 地块1（榕土2026-01号地块）："+rules.ProvisionalMark) {
		t.Fatalf("review page %d\n%s", code, body)
	}

	// The official notice (made up here) also gives 2027-01-04 off: the
	// tight listing has 9 working days, the roomy one still 10.
	official := "date,kind,holiday\n2027-01-01,off,元旦\n2027-01-04,off,元旦\n2027-02-08,off,春节\n"
	if err := s.SaveCalendarYear(ctx, admin, 2027, official); err != nil {
		t.Fatal(err)
	}
	var flags []calendarFlag
	if err := s.DB.Order("id").Find(&flags).Error; err != nil {
		t.Fatal(err)
	}
	if len(flags) != 1 || flags[0].ProjectID != tight.ID || flags[0].Rule != "L2" || flags[0].Year != 2027 ||
		!strings.Contains(flags[0].Message, "实际9个工作日") {
		t.Fatalf("flags %+v", flags)
	}
	alerts, err := CalendarSource{Svc: s}.Alerts(ctx, clock.Now(), 10)
	if err != nil || len(alerts) != 1 || alerts[0].ProjectCode != tight.Code || alerts[0].Rule != "L2" {
		t.Fatalf("alerts %+v %v", alerts, err)
	}
	if tl, err := (CalendarSource{Svc: s}).Timeline(ctx, tight.ID); err != nil || len(tl) != 1 || !strings.Contains(tl[0].Title, "L2") {
		t.Fatalf("timeline %+v %v", tl, err)
	}
	if tl, err := (CalendarSource{Svc: s}).Timeline(ctx, roomy.ID); err != nil || len(tl) != 0 {
		t.Fatalf("roomy timeline %+v %v", tl, err)
	}
	// The dashboard lists a source's alerts as rule-book items; that the
	// calendar flag reaches it through CalendarSource is checked in
	// trading/supervision (TestDashboardListsCalendarFlags), which this
	// package cannot import. Here: the alert it would list.
	if alerts[0].Kind != "calendar_recheck" {
		t.Fatalf("alert kind %q, want calendar_recheck", alerts[0].Kind)
	}
	var audits int64
	if err := s.DB.Model(&AuditEvent{}).Where("action = ? AND summary LIKE ?", "calendar.recheck", "%"+tight.Code+"%").
		Count(&audits).Error; err != nil || audits != 1 {
		t.Fatalf("calendar.recheck audit records: %d", audits)
	}
	// Saving the same year again flags nothing twice.
	if err := s.SaveCalendarYear(ctx, admin, 2027, official+"\n"); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := s.DB.Table("calendar_flags").Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("flags after a second save: %d", n)
	}

	// The official year is in force: nothing is provisional any more.
	book, err := s.RuleBook(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Project(ctx, sup, roomy.Code)
	if err != nil {
		t.Fatal(err)
	}
	rl := p.Lots[0].RuleLot(p.Category)
	rl.AnnouncementAt = time.Date(2026, 12, 1, 9, 0, 0, 0, Shanghai)
	if res := book.Check(rl, rl.AnnouncementAt); len(res.Violations) != 0 || len(res.Notes) != 0 {
		t.Fatalf("roomy lot by the official 2027: %+v", res)
	}
}

// TestHolidayWarningReachesAgentAndSupervisor (item 15): an opening on a
// Saturday is accepted with a HOL warning, shown to the agent at submission
// (page and API) and to the supervisor on the review page.
// projectWeb serves the project, review and rule book pages of s.
func projectWeb(t *testing.T, s *Service) *echo.Echo {
	t.Helper()
	pages, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	w := &Web{Svc: s, Pages: pages, Log: s.Log}
	e := echo.New()
	e.HTTPErrorHandler = w.ErrorHandler
	e.Use(w.LoadSession)
	w.ProjectRoutes(e, e.Group("/api/v1"))
	w.CalendarRoutes(e)
	return e
}

// webLogin creates an account and signs it in.
func webLogin(t *testing.T, s *Service, role Role, user string) (*http.Cookie, Actor) {
	t.Helper()
	a := mustAccount(t, s, role, user)
	token, _, err := s.Login(context.Background(), SessionWeb, user, "pass12345", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: SessionCookie, Value: token}, a
}

func TestHolidayWarningReachesAgentAndSupervisor(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	e := projectWeb(t, s)
	agentCk, agent := webLogin(t, s, RoleAgent, "daili")
	supCk, _ := webLogin(t, s, RoleSupervisor, "jiandu")

	newAnnouncement := func(title string) int64 {
		in := projectInput("engineering")
		in.Title = title
		in.Lots[0].BidDeadline = at(3, 28, 9, 30) // Saturday 2026-03-28
		p, err := s.CreateProject(ctx, agent, in)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementTender, Title: title + "招标公告", Body: "正文"})
		if err != nil {
			t.Fatal(err)
		}
		return n.ID
	}

	// The page: the flash after submitting names HOL.
	id := newAnnouncement("周六开标项目一")
	code, _, h := calendarDo(t, e, "POST", "/agent/announcements/"+itoa(id)+"/submit", map[string][]string{"x": {"1"}}, agentCk)
	if code != http.StatusSeeOther {
		t.Fatalf("submit = %d", code)
	}
	flash := ""
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "ggzy_flash" {
			flash = flashDecode(c.Value)
		}
	}
	if !strings.Contains(flash, "公告已提交") || !strings.Contains(flash, "HOL") || !strings.Contains(flash, "星期六") {
		t.Fatalf("flash %q", flash)
	}

	// The review page shows the warning beside a clean rule check.
	code, body, _ := calendarDo(t, e, "GET", "/supervisor/announcements/"+itoa(id), nil, supCk)
	if code != 200 || !strings.Contains(body, `id="rules-ok"`) || !strings.Contains(body, `id="rule-notes"`) ||
		!strings.Contains(body, "<strong>HOL</strong>") {
		t.Fatalf("review page %d\n%s", code, body)
	}

	// The API: the submission's answer carries rule_notes.
	id = newAnnouncement("周六开标项目二")
	req := map[string][]string(nil)
	code, body, _ = calendarDo(t, e, "POST", "/api/v1/announcements/"+itoa(id)+"/submit", req, agentCk)
	var out struct {
		Status    string `json:"status"`
		RuleNotes []struct {
			Rule, Kind, Field, Message string
		} `json:"rule_notes"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || code != 200 || out.Status != "submitted" ||
		len(out.RuleNotes) != 1 || out.RuleNotes[0].Rule != "HOL" || out.RuleNotes[0].Kind != "warning" ||
		out.RuleNotes[0].Field != "lots[0].bid_deadline" {
		t.Fatalf("API submit %d %s", code, body)
	}

	// /rules lists HOL as a warning, G2 as not checked, and the
	// provisional calendar for 2027.
	code, body, _ = calendarDo(t, e, "GET", "/rules", nil, nil)
	if code != 200 || !strings.Contains(body, `id="rule-HOL"`) || !strings.Contains(body, `id="rule-procurement-G2" class="unchecked"`) ||
		!strings.Contains(body, "未校验：") || !strings.Contains(body, "按暂行日历计算") ||
		!strings.Contains(body, `<span class="rule-provisional">2027年的工作日按暂行日历计算</span>`) ||
		!strings.Contains(body, `id="provisional-2027"`) || !strings.Contains(body, "2027-02-08 春节（暂行）") {
		t.Fatalf("/rules %d\n%s", code, body)
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
