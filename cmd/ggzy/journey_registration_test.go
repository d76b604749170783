package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// login signs in through the login page.
func login(t *testing.T, ctx context.Context, base, username, password string) {
	t.Helper()
	steps := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/login"), chromedp.WaitVisible(chromedp.CSS("#login-submit"))},
		fill(map[string]string{"username": username, "password": password})...)
	steps = append(steps, chromedp.Click(chromedp.CSS("#login-submit")))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#who", "")
}

func logout(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#logout"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, ".flash", "已退出登录")
}

// A bidder finds a published engineering tender on the portal, downloads
// its document (the bytes' SHA-256 equal the uploaded file's) and sees it
// in "my projects"; a land bidder applies and the agent approves.
func TestBrowserJourneyRegistrationAndDocuments(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	ctx := context.Background()
	clock := app.Clock.(*trading.ManualClock)
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent := actorOf(t, app, "daili")
	sup := actorOf(t, app, "jiandu")
	bid := app.Bidding

	// The agent's engineering tender with its document, and a land listing.
	eng, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "engineering", Title: "闽江北岸防洪堤加固工程",
		OwnerName: "福州市水利局", RegionCode: "350100", Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "12000000.00",
			DocIssueStart: testNow.Add(24 * time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 8).Format(time.RFC3339),
			BidDeadline: testNow.AddDate(0, 0, 22).Format(time.RFC3339)}}})
	if err != nil {
		t.Fatal(err)
	}
	content := make([]byte, 300<<10)
	rand.Read(content)
	copy(content, "%PDF-1.7\n")
	doc, err := bid.Upload(ctx, agent, eng.Lots[0].ID, bidding.UploadInput{Kind: bidding.DocTender, Filename: "防洪堤招标文件.pdf"},
		bytes.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)
	if doc.SHA256 != hex.EncodeToString(want[:]) {
		t.Fatalf("stored SHA-256 %s", doc.SHA256)
	}
	publishAnnouncement(t, app, agent, sup, eng.Code, "tender", "闽江北岸防洪堤加固工程招标公告")
	land, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "land", Title: "榕土2026-01号地块挂牌出让",
		OwnerName: "福州市自然资源和规划局", RegionCode: "350121", Lots: []trading.LotInput{{Name: "榕土2026-01号地块",
			StartingPrice: "5000000.00", ReservePrice: "5600000.00", Increment: "100000.00", Deposit: "1000000.00",
			ListingStart: testNow.AddDate(0, 0, 21).Format(time.RFC3339), ListingEnd: testNow.AddDate(0, 0, 37).Format(time.RFC3339)}}})
	if err != nil {
		t.Fatal(err)
	}
	publishAnnouncement(t, app, agent, sup, land.Code, "listing", "榕土2026-01号地块挂牌出让公告")
	clock.Advance(48 * time.Hour) // the documents are being issued

	for _, u := range []struct{ user, name, code string }{{"fjjs", "福建旅程建设有限公司", "91350100M000100Y43"}, {"lisi", "李四", "11010519491231002X"}} {
		kind := trading.BidderEnterprise
		if len(u.code) == 18 && u.code[17] == 'X' {
			kind = trading.BidderPerson
		}
		if _, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: kind, Name: u.name, IDNumber: u.code,
			LegalRep: "张三", Phone: "13800138000", Email: "j@example.com", Username: u.user, Password: "journey2026"}); err != nil {
			t.Fatal(err)
		}
	}

	chrome := newChrome(t)
	login(t, chrome, srv.URL, "fjjs", "journey2026")
	if err := chromedp.Do(chrome, chromedp.Navigate(srv.URL+"/"), chromedp.Click(chromedp.CSS("#latest-engineering a[href^='/notices/']"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#notice-title", "闽江北岸防洪堤加固工程招标公告")
	checkPage(t, chrome, "announcement")
	if err := chromedp.Do(chrome, chromedp.Click(chromedp.CSS("a.lot-link"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#registration", "获取招标文件即完成登记")
	checkPage(t, chrome, "lot")
	link := waitAttr(t, chrome, "a[href^='/documents/']", "href")
	// The browser fetches the document with its session and hashes the bytes.
	got, err := chromedp.Run(chrome, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q, {credentials: "same-origin"})
		.then(r => { if (!r.ok) throw new Error("HTTP " + r.status); return r.arrayBuffer(); })
		.then(b => crypto.subtle.digest("SHA-256", b))
		.then(h => Array.from(new Uint8Array(h)).map(x => x.toString(16).padStart(2, "0")).join(""))`, link), chromedp.EvalAwaitPromise))
	if err != nil || got != doc.SHA256 {
		t.Fatalf("downloaded SHA-256 %q, uploaded %s (%v)", got, doc.SHA256, err)
	}
	if err := chromedp.Do(chrome, chromedp.Navigate(srv.URL+"/my/projects")); err != nil {
		t.Fatal(err)
	}
	row := waitText(t, chrome, "#my-projects", "闽江北岸防洪堤加固工程")
	if !strings.Contains(row, "防洪堤招标文件.pdf") || !strings.Contains(row, "获取招标文件登记") {
		t.Fatalf("my projects: %q", row)
	}
	checkPage(t, chrome, "my-projects")
	logout(t, chrome)

	// A land bidder applies; the agent approves.
	login(t, chrome, srv.URL, "lisi", "journey2026")
	if err := chromedp.Do(chrome, chromedp.Navigate(fmt.Sprintf("%s/lots/%d", srv.URL, land.Lots[0].ID))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#register-submit", "竞买申请")
	steps := append(fill(map[string]string{"contact_name": "李四", "contact_phone": "13900139000"}), chromedp.Click(chromedp.CSS("#register-submit")))
	if err := chromedp.Do(chrome, steps...); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#my-status", "待审核")
	checkPage(t, chrome, "land-lot-applied")
	hasNote(t, app, agent.AccountID, "竞买申请待审核", land.Code, "榕土2026-01号地块")
	logout(t, chrome)
	login(t, chrome, srv.URL, "daili", "daili2026")
	if err := chromedp.Do(chrome, chromedp.Navigate(fmt.Sprintf("%s/agent/lots/%d/registrations", srv.URL, land.Lots[0].ID))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#registrants", "李四")
	if err := chromedp.Do(chrome, chromedp.Click(chromedp.CSS("#registrants button.approve"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#registrants", "审核通过")
	checkPage(t, chrome, "registrants")
	logout(t, chrome)

	// The approved bidder: the deposit waits on "my projects" with its
	// countdown and leads to the printable payment notice; the guarantee's
	// scan is uploaded from the lot page and offered on "my guarantees".
	login(t, chrome, srv.URL, "lisi", "journey2026")
	// The approval waits in the header's unread count and on 消息通知.
	if err := chromedp.Do(chrome, chromedp.Navigate(srv.URL+"/my/projects")); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#unread-count", "1")
	if err := chromedp.Do(chrome, chromedp.Click(chromedp.CSS("#nav-notifications"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#notifications", "竞买申请审核通过")
	if err := chromedp.Do(chrome, chromedp.Navigate(srv.URL+"/my/projects")); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#waiting-list", "缴纳保证金 1,000,000.00 元")
	if err := chromedp.Do(chrome, chromedp.Click(chromedp.CSS("#waiting-list a[href$='/notice']"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#payment-details", "1,000,000.00 元")
	if err := chromedp.Do(chrome, chromedp.Navigate(fmt.Sprintf("%s/lots/%d", srv.URL, land.Lots[0].ID))); err != nil {
		t.Fatal(err)
	}
	scan := filepath.Join(t.TempDir(), "保函扫描件.pdf")
	if err := os.WriteFile(scan, []byte("%PDF-1.4\n% guarantee scan\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(chrome, chromedp.SetUploadFiles(chromedp.CSS("#material-file"), []string{scan}), chromedp.Click(chromedp.CSS("#material-submit"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, ".flash", "已上传《保函扫描件.pdf》")
	if err := chromedp.Do(chrome, chromedp.Navigate(srv.URL+"/my/guarantees")); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#guarantee-form", "提交保函")
	opts, err := chromedp.Run(chrome, chromedp.Evaluate[string](`document.querySelector("#guarantee-form select[name=document_id]").textContent`))
	if err != nil || !strings.Contains(opts, "保函扫描件.pdf") {
		t.Fatalf("my guarantees does not offer the uploaded scan: %q (%v)", opts, err)
	}
}

func actorOf(t *testing.T, app *App, username string) trading.Actor {
	t.Helper()
	var acc trading.Account
	if err := app.DB.Where("username = ?", username).First(&acc).Error; err != nil {
		t.Fatal(err)
	}
	return trading.Actor{AccountID: acc.ID, Username: acc.Username, Role: acc.Role}
}

func publishAnnouncement(t *testing.T, app *App, agent, sup trading.Actor, code string, typ trading.AnnouncementType, title string) {
	t.Helper()
	ctx := context.Background()
	n, err := app.Trading.DraftAnnouncement(ctx, agent, code, trading.AnnouncementInput{Type: typ, Title: title, Body: "正文"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Trading.SubmitAnnouncement(ctx, agent, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Trading.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
}

// waitAttr waits for sel and returns an attribute.
func waitAttr(t *testing.T, ctx context.Context, sel, attr string) string {
	t.Helper()
	waitText(t, ctx, sel, "")
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute(%q)`, sel, attr)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
