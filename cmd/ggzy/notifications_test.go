package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/supervision"
)

// notes are an account's notifications as "title｜body", oldest first.
func notes(t *testing.T, app *App, accountID int64) []string {
	t.Helper()
	var list []trading.Notification
	if err := app.DB.Where("account_id = ?", accountID).Order("id").Find(&list).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(list))
	for i, n := range list {
		out[i] = n.Title + "｜" + n.Body
	}
	return out
}

// hasNote fails unless one of the account's notifications has title and
// every part in its body.
func hasNote(t *testing.T, app *App, accountID int64, title string, parts ...string) {
	t.Helper()
	for _, n := range notes(t, app, accountID) {
		if !strings.HasPrefix(n, title+"｜") {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(n, p)
		}
		if ok {
			return
		}
	}
	t.Fatalf("no notification %q with %q; has %q", title, parts, notes(t, app, accountID))
}

// Issue 14 item 6: each event that concerns a person notifies them in its
// own transaction — the bidder of deposits (short, received, late,
// invalid), refunds (opened, paid), suspension and resumption; the agent
// of announcements approved and rejected, applications waiting and a deadline
// reached; the supervisors of K1 alerts and overdue refunds. The header
// counts the unread ones; ids are opaque; texts never count others.
func TestNotificationsOfEveryEvent(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()
	clock := app.Clock.(*trading.ManualClock)
	number, bidder := depositLot(t, app)
	lot := lotOfAccount(t, app, number)
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	var p trading.Project
	if err := app.DB.First(&p).Error; err != nil {
		t.Fatal(err)
	}
	hasNote(t, app, agent.AccountID, "公告审核通过", p.Code, "保证金接口测试工程招标公告")

	pay := func(txn, payer, account, amount string, at time.Time) {
		t.Helper()
		if _, err := app.Deposits.Receive(ctx, trading.SystemActor, deposits.SourceWebhook, []deposits.Inflow{{BankTxnID: txn, VirtualAccount: account,
			PayerName: payer, PayerAccount: "6222001", Amount: mustDecimal(amount), Currency: "CNY", ValueTime: at}}); err != nil {
			t.Fatal(err)
		}
	}
	pay("N1", "福建接口建设有限公司", number, "150000.00", clock.Now())
	hasNote(t, app, bidder.AccountID, "保证金缴纳不足", "150,000.00 元", "尚差 50,000.00 元")
	pay("N2", "福建接口建设有限公司", number, "50000.00", clock.Now())
	hasNote(t, app, bidder.AccountID, "保证金已到账", "50,000.00 元", "已足额缴纳")

	// A second bidder pays from another's account (D2, third party) and
	// from the same account as the first (K1).
	acc2, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: "福建第二建设有限公司",
		IDNumber: testenv.CreditCode("91350100MA0000002"), LegalRep: "王五", Phone: "13800138001", Email: "y@example.com", Username: "dier", Password: "dier2026"})
	if err != nil {
		t.Fatal(err)
	}
	second := trading.Actor{AccountID: acc2.ID, Username: "dier", Role: trading.RoleBidder}
	if _, err := app.Bidding.Register(ctx, second, lot, bidding.RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	var va2 deposits.VirtualAccount
	if err := app.DB.Where("bidder_id = ?", acc2.ID).First(&va2).Error; err != nil {
		t.Fatal(err)
	}
	pay("N3", "某某代缴公司", va2.Number, "200000.00", clock.Now())
	hasNote(t, app, acc2.ID, "保证金缴纳无效", "D2")
	hasNote(t, app, acc2.ID, "保证金退还已受理", "200,000.00 元")
	hasNote(t, app, sup.AccountID, "K1 预警：同一账户为多家投标人缴纳保证金", p.Code)

	// Suspension and resumption reach the registrants.
	if _, err := supervision.Suspend(ctx, app.Trading, sup, p.Code, "收到投诉，核查中"); err != nil {
		t.Fatal(err)
	}
	hasNote(t, app, bidder.AccountID, "项目暂停", "收到投诉，核查中")
	if _, err := supervision.Resume(ctx, app.Trading, sup, p.Code, ""); err != nil {
		t.Fatal(err)
	}
	hasNote(t, app, bidder.AccountID, "项目恢复", p.Code)

	// An announcement sent back to the agent.
	n, err := app.Trading.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: trading.AnnouncementTermination, Title: "保证金接口测试工程终止公告", Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Trading.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if err := app.Trading.RejectAnnouncement(ctx, sup, n.ID, "终止理由不充分"); err != nil {
		t.Fatal(err)
	}
	hasNote(t, app, agent.AccountID, "公告被退回", "终止理由不充分")

	// The header counts the bidder's unread notifications; the API names
	// them by opaque ids; reading them clears the count.
	b := newBrowser(t, srv.URL)
	b.post("/login", "/login", url.Values{"username": {"jiekou"}, "password": {"jiekou2026"}})
	var unread int64
	app.DB.Raw("SELECT count(*) FROM notifications WHERE account_id = ? AND read_at IS NULL", bidder.AccountID).Scan(&unread)
	_, body := b.get("/my/projects")
	if want := fmt.Sprintf(`<span class="unread-count" id="unread-count" aria-label="未读消息">%d</span>`, unread); unread < 4 || !strings.Contains(body, want) {
		t.Fatalf("header: want %s", want)
	}
	var api struct {
		Items []map[string]any `json:"items"`
	}
	if code := call(t, "GET", srv.URL+"/api/v1/me/notifications", apiToken(t, srv.URL, "jiekou", "jiekou2026"), nil, &api); code != 200 || len(api.Items) != int(unread) {
		t.Fatalf("API: %d, %d items", code, len(api.Items))
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	for _, it := range api.Items {
		id, _ := it["id"].(string)
		if !uuid.MatchString(id) {
			raw, _ := json.Marshal(it)
			t.Fatalf("notification id is not opaque: %s", raw)
		}
	}
	b.post("/my/notifications", "/my/notifications/read", url.Values{})
	if _, body := b.get("/my/projects"); strings.Contains(body, `id="unread-count"`) {
		t.Fatal("unread count after reading them all")
	}

	// Withdrawal: the refund is opened and, once the bank pays, paid.
	if err := app.Bidding.Withdraw(ctx, bidder, lot); err != nil {
		t.Fatal(err)
	}
	hasNote(t, app, bidder.AccountID, "保证金退还已受理", "150,000.00 元", "（D6）")
	if _, err := app.Deposits.CreateBatch(ctx, sup); err != nil {
		t.Fatal(err)
	}
	var refunds []int64
	app.DB.Raw("SELECT r.id FROM refunds r JOIN inflows i ON i.id = r.inflow_id WHERE i.virtual_account_id = (SELECT id FROM virtual_accounts WHERE number = ?)", number).Scan(&refunds)
	for _, r := range refunds {
		if _, err := app.Deposits.Confirm(ctx, sup, r, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	hasNote(t, app, bidder.AccountID, "保证金已退还", "已退还至原付款账户")

	// Time passes: the third party's refund is overdue (supervisors told
	// once), the lot's deadline is reached (its agent told once), and a
	// payment after the deadline is late.
	clock.Advance(21 * 24 * time.Hour)
	for i := 0; i < 2; i++ {
		nr, err := app.Deposits.NotifyOverdueRefunds(ctx)
		if err != nil || (i == 0) != (nr > 0) {
			t.Fatalf("overdue refunds run %d: %d %v", i, nr, err)
		}
		nd, err := app.Bidding.NotifyDeadlines(ctx)
		if err != nil || (i == 0) != (nd == 1) {
			t.Fatalf("deadlines run %d: %d %v", i, nd, err)
		}
	}
	hasNote(t, app, sup.AccountID, "保证金退还逾期", "某某代缴公司")
	hasNote(t, app, agent.AccountID, "截止时间已到", p.Code, "标段1")
	pay("N4", "福建第二建设有限公司", va2.Number, "200000.00", clock.Now())
	hasNote(t, app, acc2.ID, "保证金逾期到账", "D1")

	// The lot fails (E7: one bid): its live registrant is told, by the rule.
	if _, err := app.Bidding.RecordOpening(ctx, agent, lot, bidding.OpeningInput{Bids: []bidding.BidInput{
		{IDNumber: testenv.CreditCode("91350100MA0000002"), Price: "11000000.00"}}}); err != nil {
		t.Fatal(err)
	}
	hasNote(t, app, acc2.ID, "流标", "E7")

	// No text tells a bidder how many others did anything.
	counting := regexp.MustCompile(`\d+\s*(家|名|个|位)`)
	for _, who := range []int64{bidder.AccountID, acc2.ID} {
		for _, n := range notes(t, app, who) {
			if counting.MatchString(n) {
				t.Errorf("notification counts others: %q", n)
			}
		}
	}
}
