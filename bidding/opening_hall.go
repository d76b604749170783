package bidding

// 不见面开标: the online opening hall of an engineering or procurement lot
// (EB4–EB9, EB13, EB14). The agent hosts; bidders sign in and decrypt from
// their browsers (the content key is unwrapped there, from the key file,
// and handed in over TLS); supervisors watch. Every step is published live
// on the lot's hall topic (trading/live) in the transaction that takes it,
// and audited with the address and the time (EB10). Prices are published
// only when every bid is decrypted or the window has closed (EB5), all at
// once, in an order drawn at random and recorded; the opening record is
// generated from what happened (EB7) and feeds the result flow.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

// OpeningStatus is where an opening stands.
type OpeningStatus string

const (
	OpeningDecrypting OpeningStatus = "decrypting" // the decryption window is open (EB13)
	OpeningPaused     OpeningStatus = "paused"     // the host paused it, with a reason
	OpeningRevealed   OpeningStatus = "revealed"   // prices read out (唱标, EB5); objections (EB9)
	OpeningConcluded  OpeningStatus = "concluded"  // the record is generated and stored (EB7)
	OpeningFailed     OpeningStatus = "failed"     // fewer than E7's bids: not opened (EB8)
)

// Name is the Chinese name of the status.
func (s OpeningStatus) Name() string {
	return map[OpeningStatus]string{OpeningDecrypting: "解密中", OpeningPaused: "已暂停", OpeningRevealed: "已唱标",
		OpeningConcluded: "开标结束", OpeningFailed: "投标人不足，不予开标"}[s]
}

// Opening is a lot's online opening.
type Opening struct {
	LotID          int64           `gorm:"column:lot_id;primaryKey" json:"lot_id"`
	HostID         int64           `gorm:"column:host_id" json:"-"`
	Status         OpeningStatus   `gorm:"column:status" json:"status"`
	StartedAt      time.Time       `gorm:"column:started_at" json:"started_at"`
	WindowMinutes  int             `gorm:"column:window_minutes" json:"window_minutes"`
	WindowEndsAt   time.Time       `gorm:"column:window_ends_at" json:"window_ends_at"`
	PausedAt       *time.Time      `gorm:"column:paused_at" json:"paused_at,omitempty"`
	RevealedAt     *time.Time      `gorm:"column:revealed_at" json:"revealed_at,omitempty"`
	RevealOrder    json.RawMessage `gorm:"column:reveal_order;type:jsonb" json:"reveal_order,omitempty"`
	RevealSeed     *string         `gorm:"column:reveal_seed" json:"reveal_seed,omitempty"`
	ConcludedAt    *time.Time      `gorm:"column:concluded_at" json:"concluded_at,omitempty"`
	RecordKey      *string         `gorm:"column:record_key" json:"-"`
	RecordSHA256   *string         `gorm:"column:record_sha256" json:"record_sha256,omitempty"`
	AnnouncementID *int64          `gorm:"column:announcement_id" json:"announcement_id,omitempty"` // 开标记录公告 (EB7)
	// AnnouncementProblem says why the opening-record announcement could
	// not be drafted (host and supervisors only; hall_announcement.go).
	AnnouncementProblem *string `gorm:"column:announcement_problem" json:"announcement_problem,omitempty"`
}

func (Opening) TableName() string { return "openings" }

// Outcomes of a bid at the opening.
const (
	OutcomePending   = "pending"
	OutcomeDecrypted = "decrypted"
	OutcomeBackup    = "backup"    // opened from the backup copy (EB14)
	OutcomeRevoked   = "revoked"   // not decrypted, the bidder's fault: 撤销 (EB6)
	OutcomeWithdrawn = "withdrawn" // not decrypted, another cause: 撤回, with the host's reason (EB6)
)

// OutcomeName is the Chinese name of an outcome.
func OutcomeName(o string) string {
	return map[string]string{OutcomePending: "待解密", OutcomeDecrypted: "解密成功", OutcomeBackup: "备用副本解密",
		OutcomeRevoked: "视为撤销投标（投标人原因未解密）", OutcomeWithdrawn: "视为撤回投标（非投标人原因未解密）"}[o]
}

// OpeningBid is one bid at the opening.
type OpeningBid struct {
	BidID       int64            `gorm:"column:bid_id;primaryKey" json:"-"`
	LotID       int64            `gorm:"column:lot_id" json:"-"`
	BidderID    int64            `gorm:"column:bidder_id" json:"-"`
	SignedInAt  *time.Time       `gorm:"column:signed_in_at" json:"signed_in_at,omitempty"`
	Outcome     string           `gorm:"column:outcome" json:"outcome"`
	OutcomeAt   *time.Time       `gorm:"column:outcome_at" json:"outcome_at,omitempty"`
	Reason      string           `gorm:"column:reason" json:"reason,omitempty"`
	Failures    int              `gorm:"column:failures" json:"failures"`
	Price       *decimal.Decimal `gorm:"column:price;type:numeric(18,2)" json:"price,omitempty"`
	Items       json.RawMessage  `gorm:"column:items;type:jsonb" json:"items,omitempty"`
	Parts       json.RawMessage  `gorm:"column:parts;type:jsonb" json:"-"`
	ConfirmedAt *time.Time       `gorm:"column:confirmed_at" json:"confirmed_at,omitempty"`
	BidderName  string           `gorm:"->;column:bidder_name;-:migration" json:"bidder_name"`
	IDNumber    string           `gorm:"->;column:id_number;-:migration" json:"id_number"`
}

func (OpeningBid) TableName() string { return "opening_bids" }

// Objection is an objection raised at the opening and its answer (EB9).
type Objection struct {
	ID         int64      `gorm:"column:id;primaryKey" json:"id"`
	LotID      int64      `gorm:"column:lot_id" json:"-"`
	BidderID   int64      `gorm:"column:bidder_id" json:"-"`
	Text       string     `gorm:"column:text" json:"text"`
	RaisedAt   time.Time  `gorm:"column:raised_at" json:"raised_at"`
	Answer     *string    `gorm:"column:answer" json:"answer,omitempty"`
	AnsweredAt *time.Time `gorm:"column:answered_at" json:"answered_at,omitempty"`
	BidderName string     `gorm:"->;column:bidder_name;-:migration" json:"bidder_name"`
}

func (Objection) TableName() string { return "opening_objections" }

// PartOpened is what the opening learned of one decrypted part.
type PartOpened struct {
	Part      int    `json:"part"`
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`     // of the plaintext (K1: identical files)
	ObjectKey string `json:"object_key"` // the plaintext, for the evaluation
	Producer  string `json:"producer,omitempty"`
	Author    string `json:"author,omitempty"`
}

// HallTopic is the live topic of a lot's hall.
func HallTopic(lotID int64) string { return fmt.Sprintf("hall/%d", lotID) }

// hallLot locks the opening of a lot (the project and lot first, as the
// result steps lock them).
func (s *Service) hallLot(tx *gorm.DB, lotID int64) (*trading.Project, *trading.Lot, *Opening, error) {
	return s.lockHall(tx, lotID, "UPDATE")
}

// lockHall is hallLot with the lock's strength: SHARE for a bidder's step
// that depends on no other bidder's (sign-in), so thirty of them run side
// by side up to the audit chain and the live topic instead of one after
// another; the host's steps and the decryption (whose last one reveals)
// take it for UPDATE and wait for them.
func (s *Service) lockHall(tx *gorm.DB, lotID int64, strength string) (*trading.Project, *trading.Lot, *Opening, error) {
	p, lot, err := lotLite(tx, lotID)
	if err != nil {
		return nil, nil, nil, err
	}
	var o Opening
	err = tx.Clauses(clause.Locking{Strength: strength}).Where("lot_id = ?", lotID).Take(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, lot, nil, nil
	}
	return p, lot, &o, err
}

func isHost(p *trading.Project, a trading.Actor) bool {
	return a.Role == trading.RoleAgent && p.AgentID == a.AccountID
}

// hallEvent publishes a step on the hall's topic (last in the transaction).
func hallEvent(ctx context.Context, tx *gorm.DB, lotID int64, kind string, data map[string]any) error {
	_, err := live.Publish(ctx, tx, HallTopic(lotID), kind, data)
	return err
}

// OpenHall opens a lot's hall at its deadline (E6, EB4), hosted by the
// project's agent: the bids come in from the submitted versions (an upload
// never finalised counts as withdrawn, EB2). Fewer than E7's number fails
// the lot through the result flow with no decryption at all (EB8);
// otherwise the decryption window opens for windowMinutes (0: the rule
// book's EB13).
func (s *Service) OpenHall(ctx context.Context, a trading.Actor, lotID int64, windowMinutes int) (*Opening, error) {
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	if windowMinutes == 0 {
		windowMinutes = book.EB13Minutes
	}
	if windowMinutes < 5 || windowMinutes > 480 {
		return nil, trading.Invalid("window_minutes", "解密时限应为5至480分钟（EB13）")
	}
	var out *Opening
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, o, err := s.hallLot(tx, lotID)
		if err != nil {
			return err
		}
		if !isHost(p, a) {
			return trading.Forbidden("只有本项目的代理机构可以主持开标")
		}
		if !isBidTender(p.Category) {
			return trading.Invalid("lot_id", "%s不开标", p.Category.Name())
		}
		if paper, err := isPaperLot(tx, lotID); err != nil || paper {
			if err == nil {
				err = trading.Conflict("lot_id", "本%s为纸质投标，请在开标记录页面录入", p.Category.LotNoun())
			}
			return err
		}
		if o != nil {
			return trading.Conflict("lot_id", "开标大厅已开启")
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		if lot.BidDeadline == nil || now.Before(*lot.BidDeadline) {
			return trading.RuleBroken("E6", "lot_id", "投标截止时间未到，不能开标（E6、EB4）")
		}
		// EB2: uploads never finalised count as withdrawn.
		if err := tx.Model(&SealedBid{}).Where("lot_id = ? AND status = ?", lotID, BidUploading).
			Updates(map[string]any{"status": BidAbandoned, "ended_at": now}).Error; err != nil {
			return err
		}
		var bids []SealedBid
		if err := tx.Where("lot_id = ? AND status = ?", lotID, BidSubmitted).Order("finalized_at, id").Find(&bids).Error; err != nil {
			return err
		}
		out = &Opening{LotID: lotID, HostID: a.AccountID, Status: OpeningDecrypting, StartedAt: now, WindowMinutes: windowMinutes,
			WindowEndsAt: now.Add(time.Duration(windowMinutes) * time.Minute)}
		if len(bids) < book.E7MinBidders {
			out.Status = OpeningFailed
		}
		if err := tx.Create(out).Error; err != nil {
			return err
		}
		for _, b := range bids {
			if err := tx.Create(&OpeningBid{BidID: b.ID, LotID: lotID, BidderID: b.BidderID, Outcome: OutcomePending}).Error; err != nil {
				return err
			}
		}
		summary := fmt.Sprintf("项目 %s %s%d 开标大厅开启：递交投标文件%d份，数据库时钟 %s", p.Code, p.Category.LotNoun(), lot.Seq, len(bids), sealed.ReceiptTime(now))
		if out.Status == OpeningFailed {
			// EB8/E7: not opened; the lot fails through the result flow,
			// with the bidders named and no price.
			in := OpeningInput{fromHall: true}
			for _, b := range bids {
				var idn string
				if err := tx.Table("bidders").Where("account_id = ?", b.BidderID).Select("id_number").Scan(&idn).Error; err != nil {
					return err
				}
				in.Bids = append(in.Bids, BidInput{IDNumber: idn})
			}
			if _, err := s.recordOpeningTx(ctx, tx, a, lotID, in, book.E7MinBidders, book.G10MinSuppliers, now); err != nil {
				return err
			}
			summary += fmt.Sprintf("，少于%d份，不予开标、不解密（E7、EB8）", book.E7MinBidders)
		} else {
			summary += fmt.Sprintf("；解密时限%d分钟，至 %s（EB13）", windowMinutes, sealed.ReceiptTime(out.WindowEndsAt))
		}
		if err := trading.Audit(tx, now, a, "opening.open", "lot", fmt.Sprint(lotID), summary); err != nil {
			return err
		}
		return hallEvent(ctx, tx, lotID, "hall.opened", map[string]any{"status": out.Status, "bids": len(bids),
			"window_ends_at": out.WindowEndsAt, "text": summary})
	})
	return out, err
}

// myOpeningBid locks the bidder's bid at an opening.
func myOpeningBid(tx *gorm.DB, a trading.Actor, lotID int64) (*OpeningBid, error) {
	var ob OpeningBid
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID).Take(&ob).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, trading.NotFound("您在本次开标中的投标文件")
	}
	return &ob, err
}

// seat is a bidder's anonymous number in the hall's events until the reveal.
func seat(bidID int64) string { return fmt.Sprintf("%04d", bidID%10000) }

// SignIn is a bidder's 签到 at the opening.
func (s *Service) SignIn(ctx context.Context, a trading.Actor, lotID int64) error {
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		_, _, o, err := s.lockHall(tx, lotID, "SHARE")
		if err != nil {
			return err
		}
		if o == nil || o.Status == OpeningFailed {
			return trading.Conflict("lot_id", "开标大厅尚未开启")
		}
		ob, err := myOpeningBid(tx, a, lotID)
		if err != nil {
			return err
		}
		if ob.SignedInAt != nil {
			return nil
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		if err := tx.Model(ob).Update("signed_in_at", now).Error; err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, "opening.signin", "lot", fmt.Sprint(lotID), "投标人签到"); err != nil {
			return err
		}
		return hallEvent(ctx, tx, lotID, "hall.signin", map[string]any{"seat": seat(ob.BidID), "text": "投标人 " + seat(ob.BidID) + " 已签到"})
	})
}

// HallHeader is the header of the bidder's price-form envelope: what its
// browser unwraps the content key from with the key file.
func (s *Service) HallHeader(ctx context.Context, a trading.Actor, lotID int64) (*sealed.Header, error) {
	var p SealedPart
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ob OpeningBid
		if err := tx.Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID).Take(&ob).Error; err != nil {
			return trading.NotFound("您在本次开标中的投标文件")
		}
		return tx.Where("bid_id = ? AND part = 0", ob.BidID).Take(&p).Error
	})
	if err != nil {
		return nil, err
	}
	r, _, err := s.Storage.Get(ctx, p.ObjectKey)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	h, err := sealed.ReadHeader(r)
	if err != nil {
		return nil, err
	}
	return &h, nil
}
