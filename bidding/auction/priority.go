package auction

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/trading"
	"github.com/ggzy/ggzy/trading/live"
)

// 优先购买权 (priority right, P7). A property lot may name in its announcement
// the holder of a priority right (by credit code or resident id). When the
// bidding ends with a buyer who is not the holder, and the holder is a
// qualified bidder of the lot (approved application, deposit covered by its
// deadline), the lot waits P7.priority_seconds (state priority) for the
// holder to buy at the final price or to decline. The window's end is the
// database's clock: an exercise that reaches the database after it is
// refused, and the ticker then settles the lot to the bidding's buyer.

// PriorityInput is the holder's answer.
type PriorityInput struct {
	Exercise bool `json:"exercise" form:"exercise"`
}

// priorityHolderReg is the holder's registration on the lot (0: none).
func priorityHolderReg(tx *gorm.DB, l *Lot) (reg, account int64, status string, err error) {
	var row struct {
		ID     int64  `gorm:"column:id"`
		Bidder int64  `gorm:"column:bidder_id"`
		Status string `gorm:"column:status"`
	}
	// Equivalent SQL: the latest registration on the lot of the bidder whose id number is the holder's.
	err = tx.Raw(`SELECT r.id, r.bidder_id, r.status FROM registrations r JOIN bidders b ON b.account_id = r.bidder_id
		WHERE r.lot_id = ? AND b.id_number = ? ORDER BY r.id DESC LIMIT 1`, l.LotID, l.PriorityHolder).Scan(&row).Error
	return row.ID, row.Bidder, row.Status, err
}

// holderQualified tells whether the holder may use the right: an approved
// application and the deposit covered by its deadline, like any bidder,
// and not turned down by the agent's check after the bidding (资格后审: a
// holder that won, failed the check and was passed over may not then buy
// at the next bidder's price).
func (s *Service) holderQualified(ctx context.Context, tx *gorm.DB, l *Lot) (int64, bool, error) {
	reg, _, status, err := priorityHolderReg(tx, l)
	if err != nil || reg == 0 || (status != "approved" && status != "active") {
		return reg, false, err
	}
	var failed int64
	if err := tx.Raw(`SELECT count(*) FROM auction_qualifications WHERE lot_id = ? AND registration_id = ? AND NOT passed`,
		l.LotID, reg).Scan(&failed).Error; err != nil {
		return reg, false, err
	}
	if failed > 0 {
		return reg, false, nil
	}
	if s.Qualified != nil {
		ok, _, err := s.Qualified(ctx, tx, reg)
		return reg, ok, err
	}
	return reg, true, nil
}

// openPriority opens the holder's window after the bidding, unless the
// holder already is the buyer or may not use the right (then it says so
// in the record and returns false).
func (s *Service) openPriority(ctx context.Context, tx *gorm.DB, l *Lot, at time.Time, reg int64, price decimal.Decimal) (bool, error) {
	holder, ok, err := s.holderQualified(ctx, tx, l)
	if err != nil {
		return false, err
	}
	if holder == reg {
		return false, nil // the holder won the bidding itself
	}
	if !ok {
		return false, logEntry(tx, &Entry{LotID: l.LotID, At: at, Kind: "priority_lapsed", Rule: "P7",
			Detail: "优先购买权人未取得本标的竞买资格（竞买申请未通过或保证金未按时足额交纳），不适用优先购买权"})
	}
	end := at.Add(time.Duration(l.PriorityS) * time.Second)
	l.State, l.CountdownEnd, l.CandidateReg, l.CandidatePrice = StatePriority, &end, &reg, &price
	if err := tx.Save(l).Error; err != nil {
		return false, err
	}
	code := codeOfReg(tx, reg)
	detail := fmt.Sprintf("竞价结束，最终报价 %s 元（竞买号牌 %s）；优先购买权人可于 %s 前以该价格行使优先购买权", yuan(price), code, fmtTime(end))
	if err := logEntry(tx, &Entry{LotID: l.LotID, At: at, Kind: "priority", Code: code, Amount: &price, Until: &end, Rule: "P7", Detail: detail}); err != nil {
		return false, err
	}
	if err := trading.Audit(tx, at, trading.SystemActor, "auction.priority", "lot", fmt.Sprint(l.LotID), detail); err != nil {
		return false, err
	}
	_, account, _, err := priorityHolderReg(tx, l)
	if err != nil {
		return false, err
	}
	if err := trading.Notify(tx, at, trading.Message{Title: "请决定是否行使优先购买权", Body: detail + "；逾期视为放弃（P7）。",
		Link: fmt.Sprintf("/auctions/%d/bid", l.LotID), Key: fmt.Sprintf("priority:%d", l.LotID)}, account); err != nil {
		return false, err
	}
	_, err = live.Publish(ctx, tx, topic(l.LotID), "phase", PhaseEvent{At: at, State: l.State, CountdownEnd: &end, ClosesAt: l.ClosesAt,
		Highest: &price, Code: code, Reason: "等待优先购买权人决定是否行使优先购买权（P7）"})
	return true, err
}

// Priority records the holder's answer in its window: to buy at the final
// price (the lot is sold to the holder) or to decline (sold to the
// bidding's buyer). Anyone but the holder is refused; so is an answer that
// reaches the database after the window.
func (s *Service) Priority(ctx context.Context, a trading.Actor, lotID int64, in PriorityInput) error {
	if a.Role != trading.RoleBidder {
		return trading.Forbidden("只有公告载明的优先购买权人可以行使优先购买权").WithRule("P7")
	}
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		l, err := lock(tx, lotID)
		if err != nil {
			return err
		}
		now, err := trading.DBNow(tx)
		if err != nil {
			return err
		}
		holder, account, _, err := priorityHolderReg(tx, l)
		if err != nil {
			return err
		}
		if l.PriorityHolder == "" || holder == 0 || account != a.AccountID {
			return trading.Forbidden("只有公告载明的优先购买权人可以行使优先购买权").WithRule("P7")
		}
		if l.State != StatePriority {
			return trading.Conflict("lot", "本标的当前不在优先购买权行使期内").WithRule("P7")
		}
		if !now.Before(*l.CountdownEnd) {
			return trading.Conflict("lot", "优先购买权行使期限已于 %s 届满（以平台数据库接收时间为准），视为放弃", fmtTime(*l.CountdownEnd)).WithRule("P7")
		}
		if _, ok, err := s.holderQualified(ctx, tx, l); err != nil {
			return err
		} else if !ok {
			return trading.Forbidden("优先购买权人须竞买申请审核通过并按时足额交纳保证金").WithRule("P7")
		}
		reg, price := *l.CandidateReg, *l.CandidatePrice
		if !in.Exercise {
			if err := logEntry(tx, &Entry{LotID: lotID, At: now, Kind: "priority_waived", Rule: "P7", Amount: &price,
				Detail: "优先购买权人放弃行使优先购买权"}); err != nil {
				return err
			}
			if err := trading.Audit(tx, now, a, "auction.priority_waive", "lot", fmt.Sprint(lotID), "优先购买权人放弃行使优先购买权（P7）"); err != nil {
				return err
			}
			return s.finish(ctx, tx, l, now, &reg, &price, "")
		}
		b, err := ensureBidder(tx, lotID, holder, now)
		if err != nil {
			return err
		}
		if err := logEntry(tx, &Entry{LotID: lotID, At: now, Kind: "priority_exercised", Code: b.Code, Amount: &price, Rule: "P7",
			Detail: fmt.Sprintf("优先购买权人（竞买号牌 %s）以最终报价 %s 元行使优先购买权", b.Code, yuan(price))}); err != nil {
			return err
		}
		if err := trading.Audit(tx, now, a, "auction.priority_exercise", "lot", fmt.Sprint(lotID),
			fmt.Sprintf("优先购买权人以最终报价 %s 元行使优先购买权（P7）", yuan(price))); err != nil {
			return err
		}
		return s.finish(ctx, tx, l, now, &holder, &price, "")
	})
}

// lapsePriority settles a lot whose holder let the window pass: sold to
// the bidding's buyer (the ticker, SettleDue).
func (s *Service) lapsePriority(ctx context.Context, tx *gorm.DB, l *Lot, now time.Time) error {
	end := *l.CountdownEnd
	reg, price := *l.CandidateReg, *l.CandidatePrice
	if err := logEntry(tx, &Entry{LotID: l.LotID, At: end, Kind: "priority_lapsed", Rule: "P7", Amount: &price,
		Detail: "优先购买权人未在期限内行使优先购买权，视为放弃"}); err != nil {
		return err
	}
	if err := trading.Audit(tx, now, trading.SystemActor, "auction.priority_lapse", "lot", fmt.Sprint(l.LotID),
		"优先购买权行使期限届满，视为放弃（P7）"); err != nil {
		return err
	}
	return s.finish(ctx, tx, l, end, &reg, &price, "")
}
