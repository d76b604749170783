package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/trading"
)

// awardedLot takes depositLot's engineering lot through opening (three
// bids, 福建接口建设有限公司 lowest), candidate publicity and the result
// announcement, as the agent does on the result page. It returns the lot and
// the other bidders' usernames.
func awardedLot(t *testing.T, app *App, srvURL string) (int64, []string) {
	t.Helper()
	ctx := context.Background()
	depositLot(t, app)
	var p trading.Project
	if err := app.DB.Preload("Lots").First(&p).Error; err != nil {
		t.Fatal(err)
	}
	lot := p.Lots[0].ID
	var others []string
	for i, code := range []string{"91350100MA0000001", "91350100MA0000002"} {
		user := fmt.Sprintf("jieguo%d", i)
		acc, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise, Name: fmt.Sprintf("福建结果%d建设有限公司", i),
			IDNumber: testenv.CreditCode(code), LegalRep: "李四", Phone: "13800138000", Email: "r@example.com", Username: user, Password: "jieguo2026"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Bidding.Register(ctx, trading.Actor{AccountID: acc.ID, Role: trading.RoleBidder}, lot, bidding.RegisterInput{}); err != nil {
			t.Fatal(err)
		}
		others = append(others, user)
	}
	// Bids on this lot are handed in on paper: the agent types the record.
	declarePaper(t, app, lot)
	clock := app.Clock.(*trading.ManualClock)
	clock.Set(testNow.AddDate(0, 0, 22).Add(time.Hour))
	agent := newBrowser(t, srvURL)
	agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	page := fmt.Sprintf("/agent/lots/%d/result", lot)
	_, body := agent.get(page)
	form := url.Values{"rows": {"3"}}
	for i, price := range []string{"11000000.00", "11200000.5", "11900000"} {
		k := fmt.Sprint(i)
		m := strings.Split(strings.Split(body, `name="id_number_`+k+`" value="`)[1], `"`)[0]
		form.Set("submitted_"+k, "1")
		form.Set("id_number_"+k, m)
		form.Set("price_"+k, price)
	}
	if code, _ := agent.post(page, page+"/opening", form); code != 200 {
		t.Fatalf("opening: %d", code)
	}
	end := clock.Now().AddDate(0, 0, 4).In(trading.Shanghai).Format("2006-01-02T15:04")
	if code, _ := agent.post(page, page+"/candidates", url.Values{"rank1": {form.Get("id_number_0")}, "rank2": {form.Get("id_number_1")}, "publicity_end": {end}}); code != 200 {
		t.Fatalf("candidates: %d", code)
	}
	sup := actorOf(t, app, "jiandu")
	var n trading.Announcement
	app.DB.Where("type = 'candidates'").First(&n)
	if _, err := app.Trading.ApproveAnnouncement(ctx, sup, n.ID, nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * 24 * time.Hour)
	agent = newBrowser(t, srvURL)
	agent.post("/login", "/login", url.Values{"username": {"daili"}, "password": {"daili2026"}})
	if code, _ := agent.post(page, page+"/award", url.Values{"winner": {form.Get("id_number_0")}}); code != 200 {
		t.Fatalf("award: %d", code)
	}
	var rn trading.Announcement
	app.DB.Where("type = 'result'").First(&rn)
	if _, err := app.Trading.ApproveAnnouncement(ctx, sup, rn.ID, nil); err != nil {
		t.Fatal(err)
	}
	return lot, others
}

// pdfText is the text of a PDF, by poppler's pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext not found: `make test` installs Debian's poppler-utils")
	}
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// getPDF fetches a letter as b, with its status and SHA-256 header.
func getPDF(t *testing.T, b *browser, path string) (int, []byte, string) {
	t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header.Get("X-Content-SHA256")
}

// Issue 14 items 6 and 7: the result's letters. Candidates are told of
// their candidacy and every bidder of the result; the winner downloads a
// 中标通知书 and the others a 中标结果通知书 (EB12), each a PDF set in CJK
// fonts naming the winner and the amount, stored once with its SHA-256 in
// the audit chain; supervisors download anyone's; nobody else any.
func TestLettersPDFAndResultNotifications(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	lot, others := awardedLot(t, app, srv.URL)
	winner := actorOf(t, app, "jiekou")
	loser := actorOf(t, app, others[0])
	third := actorOf(t, app, others[1])
	hasNote(t, app, winner.AccountID, "中标候选人公示", "第1中标候选人")
	hasNote(t, app, loser.AccountID, "中标候选人公示", "第2中标候选人")
	for _, n := range notes(t, app, third.AccountID) {
		if strings.HasPrefix(n, "中标候选人公示") {
			t.Fatalf("a bidder who is no candidate told of candidacy: %q", n)
		}
	}
	hasNote(t, app, winner.AccountID, "中标通知书", "11,000,000.00 元")
	hasNote(t, app, loser.AccountID, "中标结果通知书", "EB12")
	hasNote(t, app, third.AccountID, "中标结果通知书", "EB12")

	signIn := func(user, pass string) *browser {
		b := newBrowser(t, srv.URL)
		b.post("/login", "/login", url.Values{"username": {user}, "password": {pass}})
		return b
	}
	wb := signIn("jiekou", "jiekou2026")
	award := fmt.Sprintf("/lots/%d/letters/award_notice", lot)
	code, pdf, sum := getPDF(t, wb, award)
	if code != 200 || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("winner's 中标通知书: %d %q", code, pdf[:min(len(pdf), 40)])
	}
	got := sha256.Sum256(pdf)
	if sum != hex.EncodeToString(got[:]) {
		t.Fatalf("SHA-256 header %s, body %x", sum, got)
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"中标通知书", "福建接口建设有限公司", "11,000,000.00", "保证金接口测试工程"} {
		if !strings.Contains(strings.ReplaceAll(text, " ", ""), strings.ReplaceAll(want, " ", "")) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
	var audited int64
	app.DB.Raw("SELECT count(*) FROM audit_events WHERE action = 'letter.issue' AND summary LIKE ?", "%"+sum+"%").Scan(&audited)
	if audited != 1 {
		t.Fatalf("audit records with the PDF's SHA-256: %d", audited)
	}
	// Issued once: the same bytes again, for the supervisor too.
	if _, again, _ := getPDF(t, wb, award); !bytes.Equal(again, pdf) {
		t.Fatal("second download differs from the issued letter")
	}
	sb := signIn("jiandu", "jiandu2026")
	if _, body := sb.get(fmt.Sprintf("/supervisor/lots/%d/result", lot)); !strings.Contains(body, fmt.Sprintf("%s?bidder=%d", award, winner.AccountID)) {
		t.Fatal("the supervisors' result page does not link the 中标通知书")
	}
	if code, again, _ := getPDF(t, sb, fmt.Sprintf("%s?bidder=%d", award, winner.AccountID)); code != 200 || !bytes.Equal(again, pdf) {
		t.Fatalf("supervisor's copy: %d", code)
	}

	// The others: a 中标结果通知书 naming the winner and the amount; no
	// 中标通知书 for them, and the winner has no 中标结果通知书.
	lb := signIn(others[0], "jieguo2026")
	if code, _, _ := getPDF(t, lb, award); code != 404 {
		t.Fatalf("loser's 中标通知书: %d", code)
	}
	code, rpdf, _ := getPDF(t, lb, fmt.Sprintf("/lots/%d/letters/result_notice", lot))
	if code != 200 || !bytes.HasPrefix(rpdf, []byte("%PDF-")) {
		t.Fatalf("loser's 中标结果通知书: %d", code)
	}
	rtext := strings.ReplaceAll(pdfText(t, rpdf), " ", "")
	for _, want := range []string{"中标结果通知书", "福建结果0建设有限公司", "福建接口建设有限公司", "11,000,000.00", "EB12"} {
		if !strings.Contains(rtext, want) {
			t.Errorf("result letter lacks %q:\n%s", want, rtext)
		}
	}
	if code, _, _ := getPDF(t, wb, fmt.Sprintf("/lots/%d/letters/result_notice", lot)); code != 404 {
		t.Fatalf("winner's 中标结果通知书: %d", code)
	}
	// The letter's page (screen and print) and the link on 我的项目.
	if code, body := wb.get(award + "/view"); code != 200 || !strings.Contains(body, `id="letter-title">中标通知书`) || !strings.Contains(body, "11,000,000.00 元") {
		t.Fatalf("letter page: %d", code)
	}
	if _, body := wb.get("/my/projects"); !strings.Contains(body, award) {
		t.Fatal("my projects does not link the 中标通知书")
	}
	// In the browser: 我的项目 leads to the letter's page.
	chrome := newChrome(t)
	login(t, chrome, srv.URL, "jiekou", "jiekou2026")
	if err := chromedp.Do(chrome, chromedp.Navigate(srv.URL+"/my/projects"), chromedp.Click(chromedp.CSS("a.letter-link + a"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#letter-title", "中标通知书")
	waitText(t, chrome, "#letter-amount", "11,000,000.00 元")
	// A bidder who did not bid, and the public, get nothing.
	if _, body, _ := getPDF(t, newBrowser(t, srv.URL), award); bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Fatal("anonymous download of a letter")
	}
	var rows int64
	app.DB.Raw("SELECT count(*) FROM result_documents WHERE lot_id = ?", lot).Scan(&rows)
	if rows != 2 {
		t.Fatalf("%d issued letters, want 2", rows)
	}
}
