package deposits

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
)

// The flat pages of deposits (my deposits, the payment notice, the
// guarantees and their review, the K1 alerts, "my projects"' waiting list)
// name a procurement lot 包1, as the lot page does, not 标段1 (issue 14).
func TestDepositPagesNameLotsByCategory(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	e.Clock.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai))
	at := func(m time.Month, d, h, min int) string {
		return time.Date(2026, m, d, h, min, 0, 0, trading.Shanghai).Format(time.RFC3339)
	}
	p, err := e.TS.CreateProject(ctx, e.Agent, trading.ProjectInput{Category: "procurement", Title: "包名测试采购项目", OwnerName: "福州市某局",
		RegionCode: "350100", Lots: []trading.LotInput{{Name: "医疗设备", Budget: "3000000.00", Deposit: "60000.00",
			DocIssueStart: at(3, 3, 9, 0), DocIssueEnd: at(3, 10, 17, 0), BidDeadline: at(3, 25, 9, 30)}}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.TS.DraftAnnouncement(ctx, e.Agent, p.Code, trading.AnnouncementInput{Type: "procurement", Title: "包名测试采购公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.SubmitAnnouncement(ctx, e.Agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	lot := p.Lots[0].ID
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	decl := map[string]bool{}
	for _, d := range bidding.ProcurementDeclarations {
		decl[d.Key] = true
	}
	var bidders []trading.Actor
	var accounts []string
	for _, name := range []string{"福建甲医疗器械有限公司", "福建乙医疗器械有限公司"} {
		a := e.signUp(name)
		if _, err := e.Bid.Register(ctx, a, lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "0591-88888888", Declarations: decl}); err != nil {
			t.Fatal(err)
		}
		var va VirtualAccount
		if err := e.Dep.DB.Where("bidder_id = ? AND lot_id = ?", a.AccountID, lot).First(&va).Error; err != nil {
			t.Fatal(err)
		}
		bidders, accounts = append(bidders, a), append(accounts, va.Number)
	}
	// Both deposits from one account: K1.
	in1 := inflow("B-1", accounts[0], "福建甲医疗器械有限公司", "30000.00", e.Clock.Now())
	in2 := inflow("B-2", accounts[1], "福建乙医疗器械有限公司", "60000.00", e.Clock.Now())
	in2.PayerAccount = in1.PayerAccount
	if r, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{in1, in2}); err != nil || r.Alerts != 1 {
		t.Fatalf("receive: %+v %v", r, err)
	}
	if _, err := e.Dep.SubmitGuarantee(ctx, bidders[1], lot, GuaranteeInput{Kind: "electronic", Number: "EG-1", Issuer: "某保险公司",
		Amount: "60000.00", ValidUntil: "2026-06-23"}); err != nil {
		t.Fatal(err)
	}

	r, err := templates.New(trading.TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	render := func(name string, data any) string {
		t.Helper()
		var buf bytes.Buffer
		if err := r.Render(&buf, name, templates.Page{Title: name, CSRF: "tok", Data: data}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return buf.String()
	}
	check := func(page, out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q", page, w)
			}
		}
		if strings.Contains(out, "标段1") {
			t.Errorf("%s names the procurement lot 标段1:\n%s", page, out)
		}
	}

	mine, err := e.Dep.MyDeposits(ctx, bidders[0])
	if err != nil || len(mine) != 1 || mine[0].Category != trading.Procurement {
		t.Fatalf("my deposits: %+v %v", mine, err)
	}
	check("my_deposits", render("my_deposits", map[string]any{"Deposits": mine, "Now": e.Clock.Now(), "AccountName": "某中心", "BankName": "某银行"}),
		"包名测试采购项目 · 包1 医疗设备")
	notice, err := e.Dep.PaymentNoticeFor(ctx, bidders[0], lot)
	if err != nil {
		t.Fatal(err)
	}
	check("deposit_notice", render("deposit_notice", notice), "）包1 医疗设备。", "请在包页面上传扫描件")
	waiting, err := e.Dep.Waiting(ctx, bidders[0].AccountID, e.Clock.Now())
	if err != nil || len(waiting) != 1 || waiting[0].Detail != "包名测试采购项目 · 包1 医疗设备" {
		t.Fatalf("waiting: %+v %v", waiting, err)
	}

	opts, err := e.Dep.GuaranteeOptions(ctx, bidders[0])
	if err != nil || len(opts) != 1 {
		t.Fatalf("options: %+v %v", opts, err)
	}
	list, err := e.Dep.MyGuarantees(ctx, bidders[1])
	if err != nil || len(list) != 1 {
		t.Fatalf("my guarantees: %+v %v", list, err)
	}
	check("guarantees (bidder)", render("guarantees", map[string]any{"Review": false, "Guarantees": list, "Options": opts,
		"Kinds": GuaranteeKinds, "Form": &guaranteeForm{}, "Error": nil}), "包名测试采购项目 · 包1 医疗设备（", "包名测试采购项目 · 包1 医疗设备<br>")
	lg, err := e.Dep.LotGuarantees(ctx, e.Sup, lot)
	if err != nil || lg.Category != trading.Procurement || len(lg.Guarantees) != 1 {
		t.Fatalf("review: %+v %v", lg, err)
	}
	check("guarantees (review)", render("guarantees", map[string]any{"Review": true, "Guarantees": lg.Guarantees, "Lot": lg.Lot, "Category": lg.Category}),
		"<h1>保函核验 · 包1 医疗设备</h1>")

	alerts, err := e.Dep.Alerts(ctx, e.Sup)
	if err != nil || len(alerts) != 1 || alerts[0].Category != trading.Procurement {
		t.Fatalf("alerts: %+v %v", alerts, err)
	}
	check("deposit_inflows", render("deposit_inflows", map[string]any{"Inflows": []StoredInflow(nil), "Alerts": alerts,
		"Filter": InflowFilter{}, "Pager": trading.Pager{Page: 1}}), "项目 "+p.Code+" 包1，")

	// The supervisors' feed and the project's timeline, and the
	// notifications to bidders and supervisors.
	feed, err := SupervisionSource{Svc: e.Dep}.Alerts(ctx, e.Clock.Now(), 50)
	if err != nil {
		t.Fatal(err)
	}
	timeline, err := SupervisionSource{Svc: e.Dep}.Timeline(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, a := range feed {
		texts = append(texts, a.Title)
	}
	for _, ev := range timeline {
		texts = append(texts, ev.Title)
	}
	var notes []string
	if err := e.Dep.DB.Raw(`SELECT body FROM notifications WHERE key LIKE 'k1:%' OR key LIKE 'inflow:%' ORDER BY id`).Scan(&notes).Error; err != nil {
		t.Fatal(err)
	}
	texts = append(texts, notes...)
	all := strings.Join(texts, "\n")
	check("supervision feed, timeline and notifications", all, "疑似串通投标：包1 ", "K1 预警：包1 ", "保证金到账 30,000.00 元（包1，",
		"项目 "+p.Code+" 包1：")
}

// sqlLotNoun says in SQL what LotNoun says in Go.
func TestSQLLotNounIsLotNoun(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	for _, c := range trading.Categories() {
		var got string
		if err := e.Dep.DB.Raw("SELECT "+sqlLotNoun+" FROM (SELECT ?::text AS category) p", string(c)).Scan(&got).Error; err != nil || got != c.LotNoun() {
			t.Errorf("%s: SQL %q, LotNoun %q (%v)", c, got, c.LotNoun(), err)
		}
	}
}

// A procurement lot is a 包 in what deposits writes about it: the
// supervisors' deposit sheet's header, the refund reason when the lot
// fails, and a refused guarantee (issue 14: they said 标段).
func TestDepositTextsNameProcurementLotPackage(t *testing.T) {
	t.Parallel()
	e := newDepEnv(t)
	ctx := context.Background()
	e.Clock.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, trading.Shanghai))
	at := func(m time.Month, d, h, min int) string {
		return time.Date(2026, m, d, h, min, 0, 0, trading.Shanghai).Format(time.RFC3339)
	}
	p, err := e.TS.CreateProject(ctx, e.Agent, trading.ProjectInput{Category: "procurement", Title: "包名退款采购项目", OwnerName: "福州市某局",
		RegionCode: "350100", Lots: []trading.LotInput{{Name: "办公设备", Budget: "3000000.00", Deposit: "60000.00",
			DocIssueStart: at(3, 3, 9, 0), DocIssueEnd: at(3, 10, 17, 0), BidDeadline: at(3, 25, 9, 30)}}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.TS.DraftAnnouncement(ctx, e.Agent, p.Code, trading.AnnouncementInput{Type: "procurement", Title: "包名退款采购公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.SubmitAnnouncement(ctx, e.Agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TS.ApproveAnnouncement(ctx, e.Sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	lot := p.Lots[0].ID
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	decl := map[string]bool{}
	for _, d := range bidding.ProcurementDeclarations {
		decl[d.Key] = true
	}
	a := e.signUp("福建甲办公设备有限公司")
	if _, err := e.Bid.Register(ctx, a, lot, bidding.RegisterInput{ContactName: "王五", ContactPhone: "0591-88888888", Declarations: decl}); err != nil {
		t.Fatal(err)
	}
	var va VirtualAccount
	if err := e.Dep.DB.Where("bidder_id = ? AND lot_id = ?", a.AccountID, lot).First(&va).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := e.Dep.Receive(ctx, bankActor, SourceWebhook, []Inflow{inflow("P-1", va.Number, "福建甲办公设备有限公司", "60000.00", e.Clock.Now())}); err != nil {
		t.Fatal(err)
	}
	stranger := e.signUp("福建乙办公设备有限公司")
	_, err = e.Dep.SubmitGuarantee(ctx, stranger, lot, GuaranteeInput{Kind: "electronic", Number: "EG-9", Issuer: "某保险公司",
		Amount: "60000.00", ValidUntil: "2026-06-23"})
	if !errors.Is(err, trading.ErrConflict) || !strings.Contains(err.Error(), "您没有报名该包") {
		t.Errorf("a guarantee without a registration: %v", err)
	}

	rows, err := e.Dep.DepositSheet(ctx, e.Sup, p.Code)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteDepositSheet(&buf, p.Code, rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	cells, _ := f.GetRows("保证金台账")
	if len(cells) < 2 || len(cells[0]) < 6 || cells[0][0] != "包" || cells[0][1] != "包名称" || cells[0][2] != "供应商" {
		t.Errorf("the sheet's header: %q", cells)
	}
	// The registration's status is Chinese, not its code (#14 item 1).
	if len(cells) >= 2 && len(cells[1]) >= 6 && cells[1][5] != "已报名" {
		t.Errorf("the sheet's 报名状态: %q, want 已报名", cells[1][5])
	}

	// Nobody bid by the deadline: the lot fails (G10) and the deposit is
	// refunded, for a reason that names the 包.
	e.Clock.Set(time.Date(2026, 3, 25, 10, 0, 0, 0, trading.Shanghai))
	if err := e.Bid.DeclareFailed(ctx, e.Agent, lot, ""); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	if err := e.Dep.DB.Raw("SELECT reason FROM refunds ORDER BY id").Scan(&reasons).Error; err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 1 || !strings.HasPrefix(reasons[0], "包1流标") {
		t.Errorf("refund reasons: %q", reasons)
	}
}
