package bidding

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/minio/minio-go/v7"

	"github.com/ggzy/ggzy/templates"
	"github.com/ggzy/ggzy/trading"
)

func TestFilenameSanitize(t *testing.T) {
	long := strings.Repeat("招", 100) + ".pdf" // 304 bytes
	tests := []struct{ in, want string }{
		{"招标文件.pdf", "招标文件.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\fakepath\招标文件.pdf`, "招标文件.pdf"},
		{"a\x00b\nc.pdf", "abc.pdf"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{`"<a>|b:*?".docx`, "ab.docx"},
		{"  ..图纸.dwg. . ", "图纸.dwg"},
		{"bad\xffutf8.pdf", "badutf8.pdf"},
		{long, strings.Repeat("招", 83) + ".pdf"},
	}
	for _, tt := range tests {
		got, err := SanitizeFilename(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("SanitizeFilename(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if len(got) > 255 {
			t.Errorf("SanitizeFilename(%q) is %d bytes", tt.in, len(got))
		}
	}
	for _, bad := range []string{"", "..", "../", "a/..", " . ", "\x00\n", "\u202E"} {
		if got, err := SanitizeFilename(bad); !errors.Is(err, trading.ErrInvalid) || trading.AsError(err).Field != "file" {
			t.Errorf("SanitizeFilename(%q) = %q, %v; want a refusal", bad, got, err)
		}
	}
}

func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{"招标文件 v2.pdf", "../../etc/passwd", `C:\fakepath\a.pdf`, "a\x00b", "x\u202Eexe.pdf", "..", strings.Repeat("a", 300) + ".zip"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := SanitizeFilename(in)
		if err != nil {
			return
		}
		if out == "" || len(out) > 255 || !utf8.ValidString(out) || strings.ContainsAny(out, `/\`) || out == ".." {
			t.Fatalf("SanitizeFilename(%q) = %q", in, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("SanitizeFilename(%q) = %q keeps %U", in, out, r)
			}
		}
		if again, err := SanitizeFilename(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
	})
}

func TestFilenameContentDisposition(t *testing.T) {
	got := ContentDisposition("招标文件 v2.pdf")
	want := `attachment; filename="____ v2.pdf"; filename*=UTF-8''%E6%8B%9B%E6%A0%87%E6%96%87%E4%BB%B6%20v2.pdf`
	if got != want {
		t.Fatalf("ContentDisposition = %s\nwant %s", got, want)
	}
	if got := ContentDisposition(`a"b\c%d.pdf`); got != `attachment; filename="a_b_c_d.pdf"; filename*=UTF-8''a%22b%5Cc%25d.pdf` {
		t.Fatalf("quotes: %s", got)
	}
}

// allDeclarations are all of a supplier's declarations, made.
func allDeclarations() map[string]bool {
	m := map[string]bool{}
	for _, d := range ProcurementDeclarations {
		m[d.Key] = true
	}
	return m
}

// pdfBytes is n bytes of a "PDF": the magic, then a pattern.
func pdfBytes(n int) []byte {
	b := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
	copy(b, "%PDF-1.7\n")
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// objects lists the bucket's keys.
func (e *bidEnv) objects() []string {
	e.t.Helper()
	var keys []string
	ctx := context.Background()
	for o := range e.Svc.Storage.Client.ListObjects(ctx, e.Svc.Storage.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			e.t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	for u := range e.Svc.Storage.Client.ListIncompleteUploads(ctx, e.Svc.Storage.Bucket, "", true) {
		if u.Err != nil {
			e.t.Fatal(u.Err)
		}
		keys = append(keys, "incomplete:"+u.Key)
	}
	return keys
}

func (e *bidEnv) count(model any) int64 {
	e.t.Helper()
	var n int64
	if err := e.Svc.DB.Model(model).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// nothingStored checks that no object, no half upload and no row is left.
func (e *bidEnv) nothingStored(what string) {
	e.t.Helper()
	if keys := e.objects(); len(keys) != 0 {
		e.t.Fatalf("%s: objects left in the bucket: %v", what, keys)
	}
	if n := e.count(&Document{}); n != 0 {
		e.t.Fatalf("%s: %d document rows", what, n)
	}
}

func (e *bidEnv) verifyAudit() {
	e.t.Helper()
	n, problem, err := trading.VerifyAudit(context.Background(), e.Svc.DB)
	if err != nil || problem != nil {
		e.t.Fatalf("audit chain after %d rows: %v %v", n, problem, err)
	}
}

func (e *bidEnv) upload(a trading.Actor, lotID int64, in UploadInput, body []byte) *Document {
	e.t.Helper()
	d, err := e.Svc.Upload(context.Background(), a, lotID, in, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		e.t.Fatalf("upload %s: %v", in.Filename, err)
	}
	return d
}

func (e *bidEnv) download(a trading.Actor, docID int64) ([]byte, error) {
	e.t.Helper()
	_, rc, err := e.Svc.Open(context.Background(), a, docID, "203.0.113.7")
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestDocumentReleasedWithTenderAnnouncementAndDownloadRegisters(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", false)
	lot := p.Lots[0].ID
	body := pdfBytes(300 << 10)
	doc := e.upload(e.Agent, lot, UploadInput{Kind: DocTender, Filename: "招标文件.pdf"}, body)
	if doc.Version != 1 || doc.ReleasedAt != nil || doc.SHA256 != sum(body) || doc.Size != int64(len(body)) || doc.ContentType != "application/pdf" {
		t.Fatalf("uploaded: %+v", doc)
	}
	b := e.bidder("福建甲建设")
	other := e.staff(trading.RoleAgent, "daili2")
	for _, a := range []trading.Actor{b, other, {Role: "anonymous"}} {
		if _, err := e.Svc.Documents(ctx, a, lot); !errors.Is(err, trading.ErrNotFound) {
			t.Fatalf("%s listed a draft's documents: %v", a.Username, err)
		}
	}
	for _, a := range []trading.Actor{b, other} {
		if _, err := e.download(a, doc.ID); !errors.Is(err, trading.ErrNotFound) {
			t.Fatalf("%s downloaded a draft's document: %v", a.Username, err)
		}
	}
	if _, err := e.Svc.ManagedDocuments(ctx, other, lot); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("another agent manages the documents: %v", err)
	}
	if list, err := e.Svc.Documents(ctx, e.Agent, lot); err != nil || len(list) != 1 || list[0].Released {
		t.Fatalf("agent's list: %+v %v", list, err)
	}

	e.publish(p, trading.AnnouncementTender, 0, nil)
	list, err := e.Svc.Documents(ctx, b, lot)
	if err != nil || len(list) != 1 || !list[0].Released || list[0].Superseded || list[0].Version != 1 {
		t.Fatalf("bidder's list after the announcement: %+v %v", list, err)
	}
	if anon, err := e.Svc.Documents(ctx, trading.Actor{Role: "anonymous"}, lot); err != nil || len(anon) != 1 {
		t.Fatalf("public list: %+v %v", anon, err)
	}

	// Before the issue period nobody obtains the documents (engineering: that would register).
	if _, err := e.download(b, doc.ID); !errors.Is(err, ErrClosed) {
		t.Fatalf("before the issue period: %v", err)
	}
	e.Clock.Set(time.Date(2026, 3, 3, 10, 0, 0, 0, trading.Shanghai))
	got, err := e.download(b, doc.ID)
	if err != nil || sum(got) != doc.SHA256 {
		t.Fatalf("download: %d bytes, %v", len(got), err)
	}
	var reg Registration
	if err := e.Svc.DB.Where("lot_id = ? AND bidder_id = ?", lot, b.AccountID).First(&reg).Error; err != nil ||
		reg.Kind != KindDownload || reg.Status != StatusActive {
		t.Fatalf("engineering download did not register: %+v %v", reg, err)
	}
	var dl Download
	if err := e.Svc.DB.Where("document_id = ? AND account_id = ?", doc.ID, b.AccountID).First(&dl).Error; err != nil ||
		dl.IP != "203.0.113.7" || !dl.At.Equal(e.Clock.Now()) {
		t.Fatalf("download not recorded: %+v %v", dl, err)
	}
	if _, err := e.download(b, doc.ID); err != nil { // a second download, already registered
		t.Fatal(err)
	}
	if n := e.count(&Download{}); n != 2 {
		t.Fatalf("%d downloads recorded, want 2", n)
	}
	if _, err := e.download(other, doc.ID); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("another agent downloaded: %v", err)
	}
	e.verifyAudit()
}

func TestDocumentClarificationSupersedesAfterAmendment(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", false)
	lot := p.Lots[0].ID
	v1body := pdfBytes(10 << 10)
	v1 := e.upload(e.Agent, lot, UploadInput{Kind: DocTender, Filename: "招标文件.pdf"}, v1body)
	tender := e.publish(p, trading.AnnouncementTender, 0, nil)
	e.Clock.Set(time.Date(2026, 3, 3, 10, 0, 0, 0, trading.Shanghai))
	b := e.bidder("福建甲建设")
	if _, err := e.download(b, v1.ID); err != nil {
		t.Fatal(err)
	}

	v2body := pdfBytes(12 << 10)
	v2 := e.upload(e.Agent, lot, UploadInput{Kind: DocClarification, Filename: "招标文件（澄清一）.pdf", ReplacesID: v1.ID}, v2body)
	if v2.Version != 2 || v2.ReleasedAt != nil || *v2.ReplacesID != v1.ID {
		t.Fatalf("clarification: %+v", v2)
	}
	if list, _ := e.Svc.Documents(ctx, b, lot); len(list) != 1 || list[0].Superseded {
		t.Fatalf("clarification visible before its amendment: %+v", list)
	}
	if _, err := e.download(b, v2.ID); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("unreleased clarification downloaded: %v", err)
	}
	if ld, err := e.Svc.ManagedDocuments(ctx, e.Agent, lot); err != nil || len(ld.Documents) != 2 || ld.Documents[1].Released || ld.NextVersion != 2 {
		t.Fatalf("agent's page: %+v %v", ld, err)
	}

	e.publish(p, trading.AnnouncementAmendment, tender.ID, nil) // 20 days before the deadline: no E4 extension needed
	list, err := e.Svc.Documents(ctx, b, lot)
	if err != nil || len(list) != 2 || !list[0].Superseded || list[0].ID != v1.ID || list[1].Superseded || !list[1].Released || list[1].Version != 2 {
		t.Fatalf("after the amendment: %+v %v", list, err)
	}
	if got, err := e.download(b, v1.ID); err != nil || sum(got) != sum(v1body) {
		t.Fatalf("old version no longer downloadable: %v", err)
	}
	if got, err := e.download(b, v2.ID); err != nil || sum(got) != v2.SHA256 {
		t.Fatalf("new version: %v", err)
	}
	notes, _ := e.Svc.Notifications(ctx, b)
	if len(notes) == 0 {
		t.Fatal("registered bidder not told of the new version")
	}
	// The next upload is part of version 3.
	v3 := e.upload(e.Agent, lot, UploadInput{Kind: DocDrawing, Filename: "图纸.pdf"}, pdfBytes(2000))
	if v3.Version != 3 {
		t.Fatalf("next clarification version = %d", v3.Version)
	}
	other := e.project("engineering", false)
	if _, err := e.Svc.Upload(ctx, e.Agent, lot, UploadInput{Kind: DocTender, Filename: "x.pdf", ReplacesID: e.upload(e.Agent,
		other.Lots[0].ID, UploadInput{Kind: DocTender, Filename: "y.pdf"}, pdfBytes(100)).ID}, bytes.NewReader(pdfBytes(100)), -1); trading.AsError(err).Field != "replaces_id" {
		t.Fatalf("replaced another lot's document: %v", err)
	}
	e.verifyAudit()
}

func TestUploadPathTraversalNameIsHarmless(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	p := e.project("engineering", false)
	lot := p.Lots[0].ID
	// Without an allowed extension the name is refused outright…
	_, err := e.Svc.Upload(context.Background(), e.Agent, lot, UploadInput{Kind: DocTender, Filename: "../../etc/passwd"},
		strings.NewReader("root:x:0:0:root:/root:/bin/bash\n"), -1)
	if !errors.Is(err, ErrFileType) || trading.AsError(err).Status() != http.StatusBadRequest || trading.AsError(err).Field != "file" {
		t.Fatalf("../../etc/passwd: %v", err)
	}
	e.nothingStored("../../etc/passwd")
	// …and with one it is only a display name: the key is generated.
	doc := e.upload(e.Agent, lot, UploadInput{Kind: DocTender, Filename: "../../etc/passwd.pdf"}, pdfBytes(100))
	if doc.Filename != "passwd.pdf" || !regexp.MustCompile(fmt.Sprintf(`^lots/%d/[0-9a-f]{32}$`, lot)).MatchString(doc.ObjectKey) {
		t.Fatalf("stored as %q under %q", doc.Filename, doc.ObjectKey)
	}
	if keys := e.objects(); len(keys) != 1 || keys[0] != doc.ObjectKey {
		t.Fatalf("bucket: %v", keys)
	}
}

// failReader fails the test if anything reads it.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("the body was read")
	return 0, io.ErrUnexpectedEOF
}

func TestUploadRefusesWrongTypeAndDeclaredOversizeBeforeStorage(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	lot := e.project("engineering", false).Lots[0].ID
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 4096)...)
	for _, name := range []string{"招标文件.pdf", "图纸.dwg", "报价.xlsx", "setup.exe", "run.sh", "page.html"} {
		_, err := e.Svc.Upload(ctx, e.Agent, lot, UploadInput{Kind: DocTender, Filename: name}, bytes.NewReader(exe), int64(len(exe)))
		if !errors.Is(err, ErrFileType) || trading.AsError(err).Status() != http.StatusBadRequest || trading.AsError(err).Field != "file" {
			t.Fatalf("an executable named %s: %v", name, err)
		}
	}
	if _, err := e.Svc.Upload(ctx, e.Agent, lot, UploadInput{Kind: DocTender, Filename: "a.pdf"}, strings.NewReader(""), 0); trading.AsError(err).Field != "file" {
		t.Fatalf("empty file: %v", err)
	}
	e.nothingStored("wrong types")

	_, err := e.Svc.Upload(ctx, e.Agent, lot, UploadInput{Kind: DocTender, Filename: "大文件.pdf"}, failReader{t}, e.Svc.MaxUpload+1)
	if de := trading.AsError(err); de.Status() != http.StatusRequestEntityTooLarge || de.Code != "too_large" || de.Field != "file" {
		t.Fatalf("declared oversize: %v", err)
	}
	// Who may not upload is refused before the body is read, too.
	b := e.bidder("福建甲建设")
	if _, err := e.Svc.Upload(ctx, b, lot, UploadInput{Kind: DocTender, Filename: "a.pdf"}, failReader{t}, -1); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("bidder uploading to a draft: %v", err)
	}
	if _, err := e.Svc.Upload(ctx, b, lot, UploadInput{Kind: DocMaterial, Filename: "a.pdf"}, failReader{t}, -1); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("material for a draft: %v", err)
	}
	e.nothingStored("refusals")
}

func TestUploadUndeclaredOversizeStreamLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	e.Svc.MaxUpload = 1 << 20
	lot := e.project("engineering", false).Lots[0].ID
	src := &countingReader{r: bytes.NewReader(pdfBytes(3 << 20))}
	_, err := e.Svc.Upload(context.Background(), e.Agent, lot, UploadInput{Kind: DocTender, Filename: "大文件.pdf"}, src, -1)
	if de := trading.AsError(err); de.Status() != http.StatusRequestEntityTooLarge || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("undeclared oversize stream: %v", err)
	}
	if src.n > 1<<20+1 {
		t.Fatalf("read %d bytes of a stream refused at 1 MiB", src.n)
	}
	e.nothingStored("oversize stream")
	// Exactly the limit is fine.
	e.upload(e.Agent, lot, UploadInput{Kind: DocTender, Filename: "刚好.pdf"}, pdfBytes(1<<20))
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// brokenReader yields n bytes of a PDF, then fails like a dropped connection.
type brokenReader struct {
	n, off int
}

func (r *brokenReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, errors.New("connection reset by peer")
	}
	k := min(len(p), r.n-r.off)
	for i := range p[:k] {
		p[i] = byte('a' + (r.off+i)%26)
	}
	if r.off == 0 {
		copy(p[:k], "%PDF-1.7\n")
	}
	r.off += k
	return k, nil
}

func TestUploadInterruptedLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	lot := e.project("engineering", false).Lots[0].ID
	// Within the first part, and after a whole 16 MiB part has reached
	// MinIO (the multipart upload must be aborted).
	for _, n := range []int{600 << 10, 17 << 20} {
		_, err := e.Svc.Upload(context.Background(), e.Agent, lot, UploadInput{Kind: DocTender, Filename: "招标文件.pdf"}, &brokenReader{n: n}, -1)
		if !errors.Is(err, ErrInterrupted) || trading.AsError(err).Status() != http.StatusBadRequest {
			t.Fatalf("interrupted after %d bytes: %v", n, err)
		}
		e.nothingStored(fmt.Sprintf("interrupted after %d bytes", n))
	}
}

func TestDownloadProcurementNeedsRegistration(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("procurement", false)
	lot := p.Lots[0].ID
	doc := e.upload(e.Agent, lot, UploadInput{Kind: DocTender, Filename: "采购文件.docx"}, append([]byte("PK\x03\x04"), make([]byte, 1000)...))
	if doc.ContentType != "application/vnd.openxmlformats-officedocument.wordprocessingml.document" {
		t.Fatalf("content type %s", doc.ContentType)
	}
	e.publish(p, trading.AnnouncementProcurement, 0, nil)
	e.Clock.Set(time.Date(2026, 3, 3, 10, 0, 0, 0, trading.Shanghai))
	b := e.bidder("福建乙贸易")
	if _, err := e.download(b, doc.ID); !errors.Is(err, trading.ErrForbidden) || trading.AsError(err).Status() != http.StatusForbidden {
		t.Fatalf("unregistered supplier downloaded: %v", err)
	}
	if n := e.count(&Download{}); n != 0 {
		t.Fatalf("refused download recorded: %d", n)
	}
	if _, err := e.Svc.Register(ctx, b, lot, RegisterInput{ContactName: "王五", ContactPhone: "0591-87654321", Declarations: allDeclarations()}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.download(b, doc.ID); err != nil || sum(got) != doc.SHA256 {
		t.Fatalf("registered supplier: %v", err)
	}
	// The agent and supervisors may always read them; their downloads are recorded too.
	for _, a := range []trading.Actor{e.Agent, e.Sup} {
		if _, err := e.download(a, doc.ID); err != nil {
			t.Fatalf("%s: %v", a.Username, err)
		}
	}
	e.verifyAudit()
}

func TestDocumentMaterialsSeenByTheirBidderOnly(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	lot := e.project("land", true).Lots[0].ID
	a, b := e.bidder("福建甲置业"), e.bidder("福建乙置业")
	if _, err := e.Svc.Register(ctx, a, lot, RegisterInput{ContactName: "王五", ContactPhone: "13900000000"}); err != nil {
		t.Fatal(err)
	}
	m := e.upload(a, lot, UploadInput{Kind: DocMaterial, Filename: "营业执照.png"}, append([]byte("\x89PNG\r\n\x1A\n"), make([]byte, 100)...))
	if m.RegistrationID == nil || m.Version != 1 {
		t.Fatalf("material: %+v", m)
	}
	if list, _ := e.Svc.Documents(ctx, a, lot); len(list) != 1 {
		t.Fatalf("bidder's own materials: %+v", list)
	}
	if list, _ := e.Svc.Documents(ctx, b, lot); len(list) != 0 {
		t.Fatalf("another bidder sees materials: %+v", list)
	}
	if _, err := e.download(b, m.ID); !errors.Is(err, trading.ErrNotFound) {
		t.Fatalf("another bidder downloaded materials: %v", err)
	}
	if _, err := e.download(a, m.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.Svc.Documents(ctx, e.Agent, lot); len(list) != 1 {
		t.Fatalf("agent: %+v", list)
	}
	if _, err := e.Svc.Upload(ctx, e.Agent, lot, UploadInput{Kind: DocMaterial, Filename: "x.png"}, failReader{t}, -1); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("agent uploaded materials: %v", err)
	}
	if _, err := e.Svc.Upload(ctx, b, lot, UploadInput{Kind: DocMaterial, Filename: "x.png"}, failReader{t}, -1); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("material without an application: %v", err)
	}
	if _, err := e.Svc.Upload(ctx, a, lot, UploadInput{Kind: DocTender, Filename: "x.pdf"}, failReader{t}, -1); !errors.Is(err, trading.ErrForbidden) {
		t.Fatalf("bidder uploaded tender documents: %v", err)
	}
}

// The HTTP side: a streamed multipart upload through the API, the JSON
// list, the download's headers, the agent's page and the 413 before reading.
func TestUploadHTTPMultipartAndDownloadHeaders(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", false)
	lot := p.Lots[0].ID
	pages, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	web := &trading.Web{Svc: e.TS, Pages: pages, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := echo.New()
	srv.HTTPErrorHandler = web.ErrorHandler
	srv.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		withSession := web.LoadSession(next)
		return func(c echo.Context) error {
			if trading.IsAPI(c) {
				return next(c)
			}
			return withSession(c)
		}
	})
	h := &DocumentsHTTP{Svc: e.Svc, Web: web}
	h.Routes(srv, srv.Group("/api/v1", web.LoadBearer))
	token, _, err := e.TS.Login(ctx, trading.SessionAPI, "daili", "pass12345", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	cookie, _, err := e.TS.Login(ctx, trading.SessionWeb, "daili", "pass12345", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}

	file := pdfBytes(200 << 10)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("kind", "tender")
	mw.WriteField("replaces_id", "0")
	fw, _ := mw.CreateFormFile("file", "招标文件 v2.pdf")
	fw.Write(file)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/api/v1/lots/%d/documents", lot), &buf)
	req.Header.Set(echo.HeaderContentType, mw.FormDataContentType())
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	var doc Document
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.SHA256 != sum(file) || doc.Filename != "招标文件 v2.pdf" {
		t.Fatalf("upload answer: %s %v", rec.Body, err)
	}
	if strings.Contains(rec.Body.String(), "lots/") {
		t.Fatalf("object key leaked: %s", rec.Body)
	}

	req = httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/v1/documents/%d/content", doc.ID), nil)
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	hdr := rec.Header()
	if rec.Code != http.StatusOK || sum(rec.Body.Bytes()) != doc.SHA256 || hdr.Get(echo.HeaderContentLength) != fmt.Sprint(len(file)) ||
		hdr.Get(echo.HeaderContentType) != "application/pdf" || hdr.Get("X-Content-Type-Options") != "nosniff" ||
		hdr.Get(echo.HeaderContentDisposition) != ContentDisposition("招标文件 v2.pdf") {
		t.Fatalf("download: %d %v", rec.Code, hdr)
	}

	// Anonymous visitors see nothing of a draft, in the same words as a missing lot.
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/v1/lots/%d/documents", lot), nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("anonymous list of a draft: %d %s", rec.Code, rec.Body)
	}

	// The agent's page renders the list and the streaming form.
	req = httptest.NewRequest(http.MethodGet, fmt.Sprintf("/agent/lots/%d/documents", lot), nil)
	req.AddCookie(&http.Cookie{Name: trading.SessionCookie, Value: cookie})
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	page := rec.Body.String()
	for _, want := range []string{`enctype="multipart/form-data"`, `data-csrf=`, `name="file"`, `/documents/` + fmt.Sprint(doc.ID), "第1版", "200.0 KB", doc.SHA256[:12], "upload."} {
		if !strings.Contains(page, want) {
			t.Fatalf("page (%d) lacks %q:\n%s", rec.Code, want, page)
		}
	}

	// A form post over the limit is refused on its Content-Length, before reading.
	e.Svc.MaxUpload = 1 << 20
	req = httptest.NewRequest(http.MethodPost, fmt.Sprintf("/agent/lots/%d/documents", lot), failReader{t})
	req.ContentLength = 3 << 20
	req.Header.Set(echo.HeaderContentType, mw.FormDataContentType())
	req.Header.Set(echo.HeaderAccept, "application/json")
	req.AddCookie(&http.Cookie{Name: trading.SessionCookie, Value: cookie})
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"too_large"`) {
		t.Fatalf("oversize form: %d %s", rec.Code, rec.Body)
	}
	if n := e.count(&Document{}); n != 1 {
		t.Fatalf("%d documents", n)
	}
}

// A draft project with uploaded documents can still be edited; its lots
// keep their ids, and a lot with documents cannot be removed.
func TestEditDraftProjectWithDocuments(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	ctx := context.Background()
	p := e.project("engineering", false)
	pdf := append([]byte("%PDF-1.7\n"), make([]byte, 1000)...)
	if _, err := e.Svc.Upload(ctx, e.Agent, p.Lots[0].ID, UploadInput{Kind: DocTender, Filename: "招标文件.pdf"}, bytes.NewReader(pdf), int64(len(pdf))); err != nil {
		t.Fatal(err)
	}
	in := trading.ProjectInput{Category: "engineering", Title: "测试工程建设招标项目（修改）", OwnerName: "福州市某局", RegionCode: "350100",
		Lots: []trading.LotInput{lotInput("engineering"), lotInput("engineering")}}
	in.Lots[1].Name = "二标段"
	got, err := e.TS.UpdateProject(ctx, e.Agent, p.Code, in)
	if err != nil || len(got.Lots) != 2 || got.Lots[0].ID != p.Lots[0].ID {
		t.Fatalf("edit: %v %+v", err, got)
	}
	if _, err := e.Svc.Upload(ctx, e.Agent, got.Lots[1].ID, UploadInput{Kind: DocDrawing, Filename: "图纸.pdf"}, bytes.NewReader(pdf), int64(len(pdf))); err != nil {
		t.Fatal(err)
	}
	in.Lots = in.Lots[:1] // the second lot, which has a drawing, would go
	if _, err := e.TS.UpdateProject(ctx, e.Agent, p.Code, in); trading.AsError(err).Status() != 409 {
		t.Fatalf("removing the lot with documents: %v", err)
	}
}

// A download sends exactly the size its record declares: an object whose
// size in the store differs (replaced or restored behind the platform's
// back) is refused before any byte is sent.
func TestDownloadRefusesAnObjectOfAnotherSize(t *testing.T) {
	t.Parallel()
	e := newBidEnv(t)
	p := e.project("engineering", false)
	body := pdfBytes(64 << 10)
	doc := e.upload(e.Agent, p.Lots[0].ID, UploadInput{Kind: DocTender, Filename: "招标文件.pdf"}, body)
	if got, err := e.download(e.Agent, doc.ID); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("download: %d bytes, %v", len(got), err)
	}
	longer := append(append([]byte(nil), body...), "extra"...)
	if _, err := e.Svc.Storage.Client.PutObject(context.Background(), e.Svc.Storage.Bucket, doc.ObjectKey,
		bytes.NewReader(longer), int64(len(longer)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.download(e.Agent, doc.ID); err == nil {
		t.Fatalf("an object of %d bytes for a record of %d was sent (%d bytes)", len(longer), doc.Size, len(got))
	}
}
