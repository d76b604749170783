package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf16"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/platform"
	"github.com/ggzy/ggzy/trading"
)

// demoAccount is one account of the deterministic demo data set. The
// passwords are public on purpose: the demo is for trying the platform.
type demoAccount struct {
	Role     trading.Role
	Username string
	Name     string
	Password string
	Bidder   *trading.SignUp
}

var demoAccounts = []demoAccount{
	{Role: trading.RoleAdmin, Username: "admin", Name: "系统管理员", Password: "admin-ggzy-2026"},
	{Role: trading.RoleSupervisor, Username: "jiandu", Name: "交易中心监督科", Password: "jiandu-ggzy-2026"},
	{Role: trading.RoleAgent, Username: "daili", Name: "福建某招标代理有限公司", Password: "daili-ggzy-2026"},
	{Role: trading.RoleBidder, Username: "toubiao", Name: "福建某建设工程有限公司", Password: "toubiao-ggzy-2026",
		Bidder: &trading.SignUp{Kind: trading.BidderEnterprise, IDNumber: "91350100M000100Y43",
			LegalRep: "张三", Phone: "13800138000", Email: "toubiao@example.com"}},
	{Role: trading.RoleBidder, Username: "jingmai", Name: "李四", Password: "jingmai-ggzy-2026",
		Bidder: &trading.SignUp{Kind: trading.BidderPerson, IDNumber: "11010519491231002X",
			Phone: "13900139000", Email: "jingmai@example.com"}},
}

// loadDemo creates the demo accounts that do not exist yet and prints them.
func loadDemo(ctx context.Context, app *App, out io.Writer) error {
	fmt.Fprintln(out, "演示账号 (demo accounts):")
	for _, d := range demoAccounts {
		var err error
		if d.Bidder != nil {
			in := *d.Bidder
			in.Username, in.Password, in.Name = d.Username, d.Password, d.Name
			_, err = app.Trading.SignUpBidder(ctx, trading.SystemActor, in)
		} else {
			_, err = app.Trading.CreateAccount(ctx, trading.SystemActor, trading.NewAccount{
				Role: d.Role, Username: d.Username, DisplayName: d.Name, Password: d.Password})
		}
		state := "created"
		if errors.Is(err, trading.ErrConflict) {
			state, err = "exists", nil
		}
		if err != nil {
			return fmt.Errorf("demo account %s: %w", d.Username, err)
		}
		fmt.Fprintf(out, "  %-10s %-12s 密码 %-20s %s (%s)\n", d.Role, d.Username, d.Password, d.Name, state)
	}
	// The past year first: publication order (published_seq, which orders
	// the portal) then follows the announcements' dates on a fresh data set.
	if err := loadDemoYear(ctx, app, out); err != nil {
		return err
	}
	return loadDemoProjects(ctx, app, out)
}

// demoAnnouncement is an announcement of a demo project: published at At on the demo's
// own clock (historic records), or left submitted or as a draft.
type demoAnnouncement struct {
	Type  trading.AnnouncementType
	Title string
	Body  string
	At    time.Time
	// Changes moves the first lot's deadline (amendments).
	NewDeadline time.Time
}

type demoProject struct {
	In            trading.ProjectInput
	Announcements []demoAnnouncement
	// State of the last announcement: "published", "submitted" or "draft".
	Leave string
}

func sh(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, trading.Shanghai)
}

func ts(t time.Time) string { return t.Format(time.RFC3339) }

const demoBody = "# 一、项目概况\n%s\n\n# 二、投标人资格要求\n- 具有独立法人资格\n- 具备相应资质\n\n# 三、时间安排\n| 事项 | 时间 |\n|---|---|\n| 文件获取 | 见本公告 |\n| 投标截止 | 见本公告 |\n\n**请投标人在截止时间前完成网上报名。**"

// demoProjects are historic records on fixed dates (published, amended)
// and, relative to today, one under review and drafts.
func demoProjects(today time.Time) []demoProject {
	d := func(days int, h int) string {
		t := today.AddDate(0, 0, days)
		return ts(time.Date(t.Year(), t.Month(), t.Day(), h, 0, 0, 0, trading.Shanghai))
	}
	return []demoProject{
		{In: trading.ProjectInput{Category: trading.Engineering, Title: "闽江北岸防洪堤加固工程施工", OwnerName: "福州市水利局", RegionCode: "350100", StateFunded: true,
			Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "12680000.00", EstimatedPrice: "13000000.00", Deposit: "250000.00",
				DocIssueStart: ts(sh(2026, 9, 2, 9, 0)), DocIssueEnd: ts(sh(2026, 9, 9, 17, 0)), BidDeadline: ts(sh(2026, 9, 23, 9, 30)), OpeningPlace: "福州市公共资源交易中心第一开标室"}}},
			Announcements: []demoAnnouncement{{Type: trading.AnnouncementTender, Title: "闽江北岸防洪堤加固工程施工招标公告", Body: "闽江北岸防洪堤加固，全长3.2公里。", At: sh(2026, 9, 1, 10, 0)}}, Leave: "published"},
		{In: trading.ProjectInput{Category: trading.Engineering, Title: "地铁6号线配套道路工程施工", OwnerName: "福州市城乡建设局", RegionCode: "350104", StateFunded: true,
			Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "35800000.00", Deposit: "700000.00",
				DocIssueStart: ts(sh(2026, 9, 11, 9, 0)), DocIssueEnd: ts(sh(2026, 9, 18, 17, 0)), BidDeadline: ts(sh(2026, 10, 9, 9, 30)), OpeningPlace: "福州市公共资源交易中心第二开标室"},
				{Name: "二标段", ControlPrice: "28600000.00", Deposit: "560000.00",
					DocIssueStart: ts(sh(2026, 9, 11, 9, 0)), DocIssueEnd: ts(sh(2026, 9, 18, 17, 0)), BidDeadline: ts(sh(2026, 10, 9, 9, 30)), OpeningPlace: "福州市公共资源交易中心第二开标室"}}},
			Announcements: []demoAnnouncement{
				{Type: trading.AnnouncementTender, Title: "地铁6号线配套道路工程施工招标公告", Body: "配套道路两个标段。", At: sh(2026, 9, 10, 10, 0)},
				{Type: trading.AnnouncementAmendment, Title: "地铁6号线配套道路工程施工招标文件澄清与变更公告", Body: "澄清工程量清单第3.2条，投标截止时间顺延。", At: sh(2026, 9, 28, 10, 0), NewDeadline: sh(2026, 10, 16, 9, 30)}},
			Leave: "published"},
		{In: trading.ProjectInput{Category: trading.Procurement, Title: "市立医院医疗设备采购", OwnerName: "福州市第一医院", RegionCode: "350102",
			Lots: []trading.LotInput{{Name: "第1包：CT", Budget: "8600000.00", DocIssueStart: ts(sh(2026, 10, 13, 9, 0)), DocIssueEnd: ts(sh(2026, 10, 20, 17, 0)), BidDeadline: ts(sh(2026, 11, 5, 9, 30)), OpeningPlace: "政府采购开标室"},
				{Name: "第2包：超声", Budget: "2400000.00", DocIssueStart: ts(sh(2026, 10, 13, 9, 0)), DocIssueEnd: ts(sh(2026, 10, 20, 17, 0)), BidDeadline: ts(sh(2026, 11, 5, 9, 30)), OpeningPlace: "政府采购开标室"}}},
			Announcements: []demoAnnouncement{{Type: trading.AnnouncementProcurement, Title: "市立医院医疗设备采购项目公开招标公告", Body: "采购CT一台、彩色超声诊断仪两台。", At: sh(2026, 10, 12, 10, 0)}}, Leave: "published"},
		{In: trading.ProjectInput{Category: trading.Land, Title: "榕土2026-07号地块国有建设用地使用权挂牌出让", OwnerName: "福州市自然资源和规划局", RegionCode: "350121",
			Lots: []trading.LotInput{{Name: "榕土2026-07号地块", StartingPrice: "50000000.00", ReservePrice: "56000000.00", Increment: "500000.00", Deposit: "10000000.00",
				ListingStart: ts(sh(2026, 8, 24, 9, 0)), ListingEnd: ts(sh(2026, 9, 7, 16, 0)), OpeningPlace: "交易中心土地交易厅"}}},
			Announcements: []demoAnnouncement{{Type: trading.AnnouncementListing, Title: "榕土2026-07号地块挂牌出让公告", Body: "住宅用地，出让年限70年，面积32,015平方米。", At: sh(2026, 8, 3, 10, 0)}}, Leave: "published"},
		{In: trading.ProjectInput{Category: trading.Property, Title: "某市属国有企业30%股权转让", OwnerName: "福州市某国有资本投资运营公司", RegionCode: "350100",
			Lots: []trading.LotInput{{Name: "30%股权", ListingPrice: "18000000.00", AppraisedValue: "17500000.00", StartingPrice: "18000000.00", Increment: "100000.00", Deposit: "1800000.00",
				ListingStart: ts(sh(2026, 7, 2, 9, 0)), ListingEnd: ts(sh(2026, 7, 31, 16, 0))}}},
			Announcements: []demoAnnouncement{{Type: trading.AnnouncementListing, Title: "某市属国有企业30%股权转让信息披露公告", Body: "转让标的为30%股权，评估值1750万元。", At: sh(2026, 7, 1, 10, 0)}}, Leave: "published"},
		{In: trading.ProjectInput{Category: trading.Engineering, Title: "仓山区学校改扩建工程施工", OwnerName: "福州市仓山区教育局", RegionCode: "350104", StateFunded: true,
			Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "9800000.00", Deposit: "190000.00",
				DocIssueStart: d(2, 9), DocIssueEnd: d(9, 17), BidDeadline: d(24, 9), OpeningPlace: "福州市公共资源交易中心第三开标室"}}},
			Announcements: []demoAnnouncement{{Type: trading.AnnouncementTender, Title: "仓山区学校改扩建工程施工招标公告", Body: "新建教学楼一栋，改造运动场。"}}, Leave: "submitted"},
		{In: trading.ProjectInput{Category: trading.Procurement, Title: "政务云服务采购", OwnerName: "福州市大数据管理委员会", RegionCode: "350100",
			Lots: []trading.LotInput{{Name: "第1包", Budget: "4200000.00", DocIssueStart: d(3, 9), DocIssueEnd: d(12, 17), BidDeadline: d(25, 9)}}},
			Announcements: []demoAnnouncement{{Type: trading.AnnouncementProcurement, Title: "政务云服务采购项目公开招标公告", Body: "三年期政务云服务。"}}, Leave: "draft"},
		{In: trading.ProjectInput{Category: trading.Land, Title: "闽侯县2026-12号地块挂牌出让", OwnerName: "闽侯县自然资源局", RegionCode: "350121",
			Lots: []trading.LotInput{{Name: "2026-12号地块", StartingPrice: "21000000.00", ReservePrice: "23500000.00", Increment: "200000.00", Deposit: "4200000.00"}}},
			Leave: "draft"},
	}
}

// loadDemoProjects creates the demo projects that do not exist yet. The
// historic ones run on their own clock, so they were published on the dates
// they say, under the rules as they stood then.
func loadDemoProjects(ctx context.Context, app *App, out io.Writer) error {
	agent, sup, err := demoActors(ctx, app)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "演示项目 (demo projects):")
	projects := demoProjects(app.Clock.Now().In(trading.Shanghai))
	// In the order of their first announcements, so the portal (ordered by
	// publication) lists them newest first; today's ones come last.
	slices.SortStableFunc(projects, func(a, b demoProject) int {
		at := func(p demoProject) time.Time {
			if len(p.Announcements) == 0 || p.Announcements[0].At.IsZero() {
				return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			return p.Announcements[0].At
		}
		return at(a).Compare(at(b))
	})
	for _, dp := range projects {
		var exists int64
		if err := app.DB.WithContext(ctx).Model(&trading.Project{}).Where("title = ?", dp.In.Title).Count(&exists).Error; err != nil {
			return err
		}
		if exists > 0 {
			fmt.Fprintf(out, "  %-40s exists\n", dp.In.Title)
			continue
		}
		svc, bid := app.Trading, app.Bidding
		historic := len(dp.Announcements) > 0 && !dp.Announcements[0].At.IsZero()
		if historic {
			clock := trading.NewManualClock(dp.Announcements[0].At.Add(-time.Hour))
			svc = trading.NewService(app.DB, clock, app.Log)
			svc.Passwords = app.Trading.Passwords
			bid = bidding.NewService(svc, app.Storage)
			platform.Wire(svc, bid, nil, nil) // trading and bidding only: its publication hook releases the documents
		}
		p, err := svc.CreateProject(ctx, agent, dp.In)
		if err != nil {
			return fmt.Errorf("demo project %s: %w", dp.In.Title, err)
		}
		// The documents, uploaded before the announcement that will release them.
		if len(dp.Announcements) > 0 {
			pdf := demoPDF(dp.In.Title)
			for _, l := range p.Lots {
				if _, err := bid.Upload(ctx, agent, l.ID, bidding.UploadInput{Kind: bidding.DocTender, Filename: dp.In.Title + "（" + l.Name + "）文件.pdf"},
					bytes.NewReader(pdf), int64(len(pdf))); err != nil {
					return fmt.Errorf("demo document of %s: %w", dp.In.Title, err)
				}
			}
		}
		state := "draft"
		for i, dn := range dp.Announcements {
			if historic {
				svc.Clock.(*trading.ManualClock).Set(dn.At)
			}
			in := trading.AnnouncementInput{Type: dn.Type, Title: dn.Title, Body: fmt.Sprintf(demoBody, dn.Body)}
			if dn.Type == trading.AnnouncementAmendment {
				var first trading.Announcement
				app.DB.WithContext(ctx).Where("project_id = ? AND status = ?", p.ID, trading.AnnouncementPublished).Order("id").First(&first)
				in.AmendsID = first.ID
				for _, l := range p.Lots {
					in.Changes = append(in.Changes, trading.LotChangeInput{LotID: l.ID, BidDeadline: ts(dn.NewDeadline)})
				}
			}
			n, err := svc.DraftAnnouncement(ctx, agent, p.Code, in)
			if err != nil {
				return fmt.Errorf("demo announcement %s: %w", dn.Title, err)
			}
			last := i == len(dp.Announcements)-1
			if last && dp.Leave == "draft" {
				break
			}
			if _, err := svc.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
				// Today's schedule may meet a rule the demo cannot satisfy
				// (a year without a working-day calendar): say so, keep the draft.
				fmt.Fprintf(out, "  %-40s draft (not submitted: %v)\n", dp.In.Title, err)
				state = ""
				break
			}
			state = "submitted"
			if last && dp.Leave == "submitted" {
				break
			}
			if _, err := svc.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
				return fmt.Errorf("demo announcement %s: %w", dn.Title, err)
			}
			state = "published"
			if dn.Type == trading.AnnouncementAmendment {
				state = "amended"
			}
		}
		if state != "" {
			fmt.Fprintf(out, "  %-40s %s (%s)\n", dp.In.Title, p.Code, state)
		}
	}
	return nil
}

// demoPDF is a small valid PDF naming the project (ASCII text: the
// standard fonts have no Chinese glyphs, so the title goes in the metadata).
func demoPDF(title string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"", // content stream, below
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Title <FEFF%X> /Producer (ggzy demo) >>", utf16be(title)),
	}
	stream := "BT /F1 18 Tf 72 770 Td (ggzy demo tender document) Tj 0 -28 Td (See the announcement on the portal.) Tj ET"
	objs[3] = fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream)
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func utf16be(s string) []byte {
	var out []byte
	for _, r := range utf16.Encode([]rune(s)) {
		out = append(out, byte(r>>8), byte(r))
	}
	return out
}

// demoActors are the demo agent and supervisor.
func demoActors(ctx context.Context, app *App) (agent, sup trading.Actor, err error) {
	for _, x := range []struct {
		name string
		role trading.Role
		dst  *trading.Actor
	}{{"daili", trading.RoleAgent, &agent}, {"jiandu", trading.RoleSupervisor, &sup}} {
		var acc trading.Account
		if err := app.DB.WithContext(ctx).Where("username = ?", x.name).First(&acc).Error; err != nil {
			return agent, sup, fmt.Errorf("demo account %s: %w", x.name, err)
		}
		*x.dst = trading.Actor{AccountID: acc.ID, Username: acc.Username, Role: x.role, IP: "demo"}
	}
	return agent, sup, nil
}
