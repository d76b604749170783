package bidding

// 成交: the outcome of a land or property lot, sold or not (L3, L5).

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
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
// writes the result notice (成交公告 / 流拍公告) for review.
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
		var existing *trading.Announcement
		if r != nil {
			if r.Stage != StageDeal {
				return stageConflict(r, "录入成交结果")
			}
			existing = &trading.Announcement{}
			if err := tx.First(existing, *r.ResultNoticeID).Error; err != nil {
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
		fmt.Fprintf(&body, "项目名称：%s\n\n交易编码：%s\n\n标的：%d（%s）\n\n", mdCell(p.Title), p.Code, lot.Seq, mdCell(lot.Name))
		if in.NoSale {
			if k := utf8.RuneCountInString(in.Reason); k < 4 || k > 500 {
				return trading.Invalid("reason", "请写明未成交的原因（4至500字）")
			}
			// No quote, or none reaching the reserve: no sale (流拍, L10).
			r.FailedReason, r.FailedRule = in.Reason, "L10"
			title = fmt.Sprintf("%s %d号标的 未成交公告", p.Title, lot.Seq)
			fmt.Fprintf(&body, "交易结果：未成交（流拍）\n\n原因：%s（L10）\n", mdCell(in.Reason))
		} else {
			id, name, regID, err := registration(tx, lotID, in.IDNumber)
			if err != nil {
				return err
			}
			if id == 0 {
				return trading.Invalid("id_number", "竞得人须是本标的竞买申请已通过的竞买人")
			}
			// Bidding needs the deposit paid (or a verified guarantee): it
			// becomes part of the price (L5).
			if lot.Deposit.IsPositive() && s.DepositCovered != nil {
				ok, _, err := s.DepositCovered(ctx, tx, regID)
				if err != nil {
					return err
				}
				if !ok {
					return trading.Invalid("id_number", "%s 的竞买保证金 %s 元未足额到账（也无有效保函），不能作为竞得人", name, lot.Deposit.StringFixed(2))
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
			title = fmt.Sprintf("%s %d号标的 成交公告", p.Title, lot.Seq)
			fmt.Fprintf(&body, "竞得人（受让方）：%s\n\n成交价：%s 元\n", mdCell(name), trading.Yuan(price))
		}
		if in.Note != "" {
			body.WriteString("\n" + in.Note + "\n")
		}
		title = clip(title, 200)
		if existing != nil {
			n, err = s.Trading.RewriteAnnouncementTx(tx, a, existing.ID, title, body.String())
		} else {
			n, err = s.Trading.DraftAnnouncementTx(ctx, tx, a, p, trading.AnnouncementInput{Type: trading.AnnouncementResult, Title: title, Body: body.String()})
		}
		if err != nil {
			return err
		}
		r.ResultNoticeID = &n.ID
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "lot_id"}}, UpdateAll: true}).Create(r).Error; err != nil {
			return err
		}
		if err := s.Trading.SubmitAnnouncementTx(ctx, tx, a, n, p); err != nil {
			return err
		}
		return trading.Audit(tx, now, a, "result.deal", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("项目 %s 标的%d 录入交易结果，结果公告提交审核", p.Code, lot.Seq))
	})
	return n, err
}
