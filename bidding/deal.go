package bidding

// 成交: the outcome of a land or property lot, sold or not (L3, L5).

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/rules"
)

// DealInput is the outcome of a land or property lot.
type DealInput struct {
	NoSale   bool   `json:"no_sale"`
	IDNumber string `json:"id_number"` // the buyer (竞得人/受让方)
	Price    string `json:"price"`     // the deal price (成交价)
	Reason   string `json:"reason"`    // why no sale
	Note     string `json:"note"`
}

// RecordDeal enters the outcome of a land or property lot after its
// auction or listing: the buyer and the deal price, which may not be below
// the starting price nor the secret reserve price (L3); or no sale. It
// writes the result announcement (成交公告 / 流拍公告) for review.
func (s *Service) RecordDeal(ctx context.Context, a trading.Actor, lotID int64, in DealInput) (*trading.Announcement, error) {
	now := s.Clock.Now()
	in.Reason, in.Note = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > 2000 {
		return nil, trading.Invalid("note", "说明不超过2000字")
	}
	var n *trading.Announcement
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if isBidTender(p.Category) {
			return trading.Invalid("stage", "%s请录入开标记录", p.Category.Name())
		}
		if rules.Online(lot.BiddingMode) {
			// Issue 15 §7: typing a deal is only for lots sold off the platform.
			return trading.Conflict("lot", "本%s采用%s，成交结果由网上竞价自动产生，不能手工录入（仅线下交易的%s可录入）",
				p.Category.LotNoun(), rules.ModeName(lot.BiddingMode), p.Category.LotNoun())
		}
		n, err = s.dealTx(ctx, tx, a, p, lot, r, in, 0, now)
		return err
	})
	return n, err
}

// OnlineDeal is the outcome of a lot bid online (bidding/auction): the
// winning registration and the deal price, or no sale with its reason.
type OnlineDeal struct {
	RegistrationID int64 // 0: no sale
	Price          decimal.Decimal
	Reason         string // no sale: why
	Note           string // e.g. where the bidding record is published
}

// RecordOnlineDeal enters the settlement of an online bidding inside its
// transaction tx, through the same path as a typed deal (L3, L5): the
// result announcement (成交公告 / 流拍公告) is generated and submitted for review,
// in the name of the project's agent, by the platform.
func (s *Service) RecordOnlineDeal(ctx context.Context, tx *gorm.DB, lotID int64, d OnlineDeal) (*trading.Announcement, error) {
	now := s.Clock.Now()
	if err := tx.Exec("SELECT 1 FROM projects WHERE id = (SELECT project_id FROM lots WHERE id = ?) FOR SHARE", lotID).Error; err != nil {
		return nil, err
	}
	if err := tx.Exec("SELECT 1 FROM lots WHERE id = ? FOR UPDATE", lotID).Error; err != nil {
		return nil, err
	}
	p, lot, err := lotOf(tx, lotID)
	if err != nil {
		return nil, err
	}
	var r *LotResult
	var row LotResult
	if found, err := trading.Lookup(tx, &row, "lot_id = ?", lotID); err != nil {
		return nil, err
	} else if found {
		r = &row
	}
	a := trading.Actor{AccountID: p.AgentID, Username: "system", Role: trading.SystemActor.Role}
	in := DealInput{NoSale: d.RegistrationID == 0, Reason: d.Reason, Note: d.Note, Price: d.Price.StringFixed(2)}
	return s.dealTx(ctx, tx, a, p, lot, r, in, d.RegistrationID, now)
}

// dealTx writes a deal or a no-sale of a locked lot and its result announcement.
// regID names the buyer by registration (online bidding); 0: by in.IDNumber.
func (s *Service) dealTx(ctx context.Context, tx *gorm.DB, a trading.Actor, p *trading.Project, lot *trading.Lot, r *LotResult,
	in DealInput, regID int64, now time.Time) (*trading.Announcement, error) {
	lotID := lot.ID
	var n *trading.Announcement
	err := func() error {
		var existing *trading.Announcement
		if r != nil {
			if r.Stage != StageDeal {
				return stageConflict(r, "录入成交结果")
			}
			existing = &trading.Announcement{}
			if err := tx.First(existing, *r.ResultAnnouncementID).Error; err != nil {
				return err
			}
			if existing.Status != trading.AnnouncementDraft && existing.Status != trading.AnnouncementRejected {
				return trading.Conflict("stage", "结果公告已%s，不能修改（待审核的请先撤回）", existing.Status.Name())
			}
		} else {
			r = &LotResult{LotID: lotID, CreatedAt: now}
		}
		r.Stage, r.UpdatedAt, r.WinnerID, r.Amount, r.FailedReason, r.FailedRule = StageDeal, now, nil, nil, "", ""
		var title string
		var body strings.Builder
		fmt.Fprintf(&body, "项目名称：%s\n\n交易编码：%s\n\n%s：%d（%s）\n\n", mdCell(p.Title), p.Code, p.Category.LotNoun(), lot.Seq, mdCell(lot.Name))
		if in.NoSale {
			if k := utf8.RuneCountInString(in.Reason); k < 4 || k > 500 {
				return trading.Invalid("reason", "请写明未成交的原因（4至500字）")
			}
			// No quote, or none reaching the reserve: no sale (流拍, L10).
			r.FailedReason, r.FailedRule = in.Reason, "L10"
			title = fmt.Sprintf("%s %d号%s 未成交公告", p.Title, lot.Seq, p.Category.LotNoun())
			fmt.Fprintf(&body, "交易结果：未成交（流拍）\n\n原因：%s（L10）\n", mdCell(in.Reason))
		} else {
			var id int64
			var name string
			var err error
			if regID != 0 {
				id, name, err = registrationByID(tx, lotID, regID)
			} else {
				id, name, regID, err = registration(tx, lotID, in.IDNumber)
			}
			if err != nil {
				return err
			}
			if id == 0 {
				return trading.Invalid("id_number", "竞得人须是本%s竞买申请已通过的竞买人", p.Category.LotNoun())
			}
			// Bidding needs the deposit paid (or a verified guarantee): it
			// becomes part of the price (L5).
			if lot.Deposit.IsPositive() && s.DepositCovered != nil {
				ok, why, err := s.DepositCovered(ctx, tx, regID)
				if err != nil {
					return err
				}
				if !ok {
					return trading.Invalid("id_number", "%s 的竞买保证金 %s 元未在截止时间前足额到账（也无有效保函），不能作为竞得人（%s）", name, lot.Deposit.StringFixed(2), why)
				}
			}
			price, err := trading.ParseAmount(in.Price)
			if err != nil || !price.IsPositive() {
				return trading.Invalid("price", "成交价应为大于0、最多两位小数的金额（元）")
			}
			base := trading.BaseFor(p.Category, lot)
			if base != nil && price.LessThan(*base) {
				return trading.Invalid("price", "成交价 %s 元低于起始价（挂牌价） %s 元", price.StringFixed(2), base.StringFixed(2))
			}
			if lot.ReservePrice != nil && price.LessThan(*lot.ReservePrice) {
				// The reserve price is secret: say that it was not reached, not what it is.
				return trading.RuleBroken("L3", "price", "成交价低于底价，不能成交（L3：报价均低于底价的不成交），请录入未成交")
			}
			r.WinnerID, r.Amount = &id, &price
			title = fmt.Sprintf("%s %d号%s 成交公告", p.Title, lot.Seq, p.Category.LotNoun())
			fmt.Fprintf(&body, "竞得人（受让方）：%s\n\n成交价：%s 元\n", mdCell(name), trading.Yuan(price))
		}
		if in.Note != "" {
			body.WriteString("\n" + in.Note + "\n")
		}
		title = trading.Clip(title, 200)
		var err error
		if existing != nil {
			n, err = s.Trading.RewriteAnnouncementTx(tx, a, existing.ID, title, body.String())
		} else {
			n, err = s.Trading.DraftAnnouncementTx(ctx, tx, a, p, trading.AnnouncementInput{Type: trading.AnnouncementResult, Title: title, Body: body.String()})
		}
		if err != nil {
			return err
		}
		r.ResultAnnouncementID = &n.ID
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "lot_id"}}, UpdateAll: true}).Create(r).Error; err != nil {
			return err
		}
		if err := s.Trading.SubmitAnnouncementTx(ctx, tx, a, n, p); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "result.deal", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("项目 %s %s%d 录入交易结果，结果公告提交审核", p.Code, p.Category.LotNoun(), lot.Seq))
	}()
	return n, err
}

// registrationByID is registration's answer for a registration id.
func registrationByID(tx *gorm.DB, lotID, regID int64) (account int64, name string, err error) {
	var row struct {
		AccountID int64  `gorm:"column:account_id"`
		Name      string `gorm:"column:name"`
	}
	err = tx.Raw(`SELECT b.account_id, b.name FROM bidders b JOIN registrations r ON r.bidder_id = b.account_id
		WHERE r.id = ? AND r.lot_id = ? AND r.status IN ('active', 'approved')`, regID, lotID).Scan(&row).Error
	return row.AccountID, row.Name, err
}
