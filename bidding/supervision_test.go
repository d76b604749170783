package bidding

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/trading/supervision"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// A supervisor's suspension stops registration and uploads with the reason;
// after the project is resumed both work again.
func TestSuspendedProjectRefusesRegistrationAndUploads(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	proc := e.project("procurement", true)
	eng := e.project("engineering", true)
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	b := e.bidder("福建监督")
	in := RegisterInput{ContactName: "王五", ContactPhone: "0591-87654321", Declarations: procurementDecls}
	const reason = "收到投诉，暂停报名待核查"
	for _, p := range []*trading.Project{proc, eng} {
		if _, err := supervision.Suspend(ctx, e.TS, e.Sup, p.Code, reason); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.Svc.Register(ctx, b, proc.Lots[0].ID, in)
	if de := trading.AsError(err); de.Status() != http.StatusConflict || !errors.Is(err, trading.ErrSuspended) || !strings.Contains(de.Message, reason) {
		t.Fatalf("registered while suspended: %v", err)
	}
	// Engineering registers by obtaining the documents: refused the same way.
	err = trading.Transact(ctx, e.Svc.DB, func(tx *gorm.DB) error { return e.Svc.DownloadAccess(ctx, tx, b, eng.Lots[0].ID) })
	if !errors.Is(err, trading.ErrSuspended) {
		t.Fatalf("download registration while suspended: %v", err)
	}
	body := pdfBytes(2048)
	_, err = e.Svc.Upload(ctx, e.Agent, proc.Lots[0].ID, UploadInput{Kind: DocClarification, Filename: "澄清.pdf"}, bytes.NewReader(body), int64(len(body)))
	if de := trading.AsError(err); de.Status() != http.StatusConflict || !strings.Contains(de.Message, reason) {
		t.Fatalf("uploaded while suspended: %v", err)
	}
	e.nothingStored("upload while suspended")
	if n := e.count(&Registration{}); n != 0 {
		t.Fatalf("%d registrations while suspended", n)
	}

	if _, err := supervision.Resume(ctx, e.TS, e.Sup, proc.Code, "投诉不成立"); err != nil {
		t.Fatal(err)
	}
	if reg, err := e.Svc.Register(ctx, b, proc.Lots[0].ID, in); err != nil || reg.Status != StatusActive {
		t.Fatalf("after resume: %+v %v", reg, err)
	}
	e.upload(e.Agent, proc.Lots[0].ID, UploadInput{Kind: DocClarification, Filename: "澄清.pdf"}, body)
	e.verifyAudit()
}

// The registration source reports counts per lot and every document.
func TestRegistrationSourceTimeline(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("procurement", false)
	e.upload(e.Agent, p.Lots[0].ID, UploadInput{Kind: DocTender, Filename: "采购文件.pdf"}, pdfBytes(1024))
	e.publish(p, "procurement", 0, nil)
	e.Clock.Set(time.Date(2026, 3, 4, 10, 0, 0, 0, trading.Shanghai))
	in := RegisterInput{ContactName: "王五", ContactPhone: "0591-87654321", Declarations: procurementDecls}
	a, b := e.bidder("福建甲"), e.bidder("福建乙")
	for _, x := range []trading.Actor{a, b} {
		if _, err := e.Svc.Register(ctx, x, p.Lots[0].ID, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Svc.Withdraw(ctx, b, p.Lots[0].ID); err != nil {
		t.Fatal(err)
	}
	evs, err := RegistrationSource{Svc: e.Svc}.Timeline(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reg, docs []trading.TimelineEvent
	for _, ev := range evs {
		switch ev.Kind {
		case "registration":
			reg = append(reg, ev)
		case "document":
			docs = append(docs, ev)
		}
	}
	if len(reg) != 1 || !strings.Contains(reg[0].Title, "有效 1 家") || !strings.Contains(reg[0].Detail, "已撤回 1") ||
		!reg[0].At.Equal(e.Clock.Now()) {
		t.Fatalf("registrations: %+v", reg)
	}
	// Uploaded, then released with the opening announcement.
	if len(docs) != 2 || !strings.Contains(docs[0].Title, "采购文件.pdf") || !strings.HasPrefix(docs[1].Title, "发布") {
		t.Fatalf("documents: %+v", docs)
	}
	if alerts, err := (RegistrationSource{Svc: e.Svc}).Alerts(ctx, e.Clock.Now(), 10); err != nil || len(alerts) != 0 {
		t.Fatalf("alerts: %v %v", alerts, err)
	}
}
