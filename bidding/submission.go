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
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
		return nil, trading.NotFound(trading.AnyLot)
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
		return nil, trading.Conflict("lot_id", "本%s声明为纸质投标，不接收电子投标文件", p.Category.LotNoun())
	}
	if lot.BidDeadline == nil {
		return nil, trading.Conflict("lot_id", "本%s尚未确定投标截止时间", p.Category.LotNoun())
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
