// Package tradingtest builds the fixtures of the tests of trading's
// sub-packages (report, portal, supervision) exactly as trading's own tests
// build them: a service on the test's own migrated database with a manual
// clock at Monday 2026-03-02 09:00, accounts, and published projects.
// trading's in-package tests cannot import it (it imports trading), so
// they keep their copies in trading/main_test.go and project_test.go.
package tradingtest

import (
	"context"
	"testing"
	"time"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// NewService gives a test its own migrated database and a manual clock.
func NewService(t testing.TB) (*trading.Service, *trading.ManualClock) {
	t.Helper()
	db, err := trading.OpenDB(testenv.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	clock := trading.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai))
	s := trading.NewService(db, clock, nil)
	s.Passwords = testenv.CheapPasswords
	return s, clock
}

// SignUp is a valid enterprise bidder's sign-up with the given credit code.
func SignUp(username, code string) trading.SignUp {
	return trading.SignUp{Kind: trading.BidderEnterprise, Name: "福建测试建设有限公司", IDNumber: code, LegalRep: "张三",
		Phone: "13800138000", Email: "bid@example.com", Username: username, Password: "secret123"}
}

// Account creates an account of the role and returns it as an actor.
func Account(t testing.TB, s *trading.Service, role trading.Role, username string) trading.Actor {
	t.Helper()
	acc, err := s.CreateAccount(context.Background(), trading.SystemActor, trading.NewAccount{Role: role, Username: username, Password: "pass12345"})
	if err != nil {
		t.Fatal(err)
	}
	return trading.Actor{AccountID: acc.ID, Username: acc.Username, Role: role}
}

// At is a wall-clock time in Shanghai in the fixtures' year, as RFC 3339.
func At(month time.Month, day, hour, minute int) string {
	return time.Date(2026, month, day, hour, minute, 0, 0, trading.Shanghai).Format(time.RFC3339)
}

// ReservePrice is distinctive so a leak anywhere is found by a search.
const ReservePrice = "8765432.10"

// ProjectInput is a valid one-lot project of the category.
func ProjectInput(cat trading.Category) trading.ProjectInput {
	in := trading.ProjectInput{Category: cat, Title: "福州市测试" + cat.Name() + "项目", OwnerName: "福州市某局", RegionCode: "350100"}
	switch cat {
	case trading.Engineering:
		in.Lots = []trading.LotInput{{Name: "一标段", ControlPrice: "12000000.00", EstimatedPrice: "12500000.00", Deposit: "240000.00",
			DocIssueStart: At(3, 3, 9, 0), DocIssueEnd: At(3, 10, 17, 0), BidDeadline: At(3, 23, 9, 30), OpeningPlace: "交易中心第一开标室"}}
	case trading.Procurement:
		in.Lots = []trading.LotInput{{Name: "第1包", Budget: "3000000.00", DocIssueStart: At(3, 3, 9, 0), DocIssueEnd: At(3, 10, 17, 0),
			BidDeadline: At(3, 25, 9, 30), OpeningPlace: "交易中心第二开标室"}}
	case trading.Land:
		in.Lots = []trading.LotInput{{Name: "榕土2026-01号地块", StartingPrice: "5000000.00", ReservePrice: ReservePrice, Increment: "100000.00",
			Deposit: "1000000.00", ListingStart: At(3, 23, 9, 0), ListingEnd: At(4, 8, 16, 0)}}
	case trading.Property:
		in.Lots = []trading.LotInput{{Name: "某国企20%股权", ListingPrice: "6000000.00", AppraisedValue: "5800000.00", ReservePrice: ReservePrice,
			StartingPrice: "6000000.00", ListingStart: At(3, 2, 10, 0), ListingEnd: At(4, 10, 16, 0)}}
	}
	return in
}

// openingType is the first announcement each category publishes.
var openingType = map[trading.Category]trading.AnnouncementType{
	trading.Engineering: trading.AnnouncementTender, trading.Procurement: trading.AnnouncementProcurement,
	trading.Land: trading.AnnouncementTransfer, trading.Property: trading.AnnouncementListing,
}

// PublishedProject creates a project and publishes its opening announcement.
func PublishedProject(t testing.TB, s *trading.Service, agent, sup trading.Actor, cat trading.Category, title string) (*trading.Project, *trading.Announcement) {
	t.Helper()
	ctx := context.Background()
	p, err := s.CreateProject(ctx, agent, ProjectInput(cat))
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: openingType[cat], Title: title,
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
