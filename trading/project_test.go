package trading

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fixtures start on Monday 2026-03-02 09:00 (newTestService's clock).

func mustAccount(t *testing.T, s *Service, role Role, username string) Actor {
	t.Helper()
	acc, err := s.CreateAccount(context.Background(), SystemActor, NewAccount{Role: role, Username: username, Password: "pass12345"})
	if err != nil {
		t.Fatal(err)
	}
	return Actor{AccountID: acc.ID, Username: acc.Username, Role: role}
}

// at is a wall-clock time in Shanghai in the fixtures' month.
func at(month time.Month, day, hour, minute int) string {
	return time.Date(2026, month, day, hour, minute, 0, 0, Shanghai).Format(time.RFC3339)
}

// reservePrice is distinctive so a leak anywhere is found by a search.
const reservePrice = "8765432.10"

func projectInput(cat Category) ProjectInput {
	in := ProjectInput{Category: cat, Title: "福州市测试" + cat.Name() + "项目", OwnerName: "福州市某局", RegionCode: "350100"}
	switch cat {
	case "engineering":
		in.Lots = []LotInput{{Name: "一标段", ControlPrice: "12000000.00", EstimatedPrice: "12500000.00", Deposit: "240000.00",
			DocIssueStart: at(3, 3, 9, 0), DocIssueEnd: at(3, 10, 17, 0), BidDeadline: at(3, 23, 9, 30), OpeningPlace: "交易中心第一开标室"}}
	case "procurement":
		in.Lots = []LotInput{{Name: "第1包", Budget: "3000000.00", DocIssueStart: at(3, 3, 9, 0), DocIssueEnd: at(3, 10, 17, 0),
			BidDeadline: at(3, 25, 9, 30), OpeningPlace: "交易中心第二开标室"}}
	case "land":
		in.Lots = []LotInput{{Name: "榕土2026-01号地块", StartingPrice: "5000000.00", ReservePrice: reservePrice, Increment: "100000.00",
			Deposit: "1000000.00", ListingStart: at(3, 23, 9, 0), ListingEnd: at(4, 8, 16, 0)}}
	case "property":
		in.Lots = []LotInput{{Name: "某国企20%股权", ListingPrice: "6000000.00", AppraisedValue: "5800000.00", ReservePrice: reservePrice,
			StartingPrice: "6000000.00", ListingStart: at(3, 2, 10, 0), ListingEnd: at(4, 10, 16, 0)}}
	}
	return in
}

// publishedProject creates a project and publishes its opening notice.
func publishedProject(t *testing.T, s *Service, agent, sup Actor, cat Category, title string) (*Project, *Announcement) {
	t.Helper()
	ctx := context.Background()
	p, err := s.CreateProject(ctx, agent, projectInput(cat))
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: openingTypes[cat][0], Title: title,
		Body: "# 招标条件\n本项目已具备招标条件。\n\n| 标段 | 控制价 |\n|---|---|\n| 一标段 | 1200万元 |"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatalf("submit %s: %v", cat, err)
	}
	if n, err = s.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatalf("approve %s: %v", cat, err)
	}
	return p, n
}

func TestTradingCodesAreUniqueUnderConcurrency(t *testing.T) {
	s, _ := newTestService(t)
	agent := mustAccount(t, s, RoleAgent, "daili")
	var wg sync.WaitGroup
	codes := make([]string, 12)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p, err := s.CreateProject(context.Background(), agent, projectInput("engineering"))
			if err != nil {
				t.Error(err)
				return
			}
			codes[i] = p.Code
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, c := range codes {
		if seen[c] || !strings.HasPrefix(c, "350100-2026-GC-") {
			t.Fatalf("code %q repeated or malformed: %v", c, codes)
		}
		seen[c] = true
	}
	if !seen["350100-2026-GC-0001"] || !seen["350100-2026-GC-0012"] {
		t.Fatalf("codes are not 0001..0012: %v", codes)
	}
}

func TestProjectInputValidation(t *testing.T) {
	s, _ := newTestService(t)
	agent := mustAccount(t, s, RoleAgent, "daili")
	bidder := Actor{AccountID: 1, Role: RoleBidder}
	if _, err := s.CreateProject(context.Background(), bidder, projectInput("engineering")); !errors.Is(err, ErrForbidden) {
		t.Fatalf("bidder created a project: %v", err)
	}
	tests := []struct {
		mutate func(*ProjectInput)
		field  string
	}{
		{func(p *ProjectInput) { p.Category = "mining" }, "category"},
		{func(p *ProjectInput) { p.Title = "短" }, "title"},
		{func(p *ProjectInput) { p.RegionCode = "999999" }, "region_code"},
		{func(p *ProjectInput) { p.Lots = nil }, "lots"},
		{func(p *ProjectInput) { p.Lots[0].ControlPrice = "1e7" }, "lots[0].control_price"},
		{func(p *ProjectInput) { p.Lots[0].ControlPrice = "10.001" }, "lots[0].control_price"},
		{func(p *ProjectInput) { p.Lots[0].ControlPrice = "-5" }, "lots[0].control_price"},
		{func(p *ProjectInput) { p.Lots[0].Budget = "100.00" }, "lots[0].budget"}, // not an engineering field
		{func(p *ProjectInput) { p.Lots[0].BidDeadline = "next tuesday" }, "lots[0].bid_deadline"},
		{func(p *ProjectInput) { p.Lots[0].Name = "" }, "lots[0].name"},
	}
	for _, tt := range tests {
		in := projectInput("engineering")
		tt.mutate(&in)
		_, err := s.CreateProject(context.Background(), agent, in)
		if de := AsError(err); de.Status != http.StatusBadRequest || de.Field != tt.field {
			t.Errorf("field %s: got %v", tt.field, err)
		}
	}
	var n int64
	s.DB.Model(&Project{}).Count(&n)
	if n != 0 {
		t.Fatalf("refused input left %d projects", n)
	}
}

// E1: 19 days from document issue to the bid deadline is refused citing
// E1 with every detail; 20 days passes.
func TestSubmitChecksE1Boundary(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	in := projectInput("engineering")
	in.Lots[0].BidDeadline = at(3, 22, 9, 30) // 19 days after 3 March
	p, err := s.CreateProject(ctx, agent, in)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: NoticeTender, Title: "某工程招标公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SubmitAnnouncement(ctx, agent, n.ID)
	de := AsError(err)
	if de.Status != http.StatusUnprocessableEntity || de.Rule != "E1" || de.Field != "lots[0].bid_deadline" ||
		!strings.Contains(de.Message, "19") || len(de.Violations) != 1 {
		t.Fatalf("19 days: %+v", de)
	}
	in.Lots[0].BidDeadline = at(3, 23, 9, 30) // 20 days
	if _, err := s.UpdateProject(ctx, agent, p.Code, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatalf("20 days: %v", err)
	}
}

func TestSubmitListsEveryViolation(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	in := projectInput("engineering")
	in.Lots[0].DocIssueEnd = at(3, 6, 17, 0)  // 3 days: E2
	in.Lots[0].BidDeadline = at(3, 20, 9, 30) // 17 days: E1
	in.Lots[0].Deposit = "900000.00"          // over 2 % (D1) and 800,000 (D3)
	p, err := s.CreateProject(ctx, agent, in)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: NoticeTender, Title: "某工程招标公告", Body: "正文"})
	_, err = s.SubmitAnnouncement(ctx, agent, n.ID)
	got := map[string]bool{}
	for _, v := range AsError(err).Violations {
		got[v.Rule] = true
	}
	for _, r := range []string{"E1", "E2", "D1", "D3"} {
		if !got[r] {
			t.Errorf("violation %s missing from %v", r, got)
		}
	}
	var stored Announcement
	s.DB.First(&stored, n.ID)
	if stored.Status != NoticeDraft {
		t.Fatalf("refused notice is %s", stored.Status)
	}
}

// G3 counts working days: documents issued on the last working day before
// the 2026 Spring Festival must stay available 5 working days, which the
// holiday pushes past a plain week.
func TestProcurementWorkingDaysAcrossSpringFestival(t *testing.T) {
	s, clock := newTestService(t)
	ctx := context.Background()
	clock.Set(time.Date(2026, 2, 9, 9, 0, 0, 0, Shanghai))
	agent := mustAccount(t, s, RoleAgent, "daili")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	in := projectInput("procurement")
	in.Lots[0].DocIssueStart = time.Date(2026, 2, 13, 9, 0, 0, 0, Shanghai).Format(time.RFC3339)
	in.Lots[0].DocIssueEnd = time.Date(2026, 2, 20, 17, 0, 0, 0, Shanghai).Format(time.RFC3339) // 7 calendar days, in the holiday
	in.Lots[0].BidDeadline = time.Date(2026, 3, 10, 9, 30, 0, 0, Shanghai).Format(time.RFC3339)
	p, err := s.CreateProject(ctx, agent, in)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: NoticeProcurement, Title: "某采购项目公告", Body: "正文"})
	_, err = s.SubmitAnnouncement(ctx, agent, n.ID)
	if de := AsError(err); de.Rule != "G3" {
		t.Fatalf("holiday week counted as working days: %v", err)
	}
	in.Lots[0].DocIssueEnd = time.Date(2026, 2, 27, 17, 0, 0, 0, Shanghai).Format(time.RFC3339)
	if _, err := s.UpdateProject(ctx, agent, p.Code, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatalf("after the holiday: %v", err)
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
}

func TestWorkflowAndImmutability(t *testing.T) {
	s, clock := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	other := mustAccount(t, s, RoleAgent, "daili2")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	p, err := s.CreateProject(ctx, agent, projectInput("engineering"))
	if err != nil {
		t.Fatal(err)
	}
	in := AnnouncementInput{Type: NoticeTender, Title: "福州市某道路工程招标公告", Body: "正文"}
	if _, err := s.DraftAnnouncement(ctx, other, p.Code, in); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another agent drafted on the project: %v", err)
	}
	if _, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: NoticeListing, Title: "错误的公告类型", Body: "x"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a listing notice for engineering: %v", err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, n.ID, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("approved a draft: %v", err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveAnnouncement(ctx, agent, n.ID, nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("the agent approved its own notice: %v", err)
	}
	if err := s.RejectAnnouncement(ctx, sup, n.ID, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("rejected without a reason: %v", err)
	}
	if err := s.RejectAnnouncement(ctx, sup, n.ID, "开标地点未写明"); err != nil {
		t.Fatal(err)
	}
	in.Body = "正文，开标地点：交易中心第一开标室"
	if _, err := s.UpdateAnnouncement(ctx, agent, n.ID, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	// Approved for tomorrow 08:00: scheduled, published by PublishDue then.
	tomorrow := clock.Now().Add(23 * time.Hour)
	if n, err = s.ApproveAnnouncement(ctx, sup, n.ID, &tomorrow); err != nil || n.Status != NoticeScheduled {
		t.Fatalf("schedule: %v %v", n, err)
	}
	if k, err := s.PublishDue(ctx); err != nil || k != 0 {
		t.Fatalf("published early: %d %v", k, err)
	}
	if list, _, _ := s.PublicNotices(ctx, NoticeFilter{}); len(list) != 0 {
		t.Fatal("a scheduled notice is public before its time")
	}
	clock.Advance(24 * time.Hour)
	if k, err := s.PublishDue(ctx); err != nil || k != 1 {
		t.Fatalf("PublishDue: %d %v", k, err)
	}
	if _, err := s.UpdateAnnouncement(ctx, agent, n.ID, in); !errors.Is(err, ErrConflict) {
		t.Fatalf("edited a published notice: %v", err)
	}
	// Not even the database lets a published notice change or go.
	if err := s.DB.Exec("UPDATE announcements SET title = 'x' WHERE id = ?", n.ID).Error; err == nil {
		t.Fatal("database allowed an update of a published notice")
	}
	if err := s.DB.Exec("DELETE FROM announcements WHERE id = ?", n.ID).Error; err == nil {
		t.Fatal("database allowed deleting a published notice")
	}
	if _, err := s.UpdateProject(ctx, agent, p.Code, projectInput("engineering")); !errors.Is(err, ErrConflict) {
		t.Fatalf("edited a published project: %v", err)
	}
	if _, err := s.DraftAnnouncement(ctx, agent, p.Code, in); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second tender notice: %v", err)
	}
	if k, problem, err := VerifyAudit(ctx, s.DB); err != nil || problem != nil || k < 8 {
		t.Fatalf("audit: %d %v %v", k, problem, err)
	}
}

// E4: an amendment within 15 days of the deadline must move the deadline;
// publishing it moves the lot's times.
func TestAmendmentMovesDeadlineUnderE4(t *testing.T) {
	s, clock := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	p, tender := publishedProject(t, s, agent, sup, "engineering", "某工程招标公告")
	clock.Set(time.Date(2026, 3, 12, 10, 0, 0, 0, Shanghai)) // 11 days before the 23 March deadline
	lot := p.Lots[0]
	amend := AnnouncementInput{Type: NoticeAmendment, Title: "某工程招标文件澄清", Body: "澄清第三章。", AmendsID: tender.ID}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, amend)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); AsError(err).Rule != "E4" {
		t.Fatalf("clarification 11 days before the deadline: %v", err)
	}
	amend.Changes = []LotChangeInput{{LotID: lot.ID, BidDeadline: at(3, 27, 9, 30)}} // 15 days after 12 March
	if _, err := s.UpdateAnnouncement(ctx, agent, n.ID, amend); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatalf("moved deadline: %v", err)
	}
	var before Lot
	s.DB.First(&before, lot.ID)
	if !before.BidDeadline.Equal(*lot.BidDeadline) {
		t.Fatal("lot changed before the amendment was published")
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	var after Lot
	s.DB.First(&after, lot.ID)
	if want := time.Date(2026, 3, 27, 9, 30, 0, 0, Shanghai); !after.BidDeadline.Equal(want) {
		t.Fatalf("deadline after amendment = %v, want %v", after.BidDeadline, want)
	}
	pub, err := s.PublicNoticeByID(ctx, n.ID)
	if err != nil || len(pub.Chain) != 2 || *pub.Notice.AmendsID != tender.ID {
		t.Fatalf("chain: %+v %v", pub, err)
	}
}

// A reserve price is seen by the project's agent and supervisors only.
func TestReservePriceNeverPublic(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	other := mustAccount(t, s, RoleAgent, "daili2")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	bidder := Actor{AccountID: 99, Role: RoleBidder}
	p, n := publishedProject(t, s, agent, sup, "land", "榕土2026-01号地块挂牌出让公告")
	if got, err := s.Project(ctx, agent, p.Code); err != nil || got.Lots[0].ReservePrice.StringFixed(2) != reservePrice {
		t.Fatalf("agent view: %v", err)
	}
	if _, err := s.Project(ctx, sup, p.Code); err != nil {
		t.Fatalf("supervisor view: %v", err)
	}
	for _, a := range []Actor{other, bidder, {Role: "anonymous"}} {
		if _, err := s.Project(ctx, a, p.Code); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s read the project: %v", a.Role, err)
		}
	}
	pub, err := s.PublicNoticeByID(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	notices, _ := s.ProjectAnnouncements(ctx, Actor{Role: "anonymous"}, p)
	full, _ := LoadProject(s.DB, "id = ?", p.ID)
	pkg, err := OCDSPackage(full, notices, s.OCIDPrefix, "http://example", s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"public notice": pub, "ocds": pkg} {
		b, _ := json.Marshal(v)
		if strings.Contains(string(b), "8765432") {
			t.Errorf("%s leaks the reserve price", name)
		}
	}
	b, _ := json.Marshal(pkg)
	if err := validateOCDS(t, b); err != nil {
		t.Fatalf("OCDS of a stored project does not validate: %v", err)
	}
}

func TestPortalFiltersAndChineseSearch(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	publishedProject(t, s, agent, sup, "engineering", "闽江北岸防洪堤加固工程施工招标公告")
	publishedProject(t, s, agent, sup, "procurement", "市立医院医疗设备采购项目公告")
	publishedProject(t, s, agent, sup, "land", "<script>alert(1)</script>地块挂牌出让公告")
	cases := []struct {
		f    NoticeFilter
		want int
	}{
		{NoticeFilter{}, 3},
		{NoticeFilter{Category: "procurement"}, 1},
		{NoticeFilter{Type: NoticeTender}, 1},
		{NoticeFilter{Region: "350000"}, 3}, // the province matches its cities
		{NoticeFilter{Region: "350200"}, 0},
		{NoticeFilter{Query: "防洪堤"}, 1},
		{NoticeFilter{Query: "医疗设备"}, 1},
		{NoticeFilter{Query: "招标条件"}, 3},  // in the body
		{NoticeFilter{Query: "100%_"}, 0}, // LIKE metacharacters are literal
	}
	for _, c := range cases {
		list, _, err := s.PublicNotices(ctx, c.f)
		if err != nil || len(list) != c.want {
			t.Errorf("filter %+v: %d notices, want %d (%v)", c.f, len(list), c.want, err)
		}
	}
	if _, err := ParseNoticeFilter(func(k string) string { return map[string]string{"from": "2026/03/01"}[k] }); AsError(err).Field != "from" {
		t.Errorf("bad date: %v", err)
	}
	if _, err := ParseNoticeFilter(func(k string) string { return map[string]string{"cursor": "garbage"}[k] }); AsError(err).Field != "cursor" {
		t.Errorf("bad cursor: %v", err)
	}
}

// Paging through the notices while others are being published neither
// skips nor repeats one: sequence numbers follow commit order.
func TestCursorStableUnderConcurrentPublishing(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	for i := 0; i < 15; i++ {
		publishedProject(t, s, agent, sup, "engineering", fmt.Sprintf("初始工程招标公告第%d号", i))
	}
	var initial []int64
	all, _, _ := s.PublicNotices(ctx, NoticeFilter{Limit: 100})
	for _, n := range all {
		initial = append(initial, n.ID)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			publishedProject(t, s, agent, sup, "procurement", fmt.Sprintf("并发采购公告第%d号", i))
		}
	}()
	seen := map[int64]int{}
	cursor := int64(0)
	for {
		list, next, err := s.PublicNotices(ctx, NoticeFilter{Limit: 4, Before: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range list {
			seen[n.ID]++
		}
		if next == "" {
			break
		}
		if cursor, err = decodeCursor(next); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	for id, k := range seen {
		if k > 1 {
			t.Errorf("notice %d seen %d times", id, k)
		}
	}
	for _, id := range initial {
		if seen[id] != 1 {
			t.Errorf("notice %d, published before paging began, was skipped", id)
		}
	}
	// The incremental feed sees every notice exactly once, in order.
	var last int64
	count := 0
	for {
		list, _, err := s.PublicNotices(ctx, NoticeFilter{After: last, Sync: true, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			break
		}
		for _, n := range list {
			if n.Seq <= last {
				t.Fatalf("seq %d after %d", n.Seq, last)
			}
			last = n.Seq
			count++
		}
	}
	if count != 25 {
		t.Fatalf("incremental sync saw %d notices, want 25", count)
	}
}

func TestScheduledNoticeRejectedWhenRulesBreakByThen(t *testing.T) {
	s, clock := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	p, err := s.CreateProject(ctx, agent, projectInput("engineering"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: NoticeTender, Title: "某工程招标公告", Body: "正文"})
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	// Publishing after documents began to be issued would break the order
	// notice → issue, so a time that late is refused at approval.
	late := time.Date(2026, 3, 5, 9, 0, 0, 0, Shanghai)
	if _, err := s.ApproveAnnouncement(ctx, sup, n.ID, &late); AsError(err).Status != http.StatusUnprocessableEntity {
		t.Fatalf("approval for a time that breaks the rules: %v", err)
	}
	soon := clock.Now().Add(2 * time.Hour)
	if _, err := s.ApproveAnnouncement(ctx, sup, n.ID, &soon); err != nil {
		t.Fatal(err)
	}
	// The publisher runs late (an outage): by then the rules are broken.
	clock.Set(time.Date(2026, 3, 4, 9, 0, 0, 0, Shanghai))
	if k, err := s.PublishDue(ctx); err != nil || k != 0 {
		t.Fatalf("PublishDue: %d %v", k, err)
	}
	var stored Announcement
	s.DB.First(&stored, n.ID)
	if stored.Status != NoticeRejected || !strings.Contains(stored.RejectReason, "定时发布时") {
		t.Fatalf("stored: %s %q", stored.Status, stored.RejectReason)
	}
}

// A notice queued before a termination cannot bring the project back.
func TestTerminationStopsQueuedNotices(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	p, err := s.CreateProject(ctx, agent, projectInput("engineering"))
	if err != nil {
		t.Fatal(err)
	}
	in := AnnouncementInput{Type: NoticeTender, Title: "某工程招标公告", Body: "正文"}
	a1, _ := s.DraftAnnouncement(ctx, agent, p.Code, in)
	a2, _ := s.DraftAnnouncement(ctx, agent, p.Code, in) // a second opening notice, drafted while still a draft
	for _, n := range []*Announcement{a1, a2} {
		if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, a1.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, a2.ID, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second tender notice was published: %v", err)
	}
	amend, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: NoticeAmendment, Title: "某工程澄清公告", Body: "澄清", AmendsID: a1.ID})
	term, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: NoticeTermination, Title: "某工程终止公告", Body: "终止"})
	for _, n := range []*Announcement{amend, term} {
		if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, term.ID, nil); err != nil {
		t.Fatal(err)
	}
	var queued Announcement
	s.DB.First(&queued, amend.ID)
	if queued.Status != NoticeRejected || queued.RejectReason != "项目已终止" {
		t.Fatalf("queued amendment: %s %q", queued.Status, queued.RejectReason)
	}
	var proj Project
	s.DB.First(&proj, p.ID)
	if proj.Status != ProjectTerminated {
		t.Fatalf("project %s", proj.Status)
	}
}

// Nothing inside a workflow transaction waits for a second pooled
// connection: with a pool of two, six concurrent submissions finish.
func TestSubmissionsDoNotStarveThePool(t *testing.T) {
	s, _ := newTestService(t)
	agent := mustAccount(t, s, RoleAgent, "daili")
	var ids []int64
	for i := 0; i < 6; i++ {
		p, err := s.CreateProject(context.Background(), agent, projectInput("engineering"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.DraftAnnouncement(context.Background(), agent, p.Code, AnnouncementInput{Type: NoticeTender, Title: "某工程招标公告", Body: "正文"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, n.ID)
	}
	sqlDB, _ := s.DB.DB()
	sqlDB.SetMaxOpenConns(2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func(id int64) {
			defer wg.Done()
			if _, err := s.SubmitAnnouncement(ctx, agent, id); err != nil {
				t.Errorf("submit %d: %v", id, err)
			}
		}(id)
	}
	wg.Wait()
}
