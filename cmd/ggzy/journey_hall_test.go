package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// The online opening in Chromium. Bidder 3 makes its key and submits in the
// browser (a bid file of two pieces) and keeps the backup information;
// bidders 1 and 2 submit with key files of their own (bidder 1 replaces
// its bid). At the deadline the agent opens the hall, a supervisor
// watches; bidders 1 and 2 sign in and decrypt in the browser with their
// key files; bidder 3 has lost its key and hands in the backup copy. The
// supervisor's page, never reloaded, shows every price when they are read
// out. Bidder 3 objects, the host answers and concludes; the record is
// stored and its SHA-256 shown, and candidates can be ranked from it.
func TestBrowserJourneyOpeningHall(t *testing.T) {
	app, srv := newTestServer(t, testConfig(t))
	lot, agent, _ := sealedLot(t, app)
	ctx := context.Background()
	dir := t.TempDir()
	const pass = "correct horse battery"
	keyFiles := map[int]string{}
	for _, n := range []int{1, 2} {
		b := sealedBidder(t, app, lot.ID, n, fmt.Sprintf("toubiao%d", n))
		bk, data, err := sealed.NewKeyFile(pass, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		keyFiles[n] = filepath.Join(dir, fmt.Sprintf("key%d.json", n))
		os.WriteFile(keyFiles[n], data, 0o600)
		if _, err := app.Bidding.RegisterBidKey(ctx, b, bidding.BidKeyInput{PublicKey: base64.StdEncoding.EncodeToString(sealed.MarshalPublicKey(bk.Public))}); err != nil {
			t.Fatal(err)
		}
		submitSealed(t, app, b, bk.Private, lot.ID, fmt.Sprintf("1180000%d.00", n))
		if n == 1 { // bidder 1 replaces its bid
			submitSealed(t, app, b, bk.Private, lot.ID, "11750000.00")
		}
	}
	sealedBidder(t, app, lot.ID, 3, "toubiao3")

	chrome := newChrome(t)
	downloads := allowDownloads(t, chrome)
	login(t, chrome, srv.URL, "toubiao3", "toubiao32026")
	steps := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(srv.URL + "/my/bid-key"), chromedp.WaitVisible(chromedp.CSS("#key-generate"))},
		fill(map[string]string{"key-passphrase": pass, "key-passphrase2": pass})...)
	steps = append(steps, chromedp.Click(chromedp.CSS("#key-generate")))
	if err := chromedp.Do(chrome, steps...); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#key-status", "平台已登记公钥")
	file := make([]byte, bidding.PieceSize+200_000)
	rand.Read(file)
	copy(file, "%PDF-1.7\n")
	bidFile := filepath.Join(dir, "丙公司投标文件.pdf")
	os.WriteFile(bidFile, file, 0o644)
	steps = append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(fmt.Sprintf("%s/lots/%d", srv.URL, lot.ID)), chromedp.WaitVisible(chromedp.CSS("#bid-submit"))},
		fill(map[string]string{"bid-price": "11600000.00", "bid-period": "360", "bid-quality": "合格", "bid-manager": "王五"})...)
	steps = append(steps, chromedp.SetUploadFiles(chromedp.CSS("#bid-files"), []string{bidFile}), chromedp.Click(chromedp.CSS("#bid-submit")))
	if err := chromedp.Do(chrome, steps...); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#bid-status", "递交成功")
	if err := chromedp.Do(chrome, chromedp.Click(chromedp.CSS("#backup-link"))); err != nil {
		t.Fatal(err)
	}
	backupInfo := filepath.Join(dir, "backup.json")
	os.WriteFile(backupInfo, []byte(downloaded(t, downloads, "备用副本信息-")), 0o644)
	logout(t, chrome)

	// The deadline passes (both clocks).
	clock := app.Clock.(*trading.ManualClock)
	clock.Set(lot.BidDeadline.Add(time.Minute))
	if err := trading.FreezeDBClock(ctx, app.DB, clock.Now()); err != nil {
		t.Fatal(err)
	}
	hallURL := fmt.Sprintf("%s/lots/%d/hall", srv.URL, lot.ID)

	// The agent hosts, in a browser context of its own.
	host, cancelHost := chromedp.NewContext(chrome, chromedp.WithNewBrowserContext())
	defer cancelHost()
	login(t, host, srv.URL, "daili", "daili2026")
	if err := chromedp.Do(host, chromedp.Navigate(hallURL), chromedp.Click(chromedp.CSS("#hall-open"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, host, "#hall-status", "解密中")
	// A supervisor watches, never reloading.
	watch, cancelWatch := chromedp.NewContext(chrome, chromedp.WithNewBrowserContext())
	defer cancelWatch()
	login(t, watch, srv.URL, "jiandu", "jiandu2026")
	if err := chromedp.Do(watch, chromedp.Navigate(hallURL), chromedp.WaitVisible(chromedp.CSS(`#hall[data-live-state="open"]`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(watch, chromedp.Evaluate[bool](`window.hallMark = true`)); err != nil {
		t.Fatal(err)
	}

	// Bidders 1 and 2 sign in and decrypt in the browser.
	for _, n := range []int{1, 2} {
		user := fmt.Sprintf("toubiao%d", n)
		login(t, chrome, srv.URL, user, user+"2026")
		if err := chromedp.Do(chrome, chromedp.Navigate(hallURL), chromedp.Click(chromedp.CSS("#hall-signin"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, chrome, "#my-signin", "已签到")
		if err := chromedp.Do(chrome, chromedp.SetUploadFiles(chromedp.CSS("#key-file"), []string{keyFiles[n]}),
			chromedp.SetValue(chromedp.CSS("#key-pass"), pass), chromedp.Click(chromedp.CSS("#decrypt"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, chrome, "#decrypt-status", "解密成功")
		logout(t, chrome)
	}
	waitText(t, watch, "#hall-feed", "解密成功")
	// Bidder 3 lost its key: the backup copy.
	login(t, chrome, srv.URL, "toubiao3", "toubiao32026")
	if err := chromedp.Do(chrome, chromedp.Navigate(hallURL), chromedp.WaitVisible(chromedp.CSS("#backup-submit")),
		chromedp.SetUploadFiles(chromedp.CSS("#backup-info"), []string{backupInfo}),
		chromedp.SetUploadFiles(chromedp.CSS("#backup-files"), []string{bidFile}), chromedp.Click(chromedp.CSS("#backup-submit"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#backup-status", "备用副本已接受")

	// Every price at once, live, on the page that was never reloaded.
	table := waitText(t, watch, "#reveal", "11600000.00")
	for _, want := range []string{"11750000.00", "11800002.00", "福建电子投标1有限公司"} {
		if !strings.Contains(table, want) {
			t.Fatalf("revealed table %q lacks %s", table, want)
		}
	}
	if mark, err := chromedp.Run(watch, chromedp.Evaluate[bool](`window.hallMark === true`)); err != nil || !mark {
		t.Fatal("the supervisor's page was reloaded")
	}

	// EB9: bidder 3 objects; the host answers on the spot and concludes.
	if err := chromedp.Do(chrome, chromedp.Navigate(hallURL), chromedp.WaitVisible(chromedp.CSS("#objection-text")),
		chromedp.SetValue(chromedp.CSS("#objection-text"), "乙公司工期不满足要求"), chromedp.Click(chromedp.CSS("#objection-submit"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, chrome, "#objection-list", "乙公司工期不满足要求")
	if err := chromedp.Do(host, chromedp.Navigate(hallURL), chromedp.WaitVisible(chromedp.CSS(".answer-text")),
		chromedp.SetValue(chromedp.CSS(".answer-text"), "工期由评标委员会审查，记录在案"), chromedp.Click(chromedp.CSS(".answer-submit"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, host, "#objection-list", "记录在案")
	if err := chromedp.Do(host, chromedp.Click(chromedp.CSS("#hall-conclude"))); err != nil {
		t.Fatal(err)
	}
	digest := waitText(t, host, "#record-sha", "")
	rc, sum, err := app.Bidding.OpeningRecord(ctx, lot.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := io.ReadAll(rc)
	rc.Close()
	if sum != strings.TrimSpace(digest) || !strings.Contains(string(rec), "备用副本解密") || !strings.Contains(string(rec), "记录在案") {
		t.Fatalf("record %s (page %s):\n%s", sum, digest, rec)
	}
	// Candidates follow from the generated record.
	var ids []string
	app.DB.Raw(`SELECT b.id_number FROM lot_bids lb JOIN bidders b ON b.account_id = lb.bidder_id WHERE lb.lot_id = ? ORDER BY lb.price`, lot.ID).Scan(&ids)
	if len(ids) != 3 {
		t.Fatalf("lot bids %v", ids)
	}
	if _, err := app.Bidding.SetCandidates(ctx, agent, lot.ID, bidding.CandidatesInput{IDNumbers: ids[:1],
		PublicityEnd: clock.Now().AddDate(0, 0, 5)}); err != nil {
		t.Fatalf("candidates from the generated record: %v", err)
	}
	for _, c := range []context.Context{watch, host, chrome} {
		chromedp.Do(c, chromedp.Navigate("about:blank"))
	}
}
