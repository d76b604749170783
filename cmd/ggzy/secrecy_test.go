package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/deposits"
	"github.com/ggzy/ggzy/trading"
)

// secrecyView is what two accounts of one bidder group, A and B, can see
// of an engineering lot after a clarification, with n other registrants
// between their registrations.
type secrecyView struct {
	raw      map[string]string        // "A /api/v1/me/notifications" → body
	medians  map[string]time.Duration // median answer time of each
	notes    [2]int64                 // A's and B's notification of the clarification
	regs     [2]int64                 // their registrations
	accounts [2]string                // their virtual sub-accounts
}

func seeAsBidders(t *testing.T, n int) secrecyView {
	t.Helper()
	ctx := context.Background()
	app, srv := newTestServer(t, testConfig(t))
	clock := app.Clock.(*trading.ManualClock)
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	p, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "engineering", Title: "保密测试工程",
		OwnerName: "福州市某局", RegionCode: "350100", Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "12000000.00", Deposit: "200000.00",
			DocIssueStart: testNow.Add(24 * time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 8).Format(time.RFC3339),
			BidDeadline: testNow.AddDate(0, 0, 22).Format(time.RFC3339)}}})
	if err != nil {
		t.Fatal(err)
	}
	lot := p.Lots[0].ID
	pdf := func(n int) []byte {
		b := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		copy(b, "%PDF-1.7\n")
		return b
	}
	v1, err := app.Bidding.Upload(ctx, agent, lot, bidding.UploadInput{Kind: bidding.DocTender, Filename: "招标文件.pdf"}, bytes.NewReader(pdf(4096)), 4096)
	if err != nil {
		t.Fatal(err)
	}
	publishAnnouncement(t, app, agent, sup, p.Code, "tender", "保密测试工程招标公告")
	clock.Advance(48 * time.Hour)

	// Every account exists in both runs: only the registrations differ.
	bidder := func(i int, name string) trading.Actor {
		user := fmt.Sprintf("toubiao%d", i)
		acc, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: name,
			IDNumber: testenv.CreditCode(fmt.Sprintf("91350100MA%06dX", i+1)), LegalRep: "张三", Phone: "13800138000",
			Email: "x@example.com", Username: user, Password: "toubiao2026"})
		if err != nil {
			t.Fatal(err)
		}
		return trading.Actor{AccountID: acc.ID, Username: user, Role: trading.RoleBidder}
	}
	a, b := bidder(0, "福建甲乙建设有限公司"), bidder(1, "福建乙甲建设有限公司")
	var others []trading.Actor
	for i := 0; i < 5; i++ {
		others = append(others, bidder(2+i, fmt.Sprintf("其他投标人%d有限公司", i)))
	}
	register := func(x trading.Actor) {
		if _, err := app.Bidding.Register(ctx, x, lot, bidding.RegisterInput{}); err != nil {
			t.Fatal(err)
		}
	}
	register(a)
	for _, o := range others[:n] {
		register(o)
	}
	register(b)
	// Each pays the deposit, A first, then the others, then B: nothing of
	// the payments in between may show either.
	pay := func(x trading.Actor, name, txn string) {
		var va deposits.VirtualAccount
		if err := app.DB.Where("bidder_id = ? AND lot_id = ?", x.AccountID, lot).First(&va).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := app.Deposits.Receive(ctx, trading.SystemActor, deposits.SourceWebhook, []deposits.Inflow{{BankTxnID: txn,
			VirtualAccount: va.Number, PayerName: name, PayerAccount: "62220" + txn, Amount: mustDecimal("200000.00"), Currency: "CNY",
			ValueTime: clock.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	pay(a, "福建甲乙建设有限公司", "PA")
	for i, o := range others[:n] {
		pay(o, fmt.Sprintf("其他投标人%d有限公司", i), fmt.Sprintf("PO%d", i))
	}
	pay(b, "福建乙甲建设有限公司", "PB")

	// A clarification: every registrant is told, in one transaction.
	if _, err := app.Bidding.Upload(ctx, agent, lot, bidding.UploadInput{Kind: bidding.DocClarification, Filename: "澄清一.pdf", ReplacesID: v1.ID},
		bytes.NewReader(pdf(2048)), 2048); err != nil {
		t.Fatal(err)
	}
	var tender trading.Announcement
	if err := app.DB.Where("project_id = ? AND type = 'tender'", p.ID).First(&tender).Error; err != nil {
		t.Fatal(err)
	}
	amend, err := app.Trading.DraftAnnouncement(ctx, agent, p.Code, trading.AnnouncementInput{Type: trading.AnnouncementAmendment,
		Title: "保密测试工程澄清公告", Body: "正文", AmendsID: tender.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Trading.SubmitAnnouncement(ctx, agent, amend.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Trading.ApproveAnnouncement(ctx, sup, amend.ID, nil); err != nil {
		t.Fatal(err)
	}

	v := secrecyView{raw: map[string]string{}, medians: map[string]time.Duration{}}
	for i, x := range []trading.Actor{a, b} {
		var nt bidding.Notification
		app.DB.Where("account_id = ?", x.AccountID).First(&nt)
		var reg bidding.Registration
		app.DB.Where("bidder_id = ? AND lot_id = ?", x.AccountID, lot).First(&reg)
		var va deposits.VirtualAccount
		app.DB.Where("registration_id = ?", reg.ID).First(&va)
		if nt.ID == 0 || reg.ID == 0 || va.Number == "" {
			t.Fatalf("bidder %d: notification %d, registration %d, account %q", i, nt.ID, reg.ID, va.Number)
		}
		v.notes[i], v.regs[i], v.accounts[i] = nt.ID, reg.ID, va.Number

		var tok trading.TokenResponse
		if code := call(t, "POST", srv.URL+"/api/v1/auth/login", "", map[string]string{"username": x.Username, "password": "toubiao2026"}, &tok); code != 200 {
			t.Fatalf("login %s: %d", x.Username, code)
		}
		br := newBrowser(t, srv.URL)
		if code, _ := br.post("/login", "/login", url.Values{"username": {x.Username}, "password": {"toubiao2026"}}); code >= 400 {
			t.Fatalf("web login %s: %d", x.Username, code)
		}
		fetch := func(path string, api bool) (string, time.Duration) {
			start := time.Now()
			if !api {
				code, body := br.get(path)
				if code != 200 {
					t.Fatalf("%s: %d", path, code)
				}
				return body, time.Since(start)
			}
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
			}
			return string(body), time.Since(start)
		}
		for _, path := range []string{"/api/v1/me/notifications", "/api/v1/me/registrations", "/api/v1/me/deposits",
			"/my/notifications", "/my/projects", "/my/deposits", fmt.Sprintf("/lots/%d", lot)} {
			key := fmt.Sprintf("%c %s", 'A'+i, strings.Replace(path, fmt.Sprintf("/lots/%d", lot), "/lots/{lot}", 1))
			var times []time.Duration
			for k := 0; k < 9; k++ {
				body, d := fetch(path, strings.HasPrefix(path, "/api/"))
				v.raw[key] = body
				times = append(times, d)
			}
			slices.Sort(times)
			v.medians[key] = times[len(times)/2]
		}
	}
	// The books and the audit chain stay whole.
	if rep, err := app.Deposits.Verify(ctx, nil); err != nil || len(rep.Problems) > 0 {
		t.Fatalf("deposits verify: %+v %v", rep, err)
	}
	if _, problem, err := trading.VerifyAudit(ctx, app.DB); err != nil || problem != nil {
		t.Fatalf("audit verify: %v %v", problem, err)
	}
	return v
}

var (
	opaqueIDRe = regexp.MustCompile(`\b\d{16}\b`)
	uuidRe     = regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`) // notifications' public ids
	csrfValRe  = regexp.MustCompile(`(name="_csrf" value=|data-csrf=|"csrf":)"[^"]*"`)
)

// normalise blanks what differs from run to run whatever n is: the
// opaque ids, the virtual sub-accounts, the CSRF tokens.
func (v secrecyView) normalise(body string) string {
	for i, va := range v.accounts {
		body = strings.ReplaceAll(body, va, fmt.Sprintf("<VA%d>", i))
	}
	body = csrfValRe.ReplaceAllString(body, `$1"<CSRF>"`)
	body = uuidRe.ReplaceAllString(body, "<UUID>")
	return opaqueIDRe.ReplaceAllString(body, "<ID>")
}

// Issue 13 item 3 (K4/K5): two accounts of one bidder group, with 0 or 5
// other registrants between their registrations, see exactly the same
// things: the ids they see (notifications, registrations, virtual
// sub-accounts) are opaque, so their difference says nothing; every page
// and JSON answer has the same size and, ids aside, the same text; the
// answer times are the same within noise.
func TestRegistrantCountIsSecret(t *testing.T) {
	t.Parallel()
	views := map[int]secrecyView{0: seeAsBidders(t, 0), 5: seeAsBidders(t, 5)}
	for n, v := range views {
		for what, ids := range map[string][2]int64{"notification": v.notes, "registration": v.regs} {
			for _, id := range ids {
				if id < 1<<52 || id >= 1<<53 {
					t.Errorf("N=%d: %s id %d is not opaque (16 digits between 2^52 and 2^53)", n, what, id)
				}
			}
			if d := ids[1] - ids[0]; d > -1_000_000 && d < 1_000_000 {
				t.Errorf("N=%d: %s ids of A and B differ by %d: a count shows through", n, what, d)
			}
		}
		seqA, _ := strconv.ParseInt(v.accounts[0][len(v.accounts[0])-11:len(v.accounts[0])-1], 10, 64)
		seqB, _ := strconv.ParseInt(v.accounts[1][len(v.accounts[1])-11:len(v.accounts[1])-1], 10, 64)
		if d := seqB - seqA; d > -1000 && d < 1000 || len(v.accounts[0]) != len(v.accounts[1]) {
			t.Errorf("N=%d: virtual accounts %s and %s: a count shows through", n, v.accounts[0], v.accounts[1])
		}
	}
	for n, v := range views {
		if !strings.Contains(v.raw["A /api/v1/me/deposits"], `"bank_txn_id":"PA"`) || !strings.Contains(v.raw["B /api/v1/me/deposits"], `"bank_txn_id":"PB"`) {
			t.Fatalf("N=%d: the payments are not shown: %s", n, v.raw["B /api/v1/me/deposits"])
		}
	}
	v0, v5 := views[0], views[5]
	keys := make([]string, 0, len(v0.raw))
	for k := range v0.raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(v0.raw[k]) != len(v5.raw[k]) {
			t.Errorf("%s: %d bytes with no other registrant, %d with 5", k, len(v0.raw[k]), len(v5.raw[k]))
		}
		if a, b := v0.normalise(v0.raw[k]), v5.normalise(v5.raw[k]); a != b {
			t.Errorf("%s differs with the number of registrants:\nN=0: %s\nN=5: %s", k, a, b)
		}
		// Timing: medians of 9 answers, compared loosely (a noisy shared
		// machine); only a difference far beyond noise fails.
		m0, m5 := v0.medians[k], v5.medians[k]
		t.Logf("%s: median %v with no other registrant, %v with 5", k, m0, m5)
		if ratio := float64(m5) / float64(max(m0, time.Millisecond)); ratio > 20 || math.IsNaN(ratio) {
			t.Errorf("%s: median answer %v with 5 other registrants against %v with none", k, m5, m0)
		}
	}
}
