package bidding

// Withdrawal (撤回报名) of a registration before the deadline; deposits
// refunds on it (D6) through Service.OnWithdraw. Withdrawing a sealed bid
// (submission.go) comes through here too: one path, one refund.

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/trading"
)

// Withdraw withdraws a registration before the deadline (D6: the deposit is
// refunded within 5 days of the notice).
func (s *Service) Withdraw(ctx context.Context, a trading.Actor, lotID int64) error {
	now := s.Clock.Now()
	return trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		return s.withdrawTx(ctx, tx, a, lotID, now)
	})
}

// withdrawTx is the withdrawal in tx: the bidder's sealed bid ends with it
// (EB2), then the hooks refund (D6).
func (s *Service) withdrawTx(ctx context.Context, tx *gorm.DB, a trading.Actor, lotID int64, now time.Time) error {
	p, lot, err := lotOf(tx, lotID)
	if err != nil {
		return err
	}
	var reg Registration
	if err := trading.First(tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("lot_id = ? AND bidder_id = ?", lotID, a.AccountID), &reg, "报名记录"); err != nil {
		return err
	}
	if !reg.Status.Live() {
		return trading.NotFound("报名记录")
	}
	opened := openedAt(p)
	if w := WindowOf(p, lot, opened); !w.Deadline.IsZero() && !now.Before(w.Deadline) {
		return trading.RuleBroken("D7", "lot_id", "投标截止后不能撤回；截止后撤回投标的，保证金可不予退还（D7，实施条例第三十五条）")
	}
	// The registration's own record names no bid: the sealed bid's
	// records (hidden until the deadline, K4/K5) say it was withdrawn.
	if _, err := endSealedBids(tx, a, lotID, now); err != nil {
		return err
	}
	reg.Status, reg.WithdrawnAt, reg.UpdatedAt = StatusWithdrawn, &now, now
	if err := tx.Save(&reg).Error; err != nil {
		return err
	}
	for _, hook := range s.OnWithdraw {
		if err := hook(ctx, tx, &reg, p, lot); err != nil {
			return err
		}
	}
	summary := fmt.Sprintf("撤回%s：项目 %s %s%d（D6）", reg.Kind.Name(), p.Code, p.Category.LotNoun(), lot.Seq)
	return trading.Audit(tx, now, a, "registration.withdraw", "registration", fmt.Sprint(reg.ID), summary)
}
