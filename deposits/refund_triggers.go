package deposits

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// dueDays is a refund's due date a number of calendar days after at (D5,
// D6: "5日内").
func dueDays(at time.Time, days int) time.Time {
	return at.In(trading.Shanghai).AddDate(0, 0, days)
}

// dueWorkingDays is a refund's due date a number of working days after at
// (G6, L5: "5个工作日内"), by the centre's calendar. A year without its
// notice is counted so that the date is never later than the official
// notice will give (calendar.AddWorkingDaysEarliest): a December result is
// not refused, and the refund is never late. Only a calendar without
// provisional years refuses (rule CAL).
func (s *Service) dueWorkingDays(ctx context.Context, at time.Time, days int) (time.Time, error) {
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return time.Time{}, err
	}
	due, _, err := book.Cal.AddWorkingDaysEarliest(at, days)
	if err != nil {
		return time.Time{}, trading.RuleBroken("CAL", "calendar", "无法计算退款期限（工作日）：%v，请管理员先录入该年度节假日安排", err)
	}
	return due, nil
}

// The inflows of a lot still held, and of its winner.
const (
	heldOfLot    = `i.status = 'held' AND i.virtual_account_id IN (SELECT va.id FROM virtual_accounts va WHERE va.lot_id = ?)`
	heldOfWinner = heldOfLot + ` AND i.virtual_account_id IN (SELECT va.id FROM virtual_accounts va WHERE va.bidder_id = ?)`
	heldOfLosers = heldOfLot + ` AND i.virtual_account_id NOT IN (SELECT va.id FROM virtual_accounts va WHERE va.bidder_id = ?)`
)

// SettleResult (an OnResult hook of bidding) refunds, converts and releases what the rules tie to a lot's
// result, in the transaction of the result:
//   - failure (E7, G10, all rejected, no sale): every deposit back, with
//     interest for a tender that failed (as D8);
//   - procurement award notice: the losers' deposits (G6, 5 working days);
//   - contract: engineering, winner's and losers' with interest (D5, 5 days);
//     procurement, the winner's (G6, 5 working days after the contract);
//   - land and property sale: the buyer's deposit becomes part of the price
//     (L5, 定金), the others' back without interest within 5 working days.
func (s *Service) SettleResult(ctx context.Context, tx *gorm.DB, ev bidding.ResultEvent) error {
	book, err := s.Trading.RuleBook(ctx)
	if err != nil {
		return err
	}
	lot, p := ev.Lot, ev.Project
	winner := int64(0)
	if ev.Result != nil && ev.Result.WinnerID != nil {
		winner = *ev.Result.WinnerID
	}
	switch ev.Kind {
	case bidding.EventFailed:
		rule := ev.Rule
		if rule == "" {
			rule = "FAILED"
		}
		reason := fmt.Sprintf("%s%d流标/未成交，退还保证金", p.Category.LotNoun(), lot.Seq)
		withInterest := p.Category == trading.Engineering
		if withInterest {
			reason = fmt.Sprintf("%s%d流标，退还保证金及银行同期存款利息", p.Category.LotNoun(), lot.Seq)
		}
		if _, err := queueRefunds(tx, ev.At, dueDays(ev.At, book.D6Days), rule, reason, withInterest, heldOfLot, lot.ID); err != nil {
			return err
		}
		return s.releaseLotGuarantees(tx, ev, 0, "流标/未成交")
	case bidding.EventAwarded:
		if p.Category != trading.Procurement {
			return nil // engineering refunds wait for the contract (D5)
		}
		due, err := s.dueWorkingDays(ctx, ev.At, book.G6WorkingDays)
		if err != nil {
			return err
		}
		if _, err := queueRefunds(tx, ev.At, due, "G6", "中标通知书发出，退还未中标供应商保证金", false, heldOfLosers, lot.ID, winner); err != nil {
			return err
		}
		return s.releaseLotGuarantees(tx, ev, winner, "中标通知书发出，未中标")
	case bidding.EventContracted:
		if p.Category == trading.Procurement {
			due, err := s.dueWorkingDays(ctx, ev.At, book.G6WorkingDays)
			if err != nil {
				return err
			}
			if _, err := queueRefunds(tx, ev.At, due, "G6", "采购合同签订，退还中标供应商保证金", false, heldOfWinner, lot.ID, winner); err != nil {
				return err
			}
			return s.releaseLotGuarantees(tx, ev, 0, "采购合同签订")
		}
		if _, err := queueRefunds(tx, ev.At, dueDays(ev.At, book.D5Days), "D5", "书面合同签订，退还投标保证金及银行同期存款利息", true, heldOfLot, lot.ID); err != nil {
			return err
		}
		return s.releaseLotGuarantees(tx, ev, 0, "书面合同签订")
	case bidding.EventSold:
		due, err := s.dueWorkingDays(ctx, ev.At, book.L5WorkingDays)
		if err != nil {
			return err
		}
		var ids []int64
		if err := tx.Raw(`UPDATE inflows i SET status = 'converted', reason = 'L5：竞得人保证金抵作成交价款'
			WHERE `+heldOfWinner+` AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.inflow_id = i.id) RETURNING i.id`, lot.ID, winner).
			Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) > 0 {
			if err := tx.Exec(`INSERT INTO ledger_entries (journal_id, at, account, amount, inflow_id, memo)
				SELECT 'convert:' || i.id, ?, x.account, x.amount, i.id, 'L5 保证金转为成交价款'
				FROM inflows i CROSS JOIN LATERAL (VALUES ('va:' || i.account_number, i.amount), ('conversion', -i.amount)) x(account, amount)
				WHERE i.id IN ?`, ev.At, ids).Error; err != nil {
				return err
			}
			if err := trading.Audit(tx, ev.At, trading.SystemActor, "deposit.convert", "lot", fmt.Sprint(lot.ID),
				fmt.Sprintf("项目 %s %s%d 成交，竞得人保证金%d笔转为成交价款（L5）", p.Code, p.Category.LotNoun(), lot.Seq, len(ids))); err != nil {
				return err
			}
		}
		if _, err := queueRefunds(tx, ev.At, due, "L5", "成交后退还未竞得人保证金（不计利息）", false, heldOfLosers, lot.ID, winner); err != nil {
			return err
		}
		// The buyer's guarantee stays: it secures the deal as the deposit
		// would have (L5); the others are released.
		return s.releaseLotGuarantees(tx, ev, winner, "交易成交，未竞得")
	}
	return nil
}

// releaseLotGuarantees releases the live guarantees of a lot's bidders
// (except keep's) once the rule no longer needs them.
func (s *Service) releaseLotGuarantees(tx *gorm.DB, ev bidding.ResultEvent, keep int64, why string) error {
	var ids []int64
	if err := tx.Raw(`UPDATE guarantees g SET status = 'released' FROM registrations r
		WHERE r.id = g.registration_id AND r.lot_id = ? AND r.bidder_id <> ? AND g.status IN ('submitted', 'verified') RETURNING g.id`,
		ev.Lot.ID, keep).Scan(&ids).Error; err != nil {
		return err
	}
	for _, id := range ids {
		if err := trading.Audit(tx, ev.At, trading.SystemActor, "guarantee.release", "guarantee", fmt.Sprint(id),
			fmt.Sprintf("项目 %s %s%d %s，保函释放", ev.Project.Code, ev.Project.Category.LotNoun(), ev.Lot.Seq, why)); err != nil {
			return err
		}
	}
	return nil
}
