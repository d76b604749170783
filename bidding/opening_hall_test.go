package bidding

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
	"github.com/ggzy/ggzy/trading/supervision"
)

// token is what a bidder's browser hands in: the content key unwrapped from
// the price form's header with the bidder's private key.
func (e *sealedEnv) token(b *testBidder) string {
	e.t.Helper()
	h, err := e.Svc.HallHeader(context.Background(), b.Actor, e.Lot)
	if err != nil {
		e.t.Fatal(err)
	}
	ck, err := sealed.UnwrapKey(*h, b.Key)
	if err != nil {
		e.t.Fatal(err)
	}
	return ck.String()
}

func TestOpeningHallFewerThanThreeBidsFailsWithoutDecryption(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	a, b := e.sealedBidder("福建甲建设"), e.sealedBidder("福建乙建设")
	for _, x := range []*testBidder{a, b} {
		if _, _, err := e.submit(x, priceForm("100.00"), []byte("%PDF")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Svc.OpenHall(ctx, e.Agent, e.Lot, 0); trading.AsError(err).Rule != "E6" {
		t.Fatalf("opened before the deadline: %v", err)
	}
	e.at(e.Dead)
	o, err := e.Svc.OpenHall(ctx, e.Agent, e.Lot, 0)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != OpeningFailed {
		t.Fatalf("two bids: %s", o.Status)
	}
	var r LotResult
	if err := e.Svc.DB.Where("lot_id = ?", e.Lot).Take(&r).Error; err != nil || r.Stage != StageFailed || r.FailedRule != "E7" {
		t.Fatalf("lot result %+v %v", r, err)
	}
	if err := e.Svc.Decrypt(ctx, a.Actor, e.Lot, "ck1.x.y"); err == nil {
		t.Fatal("decrypted at a failed opening")
	}
	if _, err := e.Svc.RecordOpening(ctx, e.Agent, e.Lot, OpeningInput{Bids: []BidInput{{IDNumber: "x"}}}); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("a typed record over the hall's: %v", err)
	}
}

// The whole opening: three bidders, one hands in a wrong key first, one
// lost its key and hands in the backup copy; the prices are revealed at
// once when the last is done; an objection is answered; the record is
// generated, stored with its SHA-256 in the audit chain, and the lot's
// result flow goes on with the three prices.
func TestOpeningHallDecryptBackupRevealObjectRecord(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	a, b, c := e.sealedBidder("福建甲建设"), e.sealedBidder("福建乙建设"), e.sealedBidder("福建丙建设")
	if _, _, err := e.submit(a, priceForm("11800000.00"), []byte("%PDF-1.7 /Producer (WPS) /Author (张三) a")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.submit(b, priceForm("11700000.00"), []byte("%PDF-1.7 /Producer (WPS) /Author (张三) b")); err != nil {
		t.Fatal(err)
	}
	_, cParts, err := e.submit(c, priceForm("11600000.00"), []byte("%PDF-1.7 c"))
	if err != nil {
		t.Fatal(err)
	}
	e.at(e.Dead.Add(time.Minute))
	if _, err := e.Svc.OpenHall(ctx, a.Actor, e.Lot, 0); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("a bidder hosting: %v", err)
	}
	o, err := e.Svc.OpenHall(ctx, e.Agent, e.Lot, 0)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != OpeningDecrypting || o.WindowMinutes != 30 || !o.WindowEndsAt.Equal(e.Dead.Add(31*time.Minute)) {
		t.Fatalf("opening %+v", o)
	}
	if err := e.Svc.SignIn(ctx, a.Actor, e.Lot); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Decrypt(ctx, a.Actor, e.Lot, e.token(a)); err != nil {
		t.Fatal(err)
	}
	// b hands in a's key: refused, counted, and b tries again.
	err = e.Svc.Decrypt(ctx, b.Actor, e.Lot, e.token(a))
	if !errors.Is(err, sealed.ErrKeyForOtherBid) || trading.AsError(err).Status() != 422 {
		t.Fatalf("another bid's key: %v", err)
	}
	if err := e.Svc.Decrypt(ctx, b.Actor, e.Lot, e.token(b)); err != nil {
		t.Fatal(err)
	}
	// Nothing revealed yet: the hall shows no price to anyone.
	v, err := e.Svc.Hall(ctx, e.Sup, e.Lot)
	if err != nil || len(v.Bids) != 0 || v.Pending != 1 {
		t.Fatalf("before the reveal a supervisor sees %+v (%v)", v, err)
	}
	// c lost its key: a wrong backup is refused, the right one accepted.
	nonce := func(i int) string { return base64.StdEncoding.EncodeToString(cParts[i].Sealed.Nonce[:]) }
	if err := e.Svc.SubmitBackup(ctx, c.Actor, e.Lot, 1, nonce(1), strings.NewReader("%PDF-1.7 forged")); trading.AsError(err).Rule != "EB14" {
		t.Fatalf("a forged backup: %v", err)
	}
	// The price form first, as the browser sends it, then the file.
	if err := e.Svc.SubmitBackup(ctx, c.Actor, e.Lot, 0, nonce(0), bytes.NewReader(cParts[0].Plain)); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.SubmitBackup(ctx, c.Actor, e.Lot, 1, nonce(1), bytes.NewReader(cParts[1].Plain)); err != nil {
		t.Fatal(err)
	}
	v, err = e.Svc.Hall(ctx, c.Actor, e.Lot)
	if err != nil || v.Opening.Status != OpeningRevealed || len(v.Bids) != 3 {
		t.Fatalf("after the last decryption: %+v %v", v.Opening, err)
	}
	outcomes := map[string]string{}
	for _, x := range v.Bids {
		outcomes[x.BidderName] = x.Outcome + " " + x.Price.StringFixed(2)
	}
	if outcomes["福建甲建设有限公司"] != "decrypted 11800000.00" || outcomes["福建丙建设有限公司"] != "backup 11600000.00" {
		t.Fatalf("outcomes %v", outcomes)
	}
	// The reveal went out live, with every price, in the recorded order.
	evs, err := live.Since(ctx, e.Svc.DB, HallTopic(e.Lot), 0, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var revealed struct {
		Bids []struct {
			Price string `json:"price"`
		} `json:"bids"`
		Seed string `json:"seed"`
	}
	for _, ev := range evs {
		if ev.Kind == "hall.revealed" {
			json.Unmarshal(ev.Data, &revealed)
		}
	}
	if len(revealed.Bids) != 3 || revealed.Seed == "" || *v.Opening.RevealSeed != revealed.Seed {
		t.Fatalf("reveal event %+v", revealed)
	}
	for i, x := range v.Bids {
		if revealed.Bids[i].Price != x.Price.StringFixed(2) {
			t.Fatalf("order: event %v, hall %v", revealed.Bids, v.Bids)
		}
	}
	// EB9: an objection, answered on the spot; the record waits for it.
	obj, err := e.Svc.Object(ctx, b.Actor, e.Lot, "甲公司的工期与招标文件要求不符")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Conclude(ctx, e.Agent, e.Lot); trading.AsError(err).Rule != "EB9" {
		t.Fatalf("concluded with an objection unanswered: %v", err)
	}
	if err := e.Svc.Answer(ctx, e.Agent, e.Lot, obj.ID, "工期在评标时由评标委员会审查，记录在案"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Confirm(ctx, a.Actor, e.Lot); err != nil {
		t.Fatal(err)
	}
	o, err = e.Svc.Conclude(ctx, e.Agent, e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	rc, digest, err := e.Svc.OpeningRecord(ctx, e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := io.ReadAll(rc)
	rc.Close()
	if sum(rec) != digest || !strings.Contains(string(rec), "11600000.00") || !strings.Contains(string(rec), "工期在评标时") ||
		!strings.Contains(string(rec), "备用副本解密") {
		t.Fatalf("record (sha %s, want %s):\n%s", sum(rec), digest, rec)
	}
	var n int64
	e.Svc.DB.Model(&trading.AuditEvent{}).Where("action = 'opening.record' AND summary LIKE ?", "%"+digest+"%").Count(&n)
	if n != 1 {
		t.Fatal("the record's SHA-256 is not in the audit chain")
	}
	// EB7: the record is published as an announcement, through review like the
	// result announcements, and only from the hall.
	if o.AnnouncementID == nil {
		t.Fatal("no opening record announcement")
	}
	var announcement trading.Announcement
	if err := e.TS.DB.First(&announcement, *o.AnnouncementID).Error; err != nil {
		t.Fatal(err)
	}
	if announcement.Type != trading.AnnouncementOpening || announcement.Status != trading.AnnouncementSubmitted || !strings.Contains(announcement.Title, "开标记录公告") {
		t.Fatalf("opening announcement: %s %s %q", announcement.Type, announcement.Status, announcement.Title)
	}
	for _, want := range []string{"11800000.00", "11700000.00", "11600000.00", "福建丙建设有限公司", "备用副本解密", "工期在评标时", digest} {
		if !strings.Contains(announcement.Body, want) {
			t.Errorf("opening announcement body lacks %q:\n%s", want, announcement.Body)
		}
	}
	e.approve(announcement.ID)
	if err := e.TS.DB.First(&announcement, announcement.ID).Error; err != nil || announcement.Status != trading.AnnouncementPublished {
		t.Fatalf("opening announcement not published: %s %v", announcement.Status, err)
	}
	code := ""
	e.TS.DB.Raw("SELECT p.code FROM projects p JOIN lots l ON l.project_id = p.id WHERE l.id = ?", e.Lot).Scan(&code)
	if _, err := e.TS.DraftAnnouncement(ctx, e.Agent, code, trading.AnnouncementInput{Type: trading.AnnouncementOpening,
		Title: "手写的开标记录公告", Body: "正文"}); err == nil {
		t.Fatal("a hand-written opening record announcement was accepted")
	}
	// The result flow has the three bids with their prices.
	var r LotResult
	if err := e.Svc.DB.Where("lot_id = ?", e.Lot).Take(&r).Error; err != nil || r.Stage != StageOpened {
		t.Fatalf("lot result %+v %v", r, err)
	}
	var lb []LotBid
	e.Svc.DB.Where("lot_id = ? AND price IS NOT NULL", e.Lot).Find(&lb)
	if len(lb) != 3 {
		t.Fatalf("lot bids %+v", lb)
	}
	// Collusion signals, for supervisors only: one document producer and
	// author for a and b; prices in equal steps.
	if _, err := e.Svc.CollusionSignals(ctx, e.Agent, e.Lot); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("signals to the agent: %v", err)
	}
	sigs, err := e.Svc.CollusionSignals(ctx, e.Sup, e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, sg := range sigs {
		kinds[sg.Kind] = true
	}
	if !kinds["same_metadata"] || !kinds["price_steps"] || !kinds["same_address"] || kinds["same_device"] {
		t.Fatalf("signals %+v", sigs)
	}
	d, err := (&supervision.Service{Service: e.TS}).Dashboard(ctx, e.Sup)
	if err != nil {
		t.Fatal(err)
	}
	onDashboard := 0
	for _, al := range d.RuleItems.Items {
		if strings.HasPrefix(al.Kind, "k1_") {
			onDashboard++
		}
	}
	if onDashboard != len(sigs) {
		t.Fatalf("%d signals on the dashboard, want %d", onDashboard, len(sigs))
	}
	e.verifyAudit()
}

// EB6: at the window's close, the bids not decrypted are attributed:
// revoked by default, withdrawn with the host's recorded reason; the rest
// are revealed.
func TestOpeningHallWindowCloseAttributes(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	bs := []*testBidder{e.sealedBidder("福建甲建设"), e.sealedBidder("福建乙建设"), e.sealedBidder("福建丙建设"), e.sealedBidder("福建丁建设")}
	var ids []int64
	for i, x := range bs {
		bid, _, err := e.submit(x, priceForm([]string{"100.00", "200.00", "300.00", "400.00"}[i]), []byte("%PDF"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, bid.ID)
	}
	e.at(e.Dead)
	if _, err := e.Svc.OpenHall(ctx, e.Agent, e.Lot, 10); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Decrypt(ctx, bs[0].Actor, e.Lot, e.token(bs[0])); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Decrypt(ctx, bs[1].Actor, e.Lot, e.token(bs[1])); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.CloseWindow(ctx, e.Agent, e.Lot, nil); trading.AsError(err).Rule != "EB13" {
		t.Fatalf("closed before the window's end: %v", err)
	}
	// A pause does not eat the window; resuming extends it.
	if err := e.Svc.PauseHall(ctx, e.Agent, e.Lot, true, 0, "平台网络波动"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Decrypt(ctx, bs[2].Actor, e.Lot, e.token(bs[2])); !errors.Is(err, trading.ErrConflict) {
		t.Fatalf("decrypted while paused: %v", err)
	}
	e.at(e.Dead.Add(5 * time.Minute))
	if err := e.Svc.PauseHall(ctx, e.Agent, e.Lot, false, 5, "网络恢复，延长5分钟"); err != nil {
		t.Fatal(err)
	}
	var o Opening
	e.Svc.DB.Take(&o, "lot_id = ?", e.Lot)
	if !o.WindowEndsAt.Equal(e.Dead.Add(20 * time.Minute)) {
		t.Fatalf("window ends %v, want 10 + 5 paused + 5 extended minutes after the deadline", o.WindowEndsAt.Sub(e.Dead))
	}
	e.at(e.Dead.Add(20 * time.Minute))
	if err := e.Svc.Decrypt(ctx, bs[2].Actor, e.Lot, e.token(bs[2])); trading.AsError(err).Rule != "EB13" {
		t.Fatalf("decrypted after the window: %v", err)
	}
	if err := e.Svc.CloseWindow(ctx, e.Agent, e.Lot, map[string]string{seat(ids[3]): "CA 证书服务中断，非投标人原因"}); err != nil {
		t.Fatal(err)
	}
	v, err := e.Svc.Hall(ctx, e.Sup, e.Lot)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for _, x := range v.Bids {
		got[x.BidID] = x.Outcome
	}
	if got[ids[0]] != OutcomeDecrypted || got[ids[2]] != OutcomeRevoked || got[ids[3]] != OutcomeWithdrawn || v.Opening.Status != OpeningRevealed {
		t.Fatalf("outcomes %v", got)
	}
}

// Bidders sign in all at once (they share the hall's lock): every one is
// recorded once, with one event each in gap-free order, while the host
// pausing at the same moment waits for them or they for it.
func TestOpeningHallSignInAllAtOnce(t *testing.T) {
	t.Parallel()
	e := newSealedEnv(t)
	ctx := context.Background()
	var bs []*testBidder
	for i := range 8 {
		b := e.sealedBidder(fmt.Sprintf("福建%d号建设", i+1))
		if _, _, err := e.submit(b, priceForm(fmt.Sprintf("%d00.00", i+1)), []byte("%PDF")); err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
	e.at(e.Dead)
	if _, err := e.Svc.OpenHall(ctx, e.Agent, e.Lot, 0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(bs)+1)
	for i, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.Svc.SignIn(ctx, b.Actor, e.Lot)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[len(bs)] = e.Svc.PauseHall(ctx, e.Agent, e.Lot, true, 0, "主持人核对签到")
	}()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	var signed int64
	e.Svc.DB.Model(&OpeningBid{}).Where("lot_id = ? AND signed_in_at IS NOT NULL", e.Lot).Count(&signed)
	if signed != int64(len(bs)) {
		t.Fatalf("%d of %d signed in", signed, len(bs))
	}
	evs, err := live.Since(ctx, e.Svc.DB, HallTopic(e.Lot), 0, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for i, ev := range evs {
		if ev.Seq != evs[0].Seq+int64(i) {
			t.Fatalf("events not gap-free: %d after %d", ev.Seq, evs[0].Seq+int64(i)-1)
		}
		kinds[ev.Kind]++
	}
	if kinds["hall.signin"] != len(bs) || kinds["hall.paused"] != 1 {
		t.Fatalf("events %v", kinds)
	}
	var o Opening
	if err := e.Svc.DB.Take(&o, "lot_id = ?", e.Lot).Error; err != nil || o.Status != OpeningPaused {
		t.Fatalf("opening %+v %v", o, err)
	}
	e.verifyAudit()
}
