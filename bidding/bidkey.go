package bidding

// 投标密钥: a bidder's bid key. The browser makes the key pair
// (templates/static/sealed.js); the private key leaves it only inside the
// passphrase-protected key file the bidder downloads. The platform keeps the
// public key, its fingerprint and its date, so bids can be sealed to it and
// the opening hall can tell which key file a bid needs (EB1, EB3).

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// BidKey is a bidder's public bid key.
type BidKey struct {
	ID           int64      `gorm:"column:id;primaryKey" json:"id"`
	BidderID     int64      `gorm:"column:bidder_id" json:"-"`
	PublicKey    string     `gorm:"column:public_key" json:"public_key"` // base64 SPKI DER
	Fingerprint  string     `gorm:"column:fingerprint" json:"fingerprint"`
	CreatedAt    time.Time  `gorm:"column:created_at" json:"created_at"`
	RevokedAt    *time.Time `gorm:"column:revoked_at" json:"revoked_at,omitempty"`
	RevokeReason string     `gorm:"column:revoke_reason" json:"revoke_reason,omitempty"`
}

func (BidKey) TableName() string { return "bid_keys" }

// ErrNoBidKey: the bidder has no current bid key to seal to.
var ErrNoBidKey = errors.New("no current bid key")

// BidKeyInput is a public key the bidder's browser made.
type BidKeyInput struct {
	PublicKey   string `json:"public_key" form:"public_key"`   // base64 SPKI DER of a P-256 key
	Fingerprint string `json:"fingerprint" form:"fingerprint"` // hex SHA-256 of it, as the key file says
}

// RegisterBidKey stores the bidder's new public key and makes it current;
// a current key is revoked by it (rotation). The fingerprint the browser
// computed must be the key's, so the key file and the platform agree.
func (s *Service) RegisterBidKey(ctx context.Context, a trading.Actor, in BidKeyInput) (*BidKey, error) {
	if a.Role != trading.RoleBidder {
		return nil, trading.Forbidden("只有投标人可以登记投标密钥")
	}
	der, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(in.PublicKey))
	if err != nil {
		return nil, trading.Invalid("public_key", "公钥应为 base64 编码的 SPKI（由浏览器生成密钥时给出）")
	}
	pub, err := sealed.ParsePublicKey(der)
	if err != nil {
		return nil, trading.Invalid("public_key", "公钥不是有效的 P-256 公钥")
	}
	fp := sealed.Fingerprint(pub)
	if in.Fingerprint != "" && strings.ToLower(strings.TrimSpace(in.Fingerprint)) != fp {
		return nil, trading.Invalid("fingerprint", "指纹与公钥不符，请重新生成密钥")
	}
	now := s.Clock.Now()
	k := &BidKey{BidderID: a.AccountID, PublicKey: base64.StdEncoding.EncodeToString(sealed.MarshalPublicKey(pub)), Fingerprint: fp, CreatedAt: now}
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&BidKey{}).Where("fingerprint = ?", fp).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return trading.Conflict("public_key", "该公钥已登记过，请生成新的密钥")
		}
		old, err := currentKey(tx.Clauses(clause.Locking{Strength: "UPDATE"}), a.AccountID)
		if err != nil && !errors.Is(err, ErrNoBidKey) {
			return err
		}
		if old != nil {
			if err := tx.Model(old).Updates(map[string]any{"revoked_at": now, "revoke_reason": "更换密钥"}).Error; err != nil {
				return err
			}
		}
		if err := tx.Create(k).Error; err != nil {
			return err
		}
		summary := "登记投标密钥，指纹 " + fp
		if old != nil {
			summary += "（更换，原密钥 " + old.Fingerprint + " 作废；已用原密钥密封的投标仍须用原密钥文件解密）"
		}
		return trading.Audit(tx, now, a, "bidkey.register", "bid_key", fmt.Sprint(k.ID), summary)
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// RevokeBidKey revokes the bidder's current key (lost, or suspected known
// to another). Bids sealed to it keep needing it at the opening; a bidder
// who lost it hands in the backup copy (EB14).
func (s *Service) RevokeBidKey(ctx context.Context, a trading.Actor, reason string) error {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 2 || n > 200 {
		return trading.Invalid("reason", "请写明作废原因（2至200字）")
	}
	now := s.Clock.Now()
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		k, err := currentKey(tx.Clauses(clause.Locking{Strength: "UPDATE"}), a.AccountID)
		if errors.Is(err, ErrNoBidKey) {
			return trading.NotFound("当前投标密钥")
		}
		if err != nil {
			return err
		}
		if err := tx.Model(k).Updates(map[string]any{"revoked_at": now, "revoke_reason": reason}).Error; err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "bidkey.revoke", "bid_key", fmt.Sprint(k.ID), "作废投标密钥 "+k.Fingerprint+"："+reason)
	})
}

// BidKeys lists the bidder's keys, the current one first.
func (s *Service) BidKeys(ctx context.Context, a trading.Actor) ([]BidKey, error) {
	var out []BidKey
	// Equivalent SQL: SELECT * FROM bid_keys WHERE bidder_id = ? ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC
	err := s.DB.WithContext(ctx).Where("bidder_id = ?", a.AccountID).
		Order("revoked_at IS NOT NULL, created_at DESC, id DESC").Find(&out).Error
	return out, err
}

func currentKey(tx *gorm.DB, bidderID int64) (*BidKey, error) {
	var k BidKey
	err := tx.Where("bidder_id = ? AND revoked_at IS NULL", bidderID).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoBidKey
	}
	if err != nil {
		return nil, err
	}
	return &k, nil
}
