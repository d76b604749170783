package bidding

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// A land deal: the buyer, who has no opening record, is told and gets a
// 成交确认书 issued once (stored, hashed, audited); the other applicant is
// told the result and has no letter; a stranger nothing. The printer is a
// stand-in here (cmd/ggzy's letters test prints with Chromium).
func TestLandDealLetterAndNotifications(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	prints := 0
	e.Svc.PrintLetter = func(_ context.Context, l *Letter) ([]byte, error) {
		prints++
		return []byte("%PDF-1.7\n" + l.Kind.Name() + " " + l.BidderName + " " + l.WinnerName + " " + l.Amount.StringFixed(2) + "\n%%EOF\n"), nil
	}
	land := e.project("land", true)
	lotID := land.Lots[0].ID
	e.Clock.Set(time.Date(2026, 3, 24, 10, 0, 0, 0, trading.Shanghai))
	bs := e.registerBidders(land, 2)
	e.Clock.Set(time.Date(2026, 4, 8, 17, 0, 0, 0, trading.Shanghai))
	n, err := e.Svc.RecordDeal(ctx, e.Agent, lotID, DealInput{IDNumber: e.idOf(bs[0]), Price: "6200000.00"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Svc.LetterPDF(ctx, bs[0], lotID, LetterDeal, 0); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("letter before the result announcement: %v", err)
	}
	e.approve(n.ID)
	var titles []string
	e.TS.DB.Model(&trading.Notification{}).Where("account_id = ?", bs[0].AccountID).Order("id").Pluck("title", &titles)
	if !strings.Contains(strings.Join(titles, ","), "成交确认书") {
		t.Fatalf("buyer's notifications: %v", titles)
	}
	e.TS.DB.Model(&trading.Notification{}).Where("account_id = ?", bs[1].AccountID).Order("id").Pluck("title", &titles)
	if !strings.Contains(strings.Join(titles, ","), "竞买结果") {
		t.Fatalf("other applicant's notifications: %v", titles)
	}
	d, body, err := e.Svc.LetterPDF(ctx, bs[0], lotID, LetterDeal, 0)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(body)
	body.Close()
	sum := sha256.Sum256(pdf)
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf, []byte("6200000.00")) || d.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("letter %q, recorded SHA-256 %s", pdf, d.SHA256)
	}
	var audited int64
	e.TS.DB.Raw("SELECT count(*) FROM audit_events WHERE action = 'letter.issue' AND summary LIKE ?", "%"+d.SHA256+"%").Scan(&audited)
	if audited != 1 {
		t.Fatalf("audit records of the letter: %d", audited)
	}
	// The supervisor reads the same issued bytes; nothing is printed again.
	_, body, err = e.Svc.LetterPDF(ctx, e.Sup, lotID, LetterDeal, bs[0].AccountID)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := io.ReadAll(body)
	body.Close()
	if !bytes.Equal(again, pdf) || prints != 1 {
		t.Fatalf("second read: equal=%v prints=%d", bytes.Equal(again, pdf), prints)
	}
	for _, k := range []LetterKind{LetterDeal, LetterResult, LetterAward} {
		if _, _, err := e.Svc.LetterPDF(ctx, bs[1], lotID, k, 0); !errors.Is(err, trading.ErrNotFound) {
			t.Fatalf("other applicant's %s: %v", k.Name(), err)
		}
	}
	stranger := e.bidder("无关竞买人")
	if _, _, err := e.Svc.LetterPDF(ctx, stranger, lotID, LetterDeal, bs[0].AccountID); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("stranger: %v", err)
	}
	mine, err := e.Svc.MyRegistrations(ctx, bs[0])
	if err != nil || len(mine) != 1 || mine[0].Letter != LetterDeal {
		t.Fatalf("my projects: %+v %v", mine, err)
	}
	e.verifyAudit()
}
