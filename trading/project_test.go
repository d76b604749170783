package trading

import (
	"context"
	"errors"
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

// publishedProject creates a project and publishes its opening announcement.
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
	t.Parallel()
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
	t.Parallel()
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
		// Amounts are taken as sent: spaces are refused, not trimmed (README "Amounts").
		{func(p *ProjectInput) { p.Lots[0].ControlPrice = " 100 " }, "lots[0].control_price"},
		{func(p *ProjectInput) { p.Lots[0].Deposit = " 100" }, "lots[0].deposit"},
		// An amount the category needs fails at creation, not only at submission.
		{func(p *ProjectInput) { p.Lots[0].ControlPrice = "" }, "lots[0].control_price"},
		{func(p *ProjectInput) { p.Lots[0].ControlPrice = "   " }, "lots[0].control_price"},
	}
	for _, tt := range tests {
		in := projectInput("engineering")
		tt.mutate(&in)
		_, err := s.CreateProject(context.Background(), agent, in)
		if de := AsError(err); de.Status() != http.StatusBadRequest || de.Field != tt.field {
			t.Errorf("field %s: got %v", tt.field, err)
		}
	}
	// The same for every category's needed amounts.
	for cat, field := range map[Category]string{Procurement: "budget", Land: "increment", Property: "appraised_value"} {
		in := projectInput(cat)
		switch cat {
		case Procurement:
			in.Lots[0].Budget = ""
		case Land:
			in.Lots[0].Increment = ""
		case Property:
			in.Lots[0].AppraisedValue = ""
		}
		_, err := s.CreateProject(context.Background(), agent, in)
		if de := AsError(err); de.Status() != http.StatusBadRequest || de.Field != "lots[0]."+field {
			t.Errorf("%s without %s: got %v", cat, field, err)
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
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	in := projectInput("engineering")
	in.Lots[0].BidDeadline = at(3, 22, 9, 30) // 19 days after 3 March
	p, err := s.CreateProject(ctx, agent, in)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementTender, Title: "某工程招标公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SubmitAnnouncement(ctx, agent, n.ID)
	de := AsError(err)
	if de.Status() != http.StatusUnprocessableEntity || de.Rule != "E1" || de.Field != "lots[0].bid_deadline" ||
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
	t.Parallel()
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
	n, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementTender, Title: "某工程招标公告", Body: "正文"})
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
	if stored.Status != AnnouncementDraft {
		t.Fatalf("refused announcement is %s", stored.Status)
	}
}

// G3 counts working days: documents issued on the last working day before
// the 2026 Spring Festival must stay available 5 working days, which the
// holiday pushes past a plain week.
func TestProcurementWorkingDaysAcrossSpringFestival(t *testing.T) {
	t.Parallel()
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
	n, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementProcurement, Title: "某采购项目公告", Body: "正文"})
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

func TestScheduledAnnouncementRejectedWhenRulesBreakByThen(t *testing.T) {
	t.Parallel()
	s, clock := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	p, err := s.CreateProject(ctx, agent, projectInput("engineering"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementTender, Title: "某工程招标公告", Body: "正文"})
	if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	// Publishing after documents began to be issued would break the order
	// announcement → issue, so a time that late is refused at approval.
	late := time.Date(2026, 3, 5, 9, 0, 0, 0, Shanghai)
	if _, err := s.ApproveAnnouncement(ctx, sup, n.ID, &late); AsError(err).Status() != http.StatusUnprocessableEntity {
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
	if stored.Status != AnnouncementRejected || !strings.Contains(stored.RejectReason, "定时发布时") {
		t.Fatalf("stored: %s %q", stored.Status, stored.RejectReason)
	}
}

// An announcement queued before a termination cannot bring the project back.
func TestTerminationStopsQueuedAnnouncements(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx := context.Background()
	agent := mustAccount(t, s, RoleAgent, "daili")
	sup := mustAccount(t, s, RoleSupervisor, "jiandu")
	p, err := s.CreateProject(ctx, agent, projectInput("engineering"))
	if err != nil {
		t.Fatal(err)
	}
	in := AnnouncementInput{Type: AnnouncementTender, Title: "某工程招标公告", Body: "正文"}
	a1, _ := s.DraftAnnouncement(ctx, agent, p.Code, in)
	a2, _ := s.DraftAnnouncement(ctx, agent, p.Code, in) // a second opening announcement, drafted while still a draft
	for _, n := range []*Announcement{a1, a2} {
		if _, err := s.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, a1.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveAnnouncement(ctx, sup, a2.ID, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second tender announcement was published: %v", err)
	}
	amend, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementAmendment, Title: "某工程澄清公告", Body: "澄清", AmendsID: a1.ID})
	term, _ := s.DraftAnnouncement(ctx, agent, p.Code, AnnouncementInput{Type: AnnouncementTermination, Title: "某工程终止公告", Body: "终止"})
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
	if queued.Status != AnnouncementRejected || queued.RejectReason != "项目已终止" {
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
	t.Parallel()
	s, _ := newTestService(t)
	agent := mustAccount(t, s, RoleAgent, "daili")
	var ids []int64
	for i := 0; i < 6; i++ {
		p, err := s.CreateProject(context.Background(), agent, projectInput("engineering"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.DraftAnnouncement(context.Background(), agent, p.Code, AnnouncementInput{Type: AnnouncementTender, Title: "某工程招标公告", Body: "正文"})
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
