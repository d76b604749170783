package bidding

import (
	"context"
	"strings"
	"testing"

	"github.com/ggzy/ggzy/trading"
)

// The review page lists what an announcement releases: the opening announcement the
// originals, an amendment its clarifications; a result announcement nothing.
func TestAnnouncementDocuments(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", false)
	lot := p.Lots[0].ID
	v1 := e.upload(e.Agent, lot, UploadInput{Kind: DocTender, Filename: "招标文件.pdf"}, pdfBytes(10<<10))
	tender := e.publish(p, trading.AnnouncementTender, 0, nil)
	v2 := e.upload(e.Agent, lot, UploadInput{Kind: DocClarification, Filename: "澄清一.pdf", ReplacesID: v1.ID}, pdfBytes(3000))
	amendment := &trading.Announcement{Type: trading.AnnouncementAmendment, AmendsID: &tender.ID}

	docs, err := e.Svc.AnnouncementDocuments(ctx, p, tender)
	if err != nil || len(docs) != 1 || docs[0].ID != v1.ID || docs[0].Filename != "招标文件.pdf" || docs[0].LotSeq != 1 ||
		docs[0].Version != 1 || !docs[0].Released || docs[0].Size != "10.0 KB" || docs[0].SHA256 != v1.SHA256 || docs[0].Kind != "招标/采购/出让文件" {
		t.Fatalf("opening announcement: %+v %v", docs, err)
	}
	docs, err = e.Svc.AnnouncementDocuments(ctx, p, amendment)
	if err != nil || len(docs) != 1 || docs[0].ID != v2.ID || docs[0].Released || docs[0].Version != 2 {
		t.Fatalf("amendment: %+v %v", docs, err)
	}
	if docs, err := e.Svc.AnnouncementDocuments(ctx, p, &trading.Announcement{Type: trading.AnnouncementResult}); err != nil || docs != nil {
		t.Fatalf("result announcement: %+v %v", docs, err)
	}
}

// A draft project whose lot has uploaded documents is not deleted (the
// documents are the record of what was uploaded); nothing of it goes.
func TestDeleteDraftWithDocumentsRefused(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", false)
	e.upload(e.Agent, p.Lots[0].ID, UploadInput{Kind: DocTender, Filename: "招标文件.pdf"}, pdfBytes(1000))
	err := e.TS.DeleteProject(ctx, e.Agent, p.Code)
	if de := trading.AsError(err); de == nil || de.Status() != 409 || !strings.Contains(de.Message, "已上传文件") {
		t.Fatalf("delete with documents: %v", err)
	}
	if got, err := e.TS.Project(ctx, e.Agent, p.Code); err != nil || len(got.Lots) != 1 {
		t.Fatalf("project after the refusal: %+v %v", got, err)
	}
}
