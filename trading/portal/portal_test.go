package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/tradingtest"
)

func TestWorkflowAndImmutability(t *testing.T) {
	t.Parallel()
	s, clock := tradingtest.NewService(t)
	ctx := context.Background()
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	other := tradingtest.Account(t, s, trading.RoleAgent, "daili2")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	p, err := s.CreateProject(ctx, agent, tradingtest.ProjectInput("engineering"))
	if err != nil {
		t.Fatal(err)
	}
	in := trading.AnnouncementInput{Type: trading.AnnouncementTender, Title: "福州市某道路工程招标公告", Body: "正文"}
	if _, err := s.DraftAnnouncement(ctx, other, p.Code, in); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("another agent drafted on the project: %v", err)
	}
	if _, err := s.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: trading.AnnouncementListing, Title: "错误的公告类型", Body: "x"}); !errors.Is(err, trading.ErrInvalid) {
		t.Fatalf("a listing announcement for engineering: %v", err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, n.ID, nil); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("approved a draft: %v", err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveAnnouncement(ctx, agent, n.ID, nil); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("the agent approved its own announcement: %v", err)
	}
	if err := s.RejectAnnouncement(ctx, sup, n.ID, ""); !errors.Is(err, trading.ErrInvalid) {
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
	if n, err = s.ApproveAnnouncement(ctx, sup, n.ID, &tomorrow); err != nil || n.Status != trading.AnnouncementScheduled {
		t.Fatalf("schedule: %v %v", n, err)
	}
	if k, err := s.PublishDue(ctx); err != nil || k != 0 {
		t.Fatalf("published early: %d %v", k, err)
	}
	if list, _, _ := Announcements(ctx, s, Filter{}); len(list) != 0 {
		t.Fatal("a scheduled announcement is public before its time")
	}
	clock.Advance(24 * time.Hour)
	if k, err := s.PublishDue(ctx); err != nil || k != 1 {
		t.Fatalf("PublishDue: %d %v", k, err)
	}
	if _, err := s.UpdateAnnouncement(ctx, agent, n.ID, in); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("edited a published announcement: %v", err)
	}
	// Not even the database lets a published announcement change or go.
	if err := s.DB.Exec("UPDATE announcements SET title = 'x' WHERE id = ?", n.ID).Error; err == nil {
		t.Fatal("database allowed an update of a published announcement")
	}
	if err := s.DB.Exec("DELETE FROM announcements WHERE id = ?", n.ID).Error; err == nil {
		t.Fatal("database allowed deleting a published announcement")
	}
	if _, err := s.UpdateProject(ctx, agent, p.Code, tradingtest.ProjectInput("engineering")); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("edited a published project: %v", err)
	}
	if _, err := s.DraftAnnouncement(ctx, agent, p.Code, in); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("a second tender announcement: %v", err)
	}
	if k, problem, err := trading.VerifyAudit(ctx, s.DB); err != nil || problem != nil || k < 8 {
		t.Fatalf("audit: %d %v %v", k, problem, err)
	}
}

// E4: an amendment within 15 days of the deadline must move the deadline;
// publishing it moves the lot's times.
func TestAmendmentMovesDeadlineUnderE4(t *testing.T) {
	t.Parallel()
	s, clock := tradingtest.NewService(t)
	ctx := context.Background()
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	p, tender := tradingtest.PublishedProject(t, s, agent, sup, "engineering", "某工程招标公告")
	clock.Set(time.Date(2026, 3, 12, 10, 0, 0, 0, trading.Shanghai)) // 11 days before the 23 March deadline
	lot := p.Lots[0]
	amend := trading.AnnouncementInput{Type: trading.AnnouncementAmendment, Title: "某工程招标文件澄清", Body: "澄清第三章。", AmendsID: tender.ID}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, amend)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); trading.AsError(err).Rule != "E4" {
		t.Fatalf("clarification 11 days before the deadline: %v", err)
	}
	amend.Changes = []trading.LotChangeInput{{LotID: lot.ID, BidDeadline: tradingtest.At(3, 27, 9, 30)}} // 15 days after 12 March
	if _, err := s.UpdateAnnouncement(ctx, agent, n.ID, amend); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatalf("moved deadline: %v", err)
	}
	var before trading.Lot
	s.DB.First(&before, lot.ID)
	if !before.BidDeadline.Equal(*lot.BidDeadline) {
		t.Fatal("lot changed before the amendment was published")
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	var after trading.Lot
	s.DB.First(&after, lot.ID)
	if want := time.Date(2026, 3, 27, 9, 30, 0, 0, trading.Shanghai); !after.BidDeadline.Equal(want) {
		t.Fatalf("deadline after amendment = %v, want %v", after.BidDeadline, want)
	}
	pub, err := AnnouncementByID(ctx, s, n.ID)
	if err != nil || len(pub.Chain) != 2 || *pub.Announcement.AmendsID != tender.ID {
		t.Fatalf("chain: %+v %v", pub, err)
	}
}

// A reserve price is seen by the project's agent and supervisors only.
func TestReservePriceNeverPublic(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	other := tradingtest.Account(t, s, trading.RoleAgent, "daili2")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	bidder := trading.Actor{AccountID: 99, Role: trading.RoleBidder}
	p, n := tradingtest.PublishedProject(t, s, agent, sup, "land", "榕土2026-01号地块挂牌出让公告")
	if got, err := s.Project(ctx, agent, p.Code); err != nil || got.Lots[0].ReservePrice.StringFixed(2) != tradingtest.ReservePrice {
		t.Fatalf("agent view: %v", err)
	}
	if _, err := s.Project(ctx, sup, p.Code); err != nil {
		t.Fatalf("supervisor view: %v", err)
	}
	for _, a := range []trading.Actor{other, bidder, {Role: "anonymous"}} {
		if _, err := s.Project(ctx, a, p.Code); !errors.Is(err, trading.ErrNotFound) {
			t.Errorf("%s read the project: %v", a.Role, err)
		}
	}
	pub, err := AnnouncementByID(ctx, s, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	announcements, _ := s.ProjectAnnouncements(ctx, trading.Actor{Role: "anonymous"}, p)
	full, _ := trading.LoadProject(s.DB, "id = ?", p.ID)
	pkg, err := OCDSPackage(full, announcements, s.OCIDPrefix, "http://example", s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"public announcement": pub, "ocds": pkg} {
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
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	tradingtest.PublishedProject(t, s, agent, sup, "engineering", "闽江北岸防洪堤加固工程施工招标公告")
	tradingtest.PublishedProject(t, s, agent, sup, "procurement", "市立医院医疗设备采购项目公告")
	tradingtest.PublishedProject(t, s, agent, sup, "land", "<script>alert(1)</script>地块挂牌出让公告")
	cases := []struct {
		f    Filter
		want int
	}{
		{Filter{}, 3},
		{Filter{Category: "procurement"}, 1},
		{Filter{Type: trading.AnnouncementTender}, 1},
		{Filter{Region: "350000"}, 3}, // the province matches its cities
		{Filter{Region: "350200"}, 0},
		{Filter{Query: "防洪堤"}, 1},
		{Filter{Query: "医疗设备"}, 1},
		{Filter{Query: "招标条件"}, 3},  // in the body
		{Filter{Query: "100%_"}, 0}, // LIKE metacharacters are literal
	}
	for _, c := range cases {
		list, _, err := Announcements(ctx, s, c.f)
		if err != nil || len(list) != c.want {
			t.Errorf("filter %+v: %d announcements, want %d (%v)", c.f, len(list), c.want, err)
		}
	}
	if _, err := ParseFilter(func(k string) string { return map[string]string{"from": "2026/03/01"}[k] }); trading.AsError(err).Field != "from" {
		t.Errorf("bad date: %v", err)
	}
	if _, err := ParseFilter(func(k string) string { return map[string]string{"cursor": "garbage"}[k] }); trading.AsError(err).Field != "cursor" {
		t.Errorf("bad cursor: %v", err)
	}
}

// Paging through the announcements while others are being published neither
// skips nor repeats one: sequence numbers follow commit order.
func TestCursorStableUnderConcurrentPublishing(t *testing.T) {
	t.Parallel()
	s, _ := tradingtest.NewService(t)
	ctx := context.Background()
	agent := tradingtest.Account(t, s, trading.RoleAgent, "daili")
	sup := tradingtest.Account(t, s, trading.RoleSupervisor, "jiandu")
	for i := 0; i < 15; i++ {
		tradingtest.PublishedProject(t, s, agent, sup, "engineering", fmt.Sprintf("初始工程招标公告第%d号", i))
	}
	var initial []int64
	all, _, _ := Announcements(ctx, s, Filter{Limit: 100})
	for _, n := range all {
		initial = append(initial, n.ID)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			tradingtest.PublishedProject(t, s, agent, sup, "procurement", fmt.Sprintf("并发采购公告第%d号", i))
		}
	}()
	seen := map[int64]int{}
	cursor := int64(0)
	for {
		list, next, err := Announcements(ctx, s, Filter{Limit: 4, Before: cursor})
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
			t.Errorf("announcement %d seen %d times", id, k)
		}
	}
	for _, id := range initial {
		if seen[id] != 1 {
			t.Errorf("announcement %d, published before paging began, was skipped", id)
		}
	}
	// The incremental feed sees every announcement exactly once, in order.
	var last int64
	count := 0
	for {
		list, _, err := Announcements(ctx, s, Filter{After: last, Sync: true, Limit: 7})
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
		t.Fatalf("incremental sync saw %d announcements, want 25", count)
	}
}
