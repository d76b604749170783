package trading

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading/rules"
)

// formsWeb serves the project and review pages of s with the page
// functions cmd/ggzy gives them (Chinese field names, links to inputs).
func formsWeb(t *testing.T, s *Service) *echo.Echo {
	t.Helper()
	pages, err := templates.New(TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	w := &Web{Svc: s, Pages: pages, Log: s.Log}
	e := echo.New()
	e.HTTPErrorHandler = w.ErrorHandler
	e.Use(w.LoadSession)
	w.ProjectRoutes(e, e.Group("/api/v1"))
	return e
}

// A draft project can be deleted by its agent only, only while it is a
// draft with nothing waiting for review; the deletion takes its lots and
// draft announcements and is audited.
func TestDeleteDraftProject(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	e := formsWeb(t, s)
	agentCk, agent := webLogin(t, s, RoleAgent, "daili")
	other := mustAccount(t, s, RoleAgent, "daili2")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")

	p, err := s.CreateProject(ctx, agent, projectInput(Engineering))
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementTender, Title: "草稿公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	// Not another agent's (it does not exist for them), not a supervisor's.
	if err := s.DeleteProject(ctx, other, p.Code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another agent: %v", err)
	}
	if err := s.DeleteProject(ctx, sup, p.Code); !errors.Is(err, ErrForbidden) {
		t.Fatalf("supervisor: %v", err)
	}
	// Not while an announcement waits for review.
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteProject(ctx, agent, p.Code); !errors.Is(err, ErrConflict) {
		t.Fatalf("with a submitted announcement: %v", err)
	}
	if err := s.WithdrawAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	// Not a published one.
	pub, _ := publishedProject(t, s, agent, sup, Procurement, "已发布的采购公告")
	if err := s.DeleteProject(ctx, agent, pub.Code); !errors.Is(err, ErrConflict) {
		t.Fatalf("published project: %v", err)
	}

	// The page asks for the ticked box first.
	code, _, _ := calendarDo(t, e, "POST", "/agent/projects/"+p.Code+"/delete", url.Values{"x": {"1"}}, agentCk)
	if code != http.StatusBadRequest {
		t.Fatalf("delete without confirm = %d", code)
	}
	var lots int64
	s.DB.Model(&Lot{}).Where("project_id = ?", p.ID).Count(&lots)
	if lots != 1 {
		t.Fatalf("unconfirmed delete removed lots: %d", lots)
	}
	code, _, h := calendarDo(t, e, "POST", "/agent/projects/"+p.Code+"/delete", url.Values{"confirm": {"1"}}, agentCk)
	if code != http.StatusSeeOther || h.Get("Location") != "/agent/projects" {
		t.Fatalf("delete = %d %s", code, h.Get("Location"))
	}
	if _, err := s.Project(ctx, agent, p.Code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted project still there: %v", err)
	}
	var left int64
	s.DB.Model(&Lot{}).Where("project_id = ?", p.ID).Count(&left)
	var announcements int64
	s.DB.Model(&Announcement{}).Where("project_id = ?", p.ID).Count(&announcements)
	if left != 0 || announcements != 0 {
		t.Fatalf("left behind: %d lots, %d announcements", left, announcements)
	}
	var ev AuditEvent
	if err := s.DB.Where("action = ? AND object_id = ?", "project.delete", p.Code).First(&ev).Error; err != nil ||
		ev.ActorID == nil || *ev.ActorID != agent.AccountID || !strings.Contains(ev.Summary, p.Title) {
		t.Fatalf("audit: %+v %v", ev, err)
	}
	if Label(LabelAction, "project.delete") == "project.delete" {
		t.Fatal("project.delete has no Chinese label")
	}
	// The published project is still there, and a deleted draft's trading
	// code is never given again (it stays in the audit log).
	if _, err := s.Project(ctx, agent, pub.Code); err != nil {
		t.Fatal(err)
	}
	again, err := s.CreateProject(ctx, agent, projectInput(Engineering))
	if err != nil || again.Code == p.Code {
		t.Fatalf("new project %v after deleting %s: %v", again, p.Code, err)
	}
}

// A submission the rule book refuses comes back as the draft's page with
// a list of the broken rules (rule id, article, actual value, a link to the
// input to fix), status 422, and no flash.
func TestSubmitRefusalIsAnErrorList(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	e := formsWeb(t, s)
	agentCk, agent := webLogin(t, s, RoleAgent, "daili")
	in := projectInput(Engineering)
	in.Lots[0].BidDeadline = at(3, 20, 9, 30) // 17 days after the documents: E1 needs 20
	p, err := s.CreateProject(ctx, agent, in)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementTender, Title: "E1不足的公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/agent/announcements/" + itoa(n.ID) + "/submit", "/agent/announcements/" + itoa(n.ID)} {
		form := url.Values{"title": {"E1不足的公告"}, "body": {"正文"}, "submit": {"1"}}
		code, body, h := calendarDo(t, e, "POST", path, form, agentCk)
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("%s = %d\n%s", path, code, body)
		}
		for _, want := range []string{`id="violations"`, `<strong class="rule-id">E1</strong>`, "招标投标法", `class="actual">标段1（一标段）：`,
			`href="/agent/projects/` + p.Code + `/edit#lot0-bid_deadline">第1个标段的投标截止时间</a>`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: page lacks %q\n%s", path, want, body)
			}
		}
		if strings.Contains(h.Get("Set-Cookie"), "ggzy_flash") {
			t.Errorf("%s: the refusal went to a flash", path)
		}
	}
	// The link lands on the input: the project form has that id.
	code, body, _ := calendarDo(t, e, "GET", "/agent/projects/"+p.Code+"/edit", nil, agentCk)
	if code != 200 || !strings.Contains(body, `id="lot0-bid_deadline"`) {
		t.Fatalf("project form %d lacks the input id", code)
	}
}

// An amendment's broken rule links to the amendment's own input of the
// lot's new time, on the same page.
func TestAmendmentRefusalLinksToItsInput(t *testing.T) {
	t.Parallel()
	s, clock := newTestService(t)
	ctx := context.Background()
	e := formsWeb(t, s)
	agent := mustAccount(t, s, RoleAgent, "daili")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	p, opening := publishedProject(t, s, agent, sup, Engineering, "原招标公告")
	clock.Set(clock.Now().AddDate(0, 0, 10)) // 11 days before the deadline: E4 wants 15
	token, _, err := s.Login(ctx, SessionWeb, "daili", "pass12345", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	agentCk := &http.Cookie{Name: SessionCookie, Value: token}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementAmendment, AmendsID: opening.ID, Title: "澄清公告",
		Body: "澄清内容", Changes: []LotChangeInput{{LotID: p.Lots[0].ID, OpeningPlace: "交易中心第二开标室"}}})
	if err != nil {
		t.Fatal(err)
	}
	code, body, _ := calendarDo(t, e, "POST", "/agent/announcements/"+itoa(n.ID)+"/submit", url.Values{"x": {"1"}}, agentCk)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `<strong class="rule-id">E4</strong>`) ||
		!strings.Contains(body, `href="#change-1-bid_deadline"`) || !strings.Contains(body, `id="change-1-bid_deadline"`) {
		t.Fatalf("amendment refusal %d\n%s", code, body)
	}
}

// An approval the rule book refuses (a publication time that breaks the
// schedule) is shown as the list on the review page, not a flash.
func TestApprovalRefusalIsAnErrorList(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	e := formsWeb(t, s)
	agent := mustAccount(t, s, RoleAgent, "daili")
	supCk, _ := webLogin(t, s, RoleSupervisor, "jiandu")
	p, err := s.CreateProject(ctx, agent, projectInput(Engineering))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementTender, Title: "某工程招标公告", Body: "正文"})
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	code, body, h := calendarDo(t, e, "POST", "/supervisor/announcements/"+itoa(n.ID)+"/approve",
		url.Values{"publish_at": {"2026-03-05T09:00"}}, supCk)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="violations"`) || !strings.Contains(body, `class="rule-id"`) ||
		!strings.Contains(body, `id="approve"`) || strings.Contains(h.Get("Set-Cookie"), "ggzy_flash") {
		t.Fatalf("refused approval %d\n%s", code, body)
	}
}

// The project form renders the chosen category alone: the other
// categories' fields carry hidden (and the stylesheet lets hidden win), so
// it works without script; a category switch without script re-renders.
func TestProjectFormShowsOneCategory(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	e := formsWeb(t, s)
	agentCk, _ := webLogin(t, s, RoleAgent, "daili")
	code, body, _ := calendarDo(t, e, "GET", "/agent/projects/new?category=property", nil, agentCk)
	if code != 200 {
		t.Fatal(code)
	}
	for _, want := range []string{`<label data-cats="property">挂牌价（元）`, `<label data-cats="engineering" hidden>招标控制价（元）`,
		`<span data-cats="property">转让方</span>`, `<span data-cats="property">标的</span> 1`, `<span data-cats="engineering" hidden>标段</span>`,
		`<option value="multi" data-cats="property" >`, `<option value="listing" data-cats="land" hidden >`} {
		if !strings.Contains(body, want) {
			t.Errorf("property form lacks %q", want)
		}
	}
	// No script: choose land and press 按所选类别显示; the input is kept.
	form := url.Values{"category": {"land"}, "title": {"某地块出让"}, "lot_count": {"1"}, "lots[0].name": {"榕土1号"}, "refresh": {"1"}}
	code, body, _ = calendarDo(t, e, "POST", "/agent/projects", form, agentCk)
	if code != 200 || !strings.Contains(body, `<label data-cats="land property">起始价（元）`) ||
		!strings.Contains(body, `<label data-cats="engineering procurement" hidden>招标文件发出开始`) ||
		!strings.Contains(body, `value="某地块出让"`) || !strings.Contains(body, `value="榕土1号"`) ||
		!strings.Contains(body, `<span data-cats="land">出让人</span>`) {
		t.Fatalf("refresh %d\n%s", code, body)
	}
	var projects int64
	s.DB.Model(&Project{}).Count(&projects)
	if projects != 0 {
		t.Fatal("the category switch saved a project")
	}
}

// The review page shows what is approved: lots with schedule, money and
// deposit; the rule result; for an amendment the side-by-side diff; the
// dates written in the text beside the structured ones, warning (TXT) on
// one that matches none.
func TestReviewPageShowsWhatIsApproved(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	e := formsWeb(t, s)
	_, agent := webLogin(t, s, RoleAgent, "daili")
	supCk, sup := webLogin(t, s, RoleSupervisor, "jiandu")

	// The incident: the text says 3月15日 for a deadline of 3-23.
	p, err := s.CreateProject(ctx, agent, projectInput(Engineering))
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementTender, Title: "日期不符的招标公告",
		Body: "# 招标公告\n文件发售：2026年3月3日9时至3月10日17时。\n投标截止时间：2026年3月15日9时30分。"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.SubmitAnnouncement(ctx, agent, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	var txt []rules.Note
	for _, nt := range sub.RuleNotes {
		if nt.Rule == rules.RuleTextDate {
			txt = append(txt, nt)
		}
	}
	if len(txt) != 1 || !strings.Contains(txt[0].Message, "2026年3月15日9时30分") || txt[0].Kind != rules.NoteWarning {
		t.Fatalf("submission notes %+v", sub.RuleNotes)
	}
	code, body, _ := calendarDo(t, e, "GET", "/supervisor/announcements/"+itoa(n.ID), nil, supCk)
	if code != 200 {
		t.Fatalf("review %d", code)
	}
	for _, want := range []string{`id="rules-ok"`, `<strong>TXT</strong> 警告（不影响审核）：`, `id="written-dates"`,
		`<tr class="date-mismatch"><td>2026年3月15日9时30分</td><td>2026-03-15 09:30</td>`,
		`<td>2026年3月3日9时</td><td>2026-03-03 09:00</td>`, "标段1 文件发出开始", "招标控制价 12,000,000.00 元",
		`<td class="deposit-asked">240,000.00 元</td>`, "2026-03-23 09:30", "交易中心第一开标室", `id="review-document-table"`} {
		if !strings.Contains(body, want) {
			t.Errorf("review page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="amendment-diff"`) {
		t.Error("an opening announcement has no amendment diff")
	}

	// An amendment: its lots before and after, and its text against the
	// announcement it amends, side by side.
	pub, opening := publishedProject(t, s, agent, sup, Engineering, "原招标公告")
	am, err := s.DraftAnnouncement(ctx, agent, pub.Code, AnnouncementInput{Type: AnnouncementAmendment, AmendsID: opening.ID, Title: "变更公告",
		Body:    "# 招标条件\n原定2026年3月23日9时30分开标，现延期至2026年4月10日9时30分。\n答疑截止4月1日。",
		Changes: []LotChangeInput{{LotID: pub.Lots[0].ID, BidDeadline: at(4, 10, 9, 30)}}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Review(ctx, sup, am.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Lots) != 1 || v.Lots[0].Before == nil {
		t.Fatalf("lots %+v", v.Lots)
	}
	var changed []string
	for _, r := range v.Lots[0].Rows {
		if r.Changed {
			changed = append(changed, r.Name+" "+r.Before+" → "+r.After)
		}
	}
	if strings.Join(changed, ",") != "投标截止/开标 2026-03-23 09:30 → 2026-04-10 09:30" {
		t.Fatalf("changed rows %q", changed)
	}
	if len(v.Dates) != 3 || len(v.Dates[0].Matches) != 1 || v.Dates[0].Matches[0] != "标段1（原） 投标截止/开标" ||
		len(v.Dates[1].Matches) != 1 || v.Dates[1].Matches[0] != "标段1（变更后） 投标截止/开标" || len(v.Dates[2].Matches) != 0 {
		t.Fatalf("dates %+v", v.Dates)
	}
	code, body, _ = calendarDo(t, e, "GET", "/supervisor/announcements/"+itoa(am.ID), nil, supCk)
	if code != 200 {
		t.Fatalf("amendment review %d", code)
	}
	for _, want := range []string{`id="amendment-diff"`, `<tr class="diff-same"><td># 招标条件</td><td># 招标条件</td></tr>`,
		`<tr class="diff-change"><td><del>本项目已具备招标条件。</del></td><td><ins>原定2026年3月23日9时30分开标，现延期至2026年4月10日9时30分。</ins></td></tr>`,
		`<tr class="changed"><th scope="row">投标截止/开标</th><td>2026-03-23 09:30</td><td><strong>2026-04-10 09:30</strong></td></tr>`,
		`<tr class="date-mismatch"><td>4月1日</td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("amendment review lacks %q", want)
		}
	}
}

func TestDiffLines(t *testing.T) {
	cases := []struct {
		old, new string
		want     string // ops
	}{
		{"a\nb\nc", "a\nb\nc", "same same same"},
		{"a\nb\nc", "a\nx\nc", "same change same"},
		{"a\nc", "a\nb\nc", "same add same"},
		{"a\nb\nc", "a\nc", "same del same"},
		{"", "a", "add"},
		{"a\nb", "", "del del"},
		{"a\nb\nc\nd", "x\nb\ny\nz\nd", "change same change add same"},
	}
	for _, c := range cases {
		var ops []string
		for _, l := range DiffLines(c.old, c.new) {
			ops = append(ops, l.Op)
		}
		if strings.Join(ops, " ") != c.want {
			t.Errorf("%q → %q: %v, want %s", c.old, c.new, ops, c.want)
		}
	}
}

// Deleting a draft races its submission: either the submission wins (the
// deletion is refused, the project stays with its submitted announcement) or the
// deletion wins (the submission finds no announcement). Never a deleted project
// whose announcement was submitted, never a 500.
func TestDeleteDraftRacesSubmission(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	const rounds = 12
	deleted, submitted := 0, 0
	for i := 0; i < rounds; i++ {
		p, err := s.CreateProject(ctx, agent, projectInput(Engineering))
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementTender, Title: "竞争公告", Body: "正文"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var delErr, subErr error
		wg.Add(2)
		go func() { defer wg.Done(); delErr = s.DeleteProject(ctx, agent, p.Code) }()
		go func() { defer wg.Done(); _, subErr = s.SubmitAnnouncement(ctx, agent, n.ID) }()
		wg.Wait()
		var projects int64
		s.DB.Model(&Project{}).Where("id = ?", p.ID).Count(&projects)
		switch {
		case delErr == nil && errors.Is(subErr, ErrNotFound) && projects == 0:
			deleted++
		case subErr == nil && errors.Is(delErr, ErrConflict) && projects == 1:
			submitted++
			var st AnnouncementStatus
			s.DB.Model(&Announcement{}).Select("status").Where("id = ?", n.ID).Scan(&st)
			if st != AnnouncementSubmitted {
				t.Fatalf("round %d: announcement %s", i, st)
			}
		default:
			t.Fatalf("round %d: delete %v, submit %v, project rows %d", i, delErr, subErr, projects)
		}
	}
	t.Logf("%d rounds: deletion first %d, submission first %d", rounds, deleted, submitted)
}

// BenchmarkDiffLines compares two 300-line announcements differing in every
// tenth line, and two at the 1,000-line limit.
func BenchmarkDiffLines(b *testing.B) {
	for _, n := range []int{300, 1000} {
		var old, nw strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&old, "第%d行：本项目已具备招标条件，现对该项目进行公开招标。\n", i)
			if i%10 == 0 {
				fmt.Fprintf(&nw, "第%d行：变更后的内容。\n", i)
			} else {
				fmt.Fprintf(&nw, "第%d行：本项目已具备招标条件，现对该项目进行公开招标。\n", i)
			}
		}
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(DiffLines(old.String(), nw.String())) != n {
					b.Fatal("wrong diff")
				}
			}
		})
	}
}

// A refused lot field is named with the project's word for a lot: a land
// project's form says 第1个地块的起始价, not 第1个标段 (issue 14); the API
// keeps the path.
func TestFormErrorNamesLotByCategory(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	e := formsWeb(t, s)
	agentCk, _ := webLogin(t, s, RoleAgent, "daili")
	form := url.Values{"category": {"land"}, "title": {"某地块出让"}, "owner_name": {"福州市自然资源局"}, "region_code": {"350100"},
		"lot_count": {"1"}, "lots[0].name": {"榕土1号"}, "lots[0].starting_price": {"5,000,000"}, "lots[0].increment": {"100000"}}
	code, body, _ := calendarDo(t, e, "POST", "/agent/projects", form, agentCk)
	if code != http.StatusBadRequest || !strings.Contains(body, ">第1个地块的起始价</a>") || strings.Contains(body, "第1个标段") {
		t.Fatalf("land form error %d\n%s", code, body)
	}
}
