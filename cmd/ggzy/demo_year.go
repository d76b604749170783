package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/platform"
	"github.com/ggzy/ggzy/trading"
)

// demoYear is the year of completed demo projects: a whole year for the
// savings report, its chart and its paragraph (issue 6).
const demoYear = 2025

// demoBidders take part in the demo year's tenders and auctions.
var demoBidders = []struct{ Username, Name, Body string }{
	{"minjiang", "福建闽江建设集团有限公司", "91350100MA2Y000A1"},
	{"rongcheng", "福州榕城路桥工程有限公司", "91350100MA2Y000B2"},
	{"haixi", "海西建工集团有限公司", "91350100MA2Y000C3"},
	{"wuyi", "福建武夷医疗器械有限公司", "91350100MA2Y000D4"},
	{"taijiang", "福州台江置业有限公司", "91350100MA2Y000E5"},
}

// creditCode completes a 17-character body with its GB 32100 check.
func creditCode(body string) string {
	const cs = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	w := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(cs, body[i]) * w[i]
	}
	return body + string(cs[(31-sum%31)%31])
}

// demoYearPlan is one completed lot of the demo year.
type demoYearPlan struct {
	Category     trading.Category
	Announcement time.Time // opening announcement publication
	Region       string
	Base         decimal.Decimal // control price, budget, starting or listing price
	Result       decimal.Decimal // winning price, contract amount or deal price
	Failed       bool            // E7 (too few bidders) or no sale
}

// demoYearPlans draws the year deterministically: every category each
// month, a few lots above their control price (negative savings), a few
// failures.
func demoYearPlans() []demoYearPlan {
	r := rand.New(rand.NewPCG(2025, 6))
	regions := []string{"350100", "350102", "350104", "350121", "350200", "350300", "350500"}
	money := func(lo, hi int64) decimal.Decimal { // whole yuan, then a fen part
		return decimal.NewFromInt(lo + r.Int64N(hi-lo)).Add(decimal.New(r.Int64N(100), -2))
	}
	ratio := func(lo, hi int) decimal.Decimal { return decimal.New(int64(lo+r.IntN(hi-lo)), -4) }
	var out []demoYearPlan
	for m := time.January; m <= time.October; m++ {
		day := func(d int) time.Time { return time.Date(demoYear, m, d, 10, 0, 0, 0, trading.Shanghai) }
		for i := 0; i < 2; i++ {
			base := money(2_000_000, 60_000_000)
			out = append(out, demoYearPlan{Category: trading.Engineering, Announcement: day(4 + 7*i), Region: regions[r.IntN(len(regions))], Base: base,
				Result: base.Mul(ratio(8600, 10150)).Round(2), Failed: m == time.June && i == 1})
		}
		base := money(500_000, 12_000_000)
		out = append(out, demoYearPlan{Category: trading.Procurement, Announcement: day(6), Region: regions[r.IntN(len(regions))], Base: base,
			Result: base.Mul(ratio(8000, 9950)).Round(2)})
		if m%2 == 1 {
			base := money(20_000_000, 200_000_000).Round(-4)
			out = append(out, demoYearPlan{Category: trading.Land, Announcement: day(3), Region: regions[r.IntN(len(regions))], Base: base,
				Result: base.Mul(ratio(10000, 16000)).Round(-4), Failed: m == time.September})
		} else {
			base := money(3_000_000, 40_000_000).Round(-3)
			out = append(out, demoYearPlan{Category: trading.Property, Announcement: day(3), Region: regions[r.IntN(len(regions))], Base: base,
				Result: base.Mul(ratio(10000, 13000)).Round(-3)})
		}
	}
	return out
}

// loadDemoYear runs the demo year's projects through the platform's own
// services on a clock set to their dates: published, registered, opened,
// candidates published, awarded, contracted; land and property sold. It is
// idempotent: projects already there (by title) are skipped.
func loadDemoYear(ctx context.Context, app *App, out io.Writer) error {
	agent, sup, err := demoActors(ctx, app)
	if err != nil {
		return err
	}
	var bidders []trading.Actor
	for _, b := range demoBidders {
		var acc trading.Account
		err := app.DB.WithContext(ctx).Where("username = ?", b.Username).First(&acc).Error
		if err != nil {
			a, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: b.Name,
				IDNumber: creditCode(b.Body), LegalRep: "王五", Phone: "13800138000", Email: b.Username + "@example.com",
				Username: b.Username, Password: b.Username + "-ggzy-2026"})
			if err != nil {
				return fmt.Errorf("demo bidder %s: %w", b.Username, err)
			}
			acc = *a
		}
		bidders = append(bidders, trading.Actor{AccountID: acc.ID, Username: acc.Username, Role: trading.RoleBidder, IP: "demo"})
	}
	plans := demoYearPlans()
	done, skipped := 0, 0
	for i, pl := range plans {
		title := fmt.Sprintf("%d年%s第%02d号（%s）", demoYear, map[trading.Category]string{trading.Engineering: "市政道路改造工程施工",
			trading.Procurement: "办公设备及信息化采购", trading.Land: "国有建设用地使用权挂牌出让", trading.Property: "市属国企资产转让"}[pl.Category], i+1,
			pl.Announcement.Format("1月"))
		var exists int64
		if err := app.DB.WithContext(ctx).Model(&trading.Project{}).Where("title = ?", title).Count(&exists).Error; err != nil {
			return err
		}
		if exists > 0 {
			skipped++
			continue
		}
		if err := demoYearProject(ctx, app, agent, sup, bidders, title, pl); err != nil {
			return fmt.Errorf("demo year project %s: %w", title, err)
		}
		done++
	}
	fmt.Fprintf(out, "演示年度数据 (%d): %d 个已办结项目新建，%d 个已存在\n", demoYear, done, skipped)
	return nil
}

func demoYearProject(ctx context.Context, app *App, agent, sup trading.Actor, bidders []trading.Actor, title string, pl demoYearPlan) error {
	clock := trading.NewManualClock(pl.Announcement.Add(-time.Hour))
	svc := trading.NewService(app.DB, clock, app.Log)
	svc.Passwords, svc.Book = app.Trading.Passwords, app.Trading.Book
	bid := bidding.NewService(svc, app.Storage)
	platform.Wire(svc, bid, nil, nil) // trading and bidding only, as before deposits: its publication hooks release the documents
	at := func(days, h, m int) time.Time {
		d := pl.Announcement.AddDate(0, 0, days)
		return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, trading.Shanghai)
	}
	lot := trading.LotInput{Name: "一标段"}
	var opening trading.AnnouncementType
	var deadline time.Time
	switch pl.Category {
	case trading.Engineering:
		lot.ControlPrice, lot.Deposit = pl.Base.StringFixed(2), pl.Base.Mul(decimal.New(1, -2)).Round(0).StringFixed(2)
		lot.DocIssueStart, lot.DocIssueEnd, lot.BidDeadline = ts(at(1, 9, 0)), ts(at(8, 17, 0)), ts(at(23, 9, 30))
		opening, deadline = trading.AnnouncementTender, at(23, 9, 30)
	case trading.Procurement:
		lot.Name, lot.Budget = "第1包", pl.Base.StringFixed(2)
		lot.DocIssueStart, lot.DocIssueEnd, lot.BidDeadline = ts(at(1, 9, 0)), ts(at(15, 17, 0)), ts(at(24, 9, 30))
		opening, deadline = trading.AnnouncementProcurement, at(24, 9, 30)
	case trading.Land:
		lot.Name, lot.StartingPrice, lot.Increment = "出让地块", pl.Base.StringFixed(2), "100000.00"
		lot.Deposit = pl.Base.Mul(decimal.New(2, -1)).StringFixed(2)
		lot.ListingStart, lot.ListingEnd = ts(at(21, 9, 0)), ts(at(45, 16, 0))
		opening, deadline = trading.AnnouncementListing, at(45, 16, 0)
	case trading.Property:
		lot.Name, lot.ListingPrice, lot.AppraisedValue = "转让标的", pl.Base.StringFixed(2), pl.Base.StringFixed(2)
		lot.ListingStart, lot.ListingEnd = ts(at(1, 9, 0)), ts(at(42, 16, 0))
		opening, deadline = trading.AnnouncementListing, at(42, 16, 0)
	}
	p, err := svc.CreateProject(ctx, agent, trading.ProjectInput{Category: pl.Category, Title: title, OwnerName: "福州市某局",
		RegionCode: pl.Region, StateFunded: pl.Category == trading.Engineering, Lots: []trading.LotInput{lot}})
	if err != nil {
		return err
	}
	approve := func(n *trading.Announcement) error {
		if n == nil {
			return nil
		}
		_, err := svc.ApproveAnnouncement(ctx, sup, n.ID, nil)
		return err
	}
	clock.Set(pl.Announcement)
	n, err := svc.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: opening, Title: title + opening.Name(),
		Body: fmt.Sprintf(demoBody, "演示年度数据。")})
	if err != nil {
		return err
	}
	if _, err := svc.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		return err
	}
	if err := approve(n); err != nil {
		return err
	}
	lotID := p.Lots[0].ID
	// Registration: during the issue period, or applications reviewed.
	clock.Set(at(2, 10, 0))
	if pl.Category == trading.Land {
		clock.Set(at(22, 10, 0))
	}
	take := 4
	if pl.Failed && pl.Category == trading.Engineering {
		take = 2 // E7: fewer than 3 bidders
	}
	decl := map[string]bool{}
	for _, d := range bidding.ProcurementDeclarations {
		decl[d.Key] = true
	}
	var ids []string
	for _, b := range bidders[:take] {
		in := bidding.RegisterInput{ContactName: "王五", ContactPhone: "0591-87654321"}
		if pl.Category == trading.Procurement {
			in.Declarations = decl
		}
		reg, err := bid.Register(ctx, b, lotID, in)
		if err != nil {
			return err
		}
		if reg.Status == bidding.StatusPending {
			if err := bid.Review(ctx, agent, reg.ID, true, ""); err != nil {
				return err
			}
		}
		var id string
		app.DB.WithContext(ctx).Raw("SELECT id_number FROM bidders WHERE account_id = ?", b.AccountID).Scan(&id)
		ids = append(ids, id)
	}
	clock.Set(deadline.Add(30 * time.Minute))
	if pl.Category == trading.Land || pl.Category == trading.Property {
		in := bidding.DealInput{IDNumber: ids[0], Price: pl.Result.StringFixed(2)}
		if pl.Failed {
			in = bidding.DealInput{NoSale: true, Reason: "挂牌期间无人报价，流拍"}
		}
		n, err := bid.RecordDeal(ctx, agent, lotID, in)
		if err != nil {
			return err
		}
		clock.Set(deadline.AddDate(0, 0, 1))
		return approve(n)
	}
	// Engineering and procurement: the opening record, the winner first.
	var bids []bidding.BidInput
	for i, id := range ids {
		price := pl.Result
		if i > 0 {
			price = pl.Result.Mul(decimal.New(int64(10000+150*i), -4)).Round(2)
		}
		bids = append(bids, bidding.BidInput{IDNumber: id, Price: price.StringFixed(2)})
	}
	r, err := bid.RecordOpening(ctx, agent, lotID, bidding.OpeningInput{Bids: bids})
	if err != nil || r.Stage == bidding.StageFailed {
		return err
	}
	cn, err := bid.SetCandidates(ctx, agent, lotID, bidding.CandidatesInput{IDNumbers: ids[:3], PublicityEnd: deadline.AddDate(0, 0, 5)})
	if err != nil {
		return err
	}
	clock.Set(deadline.AddDate(0, 0, 1))
	if err := approve(cn); err != nil {
		return err
	}
	clock.Set(deadline.AddDate(0, 0, 6))
	rn, err := bid.Award(ctx, agent, lotID, bidding.AwardInput{IDNumber: ids[0]})
	if err != nil {
		return err
	}
	if err := approve(rn); err != nil {
		return err
	}
	clock.Set(deadline.AddDate(0, 0, 15))
	_, err = bid.RecordContract(ctx, agent, lotID, bidding.ContractInput{Date: clock.Now(), Amount: pl.Result.StringFixed(2)})
	return err
}
