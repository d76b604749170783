package bidding

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// WirePlatform attaches bidding's hooks to trading with platform.Wire, the
// wiring cmd uses, without deposits: bidding's tests are of registration,
// documents and results alone (a land deal needs no paid deposit here, and
// no virtual accounts are opened). These tests are in package bidding,
// which the platform package imports, so they cannot import it (an import
// cycle); platform_test.go, an external test package compiled into the same
// test binary, sets this before any test runs (package initialisation
// precedes TestMain).
var WirePlatform func(ts *trading.Service, s *Service)

// bidEnv is a platform on a fresh database and bucket, its clock stopped
// on Monday 2026-03-02 09:00 in Shanghai.
type bidEnv struct {
	t     testing.TB
	TS    *trading.Service
	Svc   *Service
	Clock *trading.ManualClock
	Agent trading.Actor
	Sup   trading.Actor
	n     int // bidders signed up so far
}

func newBidEnv(t testing.TB) *bidEnv {
	t.Helper()
	db, err := trading.OpenDB(testenv.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { sqlDB.Close() })
	s3 := testenv.Storage(t)
	st, err := trading.NewStorage(trading.StorageConfig{Endpoint: s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Bucket: s3.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	clock := trading.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai))
	ts := trading.NewService(db, clock, nil)
	ts.Passwords = testenv.CheapPasswords
	svc := NewService(ts, st)
	if WirePlatform == nil {
		t.Fatal("WirePlatform is set by platform_test.go")
	}
	WirePlatform(ts, svc)
	e := &bidEnv{t: t, TS: ts, Svc: svc, Clock: clock}
	e.Agent = e.staff(trading.RoleAgent, "daili")
	e.Sup = e.staff(trading.RoleSupervisor, "jiandu")
	return e
}

func (e *bidEnv) staff(role trading.Role, name string) trading.Actor {
	e.t.Helper()
	acc, err := e.TS.CreateAccount(context.Background(), trading.SystemActor, trading.NewAccount{Role: role, Username: name, Password: "pass12345"})
	if err != nil {
		e.t.Fatal(err)
	}
	return trading.Actor{AccountID: acc.ID, Username: name, Role: role}
}

// bidder signs up an enterprise bidder with a valid credit code.
func (e *bidEnv) bidder(name string) trading.Actor {
	e.t.Helper()
	e.n++
	acc, err := e.TS.SignUpBidder(context.Background(), trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise,
		Name: name + "有限公司", IDNumber: testenv.CreditCode(fmt.Sprintf("91350100MA%06dX", e.n)), LegalRep: "张三",
		Phone: "13800138000", Email: "b@example.com", Username: fmt.Sprintf("bidder%d", e.n), Password: "pass12345"})
	if err != nil {
		e.t.Fatal(err)
	}
	return trading.Actor{AccountID: acc.ID, Username: acc.Username, Role: trading.RoleBidder}
}

func sh(m time.Month, d, h, min int) string {
	return time.Date(2026, m, d, h, min, 0, 0, trading.Shanghai).Format(time.RFC3339)
}

// lotInput is a lot of the category whose schedule suits the clock.
func lotInput(cat trading.Category) trading.LotInput {
	switch cat {
	case "engineering":
		return trading.LotInput{Name: "一标段", ControlPrice: "12000000.00", Deposit: "200000.00",
			DocIssueStart: sh(3, 3, 9, 0), DocIssueEnd: sh(3, 10, 17, 0), BidDeadline: sh(3, 23, 9, 30)}
	case "procurement":
		return trading.LotInput{Name: "第1包", Budget: "3000000.00", DocIssueStart: sh(3, 3, 9, 0), DocIssueEnd: sh(3, 10, 17, 0),
			BidDeadline: sh(3, 25, 9, 30)}
	case "land":
		return trading.LotInput{Name: "榕土2026-01号地块", StartingPrice: "5000000.00", ReservePrice: "5600000.00", Increment: "100000.00",
			Deposit: "1000000.00", ListingStart: sh(3, 23, 9, 0), ListingEnd: sh(4, 8, 16, 0)}
	}
	return trading.LotInput{Name: "20%股权", ListingPrice: "6000000.00", AppraisedValue: "5800000.00", ListingStart: sh(3, 3, 9, 0),
		ListingEnd: sh(4, 10, 16, 0)}
}

// project creates a project of the category; published publishes its
// opening announcement too. It returns the project with its lots.
func (e *bidEnv) project(cat trading.Category, published bool) *trading.Project {
	e.t.Helper()
	ctx := context.Background()
	p, err := e.TS.CreateProject(ctx, e.Agent, trading.ProjectInput{Category: cat, Title: "测试" + cat.Name() + "项目",
		OwnerName: "福州市某局", RegionCode: "350100", Lots: []trading.LotInput{lotInput(cat)}})
	if err != nil {
		e.t.Fatal(err)
	}
	if published {
		e.publish(p, map[trading.Category]trading.AnnouncementType{"engineering": "tender", "procurement": "procurement",
			"land": "listing", "property": "listing"}[cat], 0, nil)
	}
	return p
}

// publish drafts, submits and approves an announcement of the project.
func (e *bidEnv) publish(p *trading.Project, typ trading.AnnouncementType, amends int64, changes []trading.LotChangeInput) *trading.Announcement {
	e.t.Helper()
	ctx := context.Background()
	n, err := e.TS.DraftAnnouncement(ctx, e.Agent, p.Code, trading.AnnouncementInput{Type: typ, Title: p.Title + typ.Name(),
		Body: "正文", AmendsID: amends, Changes: changes})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.TS.SubmitAnnouncement(ctx, e.Agent, n.ID); err != nil {
		e.t.Fatalf("submit %s: %v", typ, err)
	}
	if n, err = e.TS.ApproveAnnouncement(ctx, e.Sup, n.ID, nil); err != nil {
		e.t.Fatalf("approve %s: %v", typ, err)
	}
	return n
}
