package supervision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/tradingtest"
)

// staticSource is a plug-in of the dashboard that reports fixed alerts, as
// bidding's and deposits' sources do from their tables.
type staticSource struct {
	section string
	alerts  []trading.Alert
}

func (s staticSource) Alerts(context.Context, time.Time, int) ([]trading.Alert, error) {
	return s.alerts, nil
}
func (s staticSource) Timeline(context.Context, int64) ([]trading.TimelineEvent, error) {
	return []trading.TimelineEvent{{At: time.Date(2026, 3, 5, 10, 0, 0, 0, trading.Shanghai), Kind: "deposit", Title: "保证金到账"}}, nil
}

type depositSource struct{ staticSource }

func (s depositSource) Section() string { return s.section }

func TestDashboardSections(t *testing.T) {
	t.Parallel()
	ts, clock := tradingtest.NewService(t)
	s := &Service{Service: ts}
	ctx := context.Background()
	agent := tradingtest.Account(t, s.Service, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s.Service, trading.RoleSupervisor, "jiandu")
	s.Supervision = []trading.SupervisionSource{
		depositSource{staticSource{section: trading.SectionDeposits, alerts: []trading.Alert{{Kind: "refund_overdue", Rule: "D6", Title: "退款逾期",
			ProjectCode: "350100-2026-GC-9999", At: time.Date(2026, 3, 9, 0, 0, 0, 0, trading.Shanghai)}}}},
		staticSource{alerts: []trading.Alert{{Kind: "contract_late", Rule: "E14", Title: "合同逾期未签订", At: time.Date(2026, 3, 8, 0, 0, 0, 0, trading.Shanghai)}}},
	}
	eng, _ := tradingtest.PublishedProject(t, s.Service, agent, sup, "engineering", "某工程招标公告")
	proc, _ := tradingtest.PublishedProject(t, s.Service, agent, sup, "procurement", "某采购公告")
	// A land announcement waiting for review: its project is not active yet.
	land, err := s.CreateProject(ctx, agent, tradingtest.ProjectInput("land"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.DraftAnnouncement(ctx, agent, land.Code, trading.AnnouncementInput{Type: trading.AnnouncementListing, Title: "某地块挂牌出让公告", Body: "正文"})
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	// A scheduled announcement the publisher returns because by then it breaks a rule.
	late, _ := s.CreateProject(ctx, agent, tradingtest.ProjectInput("engineering"))
	ln, _ := s.DraftAnnouncement(ctx, agent, late.Code, trading.AnnouncementInput{Type: trading.AnnouncementTender, Title: "迟发的招标公告", Body: "正文"})
	if _, err := s.SubmitAnnouncement(ctx, agent, ln.ID); err != nil {
		t.Fatal(err)
	}
	soon := clock.Now().Add(2 * time.Hour)
	if _, err := s.ApproveAnnouncement(ctx, sup, ln.ID, &soon); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2026, 3, 4, 9, 0, 0, 0, trading.Shanghai))
	if _, err := s.PublishDue(ctx); err != nil {
		t.Fatal(err)
	}

	if _, err := s.Dashboard(ctx, agent); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("agent saw the dashboard: %v", err)
	}

	// Tuesday 10 March: both lots stop issuing documents at 17:00.
	clock.Set(time.Date(2026, 3, 10, 8, 0, 0, 0, trading.Shanghai))
	d, err := s.Dashboard(ctx, sup)
	if err != nil {
		t.Fatal(err)
	}
	if !d.WeekStart.Equal(time.Date(2026, 3, 9, 0, 0, 0, 0, trading.Shanghai)) {
		t.Fatalf("week starts %v", d.WeekStart)
	}
	if d.Today.Count != 2 || d.Week.Count != 2 || d.Today.Items[0].Kind != "doc_issue_end" || d.Today.Items[0].KindName() != "文件发售截止" {
		t.Fatalf("10 March: today %+v week %+v", d.Today, d.Week)
	}
	if d.Reviews.Count != 1 || d.Reviews.Items[0].ProjectCode != land.Code || d.Reviews.Items[0].Status != trading.AnnouncementSubmitted {
		t.Fatalf("reviews: %+v", d.Reviews)
	}
	if d.DepositAlerts.Count != 1 || d.DepositAlerts.Items[0].Kind != "refund_overdue" {
		t.Fatalf("deposit alerts: %+v", d.DepositAlerts)
	}
	// Rule items, newest first: the source's late contract (8 March) and
	// the announcement returned on 4 March.
	if d.RuleItems.Count != 2 || d.RuleItems.Items[1].Kind != "announcement_returned" || d.RuleItems.Items[1].ProjectCode != late.Code ||
		d.RuleItems.Items[0].Rule != "E14" {
		t.Fatalf("rule items: %+v", d.RuleItems)
	}
	if d.Audit.Count == 0 || d.Audit.Count > 20 {
		t.Fatalf("audit: %d", d.Audit.Count)
	}
	linked := 0
	for _, e := range d.Audit.Items {
		if e.Action == supervisionLookAction {
			t.Fatalf("the dashboard lists its own looks: %+v", e)
		}
		if e.ProjectCode != "" {
			linked++
		}
	}
	if linked == 0 {
		t.Fatal("no audit record links to its project")
	}

	// Monday 23 March: the engineering opening today, the procurement one on Wednesday.
	clock.Set(time.Date(2026, 3, 23, 8, 0, 0, 0, trading.Shanghai))
	d, err = s.Dashboard(ctx, sup)
	if err != nil {
		t.Fatal(err)
	}
	if d.Today.Count != 1 || d.Today.Items[0].Kind != "bid_opening" || d.Today.Items[0].ProjectCode != eng.Code ||
		d.Today.Items[0].Place != "交易中心第一开标室" {
		t.Fatalf("23 March today: %+v", d.Today)
	}
	if d.Week.Count != 2 || d.Week.Items[1].ProjectCode != proc.Code {
		t.Fatalf("23 March week: %+v", d.Week)
	}
	// A suspended project is flagged on the calendar and listed.
	if _, err := Suspend(ctx, s.Service, sup, eng.Code, "收到投诉，暂停开标"); err != nil {
		t.Fatal(err)
	}
	d, _ = s.Dashboard(ctx, sup)
	if !d.Today.Items[0].Suspended || d.Suspended.Count != 1 || d.Suspended.Items[0].SuspendReason != "收到投诉，暂停开标" {
		t.Fatalf("suspended: %+v %+v", d.Today, d.Suspended)
	}
	var looks int64
	s.DB.Model(&trading.AuditEvent{}).Where("action = ? AND object_id = ?", supervisionLookAction, "dashboard").Count(&looks)
	if looks != 3 {
		t.Fatalf("%d dashboard looks audited, want 3", looks)
	}
}

func TestTimelineMergesAndAuditsEarlyLooks(t *testing.T) {
	t.Parallel()
	ts, clock := tradingtest.NewService(t)
	s := &Service{Service: ts}
	ctx := context.Background()
	agent := tradingtest.Account(t, s.Service, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s.Service, trading.RoleSupervisor, "jiandu")
	s.Supervision = []trading.SupervisionSource{staticSource{}}
	p, n := tradingtest.PublishedProject(t, s.Service, agent, sup, "engineering", "某工程招标公告")
	clock.Set(time.Date(2026, 3, 6, 9, 0, 0, 0, trading.Shanghai))
	if _, err := Suspend(ctx, s.Service, sup, p.Code, "收到投诉，暂停报名"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Timeline(ctx, agent, p.Code); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("agent saw the timeline: %v", err)
	}
	tl, err := s.Timeline(ctx, sup, p.Code)
	if err != nil {
		t.Fatal(err)
	}
	if !sort.SliceIsSorted(tl.Events, func(i, j int) bool { return tl.Events[i].At.Before(tl.Events[j].At) }) {
		t.Fatal("timeline not in order")
	}
	var titles []string
	kinds := map[string]int{}
	for _, e := range tl.Events {
		titles = append(titles, e.Title)
		kinds[e.Kind]++
	}
	all := strings.Join(titles, "\n")
	for _, want := range []string{"起草招标公告“某工程招标公告”", "提交审核招标公告", "发布招标公告", "暂停项目：收到投诉，暂停报名", "保证金到账"} {
		if !strings.Contains(all, want) {
			t.Fatalf("timeline lacks %q:\n%s", want, all)
		}
	}
	if kinds["announcement"] != 3 || kinds["audit"] < 4 || kinds["deposit"] != 1 {
		t.Fatalf("kinds: %v", kinds)
	}
	// Before the bid deadline the look at registration counts is audited per lot.
	var early int64
	s.DB.Model(&trading.AuditEvent{}).Where("action = 'registration.view' AND object_type = 'lot' AND object_id = ?", fmt.Sprint(p.Lots[0].ID)).Count(&early)
	if early != 1 {
		t.Fatalf("%d early looks audited, want 1", early)
	}
	clock.Set(time.Date(2026, 3, 24, 9, 0, 0, 0, trading.Shanghai))
	if _, err := s.Timeline(ctx, sup, p.Code); err != nil {
		t.Fatal(err)
	}
	s.DB.Model(&trading.AuditEvent{}).Where("action = 'registration.view' AND object_type = 'lot'").Count(&early)
	if early != 1 {
		t.Fatalf("a look after the deadline was audited as early: %d", early)
	}
	if _, err := s.Timeline(ctx, sup, "350100-2026-GC-9999"); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("unknown project: %v", err)
	}
	_ = n
}

func TestSuspendAndResume(t *testing.T) {
	t.Parallel()
	ts, _ := tradingtest.NewService(t)
	s := &Service{Service: ts}
	ctx := context.Background()
	agent := tradingtest.Account(t, s.Service, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s.Service, trading.RoleSupervisor, "jiandu")
	p, _ := tradingtest.PublishedProject(t, s.Service, agent, sup, "engineering", "某工程招标公告")
	draft, _ := s.CreateProject(ctx, agent, tradingtest.ProjectInput("procurement"))
	bidder := trading.Actor{AccountID: 0, Username: "x", Role: trading.RoleBidder}
	for _, a := range []trading.Actor{agent, bidder} {
		if _, err := Suspend(ctx, s.Service, a, p.Code, "理由充分"); !errors.Is(err, trading.ErrForbidden) {
			t.Fatalf("%s suspended: %v", a.Role, err)
		}
		if _, err := Resume(ctx, s.Service, a, p.Code, ""); !errors.Is(err, trading.ErrForbidden) {
			t.Fatalf("%s resumed: %v", a.Role, err)
		}
	}
	for _, reason := range []string{"", " 停 ", strings.Repeat("停", 501)} {
		if _, err := Suspend(ctx, s.Service, sup, p.Code, reason); trading.AsError(err).Field != "reason" {
			t.Fatalf("reason %q: %v", reason, err)
		}
	}
	if _, err := Suspend(ctx, s.Service, sup, draft.Code, "理由充分"); trading.AsError(err).Status() != http.StatusConflict {
		t.Fatalf("draft suspended: %v", err)
	}
	if _, err := Resume(ctx, s.Service, sup, p.Code, ""); trading.AsError(err).Status() != http.StatusConflict || !errors.Is(err, ErrNotSuspended) {
		t.Fatalf("resumed a running project: %v", err)
	}
	if _, err := Suspend(ctx, s.Service, sup, p.Code, "  收到投诉，暂停  "); err != nil {
		t.Fatal(err)
	}
	if _, err := Suspend(ctx, s.Service, sup, p.Code, "再次暂停"); trading.AsError(err).Status() != http.StatusConflict {
		t.Fatalf("suspended twice: %v", err)
	}
	stored, _ := s.Project(ctx, sup, p.Code)
	err := stored.CheckRunning()
	if !errors.Is(err, trading.ErrSuspended) || trading.AsError(err).Status() != http.StatusConflict || !strings.Contains(err.Error(), "收到投诉，暂停") ||
		stored.SuspendedBy == nil || *stored.SuspendedBy != sup.AccountID {
		t.Fatalf("suspended project: %+v %v", stored, err)
	}
	if pub := stored.Public(); pub.SuspendReason != "收到投诉，暂停" || pub.SuspendedAt == nil {
		t.Fatalf("public view: %+v", pub)
	}
	if _, err := Resume(ctx, s.Service, sup, p.Code, "投诉已处理"); err != nil {
		t.Fatal(err)
	}
	stored, _ = s.Project(ctx, sup, p.Code)
	if stored.CheckRunning() != nil || stored.SuspendReason != "" || stored.SuspendedBy != nil {
		t.Fatalf("resumed: %+v", stored)
	}
	var events []trading.AuditEvent
	s.DB.Where("object_type = 'project' AND object_id = ? AND action IN ?", p.Code, []string{"project.suspend", "project.resume"}).
		Order("id").Find(&events)
	if len(events) != 2 || events[0].Summary != "暂停项目：收到投诉，暂停" || !strings.Contains(events[1].Summary, "投诉已处理") {
		t.Fatalf("audit: %+v", events)
	}
	if _, problem, err := trading.VerifyAudit(ctx, s.DB); problem != nil || err != nil {
		t.Fatalf("audit chain: %v %v", problem, err)
	}
}

// An imported holiday notice that broke an approved schedule (the
// provisional calendar's re-check, trading.CalendarSource) shows on the
// dashboard as a rule-book item naming the project.
func TestDashboardListsCalendarFlags(t *testing.T) {
	t.Parallel()
	ts, _ := tradingtest.NewService(t)
	s := &Service{Service: ts}
	ctx := context.Background()
	agent := tradingtest.Account(t, s.Service, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s.Service, trading.RoleSupervisor, "jiandu")
	s.Supervision = []trading.SupervisionSource{trading.CalendarSource{Svc: ts}}
	p, n := tradingtest.PublishedProject(t, s.Service, agent, sup, "engineering", "某工程招标公告")
	if err := ts.DB.Exec(`INSERT INTO calendar_flags (year, announcement_id, project_id, rule, field, message, created_at)
		VALUES (2027, ?, ?, 'E2', 'bid_deadline', '按正式日历实际19日', now())`, n.ID, p.ID).Error; err != nil {
		t.Fatal(err)
	}
	d, err := s.Dashboard(ctx, sup)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range d.RuleItems.Items {
		found = found || (a.Kind == "calendar_recheck" && a.ProjectCode == p.Code && a.Rule == "E2")
	}
	if !found {
		t.Fatalf("dashboard rule items %+v", d.RuleItems.Items)
	}
}
