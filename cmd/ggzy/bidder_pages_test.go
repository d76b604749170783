package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// The bidder's pages of issue 14 item 5: the deposit payment notice, what
// waits on the bidder with countdowns, the scan upload on the lot page,
// and no 撤回 after the deadline; the unconfigured bank warns the admin only.
func TestBidderPagesPaymentNoticeWaitingAndDeadline(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	number, bidder := depositLot(t, app)
	lot := lotOfAccount(t, app, number)
	b := newBrowser(t, srv.URL)
	b.post("/login", "/login", url.Values{"username": {"jiekou"}, "password": {"jiekou2026"}})

	code, body := b.get(fmt.Sprintf("/my/deposits/%d/notice", lot))
	if code != 200 {
		t.Fatalf("payment notice: %d", code)
	}
	for _, want := range []string{"保证金缴款通知书", "福建接口建设有限公司", number, "200,000.00 元", app.Deposits.AccountName, "请向交易中心咨询", "保证金接口测试工程"} {
		if !strings.Contains(body, want) {
			t.Errorf("payment notice lacks %q", want)
		}
	}
	if strings.Contains(body, "请配置") {
		t.Error("a bidder sees the configuration placeholder")
	}
	if _, body := b.get("/my/deposits"); strings.Contains(body, "请配置") || !strings.Contains(body, fmt.Sprintf("/my/deposits/%d/notice", lot)) {
		t.Error("my deposits: placeholder shown or no link to the payment notice")
	}
	// Another bidder's lot (none here): no notice.
	if code, _ := b.get(fmt.Sprintf("/my/deposits/%d/notice", lot+1000)); code != 404 {
		t.Errorf("notice of a lot the bidder is not in: %d", code)
	}

	_, body = b.get("/my/projects")
	waiting := between(body, `id="waiting"`, "</section>")
	if !strings.Contains(waiting, "缴纳保证金 200,000.00 元") || !strings.Contains(waiting, `class="countdown"`) ||
		!strings.Contains(waiting, fmt.Sprintf("/my/deposits/%d/notice", lot)) {
		t.Fatalf("waiting list: %s", waiting)
	}
	_, body = b.get(fmt.Sprintf("/lots/%d", lot))
	if !strings.Contains(body, `id="withdraw"`) || !strings.Contains(body, fmt.Sprintf(`action="/lots/%d/materials"`, lot)) || !strings.Contains(body, `type="file" name="file"`) {
		t.Fatal("lot page before the deadline: no 撤回 or no scan upload")
	}

	// Admins are warned about the unconfigured bank; bidders never are.
	mustCreate(t, app, trading.RoleAdmin, "guanli", "guanli2026")
	adm := newBrowser(t, srv.URL)
	adm.post("/login", "/login", url.Values{"username": {"guanli"}, "password": {"guanli2026"}})
	if _, body := adm.get("/admin/users"); !strings.Contains(body, "GGZY_DEPOSIT_BANK") {
		t.Error("admin not warned about the unconfigured deposit bank")
	}
	if _, body := b.get("/my/projects"); strings.Contains(body, "GGZY_DEPOSIT_BANK") {
		t.Error("a bidder sees the configuration warning")
	}

	// Paid in full: nothing waits any more.
	if _, err := app.Deposits.Receive(context.Background(), trading.SystemActor, deposits.SourceWebhook, []deposits.Inflow{{BankTxnID: "PN1",
		VirtualAccount: number, PayerName: "福建接口建设有限公司", PayerAccount: "6222001", Amount: mustDecimal("200000.00"), Currency: "CNY",
		ValueTime: app.Clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	if _, body := b.get("/my/projects"); !strings.Contains(body, `id="nothing-waiting"`) {
		t.Fatal("paid deposit still listed as waiting")
	}

	// After the deadline: no 撤回 button and no upload form.
	app.Clock.(*trading.ManualClock).Advance(21 * 24 * time.Hour)
	_, body = b.get(fmt.Sprintf("/lots/%d", lot))
	if strings.Contains(body, `id="withdraw"`) || strings.Contains(body, `id="material-form"`) {
		t.Fatal("lot page after the deadline still offers 撤回 or the upload")
	}
	_ = bidder
}

// between is the part of s from the first from up to the next to.
func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	out, _, _ := strings.Cut(rest, to)
	return out
}
