package bidding

// 电子投标: submitting a sealed bid (EB1–EB3). The bidder's browser seals
// the price form (开标一览表, part 0) and the bid files (parts 1..n) to the
// bidder's bid key (bidding/sealed, templates/static/sealed.js) and uploads
// each envelope in pieces into one MinIO multipart upload, so a broken
// connection resumes where the store says it stopped (PartStatus). A
// complete part is inspected without any key (EB1: not well-formed →
// refused); finalising stamps the version with the database clock in the
// transaction that decides it (EB2) and signs the receipt (EB3).
//
// Secrecy (K4/K5): nothing here tells anyone but the bidder whether, or how
// many, bids came in. Ids and refs are random; another bidder's bid is "not
// found" like a bid that does not exist; nothing is published live and the
// audit records of a sealed bid stay hidden until the lot's deadline
// (trading.ListAudit).

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// SealedBidStatus is where a version of a sealed bid stands.
type SealedBidStatus string

const (
	BidUploading SealedBidStatus = "uploading" // parts coming in; not a bid until finalised
	BidSubmitted SealedBidStatus = "submitted" // finalised before the deadline, receipt issued
	BidReplaced  SealedBidStatus = "replaced"  // a newer version was finalised (kept, EB2)
	BidWithdrawn SealedBidStatus = "withdrawn" // withdrawn before the deadline (D6 refund)
	BidAbandoned SealedBidStatus = "abandoned" // never finalised: counts as withdrawn (EB2)
)

// Name is the Chinese name of the status.
func (s SealedBidStatus) Name() string {
	return map[SealedBidStatus]string{BidUploading: "上传中（未完成递交）", BidSubmitted: "已递交", BidReplaced: "已被新版本替换",
		BidWithdrawn: "已撤回", BidAbandoned: "未完成递交（视为撤回）"}[s]
}

// SealedBid is one version of a bidder's sealed bid for a lot.
type SealedBid struct {
	ID             int64           `gorm:"column:id;primaryKey;autoIncrement:false" json:"id"`
	Ref            string          `gorm:"column:ref" json:"ref"`
	LotID          int64           `gorm:"column:lot_id" json:"lot_id"`
	BidderID       int64           `gorm:"column:bidder_id" json:"-"`
	RegistrationID int64           `gorm:"column:registration_id" json:"-"`
	KeyID          int64           `gorm:"column:key_id" json:"key_id"`
	Version        int             `gorm:"column:version" json:"version"`
	Status         SealedBidStatus `gorm:"column:status" json:"status"`
	Parts          int             `gorm:"column:parts" json:"parts"`
	StartedAt      time.Time       `gorm:"column:started_at" json:"started_at"`
	FinalizedAt    *time.Time      `gorm:"column:finalized_at" json:"finalized_at,omitempty"`
	EndedAt        *time.Time      `gorm:"column:ended_at" json:"ended_at,omitempty"`
	Receipt        json.RawMessage `gorm:"column:receipt;type:jsonb" json:"receipt,omitempty"`
	IP             string          `gorm:"column:ip" json:"-"`
	Device         string          `gorm:"column:device" json:"-"`
}

func (SealedBid) TableName() string { return "sealed_bids" }

// SealedPart is one envelope of a bid version.
type SealedPart struct {
	BidID       int64      `gorm:"column:bid_id;primaryKey" json:"-"`
	Part        int        `gorm:"column:part;primaryKey" json:"part"`
	Kind        string     `gorm:"column:kind" json:"kind"` // price | file
	ObjectKey   string     `gorm:"column:object_key" json:"-"`
	UploadID    string     `gorm:"column:upload_id" json:"-"`
	Size        *int64     `gorm:"column:size" json:"size,omitempty"`
	SHA256      *string    `gorm:"column:sha256" json:"ciphertext_sha256,omitempty"`
	Commitment  *string    `gorm:"column:commitment" json:"commitment,omitempty"`
	CompletedAt *time.Time `gorm:"column:completed_at" json:"completed_at,omitempty"`
}

func (SealedPart) TableName() string { return "sealed_parts" }

const (
	// PieceSize is the size of every uploaded piece but a part's last:
	// MinIO's multipart parts must be at least 5 MiB but the last.
	PieceSize = 8 << 20
	// MaxBidFiles bounds the bid files of one version.
	MaxBidFiles = 20
	// maxPriceEnvelope bounds the sealed price form.
	maxPriceEnvelope = 64 << 10
)

// Errors of sealed bids.
var (
	ErrBidDeadline = errors.New("sealed bid: the deadline has passed")
	ErrNotSealed   = errors.New("sealed bid: not a well-formed envelope")
)

// deadlinePassed is the EB2 refusal.
func deadlinePassed(deadline time.Time) *trading.Error {
	return trading.RuleBroken("EB2", "deadline", "投标截止时间（%s）已到，不再接收、修改或撤回投标文件；截止时未完成递交的视为撤回（EB2）",
		deadline.In(trading.Shanghai).Format("2006-01-02 15:04:05")).Wrapping(ErrBidDeadline)
}

// sealedRefusal is an EB1 refusal of an envelope, with sealed's reason.
func sealedRefusal(field string, err error) *trading.Error {
	rule, msg := sealed.Explain(err)
	return trading.Invalid(field, "%s（%s）", msg, rule).WithCode("not_sealed").WithRule(rule).Wrapping(fmt.Errorf("%w: %w", ErrNotSealed, err))
}

// bidLot is what a bid needs of its lot: the lot, its project, and the
// registration and current key of the bidder.
type bidLot struct {
	P        *trading.Project
	Lot      *trading.Lot
	RegID    int64
	Deadline time.Time
}

// admitBid is the one check of everything that may touch a bid (start,
// pieces, completion, finalisation, withdrawal): an engineering or
// procurement lot, published, running, whose bids are not on paper, a live
// registration of the bidder, and the database clock before the deadline.
func (s *Service) admitBid(tx *gorm.DB, a trading.Actor, lotID int64) (*bidLot, error) {
	if a.Role != trading.RoleBidder {
		return nil, trading.Forbidden("只有投标人可以递交投标文件")
	}
	p, lot, err := lotLite(tx, lotID)
	if err != nil {
		return nil, err
	}
	if openedAt(p).IsZero() || p.Status == trading.ProjectDraft {
		return nil, trading.NotFound("标段")
	}
	if !isBidTender(p.Category) {
		return nil, trading.Invalid("lot_id", "%s不递交投标文件", p.Category.Name())
	}
	if err := p.CheckRunning(); err != nil {
		return nil, err
	}
	paper, err := isPaperLot(tx, lotID)
	if err != nil {
		return nil, err
	}
	if paper {
		return nil, trading.Conflict("lot_id", "本标段声明为纸质投标，不接收电子投标文件")
	}
	if lot.BidDeadline == nil {
		return nil, trading.Conflict("lot_id", "本标段尚未确定投标截止时间")
	}
	var regID int64
	// Equivalent SQL: SELECT id FROM registrations WHERE lot_id = ? AND bidder_id = ? AND status IN ('active','approved')
	if err := tx.Model(&Registration{}).Where("lot_id = ? AND bidder_id = ? AND status IN ?", lotID, a.AccountID,
		[]RegistrationStatus{StatusActive, StatusApproved}).Select("id").Scan(&regID).Error; err != nil {
		return nil, err
	}
	if regID == 0 {
		return nil, trading.Forbidden("请先" + KindFor(p.Category).Name() + "，再递交投标文件")
	}
	now, err := trading.DBNow(tx)
	if err != nil {
		return nil, err
	}
	if !now.Before(*lot.BidDeadline) {
		return nil, deadlinePassed(*lot.BidDeadline)
	}
	return &bidLot{P: p, Lot: lot, RegID: regID, Deadline: *lot.BidDeadline}, nil
}

// isPaperLot tells whether the agent declared the lot's bids on paper.
func isPaperLot(tx *gorm.DB, lotID int64) (bool, error) {
	var n int64
	err := tx.Table("paper_bid_lots").Where("lot_id = ?", lotID).Count(&n).Error
	return n > 0, err
}

// StartBidInput starts a version: how many bid files, and the browser's
// device fingerprint (K3).
type StartBidInput struct {
	Files  int    `json:"files"`
	Device string `json:"device"`
}

// BidUpload is what the browser needs to seal and upload a version.
type BidUpload struct {
	BidID          int64        `json:"bid_id"`
	Ref            string       `json:"ref"` // the envelope's bid reference (FORMAT.md)
	LotID          int64        `json:"lot_id"`
	Version        int          `json:"version"`
	PublicKey      string       `json:"public_key"` // seal to this (base64 SPKI)
	KeyFingerprint string       `json:"key_fingerprint"`
	PieceSize      int          `json:"piece_size"`
	MaxFileSize    int64        `json:"max_file_size"`
	Deadline       time.Time    `json:"deadline"`
	Parts          []SealedPart `json:"parts"`
}

// randomID is a random positive id below 2^53 (a browser's JSON numbers
// hold it exactly) and a random 128-bit token, from crypto/rand.
func randomID() (int64, string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, "", err
	}
	id := int64(binary.BigEndian.Uint64(b[:8]) >> 11)
	if id == 0 {
		id = 1
	}
	return id, hex.EncodeToString(b[:]), nil
}

// StartBid opens a new version of the bidder's bid for a lot: a replacement
// if one is submitted (kept until the new one is finalised), and an upload
// in progress is abandoned for it. One multipart upload per part is opened
// in the store.
func (s *Service) StartBid(ctx context.Context, a trading.Actor, lotID int64, in StartBidInput, ip string) (*BidUpload, error) {
	if in.Files < 1 || in.Files > MaxBidFiles {
		return nil, trading.Invalid("files", "投标文件数量应为1至%d个", MaxBidFiles)
	}
	if len(in.Device) > 128 {
		in.Device = in.Device[:128]
	}
	// Who may bid is checked before the store is asked for anything.
	if _, err := s.admitBid(s.DB.WithContext(ctx), a, lotID); err != nil {
		return nil, err
	}
	id, tok, err := randomID()
	if err != nil {
		return nil, err
	}
	ref := fmt.Sprintf("lot-%d/%s", lotID, tok)
	core := minio.Core{Client: s.Storage.Client}
	parts := make([]SealedPart, in.Files+1)
	abort := func() {
		for _, p := range parts {
			if p.UploadID != "" {
				s.abortUpload(ctx, p.ObjectKey, p.UploadID)
			}
		}
	}
	for i := range parts {
		kind := "file"
		if i == 0 {
			kind = "price"
		}
		key := fmt.Sprintf("bids/%d/%s/%d", lotID, tok, i)
		up, err := core.NewMultipartUpload(ctx, s.Storage.Bucket, key, minio.PutObjectOptions{ContentType: "application/octet-stream"})
		if err != nil {
			abort()
			return nil, fmt.Errorf("open the upload of part %d: %w", i, err)
		}
		parts[i] = SealedPart{BidID: id, Part: i, Kind: kind, ObjectKey: key, UploadID: up}
	}
	var out *BidUpload
	var stale []SealedPart
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		stale = nil
		bl, err := s.admitBid(tx, a, lotID)
		if err != nil {
			return err
		}
		key, err := currentKey(tx, a.AccountID)
		if errors.Is(err, ErrNoBidKey) {
			return trading.Conflict("key", "请先在“投标密钥”页面生成投标密钥，再递交投标文件")
		}
		if err != nil {
			return err
		}
		// The bidder's versions of this lot, locked: two tabs starting at
		// once get consecutive versions, or one waits.
		var mine []SealedBid
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID).
			Order("version").Find(&mine).Error; err != nil {
			return err
		}
		now := s.Clock.Now()
		version := 1
		for _, b := range mine {
			version = b.Version + 1
			if b.Status == BidUploading {
				if err := tx.Model(&SealedBid{}).Where("id = ?", b.ID).Updates(map[string]any{"status": BidAbandoned, "ended_at": now}).Error; err != nil {
					return err
				}
				var ps []SealedPart
				if err := tx.Where("bid_id = ?", b.ID).Find(&ps).Error; err != nil {
					return err
				}
				stale = append(stale, ps...)
			}
		}
		bid := &SealedBid{ID: id, Ref: ref, LotID: lotID, BidderID: a.AccountID, RegistrationID: bl.RegID, KeyID: key.ID, Version: version,
			Status: BidUploading, Parts: len(parts), StartedAt: now, IP: a.IP, Device: in.Device}
		if ip != "" {
			bid.IP = ip
		}
		if err := tx.Create(bid).Error; err != nil {
			return err
		}
		if err := tx.Create(&parts).Error; err != nil {
			return err
		}
		out = &BidUpload{BidID: id, Ref: ref, LotID: lotID, Version: version, PublicKey: key.PublicKey, KeyFingerprint: key.Fingerprint,
			PieceSize: PieceSize, MaxFileSize: s.MaxUpload, Deadline: bl.Deadline, Parts: parts}
		return trading.Audit(tx, now, a, "sealed_bid.start", "sealed_bid", sealedAuditID(lotID, ref),
			fmt.Sprintf("开始递交投标文件第%d版：%d个投标文件，密钥 %s", version, in.Files, key.Fingerprint))
	})
	if err != nil {
		abort()
		return nil, err
	}
	for _, p := range stale {
		s.abortUpload(ctx, p.ObjectKey, p.UploadID)
		if p.CompletedAt != nil {
			s.removeObject(ctx, p.ObjectKey, true)
		}
	}
	return out, nil
}

// sealedAuditID is the audit object id of a sealed bid: its lot first, so
// trading.ListAudit can keep it hidden until the lot's deadline (K4/K5).
func sealedAuditID(lotID int64, ref string) string { return fmt.Sprintf("%d/%s", lotID, ref) }

func (s *Service) abortUpload(ctx context.Context, key, uploadID string) {
	if uploadID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := minio.Core{Client: s.Storage.Client}.AbortMultipartUpload(ctx, s.Storage.Bucket, key, uploadID)
	if err != nil && s.Log != nil {
		s.Log.Debug("abort sealed part upload", "key", key, "err", err)
	}
}

// ownBid loads a bid version of the bidder, locked; another bidder's is
// "not found" exactly like one that does not exist (K4/K5).
func ownBid(tx *gorm.DB, a trading.Actor, bidID int64) (*SealedBid, error) {
	var b SealedBid
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ? AND bidder_id = ?", bidID, a.AccountID).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, trading.NotFound("投标文件")
	}
	return &b, err
}

// uploadingPart checks that a part of one's own version may still take
// pieces: uploading, before the deadline, the part not yet complete.
func (s *Service) uploadingPart(tx *gorm.DB, a trading.Actor, bidID int64, part int) (*SealedBid, *SealedPart, error) {
	b, err := ownBid(tx, a, bidID)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.admitBid(tx, a, b.LotID); err != nil {
		return nil, nil, err
	}
	if b.Status != BidUploading {
		return nil, nil, trading.Conflict("bid_id", "该版本投标文件%s，不能再上传", b.Status.Name())
	}
	var p SealedPart
	err = tx.Where("bid_id = ? AND part = ?", bidID, part).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, trading.NotFound("投标文件部分")
	}
	if err != nil {
		return nil, nil, err
	}
	if p.CompletedAt != nil {
		return nil, nil, trading.Conflict("part", "该部分已上传完成")
	}
	return b, &p, nil
}

// maxPieces is how many pieces a part may have: the size limit of a file
// (or of the price form) plus the envelope's framing (21 bytes a MiB).
func (s *Service) maxPieces(part int) int {
	if part == 0 {
		return 1
	}
	limit := s.MaxUpload + s.MaxUpload/1000 + 1<<20
	return int((limit + PieceSize - 1) / PieceSize)
}

// PutPiece stores piece n (1-based) of a part, streamed to the store with
// its declared length. A piece sent again replaces the one stored.
func (s *Service) PutPiece(ctx context.Context, a trading.Actor, bidID int64, part, n int, body io.Reader, size int64) error {
	var p *SealedPart
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		_, p, err = s.uploadingPart(tx, a, bidID, part)
		return err
	})
	if err != nil {
		return err
	}
	if n < 1 || n > s.maxPieces(part) {
		return trading.Invalid("piece", "分片序号应为1至%d（文件超过 %d MB 的上限）", s.maxPieces(part), s.MaxUpload>>20)
	}
	if size <= 0 || size > PieceSize || (part == 0 && size > maxPriceEnvelope) {
		return trading.Invalid("piece", "分片大小应为1至%d字节（须声明 Content-Length）", min(int64(PieceSize), map[bool]int64{true: maxPriceEnvelope, false: PieceSize}[part == 0]))
	}
	_, err = minio.Core{Client: s.Storage.Client}.PutObjectPart(ctx, s.Storage.Bucket, p.ObjectKey, p.UploadID, n, body, size, minio.PutObjectPartOptions{})
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, io.ErrUnexpectedEOF) {
			return interrupted(err)
		}
		var mr minio.ErrorResponse
		if errors.As(err, &mr) && mr.StatusCode < 500 && mr.Code != "NoSuchUpload" {
			return trading.Invalid("piece", "分片未保存：%s", mr.Message)
		}
		if errors.As(err, &mr) && mr.Code == "NoSuchUpload" {
			return trading.Conflict("bid_id", "该版本的上传已结束，请重新递交")
		}
		return interrupted(err)
	}
	return nil
}

// PieceInfo is a piece the store holds.
type PieceInfo struct {
	N    int   `json:"n"`
	Size int64 `json:"size"`
}

// PartStatus tells the bidder's browser which pieces of a part the store
// holds, so an upload broken off resumes from there.
func (s *Service) PartStatus(ctx context.Context, a trading.Actor, bidID int64, part int) ([]PieceInfo, bool, error) {
	var p SealedPart
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := ownBid(tx, a, bidID); err != nil {
			return err
		}
		err := tx.Where("bid_id = ? AND part = ?", bidID, part).Take(&p).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return trading.NotFound("投标文件部分")
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if p.CompletedAt != nil {
		return nil, true, nil
	}
	pieces, err := s.listPieces(ctx, &p)
	return pieces, false, err
}

func (s *Service) listPieces(ctx context.Context, p *SealedPart) ([]PieceInfo, error) {
	core := minio.Core{Client: s.Storage.Client}
	var out []PieceInfo
	marker := 0
	for {
		res, err := core.ListObjectParts(ctx, s.Storage.Bucket, p.ObjectKey, p.UploadID, marker, 1000)
		if err != nil {
			return nil, fmt.Errorf("list pieces of %s: %w", p.ObjectKey, err)
		}
		for _, op := range res.ObjectParts {
			out = append(out, PieceInfo{N: op.PartNumber, Size: op.Size})
		}
		if !res.IsTruncated {
			break
		}
		marker = res.NextPartNumberMarker
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}

// CompletePart joins a part's pieces in the store and inspects the
// envelope without any key, streaming (EB1): magic, header, suite, the
// framing of every chunk; its bid reference, part index and key must be
// this version's. A refused envelope is deleted and the part starts over.
func (s *Service) CompletePart(ctx context.Context, a trading.Actor, bidID int64, part int) (*SealedPart, error) {
	var b *SealedBid
	var p *SealedPart
	var fp string
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if b, p, err = s.uploadingPart(tx, a, bidID, part); err != nil {
			return err
		}
		return tx.Model(&BidKey{}).Where("id = ?", b.KeyID).Select("fingerprint").Scan(&fp).Error
	})
	if err != nil {
		return nil, err
	}
	pieces, err := s.listPieces(ctx, p)
	if err != nil {
		return nil, err
	}
	if len(pieces) == 0 {
		return nil, trading.Invalid("part", "该部分尚未上传任何内容")
	}
	cps := make([]minio.CompletePart, len(pieces))
	for i, pc := range pieces {
		if pc.N != i+1 {
			return nil, trading.Invalid("part", "缺少第%d个分片，请继续上传", i+1)
		}
		if i < len(pieces)-1 && pc.Size != PieceSize {
			return nil, trading.Invalid("part", "第%d个分片大小应为 %d 字节", pc.N, PieceSize)
		}
	}
	res, err := minio.Core{Client: s.Storage.Client}.ListObjectParts(ctx, s.Storage.Bucket, p.ObjectKey, p.UploadID, 0, 10000)
	if err != nil {
		return nil, err
	}
	for i, op := range res.ObjectParts {
		if i < len(cps) {
			cps[i] = minio.CompletePart{PartNumber: op.PartNumber, ETag: op.ETag}
		}
	}
	if _, err := (minio.Core{Client: s.Storage.Client}).CompleteMultipartUpload(ctx, s.Storage.Bucket, p.ObjectKey, p.UploadID, cps, minio.PutObjectOptions{}); err != nil {
		return nil, fmt.Errorf("join the pieces of %s: %w", p.ObjectKey, err)
	}
	info, ierr := s.inspectPart(ctx, p)
	if ierr == nil {
		switch {
		case info.Header.Bid != b.Ref:
			ierr = fmt.Errorf("%w: the envelope is of bid %q", sealed.ErrMalformed, info.Header.Bid)
		case info.Header.Part != part:
			ierr = fmt.Errorf("%w: the envelope is part %d", sealed.ErrMalformed, info.Header.Part)
		case info.Header.KeyFingerprint != fp:
			ierr = fmt.Errorf("%w: the envelope is sealed to another key", sealed.ErrMalformed)
		case part == 0 && info.Size > maxPriceEnvelope:
			ierr = fmt.Errorf("%w: price form too large", sealed.ErrMalformed)
		}
	}
	if ierr != nil {
		// Start the part over: the refused envelope goes, a new upload opens.
		s.removeObject(ctx, p.ObjectKey, true)
		var refused *trading.Error
		if errors.As(ierr, &refused) {
			return nil, refused
		}
		if !isSealedError(ierr) {
			return nil, ierr
		}
		up, err := minio.Core{Client: s.Storage.Client}.NewMultipartUpload(ctx, s.Storage.Bucket, p.ObjectKey, minio.PutObjectOptions{ContentType: "application/octet-stream"})
		if err == nil {
			err = s.DB.WithContext(ctx).Model(&SealedPart{}).Where("bid_id = ? AND part = ? AND completed_at IS NULL", bidID, part).
				Update("upload_id", up).Error
		}
		if err != nil {
			return nil, err
		}
		return nil, sealedRefusal(fmt.Sprintf("parts[%d]", part), ierr)
	}
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		b, p2, err := s.uploadingPart(tx, a, bidID, part)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		p2.Size, p2.SHA256, p2.Commitment, p2.CompletedAt, p2.UploadID = &info.Size, &info.SHA256, &info.Commitment, &now, ""
		// Equivalent SQL: UPDATE sealed_parts SET size = ?, sha256 = ?, commitment = ?, completed_at = ?, upload_id = '' WHERE bid_id = ? AND part = ?
		if err := tx.Model(&SealedPart{}).Where("bid_id = ? AND part = ?", bidID, part).Updates(map[string]any{"size": info.Size,
			"sha256": info.SHA256, "commitment": info.Commitment, "completed_at": now, "upload_id": ""}).Error; err != nil {
			return err
		}
		p = p2
		return trading.Audit(tx, now, a, "sealed_bid.part", "sealed_bid", sealedAuditID(b.LotID, b.Ref),
			fmt.Sprintf("第%d版第%d部分上传完成：%d 字节，密文 SHA-256 %s，承诺值 %s", b.Version, part, info.Size, info.SHA256, info.Commitment))
	})
	if err != nil {
		var de *trading.Error
		if errors.As(err, &de) && de.Err == ErrBidDeadline {
			s.removeObject(ctx, p.ObjectKey, true)
		}
		return nil, err
	}
	return p, nil
}

func isSealedError(err error) bool {
	for _, e := range []error{sealed.ErrNotEnvelope, sealed.ErrUnsupportedSuite, sealed.ErrMalformed, sealed.ErrTruncated, sealed.ErrTampered} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// inspectPart streams a stored part through sealed.Inspect.
func (s *Service) inspectPart(ctx context.Context, p *SealedPart) (*sealed.Info, error) {
	r, _, err := s.Storage.Get(ctx, p.ObjectKey)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p.ObjectKey, err)
	}
	defer r.Close()
	return sealed.Inspect(r)
}

// Finalize makes an uploaded version the bid: every part complete, and the
// database clock, read in this transaction, before the deadline (EB2); an
// earlier submitted version is replaced (and kept). The receipt, signed
// with the platform key, is stored and returned at once (EB3).
func (s *Service) Finalize(ctx context.Context, a trading.Actor, bidID int64) (*SealedBid, error) {
	if s.Receipts == nil {
		return nil, fmt.Errorf("finalise bid: no receipt keyring configured")
	}
	var out *SealedBid
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		b, err := ownBid(tx, a, bidID)
		if err != nil {
			return err
		}
		// The lot row is read FOR SHARE: an amendment moving the deadline
		// waits for this decision, or this sees the new deadline.
		if err := tx.Clauses(clause.Locking{Strength: "SHARE"}).Select("id").Take(&trading.Lot{}, b.LotID).Error; err != nil {
			return err
		}
		if _, err := s.admitBid(tx, a, b.LotID); err != nil {
			return err
		}
		if b.Status != BidUploading {
			return trading.Conflict("bid_id", "该版本投标文件%s", b.Status.Name())
		}
		var parts []SealedPart
		if err := tx.Where("bid_id = ?", b.ID).Order("part").Find(&parts).Error; err != nil {
			return err
		}
		rp := make([]sealed.ReceiptPart, 0, len(parts))
		for _, p := range parts {
			if p.CompletedAt == nil {
				return trading.Invalid(fmt.Sprintf("parts[%d]", p.Part), "第%d部分尚未上传完成", p.Part)
			}
			rp = append(rp, sealed.ReceiptPart{Part: p.Part, CiphertextSHA256: *p.SHA256, Commitment: *p.Commitment, Size: *p.Size})
		}
		var fp string
		if err := tx.Model(&BidKey{}).Where("id = ?", b.KeyID).Select("fingerprint").Scan(&fp).Error; err != nil {
			return err
		}
		// The deciding instant: the database clock, read after the locks,
		// inside the transaction that finalises (EB2).
		at, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		var deadline time.Time
		if err := tx.Model(&trading.Lot{}).Where("id = ?", b.LotID).Select("bid_deadline").Scan(&deadline).Error; err != nil {
			return err
		}
		if !at.Before(deadline) {
			return deadlinePassed(deadline)
		}
		at = at.UTC().Truncate(time.Microsecond)
		_, signed, err := s.Receipts.Sign(sealed.Receipt{BidID: b.ID, KeyFingerprint: fp, LotID: b.LotID, Parts: rp,
			ReceivedAt: sealed.ReceiptTime(at), Version: b.Version})
		if err != nil {
			return err
		}
		if err := tx.Model(&SealedBid{}).Where("lot_id = ? AND bidder_id = ? AND status = ?", b.LotID, a.AccountID, BidSubmitted).
			Updates(map[string]any{"status": BidReplaced, "ended_at": at}).Error; err != nil {
			return err
		}
		b.Status, b.FinalizedAt, b.Receipt = BidSubmitted, &at, signed
		if err := tx.Model(b).Updates(map[string]any{"status": b.Status, "finalized_at": at, "receipt": string(signed)}).Error; err != nil {
			return err
		}
		out = b
		return trading.Audit(tx, at, a, "sealed_bid.submit", "sealed_bid", sealedAuditID(b.LotID, b.Ref),
			fmt.Sprintf("递交投标文件第%d版（%d部分），数据库时钟 %s，回执已签发（EB2、EB3）", b.Version, len(parts), sealed.ReceiptTime(at)))
	})
	return out, err
}

// WithdrawBid withdraws the bidder's bid before the deadline: the
// submitted version and any upload end, and the registration is withdrawn
// through the one withdrawal path, whose hooks refund the deposit (D6).
func (s *Service) WithdrawBid(ctx context.Context, a trading.Actor, lotID int64) error {
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		if _, err := s.admitBid(tx, a, lotID); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&SealedBid{}).Where("lot_id = ? AND bidder_id = ? AND status IN ?", lotID, a.AccountID,
			[]SealedBidStatus{BidSubmitted, BidUploading}).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return trading.NotFound("投标文件")
		}
		return s.withdrawTx(ctx, tx, a, lotID, s.Clock.Now())
	})
}

// endSealedBids ends a bidder's sealed bid for a lot when its registration
// is withdrawn: the submitted version is withdrawn, an upload abandoned.
func endSealedBids(tx *gorm.DB, a trading.Actor, lotID int64, now time.Time) (int64, error) {
	var bids []SealedBid
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("lot_id = ? AND bidder_id = ? AND status IN ?", lotID, a.AccountID,
		[]SealedBidStatus{BidSubmitted, BidUploading}).Find(&bids).Error; err != nil {
		return 0, err
	}
	for _, b := range bids {
		st := BidWithdrawn
		if b.Status == BidUploading {
			st = BidAbandoned
		}
		if err := tx.Model(&SealedBid{}).Where("id = ?", b.ID).Updates(map[string]any{"status": st, "ended_at": now}).Error; err != nil {
			return 0, err
		}
		if err := trading.Audit(tx, now, a, "sealed_bid.withdraw", "sealed_bid", sealedAuditID(lotID, b.Ref),
			fmt.Sprintf("撤回投标文件第%d版（D6）", b.Version)); err != nil {
			return 0, err
		}
	}
	return int64(len(bids)), nil
}

// MyBid is the bidder's own bid for a lot as its page shows it.
type MyBid struct {
	Current  *SealedBid   `json:"current,omitempty"`  // the submitted version
	Upload   *SealedBid   `json:"upload,omitempty"`   // a version being uploaded
	Versions []SealedBid  `json:"versions"`           // every version, newest first
	Parts    []SealedPart `json:"parts,omitempty"`    // the upload's parts
	Key      *BidKey      `json:"key,omitempty"`      // the bidder's current key
	Paper    bool         `json:"paper"`              // the lot's bids are on paper
	Deadline *time.Time   `json:"deadline,omitempty"` // the bid deadline
}

// MyBidFor is the bidder's own view of its bid for a lot; nobody else's
// bid is read (K4/K5).
func (s *Service) MyBidFor(ctx context.Context, a trading.Actor, lotID int64) (*MyBid, error) {
	db := s.DB.WithContext(ctx)
	out := &MyBid{Versions: []SealedBid{}}
	var err error
	if out.Paper, err = isPaperLot(db, lotID); err != nil {
		return nil, err
	}
	if k, err := currentKey(db, a.AccountID); err == nil {
		out.Key = k
	} else if !errors.Is(err, ErrNoBidKey) {
		return nil, err
	}
	if err := db.Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID).Order("version DESC").Find(&out.Versions).Error; err != nil {
		return nil, err
	}
	for i := range out.Versions {
		v := &out.Versions[i]
		switch v.Status {
		case BidSubmitted:
			out.Current = v
		case BidUploading:
			out.Upload = v
			if err := db.Where("bid_id = ?", v.ID).Order("part").Find(&out.Parts).Error; err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Receipt is the signed receipt of one of the bidder's versions.
func (s *Service) Receipt(ctx context.Context, a trading.Actor, bidID int64) ([]byte, error) {
	var b SealedBid
	err := s.DB.WithContext(ctx).Where("id = ? AND bidder_id = ?", bidID, a.AccountID).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && b.Receipt == nil) {
		return nil, trading.NotFound("回执")
	}
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b.Receipt, "", "  "); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DeclarePaper declares a lot's bids handed in on paper (the agent, before
// the deadline): only such a lot keeps the manual opening form.
func (s *Service) DeclarePaper(ctx context.Context, a trading.Actor, lotID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if n := len([]rune(reason)); n < 2 || n > 200 {
		return trading.Invalid("reason", "请写明纸质投标的理由（2至200字）")
	}
	now := s.Clock.Now()
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, err := lotLite(tx, lotID)
		if err != nil {
			return err
		}
		if a.Role != trading.RoleAgent || p.AgentID != a.AccountID {
			return trading.Forbidden("只有本项目的代理机构可以声明纸质投标")
		}
		if !isBidTender(p.Category) {
			return trading.Invalid("lot_id", "%s没有投标文件", p.Category.Name())
		}
		if lot.BidDeadline != nil && !now.Before(*lot.BidDeadline) {
			return deadlinePassed(*lot.BidDeadline)
		}
		// Checking for bids would tell the agent whether any came in
		// (K4/K5): a declaration after bids were sealed is refused alike
		// for every lot once documents are out.
		if !openedAt(p).IsZero() {
			return trading.Conflict("lot_id", "招标公告发布后不能再改为纸质投标（已可能有投标人递交了电子投标文件）")
		}
		if err := tx.Exec(`INSERT INTO paper_bid_lots (lot_id, declared_by, declared_at, reason) VALUES (?, ?, ?, ?)
			ON CONFLICT (lot_id) DO NOTHING`, lotID, a.AccountID, now, reason).Error; err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "lot.paper_bids", "lot", fmt.Sprint(lotID), "声明纸质投标："+reason)
	})
}

// OpeningBids are the bids that go to the opening of a lot: each bidder's
// submitted version. Uploads never finalised count as withdrawn (EB2) and
// are not among them. Read only once the deadline has passed (the hall).
func (s *Service) OpeningBids(ctx context.Context, lotID int64) ([]SealedBid, error) {
	var out []SealedBid
	// Equivalent SQL: SELECT * FROM sealed_bids WHERE lot_id = ? AND status = 'submitted' ORDER BY finalized_at, id
	err := s.DB.WithContext(ctx).Where("lot_id = ? AND status = ?", lotID, BidSubmitted).Order("finalized_at, id").Find(&out).Error
	return out, err
}
