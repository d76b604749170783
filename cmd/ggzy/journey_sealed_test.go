package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/minio/minio-go/v7"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// sealedLot publishes an engineering lot, moves the service clock into its
// document issue period and freezes the database clock (which decides the
// bid deadline, EB2) at the same instant. It returns the lot and the
// agent and supervisor.
func sealedLot(t *testing.T, app *App) (*trading.Lot, trading.Actor, trading.Actor) {
	t.Helper()
	ctx := context.Background()
	mustCreate(t, app, trading.RoleAgent, "daili", "daili2026")
	mustCreate(t, app, trading.RoleSupervisor, "jiandu", "jiandu2026")
	agent, sup := actorOf(t, app, "daili"), actorOf(t, app, "jiandu")
	p, err := app.Trading.CreateProject(ctx, agent, trading.ProjectInput{Category: "engineering", Title: "电子投标测试工程",
		OwnerName: "福州市某局", RegionCode: "350100", Lots: []trading.LotInput{{Name: "一标段", ControlPrice: "12000000.00",
			DocIssueStart: testNow.Add(24 * time.Hour).Format(time.RFC3339), DocIssueEnd: testNow.AddDate(0, 0, 8).Format(time.RFC3339),
			BidDeadline: testNow.AddDate(0, 0, 22).Format(time.RFC3339)}}})
	if err != nil {
		t.Fatal(err)
	}
	publishAnnouncement(t, app, agent, sup, p.Code, "tender", "电子投标测试工程招标公告")
	clock := app.Clock.(*trading.ManualClock)
	clock.Advance(48 * time.Hour)
	if err := trading.FreezeDBClock(ctx, app.DB, clock.Now()); err != nil {
		t.Fatal(err)
	}
	var lot trading.Lot
	if err := app.DB.Where("project_id = ?", p.ID).Take(&lot).Error; err != nil {
		t.Fatal(err)
	}
	return &lot, agent, sup
}

// sealedBidder signs up a bidder and registers it for the lot.
func sealedBidder(t *testing.T, app *App, lotID int64, n int, username string) trading.Actor {
	t.Helper()
	ctx := context.Background()
	acc, err := app.Trading.SignUpBidder(ctx, trading.SystemActor, trading.SignUp{Kind: trading.BidderEnterprise,
		Name: fmt.Sprintf("福建电子投标%d有限公司", n), IDNumber: creditCode(fmt.Sprintf("91350100MA%06dX", 700+n)), LegalRep: "张三",
		Phone: "13800138000", Email: "x@example.com", Username: username, Password: username + "2026"})
	if err != nil {
		t.Fatal(err)
	}
	b := trading.Actor{AccountID: acc.ID, Username: username, Role: trading.RoleBidder}
	if _, err := app.Bidding.Register(ctx, b, lotID, bidding.RegisterInput{}); err != nil {
		t.Fatal(err)
	}
	return b
}

// A bidder makes its bid key in Chromium, keeps the key file, seals a price
// form and a bid file of three pieces in the browser and submits them, the
// pieces several at a time; the connection breaks on the first sending of
// piece 2 and the browser resumes from what the platform holds. The
// platform inspects the pieces as they come, in whatever order they end,
// without reading the envelope back; the receipt's ciphertext SHA-256 is
// the stored envelope's and verifies, and the key file the browser made
// opens what the platform stored (so nothing but that key file could).
func TestBrowserJourneySealedBid(t *testing.T) {
	t.Parallel()
	app, srv := newTestServer(t, testConfig(t))
	lot, _, _ := sealedLot(t, app)
	bidder := sealedBidder(t, app, lot.ID, 1, "toubiao1")
	ctx := newChrome(t)
	downloads := allowDownloads(t, ctx)
	login(t, ctx, srv.URL, "toubiao1", "toubiao12026")

	// The lot page asks for a key first.
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/lots/%d", srv.URL, lot.ID))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#need-key", "投标密钥")

	const pass = "correct horse battery"
	steps := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(srv.URL + "/my/bid-key"), chromedp.WaitVisible(chromedp.CSS("#key-generate"))},
		fill(map[string]string{"key-passphrase": pass, "key-passphrase2": pass})...)
	steps = append(steps, chromedp.Click(chromedp.CSS("#key-generate")))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#key-status", "平台已登记公钥")
	keyFile := downloaded(t, downloads, "投标密钥-")
	bk, err := sealed.ReadKeyFile([]byte(keyFile), pass)
	if err != nil {
		t.Fatalf("the key file the browser made: %v", err)
	}
	keys, err := app.Bidding.BidKeys(context.Background(), bidder)
	if err != nil || len(keys) != 1 || keys[0].Fingerprint != bk.Fingerprint {
		t.Fatalf("platform keys %+v (%v), browser key %s", keys, err, bk.Fingerprint)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/my/bid-key")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#current-key .fingerprint", bk.Fingerprint)

	// The first sending of piece 2 of the bid file breaks off.
	paused := make(chan *fetch.EventRequestPaused, 16)
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- e
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/parts/1/pieces/2"}}}); err != nil {
		t.Fatal(err)
	}
	piece2 := make(chan int, 1)
	go func() {
		sent := 0
		for e := range paused {
			sent++
			// An error here shows as the submission failing.
			if sent == 1 {
				chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonConnectionReset})
			} else {
				chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
			}
			select {
			case <-piece2:
			default:
			}
			piece2 <- sent
		}
	}()
	readBacks := app.Bidding.SealedReadBacks()

	// A bid file of three pieces.
	file := make([]byte, 2*bidding.PieceSize+300_000)
	rand.Read(file)
	copy(file, "%PDF-1.7\n")
	path := filepath.Join(t.TempDir(), "投标文件.pdf")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	steps = append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(fmt.Sprintf("%s/lots/%d", srv.URL, lot.ID)), chromedp.WaitVisible(chromedp.CSS("#bid-submit"))},
		fill(map[string]string{"bid-price": "11800000.00", "bid-period": "365", "bid-quality": "合格", "bid-manager": "李四"})...)
	steps = append(steps, chromedp.SetUploadFiles(chromedp.CSS("#bid-files"), []string{path}), chromedp.Click(chromedp.CSS("#bid-submit")))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#bid-status", "递交成功")
	if sent := <-piece2; sent != 2 {
		t.Fatalf("piece 2 went up %d times, want 2 (broken off, then resumed)", sent)
	}
	if n := app.Bidding.SealedReadBacks() - readBacks; n != 0 {
		t.Fatalf("%d parts were read back: the pieces' summaries did not decide", n)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#backup-link"))); err != nil {
		t.Fatal(err)
	}
	backup := downloaded(t, downloads, "备用副本信息-")
	receipt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/bids/" + document.querySelector("#bid-status").dataset.bid + "/receipt").then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	r, err := app.Bidding.Receipts.Verify([]byte(receipt))
	if err != nil {
		t.Fatalf("receipt %s: %v", receipt, err)
	}
	if r.LotID != lot.ID || r.Version != 1 || len(r.Parts) != 2 || r.KeyFingerprint != bk.Fingerprint {
		t.Fatalf("receipt %+v", r)
	}
	// The receipt also verifies offline with the published key, by the
	// documented command.
	var pub struct {
		Keys []sealed.PublishedKey `json:"keys"`
	}
	if code := call(t, "GET", srv.URL+"/api/v1/receipt-keys", "", nil, &pub); code != 200 || len(pub.Keys) == 0 {
		t.Fatalf("published keys: %d %+v", code, pub)
	}
	rf := filepath.Join(t.TempDir(), "receipt.json")
	os.WriteFile(rf, []byte(receipt), 0o644)
	var out bytes.Buffer
	if err := cmdReceipt([]string{"verify", rf, "--key", pub.Keys[len(pub.Keys)-1].PublicKey}, &out); err != nil || !strings.Contains(out.String(), "回执有效") {
		t.Fatalf("ggzy receipt verify: %v %s", err, out.String())
	}

	// What the platform stored opens with the browser's key file only, and
	// is the bid file; the backup copy's nonce matches the receipt (EB14).
	var bk2 struct {
		Parts []struct {
			Part  int    `json:"part"`
			Nonce string `json:"nonce"`
		} `json:"parts"`
	}
	if err := json.Unmarshal([]byte(backup), &bk2); err != nil || len(bk2.Parts) != 2 {
		t.Fatalf("backup %s: %v", backup, err)
	}
	if err := sealed.VerifyBackup(bytes.NewReader(file), bk2.Parts[1].Nonce, r.Parts[1].Commitment); err != nil {
		t.Fatalf("backup of the bid file: %v", err)
	}
	var part bidding.SealedPart
	if err := app.DB.Where("bid_id = ? AND part = 1", r.BidID).Take(&part).Error; err != nil {
		t.Fatal(err)
	}
	obj, err := app.Storage.Client.GetObject(context.Background(), app.Storage.Bucket, part.ObjectKey, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := readAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(env); hex.EncodeToString(sum[:]) != r.Parts[1].CiphertextSHA256 || len(env) <= 2*bidding.PieceSize {
		t.Fatalf("receipt's ciphertext SHA-256 %s, the stored envelope's %x (%d bytes)", r.Parts[1].CiphertextSHA256, sum, len(env))
	}
	h, err := sealed.ReadHeader(bytes.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := sealed.UnwrapKey(h, bk.Private)
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if _, err := sealed.Open(bytes.NewReader(env), ck, &plain); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain.Bytes(), file) {
		t.Fatal("the opened bid file differs from the one the bidder chose")
	}

	// The page now shows the submitted version and its receipt.
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/lots/%d", srv.URL, lot.ID))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#my-bid-status", "已递交（第1版）")
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
}

// allowDownloads lets the page download into a directory of the test's.
func allowDownloads(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir := t.TempDir()
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	return dir
}

// downloaded waits for a finished download whose name starts with prefix.
func downloaded(t *testing.T, dir, prefix string) string {
	t.Helper()
	for i := 0; i < 200; i++ {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) && !strings.HasSuffix(e.Name(), ".crdownload") {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err == nil && len(b) > 0 {
					return string(b)
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no download %s* in %s", prefix, dir)
	return ""
}

func readAll(o *minio.Object) ([]byte, error) {
	defer o.Close()
	var b bytes.Buffer
	_, err := b.ReadFrom(o)
	return b.Bytes(), err
}

// declarePaper marks a lot's bids as handed in on paper, as the agent
// declares before publishing (set directly here: the lot is already out).
func declarePaper(t *testing.T, app *App, lotID int64) {
	t.Helper()
	if err := app.DB.Exec(`INSERT INTO paper_bid_lots (lot_id, declared_by, declared_at, reason)
		SELECT l.id, p.agent_id, now(), '纸质投标' FROM lots l JOIN projects p ON p.id = l.project_id WHERE l.id = ?`, lotID).Error; err != nil {
		t.Fatal(err)
	}
}
