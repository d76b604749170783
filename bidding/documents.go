package bidding

// Tender documents online (网上下载标书): the agent uploads a lot's
// documents to MinIO, streamed and hashed on the way; they are released with
// the opening announcement, a clarification's new version with its amendment;
// bidders download them through the platform, which records every download.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// Errors of documents.
var (
	ErrFileType    = errors.New("file type not allowed")
	ErrTooLarge    = errors.New("file too large")
	ErrInterrupted = errors.New("upload interrupted")
)

// DocumentView is a document as listed: whether it is out and whether a
// later released document replaces it.
type DocumentView struct {
	Document
	Released   bool `json:"released"`
	Superseded bool `json:"superseded"`
}

// Status is the document's state in Chinese.
func (d DocumentView) Status() string {
	switch {
	case d.Kind == DocMaterial:
		return "申请材料"
	case d.Superseded:
		return "已被替代"
	case d.Released:
		return "已发布"
	}
	return "待发布（随招标公告或澄清/变更公告发布）"
}

// SizeText is the size in B, KB or MB with one decimal.
func (d DocumentView) SizeText() string {
	switch {
	case d.Size < 1<<10:
		return fmt.Sprintf("%d B", d.Size)
	case d.Size < 1<<20:
		t := d.Size * 10 >> 10
		return fmt.Sprintf("%d.%d KB", t/10, t%10)
	}
	t := d.Size * 10 >> 20
	return fmt.Sprintf("%d.%d MB", t/10, t%10)
}

// ShortSHA is the first 12 hex digits of the SHA-256.
func (d DocumentView) ShortSHA() string {
	if len(d.SHA256) < 12 {
		return d.SHA256
	}
	return d.SHA256[:12]
}

// canSeeDocument is the visibility rule of one document: the project's
// agent and supervisors see all; an application's materials are also
// seen by their bidder; anyone else sees released documents of a
// published project.
func canSeeDocument(a trading.Actor, p *trading.Project, d *Document, ownRegs map[int64]bool) bool {
	switch {
	case trading.CanSeeSecrets(a, p):
		return true
	case d.Kind == DocMaterial:
		return d.RegistrationID != nil && ownRegs[*d.RegistrationID]
	}
	return p.Status != trading.ProjectDraft && d.ReleasedAt != nil
}

// ownRegistrations are the bidder's registration ids for the lot.
func ownRegistrations(tx *gorm.DB, a trading.Actor, lotID int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if a.Role != trading.RoleBidder || a.AccountID == 0 {
		return out, nil
	}
	var ids []int64
	if err := tx.Model(&Registration{}).Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID).Pluck("id", &ids).Error; err != nil {
		return nil, err
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// Documents lists the documents of a lot the actor may see, by version:
// the project's agent and supervisors see every one with its state; anyone
// else the released documents of a published project (a draft does not
// exist for them), and a bidder its own application materials.
func (s *Service) Documents(ctx context.Context, a trading.Actor, lotID int64) ([]DocumentView, error) {
	db := s.DB.WithContext(ctx)
	p, _, err := lotOf(db, lotID)
	if err != nil {
		return nil, err
	}
	return s.documents(db, a, p, lotID)
}

func (s *Service) documents(db *gorm.DB, a trading.Actor, p *trading.Project, lotID int64) ([]DocumentView, error) {
	if !trading.CanSeeSecrets(a, p) && p.Status == trading.ProjectDraft {
		return nil, trading.NotFound(trading.AnyLot)
	}
	own, err := ownRegistrations(db, a, lotID)
	if err != nil {
		return nil, err
	}
	var docs []Document
	if err := db.Where("lot_id = ?", lotID).Order("version, created_at, filename, id").Find(&docs).Error; err != nil {
		return nil, err
	}
	// A document is superseded once its replacement is out: released, or
	// a material (materials are never released, their bidder replaces them).
	superseded := map[int64]bool{}
	for _, d := range docs {
		if d.ReplacesID != nil && (d.ReleasedAt != nil || d.Kind == DocMaterial) {
			superseded[*d.ReplacesID] = true
		}
	}
	out := []DocumentView{}
	for _, d := range docs {
		if canSeeDocument(a, p, &d, own) {
			out = append(out, DocumentView{Document: d, Released: d.ReleasedAt != nil, Superseded: superseded[d.ID]})
		}
	}
	return out, nil
}

// LotDocuments is a lot with all its documents, for its agent's page.
type LotDocuments struct {
	Project   *trading.Project
	Lot       *trading.Lot
	Documents []DocumentView
	// NextVersion is the version the next upload gets.
	NextVersion int
}

// ManagedDocuments is the agent's (or a supervisor's) view of a lot's
// documents; anyone else is told the lot does not exist.
func (s *Service) ManagedDocuments(ctx context.Context, a trading.Actor, lotID int64) (*LotDocuments, error) {
	db := s.DB.WithContext(ctx)
	p, lot, err := lotOf(db, lotID)
	if err != nil {
		return nil, err
	}
	if !trading.CanSeeSecrets(a, p) {
		return nil, trading.NotFound(trading.AnyLot)
	}
	docs, err := s.documents(db, a, p, lotID)
	if err != nil {
		return nil, err
	}
	out := &LotDocuments{Project: p, Lot: lot, Documents: docs, NextVersion: 1}
	if p.Status != trading.ProjectDraft {
		for _, d := range docs {
			if d.Released && d.Kind != DocMaterial {
				out.NextVersion = max(out.NextVersion, d.Version+1)
			}
		}
		if out.NextVersion == 1 {
			out.NextVersion = 2 // documents added after the announcement go out as a clarification
		}
	}
	return out, nil
}

// Open starts a download: in one transaction it checks that the actor may
// see the document and download the lot's documents now (registering an
// engineering bidder on first download, K5), records the download (who,
// which document and so which version, when, from where) and audits it;
// then it opens the object. Superseded versions stay downloadable.
func (s *Service) Open(ctx context.Context, a trading.Actor, docID int64, ip string) (*Document, io.ReadCloser, error) {
	if a.AccountID == 0 {
		return nil, nil, trading.Unauthorized("请先登录后下载文件")
	}
	now := s.Clock.Now()
	var doc Document
	var fetch *objectFetch
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if err := trading.First(tx, &doc, "文件", docID); err != nil {
			return err
		}
		p, lot, err := lotLite(tx, doc.LotID)
		if err != nil {
			return err
		}
		own, err := ownRegistrations(tx, a, doc.LotID)
		if err != nil {
			return err
		}
		if !canSeeDocument(a, p, &doc, own) {
			return trading.NotFound("文件")
		}
		if doc.Kind != DocMaterial {
			if err := s.downloadAccess(ctx, tx, a, p, doc.LotID); err != nil {
				return err
			}
		}
		// Allowed: the object is asked for while the download is recorded;
		// nothing of it reaches the caller unless the record commits.
		if fetch == nil {
			fetch = s.fetchObject(ctx, doc.ObjectKey)
		}
		if err := tx.Create(&Download{DocumentID: doc.ID, AccountID: a.AccountID, At: now, IP: ip}).Error; err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "document.download", "document", fmt.Sprint(doc.ID),
			fmt.Sprintf("下载%s《%s》第%d版：项目 %s %s%d", doc.Kind.Name(), doc.Filename, doc.Version, p.Code, p.Category.LotNoun(), lot.Seq))
	})
	if err != nil {
		fetch.close()
		return nil, nil, err
	}
	body, size, err := fetch.wait()
	if err != nil {
		return nil, nil, fmt.Errorf("open document %d: %w", doc.ID, err)
	}
	// The response says doc.Size: never send more or less. A store that
	// gives no length is read through a limit (and no socket splice).
	if size < 0 {
		return &doc, struct {
			io.Reader
			io.Closer
		}{io.LimitReader(body, doc.Size), body}, nil
	}
	if size != doc.Size {
		body.Close()
		return nil, nil, fmt.Errorf("open document %d: the store holds %d bytes, the record says %d", doc.ID, size, doc.Size)
	}
	return &doc, body, nil
}

// objectFetch is a GET of an object under way.
type objectFetch struct {
	done chan struct{}
	body io.ReadCloser
	size int64 // -1: the store did not say
	err  error
}

// fetchObject starts opening an object (trading.Storage.Get).
func (s *Service) fetchObject(ctx context.Context, key string) *objectFetch {
	f := &objectFetch{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.body, f.size, f.err = s.Storage.Get(ctx, key)
	}()
	return f
}

func (f *objectFetch) wait() (io.ReadCloser, int64, error) {
	<-f.done
	return f.body, f.size, f.err
}

// close drops a fetch that is not wanted.
func (f *objectFetch) close() {
	if f == nil {
		return
	}
	if body, _, err := f.wait(); err == nil {
		body.Close()
	}
}

// DocumentKind is what a document is.
type DocumentKind string

const (
	DocTender        DocumentKind = "tender"        // 招标文件/采购文件/出让文件
	DocDrawing       DocumentKind = "drawing"       // 图纸
	DocClarification DocumentKind = "clarification" // 澄清/修改
	DocMaterial      DocumentKind = "material"      // 竞买申请材料 (uploaded by the bidder)
)

// Name is the Chinese name of the kind.
func (k DocumentKind) Name() string {
	return map[DocumentKind]string{DocTender: "招标/采购/出让文件", DocDrawing: "图纸", DocClarification: "澄清/修改文件", DocMaterial: "申请材料"}[k]
}

// Document is a file of a lot kept in MinIO under a generated key.
type Document struct {
	ID             int64        `gorm:"column:id;primaryKey" json:"id"`
	LotID          int64        `gorm:"column:lot_id" json:"lot_id"`
	Version        int          `gorm:"column:version" json:"version"`
	Kind           DocumentKind `gorm:"column:kind" json:"kind"`
	RegistrationID *int64       `gorm:"column:registration_id" json:"-"`
	ReplacesID     *int64       `gorm:"column:replaces_id" json:"replaces_id,omitempty"`
	Filename       string       `gorm:"column:filename" json:"filename"`
	ContentType    string       `gorm:"column:content_type" json:"content_type"`
	Size           int64        `gorm:"column:size" json:"size"`
	SHA256         string       `gorm:"column:sha256" json:"sha256"`
	ObjectKey      string       `gorm:"column:object_key" json:"-"`
	UploadedBy     int64        `gorm:"column:uploaded_by" json:"-"`
	CreatedAt      time.Time    `gorm:"column:created_at" json:"created_at"`
	ReleasedAt     *time.Time   `gorm:"column:released_at" json:"released_at,omitempty"`
}

func (Document) TableName() string { return "documents" }

// Download records one download of a document.
type Download struct {
	ID         int64     `gorm:"column:id;primaryKey"`
	DocumentID int64     `gorm:"column:document_id"`
	AccountID  int64     `gorm:"column:account_id"`
	At         time.Time `gorm:"column:at"`
	IP         string    `gorm:"column:ip"`
}

func (Download) TableName() string { return "downloads" }

// ReleaseDocuments (an OnPublish hook of trading) releases documents with a publication: the originals with the
// opening announcement, a clarification's new version with its amendment, whose
// registrants are told a newer version exists.
func (s *Service) ReleaseDocuments(ctx context.Context, tx *gorm.DB, n *trading.Announcement, p *trading.Project) error {
	if !n.Type.IsOpening() && n.Type != trading.AnnouncementAmendment {
		return nil
	}
	lotIDs := make([]int64, len(p.Lots))
	for i, l := range p.Lots {
		lotIDs[i] = l.ID
	}
	// A clarification's files take their version when released: one more
	// than the lot's released set, whatever an upload racing the
	// publication guessed.
	res := tx.Exec(`UPDATE documents d SET released_at = ?,
			version = CASE WHEN ? THEN d.version ELSE 1 + coalesce((SELECT max(x.version) FROM documents x
				WHERE x.lot_id = d.lot_id AND x.released_at IS NOT NULL AND x.kind <> 'material'), 0) END
		WHERE d.lot_id IN ? AND d.released_at IS NULL AND d.kind <> 'material'`, *n.PublishedAt, n.Type.IsOpening(), lotIDs)
	if res.Error != nil || res.RowsAffected == 0 || n.Type.IsOpening() {
		return res.Error
	}
	var bidders []int64
	if err := tx.Model(&Registration{}).Where("lot_id IN ? AND status IN ?", lotIDs,
		[]RegistrationStatus{StatusActive, StatusPending, StatusApproved}).Distinct().Pluck("bidder_id", &bidders).Error; err != nil {
		return err
	}
	return trading.Notify(tx, *n.PublishedAt, trading.Message{Title: "招标文件有新的澄清/修改版本",
		Body: fmt.Sprintf("项目 %s 发布了《%s》，请下载最新版本的文件。", p.Code, n.Title),
		Link: fmt.Sprintf("/notices/%d", n.ID)}, bidders...)
}

// DownloadAccess decides, inside tx, whether the actor may download the
// lot's released documents now, and registers an engineering bidder on
// their first download (K5: obtaining the documents is the registration,
// and no approval may gate it). Agents of the project and supervisors may
// always read them.
func (s *Service) DownloadAccess(ctx context.Context, tx *gorm.DB, a trading.Actor, lotID int64) error {
	p, _, err := lotLite(tx, lotID)
	if err != nil {
		return err
	}
	return s.downloadAccess(ctx, tx, a, p, lotID)
}

// downloadAccess is DownloadAccess with the lot's project already read.
func (s *Service) downloadAccess(ctx context.Context, tx *gorm.DB, a trading.Actor, p *trading.Project, lotID int64) error {
	if trading.CanSeeSecrets(a, p) {
		return nil
	}
	if a.Role != trading.RoleBidder {
		return trading.Forbidden("请以投标人/竞买人账号登录后下载")
	}
	var reg Registration
	found, err := trading.Lookup(tx.Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID), &reg)
	if err != nil {
		return err
	}
	if found && reg.Status.Live() {
		return nil
	}
	if KindFor(p.Category) == KindDownload {
		_, err := s.register(ctx, tx, a, lotID, RegisterInput{}, s.Clock.Now())
		return err
	}
	return trading.Forbidden("请先完成" + KindFor(p.Category).Name() + "后下载文件")
}
