package bidding

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

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
