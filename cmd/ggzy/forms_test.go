package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// The paper opening-record form (issue 14 §3): one wrong row keeps every
// row typed and names the form's row, linked to its input; each bidder's
// deposit and a K1 alert (two bidders' deposits from one account) show
// beside its name.
func TestOpeningFormKeepsRowsAndShowsDeposits(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()
	number0, _ := depositLot(t, app)
	var p trading.Project
	if err := app.DB.Preload("Lots").First(&p).Error; err != nil {
		t.Fatal(err)
	}
	lot := p.Lots[0].ID
	numbers := []string{number0}
	for i, code := range []string{"91350100MA0000001X", "91350100MA0000002X"} {
		acc, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: fmt.Sprintf("福建开标%d建设有限公司", i),
			IDNumber: testenv.CreditCode(code[:17]), LegalRep: "李四", Phone: "13800138000", Email: "r@example.com", Username: fmt.Sprintf("kaibiao%d", i), Password: "kaibiao2026"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Bidding.Register(ctx, trading.Actor{AccountID: acc.ID, Role: trading.RoleBidder}, lot, bidding.RegisterInput{}); err != nil {
			t.Fatal(err)
		}
		var va deposits.VirtualAccount
		if err := app.DB.Where("bidder_id = ?", acc.ID).First(&va).Error; err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, va.Number)
	}
	// 福建接口 pays its deposit from its account; the same account also pays
	// 福建开标0's (K1); 福建开标1 pays nothing.
	var inflows []deposits.Inflow
	for i, n := range numbers[:2] {
		inflows = append(inflows, deposits.Inflow{BankTxnID: fmt.Sprintf("OPEN-%d", i), ValueTime: app.Clock.Now(), VirtualAccount: n,
			PayerName: "福建接口建设有限公司", PayerAccount: "6222000011113333", PayerBank: "某银行", Amount: decimal.RequireFromString("200000.00"), Currency: "CNY"})
	}
	if _, err := app.Deposits.Receive(ctx, trading.Actor{Username: "bank", Role: "system"}, deposits.SourceStatement, inflows); err != nil {
		t.Fatal(err)
	}
	declarePaper(t, app, lot)
	app.Clock.(*trading.ManualClock).Set(testNow.AddDate(0, 0, 22).Add(time.Hour))
	agent := newBrowser(t, srv.URL)
	agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	page := fmt.Sprintf("/agent/lots/%d/result", lot)
	code, body := agent.get(page)
	if code != 200 || !strings.Contains(body, `id="opening-form"`) {
		t.Fatalf("opening form: %d", code)
	}
	row := func(body, name string) string { // the row of the bidder named
		for _, r := range strings.Split(body, `<tr id="opening-row-`)[1:] {
			if strings.Contains(r, `">`+name+`</label>`) {
				return strings.Split(r, "</tr>")[0]
			}
		}
		t.Fatalf("no row for %s", name)
		return ""
	}
	if r := row(body, "福建接口建设有限公司"); !strings.Contains(r, "已足额缴纳") || !strings.Contains(r, "K1 预警：与福建开标0建设有限公司由同一账户缴纳保证金") {
		t.Errorf("paying bidder's row: %s", r)
	}
	if r := row(body, "福建开标0建设有限公司"); !strings.Contains(r, "截止时未足额缴纳") || !strings.Contains(r, "K1 预警：与福建接口建设有限公司由同一账户缴纳保证金") {
		t.Errorf("third-party-paid bidder's row (D2, K1): %s", r)
	}
	if r := row(body, "福建开标1建设有限公司"); !strings.Contains(r, "截止时未足额缴纳") || strings.Contains(r, "K1") {
		t.Errorf("unpaid bidder's row: %s", r)
	}

	idOf := regexp.MustCompile(`name="id_number_(\d)" value="([^"]+)"`)
	form := url.Values{"rows": {"3"}}
	for _, m := range idOf.FindAllStringSubmatch(body, -1) {
		form.Set("id_number_"+m[1], m[2])
	}
	// Rows 1 and 3 ticked, row 3's price wrong: the error names row 3 (not
	// the second ticked row) and every typed value stays.
	form.Set("submitted_0", "1")
	form.Set("price_0", "11000000.00")
	form.Set("rejected_1", "未递交")
	form.Set("submitted_2", "1")
	form.Set("price_2", "11,900,000")
	code, body = agent.post(page, page+"/opening", form)
	if code != 400 || !strings.Contains(body, "第3行：投标报价应为") || !strings.Contains(body, `href="#price-2"`) {
		t.Fatalf("bad row 3: %d\n%s", code, body)
	}
	for _, want := range []string{`id="submitted-0" aria-label="福建`, `value="11000000.00"`, `value="未递交"`, `value="11,900,000"`} {
		if !strings.Contains(body, want) {
			t.Errorf("refused form lost %q", want)
		}
	}
	checked := regexp.MustCompile(`id="submitted-(\d)"[^>]*checked`).FindAllStringSubmatch(body, -1)
	if len(checked) != 2 || checked[0][1] != "0" || checked[1][1] != "2" {
		t.Errorf("ticks kept: %v", checked)
	}
	if !strings.Contains(body, "K1 预警") {
		t.Error("the refused form lost the K1 alert")
	}
}
