package bidding

// 合同: the signed contract of an awarded lot (E14, G13); deposits are
// refunded on it (D5, G6).

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
)

// ContractInput is the signed contract of an awarded lot.
type ContractInput struct {
	Date   time.Time `json:"date"`   // the contract's date (Shanghai calendar date)
	Amount string    `json:"amount"` // procurement: the contract amount (default: the award); else optional
}

// RecordContract enters the signed contract of an awarded lot: its date
// (not in the future, not before the award) and, for procurement, the
// contract amount that the savings figures use (default: the award). A
// contract later than 30 days after the award notice is flagged (E14,
// G13). Deposits are refunded on it (D5, G6).
func (s *Service) RecordContract(ctx context.Context, a trading.Actor, lotID int64, in ContractInput) (*LotResult, error) {
	now := s.Clock.Now()
	if in.Date.IsZero() {
		return nil, trading.Invalid("date", "请填写合同签订日期")
	}
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return nil, err
	}
	var out *LotResult
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		p, lot, r, err := s.lockResultLot(tx, a, lotID, now)
		if err != nil {
			return err
		}
		if r == nil || r.Stage != StageAwarded {
			if r == nil {
				return trading.Conflict("stage", "%s尚未定标", p.Category.LotNoun())
			}
			return stageConflict(r, "录入合同")
		}
		date := civil(in.Date)
		if date.After(civil(now)) {
			return trading.Invalid("date", "合同签订日期不能晚于今天")
		}
		if date.Before(civil(*r.AwardedAt)) {
			return trading.Invalid("date", "合同签订日期不能早于中标结果公告发布日（%s）", r.AwardedAt.In(trading.Shanghai).Format("2006-01-02"))
		}
		amount := *r.Amount
		if in.Amount != "" { // " 100 " is refused by ParseAmount, not trimmed
			if amount, err = trading.ParseAmount(in.Amount); err != nil || !amount.IsPositive() {
				return trading.Invalid("amount", "合同金额应为大于0、最多两位小数的金额（元）")
			}
		}
		maxDays, rule := book.E14MaxDays, "E14"
		if p.Category == trading.Procurement {
			maxDays, rule = book.G13MaxDays, "G13"
		}
		days := int(date.Sub(civil(*r.AwardedAt)).Hours() / 24)
		r.Stage, r.ContractDate, r.ContractAmount, r.UpdatedAt = StageContracted, &date, &amount, now
		r.ContractLate = days > maxDays
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		if p.Category == trading.Procurement {
			// G13: the contract is published; its announcement is generated
			// from the result and goes to the supervisors for review.
			if err := s.draftContractAnnouncement(ctx, tx, a, p, lot, r); err != nil {
				return err
			}
			// G: savings = budget − contract (actual purchase) amount.
			if err := tx.Model(&trading.LotOutcome{}).Where("lot_id = ?", lotID).
				Updates(map[string]any{"result": amount, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		summary := fmt.Sprintf("项目 %s %s%d 合同签订于 %s，金额 %s 元（定标后第%d日）", p.Code, p.Category.LotNoun(), lot.Seq,
			date.Format("2006-01-02"), trading.Yuan(amount), days)
		if r.ContractLate {
			summary += fmt.Sprintf("；超过%d日（%s）", maxDays, rule)
		}
		if err := s.emit(ctx, tx, ResultEvent{Kind: EventContracted, Project: p, Lot: lot, Result: r,
			At: time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, trading.Shanghai)}); err != nil {
			return err
		}
		out = r
		return trading.Audit(tx, now, a, "result.contract", "lot", fmt.Sprint(lotID), summary)
	})
	return out, err
}

// draftContractAnnouncement writes the procurement contract announcement (合同公告,
// G13) from the recorded contract and submits it for review; publication
// is due within G13's 2 working days of signing.
func (s *Service) draftContractAnnouncement(ctx context.Context, tx *gorm.DB, a trading.Actor, p *trading.Project, lot *trading.Lot, r *LotResult) error {
	var supplier struct {
		Name     string `gorm:"column:name"`
		IDNumber string `gorm:"column:id_number"`
	}
	if err := tx.Raw("SELECT name, id_number FROM bidders WHERE account_id = ?", *r.WinnerID).Scan(&supplier).Error; err != nil {
		return err
	}
	title := trading.Clip(fmt.Sprintf("%s 包%d 合同公告", p.Title, lot.Seq), 200)
	body := fmt.Sprintf("项目名称：%s\n\n交易编码：%s\n\n包：%d（%s）\n\n采购人：%s\n\n供应商：%s（统一社会信用代码 %s）\n\n合同金额：%s\n\n合同签订日期：%s\n\n"+
		"根据《中华人民共和国政府采购法》第四十三条、《政府采购法实施条例》第五十条，政府采购合同自签订之日起2个工作日内予以公告（G13）。\n",
		mdCell(p.Title), p.Code, lot.Seq, mdCell(lot.Name), mdCell(p.OwnerName), mdCell(supplier.Name), supplier.IDNumber,
		trading.Yuan(*r.ContractAmount)+" 元", r.ContractDate.Format("2006-01-02"))
	n, err := s.Trading.DraftAnnouncementTx(ctx, tx, a, p, trading.AnnouncementInput{Type: trading.AnnouncementContract, Title: title, Body: body})
	if err != nil {
		return err
	}
	r.ContractAnnouncementID = &n.ID
	if err := tx.Model(&LotResult{}).Where("lot_id = ?", r.LotID).Update("contract_announcement_id", n.ID).Error; err != nil {
		return err
	}
	return s.Trading.SubmitAnnouncementTx(ctx, tx, a, n, p)
}
