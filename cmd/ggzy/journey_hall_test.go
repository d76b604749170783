package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// The online opening in Chromium. Three bidders make their keys and submit
// in the browser (bidder 1 replaces its bid; bidder 3's file takes two
// pieces, and bidder 3 keeps the backup information). At the deadline the agent opens the hall, a supervisor
// watches; bidders 1 and 2 sign in and decrypt in the browser with their
// key files; bidder 3 has lost its key and hands in the backup copy. The
// supervisor's page, never reloaded, shows every price when they are read
// out. Bidder 3 objects, the host answers and concludes; the record is
// stored and its SHA-256 shown, and candidates can be ranked from it.
func TestBrowserJourneyOpeningHall(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	lot, agent, _ := sealedLot(t, app)
	ctx := context.Background()
	dir := t.TempDir()
	const pass = "correct horse battery"
	chrome := newChrome(t)
	downloads := allowDownloads(t, chrome)
	seen := map[string]bool{}
	// Each bidder makes its key in the browser and submits there; bidder 1
	// replaces its bid; bidder 3's file takes two pieces.
	keyFiles := map[int]string{}
	var bidFile, backupInfo string
	for _, n := range []int{1, 2, 3} {
		user := fmt.Sprintf("toubiao%d", n)
		sealedBidder(t, app, lot.ID, n, user)
		login(t, chrome, srv.URL, user, user+"2026")
		steps := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(srv.URL + "/my/bid-key"), chromedp.WaitVisible(chromedp.CSS("#key-generate"))},
			fill(map[string]string{"key-passphrase": pass, "key-passphrase2": pass})...)
		steps = append(steps, chromedp.Click(chromedp.CSS("#key-generate")))
		if err := chromedp.Do(chrome, steps...); err != nil {
			t.Fatal(err)
		}
		waitText(t, chrome, "#key-status", "平台已登记公钥")
		keyFiles[n] = filepath.Join(dir, fmt.Sprintf("key%d.json", n))
		os.WriteFile(keyFiles[n], []byte(downloadedNew(t, downloads, "投标密钥-", seen)), 0o600)
		size := 100_000
		if n == 3 {
			size = bidding.PieceSize + 200_000
		}
		file := make([]byte, size)
		rand.Read(file)
		copy(file, "%PDF-1.7\n")
		path := filepath.Join(dir, fmt.Sprintf("投标文件%d.pdf", n))
		os.WriteFile(path, file, 0o644)
		prices := map[int][]string{1: {"11800001.00", "11750000.00"}, 2: {"11800002.00"}, 3: {"11600000.00"}}[n]
		for _, price := range prices {
			steps = append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(fmt.Sprintf("%s/lots/%d", srv.URL, lot.ID)), chromedp.WaitVisible(chromedp.CSS("#bid-submit"))},
				fill(map[string]string{"bid-price": price, "bid-period": "360", "bid-quality": "合格", "bid-manager": "王五"})...)
			steps = append(steps, chromedp.SetUploadFiles(chromedp.CSS("#bid-files"), []string{path}), chromedp.Click(chromedp.CSS("#bid-submit")))
			if err := chromedp.Do(chrome, steps...); err != nil {
				t.Fatal(err)
			}
			waitText(t, chrome, "#bid-status", "递交成功")
		}
		if n == 3 {
			if err := chromedp.Do(chrome, chromedp.Click(chromedp.CSS("#backup-link"))); err != nil {
				t.Fatal(err)
			}
			bidFile, backupInfo = path, filepath.Join(dir, "backup.json")
			os.WriteFile(backupInfo, []byte(downloadedNew(t, downloads, "备用副本信息-", seen)), 0o644)
		}
		logout(t, chrome)
	}
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

// downloadedNew waits for a download with the prefix not seen before.
func downloadedNew(t *testing.T, dir, prefix string, seen map[string]bool) string {
	t.Helper()
	for i := 0; i < 200; i++ {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if seen[e.Name()] || !strings.HasPrefix(e.Name(), prefix) || strings.HasSuffix(e.Name(), ".crdownload") {
				continue
			}
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && len(b) > 0 {
				seen[e.Name()] = true
				return string(b)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no new download %s* in %s", prefix, dir)
	return ""
}
