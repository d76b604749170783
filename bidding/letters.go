package bidding

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
)

// LetterKind is a document the platform issues from a lot's result to one
// bidder, who prints and keeps it (result_documents.kind).
type LetterKind string

const (
	LetterAward  LetterKind = "award_notice"      // 中标通知书, to the winner (招标投标法第四十五条)
	LetterResult LetterKind = "result_notice"     // 中标结果通知书, to every other bidder (EB12)
	LetterDeal   LetterKind = "deal_confirmation" // 成交确认书, to the buyer of land or property (L5)
)

// Name is the document's Chinese title.
func (k LetterKind) Name() string {
	return map[LetterKind]string{LetterAward: "中标通知书", LetterResult: "中标结果通知书", LetterDeal: "成交确认书"}[k]
}

// LetterKindFor is the document a bidder gets: the winner's depends on the
// category; everyone else gets the result notice.
func LetterKindFor(c trading.Category, won bool) LetterKind {
	switch {
	case won && (c == "land" || c == "property"):
		return LetterDeal
	case won:
		return LetterAward
	}
	return LetterResult
}

func letterLink(lotID int64, k LetterKind) string {
	return fmt.Sprintf("/lots/%d/letters/%s", lotID, k)
}

// LetterOf is the letter the result gives bidderID once it is published
// ("" before, or for a lot that was not awarded or sold).
func (v *ResultView) LetterOf(bidderID int64) LetterKind {
	r := v.Result
	if r == nil || r.WinnerID == nil || (r.Stage != StageAwarded && r.Stage != StageContracted && r.Stage != StageSold) {
		return ""
	}
	return LetterKindFor(v.Project.Category, *r.WinnerID == bidderID)
}

// Letter is the content of one letter to one bidder.
type Letter struct {
	Kind           LetterKind
	Number         string // 编号: the project's trading code, the lot and the kind; no running count
	Project        *trading.Project
	Lot            *trading.Lot
	BidderID       int64
	BidderName     string
	WinnerName     string
	Amount         decimal.Decimal
	AwardedAt      time.Time
	AnnouncementID int64 // the result announcement
	ContractDue    time.Time
}

// ResultDocument is an issued letter: its PDF in object storage and its
// SHA-256 (also in the audit chain).
type ResultDocument struct {
	ID        int64      `gorm:"column:id;primaryKey" json:"-"`
	LotID     int64      `gorm:"column:lot_id" json:"lot_id"`
	Kind      LetterKind `gorm:"column:kind" json:"kind"`
	BidderID  int64      `gorm:"column:bidder_id" json:"-"`
	ObjectKey string     `gorm:"column:object_key" json:"-"`
	SHA256    string     `gorm:"column:sha256" json:"sha256"`
	Size      int64      `gorm:"column:size" json:"size"`
	CreatedAt time.Time  `gorm:"column:created_at" json:"created_at"`
}

func (ResultDocument) TableName() string { return "result_documents" }

// LetterPrinter renders a letter to PDF (cmd/ggzy: the letter page's HTML
// printed by Chromium).
type LetterPrinter func(ctx context.Context, l *Letter) ([]byte, error)

// LetterFor is the letter of kind for bidderID on lotID, once the lot's
// result is published: the bidder reads their own; the project's agent
// and supervisors anyone's. Anyone else, or a letter that does not exist
// (the winner has no 中标结果通知书), is not found.
func (s *Service) LetterFor(ctx context.Context, a trading.Actor, lotID int64, kind LetterKind, bidderID int64) (*Letter, error) {
	db := s.DB.WithContext(ctx)
	p, lot, err := lotOf(db, lotID)
	if err != nil {
		return nil, err
	}
	switch {
	case a.Role == trading.RoleBidder:
		bidderID = a.AccountID
	case a.Role == trading.RoleSupervisor || (a.Role == trading.RoleAgent && a.AccountID == p.AgentID):
	default:
		return nil, trading.NotFound(kind.Name())
	}
	var r LotResult
	if err := db.Where("lot_id = ?", lotID).Limit(1).Find(&r).Error; err != nil {
		return nil, err
	}
	if (r.Stage != StageAwarded && r.Stage != StageContracted && r.Stage != StageSold) || r.WinnerID == nil || r.Amount == nil || r.ResultAnnouncementID == nil {
		return nil, trading.NotFound(kind.Name())
	}
	var n int64
	if err := db.Model(&LotBid{}).Where("lot_id = ? AND bidder_id = ?", lotID, bidderID).Count(&n).Error; err != nil {
		return nil, err
	}
	// Land and property deals have no opening record: their buyer is the
	// only party with a letter.
	if (n == 0 && *r.WinnerID != bidderID) || LetterKindFor(p.Category, *r.WinnerID == bidderID) != kind {
		return nil, trading.NotFound(kind.Name())
	}
	l := &Letter{Kind: kind, Project: p, Lot: lot, BidderID: bidderID, Amount: *r.Amount, AnnouncementID: *r.ResultAnnouncementID,
		Number: fmt.Sprintf("%s-%d-%s", p.Code, lot.Seq, map[LetterKind]string{LetterAward: "ZB", LetterResult: "JG", LetterDeal: "CJ"}[kind])}
	if r.AwardedAt != nil {
		l.AwardedAt = *r.AwardedAt
		l.ContractDue = r.AwardedAt.AddDate(0, 0, 30)
	}
	var names []struct {
		AccountID int64  `gorm:"column:account_id"`
		Name      string `gorm:"column:name"`
	}
	if err := db.Raw("SELECT account_id, name FROM bidders WHERE account_id IN ?", []int64{bidderID, *r.WinnerID}).Scan(&names).Error; err != nil {
		return nil, err
	}
	for _, x := range names {
		if x.AccountID == bidderID {
			l.BidderName = x.Name
		}
		if x.AccountID == *r.WinnerID {
			l.WinnerName = x.Name
		}
	}
	return l, nil
}

// LetterPDF is the letter as issued: printed and stored on the first
// request (its SHA-256 in the audit chain), the same bytes ever after.
func (s *Service) LetterPDF(ctx context.Context, a trading.Actor, lotID int64, kind LetterKind, bidderID int64) (*ResultDocument, io.ReadCloser, error) {
	l, err := s.LetterFor(ctx, a, lotID, kind, bidderID)
	if err != nil {
		return nil, nil, err
	}
	open := func(d *ResultDocument) (*ResultDocument, io.ReadCloser, error) {
		body, _, err := s.Storage.Get(ctx, d.ObjectKey)
		return d, body, err
	}
	var d ResultDocument
	find := func(db *gorm.DB) error {
		return db.Where("lot_id = ? AND kind = ? AND bidder_id = ?", lotID, kind, l.BidderID).Limit(1).Find(&d).Error
	}
	if err := find(s.DB.WithContext(ctx)); err != nil {
		return nil, nil, err
	}
	if d.ID != 0 {
		return open(&d)
	}
	if s.PrintLetter == nil {
		return nil, nil, trading.Unavailable("文书生成服务未配置，请联系交易中心")
	}
	pdf, err := s.PrintLetter(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(pdf)
	hexSum := hex.EncodeToString(sum[:])
	key := fmt.Sprintf("letters/%d/%s/%d-%s.pdf", lotID, kind, l.BidderID, hexSum[:16])
	if _, err := s.Storage.Client.PutObject(ctx, s.Storage.Bucket, key, bytes.NewReader(pdf), int64(len(pdf)),
		minio.PutObjectOptions{ContentType: "application/pdf"}); err != nil {
		return nil, nil, err
	}
	now := s.Clock.Now()
	var won bool
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		d = ResultDocument{LotID: lotID, Kind: kind, BidderID: l.BidderID, ObjectKey: key, SHA256: hexSum, Size: int64(len(pdf)), CreatedAt: now}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&d)
		if res.Error != nil {
			return res.Error
		}
		if won = res.RowsAffected == 1; !won {
			d = ResultDocument{}
			return find(tx)
		}
		return trading.Audit(tx, now, a, "letter.issue", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("出具%s（项目 %s %s%d，%s），PDF SHA-256 %s", kind.Name(), l.Project.Code, l.Project.Category.LotNoun(), l.Lot.Seq, l.BidderName, hexSum))
	})
	if err != nil || !won { // another request issued it first: keep theirs
		s.Storage.Client.RemoveObject(context.WithoutCancel(ctx), s.Storage.Bucket, key, minio.RemoveObjectOptions{})
	}
	if err != nil {
		return nil, nil, err
	}
	return open(&d)
}
